/* alloc.c - counted allocation with an optional injected failure. */
#include "core/alloc.h"

#include <stdatomic.h>
#include <stdlib.h>

static atomic_uint_fast64_t n_allocs;
static atomic_uint_fast64_t fail_at; /* 0 = never */

static int should_fail(void) {
    uint64_t f = atomic_load(&fail_at);
    if (f && atomic_load(&n_allocs) + 1 >= f) {
        atomic_store(&fail_at, 0);
        return 1;
    }
    return 0;
}

static void *counted(void *p) {
    if (p) atomic_fetch_add(&n_allocs, 1);
    return p;
}

void *nt_malloc(size_t n) { return should_fail() ? NULL : counted(malloc(n ? n : 1)); }
void *nt_calloc(size_t c, size_t s) { return should_fail() ? NULL : counted(calloc(c ? c : 1, s ? s : 1)); }
void *nt_realloc(void *p, size_t n) { return should_fail() ? NULL : counted(realloc(p, n ? n : 1)); }
void nt_free(void *p) { free(p); }

void *nt_malloc_aligned(size_t n) {
    if (should_fail()) return NULL;
    void *p = NULL;
    if (posix_memalign(&p, 64, n ? (n + 63) / 64 * 64 : 64) != 0) return NULL;
    return counted(p);
}
void nt_free_aligned(void *p) { free(p); }

uint64_t nt_alloc_count(void) { return atomic_load(&n_allocs); }

void nt_alloc_fail_after(uint64_t k) { atomic_store(&fail_at, k ? atomic_load(&n_allocs) + k : 0); }
