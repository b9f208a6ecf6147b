/* softmax.c - softmax and log-softmax over the last dim.
 *
 * Dimension legend:
 *   D  the last dim (the one normalised over); N = n / D rows
 *
 * Numerically stable: each row subtracts its max before exp, so no exp
 * overflows and the largest term is exactly 1. Rows are independent and
 * split statically across threads; within a row the reductions are
 * `omp simd` loops whose order depends on D only, so results are bitwise
 * identical at any thread count.
 *
 *   softmax:      y = exp(x - m) / s,       m = max x, s = sum exp(x - m)
 *                 dx = y * (dy - sum(dy * y))
 *   log-softmax:  y = (x - m) - log s
 *                 dx = dy - exp(y) * sum(dy)
 */
#include <math.h>

#include "core/mutate.h"
#include "core/ops.h"

#define PAR_MIN 16384 /* elements below which a loop stays serial (exp is costly) */

static inline float row_max(const float *x, int64_t D) {
    float m = x[0];
#pragma omp simd reduction(max : m)
    for (int64_t j = 1; j < D; j++) m = x[j] > m ? x[j] : m;
    return m;
}

// out (N, D) = softmax(inp) or log_softmax(inp) over D
static void softmax_forward(float *out, const float *inp, int64_t N, int64_t D, int log_form) {
#pragma omp parallel for schedule(static) if (N * D > PAR_MIN)
    for (int64_t r = 0; r < N; r++) {
        const float *xr = inp + r * D;
        float *yr = out + r * D;
        float m = row_max(xr, D);
        float s = 0;
        if (log_form) {
#pragma omp simd reduction(+ : s)
            for (int64_t j = 0; j < D; j++) s += expf(xr[j] - m);
            float ls = logf(s);
            for (int64_t j = 0; j < D; j++) yr[j] = (xr[j] - m) - ls;
        } else {
#pragma omp simd reduction(+ : s)
            for (int64_t j = 0; j < D; j++) {
                float e = expf(xr[j] - m);
                yr[j] = e;
                s += e;
            }
            float inv = 1.0f / s;
            for (int64_t j = 0; j < D; j++) yr[j] *= inv;
        }
    }
}

/* What softmax_apply keeps on its node (the output y is the node's own). */
typedef struct {
    int log_form; /* 1: log-softmax */
} softmax_args;

/* dinp (N, D) += the gradient through softmax (or log-softmax) given out =
 * y (N, D), the forward's output, and dout (N, D). */
static void softmax_backward(float *dinp, const float *dout, const float *out, int64_t N, int64_t D,
                             int log_form) {
    int mut = nt_mutation; /* test-only (mutate.h) */
    float keep = (log_form ? mut == NT_MUT_LOG_SOFTMAX : mut == NT_MUT_SOFTMAX) ? 0.0f : 1.0f;
#pragma omp parallel for schedule(static) if (N * D > PAR_MIN)
    for (int64_t r = 0; r < N; r++) {
        const float *yr = out + r * D, *g = dout + r * D;
        float *d = dinp + r * D;
        float s = 0;
        if (log_form) {
            // dx = dy - exp(y) * sum(dy): the direct term, the term through log s
#pragma omp simd reduction(+ : s)
            for (int64_t j = 0; j < D; j++) s += g[j];
            for (int64_t j = 0; j < D; j++) d[j] += g[j] - expf(yr[j]) * s * keep;
        } else {
            // dx = y * (dy - sum(dy * y)): the direct term, the term through s
#pragma omp simd reduction(+ : s)
            for (int64_t j = 0; j < D; j++) s += g[j] * yr[j];
            for (int64_t j = 0; j < D; j++) d[j] += yr[j] * (g[j] - s * keep);
        }
    }
}

static void softmax_backward_node(nt_ctx *ctx, nt_node *nd) {
    (void)ctx;
    nt_tensor *x = nd->in[0];
    if (!x->requires_grad) return;
    int64_t D = x->ndim ? x->shape[x->ndim - 1] : 1;
    softmax_backward(x->grad, nd->out->grad, nt_f32(nd->out), x->n / D, D,
                     NT_NODE_ARGS(nd, softmax_args)->log_form);
}

static nt_status softmax_apply(const char *fn, nt_ctx *ctx, nt_tensor **out, nt_tensor *x,
                               int log_form) {
    if (!ctx || !out || !x) return nt_error(NT_ERR_ARG, "%s: ctx, out or x is NULL", fn);
    if (x->dtype != NT_F32) return nt_error(NT_ERR_SHAPE, "%s: x must be F32 (got I32)", fn);
    nt_tensor *y;
    nt_status st = nt_tensor_new(ctx, &y, NT_F32, x->ndim, x->shape);
    if (st) return nt_error_wrap(st, "%s", fn);
    int64_t D = x->ndim ? x->shape[x->ndim - 1] : 1;
    softmax_forward(nt_f32(y), nt_f32(x), x->n / D, D, log_form);
    nt_node *nd = nt_tape_record(ctx, softmax_backward_node, fn, y, 1, (nt_tensor *[]){x}, &st);
    if (st) return st;
    if (nd) NT_NODE_ARGS(nd, softmax_args)->log_form = log_form;
    *out = y;
    return NT_OK;
}

nt_status nt_softmax(nt_ctx *ctx, nt_tensor **out, nt_tensor *x) {
    return softmax_apply("nt_softmax", ctx, out, x, 0);
}

nt_status nt_log_softmax(nt_ctx *ctx, nt_tensor **out, nt_tensor *x) {
    return softmax_apply("nt_log_softmax", ctx, out, x, 1);
}
