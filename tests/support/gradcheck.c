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

int gc_check(const char *name, gc_build_fn build, int n_in, nt_tensor **in, void *arg, double eps,
             double tol) {
    nt_ctx *work;
    if (nt_ctx_new(&work, 1 << 20) != NT_OK) {
        CHECK(0, "%s: no context", name);
        return 0;
    }
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
        CHECK(0, "%s: forward failed: %s", name, nt_errmsg());
        nt_ctx_free(work);
        return 0;
    }
    float *r = nt_ctx_alloc(work, (size_t)out->n * sizeof(float));
    for (int64_t i = 0; i < out->n; i++) r[i] = nt_rng_normal(&rng);
    st = nt_backward_seeded(work, out, r);
    if (st != NT_OK) {
        CHECK(0, "%s: backward failed: %s", name, nt_errmsg());
        nt_ctx_free(work);
        return 0;
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
    double worst = 0;
    int worst_in = -1;
    int64_t worst_i = -1;
    double worst_a = 0, worst_n = 0;
    for (int i = 0; i < n_in; i++) {
        if (!analytic[i]) continue;
        float *x = nt_f32(in[i]);
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
            double num = (lp - lm) / (2 * eps);
            double err = fabs(analytic[i][j] - num) / fmax(1.0, fabs(num));
            if (err > worst) {
                worst = err;
                worst_in = i;
                worst_i = j;
                worst_a = analytic[i][j];
                worst_n = num;
            }
        }
    }
    int ok = worst <= tol;
    printf("%-40s worst rel err %.3g %s\n", name, worst, ok ? "ok" : "FAIL");
    CHECK(ok, "%s: input %d element %lld: analytic %.6g numeric %.6g", name, worst_in,
          (long long)worst_i, worst_a, worst_n);
    nt_ctx_free(eval);
    nt_ctx_free(work);
    return ok;
}
