/* test_precision.c - the context's bf16 precision switch: which products take bf16 operands, the weight copy, training.
 *
 * With nt_ctx_set_precision(ctx, NT_PREC_BF16):
 *   - nt_linear's forward and both backward products give bitwise what
 *     nt_gemm_bf16 gives on the same operands (weights from the bf16 copy);
 *   - the weight copy follows the values after nt_optim_step / nt_params_touch;
 *     AdamW writes it in its own pass when it was current (bitwise the
 *     conversion of the new values, the values unchanged by it);
 *   - nt_matmul (batched) and nt_attention stay within bf16 error of float32
 *     and do differ from it (the switch is not ignored);
 *   - a short AdamW run of a small network (tests/support/tinynet) ends at
 *     the float32 run's loss within 2% and the backward of a bf16 forward
 *     stays bf16 even if the context is switched back before nt_backward.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/bf16.h"
#include "core/gemm_bf16.h"
#include "core/kernels.h"
#include "core/ops.h"
#include "core/isa.h"
#include "support/check.h"
#include "support/tinynet.h"
#include "support/values.h"
#include "train/optim.h"

static double max_rel(const float *a, const float *b, int64_t n) {
    double num = 0, den = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (d > num) num = d;
        if (fabs(b[i]) > den) den = fabs(b[i]);
    }
    return den > 0 ? num / den : num;
}

enum { R = 40, IN = 70, OUT = 50 };

static void test_linear(void) {
    nt_params *P;
    nt_params_new(&P);
    int iw = nt_params_add(P, "w", 2, (int[]){OUT, IN}), ib = nt_params_add(P, "b", 1, (int[]){OUT});
    CHECK(nt_params_alloc(P) == NT_OK, "alloc");
    nt_tensor *w = nt_params_get(P, iw), *b = nt_params_get(P, ib);
    nt_test_fill(nt_f32(w), w->n, 1);
    nt_test_fill(nt_f32(b), b->n, 2);
    nt_ctx *ctx;
    nt_ctx_new(&ctx, 0);
    CHECK(nt_ctx_precision(ctx) == NT_PREC_F32, "default precision fp32");
    CHECK(nt_ctx_set_precision(ctx, NT_PREC_BF16) == NT_PREC_F32, "previous precision returned");

    nt_tensor *x, *y, *loss;
    nt_tensor_new(ctx, &x, NT_F32, 2, (int[]){R, IN});
    nt_test_fill(nt_f32(x), x->n, 3);
    x->requires_grad = 1;
    CHECK(nt_linear(ctx, &y, x, w, b) == NT_OK, "linear: %s", nt_errmsg());
    float want[R * OUT];
    for (int r = 0; r < R; r++) memcpy(want + r * OUT, nt_f32(b), OUT * sizeof(float));
    nt_gemm_bf16(0, 1, R, OUT, IN, 1.0f, nt_f32(x), NT_OPERAND_F32, IN, nt_f32(w), NT_OPERAND_F32, IN, 1.0f, want, OUT);
    CHECK(memcmp(want, nt_f32(y), sizeof want) == 0, "bf16 linear forward = nt_gemm_bf16 bitwise");

    /* backward: dy = y (loss = sum y^2 / 2), in bf16 even if the context is switched back first */
    float dy[R * OUT];
    memcpy(dy, nt_f32(y), sizeof dy);
    nt_ctx_set_precision(ctx, NT_PREC_F32);
    nt_params_zero_grad(P);
    CHECK(nt_backward_seeded(ctx, y, dy) == NT_OK, "backward: %s", nt_errmsg());
    float dx[R * IN], dw[OUT * IN];
    nt_gemm_bf16(0, 0, R, IN, OUT, 1.0f, dy, NT_OPERAND_F32, OUT, nt_f32(w), NT_OPERAND_F32, IN, 0.0f, dx, IN);
    nt_gemm_bf16(1, 0, OUT, IN, R, 1.0f, dy, NT_OPERAND_F32, OUT, nt_f32(x), NT_OPERAND_F32, IN, 0.0f, dw, IN);
    CHECK(memcmp(dx, x->grad, sizeof dx) == 0, "dx = dy W on bf16 operands, bitwise");
    CHECK(memcmp(dw, w->grad, sizeof dw) == 0, "dW = dy^T x on bf16 operands, bitwise");
    nt_ctx_reset(ctx);

    /* a shared 2-D parameter in nt_matmul (the tied output projection): forward and dx */
    nt_ctx_set_precision(ctx, NT_PREC_BF16);
    nt_tensor *x3, *y3;
    nt_tensor_new(ctx, &x3, NT_F32, 3, (int[]){2, R / 2, IN});
    nt_test_fill(nt_f32(x3), x3->n, 4);
    x3->requires_grad = 1;
    CHECK(nt_matmul(ctx, &y3, x3, w, 0, 1) == NT_OK, "matmul: %s", nt_errmsg()); // (2, R/2, OUT)
    nt_gemm_bf16(0, 1, R, OUT, IN, 1.0f, nt_f32(x3), NT_OPERAND_F32, IN, nt_f32(w), NT_OPERAND_F32, IN, 0.0f, want, OUT);
    CHECK(memcmp(want, nt_f32(y3), sizeof want) == 0, "bf16 matmul with a shared parameter = nt_gemm_bf16");
    memcpy(dy, nt_f32(y3), sizeof dy);
    nt_params_zero_grad(P);
    CHECK(nt_backward_seeded(ctx, y3, dy) == NT_OK, "backward: %s", nt_errmsg());
    nt_gemm_bf16(0, 0, R, IN, OUT, 1.0f, dy, NT_OPERAND_F32, OUT, nt_f32(w), NT_OPERAND_F32, IN, 0.0f, dx, IN);
    nt_gemm_bf16(1, 0, OUT, IN, R, 1.0f, dy, NT_OPERAND_F32, OUT, nt_f32(x3), NT_OPERAND_F32, IN, 0.0f, dw, IN);
    CHECK(memcmp(dx, x3->grad, sizeof dx) == 0, "matmul dx on bf16 operands, bitwise");
    CHECK(memcmp(dw, w->grad, sizeof dw) == 0, "matmul dW on bf16 operands, bitwise");
    nt_ctx_reset(ctx);

    /* the weight copy follows an optimizer update */
    nt_optim *opt;
    nt_optim_config oc = nt_optim_config_default(NT_OPTIM_SGD);
    CHECK(nt_optim_new(&opt, P, &oc) == NT_OK, "optim");
    nt_optim_step(opt, 0.5);
    nt_ctx_set_precision(ctx, NT_PREC_BF16);
    nt_tensor_new(ctx, &x, NT_F32, 2, (int[]){R, IN});
    nt_test_fill(nt_f32(x), x->n, 3);
    CHECK(nt_linear(ctx, &y, x, w, NULL) == NT_OK, "linear");
    nt_gemm_bf16(0, 1, R, OUT, IN, 1.0f, nt_f32(x), NT_OPERAND_F32, IN, nt_f32(w), NT_OPERAND_F32, IN, 0.0f, want, OUT);
    CHECK(memcmp(want, nt_f32(y), sizeof want) == 0, "after nt_optim_step the bf16 weights are the new ones");
    /* and a hand edit announced with nt_params_touch */
    for (int64_t i = 0; i < w->n; i++) nt_f32(w)[i] *= -2.0f;
    nt_params_touch(P);
    CHECK(nt_linear(ctx, &y, x, w, NULL) == NT_OK, "linear");
    nt_gemm_bf16(0, 1, R, OUT, IN, 1.0f, nt_f32(x), NT_OPERAND_F32, IN, nt_f32(w), NT_OPERAND_F32, IN, 0.0f, want, OUT);
    CHECK(memcmp(want, nt_f32(y), sizeof want) == 0, "after nt_params_touch the bf16 weights are the new ones");
    /* a loss in fp32 differs: the switch is honoured */
    nt_ctx_set_precision(ctx, NT_PREC_F32);
    CHECK(nt_linear(ctx, &y, x, w, NULL) == NT_OK, "linear");
    double rel = max_rel(nt_f32(y), want, R * OUT);
    CHECK(rel > 0 && rel < 2e-2, "fp32 vs bf16 linear: max relative difference %.3g", rel);
    (void)loss;
    nt_optim_free(opt);
    nt_ctx_free(ctx);
    nt_params_free(P);
}

// out of nt_matmul / nt_attention in a precision
static void products(nt_precision prec, float *mm, float *att) {
    nt_ctx *ctx;
    nt_ctx_new(&ctx, 0);
    nt_ctx_set_precision(ctx, prec);
    nt_tensor *a, *b, *c, *q, *k, *v, *o;
    nt_tensor_new(ctx, &a, NT_F32, 3, (int[]){3, 20, 30});
    nt_tensor_new(ctx, &b, NT_F32, 3, (int[]){3, 25, 30});
    nt_test_fill(nt_f32(a), a->n, 5), nt_test_fill(nt_f32(b), b->n, 6);
    CHECK(nt_matmul(ctx, &c, a, b, 0, 1) == NT_OK, "matmul"); // (3, 20, 25)
    memcpy(mm, nt_f32(c), c->n * sizeof(float));
    nt_tensor_new(ctx, &q, NT_F32, 3, (int[]){2, 24, 32});
    nt_tensor_new(ctx, &k, NT_F32, 3, (int[]){2, 24, 32});
    nt_tensor_new(ctx, &v, NT_F32, 3, (int[]){2, 24, 32});
    nt_test_fill(nt_f32(q), q->n, 7), nt_test_fill(nt_f32(k), k->n, 8), nt_test_fill(nt_f32(v), v->n, 9);
    CHECK(nt_attention(ctx, &o, q, k, v, NULL, 4, 1, 0.35f, NULL) == NT_OK, "attention");
    memcpy(att, nt_f32(o), o->n * sizeof(float));
    nt_ctx_free(ctx);
}

static void test_products(void) {
    static float mm32[3 * 20 * 25], mm16[3 * 20 * 25], at32[2 * 24 * 32], at16[2 * 24 * 32];
    products(NT_PREC_F32, mm32, at32);
    products(NT_PREC_BF16, mm16, at16);
    double r1 = max_rel(mm16, mm32, 3 * 20 * 25), r2 = max_rel(at16, at32, 2 * 24 * 32);
    CHECK(r1 > 0 && r1 < 2e-2, "batched matmul bf16 vs fp32: %.3g", r1);
    CHECK(r2 > 0 && r2 < 3e-2, "attention bf16 vs fp32: %.3g", r2);
}

// final loss after `steps` AdamW updates of a fresh tinynet, in a precision
static float train(nt_precision prec, int steps, float *first) {
    tinynet net;
    CHECK(tinynet_init(&net, 4, 16, 64, 4, 50, 7) == NT_OK, "init: %s", nt_errmsg());
    nt_ctx *ctx;
    nt_ctx_new(&ctx, 0);
    nt_ctx_set_precision(ctx, prec);
    nt_optim *opt;
    nt_optim_config oc = nt_optim_config_default(NT_OPTIM_ADAMW);
    nt_optim_new(&opt, net.params, &oc);
    float l = NAN;
    for (int s = 0; s < steps; s++) {
        nt_tensor *loss;
        nt_params_zero_grad(net.params);
        if (tinynet_forward(&net, ctx, &loss) != NT_OK || nt_backward(ctx, loss) != NT_OK) {
            CHECK(0, "step %d: %s", s, nt_errmsg());
            break;
        }
        l = nt_f32(loss)[0];
        if (s == 0) *first = l;
        nt_optim_step(opt, 1e-2);
        nt_ctx_reset(ctx);
    }
    nt_optim_free(opt);
    nt_ctx_free(ctx);
    tinynet_free(&net);
    return l;
}

static void test_training(void) {
    float f32_first = 0, bf_first = 0;
    float l32 = train(NT_PREC_F32, 40, &f32_first), l16 = train(NT_PREC_BF16, 40, &bf_first);
    printf("test_precision: tinynet 40 AdamW steps: loss %.4f -> %.4f (fp32), %.4f -> %.4f (bf16, kernel %s)\n",
           f32_first, l32, bf_first, l16, nt_gemm_bf16_kernel_name(nt_gemm_bf16_kernel_active()));
    CHECK(l32 < 0.8f * f32_first, "fp32 run learns: %g -> %g", f32_first, l32);
    CHECK(fabsf(l16 - l32) <= 0.02f * l32, "bf16 final loss %.5f within 2%% of fp32 %.5f", l16, l32);
    CHECK(l16 != l32, "bf16 run differs from fp32 (the switch is honoured)");
}

/* A few rows (a decoding step) in bf16: float32 activations on the bf16
 * weights, bitwise the float32 few-row path on weights rounded beforehand. */
static void test_few_rows(void) {
    nt_params *P;
    nt_params_new(&P);
    int iw = nt_params_add(P, "w", 2, (int[]){OUT, IN}), ib = nt_params_add(P, "b", 1, (int[]){OUT});
    nt_params_alloc(P);
    nt_tensor *w = nt_params_get(P, iw), *b = nt_params_get(P, ib);
    nt_test_fill(nt_f32(w), w->n, 11);
    nt_test_fill(nt_f32(b), b->n, 12);
    nt_ctx *ctx;
    nt_ctx_new(&ctx, 0);
    nt_tensor *wr; /* w rounded to bf16, as float32 */
    nt_tensor_new(ctx, &wr, NT_F32, 2, (int[]){OUT, IN});
    for (int64_t i = 0; i < w->n; i++) nt_f32(wr)[i] = nt_bf16_round(nt_f32(w)[i]);
    for (int rows = 1; rows <= 16; rows += 5) {
        nt_tensor *x, *y16, *y32;
        nt_tensor_new(ctx, &x, NT_F32, 2, (int[]){rows, IN});
        nt_test_fill(nt_f32(x), x->n, 13 + rows);
        nt_ctx_set_precision(ctx, NT_PREC_BF16);
        CHECK(nt_linear(ctx, &y16, x, w, b) == NT_OK, "linear");
        nt_ctx_set_precision(ctx, NT_PREC_F32);
        CHECK(nt_linear(ctx, &y32, x, wr, b) == NT_OK, "linear");
        /* bitwise where both paths are the AVX-512 FMA chains (the float32
         * few-row path at the avx512 level); within rounding otherwise (the
         * portable float32 path may not fuse) */
        int both_avx512 = nt_bf16_isa_selected() >= NT_BF16_AVX512 && nt_isa() == NT_ISA_AVX512;
        if (both_avx512)
            CHECK(memcmp(nt_f32(y16), nt_f32(y32), (size_t)rows * OUT * sizeof(float)) == 0,
                  "%d rows: bf16 weights = float32 path on rounded weights, bitwise", rows);
        double rel = max_rel(nt_f32(y16), nt_f32(y32), (int64_t)rows * OUT);
        CHECK(rel < 1e-5, "%d rows: bf16 weights vs float32 path on rounded weights: %.3g", rows, rel);
        float yk[16 * OUT];
        nt_linear_rows_bf16(yk, nt_f32(x), nt_params_bf16_of(w), nt_f32(b), rows, IN, OUT, 0, OUT);
        CHECK(memcmp(yk, nt_f32(y16), (size_t)rows * OUT * sizeof(float)) == 0, "%d rows: nt_linear_rows_bf16", rows);
    }
    nt_ctx_free(ctx);
    nt_params_free(P);
}

/* AdamW keeps a current bf16 copy current in its own pass (train/optim.c):
 * after the step the copy is the bf16 of every value (frozen ones
 * included), the values are bitwise those of a block without a copy, and
 * a stale copy is left stale (converted at its next use). Sizes span
 * several of the update's chunks and a frozen parameter between two
 * trained ones. */
static void adam_block(nt_params **out, int with_copy) {
    nt_params *P;
    CHECK(nt_params_new(&P) == NT_OK, "params");
    nt_params_add(P, "a", 2, (int[]){70, 73});                   /* 5110: 2 chunks and a tail */
    nt_params_declare(P, "f", 1, (int[]){300}, NT_PARAM_FROZEN); /* frozen, in the middle */
    nt_params_add(P, "b", 1, (int[]){3001});
    CHECK(nt_params_alloc(P) == NT_OK && nt_params_alloc_moments(P) == NT_OK, "alloc");
    nt_test_fill(P->values, P->total, 11);
    nt_test_fill(P->grads, P->total, 12);
    if (with_copy) CHECK(nt_params_bf16_of(nt_params_get(P, 0)) != NULL, "bf16 copy");
    *out = P;
}

static int copy_is_current(const nt_params *P) {
    nt_bf16 *want = malloc((size_t)P->total * sizeof *want);
    nt_bf16_from_f32_n(want, P->values, P->total);
    int same = memcmp(want, P->values_bf16, (size_t)P->total * sizeof *want) == 0;
    free(want);
    return same;
}

static void test_adam_copy(void) {
    nt_params *P, *Q; /* P with a bf16 copy, Q without */
    adam_block(&P, 1);
    adam_block(&Q, 0);
    nt_optim *op, *oq;
    nt_optim_config oc = nt_optim_config_default(NT_OPTIM_ADAMW);
    CHECK(nt_optim_new(&op, P, &oc) == NT_OK && nt_optim_new(&oq, Q, &oc) == NT_OK, "optim");
    for (int s = 0; s < 3; s++) {
        CHECK(nt_optim_step(op, 0.05) == NT_OK && nt_optim_step(oq, 0.05) == NT_OK, "step");
        CHECK(P->bf16_version == P->version, "step %d: AdamW kept the bf16 copy current", s);
        CHECK(copy_is_current(P), "step %d: the bf16 copy is bitwise the bf16 of the new values", s);
        CHECK(memcmp(P->values, Q->values, (size_t)P->total * sizeof(float)) == 0,
              "step %d: values bitwise as without a copy", s);
    }
    CHECK(Q->values_bf16 == NULL, "no copy is made when none was asked for");
    /* a stale copy (a hand edit announced with nt_params_touch) stays stale... */
    P->values[1] += 1.0f;
    nt_params_touch(P);
    CHECK(nt_optim_step(op, 0.05) == NT_OK, "step");
    CHECK(P->bf16_version != P->version, "a stale copy is left to nt_params_bf16_of");
    /* ... and is converted at its next use */
    CHECK(nt_params_bf16_of(nt_params_get(P, 2)) != NULL && copy_is_current(P), "converted on use");
    nt_optim_free(op);
    nt_optim_free(oq);
    nt_params_free(P);
    nt_params_free(Q);
}

int main(void) {
    nt_precision p = NT_PREC_F32;
    CHECK(nt_precision_parse("bf16", &p) == NT_OK && p == NT_PREC_BF16, "parse bf16");
    CHECK(nt_precision_parse("fp32", &p) == NT_OK && p == NT_PREC_F32, "parse fp32");
    CHECK(nt_precision_parse("fp16", &p) == NT_ERR_ARG && p == NT_PREC_F32, "fp16 refused");
    CHECK(strstr(nt_errmsg(), "fp16") != NULL, "message names the value: %s", nt_errmsg());
    test_linear();
    test_few_rows();
    test_products();
    test_training();
    test_adam_copy();
    return nt_check_report("test_precision");
}
