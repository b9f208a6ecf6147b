/* rng.c - counter-based generator: splitmix64 finaliser over (seed, counter). */
#include "core/rng.h"

#include <math.h>

/* Stafford's "Mix13" finaliser, as used by splitmix64: a bijection on 64-bit
 * integers with good avalanche, so consecutive counters give independent-
 * looking values. */
static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void nt_rng_seed(nt_rng *r, uint64_t seed) {
    r->seed = mix64(seed + 0x9e3779b97f4a7c15ULL);
    r->counter = 0;
}

uint64_t nt_rng_u64_at(const nt_rng *r, uint64_t pos) {
    return mix64(r->seed ^ mix64(pos * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL));
}

uint64_t nt_rng_skip(nt_rng *r, uint64_t n) {
    uint64_t p = r->counter;
    r->counter += n;
    return p;
}

uint64_t nt_rng_u64(nt_rng *r) { return nt_rng_u64_at(r, r->counter++); }

float nt_rng_uniform(nt_rng *r) { return nt_rng_to_unit(nt_rng_u64(r)); }

double nt_rng_uniform_double(nt_rng *r) {
    return (double)(nt_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

float nt_rng_normal(nt_rng *r) {
    double u1 = nt_rng_uniform_double(r), u2 = nt_rng_uniform_double(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

uint64_t nt_rng_below(nt_rng *r, uint64_t n) {
    /* Rejection sampling: drop the top partial range so every value is equally likely. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = nt_rng_u64(r);
    while (x >= limit);
    return x % n;
}
