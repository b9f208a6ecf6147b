/* test_linear_rows.c - nt_linear's paths agree: the few-row dot-product path
 * (decoding) and the sgemm path match a double reference, a row's result
 * does not depend on how many rows share the call (bitwise, up to the
 * few-row limit), and nt_gelu matches the tanh formula; at each ISA level
 * the CPU has (nt_isa_set), and the few-row kernel (nt_linear_rows) gives
 * bitwise the same outputs at AVX-512 and AVX2. */
#include <math.h>
#include <string.h>

#include <stdlib.h>

#include "core/isa.h"
#include "core/kernels.h"
#include "core/ops.h"
#include "core/parallel.h"
#include "support/check.h"
#include "support/values.h"

/* y (R, Out) of x (R, In) W (Out, In)^T + b against a double reference, and
 * every row computed alone equals the same row of the batched call. */
static void check_shape_case(nt_ctx *ctx, int R, int In, int Out, int bias) {
    nt_tensor *x, *w, *b = NULL, *y;
    CHECK(nt_tensor_new(ctx, &x, NT_F32, 2, (int[]){R, In}) == NT_OK, "x");
    CHECK(nt_tensor_new(ctx, &w, NT_F32, 2, (int[]){Out, In}) == NT_OK, "w");
    if (bias) CHECK(nt_tensor_new(ctx, &b, NT_F32, 1, (int[]){Out}) == NT_OK, "b");
    nt_test_fill(nt_f32(x), x->n, 1);
    nt_test_fill(nt_f32(w), w->n, 2);
    if (b) nt_test_fill(nt_f32(b), b->n, 3);
    nt_status st = nt_linear(ctx, &y, x, w, b);
    CHECK(st == NT_OK, "R %d In %d Out %d: %s", R, In, Out, nt_errmsg());
    if (st) return;
    int bad = 0;
    for (int r = 0; r < R; r++)
        for (int o = 0; o < Out; o++) {
            double ref = b ? nt_f32(b)[o] : 0.0, mag = fabs(ref);
            for (int j = 0; j < In; j++) {
                double p = (double)nt_f32(x)[r * In + j] * nt_f32(w)[o * In + j];
                ref += p;
                mag += fabs(p);
            }
            double got = nt_f32(y)[r * Out + o];
            if (fabs(got - ref) > 1e-6 * mag + 1e-7 && bad++ < 3)
                CHECK(0, "R %d In %d Out %d bias %d: y[%d, %d] = %.9g, expected %.9g", R, In, Out,
                      bias, r, o, got, ref);
        }
    CHECK(bad == 0, "R %d In %d Out %d bias %d: %d elements off", R, In, Out, bias, bad);
    /* batch independence of the rows */
    int same = 1;
    for (int r = 0; r < R && same; r++) {
        nt_tensor *xr, *yr;
        if (nt_tensor_from(ctx, &xr, NT_F32, 2, (int[]){1, In}, nt_f32(x) + (size_t)r * In) != NT_OK ||
            nt_linear(ctx, &yr, xr, w, b) != NT_OK) {
            CHECK(0, "row %d alone: %s", r, nt_errmsg());
            return;
        }
        same = memcmp(nt_f32(yr), nt_f32(y) + (size_t)r * Out, (size_t)Out * sizeof(float)) == 0;
    }
    if (R <= 16) CHECK(same, "R %d In %d Out %d: a row differs when computed alone", R, In, Out);
}

/* nt_linear_rows at AVX-512 and AVX2: the same bits, rows 1..5 and 16, In
 * across the 16-lane tails, outputs across the 8-output blocks */
static void check_cross_level(void) {
    static const int ins[] = {1, 7, 16, 23, 64, 129};
    static const int outs[] = {1, 8, 13, 40};
    static const int rows[] = {1, 2, 3, 5, 16};
    for (size_t a = 0; a < sizeof ins / sizeof *ins; a++)
        for (size_t c = 0; c < sizeof outs / sizeof *outs; c++)
            for (size_t r = 0; r < sizeof rows / sizeof *rows; r++) {
                int In = ins[a], Out = outs[c], R = rows[r];
                float *x = malloc(sizeof(float) * (size_t)R * In), *w = malloc(sizeof(float) * (size_t)Out * In);
                float *b = malloc(sizeof(float) * (size_t)Out), *y[2];
                y[0] = malloc(sizeof(float) * (size_t)R * Out);
                y[1] = malloc(sizeof(float) * (size_t)R * Out);
                nt_test_fill(x, R * In, 7);
                nt_test_fill(w, Out * In, 8);
                nt_test_fill(b, Out, 9);
                for (int k = 0; k < 2; k++) {
                    nt_isa_set(k ? NT_ISA_AVX2 : NT_ISA_AVX512);
                    nt_linear_rows(y[k], x, w, (a + r) % 2 ? b : NULL, R, In, Out, 0, Out);
                }
                CHECK(memcmp(y[0], y[1], sizeof(float) * (size_t)R * Out) == 0,
                      "nt_linear_rows R %d In %d Out %d: AVX-512 and AVX2 differ", R, In, Out);
                free(x), free(w), free(b), free(y[0]), free(y[1]);
            }
}

static void run_level(void) {
    nt_ctx *ctx;
    if (nt_ctx_new(&ctx, 0) != NT_OK) {
        CHECK(0, "nt_ctx_new");
        return;
    }
    nt_ctx_set_grad(ctx, 0);
    static const int ins[] = {1, 5, 16, 37, 128, 300};
    static const int outs[] = {1, 7, 8, 13, 64, 1030};
    static const int rows[] = {1, 2, 3, 16, 17, 40};
    for (size_t a = 0; a < sizeof ins / sizeof *ins; a++)
        for (size_t c = 0; c < sizeof outs / sizeof *outs; c++)
            for (size_t r = 0; r < sizeof rows / sizeof *rows; r++) {
                check_shape_case(ctx, rows[r], ins[a], outs[c], (int)((a + c + r) % 2));
                nt_ctx_reset(ctx);
            }

    /* nt_gelu against 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) in double; far
     * left the float rounding of u dominates (exp(-2u) amplifies it), hence the absolute floor */
    enum { N = 4001 };
    nt_tensor *x, *y;
    CHECK(nt_tensor_new(ctx, &x, NT_F32, 1, (int[]){N}) == NT_OK, "gelu x");
    for (int i = 0; i < N; i++) nt_f32(x)[i] = (float)(i - N / 2) * 0.01f; /* -20 .. 20 */
    CHECK(nt_gelu(ctx, &y, x) == NT_OK, "gelu: %s", nt_errmsg());
    int bad = 0;
    for (int i = 0; i < N; i++) {
        double v = nt_f32(x)[i];
        /* 1 + tanh(u) as 2 / (1 + exp(-2u)): no cancellation in the reference either */
        double u = 0.7978845608028654 * (v + 0.044715 * v * v * v);
        double ref = 0.5 * v * (2.0 / (1.0 + exp(-2.0 * u)));
        if (fabs(nt_f32(y)[i] - ref) > 1e-6 * fabs(ref) + 1e-10 && bad++ < 3)
            CHECK(0, "gelu(%.3f) = %.9g, expected %.9g", v, (double)nt_f32(y)[i], ref);
    }
    CHECK(bad == 0, "gelu: %d values off by more than 1e-6 relative + 1e-10", bad);
    nt_ctx_free(ctx);
}

int main(void) {
    nt_threads_set(2);
    nt_isa_level top = nt_isa();
    for (int l = (int)top; l >= NT_ISA_PORTABLE; l--) {
        nt_isa_set((nt_isa_level)l);
        int before = nt_check_failures;
        run_level();
        printf("level %s: %s\n", nt_isa_name((nt_isa_level)l), nt_check_failures == before ? "ok" : "FAILED");
    }
    if (top == NT_ISA_AVX512) check_cross_level();
    nt_isa_set(top);
    return nt_check_report("test_linear_rows");
}
