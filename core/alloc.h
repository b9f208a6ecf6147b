/* alloc.h - the allocator hook every nextok heap allocation goes through.
 *
 * All library code allocates with nt_malloc/nt_calloc/nt_realloc/nt_free.
 * Tests count allocations (the steady-state test checks that a training step
 * makes none after the first) and can make the Nth allocation fail on
 * purpose to exercise NT_ERR_NOMEM paths.
 */
#ifndef NT_ALLOC_H
#define NT_ALLOC_H

#include <stddef.h>
#include <stdint.h>

void *nt_malloc(size_t n);
void *nt_calloc(size_t count, size_t size);
void *nt_realloc(void *p, size_t n);
void nt_free(void *p);
/* 64-byte aligned allocation, released with nt_free_aligned. */
void *nt_malloc_aligned(size_t n);
void nt_free_aligned(void *p);

/* Number of successful nt_malloc/nt_calloc/nt_realloc/nt_malloc_aligned calls
 * since the process started (all threads). */
uint64_t nt_alloc_count(void);

/* Makes the allocation with ordinal nt_alloc_count() + k (k >= 1) fail and
 * return NULL; k = 0 disarms. For tests of out-of-memory paths. */
void nt_alloc_fail_after(uint64_t k);

/* For functions returning nt_status: p = count zeroed elements of *p (at
 * least one, so an empty table is still a valid pointer); when that fails,
 * runs the statement `cleanup` and returns NT_ERR_NOMEM naming `who` and p.
 * Needs core/error.h.
 *     NT_CALLOC_OR_RETURN(s->rows, n, "nt_generate", state_free(s));  */
#define NT_CALLOC_OR_RETURN(p, count, who, cleanup)                                  \
    do {                                                                             \
        size_t nt_calloc_n_ = (size_t)(count);                                       \
        (p) = nt_calloc(nt_calloc_n_ > 0 ? nt_calloc_n_ : 1, sizeof *(p));           \
        if (!(p)) {                                                                  \
            cleanup;                                                                 \
            return nt_error(NT_ERR_NOMEM, "%s: out of memory (%s)", who, #p);        \
        }                                                                            \
    } while (0)

#endif
