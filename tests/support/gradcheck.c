/* gradcheck.c - central-difference gradient checks (see gradcheck.h). */
#include "support/gradcheck.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "support/check.h"

nt_tensor *gc_input(nt_ctx *ctx, nt_dtype dt, int ndim, const int *shape, int requires_grad,
                    nt_rng *rng) {
    nt_tensor *t;
    if (nt_tensor_zeros(ctx, &t, dt, ndim, shape) != NT_OK) return NULL;
    if (dt == NT_F32)
        for (int64_t i = 0; i < t->n; i++) nt_f32(t)[i] = nt_rng_normal(rng);
    t->requires_grad = requires_grad && dt == NT_F32;
    return t;
}

static double weighted_sum(const nt_tensor *out, const float *r) {
    double s = 0;
    for (int64_t i = 0; i < out->n; i++) s += (double)nt_f32(out)[i] * r[i];
    return s;
}

double gc_error(const char *name, gc_build_fn build, int n_in, nt_tensor **in, void *arg, double eps,
                int verbose) {
    nt_ctx *work;
    if (n_in > 8 || nt_ctx_new(&work, 1 << 20) != NT_OK) return INFINITY;
    nt_rng rng;
    nt_rng_seed(&rng, 1234);
    for (int i = 0; i < n_in; i++) in[i]->grad = NULL;
    /* dropout draws must repeat: every evaluation reseeds the same stream */
    nt_rng drop;
    nt_rng_seed(&drop, 99);
    nt_ctx_set_rng(work, &drop);
    nt_tensor *out;
    nt_status st = build(work, in, &out, arg);
    if (st != NT_OK) {
        if (verbose) printf("%-40s forward failed: %s\n", name, nt_errmsg());
        nt_ctx_free(work);
        return INFINITY;
    }
    float *r = nt_ctx_alloc(work, (size_t)out->n * sizeof(float));
    for (int64_t i = 0; i < out->n; i++) r[i] = nt_rng_normal(&rng);
    st = nt_backward_seeded(work, out, r);
    if (st != NT_OK) {
        if (verbose) printf("%-40s backward failed: %s\n", name, nt_errmsg());
        nt_ctx_free(work);
        return INFINITY;
    }
    /* Keep the analytic gradients before the work arena is reused. */
    float *analytic[8] = {0};
    for (int i = 0; i < n_in; i++) {
        if (!in[i]->requires_grad) continue;
        analytic[i] = nt_ctx_alloc(work, (size_t)in[i]->n * sizeof(float));
        if (in[i]->grad) memcpy(analytic[i], in[i]->grad, (size_t)in[i]->n * sizeof(float));
        else memset(analytic[i], 0, (size_t)in[i]->n * sizeof(float));
        in[i]->grad = NULL;
    }
    nt_ctx *eval;
    nt_ctx_new(&eval, 1 << 20);
    nt_ctx_set_grad(eval, 0);
    nt_ctx_set_rng(eval, &drop);
    double worst = 0, worst_diff = 0, worst_norm = 0;
    int worst_in = -1;
    for (int i = 0; i < n_in; i++) {
        if (!analytic[i]) continue;
        float *x = nt_f32(in[i]);
        double d2 = 0, n2 = 0; /* ||a - n||^2, ||n||^2 */
        for (int64_t j = 0; j < in[i]->n; j++) {
            float keep = x[j];
            x[j] = (float)(keep + eps);
            nt_rng_seed(&drop, 99);
            nt_tensor *o;
            build(eval, in, &o, arg);
            double lp = weighted_sum(o, r);
            nt_ctx_reset(eval);
            x[j] = (float)(keep - eps);
            nt_rng_seed(&drop, 99);
            build(eval, in, &o, arg);
            double lm = weighted_sum(o, r);
            nt_ctx_reset(eval);
            x[j] = keep;
            /* the step actually taken: keep +- eps rounded to float */
            double num = (lp - lm) / ((double)(float)(keep + eps) - (double)(float)(keep - eps));
            double d = (double)analytic[i][j] - num;
            d2 += d * d, n2 += num * num;
        }
        double err = sqrt(d2) / fmax(sqrt(n2), GC_FLOOR);
        if (err > worst || worst_in < 0) worst = err, worst_in = i, worst_diff = sqrt(d2), worst_norm = sqrt(n2);
    }
    if (verbose)
        printf("%-44s worst tensor: input %d, |a-n| %.3g / |n| %.3g = %.3g\n", name, worst_in, worst_diff,
               worst_norm, worst);
    nt_ctx_free(eval);
    nt_ctx_free(work);
    return worst;
}

int gc_check(const char *name, gc_build_fn build, int n_in, nt_tensor **in, void *arg, double eps,
             double tol) {
    double err = gc_error(name, build, n_in, in, arg, eps, 1);
    int ok = err <= tol;
    CHECK(ok, "%s: relative gradient error %.3g > tolerance %.3g", name, err, tol);
    return ok;
}
