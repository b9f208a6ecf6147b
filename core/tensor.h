/* tensor.h - tensors, the context (arena + autograd tape) and the parameter block.
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

#include "core/rng.h"
#include "core/status.h"

#define NT_MAX_DIMS 4

typedef enum nt_dtype { NT_F32 = 0, NT_I32 = 1 } nt_dtype;

typedef struct nt_node nt_node;

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

/* ---- context: arena + tape ------------------------------------------------ */

typedef struct nt_ctx nt_ctx;

/* Creates a context whose arena starts with `arena_bytes` (0: 64 MiB) and
 * grows by chunks as needed. On error returns NT_ERR_NOMEM, *out = NULL. */
nt_status nt_ctx_new(nt_ctx **out, size_t arena_bytes);
void nt_ctx_free(nt_ctx *ctx); /* NULL is a no-op */

/* Releases every tensor, node and buffer allocated in the arena since the
 * last reset; keeps the arena's chunks for reuse (no free/malloc). */
void nt_ctx_reset(nt_ctx *ctx);

/* Grad mode (default on). Returns the previous mode. */
int nt_ctx_set_grad(nt_ctx *ctx, int enabled);
int nt_ctx_grad_enabled(const nt_ctx *ctx);

/* Training mode for dropout (default on); with it off dropout is identity. */
void nt_ctx_set_training(nt_ctx *ctx, int training);
int nt_ctx_training(const nt_ctx *ctx);

/* Precision of the matrix products (nt_linear, nt_gelu_linear, nt_matmul,
 * nt_attention and their backward), default NT_PREC_F32. With NT_PREC_BF16
 * every product reads its operands rounded to bf16 and accumulates in
 * float32 (core/gemm_bf16.h): forward and backward alike (dX = dY W and
 * dW = dY^T X too). Parameters are read from their block's bf16 copy,
 * converted once per update (nt_params_touch); activations and gradients
 * are rounded as the products pack them. Outputs, activations, gradients,
 * master weights and all other ops (layernorm, softmax, losses, the
 * optimizer) stay float32. Exceptions kept in float32: a linear on at most
 * 16 rows and single-query attention (the decoding step). A backward runs
 * in the precision its forward was recorded with. Returns the previous one. */
typedef enum nt_precision { NT_PREC_F32 = 0, NT_PREC_BF16 = 1 } nt_precision;
nt_precision nt_ctx_set_precision(nt_ctx *ctx, nt_precision prec);
nt_precision nt_ctx_precision(const nt_ctx *ctx);
/* "fp32" or "bf16" (the --precision flag values) into *prec; NT_ERR_ARG
 * naming the value otherwise (*prec untouched). */
nt_status nt_precision_parse(const char *s, nt_precision *prec);
const char *nt_precision_name(nt_precision prec);

/* The RNG that dropout draws from (not owned; NULL: dropout needs none). */
void nt_ctx_set_rng(nt_ctx *ctx, nt_rng *rng);
nt_rng *nt_ctx_rng(nt_ctx *ctx);

/* Bytes currently allocated in the arena, and the high-water mark. */
size_t nt_ctx_used(const nt_ctx *ctx);
size_t nt_ctx_peak(const nt_ctx *ctx);

/* Raw arena allocation, 64-byte aligned, uninitialised. NULL + NT_ERR_NOMEM
 * message on failure. Valid until the next nt_ctx_reset. */
void *nt_ctx_alloc(nt_ctx *ctx, size_t bytes);

/* A per-context scratch buffer outside the arena, 64-byte aligned and
 * uninitialised, for kernels that need a large temporary only while they run
 * (an op's forward and the same op's backward). It grows to the largest size
 * ever asked for and is reused after that, so only one such buffer is ever
 * resident. Valid until the next nt_ctx_scratch call or nt_ctx_free; its
 * contents do not survive another op. NULL + NT_ERR_NOMEM message on failure.
 * A backward kernel may rely on getting a size its forward already obtained. */
void *nt_ctx_scratch(nt_ctx *ctx, size_t bytes);

/* ---- tensors in the arena ------------------------------------------------ */

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

/* ---- autograd ---------------------------------------------------------- */

/* Backpropagates from `loss` (a tensor with one element; seeded with 1):
 * walks the tape in reverse and accumulates (+=) into every .grad that needs
 * it, parameters included. Intermediate grads live in the arena, and the
 * gradient of an op's output is released for reuse once its node's backward
 * has run (its .grad is NULL afterwards): only the gradients of leaves,
 * parameters and `loss` itself remain readable after the call.
 * One backward per tape: the call consumes the tape, and any further
 * nt_backward / nt_backward_seeded on this context fails with NT_ERR_STATE
 * (nothing is accumulated) until nt_ctx_reset; run the forward again to get
 * a new tape, or sum the losses and backpropagate once. (PyTorch refuses
 * the same way: "Trying to backward through the graph a second time".)
 * A failed call (NT_ERR_NOMEM mid-walk) consumes the tape too.
 * NT_ERR_ARG if loss is not a one-element F32 tensor that requires grad. */
nt_status nt_backward(nt_ctx *ctx, nt_tensor *loss);

/* Backpropagates from any F32 tensor `t`, seeding its gradient with `dout`
 * (t->n floats, added to t's grad). nt_backward(ctx, loss) is this with
 * dout = {1}. NT_ERR_ARG if t does not require grad or dout is NULL. */
nt_status nt_backward_seeded(nt_ctx *ctx, nt_tensor *t, const float *dout);

/* Called by nt_backward after each node's backward kernel (node = the node
 * just run): e.g. to start sending the parameter gradients that are final
 * (train/dist.h). NULL fn: none (the default). Kept until set again. */
typedef void (*nt_backward_hook)(void *user, const nt_node *node);
void nt_ctx_set_backward_hook(nt_ctx *ctx, nt_backward_hook fn, void *user);

/* The backward kernel of a node: accumulate into the inputs' grads. */
typedef void (*nt_backward_fn)(nt_ctx *ctx, nt_node *node);

#define NT_NODE_MAX_IN 4
#define NT_NODE_MAX_SAVED 4

/* A recorded operation. Ops fill what they need; backward kernels read it. */
struct nt_node {
    nt_backward_fn backward;
    const char *name;                   /* op name, for debugging */
    nt_tensor *out;
    nt_tensor *in[NT_NODE_MAX_IN];      /* NULL where unused */
    void *saved[NT_NODE_MAX_SAVED];     /* arena buffers kept for backward */
    int iarg[8];
    float farg[4];
    int write_first;                    /* backward calls nt_grad_first for every input
                                           grad it writes (see below); 0: the inputs'
                                           grads are zeroed before it runs */
    nt_node *prev;                      /* tape order (older node) */
};

/* Op-implementation API: records a node producing `out` from `n_in` inputs if
 * grad mode is on and any input requires grad (then out->requires_grad = 1).
 * Returns the node (caller fills saved/args) or NULL when nothing is recorded.
 * On arena exhaustion returns NULL and sets *st = NT_ERR_NOMEM. */
nt_node *nt_tape_record(nt_ctx *ctx, nt_backward_fn fn, const char *name, nt_tensor *out,
                        int n_in, nt_tensor *const *in, nt_status *st);

/* The gradient buffer of t, allocated zeroed in the arena on first use
 * (parameters already have theirs). NULL on arena exhaustion. */
float *nt_grad_of(nt_ctx *ctx, nt_tensor *t);

/* Write-first gradients. nt_backward allocates an input's gradient buffer
 * uninitialised (grad_fresh = 1) instead of zero-filling it, so that the
 * first contribution can be stored rather than added (sgemm with beta = 0, a
 * plain store in elementwise kernels): one pass over memory fewer per
 * gradient. A node opts in by setting write_first = 1 when it is recorded;
 * its backward then asks, right before writing an input's gradient:
 *
 *     float beta = nt_grad_first(x) ? 0.0f : 1.0f;   // store, or accumulate
 *
 * A 1 means every element must be stored (the buffer holds garbage) and
 * marks the gradient written, so a second contribution in the same kernel
 * (the same tensor given twice) accumulates. Nodes that do not opt in get
 * their fresh input gradients zeroed before their backward runs, and any
 * input gradient a write-first backward left fresh is zeroed after it. */
int nt_grad_first(nt_tensor *t);

/* ---- parameter block --------------------------------------------------- */

/* Named parameters with values, gradients and optimizer moments each in one
 * contiguous block (llm.c's layout), so an optimizer is one fused loop. */
typedef struct nt_params {
    int count;              /* number of parameters */
    int cap;
    char **names;           /* [count] owned strings */
    nt_tensor *tensors;     /* [count] data/grad point into the blocks */
    int64_t *offsets;       /* [count] element offset of each in the blocks */
    int64_t total;          /* P, total number of floats */
    float *values;          /* (P) */
    float *grads;           /* (P) */
    float *m, *v;           /* (P) optimizer moments; NULL until nt_params_alloc_moments */
    int frozen_any;
    uint8_t *frozen;        /* [count] 1 = no update (fine-tuning); NULL until set */
    uint8_t *flags;         /* [count] NT_PARAM_* as declared */
    int *slots;             /* [slot_cap] name hash table: index + 1, 0 = empty (nt_params_find) */
    int slot_cap;           /* a power of two >= 2 * count, or 0 */
    uint64_t version;       /* bumped whenever values change (nt_params_touch) */
    uint16_t *values_bf16;  /* (P) bf16 copy of values for bf16 products; NULL until used */
    uint64_t bf16_version;  /* the version values_bf16 was converted from */
} nt_params;

/* Flags a model gives each parameter when it declares it (nothing is
 * inferred from names). */
enum {
    NT_PARAM_DECAY = 1,  /* weight decay applies (AdamW's decoupled decay, SGD's L2) */
    NT_PARAM_FROZEN = 2, /* not trainable: the optimizer never updates it */
};

nt_status nt_params_new(nt_params **out);
void nt_params_free(nt_params *p);
/* Declares a parameter with its flags (NT_PARAM_*); returns its index, or -1
 * (message set) if the name is taken, empty, the shape invalid, the flags
 * unknown, or the block already allocated. */
int nt_params_declare(nt_params *p, const char *name, int ndim, const int *shape, unsigned flags);
/* nt_params_declare with NT_PARAM_DECAY (trainable and decayed, as PyTorch's
 * AdamW treats every parameter it is given). */
int nt_params_add(nt_params *p, const char *name, int ndim, const int *shape);
/* Allocates values and grads (zeroed) for everything declared. */
nt_status nt_params_alloc(nt_params *p);
/* Allocates m and v (zeroed); no-op if present. */
nt_status nt_params_alloc_moments(nt_params *p);
nt_tensor *nt_params_get(nt_params *p, int index);
/* Index of a name, or -1. A hash lookup: O(1), so declaring N parameters is O(N). */
int nt_params_find(const nt_params *p, const char *name);
/* Sets every gradient to zero. */
void nt_params_zero_grad(nt_params *p);
/* Marks the values as changed: the bf16 copy (core/bf16.h) is converted
 * again before its next use. nt_optim_step and the weight loaders call it;
 * code that writes values by hand after a bf16 product has run must too. */
void nt_params_touch(nt_params *p);

#endif
