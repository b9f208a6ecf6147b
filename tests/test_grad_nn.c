/* test_grad_nn.c - gradient checks (central differences, double) of matmul,
 * linear, embedding, layernorm, attention and cross-entropy over a table of
 * shapes, odd sizes (1, 3, 17) included. Tolerances are relative to each
 * gradient tensor's norm (support/gradcheck.h): TOL (worst seen 8.6e-5, and
 * tight enough that gelu's erf-form derivative, 5e-4 off, fails), TOL_LN for
 * layernorm (worst seen 4.5e-4, over 3 features). */
#include <math.h>
#include <string.h>

#include "core/ops.h"
#include "support/check.h"
#include "support/gradcheck.h"

#define TOL 2.5e-4
#define TOL_LN 2e-3

static nt_ctx *leaf;
static nt_rng rng;

static nt_tensor *in_f32(int ndim, const int *shape) { return gc_input(leaf, NT_F32, ndim, shape, 1, &rng); }

/* ---- matmul -------------------------------------------------------------------- */

typedef struct { int ta, tb; } mm_arg;

static nt_status build_matmul(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *arg) {
    mm_arg *a = arg;
    return nt_matmul(c, out, in[0], in[1], a->ta, a->tb);
}

typedef struct {
    const char *name;
    int ta, tb, nda, ndb;
    int sa[3], sb[3];
} mm_case;

static void test_matmul(void) {
    static const mm_case cases[] = {
        {"matmul NN 3x17 @ 17x1", 0, 0, 2, 2, {3, 17}, {17, 1}},
        {"matmul NN 4x4 @ 4x4 (square: a transposed gradient fits)", 0, 0, 2, 2, {4, 4}, {4, 4}},
        {"matmul NT 1x3 @ (17x3)^T", 0, 1, 2, 2, {1, 3}, {17, 3}},
        {"matmul TN (17x3)^T @ 17x1", 1, 0, 2, 2, {17, 3}, {17, 1}},
        {"matmul TT (3x5)^T @ (17x3)^T", 1, 1, 2, 2, {3, 5}, {17, 3}},
        {"matmul batched NN 3x5x4 @ 3x4x17", 0, 0, 3, 3, {3, 5, 4}, {3, 4, 17}},
        {"matmul batched TT 3x(4x5) @ 3x(1x4)", 1, 1, 3, 3, {3, 4, 5}, {3, 1, 4}},
        {"matmul batched TN 2x(3x1) @ 2x3x17", 1, 0, 3, 3, {2, 3, 1}, {2, 3, 17}},
        {"matmul shared b NN 3x5x4 @ 4x17", 0, 0, 3, 2, {3, 5, 4}, {4, 17}},
        {"matmul shared b NT 2x1x3 @ (5x3)^T", 0, 1, 3, 2, {2, 1, 3}, {5, 3}},
        {"matmul shared b TN 3x(4x5) @ 4x3", 1, 0, 3, 2, {3, 4, 5}, {4, 3}},
        {"matmul shared b TT 3x(4x5) @ (3x4)^T", 1, 1, 3, 2, {3, 4, 5}, {3, 4}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const mm_case *c = &cases[i];
        mm_arg arg = {c->ta, c->tb};
        gc_check(c->name, build_matmul, 2, (nt_tensor *[]){in_f32(c->nda, c->sa), in_f32(c->ndb, c->sb)}, &arg,
                 1e-2, TOL);
    }
    /* only one side requires grad */
    mm_arg nn = {0, 0};
    nt_tensor *a = in_f32(2, (int[]){3, 4}), *b = gc_input(leaf, NT_F32, 2, (int[]){4, 5}, 0, &rng);
    gc_check("matmul a only", build_matmul, 2, (nt_tensor *[]){a, b}, &nn, 1e-2, TOL);
}

/* ---- linear ---------------------------------------------------------------------- */

static nt_status build_linear(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *arg) {
    return nt_linear(c, out, in[0], in[1], arg ? in[2] : NULL);
}

static void test_linear(void) {
    static const struct { const char *name; int ndx, sx[3], out, bias; } cases[] = {
        {"linear 3x17 -> 5 bias", 2, {3, 17}, 5, 1},
        {"linear 1x3 -> 17 no bias", 2, {1, 3}, 17, 0},
        {"linear 3-D 2x3x4 -> 1 bias", 3, {2, 3, 4}, 1, 1},
        {"linear 3-D 2x17x3 -> 3 no bias", 3, {2, 17, 3}, 3, 0},
        {"linear 1-D 4 -> 3 bias", 1, {4}, 3, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int In = cases[i].sx[cases[i].ndx - 1];
        nt_tensor *x = in_f32(cases[i].ndx, cases[i].sx), *w = in_f32(2, (int[]){cases[i].out, In});
        nt_tensor *b = in_f32(1, (int[]){cases[i].out});
        gc_check(cases[i].name, build_linear, cases[i].bias ? 3 : 2, (nt_tensor *[]){x, w, b},
                 cases[i].bias ? (void *)1 : NULL, 1e-2, TOL);
    }
}

/* ---- gelu_linear (linear(gelu(h)), gelu recomputed in backward) ------------------ */

static nt_status build_gelu_linear(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *arg) {
    return nt_gelu_linear(c, out, in[0], in[1], arg ? in[2] : NULL);
}

/* The fused op against nt_gelu then nt_linear: same output and gradients. */
static void gelu_linear_vs_unfused(int R, int In, int Out) {
    nt_ctx *ref_ctx, *c; /* one context per pass: a second backward would replay the first tape */
    CHECK(nt_ctx_new(&ref_ctx, 0) == NT_OK, "nt_ctx_new");
    nt_tensor *h = in_f32(2, (int[]){R, In}), *w = in_f32(2, (int[]){Out, In}), *b = in_f32(1, (int[]){Out});
    float *ref[4] = {0};
    nt_tensor *par[3] = {h, w, b};
    for (int pass = 0; pass < 2; pass++) {
        CHECK(nt_ctx_new(&c, 0) == NT_OK, "nt_ctx_new");
        for (int k = 0; k < 3; k++) par[k]->grad = NULL; /* fresh zeroed grads in c */
        nt_tensor *g, *y, *loss, *sq;
        if (pass == 0) {
            CHECK(nt_gelu(c, &g, h) == NT_OK, "nt_gelu");
            CHECK(nt_linear(c, &y, g, w, b) == NT_OK, "nt_linear");
        } else {
            CHECK(nt_gelu_linear(c, &y, h, w, b) == NT_OK, "nt_gelu_linear");
        }
        CHECK(nt_mul(c, &sq, y, y) == NT_OK, "nt_mul"); /* a loss whose dy is not constant */
        CHECK(nt_sum(c, &loss, sq) == NT_OK, "nt_sum");
        CHECK(nt_backward(c, loss) == NT_OK, "nt_backward");
        if (pass == 0) {
            ref[3] = nt_ctx_alloc(ref_ctx, (size_t)y->n * sizeof(float));
            memcpy(ref[3], nt_f32(y), (size_t)y->n * sizeof(float));
            for (int k = 0; k < 3; k++) {
                ref[k] = nt_ctx_alloc(ref_ctx, (size_t)par[k]->n * sizeof(float));
                memcpy(ref[k], par[k]->grad, (size_t)par[k]->n * sizeof(float));
            }
        } else {
            for (int64_t i = 0; i < y->n; i++) CHECK_CLOSE(nt_f32(y)[i], ref[3][i], 1e-6, 1e-5);
            for (int k = 0; k < 3; k++)
                for (int64_t i = 0; i < par[k]->n; i++) CHECK_CLOSE(par[k]->grad[i], ref[k][i], 1e-5, 1e-4);
        }
        for (int k = 0; k < 3; k++) par[k]->grad = NULL;
        nt_ctx_free(c);
    }
    nt_ctx_free(ref_ctx);
}

static void test_gelu_linear(void) {
    static const struct { const char *name; int ndx, sx[3], out, bias; } cases[] = {
        {"gelu_linear 3x17 -> 5 bias", 2, {3, 17}, 5, 1},
        {"gelu_linear 1-D 4 -> 3 no bias", 1, {4}, 3, 0},
        {"gelu_linear 3-D 2x17x3 -> 3 bias (sgemm path)", 3, {2, 17, 3}, 3, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int In = cases[i].sx[cases[i].ndx - 1];
        nt_tensor *x = in_f32(cases[i].ndx, cases[i].sx), *w = in_f32(2, (int[]){cases[i].out, In});
        nt_tensor *b = in_f32(1, (int[]){cases[i].out});
        gc_check(cases[i].name, build_gelu_linear, cases[i].bias ? 3 : 2, (nt_tensor *[]){x, w, b},
                 cases[i].bias ? (void *)1 : NULL, 1e-2, TOL);
    }
    /* only h requires grad, then only w */
    nt_tensor *x = in_f32(2, (int[]){20, 6}), *wc = gc_input(leaf, NT_F32, 2, (int[]){4, 6}, 0, &rng);
    gc_check("gelu_linear h only", build_gelu_linear, 2, (nt_tensor *[]){x, wc}, NULL, 1e-2, TOL);
    nt_tensor *xc = gc_input(leaf, NT_F32, 2, (int[]){20, 6}, 0, &rng), *w = in_f32(2, (int[]){4, 6});
    gc_check("gelu_linear w only", build_gelu_linear, 2, (nt_tensor *[]){xc, w}, NULL, 1e-2, TOL);
    gelu_linear_vs_unfused(3, 17, 5);
    gelu_linear_vs_unfused(40, 33, 7);
    /* errors: wrong width, NULL */
    nt_tensor *y = NULL;
    CHECK(nt_gelu_linear(leaf, &y, x, in_f32(2, (int[]){4, 5}), NULL) == NT_ERR_SHAPE, "width 6 vs 5");
    CHECK(y == NULL, "*out untouched on error");
    CHECK(nt_gelu_linear(leaf, &y, NULL, w, NULL) == NT_ERR_ARG, "NULL h");
}

/* ---- add_residual (x + f over f's buffer) --------------------------------------- */

static nt_status build_add_residual(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *arg) {
    (void)arg;
    nt_tensor *f; /* a fresh branch: the op overwrites it, the input must survive */
    NT_TRY(nt_scale(c, &f, in[1], 1.5f));
    return nt_add_residual(c, out, in[0], f);
}

static void test_add_residual(void) {
    nt_tensor *x = in_f32(3, (int[]){2, 17, 3}), *f = in_f32(3, (int[]){2, 17, 3});
    gc_check("add_residual 2x17x3", build_add_residual, 2, (nt_tensor *[]){x, f}, NULL, 1e-2, TOL);
    nt_tensor *xc = gc_input(leaf, NT_F32, 2, (int[]){5, 7}, 0, &rng), *f2 = in_f32(2, (int[]){5, 7});
    gc_check("add_residual f only", build_add_residual, 2, (nt_tensor *[]){xc, f2}, NULL, 1e-2, TOL);
    /* the value, and f's buffer reused */
    nt_ctx *c;
    CHECK(nt_ctx_new(&c, 0) == NT_OK, "nt_ctx_new");
    nt_tensor *a = gc_input(c, NT_F32, 1, (int[]){40000}, 0, &rng), *b = gc_input(c, NT_F32, 1, (int[]){40000}, 0, &rng);
    nt_tensor *bb, *y = NULL;
    CHECK(nt_tensor_from(c, &bb, NT_F32, 1, (int[]){40000}, b->data) == NT_OK, "copy");
    CHECK(nt_add_residual(c, &y, a, b) == NT_OK, "nt_add_residual");
    CHECK(y && y->data == b->data, "result written over f");
    for (int i = 0; y && i < 40000; i++) CHECK(nt_f32(y)[i] == nt_f32(a)[i] + nt_f32(bb)[i], "y[%d]", i);
    /* errors */
    nt_tensor *z = NULL, *p = in_f32(1, (int[]){40000});
    CHECK(nt_add_residual(c, &z, a, a) == NT_ERR_ARG && !z, "x == f rejected");
    p->is_param = 1;
    CHECK(nt_add_residual(c, &z, a, p) == NT_ERR_ARG && !z, "parameter f rejected");
    p->is_param = 0;
    CHECK(nt_add_residual(c, &z, a, in_f32(1, (int[]){3})) == NT_ERR_SHAPE && !z, "shape mismatch");
    CHECK(nt_add_residual(c, &z, NULL, a) == NT_ERR_ARG && !z, "NULL x");
    nt_ctx_free(c);
}

/* ---- embedding ------------------------------------------------------------------- */

static nt_status build_embedding(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *arg) {
    return nt_embedding(c, out, in[0], in[1]);
}

static void test_embedding(void) {
    static const struct { const char *name; int V, D, nid, sid[2]; int32_t ids[12]; } cases[] = {
        {"embedding 5x3, repeated ids", 5, 3, 2, {2, 3}, {4, 0, 4, 1, 4, 0}},
        {"embedding 3x17, 1 id", 3, 17, 1, {1}, {2}},
        {"embedding 1x1, ids all 0", 1, 1, 2, {3, 4}, {0}},
        {"embedding 17x40 (tiled columns)", 17, 40, 1, {12}, {16, 3, 3, 0, 16, 7, 7, 7, 1, 2, 3, 16}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        nt_tensor *w = in_f32(2, (int[]){cases[i].V, cases[i].D});
        nt_tensor *ids = gc_input(leaf, NT_I32, cases[i].nid, cases[i].sid, 0, &rng);
        memcpy(ids->data, cases[i].ids, (size_t)ids->n * sizeof(int32_t) < sizeof cases[i].ids
                                            ? (size_t)ids->n * sizeof(int32_t)
                                            : sizeof cases[i].ids);
        gc_check(cases[i].name, build_embedding, 2, (nt_tensor *[]){w, ids}, NULL, 1e-2, TOL);
    }
}

/* ---- layernorm ----------------------------------------------------------------------- */

static nt_status build_layernorm(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *arg) {
    return nt_layernorm(c, out, in[0], in[1], in[2], 1e-5f);
}

static void test_layernorm(void) {
    static const struct { const char *name; int nd, s[3]; } cases[] = {
        {"layernorm 3x17", 2, {3, 17}},
        {"layernorm 2x3x5", 3, {2, 3, 5}},
        {"layernorm 1x3", 2, {1, 3}},
        {"layernorm 70x4 (two row blocks)", 2, {70, 4}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int D = cases[i].s[cases[i].nd - 1];
        nt_tensor *x = in_f32(cases[i].nd, cases[i].s), *w = in_f32(1, (int[]){D}), *b = in_f32(1, (int[]){D});
        gc_check(cases[i].name, build_layernorm, 3, (nt_tensor *[]){x, w, b}, NULL, 1e-2, TOL_LN);
    }
}

/* ---- attention ------------------------------------------------------------------------ */

typedef struct { int heads, causal, masked; float scale; } att_arg;

static nt_status build_attention(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *arg) {
    att_arg *a = arg;
    return nt_attention(c, out, in[0], in[1], in[2], a->masked ? in[3] : NULL, a->heads, a->causal,
                        a->scale, NULL);
}

static nt_status build_attention_shared(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *arg) {
    return nt_attention(c, out, in[0], in[0], in[0], NULL, 2, 1, 0.5f, NULL);
}

static void test_attention(void) {
    static const struct { const char *name; int B, Tq, Tk, D, heads, causal, masked; } cases[] = {
        {"attention self 2x3x4 h1", 2, 3, 3, 4, 1, 0, 0},
        {"attention self causal 1x5x4 h2", 1, 5, 5, 4, 2, 1, 0},
        {"attention cross Tq3 Tk17 h4", 2, 3, 17, 8, 4, 0, 1},
        {"attention causal + mask 2x4x6 h2", 2, 4, 4, 6, 2, 1, 1},
        {"attention cached Tq1 Tk5 causal h2", 1, 1, 5, 4, 2, 1, 0},
        {"attention Tq3 > Tk2 causal (empty row)", 1, 3, 2, 2, 1, 1, 0},
        {"attention 1x1x1 h1", 1, 1, 1, 1, 1, 1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int B = cases[i].B, Tq = cases[i].Tq, Tk = cases[i].Tk, D = cases[i].D;
        nt_tensor *q = in_f32(3, (int[]){B, Tq, D}), *k = in_f32(3, (int[]){B, Tk, D}), *v = in_f32(3, (int[]){B, Tk, D});
        nt_tensor *m = gc_input(leaf, NT_I32, 2, (int[]){B, Tk}, 0, &rng);
        /* batch b pads its last b+1 keys; the last batch pads everything */
        for (int b = 0; b < B; b++)
            for (int j = 0; j < Tk; j++) nt_i32(m)[b * Tk + j] = b == B - 1 && B > 1 ? 0 : j < Tk - 1 - b;
        att_arg arg = {cases[i].heads, cases[i].causal, cases[i].masked, 1.0f / sqrtf((float)D / cases[i].heads)};
        gc_check(cases[i].name, build_attention, 4, (nt_tensor *[]){q, k, v, m}, &arg, 1e-2, TOL);
    }
    /* the same tensor as q, k and v (self-attention without projections):
     * all three gradients accumulate into one buffer */
    nt_tensor *x = in_f32(3, (int[]){2, 3, 4});
    gc_check("attention q = k = v", build_attention_shared, 1, (nt_tensor *[]){x}, NULL, 1e-2, TOL);
}

/* ---- cross-entropy ----------------------------------------------------------------- */

typedef struct { int ignore; float smoothing; } ce_arg;

static nt_status build_ce(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *arg) {
    ce_arg *a = arg;
    return nt_cross_entropy(c, out, in[0], in[1], a->ignore, a->smoothing, NULL);
}

static void test_cross_entropy(void) {
    static const struct { const char *name; int nd, s[3], ignore; float eps; } cases[] = {
        {"cross-entropy 3x17", 2, {3, 17}, -1, 0.0f},
        {"cross-entropy 2x3x5 ignore 0", 3, {2, 3, 5}, 0, 0.0f},
        {"cross-entropy 17x3 smoothing 0.1", 2, {17, 3}, -1, 0.1f},
        {"cross-entropy 4x17 ignore + smoothing", 2, {4, 17}, 2, 0.2f},
        {"cross-entropy 1x1", 2, {1, 1}, -1, 0.0f},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int nd = cases[i].nd, V = cases[i].s[nd - 1];
        nt_tensor *x = in_f32(nd, cases[i].s);
        nt_tensor *t = gc_input(leaf, NT_I32, nd - 1, cases[i].s, 0, &rng);
        for (int64_t j = 0; j < t->n; j++) nt_i32(t)[j] = (int32_t)((j * 7 + 3) % V);
        if (cases[i].ignore >= 0) nt_i32(t)[0] = cases[i].ignore; /* at least one ignored */
        ce_arg arg = {cases[i].ignore, cases[i].eps};
        gc_check(cases[i].name, build_ce, 2, (nt_tensor *[]){x, t}, &arg, 1e-2, TOL);
    }
}

int main(void) {
    if (nt_ctx_new(&leaf, 0) != NT_OK) return 1;
    nt_rng_seed(&rng, 2024);
    test_matmul();
    test_linear();
    test_gelu_linear();
    test_add_residual();
    test_embedding();
    test_layernorm();
    test_attention();
    test_cross_entropy();
    nt_ctx_free(leaf);
    return nt_check_report("test_grad_nn");
}
