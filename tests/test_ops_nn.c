/* test_ops_nn.c - forward values of matmul, linear, embedding, layernorm,
 * attention and cross-entropy on small hand-computed cases, and their error paths. */
#include <math.h>
#include <string.h>

#include "core/ops.h"
#include "support/check.h"

static nt_ctx *ctx;

static nt_tensor *f32(int ndim, const int *shape, const float *data) {
    nt_tensor *t = NULL;
    CHECK(nt_tensor_from(ctx, &t, NT_F32, ndim, shape, data) == NT_OK, "%s", nt_errmsg());
    return t;
}
static nt_tensor *i32(int ndim, const int *shape, const int32_t *data) {
    nt_tensor *t = NULL;
    CHECK(nt_tensor_from(ctx, &t, NT_I32, ndim, shape, data) == NT_OK, "%s", nt_errmsg());
    return t;
}

/* Checks t's shape and values against expected (within 1e-5 relative). */
static void expect(const char *what, const nt_tensor *t, int ndim, const int *shape, const float *want) {
    CHECK(t != NULL, "%s: no output", what);
    if (!t) return;
    int ok = t->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++) ok = t->shape[i] == shape[i];
    char buf[64];
    CHECK(ok, "%s: shape %s", what, nt_shape_str(t, buf, sizeof buf));
    if (!ok) return;
    for (int64_t i = 0; i < t->n; i++)
        CHECK(fabsf(nt_f32(t)[i] - want[i]) <= 1e-5f + 1e-5f * fabsf(want[i]),
              "%s[%lld] = %.7g, expected %.7g", what, (long long)i, nt_f32(t)[i], want[i]);
}

static int has(const char *needle) { return strstr(nt_errmsg(), needle) != NULL; }

/* ---- matmul ----------------------------------------------------------------------- */

static void test_matmul(void) {
    const float A[] = {1, 2, 3, 4, 5, 6};          // (2, 3)
    const float At[] = {1, 4, 2, 5, 3, 6};         // A^T (3, 2)
    const float Bm[] = {7, 8, 9, 10, 11, 12};      // (3, 2)
    const float Bt[] = {7, 9, 11, 8, 10, 12};      // B^T (2, 3)
    const float C[] = {58, 64, 139, 154};          // A B
    nt_tensor *y = NULL;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            nt_tensor *a = ta ? f32(2, (int[]){3, 2}, At) : f32(2, (int[]){2, 3}, A);
            nt_tensor *b = tb ? f32(2, (int[]){2, 3}, Bt) : f32(2, (int[]){3, 2}, Bm);
            CHECK(nt_matmul(ctx, &y, a, b, ta, tb) == NT_OK, "%s", nt_errmsg());
            expect(ta ? (tb ? "matmul TT" : "matmul TN") : (tb ? "matmul NT" : "matmul NN"), y, 2,
                   (int[]){2, 2}, C);
        }
    /* batched: batch 1 multiplies [[1,0,0],[0,1,0]] by [[1,2],[3,4],[5,6]] */
    const float A2[] = {1, 2, 3, 4, 5, 6, 1, 0, 0, 0, 1, 0};
    const float B2[] = {7, 8, 9, 10, 11, 12, 1, 2, 3, 4, 5, 6};
    nt_tensor *a = f32(3, (int[]){2, 2, 3}, A2), *b = f32(3, (int[]){2, 3, 2}, B2);
    CHECK(nt_matmul(ctx, &y, a, b, 0, 0) == NT_OK, "%s", nt_errmsg());
    expect("matmul batched", y, 3, (int[]){2, 2, 2}, (float[]){58, 64, 139, 154, 1, 2, 3, 4});
    /* 2-D b shared by the batch (folded into rows), and with trans_a (looped) */
    CHECK(nt_matmul(ctx, &y, a, f32(2, (int[]){3, 2}, Bm), 0, 0) == NT_OK, "%s", nt_errmsg());
    expect("matmul shared b", y, 3, (int[]){2, 2, 2}, (float[]){58, 64, 139, 154, 7, 8, 9, 10});
    const float A2t[] = {1, 4, 2, 5, 3, 6, 1, 0, 0, 1, 0, 0};
    CHECK(nt_matmul(ctx, &y, f32(3, (int[]){2, 3, 2}, A2t), f32(2, (int[]){2, 3}, Bt), 1, 1) == NT_OK,
          "%s", nt_errmsg());
    expect("matmul shared b, TT", y, 3, (int[]){2, 2, 2}, (float[]){58, 64, 139, 154, 7, 8, 9, 10});

    /* errors leave *out untouched and name both shapes */
    nt_tensor *keep = y;
    nt_tensor *x48 = f32(2, (int[]){4, 8}, (float[32]){0}), *x73 = f32(2, (int[]){7, 3}, (float[21]){0});
    CHECK(nt_matmul(ctx, &y, x48, x73, 0, 0) == NT_ERR_SHAPE, "inner dims");
    CHECK(has("nt_matmul: inner dims differ") && has("a: 4x8") && has("b: 7x3"), "msg: %s", nt_errmsg());
    CHECK(y == keep, "out untouched");
    CHECK(nt_matmul(ctx, &y, a, f32(3, (int[]){3, 3, 2}, (float[18]){0}), 0, 0) == NT_ERR_SHAPE, "batch");
    CHECK(has("batch dims differ") && has("2x2x3") && has("3x3x2"), "msg: %s", nt_errmsg());
    CHECK(nt_matmul(ctx, &y, f32(1, (int[]){3}, A), b, 0, 0) == NT_ERR_SHAPE, "1-D");
    CHECK(nt_matmul(ctx, &y, NULL, b, 0, 0) == NT_ERR_ARG, "NULL");
    CHECK(y == keep, "out untouched");
}

static void test_linear(void) {
    const float X[] = {1, 2, 3, 4, 5, 6};
    const float W[] = {1, 0, -1, 0.5f, 0.5f, 0.5f}; // (Out 2, In 3)
    nt_tensor *x = f32(2, (int[]){2, 3}, X), *w = f32(2, (int[]){2, 3}, W);
    nt_tensor *b = f32(1, (int[]){2}, (float[]){10, 20}), *y = NULL;
    CHECK(nt_linear(ctx, &y, x, w, b) == NT_OK, "%s", nt_errmsg());
    expect("linear", y, 2, (int[]){2, 2}, (float[]){8, 23, 8, 27.5f});
    CHECK(nt_linear(ctx, &y, x, w, NULL) == NT_OK, "%s", nt_errmsg());
    expect("linear no bias", y, 2, (int[]){2, 2}, (float[]){-2, 3, -2, 7.5f});
    CHECK(nt_linear(ctx, &y, f32(3, (int[]){2, 1, 3}, X), w, b) == NT_OK, "%s", nt_errmsg());
    expect("linear 3-D", y, 3, (int[]){2, 1, 2}, (float[]){8, 23, 8, 27.5f});
    nt_tensor *keep = y;
    CHECK(nt_linear(ctx, &y, f32(2, (int[]){3, 2}, X), w, b) == NT_ERR_SHAPE, "In mismatch");
    CHECK(has("nt_linear") && has("x: 3x2") && has("w: 2x3"), "msg: %s", nt_errmsg());
    CHECK(nt_linear(ctx, &y, x, w, f32(1, (int[]){3}, X)) == NT_ERR_SHAPE, "bias");
    CHECK(has("bias must be (2)"), "msg: %s", nt_errmsg());
    CHECK(y == keep, "out untouched");
}

static void test_embedding(void) {
    const float W[] = {0, 1, 10, 11, 20, 21, 30, 31}; // (4, 2)
    nt_tensor *w = f32(2, (int[]){4, 2}, W), *y = NULL;
    nt_tensor *ids = i32(2, (int[]){2, 3}, (int32_t[]){3, 0, 3, 1, 2, 1});
    CHECK(nt_embedding(ctx, &y, w, ids) == NT_OK, "%s", nt_errmsg());
    expect("embedding", y, 3, (int[]){2, 3, 2}, (float[]){30, 31, 0, 1, 30, 31, 10, 11, 20, 21, 10, 11});
    nt_tensor *keep = y;
    CHECK(nt_embedding(ctx, &y, w, i32(2, (int[]){2, 3}, (int32_t[]){3, 0, 3, 1, 2, 4})) == NT_ERR_ARG,
          "id 4");
    CHECK(has("id 4") && has("position 5") && has("[0, 4)"), "msg: %s", nt_errmsg());
    CHECK(nt_embedding(ctx, &y, w, i32(1, (int[]){2}, (int32_t[]){-7, 0})) == NT_ERR_ARG, "id -7");
    CHECK(has("id -7") && has("position 0"), "msg: %s", nt_errmsg());
    CHECK(nt_embedding(ctx, &y, w, w) == NT_ERR_SHAPE, "F32 ids");
    CHECK(y == keep, "out untouched");
}

static void test_layernorm(void) {
    nt_tensor *x = f32(1, (int[]){4}, (float[]){1, 2, 3, 4}), *y = NULL;
    /* mean 2.5, var 1.25: eps 0.75 makes rstd = 1/sqrt(2) */
    float r2 = 1.0f / sqrtf(2.0f);
    CHECK(nt_layernorm(ctx, &y, x, NULL, NULL, 0.75f) == NT_OK, "%s", nt_errmsg());
    expect("layernorm", y, 1, (int[]){4}, (float[]){-1.5f * r2, -0.5f * r2, 0.5f * r2, 1.5f * r2});
    nt_tensor *w = f32(1, (int[]){4}, (float[]){1, 2, 1, -1}), *b = f32(1, (int[]){4}, (float[]){0, 0, 1, 0.5f});
    float s = 1.0f / sqrtf(1.25f);
    CHECK(nt_layernorm(ctx, &y, x, w, b, 0.0f) == NT_OK, "%s", nt_errmsg());
    expect("layernorm affine", y, 1, (int[]){4}, (float[]){-1.5f * s, -1.0f * s, 0.5f * s + 1, -1.5f * s + 0.5f});
    /* two rows; the second is the first shifted by 10 and must normalise the same */
    CHECK(nt_layernorm(ctx, &y, f32(2, (int[]){2, 4}, (float[]){1, 2, 3, 4, 11, 12, 13, 14}), NULL, NULL, 0.75f) ==
              NT_OK,
          "%s", nt_errmsg());
    expect("layernorm rows", y, 2, (int[]){2, 4},
           (float[]){-1.5f * r2, -0.5f * r2, 0.5f * r2, 1.5f * r2, -1.5f * r2, -0.5f * r2, 0.5f * r2, 1.5f * r2});
    nt_tensor *keep = y;
    CHECK(nt_layernorm(ctx, &y, x, f32(1, (int[]){3}, (float[]){1, 1, 1}), NULL, 1e-5f) == NT_ERR_SHAPE, "w");
    CHECK(has("weight must be F32 (4)") && has("got 3"), "msg: %s", nt_errmsg());
    CHECK(nt_layernorm(ctx, &y, x, NULL, NULL, -1.0f) == NT_ERR_ARG, "eps");
    CHECK(y == keep, "out untouched");
}

/* ---- attention ----------------------------------------------------------------------- */

/* q0 . k = (0, ln 3) -> p = (1/4, 3/4); q1 . k = (0, 0) -> p = (1/2, 1/2). */
static const float QA[] = {1, 0, 0, 1};             // (1, 2, 2)
static const float KA[] = {0, 0, 0, 0};             // k1 = (ln 3, 0) set below
static const float VA[] = {4, 0, 0, 8};             // (1, 2, 2)

static void test_attention(void) {
    float kd[4];
    memcpy(kd, KA, sizeof kd);
    kd[2] = logf(3.0f);
    nt_tensor *q = f32(3, (int[]){1, 2, 2}, QA), *k = f32(3, (int[]){1, 2, 2}, kd);
    nt_tensor *v = f32(3, (int[]){1, 2, 2}, VA), *y = NULL, *p = NULL;
    CHECK(nt_attention(ctx, &y, q, k, v, NULL, 1, 0, 1.0f, &p) == NT_OK, "%s", nt_errmsg());
    expect("attention", y, 3, (int[]){1, 2, 2}, (float[]){1, 6, 2, 4});
    expect("attention probs", p, 4, (int[]){1, 1, 2, 2}, (float[]){0.25f, 0.75f, 0.5f, 0.5f});
    /* scale halves the scores: q0 sees (0, ln 3 / 2) -> p = (1, sqrt 3) / (1 + sqrt 3) */
    CHECK(nt_attention(ctx, &y, q, k, v, NULL, 1, 0, 0.5f, NULL) == NT_OK, "%s", nt_errmsg());
    float s3 = sqrtf(3.0f), p0 = 1 / (1 + s3);
    expect("attention scale", y, 3, (int[]){1, 2, 2}, (float[]){4 * p0, 8 * (1 - p0), 2, 4});
    /* causal: query 0 sees key 0 only */
    CHECK(nt_attention(ctx, &y, q, k, v, NULL, 1, 1, 1.0f, &p) == NT_OK, "%s", nt_errmsg());
    expect("attention causal", y, 3, (int[]){1, 2, 2}, (float[]){4, 0, 2, 4});
    expect("attention causal probs", p, 4, (int[]){1, 1, 2, 2}, (float[]){1, 0, 0.5f, 0.5f});
    /* key padding: key 1 masked for both queries */
    nt_tensor *m10 = i32(2, (int[]){1, 2}, (int32_t[]){1, 0});
    CHECK(nt_attention(ctx, &y, q, k, v, m10, 1, 0, 1.0f, NULL) == NT_OK, "%s", nt_errmsg());
    expect("attention key mask", y, 3, (int[]){1, 2, 2}, (float[]){4, 0, 4, 0});
    /* KV-cached step: Tq = 1 against Tk = 2 with causal sees the whole prefix */
    nt_tensor *q0 = f32(3, (int[]){1, 1, 2}, QA);
    CHECK(nt_attention(ctx, &y, q0, k, v, NULL, 1, 1, 1.0f, NULL) == NT_OK, "%s", nt_errmsg());
    expect("attention cached Tq=1", y, 3, (int[]){1, 1, 2}, (float[]){1, 6});
    /* Tq = 3 > Tk = 2 causal: query 0 sees no key (zeros), 1 sees key 0, 2 sees both */
    nt_tensor *q3 = f32(3, (int[]){1, 3, 2}, (float[]){1, 0, 1, 0, 1, 0});
    CHECK(nt_attention(ctx, &y, q3, k, v, NULL, 1, 1, 1.0f, &p) == NT_OK, "%s", nt_errmsg());
    expect("attention fully masked row", y, 3, (int[]){1, 3, 2}, (float[]){0, 0, 4, 0, 1, 6});
    expect("attention fully masked probs", p, 4, (int[]){1, 1, 3, 2}, (float[]){0, 0, 1, 0, 0.25f, 0.75f});
    /* every key padded in batch 1, batch 0 unmasked */
    nt_tensor *q2 = f32(3, (int[]){2, 2, 2}, (float[]){1, 0, 0, 1, 1, 0, 0, 1});
    float k2d[8], v2d[8];
    memcpy(k2d, kd, sizeof kd), memcpy(k2d + 4, kd, sizeof kd);
    memcpy(v2d, VA, sizeof kd), memcpy(v2d + 4, VA, sizeof kd);
    nt_tensor *k2 = f32(3, (int[]){2, 2, 2}, k2d), *v2 = f32(3, (int[]){2, 2, 2}, v2d);
    nt_tensor *m2 = i32(2, (int[]){2, 2}, (int32_t[]){1, 1, 0, 0});
    CHECK(nt_attention(ctx, &y, q2, k2, v2, m2, 1, 0, 1.0f, NULL) == NT_OK, "%s", nt_errmsg());
    expect("attention all keys padded", y, 3, (int[]){2, 2, 2}, (float[]){1, 6, 2, 4, 0, 0, 0, 0});
    /* two heads: head 1 is head 0 with v doubled */
    const float Qh[] = {1, 0, 1, 0, 0, 1, 0, 1};
    float Kh[8] = {0}, Vh[] = {4, 0, 8, 0, 0, 8, 0, 16};
    Kh[4] = Kh[6] = logf(3.0f);
    CHECK(nt_attention(ctx, &y, f32(3, (int[]){1, 2, 4}, Qh), f32(3, (int[]){1, 2, 4}, Kh),
                       f32(3, (int[]){1, 2, 4}, Vh), NULL, 2, 0, 1.0f, &p) == NT_OK,
          "%s", nt_errmsg());
    expect("attention 2 heads", y, 3, (int[]){1, 2, 4}, (float[]){1, 6, 2, 12, 2, 4, 4, 8});
    expect("attention 2 heads probs", p, 4, (int[]){1, 2, 2, 2},
           (float[]){0.25f, 0.75f, 0.5f, 0.5f, 0.25f, 0.75f, 0.5f, 0.5f});

    nt_tensor *keep = y;
    nt_tensor *q3d = f32(3, (int[]){1, 2, 3}, (float[6]){0});
    CHECK(nt_attention(ctx, &y, q3d, q3d, q3d, NULL, 2, 0, 1.0f, NULL) == NT_ERR_SHAPE, "heads");
    CHECK(has("heads 2") && has("D = 3"), "msg: %s", nt_errmsg());
    CHECK(nt_attention(ctx, &y, q, k, v, i32(2, (int[]){1, 3}, (int32_t[]){1, 1, 1}), 1, 0, 1.0f, NULL) ==
              NT_ERR_SHAPE,
          "mask shape");
    CHECK(has("key_mask must be I32 (B, Tk) = (1, 2)") && has("got 1x3"), "msg: %s", nt_errmsg());
    CHECK(nt_attention(ctx, &y, q, k, f32(3, (int[]){1, 3, 2}, (float[6]){0}), NULL, 1, 0, 1.0f, NULL) ==
              NT_ERR_SHAPE,
          "v shape");
    CHECK(has("v: 1x3x2"), "msg: %s", nt_errmsg());
    CHECK(y == keep, "out untouched");
}

/* ---- cross-entropy ---------------------------------------------------------------------- */

static void test_cross_entropy(void) {
    /* row 0: logits (0, ln 2, ln 3), lse = ln 6, target 2 -> nll ln 2
     * row 1: (0, 0, 0), target 0 -> nll ln 3;  row 2: target 1 = ignore_index */
    float L[9] = {0, logf(2), logf(3), 0, 0, 0, 5, -1, 2};
    nt_tensor *x = f32(2, (int[]){3, 3}, L), *y = NULL;
    x->requires_grad = 1;
    nt_tensor *t = i32(1, (int[]){3}, (int32_t[]){2, 0, 1});
    int64_t n = -1;
    CHECK(nt_cross_entropy(ctx, &y, x, t, 1, 0.0f, &n) == NT_OK, "%s", nt_errmsg());
    CHECK(y && y->ndim == 0 && y->n == 1, "scalar");
    CHECK(n == 2, "n_counted %lld", (long long)n);
    CHECK_CLOSE(nt_f32(y)[0], (log(2.0) + log(3.0)) / 2, 1e-6, 1e-6);
    /* backward: (softmax - onehot) / 2; the ignored row gets nothing */
    CHECK(nt_backward(ctx, y) == NT_OK, "%s", nt_errmsg());
    const float g[9] = {1 / 12.f, 1 / 6.f, -1 / 4.f, -1 / 3.f, 1 / 6.f, 1 / 6.f, 0, 0, 0};
    for (int i = 0; i < 9; i++) CHECK_CLOSE(x->grad[i], g[i], 1e-6, 1e-5);
    x->requires_grad = 0;
    /* label smoothing 0.3: loss_i = 0.7 nll_i + 0.3 (lse_i - mean x_i) */
    CHECK(nt_cross_entropy(ctx, &y, x, t, 1, 0.3f, &n) == NT_OK, "%s", nt_errmsg());
    double l6 = log(6.0);
    CHECK_CLOSE(nt_f32(y)[0], (0.7 * log(2.0) + 0.3 * (l6 - l6 / 3) + log(3.0)) / 2, 1e-6, 1e-6);
    /* no ignore index: row 2 counts, target 1 of (5, -1, 2) */
    CHECK(nt_cross_entropy(ctx, &y, x, t, -1, 0.0f, &n) == NT_OK && n == 3, "%s", nt_errmsg());
    double lse2 = 5 + log(1 + exp(-6.0) + exp(-3.0));
    CHECK_CLOSE(nt_f32(y)[0], (log(2.0) + log(3.0) + lse2 + 1) / 3, 1e-6, 1e-6);
    /* 3-D logits (1, 3, 3) with (1, 3) targets; every target ignored -> 0 */
    nt_tensor *x3 = f32(3, (int[]){1, 3, 3}, L);
    CHECK(nt_cross_entropy(ctx, &y, x3, i32(2, (int[]){1, 3}, (int32_t[]){1, 1, 1}), 1, 0.1f, &n) == NT_OK,
          "%s", nt_errmsg());
    CHECK(n == 0 && nt_f32(y)[0] == 0.0f, "all ignored: n %lld loss %g", (long long)n, nt_f32(y)[0]);

    nt_tensor *keep = y;
    CHECK(nt_cross_entropy(ctx, &y, x, i32(1, (int[]){3}, (int32_t[]){2, 3, 0}), 1, 0.0f, NULL) == NT_ERR_ARG,
          "target 3");
    CHECK(has("target 3") && has("position 1") && has("[0, 3)"), "msg: %s", nt_errmsg());
    CHECK(nt_cross_entropy(ctx, &y, x, i32(1, (int[]){3}, (int32_t[]){2, -1, 0}), -1, 0.0f, NULL) ==
              NT_ERR_ARG,
          "target -1");
    CHECK(has("target -1"), "msg: %s", nt_errmsg());
    CHECK(nt_cross_entropy(ctx, &y, x, i32(1, (int[]){2}, (int32_t[]){0, 0}), -1, 0.0f, NULL) == NT_ERR_SHAPE,
          "targets shape");
    CHECK(has("targets 2") && has("logits: 3x3"), "msg: %s", nt_errmsg());
    CHECK(nt_cross_entropy(ctx, &y, x, t, -1, 1.5f, NULL) == NT_ERR_ARG, "smoothing");
    CHECK(y == keep, "out untouched");
}

int main(void) {
    if (nt_ctx_new(&ctx, 0) != NT_OK) return 1;
    test_matmul();
    test_linear();
    test_embedding();
    test_layernorm();
    test_attention();
    test_cross_entropy();
    nt_ctx_free(ctx);
    return nt_check_report("test_ops_nn");
}
