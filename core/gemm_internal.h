/* gemm_internal.h - internal: the AVX-512 pieces nt_sgemm (core/gemm.c) and
 * nt_gemm_bf16 (core/gemm_bf16.c) share: edge masks, the 16 x 16 transpose
 * of their B packing, and the store of one accumulated row of a 14 x 32 tile.
 *
 * Every function is always_inline with NT_AVX512's target, so it inlines into
 * any caller compiled for a superset of it (the bf16 kernels add avx512bf16).
 * Not installed (CMake skips *_internal.h).
 */
#ifndef NT_GEMM_INTERNAL_H
#define NT_GEMM_INTERNAL_H

#include "core/isa.h"

#if NT_ISA_X86
#include <immintrin.h>
#include <stdint.h>

#define NT_GEMM_INLINE static inline __attribute__((always_inline)) NT_AVX512

/* the low min(max(w, 0), 16) lanes */
NT_GEMM_INLINE __mmask16 nt_gemm_lanes(int w) {
    return w >= 16 ? (__mmask16)0xFFFF : w <= 0 ? 0 : (__mmask16)((1u << w) - 1);
}

/* 16 x 16 transpose of 32-bit elements: row r of the result is column r of
 * the input rows. */
NT_GEMM_INLINE void nt_gemm_transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
        r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xEE);
        r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int i = 0; i < 4; i++) {
        t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
        t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xDD);
        t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
        t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xDD);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xDD);
        r[i + 4] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0x88);
        r[i + 12] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0xDD);
    }
}

/* one row of a tile: cr[0..32) (masks m0, m1 for its two halves) =
 * alpha acc + beta cr (+ bias[0..32) when bias), beta == 0 not reading cr.
 * alpha is multiplied first, then beta C added with one FMA, then the bias:
 * the order every kernel keeps (with beta 0, alpha acc + bias is the
 * rounded sum that beta = 1 on a C preset to the bias gives). */
NT_GEMM_INLINE void nt_gemm_store_row(float *cr, __m512 acc0, __m512 acc1, __m512 va, __m512 vb, float beta,
                                      const float *bias, __mmask16 m0, __mmask16 m1) {
    __m512 r0 = _mm512_mul_ps(va, acc0), r1 = _mm512_mul_ps(va, acc1);
    if (beta != 0.0f) {
        r0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, cr), r0);
        r1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, cr + 16), r1);
    }
    if (bias) {
        r0 = _mm512_add_ps(r0, _mm512_maskz_loadu_ps(m0, bias));
        r1 = _mm512_add_ps(r1, _mm512_maskz_loadu_ps(m1, bias + 16));
    }
    _mm512_mask_storeu_ps(cr, m0, r0);
    _mm512_mask_storeu_ps(cr + 16, m1, r1);
}
#endif

#endif
