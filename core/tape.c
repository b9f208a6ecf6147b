/* tape.c - reverse-mode autograd: recording nodes, gradient buffers, the backward walk. */
#include <string.h>

#include "core/core_internal.h"

nt_node *nt_tape_record(nt_ctx *ctx, nt_backward_fn fn, const char *name, nt_tensor *out, int n_in,
                        nt_tensor *const *in, nt_status *st) {
    *st = NT_OK;
    if (!ctx->grad_enabled) return NULL;
    int any = 0;
    for (int i = 0; i < n_in; i++)
        if (in[i] && in[i]->requires_grad) any = 1;
    if (!any) return NULL;
    NT_ASSERT(n_in <= NT_NODE_MAX_IN);
    nt_node *nd = nt_ctx_alloc(ctx, sizeof *nd);
    if (!nd) {
        *st = nt_error_wrap(NT_ERR_NOMEM, "%s", name);
        return NULL;
    }
    memset(nd, 0, sizeof *nd);
    nd->backward = fn;
    nd->name = name;
    nd->out = out;
    for (int i = 0; i < n_in; i++) nd->in[i] = in[i];
    nd->prev = ctx->tape;
    ctx->tape = nd;
    out->requires_grad = 1;
    out->node = nd;
    return nd;
}

static size_t grad_bytes(const nt_tensor *t) {
    size_t b = ((size_t)t->n * sizeof(float) + 63) & ~(size_t)63;
    return b ? b : 64;
}

/* t's gradient buffer, taken from the free list or the arena on first use
 * and left uninitialised (grad_fresh = 1). NULL on arena exhaustion. */
static float *grad_alloc(nt_ctx *ctx, nt_tensor *t) {
    if (!t->grad) {
        size_t bytes = grad_bytes(t);
        for (struct free_grad **p = &ctx->free_grads; *p; p = &(*p)->next)
            if ((*p)->bytes == bytes) { /* reuse a released buffer of the same size */
                t->grad = (float *)*p;
                *p = (*p)->next;
                break;
            }
        if (!t->grad) t->grad = nt_ctx_alloc(ctx, bytes);
        if (t->grad) t->grad_fresh = 1;
    }
    return t->grad;
}

static void grad_settle(nt_tensor *t) {
    if (t->grad && t->grad_fresh) {
        memset(t->grad, 0, (size_t)t->n * sizeof(float));
        t->grad_fresh = 0;
    }
}

float *nt_grad_of(nt_ctx *ctx, nt_tensor *t) {
    if (!grad_alloc(ctx, t)) return NULL;
    grad_settle(t);
    return t->grad;
}

int nt_grad_first(nt_tensor *t) {
    int first = t->grad_fresh;
    t->grad_fresh = 0;
    return first;
}

/* After node nd's backward, nothing reads its output's gradient again (every
 * consumer of the output was recorded later and has run), so the buffer
 * goes to the free list for the next gradient of its size: the live
 * gradients of a backward pass are its frontier, not the whole tape.
 * Parameters, leaves and the tensor backward started from keep theirs. */
static void grad_release(nt_ctx *ctx, nt_tensor *t) {
    if (!t->grad || t->is_param) return;
    struct free_grad *f = (struct free_grad *)(void *)t->grad;
    f->bytes = grad_bytes(t);
    f->next = ctx->free_grads;
    ctx->free_grads = f;
    t->grad = NULL;
    t->grad_fresh = 0;
}

nt_status nt_backward_seeded(nt_ctx *ctx, nt_tensor *t, const float *dout) {
    if (!ctx || !t || !dout) return nt_error(NT_ERR_ARG, "nt_backward: ctx, tensor or seed is NULL");
    if (t->dtype != NT_F32) return nt_error(NT_ERR_ARG, "nt_backward: tensor is not F32");
    if (!t->requires_grad)
        return nt_error(NT_ERR_ARG, "nt_backward: tensor does not require grad (was grad mode off?)");
    /* A second walk would replay every node of the first (their outputs'
     * gradients are gone or already consumed) and add each parameter's
     * gradient again: PyTorch refuses the same way ("Trying to backward
     * through the graph a second time"). */
    if (ctx->backward_done)
        return nt_error(NT_ERR_STATE,
                        "nt_backward: this context's tape was already backpropagated; call nt_ctx_reset "
                        "and run the forward again before the next backward (a second pass would add "
                        "every gradient twice)");
    ctx->backward_done = 1;
    float *g = nt_grad_of(ctx, t);
    if (!g) return nt_error_wrap(NT_ERR_NOMEM, "nt_backward");
    for (int64_t i = 0; i < t->n; i++) g[i] += dout[i];
    /* Every input's grad must exist before its producer's backward runs, and
     * kernels accumulate into them; a node whose output got no gradient is
     * skipped (its output did not reach the loss). */
    for (nt_node *nd = ctx->tape; nd; nd = nd->prev) {
        if (!nd->out->grad) continue;
        for (int i = 0; i < NT_NODE_MAX_IN; i++) {
            nt_tensor *x = nd->in[i];
            if (x && x->requires_grad && x->dtype == NT_F32) {
                if (!grad_alloc(ctx, x))
                    return nt_error_wrap(NT_ERR_NOMEM, "nt_backward (%s)", nd->name);
                if (!nd->write_first) grad_settle(x);
            }
        }
        nd->backward(ctx, nd);
        /* a write-first kernel that did not write an input's gradient (an
         * early exit) leaves it fresh: it gets zeros */
        for (int i = 0; i < NT_NODE_MAX_IN; i++)
            if (nd->in[i]) grad_settle(nd->in[i]);
        if (nd->out != t) grad_release(ctx, nd->out);
        if (ctx->hook) ctx->hook(ctx->hook_user, nd);
    }
    return NT_OK;
}

void nt_ctx_set_backward_hook(nt_ctx *ctx, nt_backward_hook fn, void *user) {
    ctx->hook = fn, ctx->hook_user = user;
}

nt_status nt_backward(nt_ctx *ctx, nt_tensor *loss) {
    if (!ctx || !loss) return nt_error(NT_ERR_ARG, "nt_backward: ctx or loss is NULL");
    if (loss->dtype != NT_F32 || loss->n != 1)
        return nt_error(NT_ERR_ARG, "nt_backward: loss must be one F32 element (got %lld elements)",
                        (long long)loss->n);
    static const float one = 1.0f;
    return nt_backward_seeded(ctx, loss, &one);
}

