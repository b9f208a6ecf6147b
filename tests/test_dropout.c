/* test_dropout.c - nt_dropout's mask: the documented function of (seed,
 * stream position, element), the same at every ISA level (nt_isa_set) and at
 * 1 and 2 threads, a keep rate within binomial tolerance of 1 - p with no
 * correlation between neighbours (adjacent elements, SIMD lanes, successive
 * calls), kept values scaled by exactly 1/(1-p), and backward applying the
 * mask forward drew.
 *
 * Sizes: N_BIG takes the parallel path and many 4096-element chunks; the
 * small sizes 1..40 cover every vector tail (8 and 16 lanes). */
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/ctx.h"
#include "core/isa.h"
#include "core/ops.h"
#include "core/rng.h"
#include "core/tape.h"
#include "core/tensor.h"
#include "support/check.h"

enum { N_BIG = 300007 };

/* The mask as core/elementwise.c documents it, written out again here (for
 * tensors under 2^32 elements: one block, key = the draw at the base). */
static int ref_keep(const nt_rng *r, uint64_t base, uint32_t i, float p) {
    uint64_t key = nt_rng_u64_at(r, base);
    uint32_t h = i + (uint32_t)key;
    h ^= h >> 16;
    h *= 0x7feb352dU;
    h ^= h >> 15;
    h ^= (uint32_t)(key >> 32);
    h *= 0x846ca68bU;
    h ^= h >> 16;
    return h >= (uint32_t)((double)p * 4294967296.0);
}

/* One forward and backward of dropout(x) with p on n elements, seed 7 with
 * its counter at `counter`; x_i = 1 + i % 13, the upstream gradient
 * dy_i = 0.5 + i % 7 (every element different from its neighbours). Fills
 * y and dx (n floats each). */
static void run(float *y, float *dx, int64_t n, float p, uint64_t counter) {
    nt_ctx *ctx;
    nt_ctx_new(&ctx, 0);
    nt_rng rng;
    nt_rng_seed(&rng, 7);
    rng.counter = counter;
    nt_ctx_set_rng(ctx, &rng);
    nt_tensor *x, *out;
    nt_tensor_new(ctx, &x, NT_F32, 1, (int[]){(int)n});
    x->requires_grad = 1;
    for (int64_t i = 0; i < n; i++) nt_f32(x)[i] = 1.0f + (float)(i % 13);
    CHECK(nt_dropout(ctx, &out, x, p) == NT_OK && out != x, "dropout n=%lld: %s", (long long)n, nt_errmsg());
    CHECK(rng.counter == counter + (uint64_t)n, "reserves n positions");
    memcpy(y, nt_f32(out), (size_t)n * sizeof(float));
    float *dy = malloc((size_t)n * sizeof(float));
    for (int64_t i = 0; i < n; i++) dy[i] = 0.5f + (float)(i % 7);
    CHECK(nt_backward_seeded(ctx, out, dy) == NT_OK, "backward: %s", nt_errmsg());
    memcpy(dx, x->grad, (size_t)n * sizeof(float));
    free(dy);
    nt_ctx_free(ctx);
}

/* The mask of y is the documented one, kept values are x / (1 - p) exactly,
 * dx is dy / (1 - p) exactly where y kept and 0 where it dropped. */
static void check_values(const float *y, const float *dx, int64_t n, float p, uint64_t counter,
                         const char *what) {
    nt_rng r;
    nt_rng_seed(&r, 7);
    float scale = 1.0f / (1.0f - p);
    int64_t bad_mask = 0, bad_scale = 0, bad_grad = 0;
    for (int64_t i = 0; i < n; i++) {
        int keep = ref_keep(&r, counter, (uint32_t)i, p);
        bad_mask += keep != (y[i] != 0.0f);
        bad_scale += y[i] != 0.0f && y[i] != (1.0f + (float)(i % 13)) * scale;
        float g = keep ? (0.5f + (float)(i % 7)) * scale : 0.0f;
        bad_grad += memcmp(&dx[i], &g, sizeof g) != 0;
    }
    CHECK(bad_mask == 0, "%s: %lld of %lld elements differ from the documented mask", what,
          (long long)bad_mask, (long long)n);
    CHECK(bad_scale == 0, "%s: %lld kept values are not x / (1 - p)", what, (long long)bad_scale);
    CHECK(bad_grad == 0, "%s: %lld gradients are not the forward mask times dy / (1 - p)", what,
          (long long)bad_grad);
}

static int64_t count_diff(const float *a, const float *b, int64_t n) {
    int64_t d = 0;
    for (int64_t i = 0; i < n; i++) d += memcmp(&a[i], &b[i], sizeof(float)) != 0;
    return d;
}

/* Every level the CPU has, 1 and 2 threads, big and small sizes, two stream
 * positions (one past 2^32, so the key's high bits matter): bitwise the same
 * y and dx as the portable level at 1 thread, and the documented mask. */
static void test_levels_threads(void) {
    nt_isa_level top = nt_isa();
    float *y0 = malloc(N_BIG * sizeof(float)), *d0 = malloc(N_BIG * sizeof(float));
    float *y1 = malloc(N_BIG * sizeof(float)), *d1 = malloc(N_BIG * sizeof(float));
    const uint64_t counters[] = {0, ((uint64_t)1 << 32) + 12345};
    int64_t sizes[42];
    for (int s = 0; s < 40; s++) sizes[s] = s + 1;
    sizes[40] = 4096 * 3 + 5;
    sizes[41] = N_BIG;
    for (int c = 0; c < 2; c++)
        for (int s = 0; s < 42; s++) {
            int64_t n = sizes[s];
            nt_isa_set(NT_ISA_PORTABLE);
            omp_set_num_threads(1);
            run(y0, d0, n, 0.3f, counters[c]);
            char what[96];
            snprintf(what, sizeof what, "portable n=%lld counter=%llu", (long long)n,
                     (unsigned long long)counters[c]);
            check_values(y0, d0, n, 0.3f, counters[c], what);
            for (int l = (int)top; l >= NT_ISA_PORTABLE; l--)
                for (int th = 1; th <= 2; th++) {
                    if (l == NT_ISA_PORTABLE && th == 1) continue;
                    nt_isa_set((nt_isa_level)l);
                    omp_set_num_threads(th);
                    run(y1, d1, n, 0.3f, counters[c]);
                    int64_t dy = count_diff(y0, y1, n), dd = count_diff(d0, d1, n);
                    CHECK(dy == 0 && dd == 0,
                          "%s at %d thread(s) vs portable at 1, n=%lld counter=%llu: %lld outputs, %lld "
                          "gradients differ",
                          nt_isa_name((nt_isa_level)l), th, (long long)n, (unsigned long long)counters[c],
                          (long long)dy, (long long)dd);
                }
        }
    nt_isa_set(top);
    omp_set_num_threads(2);
    printf("levels %s..portable, 1 and 2 threads: same mask and gradients\n", nt_isa_name(top));
    free(y0), free(d0), free(y1), free(d1);
}

/* Keep rate per p within 5 binomial sd; pairs (element i, element i + lag)
 * for lags 1, 8, 16 and (call 1, call 2) dropped together at the rate p^2 of
 * independent draws, also within 5 sd. */
static void test_statistics(void) {
    enum { N = 1 << 20 };
    float *y = malloc(N * sizeof(float)), *d = malloc(N * sizeof(float));
    float *y2 = malloc(N * sizeof(float));
    const float ps[] = {0.01f, 0.1f, 0.5f, 0.9f};
    for (int k = 0; k < 4; k++) {
        float p = ps[k];
        run(y, d, N, p, 99);
        run(y2, d, N, p, 99 + N); /* the next call's mask */
        int64_t kept = 0;
        for (int64_t i = 0; i < N; i++) kept += y[i] != 0.0f;
        double frac = (double)kept / N, sd = sqrt(p * (1.0 - p) / N);
        CHECK(fabs(frac - (1.0 - p)) < 5 * sd + 1e-9, "p=%g: kept %.5f, expected %.5f (sd %.5f)", p, frac,
              1.0 - p, sd);
        const int lags[] = {1, 8, 16, 0};
        for (int j = 0; j < 4; j++) {
            int lag = lags[j];
            int64_t both = 0, m = N - lag;
            for (int64_t i = 0; i < m; i++)
                both += y[i] == 0.0f && (lag ? y[i + lag] : y2[i]) == 0.0f;
            double q = (double)p * p, f = (double)both / m, s = sqrt(q * (1 - q) / m);
            CHECK(fabs(f - q) < 5 * s + 1e-9, "p=%g, %s %d: both dropped %.5f, independent %.5f (sd %.5f)",
                  p, lag ? "elements at lag" : "successive calls, lag", lag, f, q, s);
        }
    }
    free(y), free(y2), free(d);
}

int main(void) {
    test_levels_threads();
    test_statistics();
    return nt_check_report("test_dropout");
}
