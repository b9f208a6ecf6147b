/* tape.h - reverse-mode autograd: the tape of recorded nodes and nt_backward.
 *
 * Define-by-run: each op computes its result immediately and, when grad mode
 * is on (core/ctx.h) and an input requires a gradient, records a node on the
 * context's tape; nt_backward walks the tape newest first. The second half
 * of this header is the op-implementation API (what core/ op files use to
 * record a node and write gradients).
 */
#ifndef NT_TAPE_H
#define NT_TAPE_H

#include "core/ctx.h"
#include "core/tensor.h"

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
#define NT_NODE_ARGS_BYTES 48

/* A recorded operation. Ops fill what they need; backward kernels read it. */
struct nt_node {
    nt_backward_fn backward;
    const char *name;                   /* op name, for debugging */
    nt_tensor *out;
    nt_tensor *in[NT_NODE_MAX_IN];      /* NULL where unused */
    /* the op's own payload: a struct its file defines (saved buffers with
     * their shapes, dims, flags), read through NT_NODE_ARGS; zeroed when
     * the node is recorded */
    _Alignas(8) unsigned char args[NT_NODE_ARGS_BYTES];
    int write_first;                    /* backward calls nt_grad_first for every input
                                           grad it writes (see below); 0: the inputs'
                                           grads are zeroed before it runs */
    nt_node *prev;                      /* tape order (older node) */
};

/* Op-implementation API: records a node producing `out` from `n_in` inputs if
 * grad mode is on and any input requires grad (then out->requires_grad = 1).
 * Returns the node (the caller fills its payload, NT_NODE_ARGS) or NULL when
 * nothing is recorded.
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

/* Node nd's payload as a `type *`, the op's own struct:
 *
 *     typedef struct { float *mean, *rstd; int N, D; } layernorm_args;
 *     layernorm_args *a = NT_NODE_ARGS(nd, layernorm_args);
 *
 * A type larger than NT_NODE_ARGS_BYTES or aligned beyond 8 bytes does not
 * compile (negative array size). */
#define NT_NODE_ARGS(nd, type)                                                 \
    ((type *)(void *)((nd)->args +                                             \
                      0 * sizeof(char[sizeof(type) <= NT_NODE_ARGS_BYTES &&    \
                                              _Alignof(type) <= 8 ? 1 : -1])))

#endif
