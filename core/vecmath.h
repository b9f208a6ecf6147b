/* vecmath.h - small float helpers for kernels: a vectorisable exp and
 * fixed-order 16-lane reductions (internal to nextok's kernels).
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
    float n = nearbyintf(xc * 1.44269504088896341f); /* vectorises; floorf does not */
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

#ifdef __AVX512F__
/* AVX-512 versions of the helpers below, built to give bitwise the results of
 * the portable loops (which remain the reference and the path on other
 * CPUs): the same 16 lanes (lane l takes j = l mod 16, in order), a masked
 * tail that adds +0 to the lanes past n (x + 0 = x for every partial sum a
 * lane can hold, which is never -0), and the same halving tree at the end.
 * The build does not contract a * b + c into an FMA (ISO C mode), so neither
 * do these: every multiply-add is a multiply, then an add. */
#include <immintrin.h>

static inline __mmask16 nt_vtail_(int k) { return (__mmask16)((1u << k) - 1u); }

/* acc[0] + ... + acc[15] in the order acc[l] += acc[l + w], w = 8, 4, 2, 1 */
static inline float nt_vreduce_add_(__m512 acc) {
    __m256 a8 = _mm256_add_ps(_mm512_castps512_ps256(acc),
                              _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc), 1)));
    __m128 a4 = _mm_add_ps(_mm256_castps256_ps128(a8), _mm256_extractf128_ps(a8, 1));
    __m128 a2 = _mm_add_ps(a4, _mm_movehl_ps(a4, a4));
    __m128 a1 = _mm_add_ss(a2, _mm_shuffle_ps(a2, a2, 1));
    return _mm_cvtss_f32(a1);
}

/* nt_expf on 16 lanes, operation for operation */
static inline __m512 nt_vexpf16_(__m512 x) {
    __m512 xc = _mm512_max_ps(x, _mm512_set1_ps(-87.0f)); /* NaN -> -87 like the scalar select */
    xc = _mm512_min_ps(xc, _mm512_set1_ps(88.0f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(xc, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_sub_ps(xc, _mm512_mul_ps(n, _mm512_set1_ps(0.693359375f)));
    r = _mm512_add_ps(r, _mm512_mul_ps(n, _mm512_set1_ps(2.12194440e-4f)));
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(_mm512_mul_ps(p, r), r), r), _mm512_set1_ps(1.0f));
    __m512i bits = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    __m512 y = _mm512_mul_ps(p, _mm512_castsi512_ps(bits));
    y = _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), x);
    return _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.0f), _CMP_LT_OQ),
                              _mm512_setzero_ps());
}

static inline float nt_vsum(const float *x, int n) {
    __m512 acc = _mm512_setzero_ps();
    int j = 0;
    for (; j + NT_VLANES <= n; j += NT_VLANES) acc = _mm512_add_ps(acc, _mm512_loadu_ps(x + j));
    if (j < n) acc = _mm512_add_ps(acc, _mm512_maskz_loadu_ps(nt_vtail_(n - j), x + j));
    return nt_vreduce_add_(acc);
}

static inline float nt_vdot(const float *a, const float *b, int n) {
    __m512 acc = _mm512_setzero_ps();
    int j = 0;
    for (; j + NT_VLANES <= n; j += NT_VLANES)
        acc = _mm512_add_ps(acc, _mm512_mul_ps(_mm512_loadu_ps(a + j), _mm512_loadu_ps(b + j)));
    if (j < n) {
        __mmask16 m = nt_vtail_(n - j);
        acc = _mm512_add_ps(acc, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, a + j), _mm512_maskz_loadu_ps(m, b + j)));
    }
    return nt_vreduce_add_(acc);
}

static inline float nt_vsqdev(const float *x, int n, float m) {
    __m512 acc = _mm512_setzero_ps(), mv = _mm512_set1_ps(m);
    int j = 0;
    for (; j + NT_VLANES <= n; j += NT_VLANES) {
        __m512 d = _mm512_sub_ps(_mm512_loadu_ps(x + j), mv);
        acc = _mm512_add_ps(acc, _mm512_mul_ps(d, d));
    }
    if (j < n) {
        __mmask16 k = nt_vtail_(n - j);
        __m512 d = _mm512_maskz_sub_ps(k, _mm512_maskz_loadu_ps(k, x + j), mv);
        acc = _mm512_add_ps(acc, _mm512_mul_ps(d, d));
    }
    return nt_vreduce_add_(acc);
}

static inline float nt_vsumexp(const float *x, int n, float m) {
    __m512 acc = _mm512_setzero_ps(), mv = _mm512_set1_ps(m);
    int j = 0;
    for (; j + NT_VLANES <= n; j += NT_VLANES)
        acc = _mm512_add_ps(acc, nt_vexpf16_(_mm512_sub_ps(_mm512_loadu_ps(x + j), mv)));
    if (j < n) {
        __mmask16 k = nt_vtail_(n - j);
        __m512 e = nt_vexpf16_(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + j), mv));
        acc = _mm512_mask_add_ps(acc, k, acc, e);
    }
    return nt_vreduce_add_(acc);
}

/* y[j] = exp(x[j] - m) (y may be x); returns nt_vsum(y, n) */
static inline float nt_vexp_sum(float *y, const float *x, int n, float m) {
    __m512 acc = _mm512_setzero_ps(), mv = _mm512_set1_ps(m);
    int j = 0;
    for (; j + NT_VLANES <= n; j += NT_VLANES) {
        __m512 e = nt_vexpf16_(_mm512_sub_ps(_mm512_loadu_ps(x + j), mv));
        _mm512_storeu_ps(y + j, e);
        acc = _mm512_add_ps(acc, e);
    }
    if (j < n) {
        __mmask16 k = nt_vtail_(n - j);
        __m512 e = nt_vexpf16_(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + j), mv));
        _mm512_mask_storeu_ps(y + j, k, e);
        acc = _mm512_mask_add_ps(acc, k, acc, e);
    }
    return nt_vreduce_add_(acc);
}

static inline float nt_vmax(const float *x, int n) {
    __m512 acc = _mm512_set1_ps(x[0]);
    int j = 0;
    for (; j + NT_VLANES <= n; j += NT_VLANES) {
        __m512 v = _mm512_loadu_ps(x + j);
        acc = _mm512_mask_mov_ps(acc, _mm512_cmp_ps_mask(v, acc, _CMP_GT_OQ), v);
    }
    if (j < n) {
        __mmask16 k = nt_vtail_(n - j);
        __m512 v = _mm512_maskz_loadu_ps(k, x + j);
        acc = _mm512_mask_mov_ps(acc, _mm512_mask_cmp_ps_mask(k, v, acc, _CMP_GT_OQ), v);
    }
    /* acc[l] = acc[l + w] > acc[l] ? acc[l + w] : acc[l], w = 8, 4, 2, 1 */
    __m256 lo = _mm512_castps512_ps256(acc);
    __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc), 1));
    __m256 m8 = _mm256_blendv_ps(lo, hi, _mm256_cmp_ps(hi, lo, _CMP_GT_OQ));
    __m128 l4 = _mm256_castps256_ps128(m8), h4 = _mm256_extractf128_ps(m8, 1);
    __m128 m4 = _mm_blendv_ps(l4, h4, _mm_cmp_ps(h4, l4, _CMP_GT_OQ));
    __m128 h2 = _mm_movehl_ps(m4, m4);
    __m128 m2 = _mm_blendv_ps(m4, h2, _mm_cmp_ps(h2, m4, _CMP_GT_OQ));
    __m128 h1 = _mm_shuffle_ps(m2, m2, 1);
    __m128 m1 = _mm_blendv_ps(m2, h1, _mm_cmp_ps(h1, m2, _CMP_GT_OQ));
    return _mm_cvtss_f32(m1);
}

#else /* portable reference loops */

/* sum of x[0..n): 16 running partial sums combined in a fixed order. */
static inline float nt_vsum(const float *x, int n) {
    float acc[NT_VLANES] = {0};
    int j = 0;
    for (; j + NT_VLANES <= n; j += NT_VLANES)
        for (int l = 0; l < NT_VLANES; l++) acc[l] += x[j + l];
    for (int l = 0; j + l < n; l++) acc[l] += x[j + l];
    for (int w = NT_VLANES / 2; w > 0; w /= 2)
        for (int l = 0; l < w; l++) acc[l] += acc[l + w];
    return acc[0];
}

/* sum of a[j] * b[j], same order as nt_vsum. */
static inline float nt_vdot(const float *a, const float *b, int n) {
    float acc[NT_VLANES] = {0};
    int j = 0;
    for (; j + NT_VLANES <= n; j += NT_VLANES)
        for (int l = 0; l < NT_VLANES; l++) acc[l] += a[j + l] * b[j + l];
    for (int l = 0; j + l < n; l++) acc[l] += a[j + l] * b[j + l];
    for (int w = NT_VLANES / 2; w > 0; w /= 2)
        for (int l = 0; l < w; l++) acc[l] += acc[l + w];
    return acc[0];
}

/* sum of (x[j] - m)^2, same order as nt_vsum (nt_vdot of x - m with itself). */
static inline float nt_vsqdev(const float *x, int n, float m) {
    float acc[NT_VLANES] = {0};
    int j = 0;
    for (; j + NT_VLANES <= n; j += NT_VLANES)
        for (int l = 0; l < NT_VLANES; l++) acc[l] += (x[j + l] - m) * (x[j + l] - m);
    for (int l = 0; j + l < n; l++) acc[l] += (x[j + l] - m) * (x[j + l] - m);
    for (int w = NT_VLANES / 2; w > 0; w /= 2)
        for (int l = 0; l < w; l++) acc[l] += acc[l + w];
    return acc[0];
}

/* sum of exp(x[j] - m), same order as nt_vsum. */
static inline float nt_vsumexp(const float *x, int n, float m) {
    float acc[NT_VLANES] = {0};
    int j = 0;
    for (; j + NT_VLANES <= n; j += NT_VLANES)
        for (int l = 0; l < NT_VLANES; l++) acc[l] += nt_expf(x[j + l] - m);
    for (int l = 0; j + l < n; l++) acc[l] += nt_expf(x[j + l] - m);
    for (int w = NT_VLANES / 2; w > 0; w /= 2)
        for (int l = 0; l < w; l++) acc[l] += acc[l + w];
    return acc[0];
}

/* y[j] = exp(x[j] - m) (y may be x); returns nt_vsum(y, n). */
static inline float nt_vexp_sum(float *y, const float *x, int n, float m) {
    for (int j = 0; j < n; j++) y[j] = nt_expf(x[j] - m);
    return nt_vsum(y, n);
}

/* max of x[0..n), n >= 1. */
static inline float nt_vmax(const float *x, int n) {
    float acc[NT_VLANES];
    for (int l = 0; l < NT_VLANES; l++) acc[l] = x[0];
    int j = 0;
    for (; j + NT_VLANES <= n; j += NT_VLANES)
        for (int l = 0; l < NT_VLANES; l++) acc[l] = x[j + l] > acc[l] ? x[j + l] : acc[l];
    for (int l = 0; j + l < n; l++) acc[l] = x[j + l] > acc[l] ? x[j + l] : acc[l];
    for (int w = NT_VLANES / 2; w > 0; w /= 2)
        for (int l = 0; l < w; l++) acc[l] = acc[l + w] > acc[l] ? acc[l + w] : acc[l];
    return acc[0];
}

#endif

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

#endif
