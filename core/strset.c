/* strset.c - a set of byte strings in insertion order, hashed. */
#include "core/strset.h"

#include <stdint.h>
#include <string.h>

#include "core/alloc.h"

static uint64_t hash_bytes(const char *s, size_t len) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a, 64 bits */
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

/* The slot holding s[0..len), or the empty slot where it would go. */
static size_t find_slot(const nt_strset *set, const char *s, size_t len) {
    size_t k = (size_t)hash_bytes(s, len) & (set->cap - 1);
    for (;; k = (k + 1) & (set->cap - 1)) {
        int at = set->slots[k];
        if (!at) return k;
        const char *item = set->items[at - 1];
        if (strncmp(item, s, len) == 0 && item[len] == 0) return k;
    }
}

/* A table of twice the slots (16 at first), every item placed again. */
static int grow(nt_strset *set) {
    size_t cap = set->cap ? 2 * set->cap : 16;
    int *slots = nt_calloc(cap, sizeof *slots);
    if (!slots) return 0;
    nt_strset g = {set->items, set->n, slots, cap, set->items_cap};
    for (int i = 0; i < set->n; i++) slots[find_slot(&g, set->items[i], strlen(set->items[i]))] = i + 1;
    nt_free(set->slots);
    set->slots = slots, set->cap = cap;
    return 1;
}

int nt_strset_add(nt_strset *set, const char *s, size_t len) {
    if (((size_t)set->n + 1) * 2 > set->cap && !grow(set)) return -1; /* at most half full */
    size_t k = find_slot(set, s, len);
    if (set->slots[k]) return 0;
    if ((size_t)set->n == set->items_cap) {
        size_t ic = set->items_cap ? 2 * set->items_cap : 16;
        char **items = nt_realloc(set->items, ic * sizeof *items);
        if (!items) return -1;
        set->items = items, set->items_cap = ic;
    }
    char *copy = nt_malloc(len + 1);
    if (!copy) return -1;
    memcpy(copy, s, len);
    copy[len] = 0;
    set->items[set->n++] = copy;
    set->slots[k] = set->n;
    return 1;
}

int nt_strset_has(const nt_strset *set, const char *s, size_t len) {
    return set->cap > 0 && set->slots[find_slot(set, s, len)] != 0;
}

void nt_strset_free(nt_strset *set) {
    if (!set) return;
    for (int i = 0; i < set->n; i++) nt_free(set->items[i]);
    nt_free(set->items);
    nt_free(set->slots);
    memset(set, 0, sizeof *set);
}
