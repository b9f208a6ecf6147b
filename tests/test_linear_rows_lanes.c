/* test_linear_rows_lanes.c - the few-row linear kernels (nt_linear_rows,
 * nt_linear_rows_bf16, core/kernels.h) compute exactly their documented
 * chains: y[r, o] = (16 lane sums, lane l taking j = l mod 16 in order with
 * one FMA each, added l + l+8, + l+4, + l+2, + l+1) + bias[o]. Checked
 * bitwise against that reference written out here with fmaf (exact), at
 * every ISA level the CPU has, for row counts across the per-row, two-row
 * and chunked paths (1 .. 40 rows, past the 32-row tile), In across the
 * 16-lane tails and the NT_ROWS_KC chunks, output ranges across the
 * 8-output blocks; so a row's result is the same whatever the row count
 * (the batch-independence of decoding), and bf16 weights give the float32
 * kernel's bits on the rounded weights. Also against a double reference.
 * (The portable level's float32 kernel rounds its multiply-adds separately
 * unless the build targets FMA: there within rounding only.) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bf16.h"
#include "core/isa.h"
#include "core/kernels.h"
#include "core/parallel.h"
#include "support/check.h"
#include "support/values.h"

// the documented chain of one output
static float ref_lanes(const float *x, const float *w, int In) {
    float a[16] = {0};
    for (int j = 0; j < In; j++) a[j % 16] = fmaf(x[j], w[j], a[j % 16]);
    for (int h = 8; h > 0; h /= 2)
        for (int l = 0; l < h; l++) a[l] += a[l + h];
    return a[0];
}

static int check_case(int R, int In, int Out, int o0, int o1, int use_bias, int exact_f32) {
    size_t nx = (size_t)R * In, nw = (size_t)Out * In, ny = (size_t)R * Out;
    float *x = malloc(nx * sizeof *x), *w = malloc(nw * sizeof *w), *wr = malloc(nw * sizeof *wr);
    float *b = malloc((size_t)Out * sizeof *b), *y = malloc(ny * sizeof *y), *yh = malloc(ny * sizeof *yh);
    float *one = malloc((size_t)Out * sizeof *one);
    nt_bf16 *wh = malloc(nw * sizeof *wh);
    nt_test_fill(x, (int64_t)nx, 11);
    nt_test_fill(w, (int64_t)nw, 12);
    nt_test_fill(b, Out, 13);
    for (size_t i = 0; i < nx; i += 7) x[i] *= 37.0f; /* spread the magnitudes */
    nt_bf16_from_f32_n(wh, w, (int64_t)nw);
    for (size_t i = 0; i < nw; i++) wr[i] = nt_bf16_to_f32(wh[i]);
    const float *bias = use_bias ? b : NULL;
    const float sentinel = -12345.0f;
    for (size_t i = 0; i < ny; i++) y[i] = yh[i] = sentinel;
    nt_linear_rows(y, x, w, bias, R, In, Out, o0, o1);
    nt_linear_rows_bf16(yh, x, wh, bias, R, In, Out, o0, o1);
    int bad = 0;
    for (int r = 0; r < R; r++)
        for (int o = 0; o < Out; o++) {
            float got = y[(size_t)r * Out + o], goth = yh[(size_t)r * Out + o];
            if (o < o0 || o >= o1) { /* outside the range: untouched */
                if ((got != sentinel || goth != sentinel) && bad++ < 3)
                    CHECK(0, "R %d In %d Out %d [%d, %d): y[%d, %d] written outside the range", R, In, Out, o0,
                          o1, r, o);
                continue;
            }
            const float *xr = x + (size_t)r * In;
            float ref = ref_lanes(xr, w + (size_t)o * In, In), refh = ref_lanes(xr, wr + (size_t)o * In, In);
            if (bias) ref += bias[o], refh += bias[o];
            double dref = bias ? bias[o] : 0, mag = fabs(dref);
            for (int j = 0; j < In; j++) {
                double p = (double)xr[j] * w[(size_t)o * In + j];
                dref += p, mag += fabs(p);
            }
            int ok = exact_f32 ? memcmp(&got, &ref, sizeof got) == 0 : fabs(got - dref) <= 1e-6 * mag + 1e-7;
            if (!ok && bad++ < 3)
                CHECK(0, "R %d In %d Out %d [%d, %d) bias %d: float32 y[%d, %d] = %.9g, lanes %.9g, double %.9g", R,
                      In, Out, o0, o1, use_bias, r, o, got, ref, dref);
            if (memcmp(&goth, &refh, sizeof goth) != 0 && bad++ < 3)
                CHECK(0, "R %d In %d Out %d [%d, %d) bias %d: bf16 y[%d, %d] = %.9g, lanes on the rounded weights %.9g",
                      R, In, Out, o0, o1, use_bias, r, o, goth, refh);
            if (fabs(goth - dref) > 1e-2 * mag + 1e-6 && bad++ < 3) /* bf16 rounding: 2^-9 relative per weight */
                CHECK(0, "R %d In %d Out %d: bf16 y[%d, %d] = %.9g, double reference %.9g", R, In, Out, r, o, goth,
                      dref);
        }
    /* the last row alone: the same bits as in the batch */
    if (R > 1) {
        const float *xl = x + (size_t)(R - 1) * In;
        nt_linear_rows(one, xl, w, bias, 1, In, Out, o0, o1);
        if (memcmp(one + o0, y + (size_t)(R - 1) * Out + o0, (size_t)(o1 - o0) * sizeof *one) != 0 && bad++ < 3)
            CHECK(0, "R %d In %d Out %d: float32 row %d differs alone", R, In, Out, R - 1);
        nt_linear_rows_bf16(one, xl, wh, bias, 1, In, Out, o0, o1);
        if (memcmp(one + o0, yh + (size_t)(R - 1) * Out + o0, (size_t)(o1 - o0) * sizeof *one) != 0 && bad++ < 3)
            CHECK(0, "R %d In %d Out %d: bf16 row %d differs alone", R, In, Out, R - 1);
    }
    CHECK(bad == 0, "R %d In %d Out %d [%d, %d): %d mismatches", R, In, Out, o0, o1, bad);
    free(x), free(w), free(wr), free(b), free(y), free(yh), free(one), free(wh);
    return bad;
}

static void run_level(int exact_f32) {
    static const int ins[] = {1, 7, 16, 33, 512, 513, 1100};
    static const int outs[] = {1, 8, 13, 24};
    static const int rows[] = {1, 2, 3, 4, 5, 6, 7, 16, 32, 33, 40};
    int k = 0;
    for (size_t a = 0; a < sizeof ins / sizeof *ins; a++)
        for (size_t c = 0; c < sizeof outs / sizeof *outs; c++)
            for (size_t r = 0; r < sizeof rows / sizeof *rows; r++, k++) {
                int Out = outs[c], o0 = 0, o1 = Out;
                if (k % 3 == 1 && Out > 8) o0 = 8; /* a later block */
                if (k % 3 == 2 && Out > 4) o0 = 3, o1 = Out - 1; /* ranges off the blocks */
                check_case(rows[r], ins[a], Out, o0, o1, k % 2, exact_f32);
            }
}

int main(void) {
    nt_threads_set(1);
    nt_isa_level top = nt_isa();
    for (int l = (int)top; l >= NT_ISA_PORTABLE; l--) {
        nt_isa_set((nt_isa_level)l);
        int before = nt_check_failures;
#ifdef __FMA__
        int fma_portable = 1;
#else
        int fma_portable = 0;
#endif
        run_level(l != NT_ISA_PORTABLE || fma_portable);
        printf("level %s: %s\n", nt_isa_name((nt_isa_level)l), nt_check_failures == before ? "ok" : "FAILED");
    }
    nt_isa_set(top);
    return nt_check_report("test_linear_rows_lanes");
}
