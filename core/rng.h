/* rng.h - the one seeded random number generator (counter-based).
 *
 * nt_rng is a counter-based generator: value i of a stream is a hash of
 * (seed, counter + i), so a parallel loop can draw its values in any order
 * and still be bitwise reproducible, and the whole state is two integers
 * that a checkpoint saves and restores. It serves init, dropout, shuffling
 * and sampling.
 *
 *     nt_rng r;
 *     nt_rng_seed(&r, 42);
 *     float u = nt_rng_uniform(&r);          // [0, 1)
 *     uint64_t base = nt_rng_skip(&r, n);    // reserve n draws for a kernel
 *     ... nt_rng_u64_at(&r, base + i) ...    // the i-th of them, any thread
 */
#ifndef NT_RNG_H
#define NT_RNG_H

#include <stdint.h>

typedef struct nt_rng {
    uint64_t seed;     /* fixed by nt_rng_seed */
    uint64_t counter;  /* number of 64-bit draws taken so far */
} nt_rng;

void nt_rng_seed(nt_rng *r, uint64_t seed);

/* The 64-bit value at absolute stream position `pos` (does not advance). */
uint64_t nt_rng_u64_at(const nt_rng *r, uint64_t pos);

/* Reserves n draws and returns the position of the first (advances by n). */
uint64_t nt_rng_skip(nt_rng *r, uint64_t n);

uint64_t nt_rng_u64(nt_rng *r);               /* next 64-bit value */
float nt_rng_uniform(nt_rng *r);              /* next float in [0, 1) */
double nt_rng_uniform_double(nt_rng *r);      /* next double in [0, 1) */
float nt_rng_normal(nt_rng *r);               /* next N(0, 1) (Box-Muller, 2 draws) */
uint64_t nt_rng_below(nt_rng *r, uint64_t n); /* uniform in [0, n), n > 0, unbiased */

/* Float in [0, 1) from a raw 64-bit value (top 24 bits). */
static inline float nt_rng_to_unit(uint64_t x) { return (float)(x >> 40) * (1.0f / 16777216.0f); }

#endif
