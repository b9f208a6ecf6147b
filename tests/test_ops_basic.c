/* test_ops_basic.c - forward values of the elementwise, shape, reduction and
 * softmax ops against hand-computed values, and their error paths. */
#include <math.h>
#include <string.h>

#include "core/ops.h"
#include "support/check.h"

static nt_ctx *ctx;

/* A leaf F32 tensor from a literal. */
static nt_tensor *T(int ndim, const int *shape, const float *v) {
    nt_tensor *t = NULL;
    if (nt_tensor_from(ctx, &t, NT_F32, ndim, shape, v) != NT_OK) {
        fprintf(stderr, "cannot make a tensor: %s\n", nt_errmsg());
        exit(1);
    }
    return t;
}

/* y has the given shape and values (within tol). */
static void expect(const char *what, nt_status st, const nt_tensor *y, int ndim, const int *shape,
                   const float *v, double tol) {
    CHECK(st == NT_OK, "%s: status %s: %s", what, nt_status_name(st), nt_errmsg());
    if (st != NT_OK || !y) return;
    int ok = y->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++) ok = y->shape[i] == shape[i];
    char s[64];
    CHECK(ok, "%s: shape %s (ndim %d)", what, nt_shape_str(y, s, sizeof s), y->ndim);
    if (!ok) return;
    for (int64_t i = 0; i < y->n; i++) {
        double got = y->dtype == NT_F32 ? nt_f32(y)[i] : nt_i32(y)[i];
        CHECK(fabs(got - v[i]) <= tol, "%s: element %lld = %.9g, expected %.9g", what, (long long)i,
              got, (double)v[i]);
    }
}

/* A failing call: right status, message containing `needle`, *out untouched. */
#define EXPECT_ERR(call, status, needle)                                                        \
    do {                                                                                        \
        nt_tensor *sentinel_ = (nt_tensor *)&sentinel_storage, *out_ = sentinel_;               \
        nt_status st_ = (call);                                                                 \
        CHECK(st_ == (status), "%s: got %s, want %s (%s)", #call, nt_status_name(st_),          \
              nt_status_name(status), nt_errmsg());                                             \
        CHECK(out_ == sentinel_, "%s: *out was modified", #call);                               \
        CHECK(strstr(nt_errmsg(), (needle)) != NULL, "%s: message \"%s\" lacks \"%s\"", #call,  \
              nt_errmsg(), (needle));                                                           \
    } while (0)
static nt_tensor sentinel_storage;

/* ---- elementwise ------------------------------------------------------------ */

static void test_binary(void) {
    nt_tensor *y;
    nt_status st;
    nt_tensor *a = T(2, (int[]){2, 3}, (float[]){1, 2, 3, 4, 5, 6});
    nt_tensor *b = T(2, (int[]){2, 3}, (float[]){10, 20, 30, 40, 50, 60});
    st = nt_add(ctx, &y, a, b);
    expect("add same shape", st, y, 2, (int[]){2, 3}, (float[]){11, 22, 33, 44, 55, 66}, 0);
    st = nt_sub(ctx, &y, a, b);
    expect("sub same shape", st, y, 2, (int[]){2, 3}, (float[]){-9, -18, -27, -36, -45, -54}, 0);
    st = nt_mul(ctx, &y, a, b);
    expect("mul same shape", st, y, 2, (int[]){2, 3}, (float[]){10, 40, 90, 160, 250, 360}, 0);
    st = nt_div(ctx, &y, b, a);
    expect("div same shape", st, y, 2, (int[]){2, 3}, (float[]){10, 10, 10, 10, 10, 10}, 1e-6);

    /* a (B, T, D) = (2, 2, 3) against b (D) and (T, D) */
    nt_tensor *x = T(3, (int[]){2, 2, 3}, (float[]){1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
    nt_tensor *bd = T(1, (int[]){3}, (float[]){100, 200, 300});
    nt_tensor *btd = T(2, (int[]){2, 3}, (float[]){1, 2, 3, 4, 5, 6});
    st = nt_add(ctx, &y, x, bd);
    expect("add (B,T,D) + (D)", st, y, 3, (int[]){2, 2, 3},
           (float[]){101, 202, 303, 104, 205, 306, 107, 208, 309, 110, 211, 312}, 0);
    st = nt_sub(ctx, &y, x, btd);
    expect("sub (B,T,D) - (T,D)", st, y, 3, (int[]){2, 2, 3},
           (float[]){0, 0, 0, 0, 0, 0, 6, 6, 6, 6, 6, 6}, 0);
    st = nt_mul(ctx, &y, x, btd);
    expect("mul (B,T,D) * (T,D)", st, y, 3, (int[]){2, 2, 3},
           (float[]){1, 4, 9, 16, 25, 36, 7, 16, 27, 40, 55, 72}, 0);
    st = nt_div(ctx, &y, x, bd);
    expect("div (B,T,D) / (D)", st, y, 3, (int[]){2, 2, 3},
           (float[]){.01f, .01f, .01f, .04f, .025f, .02f, .07f, .04f, .03f, .1f, .055f, .04f}, 1e-7);

    /* one-element b: a scalar (ndim 0) and a (1) and a (1, 1) */
    nt_tensor *s0 = T(0, NULL, (float[]){2});
    nt_tensor *s1 = T(1, (int[]){1}, (float[]){-1});
    nt_tensor *s11 = T(2, (int[]){1, 1}, (float[]){4});
    st = nt_mul(ctx, &y, a, s0);
    expect("mul by scalar", st, y, 2, (int[]){2, 3}, (float[]){2, 4, 6, 8, 10, 12}, 0);
    st = nt_add(ctx, &y, a, s1);
    expect("add (1)", st, y, 2, (int[]){2, 3}, (float[]){0, 1, 2, 3, 4, 5}, 0);
    st = nt_div(ctx, &y, a, s11);
    expect("div (1,1)", st, y, 2, (int[]){2, 3}, (float[]){.25f, .5f, .75f, 1, 1.25f, 1.5f}, 0);
    st = nt_sub(ctx, &y, s0, s1);
    expect("scalar - (1)", st, y, 0, NULL, (float[]){3}, 0);
    /* b equal to a's full shape with a leading 1 is not a trailing part */
    nt_tensor *b13 = T(2, (int[]){1, 3}, (float[]){1, 1, 1});
    EXPECT_ERR(nt_add(ctx, &out_, a, b13), NT_ERR_SHAPE,
               "nt_add: shapes do not broadcast (a: 2x3, b: 1x3)");
}

static void test_binary_errors(void) {
    nt_tensor *a = T(2, (int[]){2, 3}, (float[]){1, 2, 3, 4, 5, 6});
    nt_tensor *b4 = T(1, (int[]){4}, (float[]){1, 2, 3, 4});
    nt_tensor *b2 = T(1, (int[]){2}, (float[]){1, 2});
    EXPECT_ERR(nt_add(ctx, &out_, a, b4), NT_ERR_SHAPE, "nt_add: shapes do not broadcast (a: 2x3, b: 4)");
    EXPECT_ERR(nt_sub(ctx, &out_, a, b2), NT_ERR_SHAPE, "nt_sub: shapes do not broadcast (a: 2x3, b: 2)");
    EXPECT_ERR(nt_mul(ctx, &out_, b4, a), NT_ERR_SHAPE, "nt_mul: shapes do not broadcast (a: 4, b: 2x3)");
    EXPECT_ERR(nt_div(ctx, &out_, a, NULL), NT_ERR_ARG, "nt_div");
    EXPECT_ERR(nt_add(ctx, &out_, NULL, a), NT_ERR_ARG, "nt_add");
    EXPECT_ERR(nt_add(NULL, &out_, a, a), NT_ERR_ARG, "nt_add");
    CHECK(nt_add(ctx, NULL, a, a) == NT_ERR_ARG, "NULL out");
    nt_tensor *ids;
    nt_tensor_zeros(ctx, &ids, NT_I32, 2, (int[]){2, 3});
    EXPECT_ERR(nt_add(ctx, &out_, a, ids), NT_ERR_SHAPE, "nt_add: inputs must be F32");
    EXPECT_ERR(nt_relu(ctx, &out_, ids), NT_ERR_SHAPE, "nt_relu");
    EXPECT_ERR(nt_scale(ctx, &out_, NULL, 2.0f), NT_ERR_ARG, "nt_scale");
    EXPECT_ERR(nt_gelu(ctx, &out_, NULL), NT_ERR_ARG, "nt_gelu");
}

static void test_unary(void) {
    nt_tensor *y;
    nt_status st;
    nt_tensor *x = T(1, (int[]){8}, (float[]){-3, -1, -0.5f, 0, 0.5f, 1, 2, 3});
    st = nt_scale(ctx, &y, x, -2.0f);
    expect("scale", st, y, 1, (int[]){8}, (float[]){6, 2, 1, 0, -1, -2, -4, -6}, 0);
    st = nt_relu(ctx, &y, x);
    expect("relu", st, y, 1, (int[]){8}, (float[]){0, 0, 0, 0, 0.5f, 1, 2, 3}, 0);
    /* PyTorch 2.x: F.gelu(x, approximate="tanh") */
    st = nt_gelu(ctx, &y, x);
    expect("gelu", st, y, 1, (int[]){8},
           (float[]){-0.00363743305f, -0.158807993f, -0.154285997f, 0.0f, 0.345714003f,
                     0.841192007f, 1.95459771f, 2.99636269f},
           2e-7);
}

static void test_dropout(void) {
    nt_rng rng;
    nt_rng_seed(&rng, 5);
    nt_tensor *y;
    nt_tensor *x = T(2, (int[]){4, 25}, (float[100]){0});
    for (int i = 0; i < 100; i++) nt_f32(x)[i] = (float)(i + 1);
    /* no RNG in training with p > 0 */
    EXPECT_ERR(nt_dropout(ctx, &out_, x, 0.5f), NT_ERR_STATE, "nt_dropout: no RNG");
    nt_ctx_set_rng(ctx, &rng);
    EXPECT_ERR(nt_dropout(ctx, &out_, x, 1.5f), NT_ERR_ARG, "nt_dropout: p = 1.5 outside [0, 1)");
    EXPECT_ERR(nt_dropout(ctx, &out_, x, 1.0f), NT_ERR_ARG, "nt_dropout");
    EXPECT_ERR(nt_dropout(ctx, &out_, x, -0.1f), NT_ERR_ARG, "nt_dropout");
    EXPECT_ERR(nt_dropout(ctx, &out_, x, NAN), NT_ERR_ARG, "nt_dropout");
    EXPECT_ERR(nt_dropout(ctx, &out_, NULL, 0.5f), NT_ERR_ARG, "nt_dropout");
    uint64_t before = rng.counter;
    CHECK(nt_dropout(ctx, &y, x, 0.0f) == NT_OK && y == x, "p = 0 is identity (x itself)");
    nt_ctx_set_training(ctx, 0);
    CHECK(nt_dropout(ctx, &y, x, 0.5f) == NT_OK && y == x, "eval mode is identity");
    EXPECT_ERR(nt_dropout(ctx, &out_, x, 2.0f), NT_ERR_ARG, "nt_dropout"); /* still validated */
    nt_ctx_set_training(ctx, 1);
    CHECK(rng.counter == before, "identity draws nothing");
    CHECK(nt_dropout(ctx, &y, x, 0.5f) == NT_OK && y != x, "p = 0.5");
    CHECK(rng.counter == before + 100, "one draw per element (%llu)",
          (unsigned long long)(rng.counter - before));
    int kept = 0;
    for (int i = 0; i < 100; i++) {
        float v = nt_f32(y)[i];
        CHECK(v == 0.0f || v == 2.0f * (float)(i + 1), "element %d = %g", i, v);
        kept += v != 0.0f;
    }
    CHECK(kept > 25 && kept < 75, "kept %d of 100 at p = 0.5", kept);
    /* the next call draws fresh values */
    nt_tensor *y2;
    CHECK(nt_dropout(ctx, &y2, x, 0.5f) == NT_OK, "second dropout");
    CHECK(memcmp(y->data, y2->data, 100 * sizeof(float)) != 0, "a different mask next time");
    nt_ctx_set_rng(ctx, NULL);
}

/* ---- shape ------------------------------------------------------------------------ */

static void test_reshape(void) {
    nt_tensor *y;
    nt_status st;
    nt_tensor *x = T(2, (int[]){2, 6}, (float[]){0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
    st = nt_reshape(ctx, &y, x, 3, (int[]){3, -1, 2});
    expect("reshape -1", st, y, 3, (int[]){3, 2, 2}, (float[]){0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 0);
    CHECK(st == NT_OK && y->data == x->data, "reshape shares data");
    st = nt_reshape(ctx, &y, x, 1, (int[]){12});
    expect("reshape flat", st, y, 1, (int[]){12}, (float[]){0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 0);
    nt_tensor *one = T(2, (int[]){1, 1}, (float[]){7});
    st = nt_reshape(ctx, &y, one, 0, NULL);
    expect("reshape to scalar", st, y, 0, NULL, (float[]){7}, 0);
    EXPECT_ERR(nt_reshape(ctx, &out_, x, 2, (int[]){5, 2}), NT_ERR_SHAPE,
               "nt_reshape: element count differs (x: 2x6, 12 elements; shape: 5x2, 10)");
    EXPECT_ERR(nt_reshape(ctx, &out_, x, 2, (int[]){-1, 5}), NT_ERR_SHAPE, "cannot infer dim 0");
    EXPECT_ERR(nt_reshape(ctx, &out_, x, 3, (int[]){-1, -1, 3}), NT_ERR_ARG, "dim 1 is -1");
    EXPECT_ERR(nt_reshape(ctx, &out_, x, 2, (int[]){0, 12}), NT_ERR_ARG, "dim 0 is 0");
    EXPECT_ERR(nt_reshape(ctx, &out_, x, 5, (int[]){1, 1, 1, 2, 6}), NT_ERR_ARG, "ndim 5");
    EXPECT_ERR(nt_reshape(ctx, &out_, NULL, 1, (int[]){12}), NT_ERR_ARG, "nt_reshape");
    EXPECT_ERR(nt_reshape(ctx, &out_, x, 1, NULL), NT_ERR_ARG, "nt_reshape: shape is NULL");
}

static void test_permute(void) {
    nt_tensor *y;
    nt_status st;
    nt_tensor *m = T(2, (int[]){2, 3}, (float[]){1, 2, 3, 4, 5, 6});
    st = nt_permute(ctx, &y, m, (int[]){1, 0});
    expect("transpose", st, y, 2, (int[]){3, 2}, (float[]){1, 4, 2, 5, 3, 6}, 0);
    /* x (2, 3, 4), x[i,j,k] = 100 i + 10 j + k; y = permute (2, 0, 1): y[k,i,j] = x[i,j,k] */
    float xv[24], want[24];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++) xv[(i * 3 + j) * 4 + k] = (float)(100 * i + 10 * j + k);
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++) want[(k * 2 + i) * 3 + j] = (float)(100 * i + 10 * j + k);
    nt_tensor *x = T(3, (int[]){2, 3, 4}, xv);
    st = nt_permute(ctx, &y, x, (int[]){2, 0, 1});
    expect("permute (2,0,1)", st, y, 3, (int[]){4, 2, 3}, want, 0);
    /* 4-D (B, T, H, Dh) -> (B, H, T, Dh), the attention head split */
    float x4[2 * 3 * 2 * 2], w4[24];
    for (int i = 0; i < 24; i++) x4[i] = (float)i;
    for (int b = 0; b < 2; b++)
        for (int h = 0; h < 2; h++)
            for (int t = 0; t < 3; t++)
                for (int d = 0; d < 2; d++)
                    w4[((b * 2 + h) * 3 + t) * 2 + d] = x4[((b * 3 + t) * 2 + h) * 2 + d];
    st = nt_permute(ctx, &y, T(4, (int[]){2, 3, 2, 2}, x4), (int[]){0, 2, 1, 3});
    expect("permute (0,2,1,3)", st, y, 4, (int[]){2, 2, 3, 2}, w4, 0);
    EXPECT_ERR(nt_permute(ctx, &out_, x, (int[]){0, 0, 1}), NT_ERR_ARG,
               "nt_permute: perm (0, 0, 1) is not a permutation of 0..2 (x: 2x3x4)");
    EXPECT_ERR(nt_permute(ctx, &out_, x, (int[]){0, 1, 3}), NT_ERR_ARG, "not a permutation");
    EXPECT_ERR(nt_permute(ctx, &out_, x, (int[]){-1, 0, 1}), NT_ERR_ARG, "not a permutation");
    EXPECT_ERR(nt_permute(ctx, &out_, x, NULL), NT_ERR_ARG, "nt_permute: perm is NULL");
}

static void test_slice(void) {
    nt_tensor *y;
    nt_status st;
    nt_tensor *x = T(2, (int[]){3, 4}, (float[]){0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23});
    st = nt_slice(ctx, &y, x, 0, 1, 2);
    expect("slice axis 0", st, y, 2, (int[]){2, 4}, (float[]){10, 11, 12, 13, 20, 21, 22, 23}, 0);
    st = nt_slice(ctx, &y, x, 1, 1, 2);
    expect("slice axis 1", st, y, 2, (int[]){3, 2}, (float[]){1, 2, 11, 12, 21, 22}, 0);
    st = nt_slice(ctx, &y, x, -1, 3, 1);
    expect("slice axis -1", st, y, 2, (int[]){3, 1}, (float[]){3, 13, 23}, 0);
    /* middle axis of a 3-D tensor */
    nt_tensor *x3 = T(3, (int[]){2, 3, 2}, (float[]){0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
    st = nt_slice(ctx, &y, x3, 1, 2, 1);
    expect("slice 3-D axis 1", st, y, 3, (int[]){2, 1, 2}, (float[]){4, 5, 10, 11}, 0);
    /* token ids slice too */
    nt_tensor *ids;
    nt_tensor_from(ctx, &ids, NT_I32, 2, (int[]){2, 3}, (int32_t[]){1, 5, 6, 1, 7, 8});
    st = nt_slice(ctx, &y, ids, 1, 1, 2);
    expect("slice I32", st, y, 2, (int[]){2, 2}, (float[]){5, 6, 7, 8}, 0);
    CHECK(st == NT_OK && y->dtype == NT_I32, "slice keeps I32");
    EXPECT_ERR(nt_slice(ctx, &out_, x, 2, 0, 1), NT_ERR_ARG, "nt_slice: axis 2 out of range for x 3x4");
    EXPECT_ERR(nt_slice(ctx, &out_, x, -3, 0, 1), NT_ERR_ARG, "axis -3 out of range");
    EXPECT_ERR(nt_slice(ctx, &out_, x, 1, 3, 2), NT_ERR_ARG, "nt_slice: range [3, 3 + 2) outside axis 1");
    EXPECT_ERR(nt_slice(ctx, &out_, x, 1, -1, 2), NT_ERR_ARG, "outside axis 1");
    EXPECT_ERR(nt_slice(ctx, &out_, x, 0, 0, 0), NT_ERR_ARG, "len >= 1");
    EXPECT_ERR(nt_slice(ctx, &out_, NULL, 0, 0, 1), NT_ERR_ARG, "nt_slice");
}

static void test_concat(void) {
    nt_tensor *y;
    nt_status st;
    nt_tensor *a = T(2, (int[]){2, 2}, (float[]){1, 2, 3, 4});
    nt_tensor *b = T(2, (int[]){1, 2}, (float[]){5, 6});
    nt_tensor *c = T(2, (int[]){2, 3}, (float[]){7, 8, 9, 10, 11, 12});
    st = nt_concat(ctx, &y, (nt_tensor *[]){a, b}, 2, 0);
    expect("concat axis 0", st, y, 2, (int[]){3, 2}, (float[]){1, 2, 3, 4, 5, 6}, 0);
    st = nt_concat(ctx, &y, (nt_tensor *[]){a, c, a}, 3, -1);
    expect("concat axis -1", st, y, 2, (int[]){2, 7},
           (float[]){1, 2, 7, 8, 9, 1, 2, 3, 4, 10, 11, 12, 3, 4}, 0);
    st = nt_concat(ctx, &y, (nt_tensor *[]){b}, 1, 1);
    expect("concat one", st, y, 2, (int[]){1, 2}, (float[]){5, 6}, 0);
    CHECK(st == NT_OK && y != b && y->data != b->data, "concat of one copies");
    /* six inputs (more than a node holds) along axis 1 of (1, k, 1) */
    nt_tensor *xs[6];
    float want[21];
    int w = 0;
    for (int i = 0; i < 6; i++) {
        float v[6];
        for (int k = 0; k <= i; k++) v[k] = want[w++] = (float)(10 * i + k);
        xs[i] = T(3, (int[]){1, i + 1, 1}, v);
    }
    st = nt_concat(ctx, &y, xs, 6, 1);
    expect("concat six", st, y, 3, (int[]){1, 21, 1}, want, 0);
    /* token ids */
    nt_tensor *i1, *i2;
    nt_tensor_from(ctx, &i1, NT_I32, 1, (int[]){2}, (int32_t[]){1, 9});
    nt_tensor_from(ctx, &i2, NT_I32, 1, (int[]){1}, (int32_t[]){2});
    st = nt_concat(ctx, &y, (nt_tensor *[]){i1, i2}, 2, 0);
    expect("concat I32", st, y, 1, (int[]){3}, (float[]){1, 9, 2}, 0);
    EXPECT_ERR(nt_concat(ctx, &out_, (nt_tensor *[]){a, c}, 2, 0), NT_ERR_SHAPE,
               "nt_concat: xs[1] 2x3 does not match xs[0] 2x2 outside axis 0");
    EXPECT_ERR(nt_concat(ctx, &out_, (nt_tensor *[]){a, i1}, 2, 0), NT_ERR_SHAPE,
               "nt_concat: xs[1] is I32, xs[0] is F32");
    nt_tensor *v3 = T(1, (int[]){3}, (float[]){1, 2, 3});
    EXPECT_ERR(nt_concat(ctx, &out_, (nt_tensor *[]){a, v3}, 2, 0), NT_ERR_SHAPE, "xs[1] 3 does not match");
    EXPECT_ERR(nt_concat(ctx, &out_, (nt_tensor *[]){a, b}, 2, 2), NT_ERR_ARG,
               "nt_concat: axis 2 out of range for xs[0] 2x2");
    EXPECT_ERR(nt_concat(ctx, &out_, (nt_tensor *[]){a, NULL}, 2, 0), NT_ERR_ARG, "nt_concat: xs[1] is NULL");
    EXPECT_ERR(nt_concat(ctx, &out_, (nt_tensor *[]){a}, 0, 0), NT_ERR_ARG, "nt_concat: n = 0");
    EXPECT_ERR(nt_concat(ctx, &out_, NULL, 1, 0), NT_ERR_ARG, "nt_concat");
}

/* ---- reductions and softmax -------------------------------------------------------- */

static void test_reduce(void) {
    nt_tensor *y;
    nt_status st;
    nt_tensor *x = T(2, (int[]){2, 3}, (float[]){1, 2, 3, 4, 5, 6});
    st = nt_sum(ctx, &y, x);
    expect("sum", st, y, 0, NULL, (float[]){21}, 0);
    st = nt_mean(ctx, &y, x);
    expect("mean", st, y, 0, NULL, (float[]){3.5f}, 0);
    st = nt_sum_axis(ctx, &y, x, 0);
    expect("sum_axis 0", st, y, 1, (int[]){3}, (float[]){5, 7, 9}, 0);
    st = nt_sum_axis(ctx, &y, x, -1);
    expect("sum_axis -1", st, y, 1, (int[]){2}, (float[]){6, 15}, 0);
    nt_tensor *x3 = T(3, (int[]){2, 3, 2}, (float[]){0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
    st = nt_sum_axis(ctx, &y, x3, 1);
    expect("sum_axis middle", st, y, 2, (int[]){2, 2}, (float[]){6, 9, 24, 27}, 0);
    nt_tensor *v = T(1, (int[]){4}, (float[]){1, 2, 3, 4});
    st = nt_sum_axis(ctx, &y, v, 0);
    expect("sum_axis of 1-D is a scalar", st, y, 0, NULL, (float[]){10}, 0);
    /* a long sum: accumulated in double, 1e-4 is not lost against 1e4 */
    enum { N = 100001 };
    static float big[N];
    big[0] = 1e4f;
    for (int i = 1; i < N; i++) big[i] = 1e-4f;
    st = nt_sum(ctx, &y, T(1, (int[]){N}, big));
    expect("sum in double", st, y, 0, NULL, (float[]){10010}, 1e-3);
    st = nt_mean(ctx, &y, T(1, (int[]){N}, big));
    expect("mean in double", st, y, 0, NULL, (float[]){(float)(10010.0 / N)}, 1e-7);
    EXPECT_ERR(nt_sum_axis(ctx, &out_, x, 2), NT_ERR_ARG, "nt_sum_axis: axis 2 out of range for x 2x3");
    EXPECT_ERR(nt_sum_axis(ctx, &out_, x, -3), NT_ERR_ARG, "axis -3 out of range");
    EXPECT_ERR(nt_sum(ctx, &out_, NULL), NT_ERR_ARG, "nt_sum");
    EXPECT_ERR(nt_mean(NULL, &out_, x), NT_ERR_ARG, "nt_mean");
}

static void test_softmax(void) {
    nt_tensor *y;
    nt_status st;
    /* rows 1 2 3 and 1 1 1 (PyTorch's values); then a row shifted by 1000 */
    nt_tensor *x = T(2, (int[]){3, 3}, (float[]){1, 2, 3, 1, 1, 1, 1001, 1002, 1003});
    st = nt_softmax(ctx, &y, x);
    expect("softmax", st, y, 2, (int[]){3, 3},
           (float[]){0.0900305733f, 0.244728476f, 0.665240943f, 1 / 3.f, 1 / 3.f, 1 / 3.f,
                     0.0900305733f, 0.244728476f, 0.665240943f},
           1e-7);
    st = nt_log_softmax(ctx, &y, x);
    expect("log_softmax", st, y, 2, (int[]){3, 3},
           (float[]){-2.40760589f, -1.40760589f, -0.407605946f, -1.09861231f, -1.09861231f,
                     -1.09861231f, -2.40760589f, -1.40760589f, -0.407605946f},
           1e-6);
    nt_tensor *one = T(2, (int[]){2, 1}, (float[]){-5, 7});
    st = nt_softmax(ctx, &y, one);
    expect("softmax width 1", st, y, 2, (int[]){2, 1}, (float[]){1, 1}, 0);
    EXPECT_ERR(nt_softmax(ctx, &out_, NULL), NT_ERR_ARG, "nt_softmax");
    CHECK(nt_log_softmax(ctx, NULL, x) == NT_ERR_ARG, "NULL out");
    CHECK(strstr(nt_errmsg(), "nt_log_softmax") != NULL, "msg: %s", nt_errmsg());
}

/* With grad mode off nothing is recorded even when inputs require grad. */
static void test_no_grad(void) {
    nt_tensor *x = T(2, (int[]){2, 3}, (float[]){1, 2, 3, 4, 5, 6}), *y;
    x->requires_grad = 1;
    CHECK(nt_gelu(ctx, &y, x) == NT_OK && y->node && y->requires_grad, "recorded in grad mode");
    int old = nt_ctx_set_grad(ctx, 0);
    nt_tensor *outs[6];
    nt_gelu(ctx, &outs[0], x);
    nt_add(ctx, &outs[1], x, x);
    nt_reshape(ctx, &outs[2], x, 1, (int[]){6});
    nt_concat(ctx, &outs[3], (nt_tensor *[]){x, x, x, x, x, x}, 6, 0);
    nt_softmax(ctx, &outs[4], x);
    nt_sum_axis(ctx, &outs[5], x, 0);
    for (int i = 0; i < 6; i++)
        CHECK(outs[i]->node == NULL && !outs[i]->requires_grad, "output %d recorded with grad off", i);
    nt_ctx_set_grad(ctx, old);
    /* token ids never record a node, even if flagged */
    nt_tensor *ids, *y2;
    nt_tensor_zeros(ctx, &ids, NT_I32, 2, (int[]){2, 3});
    ids->requires_grad = 1;
    CHECK(nt_slice(ctx, &y, ids, 1, 0, 2) == NT_OK && y->node == NULL && !y->requires_grad, "I32 slice");
    CHECK(nt_concat(ctx, &y2, (nt_tensor *[]){ids, ids}, 2, 0) == NT_OK && y2->node == NULL, "I32 concat");
    CHECK(nt_reshape(ctx, &y, ids, 1, (int[]){6}) == NT_OK && y->node == NULL, "I32 reshape");
    CHECK(nt_permute(ctx, &y, ids, (int[]){1, 0}) == NT_OK && y->node == NULL, "I32 permute");
}

int main(void) {
    if (nt_ctx_new(&ctx, 1 << 20) != NT_OK) return 1;
    test_binary();
    test_binary_errors();
    test_unary();
    test_dropout();
    test_reshape();
    test_permute();
    test_slice();
    test_concat();
    test_reduce();
    test_softmax();
    test_no_grad();
    nt_ctx_free(ctx);
    return nt_check_report("test_ops_basic");
}
