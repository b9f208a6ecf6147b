/* test_argmax.c - nt_sampling_argmax (nn/sampling.h) at each ISA level the CPU
 * has (nt_isa_set): the first index of the largest value, NaN never chosen,
 * -1 when only -inf and NaN are there, -0 and +0 equal (the first wins), for
 * every length 1..100 (all tail sizes of 8 and 16 lanes), the largest value
 * in every position, ties, and random logits; every level gives the answer
 * of the plain loop below. */
#include <math.h>
#include <string.h>

#include "core/isa.h"
#include "core/rng.h"
#include "nn/sampling.h"
#include "support/check.h"

// the definition: first i with x[i] > every earlier value, from -inf
static int ref_argmax(const float *x, int n) {
    int best = -1;
    double bv = -INFINITY;
    for (int i = 0; i < n; i++)
        if ((double)x[i] > bv) bv = x[i], best = i;
    return best;
}

static void run_level(const char *lv) {
    float x[128];
    nt_rng r;
    nt_rng_seed(&r, 9);
    for (int n = 1; n <= 100; n++) {
        for (int rep = 0; rep < 6; rep++) {
            for (int i = 0; i < n; i++) x[i] = nt_rng_normal(&r) * 4.0f;
            if (rep == 1) /* coarse values: many ties */
                for (int i = 0; i < n; i++) x[i] = floorf(x[i] / 4.0f);
            if (rep == 2) /* NaNs sprinkled */
                for (int i = 0; i < n; i += 3) x[i] = NAN;
            if (rep == 3) /* -inf and zeros of both signs */
                for (int i = 0; i < n; i++) x[i] = i % 3 == 0 ? -INFINITY : i % 3 == 1 ? -0.0f : 0.0f;
            if (rep == 4) x[(n * 7 / 3) % n] = INFINITY;
            if (rep == 5) x[0] = NAN;
            int got = nt_sampling_argmax(x, n), want = ref_argmax(x, n);
            CHECK(got == want, "%s: n %d rep %d: %d, want %d", lv, n, rep, got, want);
        }
        for (int p = 0; p < n; p++) { /* the max at every position */
            for (int i = 0; i < n; i++) x[i] = (float)(i % 5) - 10.0f;
            x[p] = 3.0f;
            CHECK(nt_sampling_argmax(x, n) == p, "%s: n %d max at %d", lv, n, p);
        }
        for (int i = 0; i < n; i++) x[i] = -INFINITY;
        CHECK(nt_sampling_argmax(x, n) == -1, "%s: n %d all -inf", lv, n);
        x[n / 2] = NAN;
        CHECK(nt_sampling_argmax(x, n) == -1, "%s: n %d -inf and NaN", lv, n);
        x[n - 1] = -1e38f;
        CHECK(nt_sampling_argmax(x, n) == n - 1, "%s: n %d finite last", lv, n);
    }
}

int main(void) {
    nt_isa_level top = nt_isa();
    for (int l = (int)top; l >= NT_ISA_PORTABLE; l--) {
        CHECK(nt_isa_set((nt_isa_level)l) == (nt_isa_level)l, "nt_isa_set(%d)", l);
        int before = nt_check_failures;
        run_level(nt_isa_name((nt_isa_level)l));
        printf("level %s: %s\n", nt_isa_name((nt_isa_level)l), nt_check_failures == before ? "ok" : "FAILED");
    }
    nt_isa_set(top);
    return nt_check_report("test_argmax");
}
