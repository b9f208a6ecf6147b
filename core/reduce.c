/* reduce.c - sum, mean (to a scalar) and sum over one axis.
 *
 * Dimension legend:
 *   n      elements of x
 *   A      extent of the reduced axis; outer (inner): product of the dims
 *          before (after) it, so sum_axis views x as (outer, A, inner)
 *   K      fixed chunks of a full reduction (at most MAX_CHUNKS)
 *
 * Sums accumulate in double in an order fixed by the shape alone: a full
 * reduction splits x into K contiguous chunks (K depends on n, not on the
 * thread count), sums each in order, then adds the K partials in order; a
 * sum over an axis sums each output element over A in order. Results are
 * therefore bitwise identical at any thread count.
 */
#include "core/mutate.h"
#include "core/ops.h"

#define PAR_MIN 32768    /* elements below which a loop stays serial */
#define CHUNK_ELEMS 8192 /* target chunk size of a full reduction */
#define MAX_CHUNKS 64

// sum of x (n) in double, in a fixed order
static double sum_all(const float *x, int64_t n) {
    int64_t K = (n + CHUNK_ELEMS - 1) / CHUNK_ELEMS;
    if (K > MAX_CHUNKS) K = MAX_CHUNKS;
    if (K < 1) K = 1;
    int64_t per = (n + K - 1) / K;
    double part[MAX_CHUNKS];
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
    for (int64_t c = 0; c < K; c++) {
        int64_t i1 = (c + 1) * per < n ? (c + 1) * per : n;
        double s = 0;
        for (int64_t i = c * per; i < i1; i++) s += x[i];
        part[c] = s;
    }
    double s = 0;
    for (int64_t c = 0; c < K; c++) s += part[c];
    return s;
}

/* What nt_sum and nt_mean keep on their node. */
typedef struct {
    float factor; /* 1 for sum, 1/n for mean */
} sum_args;

/* dinp (n) += dout * factor */
static void sum_backward(float *dinp, float dout, float factor, int64_t n) {
    float g = (float)((double)dout * factor);
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
    for (int64_t i = 0; i < n; i++) dinp[i] += g;
}

static void sum_backward_node(nt_ctx *ctx, nt_node *nd) {
    (void)ctx;
    nt_tensor *x = nd->in[0];
    if (!x->requires_grad) return;
    sum_backward(x->grad, nd->out->grad[0], NT_NODE_ARGS(nd, sum_args)->factor, x->n);
}

static nt_status reduce_all(const char *fn, nt_ctx *ctx, nt_tensor **out, nt_tensor *x, int mean) {
    if (!ctx || !out || !x) return nt_error(NT_ERR_ARG, "%s: ctx, out or x is NULL", fn);
    if (x->dtype != NT_F32) return nt_error(NT_ERR_SHAPE, "%s: x must be F32 (got I32)", fn);
    nt_tensor *y;
    nt_status st = nt_tensor_new(ctx, &y, NT_F32, 0, NULL);
    if (st) return nt_error_wrap(st, "%s", fn);
    double s = sum_all(nt_f32(x), x->n);
    nt_f32(y)[0] = (float)(mean ? s / (double)x->n : s);
    nt_node *nd = nt_tape_record(ctx, sum_backward_node, fn, y, 1, (nt_tensor *[]){x}, &st);
    if (st) return st;
    int64_t n = x->n - (mean && nt_mutation == NT_MUT_MEAN_N1 && x->n > 1); /* test-only (mutate.h) */
    if (nd) NT_NODE_ARGS(nd, sum_args)->factor = mean ? (float)(1.0 / (double)n) : 1.0f;
    *out = y;
    return NT_OK;
}

nt_status nt_sum(nt_ctx *ctx, nt_tensor **out, nt_tensor *x) {
    return reduce_all("nt_sum", ctx, out, x, 0);
}

nt_status nt_mean(nt_ctx *ctx, nt_tensor **out, nt_tensor *x) {
    return reduce_all("nt_mean", ctx, out, x, 1);
}

/* ---- sum over one axis ------------------------------------------------------------ */

static void axis_split(const nt_tensor *x, int axis, int64_t *outer, int64_t *A, int64_t *inner) {
    *outer = *inner = 1;
    for (int i = 0; i < axis; i++) *outer *= x->shape[i];
    for (int i = axis + 1; i < x->ndim; i++) *inner *= x->shape[i];
    *A = x->shape[axis];
}

/* What nt_sum_axis keeps on its node. */
typedef struct {
    int axis; /* the reduced axis, >= 0 */
} sum_axis_args;

/* dinp[o, a, j] (outer, A, inner) += dout[o, j] (outer, inner) */
static void sum_axis_backward(float *dinp, const float *dout, int64_t outer, int64_t A, int64_t inner) {
    int64_t rows = outer * A;
#pragma omp parallel for schedule(static) if (rows * inner > PAR_MIN)
    for (int64_t r = 0; r < rows; r++) {
        const float *g = dout + (r / A) * inner;
        float *d = dinp + r * inner;
        for (int64_t j = 0; j < inner; j++) d[j] += g[j];
    }
}

static void sum_axis_backward_node(nt_ctx *ctx, nt_node *nd) {
    (void)ctx;
    nt_tensor *x = nd->in[0];
    if (!x->requires_grad) return;
    int64_t outer, A, inner;
    axis_split(x, NT_NODE_ARGS(nd, sum_axis_args)->axis, &outer, &A, &inner);
    sum_axis_backward(x->grad, nd->out->grad, outer, A, inner);
}

/* out (outer, inner) = sum over a of inp (outer, A, inner); blocks of 64
 * output columns accumulate in double over a, in order. */
static void sum_axis_forward(float *out, const float *inp, int64_t outer, int64_t A, int64_t inner) {
    int64_t nblk = (inner + 63) / 64;
#pragma omp parallel for collapse(2) schedule(static) if (outer * A * inner > PAR_MIN)
    for (int64_t o = 0; o < outer; o++)
        for (int64_t blk = 0; blk < nblk; blk++) {
            int64_t j0 = blk * 64, j1 = j0 + 64 < inner ? j0 + 64 : inner;
            double acc[64] = {0};
            for (int64_t a = 0; a < A; a++) {
                const float *xr = inp + (o * A + a) * inner;
                for (int64_t j = j0; j < j1; j++) acc[j - j0] += xr[j];
            }
            for (int64_t j = j0; j < j1; j++) out[o * inner + j] = (float)acc[j - j0];
        }
}

nt_status nt_sum_axis(nt_ctx *ctx, nt_tensor **out, nt_tensor *x, int axis) {
    if (!ctx || !out || !x) return nt_error(NT_ERR_ARG, "nt_sum_axis: ctx, out or x is NULL");
    if (x->dtype != NT_F32) return nt_error(NT_ERR_SHAPE, "nt_sum_axis: x must be F32 (got I32)");
    int nd = x->ndim;
    if (axis < -nd || axis >= nd) {
        char sx[64];
        return nt_error(NT_ERR_ARG, "nt_sum_axis: axis %d out of range for x %s (%d dims)", axis,
                        nt_shape_str(x, sx, sizeof sx), nd);
    }
    if (axis < 0) axis += nd;
    int shape[NT_MAX_DIMS] = {1, 1, 1, 1};
    for (int i = 0, k = 0; i < nd; i++)
        if (i != axis) shape[k++] = x->shape[i];
    nt_tensor *y;
    nt_status st = nt_tensor_new(ctx, &y, NT_F32, nd - 1, shape);
    if (st) return nt_error_wrap(st, "nt_sum_axis");

    int64_t outer, A, inner;
    axis_split(x, axis, &outer, &A, &inner);
    sum_axis_forward(nt_f32(y), nt_f32(x), outer, A, inner);

    nt_node *node = nt_tape_record(ctx, sum_axis_backward_node, "nt_sum_axis", y, 1, (nt_tensor *[]){x}, &st);
    if (st) return st;
    if (node) NT_NODE_ARGS(node, sum_axis_args)->axis = axis;
    *out = y;
    return NT_OK;
}
