/* vecmath.c - the reductions and bulk loops of vecmath.h at each ISA level.
 *
 * The portable loops are the reference. The AVX-512 and AVX2 versions are
 * built to give their bits exactly: the same 16 lanes (two 8-lane registers
 * for AVX2), a tail that adds +0 to the lanes past n (x + 0 = x for every
 * partial sum a lane can hold, which is never -0), the same halving tree at
 * the end, a multiply then an add where the loops have a * b + c (the build
 * does not contract them into FMAs). The bulk loops are the scalar code
 * compiled three times (target attributes), vectorised by the compiler
 * without reordering anything.
 */
#include "core/vecmath.h"

#include "core/isa.h"

#if NT_ISA_X86
#include <immintrin.h>
#endif

/* ---- portable reference loops ----------------------------------------------------- */

static float vsum_portable(const float *x, int n) {
    float acc[NT_VLANES] = {0};
    int j = 0;
    for (; j + NT_VLANES <= n; j += NT_VLANES)
        for (int l = 0; l < NT_VLANES; l++) acc[l] += x[j + l];
    for (int l = 0; j + l < n; l++) acc[l] += x[j + l];
    for (int w = NT_VLANES / 2; w > 0; w /= 2)
        for (int l = 0; l < w; l++) acc[l] += acc[l + w];
    return acc[0];
}

static float vdot_portable(const float *a, const float *b, int n) {
    float acc[NT_VLANES] = {0};
    int j = 0;
    for (; j + NT_VLANES <= n; j += NT_VLANES)
        for (int l = 0; l < NT_VLANES; l++) acc[l] += a[j + l] * b[j + l];
    for (int l = 0; j + l < n; l++) acc[l] += a[j + l] * b[j + l];
    for (int w = NT_VLANES / 2; w > 0; w /= 2)
        for (int l = 0; l < w; l++) acc[l] += acc[l + w];
    return acc[0];
}

static float vsqdev_portable(const float *x, int n, float m) {
    float acc[NT_VLANES] = {0};
    int j = 0;
    for (; j + NT_VLANES <= n; j += NT_VLANES)
        for (int l = 0; l < NT_VLANES; l++) acc[l] += (x[j + l] - m) * (x[j + l] - m);
    for (int l = 0; j + l < n; l++) acc[l] += (x[j + l] - m) * (x[j + l] - m);
    for (int w = NT_VLANES / 2; w > 0; w /= 2)
        for (int l = 0; l < w; l++) acc[l] += acc[l + w];
    return acc[0];
}

static float vsumexp_portable(const float *x, int n, float m) {
    float acc[NT_VLANES] = {0};
    int j = 0;
    for (; j + NT_VLANES <= n; j += NT_VLANES)
        for (int l = 0; l < NT_VLANES; l++) acc[l] += nt_expf(x[j + l] - m);
    for (int l = 0; j + l < n; l++) acc[l] += nt_expf(x[j + l] - m);
    for (int w = NT_VLANES / 2; w > 0; w /= 2)
        for (int l = 0; l < w; l++) acc[l] += acc[l + w];
    return acc[0];
}

static float vexp_sum_portable(float *y, const float *x, int n, float m) {
    for (int j = 0; j < n; j++) y[j] = nt_expf(x[j] - m);
    return vsum_portable(y, n);
}

static float vmax_portable(const float *x, int n) {
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

/* ---- bulk loops: one body, compiled per level ------------------------------------- */

#define ALWAYS static inline __attribute__((always_inline))

/* nt_expf's polynomial (core/vecmath.h), highest power first, for the
 * vector versions below: p = p r + c, operation for operation */
#define EXP_POLY_N 6
static const float exp_poly[EXP_POLY_N] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f,
                                           4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};

ALWAYS void gelu_body(float *restrict y, const float *restrict x, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = nt_gelu_f(x[i]);
}
ALWAYS void gelu_grad_body(float *restrict dx, const float *restrict dy, const float *restrict x, int64_t n,
                           int accumulate) {
    if (accumulate)
        for (int64_t i = 0; i < n; i++) dx[i] += dy[i] * nt_gelu_grad_f(x[i]);
    else
        for (int64_t i = 0; i < n; i++) dx[i] = dy[i] * nt_gelu_grad_f(x[i]);
}
ALWAYS void gelu_both_body(float *restrict g, float *restrict d, const float *restrict h, int64_t n) {
    for (int64_t i = 0; i < n; i++) nt_gelu_both(g + i, d + i, h[i]);
}
ALWAYS void exp_affine_body(float *restrict dx, const float *restrict x, int64_t n, float l, float g,
                            float off, int accumulate) {
    if (accumulate)
        for (int64_t j = 0; j < n; j++) dx[j] += g * (nt_expf(x[j] - l) - off);
    else
        for (int64_t j = 0; j < n; j++) dx[j] = g * (nt_expf(x[j] - l) - off);
}

#define BULK_LEVEL(SUF, ATTR)                                                                         \
    ATTR static void gelu_##SUF(float *y, const float *x, int64_t n) { gelu_body(y, x, n); }          \
    ATTR static void gelu_grad_##SUF(float *dx, const float *dy, const float *x, int64_t n, int acc) { \
        gelu_grad_body(dx, dy, x, n, acc);                                                            \
    }                                                                                                 \
    ATTR static void gelu_both_##SUF(float *g, float *d, const float *h, int64_t n) {                 \
        gelu_both_body(g, d, h, n);                                                                   \
    }                                                                                                 \
    ATTR static void exp_affine_##SUF(float *dx, const float *x, int64_t n, float l, float g, float off, \
                                      int acc) {                                                      \
        exp_affine_body(dx, x, n, l, g, off, acc);                                                    \
    }

BULK_LEVEL(portable, )
#if NT_ISA_X86
BULK_LEVEL(avx512, NT_AVX512)
BULK_LEVEL(avx2, NT_AVX2)
#endif

#if NT_ISA_X86
/* ---- AVX-512 ---------------------------------------------------------------------- */

ALWAYS NT_AVX512 __mmask16 tail16(int k) { return (__mmask16)((1u << k) - 1u); }

/* acc[0] + ... + acc[15] in the order acc[l] += acc[l + w], w = 8, 4, 2, 1 */
ALWAYS NT_AVX512 float reduce_add16(__m512 acc) {
    __m256 a8 = _mm256_add_ps(_mm512_castps512_ps256(acc),
                              _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc), 1)));
    __m128 a4 = _mm_add_ps(_mm256_castps256_ps128(a8), _mm256_extractf128_ps(a8, 1));
    __m128 a2 = _mm_add_ps(a4, _mm_movehl_ps(a4, a4));
    __m128 a1 = _mm_add_ss(a2, _mm_shuffle_ps(a2, a2, 1));
    return _mm_cvtss_f32(a1);
}

/* nt_expf on 16 lanes, operation for operation */
ALWAYS NT_AVX512 __m512 exp16(__m512 x) {
    __m512 xc = _mm512_max_ps(x, _mm512_set1_ps(-87.0f)); /* NaN -> -87 like the scalar select */
    xc = _mm512_min_ps(xc, _mm512_set1_ps(88.0f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(xc, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_sub_ps(xc, _mm512_mul_ps(n, _mm512_set1_ps(0.693359375f)));
    r = _mm512_add_ps(r, _mm512_mul_ps(n, _mm512_set1_ps(2.12194440e-4f)));
    __m512 p = _mm512_set1_ps(exp_poly[0]);
    for (int i = 1; i < EXP_POLY_N; i++) p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(exp_poly[i]));
    p = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(_mm512_mul_ps(p, r), r), r), _mm512_set1_ps(1.0f));
    __m512i bits = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    __m512 y = _mm512_mul_ps(p, _mm512_castsi512_ps(bits));
    y = _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), x);
    return _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.0f), _CMP_LT_OQ), _mm512_setzero_ps());
}

NT_AVX512 static float vsum_avx512(const float *x, int n) {
    __m512 acc = _mm512_setzero_ps();
    int j = 0;
    for (; j + NT_VLANES <= n; j += NT_VLANES) acc = _mm512_add_ps(acc, _mm512_loadu_ps(x + j));
    if (j < n) acc = _mm512_add_ps(acc, _mm512_maskz_loadu_ps(tail16(n - j), x + j));
    return reduce_add16(acc);
}

NT_AVX512 static float vdot_avx512(const float *a, const float *b, int n) {
    __m512 acc = _mm512_setzero_ps();
    int j = 0;
    for (; j + NT_VLANES <= n; j += NT_VLANES)
        acc = _mm512_add_ps(acc, _mm512_mul_ps(_mm512_loadu_ps(a + j), _mm512_loadu_ps(b + j)));
    if (j < n) {
        __mmask16 m = tail16(n - j);
        acc = _mm512_add_ps(acc, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, a + j), _mm512_maskz_loadu_ps(m, b + j)));
    }
    return reduce_add16(acc);
}

NT_AVX512 static float vsqdev_avx512(const float *x, int n, float m) {
    __m512 acc = _mm512_setzero_ps(), mv = _mm512_set1_ps(m);
    int j = 0;
    for (; j + NT_VLANES <= n; j += NT_VLANES) {
        __m512 d = _mm512_sub_ps(_mm512_loadu_ps(x + j), mv);
        acc = _mm512_add_ps(acc, _mm512_mul_ps(d, d));
    }
    if (j < n) {
        __mmask16 k = tail16(n - j);
        __m512 d = _mm512_maskz_sub_ps(k, _mm512_maskz_loadu_ps(k, x + j), mv);
        acc = _mm512_add_ps(acc, _mm512_mul_ps(d, d));
    }
    return reduce_add16(acc);
}

NT_AVX512 static float vsumexp_avx512(const float *x, int n, float m) {
    __m512 acc = _mm512_setzero_ps(), mv = _mm512_set1_ps(m);
    int j = 0;
    for (; j + NT_VLANES <= n; j += NT_VLANES)
        acc = _mm512_add_ps(acc, exp16(_mm512_sub_ps(_mm512_loadu_ps(x + j), mv)));
    if (j < n) {
        __mmask16 k = tail16(n - j);
        __m512 e = exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + j), mv));
        acc = _mm512_mask_add_ps(acc, k, acc, e);
    }
    return reduce_add16(acc);
}

NT_AVX512 static float vexp_sum_avx512(float *y, const float *x, int n, float m) {
    __m512 acc = _mm512_setzero_ps(), mv = _mm512_set1_ps(m);
    int j = 0;
    for (; j + NT_VLANES <= n; j += NT_VLANES) {
        __m512 e = exp16(_mm512_sub_ps(_mm512_loadu_ps(x + j), mv));
        _mm512_storeu_ps(y + j, e);
        acc = _mm512_add_ps(acc, e);
    }
    if (j < n) {
        __mmask16 k = tail16(n - j);
        __m512 e = exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + j), mv));
        _mm512_mask_storeu_ps(y + j, k, e);
        acc = _mm512_mask_add_ps(acc, k, acc, e);
    }
    return reduce_add16(acc);
}

/* lanes of m8 (8) reduced with acc[l] = acc[l + w] > acc[l] ? acc[l + w] : acc[l], w = 4, 2, 1 */
ALWAYS NT_AVX2 float reduce_max8(__m256 m8) {
    __m128 l4 = _mm256_castps256_ps128(m8), h4 = _mm256_extractf128_ps(m8, 1);
    __m128 m4 = _mm_blendv_ps(l4, h4, _mm_cmp_ps(h4, l4, _CMP_GT_OQ));
    __m128 h2 = _mm_movehl_ps(m4, m4);
    __m128 m2 = _mm_blendv_ps(m4, h2, _mm_cmp_ps(h2, m4, _CMP_GT_OQ));
    __m128 h1 = _mm_shuffle_ps(m2, m2, 1);
    __m128 m1 = _mm_blendv_ps(m2, h1, _mm_cmp_ps(h1, m2, _CMP_GT_OQ));
    return _mm_cvtss_f32(m1);
}

NT_AVX512 static float vmax_avx512(const float *x, int n) {
    __m512 acc = _mm512_set1_ps(x[0]);
    int j = 0;
    for (; j + NT_VLANES <= n; j += NT_VLANES) {
        __m512 v = _mm512_loadu_ps(x + j);
        acc = _mm512_mask_mov_ps(acc, _mm512_cmp_ps_mask(v, acc, _CMP_GT_OQ), v);
    }
    if (j < n) {
        __mmask16 k = tail16(n - j);
        __m512 v = _mm512_maskz_loadu_ps(k, x + j);
        acc = _mm512_mask_mov_ps(acc, _mm512_mask_cmp_ps_mask(k, v, acc, _CMP_GT_OQ), v);
    }
    __m256 lo = _mm512_castps512_ps256(acc);
    __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc), 1));
    return reduce_max8(_mm256_blendv_ps(lo, hi, _mm256_cmp_ps(hi, lo, _CMP_GT_OQ)));
}

/* ---- AVX2: the 16 lanes as two registers, lo (lanes 0..7) and hi (8..15) ---------- */

static const int32_t mask_tab[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

/* lanes [0, k) of 8 set, k clamped to [0, 8] */
ALWAYS NT_AVX2 __m256i tail8(int k) {
    k = k < 0 ? 0 : k > 8 ? 8 : k;
    return _mm256_loadu_si256((const __m256i *)(mask_tab + 8 - k));
}

ALWAYS NT_AVX2 float reduce_add2x8(__m256 lo, __m256 hi) {
    __m256 a8 = _mm256_add_ps(lo, hi);
    __m128 a4 = _mm_add_ps(_mm256_castps256_ps128(a8), _mm256_extractf128_ps(a8, 1));
    __m128 a2 = _mm_add_ps(a4, _mm_movehl_ps(a4, a4));
    __m128 a1 = _mm_add_ss(a2, _mm_shuffle_ps(a2, a2, 1));
    return _mm_cvtss_f32(a1);
}

/* nt_expf on 8 lanes, operation for operation */
ALWAYS NT_AVX2 __m256 exp8(__m256 x) {
    __m256 xc = _mm256_max_ps(x, _mm256_set1_ps(-87.0f)); /* maxps: NaN in x -> the second operand */
    xc = _mm256_min_ps(xc, _mm256_set1_ps(88.0f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_sub_ps(xc, _mm256_mul_ps(n, _mm256_set1_ps(0.693359375f)));
    r = _mm256_add_ps(r, _mm256_mul_ps(n, _mm256_set1_ps(2.12194440e-4f)));
    __m256 p = _mm256_set1_ps(exp_poly[0]);
    for (int i = 1; i < EXP_POLY_N; i++) p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(exp_poly[i]));
    p = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(_mm256_mul_ps(p, r), r), r), _mm256_set1_ps(1.0f));
    __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    __m256 y = _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
    y = _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
    return _mm256_blendv_ps(y, _mm256_setzero_ps(), _mm256_cmp_ps(x, _mm256_set1_ps(-87.0f), _CMP_LT_OQ));
}

NT_AVX2 static float vsum_avx2(const float *x, int n) {
    __m256 lo = _mm256_setzero_ps(), hi = lo;
    int j = 0;
    for (; j + NT_VLANES <= n; j += NT_VLANES) {
        lo = _mm256_add_ps(lo, _mm256_loadu_ps(x + j));
        hi = _mm256_add_ps(hi, _mm256_loadu_ps(x + j + 8));
    }
    if (j < n) {
        lo = _mm256_add_ps(lo, _mm256_maskload_ps(x + j, tail8(n - j)));
        hi = _mm256_add_ps(hi, _mm256_maskload_ps(x + j + 8, tail8(n - j - 8)));
    }
    return reduce_add2x8(lo, hi);
}

NT_AVX2 static float vdot_avx2(const float *a, const float *b, int n) {
    __m256 lo = _mm256_setzero_ps(), hi = lo;
    int j = 0;
    for (; j + NT_VLANES <= n; j += NT_VLANES) {
        lo = _mm256_add_ps(lo, _mm256_mul_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j)));
        hi = _mm256_add_ps(hi, _mm256_mul_ps(_mm256_loadu_ps(a + j + 8), _mm256_loadu_ps(b + j + 8)));
    }
    if (j < n) {
        __m256i m0 = tail8(n - j), m1 = tail8(n - j - 8);
        lo = _mm256_add_ps(lo, _mm256_mul_ps(_mm256_maskload_ps(a + j, m0), _mm256_maskload_ps(b + j, m0)));
        hi = _mm256_add_ps(hi, _mm256_mul_ps(_mm256_maskload_ps(a + j + 8, m1), _mm256_maskload_ps(b + j + 8, m1)));
    }
    return reduce_add2x8(lo, hi);
}

NT_AVX2 static float vsqdev_avx2(const float *x, int n, float m) {
    __m256 lo = _mm256_setzero_ps(), hi = lo, mv = _mm256_set1_ps(m);
    int j = 0;
    for (; j + NT_VLANES <= n; j += NT_VLANES) {
        __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(x + j), mv), d1 = _mm256_sub_ps(_mm256_loadu_ps(x + j + 8), mv);
        lo = _mm256_add_ps(lo, _mm256_mul_ps(d0, d0));
        hi = _mm256_add_ps(hi, _mm256_mul_ps(d1, d1));
    }
    if (j < n) {
        __m256i m0 = tail8(n - j), m1 = tail8(n - j - 8);
        __m256 d0 = _mm256_and_ps(_mm256_sub_ps(_mm256_maskload_ps(x + j, m0), mv), _mm256_castsi256_ps(m0));
        __m256 d1 = _mm256_and_ps(_mm256_sub_ps(_mm256_maskload_ps(x + j + 8, m1), mv), _mm256_castsi256_ps(m1));
        lo = _mm256_add_ps(lo, _mm256_mul_ps(d0, d0));
        hi = _mm256_add_ps(hi, _mm256_mul_ps(d1, d1));
    }
    return reduce_add2x8(lo, hi);
}

NT_AVX2 static float vsumexp_avx2(const float *x, int n, float m) {
    __m256 lo = _mm256_setzero_ps(), hi = lo, mv = _mm256_set1_ps(m);
    int j = 0;
    for (; j + NT_VLANES <= n; j += NT_VLANES) {
        lo = _mm256_add_ps(lo, exp8(_mm256_sub_ps(_mm256_loadu_ps(x + j), mv)));
        hi = _mm256_add_ps(hi, exp8(_mm256_sub_ps(_mm256_loadu_ps(x + j + 8), mv)));
    }
    if (j < n) { /* masked lanes add +0 (a lane's sum of exps is never -0) */
        __m256i m0 = tail8(n - j), m1 = tail8(n - j - 8);
        __m256 e0 = exp8(_mm256_sub_ps(_mm256_maskload_ps(x + j, m0), mv));
        __m256 e1 = exp8(_mm256_sub_ps(_mm256_maskload_ps(x + j + 8, m1), mv));
        lo = _mm256_add_ps(lo, _mm256_and_ps(e0, _mm256_castsi256_ps(m0)));
        hi = _mm256_add_ps(hi, _mm256_and_ps(e1, _mm256_castsi256_ps(m1)));
    }
    return reduce_add2x8(lo, hi);
}

NT_AVX2 static float vexp_sum_avx2(float *y, const float *x, int n, float m) {
    __m256 lo = _mm256_setzero_ps(), hi = lo, mv = _mm256_set1_ps(m);
    int j = 0;
    for (; j + NT_VLANES <= n; j += NT_VLANES) {
        __m256 e0 = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + j), mv));
        __m256 e1 = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + j + 8), mv));
        _mm256_storeu_ps(y + j, e0);
        _mm256_storeu_ps(y + j + 8, e1);
        lo = _mm256_add_ps(lo, e0);
        hi = _mm256_add_ps(hi, e1);
    }
    if (j < n) {
        __m256i m0 = tail8(n - j), m1 = tail8(n - j - 8);
        __m256 e0 = exp8(_mm256_sub_ps(_mm256_maskload_ps(x + j, m0), mv));
        __m256 e1 = exp8(_mm256_sub_ps(_mm256_maskload_ps(x + j + 8, m1), mv));
        _mm256_maskstore_ps(y + j, m0, e0);
        _mm256_maskstore_ps(y + j + 8, m1, e1);
        lo = _mm256_add_ps(lo, _mm256_and_ps(e0, _mm256_castsi256_ps(m0)));
        hi = _mm256_add_ps(hi, _mm256_and_ps(e1, _mm256_castsi256_ps(m1)));
    }
    return reduce_add2x8(lo, hi);
}

NT_AVX2 static float vmax_avx2(const float *x, int n) {
    __m256 lo = _mm256_set1_ps(x[0]), hi = lo;
    int j = 0;
    for (; j + NT_VLANES <= n; j += NT_VLANES) {
        __m256 v0 = _mm256_loadu_ps(x + j), v1 = _mm256_loadu_ps(x + j + 8);
        lo = _mm256_blendv_ps(lo, v0, _mm256_cmp_ps(v0, lo, _CMP_GT_OQ));
        hi = _mm256_blendv_ps(hi, v1, _mm256_cmp_ps(v1, hi, _CMP_GT_OQ));
    }
    if (j < n) {
        __m256i m0 = tail8(n - j), m1 = tail8(n - j - 8);
        __m256 v0 = _mm256_maskload_ps(x + j, m0), v1 = _mm256_maskload_ps(x + j + 8, m1);
        lo = _mm256_blendv_ps(lo, v0, _mm256_and_ps(_mm256_cmp_ps(v0, lo, _CMP_GT_OQ), _mm256_castsi256_ps(m0)));
        hi = _mm256_blendv_ps(hi, v1, _mm256_and_ps(_mm256_cmp_ps(v1, hi, _CMP_GT_OQ), _mm256_castsi256_ps(m1)));
    }
    return reduce_max8(_mm256_blendv_ps(lo, hi, _mm256_cmp_ps(hi, lo, _CMP_GT_OQ)));
}
#endif

/* ---- entry points ----------------------------------------------------------------- */

#if NT_ISA_X86
#define DISPATCH(CALL_512, CALL_2, CALL_P) \
    switch (nt_isa()) {                    \
    case NT_ISA_AVX512: CALL_512;          \
    case NT_ISA_AVX2: CALL_2;              \
    default: CALL_P;                       \
    }
#else
#define DISPATCH(CALL_512, CALL_2, CALL_P) CALL_P
#endif

float nt_vsum(const float *x, int n) {
    DISPATCH(return vsum_avx512(x, n), return vsum_avx2(x, n), return vsum_portable(x, n))
}
float nt_vdot(const float *a, const float *b, int n) {
    DISPATCH(return vdot_avx512(a, b, n), return vdot_avx2(a, b, n), return vdot_portable(a, b, n))
}
float nt_vsqdev(const float *x, int n, float m) {
    DISPATCH(return vsqdev_avx512(x, n, m), return vsqdev_avx2(x, n, m), return vsqdev_portable(x, n, m))
}
float nt_vsumexp(const float *x, int n, float m) {
    DISPATCH(return vsumexp_avx512(x, n, m), return vsumexp_avx2(x, n, m), return vsumexp_portable(x, n, m))
}
float nt_vexp_sum(float *y, const float *x, int n, float m) {
    DISPATCH(return vexp_sum_avx512(y, x, n, m), return vexp_sum_avx2(y, x, n, m),
             return vexp_sum_portable(y, x, n, m))
}
float nt_vmax(const float *x, int n) {
    DISPATCH(return vmax_avx512(x, n), return vmax_avx2(x, n), return vmax_portable(x, n))
}
void nt_vgelu(float *y, const float *x, int64_t n) {
    DISPATCH(gelu_avx512(y, x, n); return, gelu_avx2(y, x, n); return, gelu_portable(y, x, n); return)
}
void nt_vgelu_grad(float *dx, const float *dy, const float *x, int64_t n, int accumulate) {
    DISPATCH(gelu_grad_avx512(dx, dy, x, n, accumulate); return, gelu_grad_avx2(dx, dy, x, n, accumulate); return,
             gelu_grad_portable(dx, dy, x, n, accumulate); return)
}
void nt_vgelu_both(float *g, float *d, const float *h, int64_t n) {
    DISPATCH(gelu_both_avx512(g, d, h, n); return, gelu_both_avx2(g, d, h, n); return,
             gelu_both_portable(g, d, h, n); return)
}
void nt_vexp_affine(float *dx, const float *x, int64_t n, float l, float g, float off, int accumulate) {
    DISPATCH(exp_affine_avx512(dx, x, n, l, g, off, accumulate); return,
             exp_affine_avx2(dx, x, n, l, g, off, accumulate); return,
             exp_affine_portable(dx, x, n, l, g, off, accumulate); return)
}
