/* test_write_first.c - write-first gradients (nt_grad_first): gradient checks
 * of graphs where one intermediate tensor takes several contributions in the
 * same backward pass: the same tensor given twice to one op, a tensor read by
 * write-first ops and by ops that only accumulate (in both tape orders), a
 * write-first op that leaves its input's gradient untouched, and the fused
 * gelu/gelu' pass of nt_gelu_linear. Intermediates (not leaves) are what get
 * fresh, uninitialised gradient buffers, so every case routes its leaves
 * through an nt_scale first. */
#include <string.h>

#include "core/ops.h"
#include "support/check.h"
#include "support/gradcheck.h"

static nt_ctx *leaf;
static nt_rng rng;

static nt_tensor *in_f32(int ndim, const int *shape) { return gc_input(leaf, NT_F32, ndim, shape, 1, &rng); }

/* y = 1.5 x: an intermediate whose gradient buffer starts fresh */
static nt_status mid(nt_ctx *c, nt_tensor **y, nt_tensor *x) { return nt_scale(c, y, x, 1.5f); }

// y y^T, y (5, 7): one tensor as both operands of a 2-D product
static nt_status build_mm_self(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *arg) {
    nt_tensor *y;
    NT_TRY(mid(c, &y, in[0]));
    return nt_matmul(c, out, y, y, 0, 1);
}

// y^T y per batch item, y (3, 4, 5): batched, both operands the same tensor
static nt_status build_mm_self_batched(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *arg) {
    nt_tensor *y;
    NT_TRY(mid(c, &y, in[0]));
    return nt_matmul(c, out, y, y, 1, 0);
}

// op(a)^T over a batch (3, 4, 5) times a shared 2-D intermediate b (4, 6):
// b's gradient sums over the batch, the first item stores
static nt_status build_mm_shared_ta(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *arg) {
    nt_tensor *b;
    NT_TRY(mid(c, &b, in[1]));
    return nt_matmul(c, out, in[0], b, 1, 0);
}

// linear(h, w) then layernorm(h), summed by add_residual: h (6, 8) takes a
// gemm contribution and an elementwise one
static nt_status build_linear_ln(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *arg) {
    nt_tensor *h, *a, *n;
    NT_TRY(mid(c, &h, in[0]));
    NT_TRY(nt_linear(c, &a, h, in[1], in[2]));
    NT_TRY(nt_layernorm(c, &n, h, in[3], in[4], 1e-5f));
    return nt_add_residual(c, out, a, n);
}

// h read by a write-first op (linear) and an accumulate-only op (mul), in
// the tape order given by arg (0: linear last, so it runs first in backward)
static nt_status build_mixed(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *arg) {
    int mul_last = arg != NULL;
    nt_tensor *h, *a = NULL, *m = NULL;
    NT_TRY(mid(c, &h, in[0]));
    if (mul_last) NT_TRY(nt_linear(c, &a, h, in[1], NULL));
    NT_TRY(nt_mul(c, &m, h, h));
    if (!mul_last) NT_TRY(nt_linear(c, &a, h, in[1], NULL));
    return nt_add(c, out, a, m);
}

// self-attention with q = k = v = one intermediate (2, 5, 8), causal, 2 heads
static nt_status build_attn_self(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *arg) {
    nt_tensor *y;
    NT_TRY(mid(c, &y, in[0]));
    return nt_attention(c, out, y, y, y, NULL, 2, 1, 0.5f, NULL);
}

// cross-attention with k = v (2, 6, 8) and a separate q (2, 3, 8)
static nt_status build_attn_kv(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *arg) {
    nt_tensor *q, *kv;
    NT_TRY(mid(c, &q, in[0]));
    NT_TRY(mid(c, &kv, in[1]));
    return nt_attention(c, out, q, kv, kv, NULL, 2, 0, 0.5f, NULL);
}

// gelu_linear(y, y): h and w one tensor (5, 5), so dh must add to dW
static nt_status build_gelu_linear_self(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *arg) {
    nt_tensor *y;
    NT_TRY(mid(c, &y, in[0]));
    return nt_gelu_linear(c, out, y, y, NULL);
}

// gelu_linear(h, w, b) on an intermediate h (6, 33): the fused gelu/gelu' pass
static nt_status build_gelu_linear_mid(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *arg) {
    nt_tensor *h;
    NT_TRY(mid(c, &h, in[0]));
    return nt_gelu_linear(c, out, h, in[1], in[2]);
}

// cross-entropy whose targets are all ignored (its backward writes nothing)
// plus the logits themselves: the logits' gradient is the identity part only
static nt_status build_ce_ignored(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *arg) {
    nt_tensor *lg, *ce, *tg;
    NT_TRY(mid(c, &lg, in[0]));
    NT_TRY(nt_tensor_zeros(c, &tg, NT_I32, 1, (int[]){4})); /* every target is 0 = ignore */
    NT_TRY(nt_cross_entropy(c, &ce, lg, tg, 0, 0.0f, NULL));
    return nt_add(c, out, lg, ce);
}

// cross-entropy with some ignored rows on an intermediate: those rows get 0
static nt_status build_ce_some_ignored(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *arg) {
    nt_tensor *lg, *tg;
    NT_TRY(mid(c, &lg, in[0]));
    NT_TRY(nt_tensor_from(c, &tg, NT_I32, 1, (int[]){4}, (int32_t[]){2, 0, 5, 0}));
    return nt_cross_entropy(c, out, lg, tg, 0, 0.1f, NULL);
}

int main(void) {
    nt_rng_seed(&rng, 7);
    CHECK(nt_ctx_new(&leaf, 0) == NT_OK, "nt_ctx_new");

    gc_check("matmul y y^T", build_mm_self, 1, (nt_tensor *[]){in_f32(2, (int[]){5, 7})}, NULL, 1e-2, 2e-3);
    gc_check("matmul batched y^T y", build_mm_self_batched, 1, (nt_tensor *[]){in_f32(3, (int[]){3, 4, 5})},
             NULL, 1e-2, 2e-3);
    gc_check("matmul shared b, trans a", build_mm_shared_ta, 2,
             (nt_tensor *[]){in_f32(3, (int[]){3, 4, 5}), in_f32(2, (int[]){4, 6})}, NULL, 1e-2, 2e-3);
    gc_check("linear + layernorm on one h", build_linear_ln, 5,
             (nt_tensor *[]){in_f32(2, (int[]){6, 8}), in_f32(2, (int[]){8, 8}), in_f32(1, (int[]){8}),
                             in_f32(1, (int[]){8}), in_f32(1, (int[]){8})},
             NULL, 1e-2, 3e-3);
    nt_tensor *hx = in_f32(2, (int[]){6, 8}), *hw = in_f32(2, (int[]){8, 8});
    gc_check("linear then mul on one h", build_mixed, 2, (nt_tensor *[]){hx, hw}, NULL, 1e-2, 2e-3);
    gc_check("mul then linear on one h", build_mixed, 2, (nt_tensor *[]){hx, hw}, (void *)1, 1e-2, 2e-3);
    gc_check("attention q = k = v", build_attn_self, 1, (nt_tensor *[]){in_f32(3, (int[]){2, 5, 8})}, NULL,
             1e-2, 3e-3);
    gc_check("attention k = v", build_attn_kv, 2,
             (nt_tensor *[]){in_f32(3, (int[]){2, 3, 8}), in_f32(3, (int[]){2, 6, 8})}, NULL, 1e-2, 3e-3);
    gc_check("gelu_linear h = w", build_gelu_linear_self, 1, (nt_tensor *[]){in_f32(2, (int[]){5, 5})}, NULL,
             1e-2, 3e-3);
    gc_check("gelu_linear on an intermediate", build_gelu_linear_mid, 3,
             (nt_tensor *[]){in_f32(2, (int[]){6, 33}), in_f32(2, (int[]){4, 33}), in_f32(1, (int[]){4})}, NULL,
             1e-2, 3e-3);
    gc_check("cross-entropy, every target ignored", build_ce_ignored, 1,
             (nt_tensor *[]){in_f32(2, (int[]){4, 7})}, NULL, 1e-2, 2e-3);
    gc_check("cross-entropy, some targets ignored", build_ce_some_ignored, 1,
             (nt_tensor *[]){in_f32(2, (int[]){4, 7})}, NULL, 1e-2, 2e-3);

    /* The gradient of an intermediate that nothing wrote: nt_grad_of after
     * backward on a tensor whose consumer's output took no gradient is zero,
     * and a fresh buffer handed out by nt_grad_of is always zeroed. */
    nt_ctx *c;
    CHECK(nt_ctx_new(&c, 0) == NT_OK, "nt_ctx_new");
    nt_tensor *x = in_f32(2, (int[]){3, 4}), *y, *z, *loss;
    x->grad = NULL;
    CHECK(nt_scale(c, &y, x, 2.0f) == NT_OK, "nt_scale");
    CHECK(nt_scale(c, &z, y, 3.0f) == NT_OK, "nt_scale"); /* z does not reach the loss */
    CHECK(nt_sum(c, &loss, y) == NT_OK, "nt_sum");
    CHECK(nt_backward(c, loss) == NT_OK, "nt_backward");
    for (int i = 0; i < 12; i++) CHECK_CLOSE(x->grad[i], 2.0f, 0, 0);
    float *gz = nt_grad_of(c, z);
    CHECK(gz != NULL, "nt_grad_of");
    for (int i = 0; gz && i < 12; i++) CHECK(gz[i] == 0.0f, "fresh nt_grad_of buffer is zero");
    x->grad = NULL;
    nt_ctx_free(c);

    nt_ctx_free(leaf);
    return nt_check_report("test_write_first");
}
