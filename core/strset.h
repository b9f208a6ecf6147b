/* strset.h - a set of byte strings: each held once, as its own NUL-terminated
 * copy, in the order first added; membership by hash (FNV-1a, open
 * addressing), so building a set of N strings is O(N).
 *
 *     nt_strset s = {0};                  // an empty set: no call needed
 *     nt_strset_add(&s, "word", 4);       // 1: added
 *     nt_strset_add(&s, "word", 4);       // 0: already there
 *     nt_strset_has(&s, "word", 4);       // 1
 *     printf("%s", s.items[0]);           // "word" (s.n strings)
 *     nt_strset_free(&s);
 */
#ifndef NT_STRSET_H
#define NT_STRSET_H

#include <stddef.h>

typedef struct nt_strset {
    char **items;     /* (n) the strings in the order first added; owned */
    int n;
    int *slots;       /* (cap) index into items + 1, 0 = empty; cap a power of two */
    size_t cap, items_cap;
} nt_strset;

/* Adds a copy of s[0..len) (which holds no NUL). Returns 1 if added, 0 if
 * the set already held it, -1 when out of memory (the set unchanged). */
int nt_strset_add(nt_strset *set, const char *s, size_t len);

/* 1 if the set holds s[0..len), else 0. */
int nt_strset_has(const nt_strset *set, const char *s, size_t len);

/* Frees the strings and the table and leaves the set empty (reusable);
 * NULL is a no-op. */
void nt_strset_free(nt_strset *set);

#endif
