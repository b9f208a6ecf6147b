/* test_grad_basic.c - gradient checks of the elementwise, shape, reduction and
 * softmax ops (a table of cases against central differences), dropout's
 * statistics, and bitwise determinism of masks and reductions across thread
 * counts. */
#include <omp.h>
#include <string.h>

#include "core/ops.h"
#include "support/check.h"
#include "support/gradcheck.h"

/* ---- builders: in[] are the case's leaf inputs, arg its int arguments ------------- */

#define ARGS(c) ((const int *)(c))
static nt_status b_add(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *a) { return nt_add(c, out, in[0], in[1]); }
static nt_status b_sub(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *a) { return nt_sub(c, out, in[0], in[1]); }
static nt_status b_mul(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *a) { return nt_mul(c, out, in[0], in[1]); }
static nt_status b_div(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *a) { return nt_div(c, out, in[0], in[1]); }
static nt_status b_square(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *a) { return nt_mul(c, out, in[0], in[0]); }
static nt_status b_scale(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *a) { return nt_scale(c, out, in[0], -1.7f); }
static nt_status b_relu(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *a) { return nt_relu(c, out, in[0]); }
static nt_status b_gelu(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *a) { return nt_gelu(c, out, in[0]); }
static nt_status b_sum(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *a) { return nt_sum(c, out, in[0]); }
static nt_status b_mean(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *a) { return nt_mean(c, out, in[0]); }
static nt_status b_softmax(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *a) { return nt_softmax(c, out, in[0]); }
static nt_status b_log_softmax(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *a) { return nt_log_softmax(c, out, in[0]); }

/* arg: p in percent */
static nt_status b_dropout(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *a) {
    return nt_dropout(c, out, in[0], (float)ARGS(a)[0] / 100.0f);
}
/* arg: ndim, dims... */
static nt_status b_reshape(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *a) {
    return nt_reshape(c, out, in[0], ARGS(a)[0], ARGS(a) + 1);
}
/* arg: perm */
static nt_status b_permute(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *a) {
    return nt_permute(c, out, in[0], ARGS(a));
}
/* arg: axis, start, len */
static nt_status b_slice(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *a) {
    return nt_slice(c, out, in[0], ARGS(a)[0], ARGS(a)[1], ARGS(a)[2]);
}
/* arg: n, axis */
static nt_status b_concat(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *a) {
    return nt_concat(c, out, in, ARGS(a)[0], ARGS(a)[1]);
}
/* arg: axis */
static nt_status b_sum_axis(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *a) {
    return nt_sum_axis(c, out, in[0], ARGS(a)[0]);
}
/* log_softmax(gelu(x * w + b)) through a reshape, a permute and a slice:
 * x (2, 3, 5), w (5), b (3, 5) -> (5, 2, 2) */
static nt_status b_chain(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *a) {
    nt_tensor *h;
    NT_TRY(nt_mul(c, &h, in[0], in[1]));
    NT_TRY(nt_add(c, &h, h, in[2]));
    NT_TRY(nt_gelu(c, &h, h));
    NT_TRY(nt_permute(c, &h, h, (int[]){2, 0, 1}));   // (5, 2, 3)
    NT_TRY(nt_slice(c, &h, h, -1, 1, 2));              // (5, 2, 2)
    NT_TRY(nt_reshape(c, &h, h, 2, (int[]){-1, 2}));   // (10, 2)
    NT_TRY(nt_log_softmax(c, &h, h));
    return nt_reshape(c, out, h, 3, (int[]){5, 2, 2});
}

/* ---- the table ------------------------------------------------------------------------ */

typedef struct shp {
    int ndim;
    int d[NT_MAX_DIMS];
} shp;

enum { PREP_NONE, PREP_AWAY }; /* PREP_AWAY: |x| >= 0.2 (relu's kink, div's pole) */

typedef struct gcase {
    const char *name;
    gc_build_fn build;
    int n_in;
    shp in[6];
    int arg[5];
    double eps, tol;
    int prep;
} gcase;

#define S0 {0, {0}}
#define S1(a) {1, {a}}
#define S2(a, b) {2, {a, b}}
#define S3(a, b, c) {3, {a, b, c}}
#define S4(a, b, c, d) {4, {a, b, c, d}}
#define EPS 1e-2
#define TOL 2.5e-4 /* relative to each gradient tensor's norm (support/gradcheck.h); worst seen 4e-5 */

static const gcase cases[] = {
    {"add 3x17 + 3x17", b_add, 2, {S2(3, 17), S2(3, 17)}, {0}, EPS, TOL, 0},
    {"add 2x3x17 + 17", b_add, 2, {S3(2, 3, 17), S1(17)}, {0}, EPS, TOL, 0},
    {"add 2x3x17 + 3x17", b_add, 2, {S3(2, 3, 17), S2(3, 17)}, {0}, EPS, TOL, 0},
    {"add 2x1x3x5 + 1", b_add, 2, {S4(2, 1, 3, 5), S1(1)}, {0}, EPS, TOL, 0},
    {"add 1 + 1", b_add, 2, {S1(1), S1(1)}, {0}, EPS, TOL, 0},
    {"add 3x17 + scalar", b_add, 2, {S2(3, 17), S0}, {0}, EPS, TOL, 0},
    {"sub 3x17 - 3x17", b_sub, 2, {S2(3, 17), S2(3, 17)}, {0}, EPS, TOL, 0},
    {"sub 2x3x17 - 17", b_sub, 2, {S3(2, 3, 17), S1(17)}, {0}, EPS, TOL, 0},
    {"sub 2x1x3x5 - 3x5", b_sub, 2, {S4(2, 1, 3, 5), S2(3, 5)}, {0}, EPS, TOL, 0},
    {"sub 3x17 - 1", b_sub, 2, {S2(3, 17), S1(1)}, {0}, EPS, TOL, 0},
    {"mul 3x17 * 3x17", b_mul, 2, {S2(3, 17), S2(3, 17)}, {0}, EPS, TOL, 0},
    {"mul 2x3x17 * 3x17", b_mul, 2, {S3(2, 3, 17), S2(3, 17)}, {0}, EPS, TOL, 0},
    {"mul 2x1x3x5 * 5", b_mul, 2, {S4(2, 1, 3, 5), S1(5)}, {0}, EPS, TOL, 0},
    {"mul 3x17 * 1", b_mul, 2, {S2(3, 17), S1(1)}, {0}, EPS, TOL, 0},
    {"mul x * x (same tensor) 3x17", b_square, 1, {S2(3, 17)}, {0}, EPS, TOL, 0},
    {"div 3x17 / 3x17", b_div, 2, {S2(3, 17), S2(3, 17)}, {0}, 1e-3, TOL, PREP_AWAY},
    {"div 2x3x17 / 17", b_div, 2, {S3(2, 3, 17), S1(17)}, {0}, 1e-3, TOL, PREP_AWAY},
    {"div 2x1x3x5 / 1x3x5", b_div, 2, {S4(2, 1, 3, 5), S3(1, 3, 5)}, {0}, 1e-3, TOL, PREP_AWAY},
    {"div 3x17 / 1", b_div, 2, {S2(3, 17), S1(1)}, {0}, 1e-3, TOL, PREP_AWAY},
    {"scale 1", b_scale, 1, {S1(1)}, {0}, EPS, TOL, 0},
    {"scale 2x3x17", b_scale, 1, {S3(2, 3, 17)}, {0}, EPS, TOL, 0},
    {"relu 3x17", b_relu, 1, {S2(3, 17)}, {0}, EPS, TOL, PREP_AWAY},
    {"relu 2x1x3x5", b_relu, 1, {S4(2, 1, 3, 5)}, {0}, EPS, TOL, PREP_AWAY},
    {"gelu 1", b_gelu, 1, {S1(1)}, {0}, EPS, TOL, 0},
    {"gelu 3x17", b_gelu, 1, {S2(3, 17)}, {0}, EPS, TOL, 0},
    {"gelu 2x1x3x5", b_gelu, 1, {S4(2, 1, 3, 5)}, {0}, EPS, TOL, 0},
    {"dropout p=0.3 3x17", b_dropout, 1, {S2(3, 17)}, {30}, EPS, TOL, 0},
    {"dropout p=0.5 2x3x17", b_dropout, 1, {S3(2, 3, 17)}, {50}, EPS, TOL, 0},
    {"dropout p=0 (identity) 3x17", b_dropout, 1, {S2(3, 17)}, {0}, EPS, TOL, 0},
    {"reshape 2x3x17 -> 6x-1", b_reshape, 1, {S3(2, 3, 17)}, {2, 6, -1}, EPS, TOL, 0},
    {"reshape 2x1x3x5 -> 3x10", b_reshape, 1, {S4(2, 1, 3, 5)}, {2, 3, 10}, EPS, TOL, 0},
    {"reshape 1 -> scalar", b_reshape, 1, {S1(1)}, {0}, EPS, TOL, 0},
    {"permute 3x17 (1,0)", b_permute, 1, {S2(3, 17)}, {1, 0}, EPS, TOL, 0},
    {"permute 2x3x17 (2,0,1)", b_permute, 1, {S3(2, 3, 17)}, {2, 0, 1}, EPS, TOL, 0},
    {"permute 2x1x3x5 (0,2,1,3)", b_permute, 1, {S4(2, 1, 3, 5)}, {0, 2, 1, 3}, EPS, TOL, 0},
    {"permute 2x1x3x5 (3,2,0,1)", b_permute, 1, {S4(2, 1, 3, 5)}, {3, 2, 0, 1}, EPS, TOL, 0},
    {"slice 3x17 axis 1 [2, 15)", b_slice, 1, {S2(3, 17)}, {1, 2, 13}, EPS, TOL, 0},
    {"slice 2x3x17 axis 0 [1, 2)", b_slice, 1, {S3(2, 3, 17)}, {0, 1, 1}, EPS, TOL, 0},
    {"slice 2x1x3x5 axis -2 [1, 3)", b_slice, 1, {S4(2, 1, 3, 5)}, {-2, 1, 2}, EPS, TOL, 0},
    {"slice 1 axis 0 [0, 1)", b_slice, 1, {S1(1)}, {0, 0, 1}, EPS, TOL, 0},
    {"concat 3x17, 3x4 axis 1", b_concat, 2, {S2(3, 17), S2(3, 4)}, {2, 1}, EPS, TOL, 0},
    {"concat 2x3x17, 1x3x17, 2x3x17 axis 0", b_concat, 3, {S3(2, 3, 17), S3(1, 3, 17), S3(2, 3, 17)},
     {3, 0}, EPS, TOL, 0},
    {"concat 6 of 2x1x3xk axis -1", b_concat, 6,
     {S4(2, 1, 3, 1), S4(2, 1, 3, 3), S4(2, 1, 3, 2), S4(2, 1, 3, 5), S4(2, 1, 3, 1), S4(2, 1, 3, 4)},
     {6, -1}, EPS, TOL, 0},
    {"sum 1", b_sum, 1, {S1(1)}, {0}, EPS, TOL, 0},
    {"sum 2x3x17", b_sum, 1, {S3(2, 3, 17)}, {0}, EPS, TOL, 0},
    {"mean 3x17", b_mean, 1, {S2(3, 17)}, {0}, EPS, TOL, 0},
    {"mean 2x1x3x5", b_mean, 1, {S4(2, 1, 3, 5)}, {0}, EPS, TOL, 0},
    {"sum_axis 17 axis 0", b_sum_axis, 1, {S1(17)}, {0}, EPS, TOL, 0},
    {"sum_axis 3x17 axis 0", b_sum_axis, 1, {S2(3, 17)}, {0}, EPS, TOL, 0},
    {"sum_axis 2x3x17 axis 1", b_sum_axis, 1, {S3(2, 3, 17)}, {1}, EPS, TOL, 0},
    {"sum_axis 2x1x3x5 axis -1", b_sum_axis, 1, {S4(2, 1, 3, 5)}, {-1}, EPS, TOL, 0},
    {"softmax 1", b_softmax, 1, {S1(1)}, {0}, EPS, TOL, 0},
    {"softmax 3x17", b_softmax, 1, {S2(3, 17)}, {0}, EPS, TOL, 0},
    {"softmax 2x3x17", b_softmax, 1, {S3(2, 3, 17)}, {0}, EPS, TOL, 0},
    {"softmax 2x1x3x5", b_softmax, 1, {S4(2, 1, 3, 5)}, {0}, EPS, TOL, 0},
    {"log_softmax 1", b_log_softmax, 1, {S1(1)}, {0}, EPS, TOL, 0},
    {"log_softmax 3x17", b_log_softmax, 1, {S2(3, 17)}, {0}, EPS, TOL, 0},
    {"log_softmax 2x3x17", b_log_softmax, 1, {S3(2, 3, 17)}, {0}, EPS, TOL, 0},
    {"log_softmax 2x1x3x5", b_log_softmax, 1, {S4(2, 1, 3, 5)}, {0}, EPS, TOL, 0},
    {"chain mul add gelu permute slice log_softmax", b_chain, 3, {S3(2, 3, 5), S1(5), S2(3, 5)}, {0},
     EPS, TOL, 0},
};

static void run_table(void) {
    nt_ctx *leaf;
    if (nt_ctx_new(&leaf, 1 << 20) != NT_OK) {
        CHECK(0, "no context");
        return;
    }
    nt_rng rng;
    nt_rng_seed(&rng, 2024);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const gcase *c = &cases[k];
        nt_tensor *in[6];
        for (int i = 0; i < c->n_in; i++) {
            in[i] = gc_input(leaf, NT_F32, c->in[i].ndim, c->in[i].d, 1, &rng);
            if (c->prep == PREP_AWAY)
                for (int64_t j = 0; j < in[i]->n; j++) {
                    float *v = &nt_f32(in[i])[j];
                    *v = *v < 0 ? *v - 0.2f : *v + 0.2f;
                }
        }
        gc_check(c->name, c->build, c->n_in, in, (void *)c->arg, c->eps, c->tol);
        nt_ctx_reset(leaf);
    }
    nt_ctx_free(leaf);
}

/* ---- dropout statistics --------------------------------------------------------------- */

static void test_dropout_stats(void) {
    enum { N = 200000 };
    nt_ctx *ctx;
    nt_ctx_new(&ctx, 0);
    nt_rng rng;
    nt_rng_seed(&rng, 11);
    nt_ctx_set_rng(ctx, &rng);
    nt_tensor *x, *y;
    nt_tensor_new(ctx, &x, NT_F32, 1, (int[]){N});
    for (int i = 0; i < N; i++) nt_f32(x)[i] = 1.0f + (float)(i % 7);
    const float ps[] = {0.1f, 0.25f, 0.5f, 0.9f};
    for (int k = 0; k < 4; k++) {
        float p = ps[k], scale = 1.0f / (1.0f - p);
        CHECK(nt_dropout(ctx, &y, x, p) == NT_OK, "dropout p=%g: %s", p, nt_errmsg());
        int64_t kept = 0, bad = 0;
        for (int i = 0; i < N; i++) {
            float v = nt_f32(y)[i];
            if (v != 0.0f) {
                kept++;
                bad += v != nt_f32(x)[i] * scale;
            }
        }
        /* binomial: sd of the kept fraction is sqrt(p(1-p)/N) <= 0.0012; allow 5 sd */
        double frac = (double)kept / N;
        CHECK(fabs(frac - (1.0 - p)) < 0.006, "p=%g: kept fraction %.4f, expected %.4f", p, frac, 1.0 - p);
        CHECK(bad == 0, "p=%g: %lld kept values not scaled by 1/(1-p)", p, (long long)bad);
    }
    nt_ctx_free(ctx);
}

/* ---- determinism across thread counts ----------------------------------------------------- */

/* Runs dropout forward and backward plus the broadcasting and reduction kernels
 * on tensors big enough to take their parallel paths; returns the outputs and
 * gradients concatenated in `res` (its length in *len). */
typedef struct big_run {
    float *res;
    int64_t len;
} big_run;

static void append(big_run *r, const float *v, int64_t n) {
    memcpy(r->res + r->len, v, (size_t)n * sizeof(float));
    r->len += n;
}

/* (rows, cols) + b (cols) and sum; the b gradient reduces over rows */
static const int big_shapes[][2] = {{300, 200}, {40, 2000}, {100000, 1}, {3, 17}};

static void big_pass(big_run *r, int threads) {
    omp_set_num_threads(threads);
    nt_ctx *ctx;
    nt_ctx_new(&ctx, 0);
    nt_rng rng, init;
    nt_rng_seed(&rng, 77);
    nt_rng_seed(&init, 78);
    nt_ctx_set_rng(ctx, &rng);
    r->len = 0;
    /* dropout: mask and gradient */
    nt_tensor *x = gc_input(ctx, NT_F32, 2, (int[]){250, 400}, 1, &init), *y, *loss;
    nt_dropout(ctx, &y, x, 0.4f);
    append(r, nt_f32(y), y->n);
    nt_sum(ctx, &loss, y);
    CHECK(nt_backward(ctx, loss) == NT_OK, "dropout backward: %s", nt_errmsg());
    append(r, x->grad, x->n);
    nt_ctx_reset(ctx); /* one backward per tape */
    /* broadcasting products and their reductions into b */
    for (int k = 0; k < 4; k++) {
        int R = big_shapes[k][0], C = big_shapes[k][1];
        nt_tensor *a = gc_input(ctx, NT_F32, 2, (int[]){R, C}, 1, &init);
        nt_tensor *b = gc_input(ctx, NT_F32, 1, (int[]){C}, 1, &init);
        nt_tensor *w = gc_input(ctx, NT_F32, 2, (int[]){R, C}, 0, &init);
        nt_tensor *h;
        nt_mul(ctx, &h, a, b);
        nt_sub(ctx, &h, h, b);
        nt_mul(ctx, &h, h, w);      // weights so that every element's gradient differs
        nt_sum(ctx, &loss, h);
        append(r, nt_f32(loss), 1);
        CHECK(nt_backward(ctx, loss) == NT_OK, "product backward: %s", nt_errmsg());
        append(r, b->grad, b->n);
        append(r, a->grad, a->n);
        /* reference for b's gradient: sum_r w (a - 1), serially in double */
        double worst = 0;
        for (int j = 0; j < C; j++) {
            double s = 0;
            for (int i = 0; i < R; i++) s += (double)nt_f32(w)[i * C + j] * (nt_f32(a)[i * C + j] - 1.0);
            double err = fabs(b->grad[j] - s) / fmax(1.0, fabs(s));
            if (err > worst) worst = err;
        }
        CHECK(worst < 1e-5, "b grad of %dx%d vs double reference: rel err %g", R, C, worst);
        nt_ctx_reset(ctx);
    }
    /* sum over an axis, softmax, log-softmax */
    nt_tensor *z = gc_input(ctx, NT_F32, 3, (int[]){20, 50, 64}, 1, &init), *s;
    nt_sum_axis(ctx, &s, z, 1);
    append(r, nt_f32(s), s->n);
    nt_softmax(ctx, &s, z);
    append(r, nt_f32(s), s->n);
    nt_log_softmax(ctx, &s, z);
    append(r, nt_f32(s), s->n);
    nt_mean(ctx, &loss, s);
    CHECK(nt_backward(ctx, loss) == NT_OK, "log-softmax backward: %s", nt_errmsg());
    append(r, z->grad, z->n);
    nt_ctx_free(ctx);
}

static void test_determinism(void) {
    int64_t cap = (int64_t)1 << 21; // floats; the pass appends about 1.1M
    big_run one = {malloc((size_t)cap * sizeof(float)), 0};
    big_run two = {malloc((size_t)cap * sizeof(float)), 0};
    int saved = omp_get_max_threads();
    big_pass(&one, 1);
    big_pass(&two, 2);
    omp_set_num_threads(saved);
    CHECK(one.len == two.len && one.len <= cap, "lengths %lld %lld", (long long)one.len, (long long)two.len);
    int64_t diff = 0;
    for (int64_t i = 0; i < one.len && i < two.len; i++)
        diff += memcmp(&one.res[i], &two.res[i], sizeof(float)) != 0;
    CHECK(diff == 0, "%lld of %lld values differ between 1 and 2 threads", (long long)diff,
          (long long)one.len);
    printf("determinism: %lld values bitwise equal at 1 and 2 threads\n", (long long)one.len);
    free(one.res);
    free(two.res);
}

int main(void) {
    run_table();
    test_dropout_stats();
    test_determinism();
    return nt_check_report("test_grad_basic");
}
