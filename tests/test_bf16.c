/* test_bf16.c - float32 <-> bf16 conversion against an independent reference, on every path this CPU has.
 *
 * The reference rounds in double: of the two bf16 values around x (the
 * truncation and the next one away from zero, 2^128 standing for Inf past
 * the largest), the nearer one, the even one on a tie. Checked: +-0,
 * subnormals (rounding inside the subnormal range and up to the smallest
 * normal), normals at and around every tie, the overflow threshold, +-Inf,
 * quiet and signalling NaNs with payloads (NaN of the same sign, quiet bit
 * set, upper payload bits kept), every bf16 exponent/fraction pattern with
 * lower halves 0, 1, 0x7FFF, 0x8000, 0x8001, 0xFFFF and random, and random
 * bit patterns. Then every vector path must give the scalar reference's bits
 * for whole arrays at all lengths 0..70 and offsets (tails, masked loads).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bf16.h"
#include "support/check.h"

static float f_of(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void) { /* splitmix64 */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (uint32_t)(z ^ (z >> 31));
}

// the magnitude of bf16 pattern t (no sign), 2^128 for the pattern after the largest finite
static double mag_of(uint32_t t) {
    if (t >= 0x7F80u) return ldexp(1.0, 128);
    return fabs((double)f_of(t << 16));
}

// the expected bf16 bits for float bits u, computed without the bit trick
static uint16_t reference(uint32_t u) {
    uint32_t sign = u & 0x80000000u, mag = u & 0x7FFFFFFFu;
    if (mag > 0x7F800000u) return (uint16_t)((u >> 16) | 0x0040u); /* NaN */
    if (mag == 0x7F800000u) return (uint16_t)(u >> 16);              /* Inf */
    double x = fabs((double)f_of(u));
    uint32_t lo = mag >> 16, hi = lo + 1;
    double dlo = x - mag_of(lo), dhi = mag_of(hi) - x;
    uint32_t t = dlo < dhi ? lo : dhi < dlo ? hi : (lo & 1u) ? hi : lo;
    return (uint16_t)((sign >> 16) | t);
}

static const char *describe(uint32_t u) {
    static char buf[64];
    snprintf(buf, sizeof buf, "0x%08X (%.9g)", u, (double)f_of(u));
    return buf;
}

static int n_paths;
static nt_bf16_isa paths[3];

// every path converts xs (n floats) to the scalar's bits, at lengths and offsets around the vector widths
static void check_paths(const uint32_t *us, int64_t n, const char *what) {
    float *xs = malloc((size_t)n * sizeof(float) + 64);
    nt_bf16 *want = malloc((size_t)n * sizeof(nt_bf16) + 64), *got = malloc((size_t)n * sizeof(nt_bf16) + 64);
    if (!xs || !want || !got) {
        CHECK(0, "out of memory");
        return;
    }
    memcpy(xs, us, (size_t)n * sizeof(float));
    for (int64_t i = 0; i < n; i++) want[i] = nt_bf16_from_f32(xs[i]);
    for (int p = 0; p < n_paths; p++) {
        memset(got, 0xAB, (size_t)n * sizeof(nt_bf16));
        CHECK(nt_bf16_from_f32_n_isa(paths[p], got, xs, n) == NT_OK, "path %s", nt_bf16_isa_name(paths[p]));
        int64_t bad = 0, first = -1;
        for (int64_t i = 0; i < n; i++)
            if (got[i] != want[i] && bad++ == 0) first = i;
        CHECK(bad == 0, "%s, path %s: %lld of %lld differ, first %s: got 0x%04X, want 0x%04X", what,
              nt_bf16_isa_name(paths[p]), (long long)bad, (long long)n, describe(us[first]),
              first >= 0 ? got[first] : 0, first >= 0 ? want[first] : 0);
        /* tails and offsets: a short slice, nothing written past its end */
        for (int len = 0; len <= 70 && len <= n; len++)
            for (int off = 0; off < 3 && off + len <= n; off++) {
                nt_bf16 out[72];
                for (int i = 0; i < 72; i++) out[i] = 0x5A5A;
                nt_bf16_from_f32_n_isa(paths[p], out, xs + off, len);
                int ok = out[len] == 0x5A5A && out[71] == 0x5A5A;
                for (int i = 0; i < len; i++) ok = ok && out[i] == want[off + i];
                CHECK(ok, "%s, path %s: slice at %d of length %d", what, nt_bf16_isa_name(paths[p]), off, len);
            }
    }
    free(xs), free(want), free(got);
}

// the scalar reference against the independent one, then every path against the scalar
static void check_set(const uint32_t *us, int64_t n, const char *what) {
    int64_t bad = 0;
    for (int64_t i = 0; i < n; i++) {
        uint16_t want = reference(us[i]), got = nt_bf16_from_f32(f_of(us[i]));
        if (got != want && bad++ < 5)
            CHECK(0, "%s: nt_bf16_from_f32(%s) = 0x%04X, reference 0x%04X", what, describe(us[i]), got, want);
    }
    CHECK(bad == 0, "%s: %lld of %lld values differ from the reference", what, (long long)bad, (long long)n);
    check_paths(us, n, what);
}

static void test_specials(void) {
    static const uint32_t sp[] = {
        0x00000000, 0x80000000,                         /* +-0 */
        0x00000001, 0x80000001, 0x00007FFF, 0x00008000, /* subnormals: down, tie to even 0 */
        0x00008001, 0x00018000, 0x00028000, 0x807FFFFF, /* tie to odd -> up; the largest -> FLT_MIN */
        0x007F7FFF, 0x007F8000, 0x00400000, 0x00000100,
        0x00800000, 0x80800000, 0x3F800000, 0x3F808000, /* FLT_MIN, 1, 1 + tie (even: stays) */
        0x3F818000, 0x3F80FFFF, 0x3F807FFF, 0xBF818000, /* tie with odd: up; just below/above */
        0x7F7F0000, 0x7F7F7FFF, 0x7F7F8000, 0x7F7FFFFF, /* largest bf16; below the threshold; ties to Inf */
        0xFF7F8000, 0x7F7E8000,                         /* -> -Inf; tie, even: stays */
        0x7F800000, 0xFF800000,                         /* +-Inf */
        0x7FC00000, 0xFFC00000, 0x7F800001, 0x7FBFFFFF, /* qNaN, sNaN with payload only in low bits */
        0x7FA00000, 0xFFFFFFFF, 0xFF800001, 0x7FFF8000, /* sNaN payload kept + quiet bit */
    };
    int n = (int)(sizeof sp / sizeof sp[0]);
    check_set(sp, n, "special values");
    /* behaviours stated in bf16.h, spelled out */
    CHECK(nt_bf16_from_f32(f_of(0x00000001)) == 0x0000, "smallest subnormal rounds to +0");
    CHECK(nt_bf16_from_f32(f_of(0x00010000)) == 0x0001, "bf16 smallest subnormal kept");
    CHECK(nt_bf16_from_f32(f_of(0x807FFFFF)) == 0x8080, "largest subnormal rounds to -FLT_MIN");
    CHECK(nt_bf16_from_f32(INFINITY) == 0x7F80 && nt_bf16_from_f32(-INFINITY) == 0xFF80, "Inf");
    CHECK(nt_bf16_from_f32(f_of(0x7F800001)) == 0x7FC0, "sNaN -> quiet NaN");
    CHECK(nt_bf16_from_f32(f_of(0xFFA12345)) == 0xFFE1, "NaN sign and upper payload kept, quiet bit set");
    CHECK(nt_bf16_from_f32(f_of(0x7F7F8000)) == 0x7F80, "overflow by half an ulp -> Inf");
    CHECK(nt_bf16_from_f32(0.1f) == 0x3DCD, "0.1 -> 0x3DCD");
}

static void test_structured(void) {
    static const uint32_t lows[] = {0x0000, 0x0001, 0x7FFF, 0x8000, 0x8001, 0xFFFF};
    int nl = (int)(sizeof lows / sizeof lows[0]) + 1;
    int64_t n = (int64_t)65536 * nl;
    uint32_t *us = malloc((size_t)n * sizeof *us);
    if (!us) {
        CHECK(0, "out of memory");
        return;
    }
    for (uint32_t h = 0; h < 65536; h++)
        for (int l = 0; l < nl; l++) us[(int64_t)h * nl + l] = h << 16 | (l < nl - 1 ? lows[l] : (rnd() & 0xFFFFu));
    check_set(us, n, "every upper half x lower halves");
    free(us);
}

static void test_random(void) {
    int64_t n = 1 << 20;
    uint32_t *us = malloc((size_t)n * sizeof *us);
    if (!us) {
        CHECK(0, "out of memory");
        return;
    }
    for (int64_t i = 0; i < n; i++) us[i] = rnd();
    check_set(us, n, "random bit patterns");
    /* typical activations: normal floats only, so the AVX512_BF16 path runs
     * its hardware conversion on every block */
    for (int64_t i = 0; i < n; i++) {
        float f = ((float)(rnd() % 2000001) - 1000000.0f) * 1e-5f;
        memcpy(&us[i], &f, sizeof f);
    }
    check_set(us, n, "random floats in [-10, 10]");
    free(us);
}

static void test_to_f32(void) {
    nt_bf16 *h = malloc(65536 * sizeof *h);
    float *want = malloc(65536 * sizeof *want), *got = malloc(65536 * sizeof *got);
    if (!h || !want || !got) {
        CHECK(0, "out of memory");
        return;
    }
    for (int i = 0; i < 65536; i++) {
        h[i] = (nt_bf16)i;
        want[i] = nt_bf16_to_f32(h[i]);
    }
    for (int i = 0; i < 65536; i++) {
        uint32_t u;
        memcpy(&u, &want[i], sizeof u);
        CHECK(u == (uint32_t)i << 16, "bf16 0x%04X -> 0x%08X", i, u);
        if (u != (uint32_t)i << 16) break;
    }
    for (int p = 0; p < n_paths; p++) {
        for (int off = 0; off < 3; off++) {
            memset(got, 0, 65536 * sizeof *got);
            nt_bf16_to_f32_n_isa(paths[p], got + off, h + off, 65536 - off - 1);
            int ok = memcmp(got + off, want + off, (65536 - off - 1) * sizeof(float)) == 0 && got[65535] == 0.0f;
            CHECK(ok, "to_f32 path %s, offset %d", nt_bf16_isa_name(paths[p]), off);
        }
    }
    free(h), free(want), free(got);
}

int main(void) {
    nt_bf16_isa cpu = nt_bf16_isa_cpu();
    for (int i = 0; i <= (int)cpu; i++) paths[n_paths++] = (nt_bf16_isa)i;
    printf("test_bf16: paths tested:");
    for (int p = 0; p < n_paths; p++) printf(" %s", nt_bf16_isa_name(paths[p]));
    if (cpu < NT_BF16_AVX512BF16) printf(" (this CPU has no AVX512_BF16: that path is not tested here)");
    printf("; selected: %s\n", nt_bf16_isa_name(nt_bf16_isa_selected()));

    test_specials();
    test_structured();
    test_random();
    test_to_f32();

    /* a path the CPU lacks is refused, not run */
    if (cpu < NT_BF16_AVX512BF16) {
        nt_bf16 d = 0x1234;
        CHECK(nt_bf16_from_f32_n_isa(NT_BF16_AVX512BF16, &d, (float[]){1.0f}, 1) == NT_ERR_ARG && d == 0x1234,
              "unsupported path refused");
    }
    CHECK(nt_bf16_from_f32_n_isa((nt_bf16_isa)7, NULL, NULL, 1) == NT_ERR_ARG, "bad path refused");
    return nt_check_report("test_bf16");
}
