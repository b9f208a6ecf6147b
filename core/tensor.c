/* tensor.c - tensors, the arena context, the autograd tape and the parameter block. */
#include "core/tensor.h"

#include <string.h>

#include "core/alloc.h"

/* ---- arena --------------------------------------------------------------------
 * A list of chunks kept across resets. Allocation bumps within the current
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
void nt_ctx_set_backward_hook(nt_ctx *ctx, nt_backward_hook fn, void *user) {
    ctx->hook = fn, ctx->hook_user = user;
}
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

/* ---- tensors ------------------------------------------------------------------ */

static size_t dtype_size(nt_dtype dt) { return dt == NT_I32 ? sizeof(int32_t) : sizeof(float); }

static nt_status check_shape(const char *fn, nt_dtype dt, int ndim, const int *shape, int64_t *n) {
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
    NT_TRY(check_shape(fn, dt, ndim, shape, &n));
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

/* ---- autograd ---------------------------------------------------------------------- */

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

nt_status nt_backward(nt_ctx *ctx, nt_tensor *loss) {
    if (!ctx || !loss) return nt_error(NT_ERR_ARG, "nt_backward: ctx or loss is NULL");
    if (loss->dtype != NT_F32 || loss->n != 1)
        return nt_error(NT_ERR_ARG, "nt_backward: loss must be one F32 element (got %lld elements)",
                        (long long)loss->n);
    static const float one = 1.0f;
    return nt_backward_seeded(ctx, loss, &one);
}

/* ---- parameter block -------------------------------------------------------------------- */

nt_status nt_params_new(nt_params **out) {
    if (!out) return nt_error(NT_ERR_ARG, "nt_params_new: out is NULL");
    nt_params *p = nt_calloc(1, sizeof *p);
    if (!p) return nt_error(NT_ERR_NOMEM, "nt_params_new: out of memory");
    *out = p;
    return NT_OK;
}

void nt_params_free(nt_params *p) {
    if (!p) return;
    for (int i = 0; i < p->count; i++) nt_free(p->names[i]);
    nt_free(p->names);
    nt_free(p->tensors);
    nt_free(p->offsets);
    nt_free(p->frozen);
    nt_free(p->flags);
    nt_free(p->slots);
    nt_free_aligned(p->values);
    nt_free_aligned(p->grads);
    nt_free_aligned(p->m);
    nt_free_aligned(p->v);
    nt_free_aligned(p->values_bf16);
    nt_free(p);
}

/* ---- name lookup: open addressing with linear probing over slots[] ---- */

static uint64_t name_hash(const char *s) {
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h ^ (h >> 29);
}

static void params_slot_put(nt_params *p, int i) {
    size_t mask = (size_t)p->slot_cap - 1, k = (size_t)name_hash(p->names[i]) & mask;
    while (p->slots[k]) k = (k + 1) & mask;
    p->slots[k] = i + 1;
}

/* Grows the table to `cap` slots (a power of two) and re-inserts every name. */
static nt_status params_rehash(nt_params *p, int cap) {
    int *slots = nt_calloc((size_t)cap, sizeof *slots);
    if (!slots) return nt_error(NT_ERR_NOMEM, "nt_params_add: out of memory");
    nt_free(p->slots);
    p->slots = slots, p->slot_cap = cap;
    for (int i = 0; i < p->count; i++) params_slot_put(p, i);
    return NT_OK;
}

int nt_params_add(nt_params *p, const char *name, int ndim, const int *shape) {
    return nt_params_declare(p, name, ndim, shape, NT_PARAM_DECAY);
}

int nt_params_declare(nt_params *p, const char *name, int ndim, const int *shape, unsigned flags) {
    if (!p || !name || !*name) {
        nt_error(NT_ERR_ARG, "nt_params_add: NULL params or empty name");
        return -1;
    }
    if (flags & ~(unsigned)(NT_PARAM_DECAY | NT_PARAM_FROZEN)) {
        nt_error(NT_ERR_ARG, "nt_params_declare: '%s': unknown flags 0x%x", name, flags);
        return -1;
    }
    if (p->values) {
        nt_error(NT_ERR_STATE, "nt_params_add: '%s' added after nt_params_alloc", name);
        return -1;
    }
    if (nt_params_find(p, name) >= 0) {
        nt_error(NT_ERR_ARG, "nt_params_add: duplicate parameter name '%s'", name);
        return -1;
    }
    if (2 * (p->count + 1) > p->slot_cap && params_rehash(p, p->slot_cap ? 2 * p->slot_cap : 128) != NT_OK)
        return -1;
    int64_t n;
    if (check_shape("nt_params_add", NT_F32, ndim, shape, &n) != NT_OK) {
        nt_error_wrap(NT_ERR_ARG, "parameter '%s'", name);
        return -1;
    }
    if (p->count == p->cap) {
        int cap = p->cap ? p->cap * 2 : 64;
        char **nm = nt_realloc(p->names, (size_t)cap * sizeof *nm);
        if (nm) p->names = nm;
        nt_tensor *ts = nt_realloc(p->tensors, (size_t)cap * sizeof *ts);
        if (ts) p->tensors = ts;
        int64_t *of = nt_realloc(p->offsets, (size_t)cap * sizeof *of);
        if (of) p->offsets = of;
        uint8_t *fl = nt_realloc(p->flags, (size_t)cap * sizeof *fl);
        if (fl) p->flags = fl;
        if (!nm || !ts || !of || !fl) {
            nt_error(NT_ERR_NOMEM, "nt_params_add: out of memory");
            return -1;
        }
        p->cap = cap;
    }
    size_t len = strlen(name);
    char *copy = nt_malloc(len + 1);
    if (!copy) {
        nt_error(NT_ERR_NOMEM, "nt_params_add: out of memory");
        return -1;
    }
    memcpy(copy, name, len + 1);
    int i = p->count++;
    p->names[i] = copy;
    p->flags[i] = (uint8_t)flags;
    params_slot_put(p, i);
    nt_tensor *t = &p->tensors[i];
    memset(t, 0, sizeof *t);
    t->dtype = NT_F32;
    t->ndim = ndim;
    for (int d = 0; d < NT_MAX_DIMS; d++) t->shape[d] = d < ndim ? shape[d] : 1;
    t->n = n;
    t->requires_grad = 1;
    t->is_param = 1;
    /* Each parameter starts on a 16-float (64-byte) boundary. */
    p->offsets[i] = p->total;
    p->total += (n + 15) / 16 * 16;
    return i;
}

nt_status nt_params_alloc(nt_params *p) {
    if (!p) return nt_error(NT_ERR_ARG, "nt_params_alloc: NULL");
    if (p->values) return NT_OK;
    size_t bytes = (size_t)(p->total ? p->total : 16) * sizeof(float);
    p->values = nt_malloc_aligned(bytes);
    p->grads = nt_malloc_aligned(bytes);
    if (!p->values || !p->grads) {
        nt_free_aligned(p->values);
        nt_free_aligned(p->grads);
        p->values = p->grads = NULL;
        return nt_error(NT_ERR_NOMEM, "nt_params_alloc: cannot allocate %zu bytes", 2 * bytes);
    }
    memset(p->values, 0, bytes);
    memset(p->grads, 0, bytes);
    for (int i = 0; i < p->count; i++) {
        p->tensors[i].data = p->values + p->offsets[i];
        p->tensors[i].grad = p->grads + p->offsets[i];
        p->tensors[i].owner = p;
    }
    nt_params_touch(p);
    return NT_OK;
}

nt_status nt_params_alloc_moments(nt_params *p) {
    if (!p || !p->values) return nt_error(NT_ERR_STATE, "nt_params_alloc_moments: block not allocated");
    if (p->m) return NT_OK;
    size_t bytes = (size_t)(p->total ? p->total : 16) * sizeof(float);
    p->m = nt_malloc_aligned(bytes);
    p->v = nt_malloc_aligned(bytes);
    if (!p->m || !p->v) {
        nt_free_aligned(p->m);
        nt_free_aligned(p->v);
        p->m = p->v = NULL;
        return nt_error(NT_ERR_NOMEM, "nt_params_alloc_moments: cannot allocate %zu bytes", 2 * bytes);
    }
    memset(p->m, 0, bytes);
    memset(p->v, 0, bytes);
    return NT_OK;
}

nt_tensor *nt_params_get(nt_params *p, int index) {
    if (!p || index < 0 || index >= p->count) return NULL;
    return &p->tensors[index];
}

int nt_params_find(const nt_params *p, const char *name) {
    if (!p || !name || !p->slot_cap) return -1;
    size_t mask = (size_t)p->slot_cap - 1, k = (size_t)name_hash(name) & mask;
    for (; p->slots[k]; k = (k + 1) & mask)
        if (strcmp(p->names[p->slots[k] - 1], name) == 0) return p->slots[k] - 1;
    return -1;
}

void nt_params_zero_grad(nt_params *p) {
    if (p && p->grads) memset(p->grads, 0, (size_t)p->total * sizeof(float));
}
