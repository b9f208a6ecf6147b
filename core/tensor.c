/* tensor.c - tensors in a context's arena: creation, wrapping, shape text. */
#include <string.h>

#include "core/core_internal.h"

static size_t dtype_size(nt_dtype dt) { return dt == NT_I32 ? sizeof(int32_t) : sizeof(float); }

nt_status nt_shape_check(const char *fn, nt_dtype dt, int ndim, const int *shape, int64_t *n) {
    if (dt != NT_F32 && dt != NT_I32) return nt_error(NT_ERR_ARG, "%s: unknown dtype %d", fn, (int)dt);
    if (ndim < 0 || ndim > NT_MAX_DIMS)
        return nt_error(NT_ERR_ARG, "%s: ndim %d outside 0..%d", fn, ndim, NT_MAX_DIMS);
    if (ndim > 0 && !shape) return nt_error(NT_ERR_ARG, "%s: shape is NULL", fn);
    int64_t total = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 1) return nt_error(NT_ERR_ARG, "%s: dim %d is %d (must be >= 1)", fn, i, shape[i]);
        total *= shape[i];
        if (total > ((int64_t)1 << 40)) return nt_error(NT_ERR_ARG, "%s: tensor too large", fn);
    }
    *n = total;
    return NT_OK;
}

static nt_status tensor_header(nt_ctx *ctx, nt_tensor **out, const char *fn, nt_dtype dt, int ndim,
                               const int *shape) {
    if (!ctx || !out) return nt_error(NT_ERR_ARG, "%s: ctx or out is NULL", fn);
    int64_t n;
    NT_TRY(nt_shape_check(fn, dt, ndim, shape, &n));
    nt_tensor *t = nt_ctx_alloc(ctx, sizeof *t);
    if (!t) return nt_error_wrap(NT_ERR_NOMEM, "%s", fn);
    memset(t, 0, sizeof *t);
    t->dtype = dt;
    t->ndim = ndim;
    for (int i = 0; i < NT_MAX_DIMS; i++) t->shape[i] = i < ndim ? shape[i] : 1;
    t->n = n;
    *out = t;
    return NT_OK;
}

nt_status nt_tensor_new(nt_ctx *ctx, nt_tensor **out, nt_dtype dt, int ndim, const int *shape) {
    nt_tensor *t = NULL;
    NT_TRY(tensor_header(ctx, &t, "nt_tensor_new", dt, ndim, shape));
    t->data = nt_ctx_alloc(ctx, (size_t)t->n * dtype_size(dt));
    if (!t->data) return nt_error_wrap(NT_ERR_NOMEM, "nt_tensor_new");
    *out = t;
    return NT_OK;
}

nt_status nt_tensor_zeros(nt_ctx *ctx, nt_tensor **out, nt_dtype dt, int ndim, const int *shape) {
    nt_tensor *t;
    NT_TRY(nt_tensor_new(ctx, &t, dt, ndim, shape));
    memset(t->data, 0, (size_t)t->n * dtype_size(dt));
    *out = t;
    return NT_OK;
}

nt_status nt_tensor_from(nt_ctx *ctx, nt_tensor **out, nt_dtype dt, int ndim, const int *shape,
                         const void *data) {
    if (!data) return nt_error(NT_ERR_ARG, "nt_tensor_from: data is NULL");
    nt_tensor *t;
    NT_TRY(nt_tensor_new(ctx, &t, dt, ndim, shape));
    memcpy(t->data, data, (size_t)t->n * dtype_size(dt));
    *out = t;
    return NT_OK;
}

nt_status nt_tensor_wrap(nt_ctx *ctx, nt_tensor **out, nt_dtype dt, int ndim, const int *shape,
                         void *data) {
    if (!data) return nt_error(NT_ERR_ARG, "nt_tensor_wrap: data is NULL");
    nt_tensor *t = NULL;
    NT_TRY(tensor_header(ctx, &t, "nt_tensor_wrap", dt, ndim, shape));
    t->data = data;
    *out = t;
    return NT_OK;
}

const char *nt_shape_str(const nt_tensor *t, char *buf, size_t len) {
    if (!t) {
        snprintf(buf, len, "null");
        return buf;
    }
    size_t k = 0;
    buf[0] = 0;
    if (t->ndim == 0) snprintf(buf, len, "scalar");
    for (int i = 0; i < t->ndim && k < len; i++)
        k += (size_t)snprintf(buf + k, len - k, i ? "x%d" : "%d", t->shape[i]);
    return buf;
}

int nt_shape_eq(const nt_tensor *a, const nt_tensor *b) {
    if (a->ndim != b->ndim) return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return 0;
    return 1;
}

