/* ctx.c - the context: an arena that owns every tensor of a step, its scratch buffer and the modes ops read. */
#include <string.h>

#include "core/alloc.h"
#include "core/core_internal.h"

static chunk *chunk_new(size_t size) {
    chunk *c = nt_malloc(sizeof *c);
    if (!c) return NULL;
    c->mem = nt_malloc_aligned(size);
    if (!c->mem) {
        nt_free(c);
        return NULL;
    }
    c->next = NULL;
    c->size = size;
    c->used = 0;
    return c;
}

nt_status nt_ctx_new(nt_ctx **out, size_t arena_bytes) {
    if (!out) return nt_error(NT_ERR_ARG, "nt_ctx_new: out is NULL");
    nt_ctx *c = nt_calloc(1, sizeof *c);
    if (!c) return nt_error(NT_ERR_NOMEM, "nt_ctx_new: out of memory");
    c->chunk_bytes = arena_bytes ? arena_bytes : ((size_t)64 << 20);
    c->first = c->cur = chunk_new(c->chunk_bytes);
    if (!c->first) {
        nt_free(c);
        return nt_error(NT_ERR_NOMEM, "nt_ctx_new: cannot allocate an arena of %zu bytes",
                        c->chunk_bytes);
    }
    c->grad_enabled = 1;
    c->training = 1;
    *out = c;
    return NT_OK;
}

void nt_ctx_free(nt_ctx *ctx) {
    if (!ctx) return;
    for (chunk *c = ctx->first, *n; c; c = n) {
        n = c->next;
        nt_free_aligned(c->mem);
        nt_free(c);
    }
    nt_free_aligned(ctx->scratch);
    nt_free(ctx);
}

void nt_ctx_reset(nt_ctx *ctx) {
    if (!ctx) return;
    for (chunk *c = ctx->first; c; c = c->next) c->used = 0;
    ctx->cur = ctx->first;
    ctx->used = 0;
    ctx->tape = NULL;
    ctx->free_grads = NULL;
    ctx->backward_done = 0;
}

int nt_ctx_set_grad(nt_ctx *ctx, int enabled) {
    int old = ctx->grad_enabled;
    ctx->grad_enabled = enabled != 0;
    return old;
}
int nt_ctx_grad_enabled(const nt_ctx *ctx) { return ctx->grad_enabled; }
void nt_ctx_set_training(nt_ctx *ctx, int training) { ctx->training = training != 0; }
int nt_ctx_training(const nt_ctx *ctx) { return ctx->training; }
nt_precision nt_ctx_set_precision(nt_ctx *ctx, nt_precision prec) {
    nt_precision old = ctx->precision;
    ctx->precision = prec == NT_PREC_BF16 ? NT_PREC_BF16 : NT_PREC_F32;
    return old;
}
nt_precision nt_ctx_precision(const nt_ctx *ctx) { return ctx->precision; }
void nt_ctx_set_rng(nt_ctx *ctx, nt_rng *rng) { ctx->rng = rng; }
nt_rng *nt_ctx_rng(nt_ctx *ctx) { return ctx->rng; }
size_t nt_ctx_used(const nt_ctx *ctx) { return ctx->used; }
size_t nt_ctx_peak(const nt_ctx *ctx) { return ctx->peak; }

void *nt_ctx_scratch(nt_ctx *ctx, size_t bytes) {
    if (bytes <= ctx->scratch_bytes) return ctx->scratch;
    void *m = nt_malloc_aligned(bytes);
    if (!m) {
        nt_error(NT_ERR_NOMEM, "nt_ctx_scratch: cannot allocate %zu bytes", bytes);
        return NULL;
    }
    nt_free_aligned(ctx->scratch);
    ctx->scratch = m;
    ctx->scratch_bytes = bytes;
    return m;
}

void *nt_ctx_alloc(nt_ctx *ctx, size_t bytes) {
    size_t need = (bytes + 63) & ~(size_t)63;
    if (need == 0) need = 64;
    chunk *c = ctx->cur;
    while (c && c->size - c->used < need) {
        if (!c->next) {
            size_t sz = need > ctx->chunk_bytes ? need : ctx->chunk_bytes;
            c->next = chunk_new(sz);
            if (!c->next) {
                nt_error(NT_ERR_NOMEM, "nt_ctx_alloc: arena cannot grow by %zu bytes", sz);
                return NULL;
            }
        }
        c = c->next;
    }
    ctx->cur = c;
    void *p = c->mem + c->used;
    c->used += need;
    ctx->used += need;
    if (ctx->used > ctx->peak) ctx->peak = ctx->used;
    return p;
}

