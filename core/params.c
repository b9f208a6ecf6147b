/* params.c - the parameter block: named parameters whose values, gradients and moments are each one contiguous array. */
#include <string.h>

#include "core/alloc.h"
#include "core/core_internal.h"

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
    if (nt_shape_check("nt_params_add", NT_F32, ndim, shape, &n) != NT_OK) {
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

/* *a and *b: P zeroed floats each, 64-byte aligned. On failure both stay
 * NULL and NT_ERR_NOMEM names `fn`. */
static nt_status alloc_pair(const nt_params *p, float **a, float **b, const char *fn) {
    size_t bytes = (size_t)(p->total ? p->total : 16) * sizeof(float);
    *a = nt_malloc_aligned(bytes);
    *b = nt_malloc_aligned(bytes);
    if (!*a || !*b) {
        nt_free_aligned(*a);
        nt_free_aligned(*b);
        *a = *b = NULL;
        return nt_error(NT_ERR_NOMEM, "%s: cannot allocate %zu bytes", fn, 2 * bytes);
    }
    memset(*a, 0, bytes);
    memset(*b, 0, bytes);
    return NT_OK;
}

nt_status nt_params_alloc(nt_params *p) {
    if (!p) return nt_error(NT_ERR_ARG, "nt_params_alloc: NULL");
    if (p->values) return NT_OK;
    NT_TRY(alloc_pair(p, &p->values, &p->grads, "nt_params_alloc"));
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
    return alloc_pair(p, &p->m, &p->v, "nt_params_alloc_moments");
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
