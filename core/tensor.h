/* tensor.h - tensors: shape, dtype, data and gradient in a context's arena.
 *
 * Including it brings the whole core: the context (core/ctx.h), autograd
 * (core/tape.h) and the parameter block (core/params.h).
 *
 * Dimension letters used in shape comments across nextok:
 *   B batch, T target/time, S source length, D model width, H heads,
 *   Dh = D / H head width, V vocabulary, N rows (B*T flattened), P parameters.
 *
 * A context owns an arena: every tensor an op returns lives there until
 * nt_ctx_reset(), which releases everything at once (no malloc in a steady
 * step loop once the arena has grown to its high-water mark). Autograd is
 * define-by-run: each op computes its result immediately and, when grad mode
 * is on and an input requires a gradient, records a node on the tape.
 *
 *     nt_ctx *ctx;  nt_ctx_new(&ctx, 0);
 *     nt_params *P; nt_params_new(&P);
 *     int iw = nt_params_add(P, "w", 2, (int[]){3, 4});   // index, or -1 on error
 *     nt_params_alloc(P);                                  // values/grads contiguous
 *     nt_tensor *w = nt_params_get(P, iw), *x, *y, *loss;
 *     nt_tensor_new(ctx, &x, NT_F32, 2, (int[]){5, 4});    // in the arena
 *     nt_linear(ctx, &y, x, w, NULL);                       // (5, 3)
 *     nt_sum(ctx, &loss, y);
 *     nt_backward(ctx, loss);          // w->grad += d loss / d w (once per tape)
 *     nt_ctx_reset(ctx);               // all activations gone, params stay
 *
 * Grad mode: nt_ctx_set_grad(ctx, 0) turns recording off (evaluation,
 * sampling): nothing is recorded and nothing saved.
 */
#ifndef NT_TENSOR_H
#define NT_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "core/ctx.h"

#define NT_MAX_DIMS 4

typedef enum nt_dtype { NT_F32 = 0, NT_I32 = 1 } nt_dtype;

typedef struct nt_node nt_node;
struct nt_params;

typedef struct nt_tensor {
    nt_dtype dtype;
    int ndim;                 /* 0 (scalar) .. NT_MAX_DIMS */
    int shape[NT_MAX_DIMS];   /* row-major, contiguous; unused dims are 1 */
    int64_t n;                /* number of elements */
    void *data;               /* float* (NT_F32) or int32_t* (NT_I32) */
    float *grad;              /* same shape as data (F32 only); NULL until needed */
    int requires_grad;        /* a gradient flows to this tensor */
    int is_param;             /* lives in an nt_params block (grad always allocated) */
    int grad_fresh;           /* grad allocated by nt_backward and not yet written: its
                                 contents are garbage until a write-first kernel stores
                                 into it (nt_grad_first) or it is zeroed */
    nt_node *node;            /* the tape node that produced it (NULL for leaves) */
    struct nt_params *owner;  /* the parameter block it lives in (NULL if not a parameter):
                                 bf16 products read its bf16 copy (core/bf16.h) */
} nt_tensor;

static inline float *nt_f32(const nt_tensor *t) { return (float *)t->data; }
static inline int32_t *nt_i32(const nt_tensor *t) { return (int32_t *)t->data; }

/* New tensor in ctx's arena, uninitialised. Dims must be >= 1 and ndim <= 4.
 * On error returns NT_ERR_ARG or NT_ERR_NOMEM and leaves *out untouched. */
nt_status nt_tensor_new(nt_ctx *ctx, nt_tensor **out, nt_dtype dt, int ndim, const int *shape);
/* Same, zero-filled. */
nt_status nt_tensor_zeros(nt_ctx *ctx, nt_tensor **out, nt_dtype dt, int ndim, const int *shape);
/* New tensor that copies `data` (n elements of dt). */
nt_status nt_tensor_from(nt_ctx *ctx, nt_tensor **out, nt_dtype dt, int ndim, const int *shape,
                         const void *data);
/* A tensor header over caller-owned memory (no copy; the caller keeps it alive). */
nt_status nt_tensor_wrap(nt_ctx *ctx, nt_tensor **out, nt_dtype dt, int ndim, const int *shape,
                         void *data);

/* Shape as text, "2x3x4", into buf (returns buf). */
const char *nt_shape_str(const nt_tensor *t, char *buf, size_t len);
int nt_shape_eq(const nt_tensor *a, const nt_tensor *b);

/* the rest of the core, for every tensor user */
#include "core/tape.h"
#include "core/params.h"

#endif
