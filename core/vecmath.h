/* vecmath.h - small float helpers for kernels: a vectorisable exp,
 * fixed-order 16-lane reductions and bulk GELU / exp loops (internal to
 * nextok's kernels). The reductions and loops are functions of
 * core/vecmath.c, which runs AVX-512, AVX2 or portable code by the ISA level
 * (core/isa.h); every level gives bitwise the same results.
 *
 * The build is strict C11 without -ffast-math, so the compiler neither
 * vectorises expf() nor reassociates a float sum. These helpers do both by
 * hand and in a fixed order, so a result never depends on the thread count
 * or on which code path ran before:
 *
 *     float m = nt_vmax(x, n);                  // max of x[0..n)
 *     for (int j = 0; j < n; j++) e[j] = nt_expf(x[j] - m);
 *     float s = nt_vsum(e, n);                  // 16 partial sums, fixed order
 */
#ifndef NT_VECMATH_H
#define NT_VECMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* exp(x) for float, relative error ~2 ulp (Cephes' expf polynomial on
 * r = x - n ln2, |r| <= ln2/2, times 2^n built from the exponent bits).
 * Branch-free, so loops over it vectorise. Returns 0 for x < -87 and
 * saturates at exp(88) for x > 88 (callers pass x - max <= 0). A NaN in
 * gives NaN out: the clamps send it to -87 so that the integer conversion
 * below stays defined (a diverged model must not hit undefined behaviour). */
static inline float nt_expf(float x) {
    float xc = x > -87.0f ? x : -87.0f;
    xc = xc < 88.0f ? xc : 88.0f;
    /* n = nearbyintf(xc log2 e), |n| <= 127: adding and taking back 1.5 2^23
     * rounds to an integer (round to nearest even, as nearbyintf in the
     * default mode), and vectorises at any ISA level (nearbyintf needs SSE4.1) */
    float n = xc * 1.44269504088896341f + 12582912.0f;
    n = n - 12582912.0f;
    float r = xc - n * 0.693359375f;
    r = r + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;
    float s;
    memcpy(&s, &bits, sizeof s);
    return x < -87.0f ? 0.0f : x != x ? x : p * s;
}

#define NT_VLANES 16

/* The reductions: 16 running partial sums (lane l takes j = l mod 16, in
 * order; the n % 16 tail goes to lanes 0..), combined by the halving tree
 * acc[l] += acc[l + w], w = 8, 4, 2, 1. Each product or difference is
 * rounded before it is added (no FMA). */

/* sum of x[0..n) */
float nt_vsum(const float *x, int n);
/* sum of a[j] * b[j] */
float nt_vdot(const float *a, const float *b, int n);
/* sum of (x[j] - m)^2 (nt_vdot of x - m with itself) */
float nt_vsqdev(const float *x, int n, float m);
/* sum of nt_expf(x[j] - m) */
float nt_vsumexp(const float *x, int n, float m);
/* y[j] = nt_expf(x[j] - m) (y may be x); returns nt_vsum(y, n) */
float nt_vexp_sum(float *y, const float *x, int n, float m);
/* max of x[0..n), n >= 1: lanes start at x[0], take x[j] when x[j] > lane
 * (so NaN never wins), then the same tree with > */
float nt_vmax(const float *x, int n);

/* GELU, tanh form, through the logistic function (see core/elementwise.c):
 *   y = x s,  s = 1 / (1 + e),  e = exp(-2 k (x + c x^3))
 *   dy/dx = s + 2 x s^2 e k (1 + 3 c x^2) */
#define NT_GELU_K 0.7978845608028654f /* sqrt(2/pi) */
#define NT_GELU_C 0.044715f

static inline float nt_gelu_f(float v) {
    float e = nt_expf(-2.0f * NT_GELU_K * (v + NT_GELU_C * v * v * v));
    return v / (1.0f + e);
}

static inline float nt_gelu_grad_f(float v) {
    float v2 = v * v;
    float e = nt_expf(-2.0f * NT_GELU_K * (v + NT_GELU_C * v2 * v));
    float s = 1.0f / (1.0f + e);
    return s + 2.0f * v * s * s * e * NT_GELU_K * (1.0f + 3.0f * NT_GELU_C * v2);
}

/* gelu(v) and gelu'(v) from one exp; *g is bitwise nt_gelu_f(v), *d is
 * nt_gelu_grad_f(v) up to the rounding of the cubic term. */
static inline void nt_gelu_both(float *g, float *d, float v) {
    float e = nt_expf(-2.0f * NT_GELU_K * (v + NT_GELU_C * v * v * v));
    float s = 1.0f / (1.0f + e);
    *g = v / (1.0f + e);
    *d = s + 2.0f * v * s * s * e * NT_GELU_K * (1.0f + 3.0f * NT_GELU_C * (v * v));
}

/* Bulk loops over the scalar functions above, element for element the same
 * bits (the loops are the scalar code, vectorised by the compiler for the
 * level's registers; the build never contracts a * b + c into an FMA). */

/* y[i] = nt_gelu_f(x[i]) */
void nt_vgelu(float *y, const float *x, int64_t n);
/* dx[i] = dy[i] * nt_gelu_grad_f(x[i]), or dx[i] += that when accumulate */
void nt_vgelu_grad(float *dx, const float *dy, const float *x, int64_t n, int accumulate);
/* nt_gelu_both(g + i, d + i, h[i]) */
void nt_vgelu_both(float *g, float *d, const float *h, int64_t n);
/* dx[j] = g * (nt_expf(x[j] - l) - off), or dx[j] += that when accumulate */
void nt_vexp_affine(float *dx, const float *x, int64_t n, float l, float g, float off, int accumulate);

#endif
