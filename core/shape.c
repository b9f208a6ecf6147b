/* shape.c - reshape (a view), permute, slice and concat (copies).
 *
 * Dimension legend:
 *   n      elements of x
 *   outer  product of the dims before `axis`, inner: product of those after
 *   L      extent along `axis` (len for a slice, L_i per concat input,
 *          Ltot = sum L_i for the concat output)
 *   a slice or concat views x as (outer, L, inner).
 *
 * These ops move elements without arithmetic, so they accept F32 and I32
 * (token ids get sliced and concatenated too); only F32 ones get gradients.
 * Both dtypes are 4 bytes wide, so the copies move uint32_t words; I32 inputs
 * record no tape node even if flagged requires_grad. Backward
 * kernels write disjoint elements of dx from each thread: deterministic.
 */
#include <string.h>

#include "core/ops.h"

#define PAR_MIN 32768 /* elements below which a loop stays serial */

_Static_assert(sizeof(float) == sizeof(int32_t), "F32 and I32 are both 4-byte words");

static const char *dtype_name(nt_dtype dt) { return dt == NT_F32 ? "F32" : "I32"; }

/* Wraps an allocation failure with the op's name. */
static nt_status new_tensor(const char *fn, nt_ctx *ctx, nt_tensor **y, nt_dtype dt, int ndim,
                            const int *shape) {
    nt_status st = nt_tensor_new(ctx, y, dt, ndim, shape);
    return st ? nt_error_wrap(st, "%s", fn) : NT_OK;
}

/* ---- reshape ----------------------------------------------------------------- */

/* node: in[0] = x; out shares x's data but has its own gradient. */
static void reshape_backward(nt_ctx *ctx, nt_node *nd) {
    (void)ctx;
    nt_tensor *X = nd->in[0];
    if (!X->requires_grad || !X->grad) return;
    const float *dy = nd->out->grad;
    float *dx = X->grad;
    int64_t n = X->n;
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
    for (int64_t i = 0; i < n; i++) dx[i] += dy[i];
}

nt_status nt_reshape(nt_ctx *ctx, nt_tensor **out, nt_tensor *x, int ndim, const int *shape) {
    if (!ctx || !out || !x) return nt_error(NT_ERR_ARG, "nt_reshape: ctx, out or x is NULL");
    if (ndim < 0 || ndim > NT_MAX_DIMS)
        return nt_error(NT_ERR_ARG, "nt_reshape: ndim %d outside 0..%d", ndim, NT_MAX_DIMS);
    if (ndim > 0 && !shape) return nt_error(NT_ERR_ARG, "nt_reshape: shape is NULL");
    char sx[64];
    int dims[NT_MAX_DIMS];
    int infer = -1;
    int64_t known = 1;
    for (int i = 0; i < ndim; i++) {
        dims[i] = shape[i];
        if (shape[i] == -1 && infer < 0) {
            infer = i;
        } else if (shape[i] < 1) {
            return nt_error(NT_ERR_ARG,
                            "nt_reshape: dim %d is %d (dims must be >= 1, one may be -1; x: %s)", i,
                            shape[i], nt_shape_str(x, sx, sizeof sx));
        } else {
            known *= shape[i];
        }
    }
    if (infer >= 0) {
        if (known == 0 || x->n % known != 0 || x->n / known > 0x7fffffff)
            return nt_error(NT_ERR_SHAPE, "nt_reshape: cannot infer dim %d: %lld elements of x (%s) "
                            "are not a multiple of %lld",
                            infer, (long long)x->n, nt_shape_str(x, sx, sizeof sx), (long long)known);
        dims[infer] = (int)(x->n / known);
        known *= dims[infer];
    }
    if (known != x->n) {
        char buf[64] = "";
        size_t k = 0;
        for (int i = 0; i < ndim; i++)
            k += (size_t)snprintf(buf + k, sizeof buf - k, i ? "x%d" : "%d", shape[i]);
        if (ndim == 0) snprintf(buf, sizeof buf, "scalar");
        return nt_error(NT_ERR_SHAPE,
                        "nt_reshape: element count differs (x: %s, %lld elements; shape: %s, %lld)",
                        nt_shape_str(x, sx, sizeof sx), (long long)x->n, buf, (long long)known);
    }
    nt_tensor *y;
    nt_status st = nt_tensor_wrap(ctx, &y, x->dtype, ndim, dims, x->data);
    if (st) return nt_error_wrap(st, "nt_reshape");
    if (x->dtype == NT_F32)
        nt_tape_record(ctx, reshape_backward, "nt_reshape", y, 1, (nt_tensor *[]){x}, &st);
    if (st) return st;
    *out = y;
    return NT_OK;
}

/* ---- permute ------------------------------------------------------------------ */

/* The loop nest of a permute, padded to 4 dims at the front:
 * output element (o0, o1, o2, o3), row-major in os, reads input offset
 * sum_k o_k * st[k]. */
typedef struct perm_plan {
    int64_t os[NT_MAX_DIMS]; /* output shape */
    int64_t st[NT_MAX_DIMS]; /* input stride of each output dim */
} perm_plan;

static perm_plan perm_plan_make(const nt_tensor *x, const int *perm) {
    int nd = x->ndim, pad = NT_MAX_DIMS - nd;
    int64_t xstride[NT_MAX_DIMS];
    int64_t s = 1;
    for (int i = nd - 1; i >= 0; i--) {
        xstride[i] = s;
        s *= x->shape[i];
    }
    perm_plan p;
    for (int k = 0; k < NT_MAX_DIMS; k++) {
        if (k < pad) {
            p.os[k] = 1;
            p.st[k] = 0;
        } else {
            p.os[k] = x->shape[perm[k - pad]];
            p.st[k] = xstride[perm[k - pad]];
        }
    }
    return p;
}

// y (os) = x permuted (gather), or dx += dy permuted back (scatter) when
// backward: each output element maps to a distinct input element.
static void permute_kernel(uint32_t *y, const uint32_t *x, float *dx, const float *dy,
                           const perm_plan *p, int64_t n) {
    const int64_t *os = p->os, *st = p->st;
#pragma omp parallel for collapse(2) schedule(static) if (n > PAR_MIN)
    for (int64_t o0 = 0; o0 < os[0]; o0++)
        for (int64_t o1 = 0; o1 < os[1]; o1++)
            for (int64_t o2 = 0; o2 < os[2]; o2++) {
                int64_t yi = ((o0 * os[1] + o1) * os[2] + o2) * os[3];
                int64_t xi = o0 * st[0] + o1 * st[1] + o2 * st[2];
                if (dx) {
                    for (int64_t o3 = 0; o3 < os[3]; o3++) dx[xi + o3 * st[3]] += dy[yi + o3];
                } else {
                    for (int64_t o3 = 0; o3 < os[3]; o3++) y[yi + o3] = x[xi + o3 * st[3]];
                }
            }
}

/* What nt_permute keeps on its node. */
typedef struct {
    int perm[NT_MAX_DIMS]; /* out.shape[i] = x.shape[perm[i]] */
} permute_args;

/* node: in[0] = x. dx += dy permuted back. */
static void permute_backward_node(nt_ctx *ctx, nt_node *nd) {
    (void)ctx;
    nt_tensor *x = nd->in[0];
    if (!x->requires_grad || !x->grad) return;
    perm_plan p = perm_plan_make(x, NT_NODE_ARGS(nd, permute_args)->perm);
    permute_kernel(NULL, NULL, x->grad, nd->out->grad, &p, x->n);
}

nt_status nt_permute(nt_ctx *ctx, nt_tensor **out, nt_tensor *x, const int *perm) {
    if (!ctx || !out || !x) return nt_error(NT_ERR_ARG, "nt_permute: ctx, out or x is NULL");
    int nd = x->ndim;
    char sx[64];
    if (nd > 0 && !perm) return nt_error(NT_ERR_ARG, "nt_permute: perm is NULL");
    int seen = 0;
    for (int i = 0; i < nd; i++) {
        if (perm[i] < 0 || perm[i] >= nd || (seen >> perm[i] & 1)) {
            char buf[64] = "";
            size_t k = 0;
            for (int j = 0; j < nd; j++)
                k += (size_t)snprintf(buf + k, sizeof buf - k, j ? ", %d" : "%d", perm[j]);
            return nt_error(NT_ERR_ARG, "nt_permute: perm (%s) is not a permutation of 0..%d (x: %s)",
                            buf, nd - 1, nt_shape_str(x, sx, sizeof sx));
        }
        seen |= 1 << perm[i];
    }
    int shape[NT_MAX_DIMS];
    for (int i = 0; i < nd; i++) shape[i] = x->shape[perm[i]];
    nt_tensor *y;
    NT_TRY(new_tensor("nt_permute", ctx, &y, x->dtype, nd, shape));
    perm_plan p = perm_plan_make(x, perm);
    permute_kernel(y->data, x->data, NULL, NULL, &p, x->n);
    nt_status st = NT_OK;
    nt_node *node = x->dtype != NT_F32 ? NULL
                  : nt_tape_record(ctx, permute_backward_node, "nt_permute", y, 1, (nt_tensor *[]){x}, &st);
    if (st) return st;
    if (node)
        for (int i = 0; i < nd; i++) NT_NODE_ARGS(node, permute_args)->perm[i] = perm[i];
    *out = y;
    return NT_OK;
}

/* ---- slice and concat: x viewed as (outer, L, inner) ----------------------------- */

static void axis_split(const nt_tensor *x, int axis, int64_t *outer, int64_t *inner) {
    *outer = *inner = 1;
    for (int i = 0; i < axis; i++) *outer *= x->shape[i];
    for (int i = axis + 1; i < x->ndim; i++) *inner *= x->shape[i];
}

/* What nt_slice keeps on its node. */
typedef struct {
    int axis, start, len; /* the slice [start, start + len) along axis (>= 0) */
} slice_args;

/* dx (outer, L, inner)[:, start:start+len, :] += dy (outer, len, inner) */
static void slice_backward(float *dx, const float *dy, int64_t outer, int64_t L, int64_t inner, int start,
                           int len) {
    int64_t row = len * inner; // elements of one outer row of the output
#pragma omp parallel for schedule(static) if (outer * L * inner > PAR_MIN)
    for (int64_t o = 0; o < outer; o++) {
        float *d = dx + (o * L + start) * inner;
        const float *g = dy + o * row;
        for (int64_t k = 0; k < row; k++) d[k] += g[k];
    }
}

static void slice_backward_node(nt_ctx *ctx, nt_node *nd) {
    (void)ctx;
    nt_tensor *x = nd->in[0];
    if (!x->requires_grad || !x->grad) return;
    const slice_args *a = NT_NODE_ARGS(nd, slice_args);
    int64_t outer, inner;
    axis_split(x, a->axis, &outer, &inner);
    slice_backward(x->grad, nd->out->grad, outer, x->shape[a->axis], inner, a->start, a->len);
}

nt_status nt_slice(nt_ctx *ctx, nt_tensor **out, nt_tensor *x, int axis, int start, int len) {
    if (!ctx || !out || !x) return nt_error(NT_ERR_ARG, "nt_slice: ctx, out or x is NULL");
    char sx[64];
    int nd = x->ndim;
    if (axis < -nd || axis >= nd)
        return nt_error(NT_ERR_ARG, "nt_slice: axis %d out of range for x %s (%d dims)", axis,
                        nt_shape_str(x, sx, sizeof sx), nd);
    if (axis < 0) axis += nd;
    int dim = x->shape[axis];
    if (start < 0 || len < 1 || start > dim - len)
        return nt_error(NT_ERR_ARG,
                        "nt_slice: range [%d, %d + %d) outside axis %d of x %s (extent %d, len >= 1)",
                        start, start, len, axis, nt_shape_str(x, sx, sizeof sx), dim);
    int shape[NT_MAX_DIMS];
    for (int i = 0; i < nd; i++) shape[i] = x->shape[i];
    shape[axis] = len;
    nt_tensor *y;
    NT_TRY(new_tensor("nt_slice", ctx, &y, x->dtype, nd, shape));
    int64_t outer, inner;
    axis_split(x, axis, &outer, &inner);
    int64_t row = (int64_t)len * inner;
    const uint32_t *xs = x->data;
    uint32_t *ys = y->data;
    if (y->n > PAR_MIN && outer > 1) {
#pragma omp parallel for schedule(static)
        for (int64_t o = 0; o < outer; o++)
            memcpy(ys + o * row, xs + (o * dim + start) * inner, (size_t)row * sizeof *ys);
    } else { /* no parallel region for small slices (decoding) */
        for (int64_t o = 0; o < outer; o++)
            memcpy(ys + o * row, xs + (o * dim + start) * inner, (size_t)row * sizeof *ys);
    }
    nt_status st = NT_OK;
    nt_node *node = x->dtype != NT_F32 ? NULL
                  : nt_tape_record(ctx, slice_backward_node, "nt_slice", y, 1, (nt_tensor *[]){x}, &st);
    if (st) return st;
    if (node) {
        *NT_NODE_ARGS(node, slice_args) = (slice_args){axis, start, len};
    }
    *out = y;
    return NT_OK;
}

/* What nt_concat keeps on its node. */
typedef struct {
    int axis; /* >= 0 */
    int n;    /* inputs, <= NT_NODE_MAX_IN */
} concat_args;

/* dx (outer, L, inner) += dy (outer, Ltot, inner)[:, off:off+L, :] */
static void concat_backward(float *dx, const float *dy, int64_t outer, int64_t Ltot, int64_t off, int64_t L,
                            int64_t inner) {
    int64_t row = L * inner;
#pragma omp parallel for schedule(static) if (outer * row > PAR_MIN)
    for (int64_t o = 0; o < outer; o++) {
        const float *g = dy + (o * Ltot + off) * inner;
        float *d = dx + o * row;
        for (int64_t k = 0; k < row; k++) d[k] += g[k];
    }
}

/* node: in[0..n) = xs (outer, L_i, inner), out (outer, Ltot, inner). */
static void concat_backward_node(nt_ctx *ctx, nt_node *nd) {
    (void)ctx;
    const concat_args *a = NT_NODE_ARGS(nd, concat_args);
    nt_tensor *y = nd->out;
    int64_t outer, inner, Ltot = y->shape[a->axis];
    axis_split(y, a->axis, &outer, &inner);
    int64_t off = 0; // offset along axis of input i within the output
    for (int i = 0; i < a->n; i++) {
        nt_tensor *x = nd->in[i];
        int64_t L = x->shape[a->axis];
        if (x->requires_grad && x->grad) concat_backward(x->grad, y->grad, outer, Ltot, off, L, inner);
        off += L;
    }
}

/* Joins validated inputs; records a node only when n <= NT_NODE_MAX_IN. */
static nt_status concat_impl(nt_ctx *ctx, nt_tensor **out, nt_tensor *const *xs, int n, int axis) {
    int shape[NT_MAX_DIMS];
    nt_tensor *x0 = xs[0];
    for (int i = 0; i < x0->ndim; i++) shape[i] = x0->shape[i];
    int64_t Ltot = 0;
    for (int i = 0; i < n; i++) Ltot += xs[i]->shape[axis];
    shape[axis] = (int)Ltot;
    nt_tensor *y;
    NT_TRY(new_tensor("nt_concat", ctx, &y, x0->dtype, x0->ndim, shape));
    int64_t outer, inner;
    axis_split(y, axis, &outer, &inner);
    uint32_t *ys = y->data;
#pragma omp parallel for schedule(static) if (y->n > PAR_MIN && outer > 1)
    for (int64_t o = 0; o < outer; o++) {
        int64_t off = 0;
        for (int i = 0; i < n; i++) {
            int64_t row = (int64_t)xs[i]->shape[axis] * inner;
            memcpy(ys + (o * Ltot + off) * inner, (const uint32_t *)xs[i]->data + o * row,
                   (size_t)row * sizeof *ys);
            off += xs[i]->shape[axis];
        }
    }
    if (n <= NT_NODE_MAX_IN && x0->dtype == NT_F32) {
        nt_status st;
        nt_node *node = nt_tape_record(ctx, concat_backward_node, "nt_concat", y, n, xs, &st);
        if (st) return st;
        if (node) {
            *NT_NODE_ARGS(node, concat_args) = (concat_args){axis, n};
        }
    }
    *out = y;
    return NT_OK;
}

nt_status nt_concat(nt_ctx *ctx, nt_tensor **out, nt_tensor *const *xs, int n, int axis) {
    if (!ctx || !out || !xs) return nt_error(NT_ERR_ARG, "nt_concat: ctx, out or xs is NULL");
    if (n < 1) return nt_error(NT_ERR_ARG, "nt_concat: n = %d (need at least one tensor)", n);
    for (int i = 0; i < n; i++)
        if (!xs[i]) return nt_error(NT_ERR_ARG, "nt_concat: xs[%d] is NULL", i);
    nt_tensor *x0 = xs[0];
    int nd = x0->ndim;
    char s0[64], si[64];
    if (nd == 0) return nt_error(NT_ERR_SHAPE, "nt_concat: xs[0] is a scalar (need >= 1 dim)");
    if (axis < -nd || axis >= nd)
        return nt_error(NT_ERR_ARG, "nt_concat: axis %d out of range for xs[0] %s (%d dims)", axis,
                        nt_shape_str(x0, s0, sizeof s0), nd);
    if (axis < 0) axis += nd;
    int any_grad = 0;
    int64_t Ltot = 0;
    for (int i = 0; i < n; i++) {
        nt_tensor *x = xs[i];
        if (x->dtype != x0->dtype)
            return nt_error(NT_ERR_SHAPE, "nt_concat: xs[%d] is %s, xs[0] is %s", i,
                            dtype_name(x->dtype), dtype_name(x0->dtype));
        int ok = x->ndim == nd;
        for (int d = 0; ok && d < nd; d++)
            if (d != axis && x->shape[d] != x0->shape[d]) ok = 0;
        if (!ok)
            return nt_error(NT_ERR_SHAPE,
                            "nt_concat: xs[%d] %s does not match xs[0] %s outside axis %d", i,
                            nt_shape_str(x, si, sizeof si), nt_shape_str(x0, s0, sizeof s0), axis);
        any_grad |= x->requires_grad && x->dtype == NT_F32;
        Ltot += x->shape[axis];
    }
    if (Ltot > 0x7fffffff)
        return nt_error(NT_ERR_ARG, "nt_concat: joined extent %lld along axis %d too large",
                        (long long)Ltot, axis);
    if (n <= NT_NODE_MAX_IN || !(nt_ctx_grad_enabled(ctx) && any_grad))
        return concat_impl(ctx, out, xs, n, axis);
    /* A node holds NT_NODE_MAX_IN inputs: join groups of that many, then the
     * groups, so every join is a node of its own (a tree of depth log4 n). */
    nt_tensor **cur = nt_ctx_alloc(ctx, (size_t)n * sizeof *cur);
    if (!cur) return nt_error_wrap(NT_ERR_NOMEM, "nt_concat");
    for (int i = 0; i < n; i++) cur[i] = xs[i];
    int m = n;
    while (m > NT_NODE_MAX_IN) {
        int groups = 0;
        for (int g = 0; g < m; g += NT_NODE_MAX_IN) {
            int k = m - g < NT_NODE_MAX_IN ? m - g : NT_NODE_MAX_IN;
            if (k == 1) cur[groups] = cur[g];
            else NT_TRY(concat_impl(ctx, &cur[groups], cur + g, k, axis));
            groups++;
        }
        m = groups;
    }
    return concat_impl(ctx, out, cur, m, axis);
}
