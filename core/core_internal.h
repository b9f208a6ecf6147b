/* core_internal.h - internal to core/ (not installed): the context's layout,
 * shared by ctx.c (arena, modes) and tape.c (the tape and its gradient
 * buffers), the shape check shared by tensor.c and params.c, and the
 * store-or-accumulate helper of write-first backward kernels. */
#ifndef NT_CORE_INTERNAL_H
#define NT_CORE_INTERNAL_H

#include "core/tensor.h"

/* The arena: a list of chunks kept across resets. Allocation bumps within the current
 * chunk and moves on to the next kept chunk (or a new one) when it is full; a
 * step that allocates the same sizes in the same order therefore reuses the
 * same chunks and makes no heap allocation after its first run. */
typedef struct chunk {
    struct chunk *next;
    size_t size, used;
    unsigned char *mem;
} chunk;

/* A gradient buffer that nt_backward no longer needs, kept for reuse by the
 * next gradient of the same size (the header lives in the buffer itself). */
struct free_grad {
    struct free_grad *next;
    size_t bytes;
};

/* The context (core/ctx.h): the arena, the tape, the modes. */
struct nt_ctx {
    chunk *first, *cur;
    size_t chunk_bytes;
    size_t used, peak;     /* bytes handed out since reset; high-water mark */
    nt_node *tape;         /* newest node */
    struct free_grad *free_grads; /* gradient buffers released during nt_backward */
    int backward_done;     /* nt_backward has consumed the tape (until nt_ctx_reset) */
    int grad_enabled, training;
    nt_precision precision;
    nt_rng *rng;
    nt_backward_hook hook; /* nt_ctx_set_backward_hook */
    void *hook_user;
    void *scratch;         /* nt_ctx_scratch: outside the arena, grown on demand */
    size_t scratch_bytes;
};

/* d (len) = g (len) when acc is 0 (a fresh write-first gradient: stored),
 * d += g when acc is 1: one loop body for both (the compiler unswitches on
 * acc, so each variant runs as its own vector loop). */
static inline void nt_grad_put(float *restrict d, const float *restrict g, int64_t len, int acc) {
    for (int64_t i = 0; i < len; i++) d[i] = acc ? d[i] + g[i] : g[i];
}

/* Checks a dtype and shape for `fn`'s messages; *n = element count.
 * NT_ERR_ARG naming the bad dim otherwise (*n untouched). */
nt_status nt_shape_check(const char *fn, nt_dtype dt, int ndim, const int *shape, int64_t *n);

#endif
