/* kernels.h - inner kernels of nt_linear and nt_attention for callers that
 * split the work across their own threads (the batch-1 decoder of
 * nn/infer.c runs a whole step in one parallel region). Internal to
 * nextok (not installed): no validation (callers check shapes), no parallel region, no
 * allocation.
 *
 *     // inside `#pragma omp parallel`: this thread computes outputs [o0, o1)
 *     nt_linear_rows(y, x, W, b, 1, In, Out, o0, o1);
 *     // one head of one query over n cached keys (row stride D)
 *     nt_attention_row(o, q, K, V, n, Dh, D, 1 / sqrtf(Dh), scratch);
 *
 * Summation orders are the generic ops' (nt_linear's few-row dot products,
 * nt_attention's single-query path), so results are bitwise theirs at the
 * same ISA level (core/isa.h). AVX-512 and AVX2 give the same bits (same
 * lanes, same FMAs, same reduction tree); the portable level rounds the
 * few-row products' multiply-adds separately (no FMA), so it agrees with
 * them within rounding.
 */
#ifndef NT_KERNELS_H
#define NT_KERNELS_H

#include <stdint.h>

#include "core/gemm_bf16.h"
#include "core/isa.h"

#if NT_ISA_X86
#include <immintrin.h>

/* The 16 lanes lo (0..7), hi (8..15) summed in nt_vsum's tree order (l +
 * l+8, then + l+4, + l+2, + l+1). */
static inline __attribute__((always_inline)) NT_AVX2 float nt_reduce16_ps256(__m256 lo, __m256 hi) {
    __m256 a8 = _mm256_add_ps(lo, hi);
    __m128 a4 = _mm_add_ps(_mm256_castps256_ps128(a8), _mm256_extractf128_ps(a8, 1));
    __m128 a2 = _mm_add_ps(a4, _mm_movehl_ps(a4, a4));
    __m128 a1 = _mm_add_ss(a2, _mm_shuffle_ps(a2, a2, 1));
    return _mm_cvtss_f32(a1);
}

/* lanes [0, k) of an AVX2 mask set, k clamped to [0, 8] */
static inline __attribute__((always_inline)) NT_AVX2 __m256i nt_tail8_mask(int k) {
    static const int32_t tab[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    k = k < 0 ? 0 : k > 8 ? 8 : k;
    return _mm256_loadu_si256((const __m256i *)(tab + 8 - k));
}

/* y[o] = the 16 lanes of a_o summed in nt_vsum's tree order (l + l+8, then
 * + l+4, + l+2, + l+1), o < 8: halves of every accumulator added pairwise
 * until lane k of 128-bit block b holds output b + 4 k. */
static inline __attribute__((always_inline)) NT_AVX512 void nt_reduce8_ps(float *y, __m512 a0, __m512 a1, __m512 a2, __m512 a3, __m512 a4,
                                 __m512 a5, __m512 a6, __m512 a7) {
    __m512 s01 = _mm512_add_ps(_mm512_shuffle_f32x4(a0, a1, 0x44), _mm512_shuffle_f32x4(a0, a1, 0xEE));
    __m512 s23 = _mm512_add_ps(_mm512_shuffle_f32x4(a2, a3, 0x44), _mm512_shuffle_f32x4(a2, a3, 0xEE));
    __m512 s45 = _mm512_add_ps(_mm512_shuffle_f32x4(a4, a5, 0x44), _mm512_shuffle_f32x4(a4, a5, 0xEE));
    __m512 s67 = _mm512_add_ps(_mm512_shuffle_f32x4(a6, a7, 0x44), _mm512_shuffle_f32x4(a6, a7, 0xEE));
    __m512 u0 = _mm512_add_ps(_mm512_shuffle_f32x4(s01, s23, 0x88), _mm512_shuffle_f32x4(s01, s23, 0xDD));
    __m512 u4 = _mm512_add_ps(_mm512_shuffle_f32x4(s45, s67, 0x88), _mm512_shuffle_f32x4(s45, s67, 0xDD));
    __m512 v = _mm512_add_ps(_mm512_shuffle_ps(u0, u4, 0x44), _mm512_shuffle_ps(u0, u4, 0xEE));
    __m512 t = _mm512_add_ps(_mm512_shuffle_ps(v, v, 0x88), _mm512_shuffle_ps(v, v, 0xDD));
    float out[16];
    _mm512_storeu_ps(out, t);
    for (int b = 0; b < 4; b++) {
        y[b] = out[4 * b];
        y[b + 4] = out[4 * b + 1];
    }
}
#endif

/* Y[r * Out + o] = bias[o] (if bias) + sum_j X[r * In + j] W[o * In + j]
 * for r < R and o in [o0, o1); W is (Out, In) row-major, 0 <= o0 <= o1 <= Out.
 * Bitwise nt_linear's result for up to 16 rows (any R here), whatever the
 * output range. */
void nt_linear_rows(float *Y, const float *X, const float *W, const float *bias, int R, int In,
                    int Out, int o0, int o1);
/* nt_linear_rows with the weights in bf16 (Wh (Out, In), e.g. from
 * nt_params_bf16_of): float32 activations and sums, dot8's lanes and order on
 * the widened weights (a bf16 decoding step: half the weight bytes). */
void nt_linear_rows_bf16(float *Y, const float *X, const uint16_t *Wh, const float *bias, int R, int In,
                         int Out, int o0, int o1);

/* Internal to the few-row kernels (core/matmul.c, core/gemm_bf16.c), AVX-512
 * and AVX2 levels only (nt_isa() not portable): from NT_ROWS_CHUNKED rows on,
 * the weights of 8 outputs are taken in chunks of NT_ROWS_KC inputs, every
 * row over a chunk, NT_ROWS_TILE rows at a time.
 * nt_rows8_chunk: acc (R x 8 x 16 floats: row r at acc + 128 r, output o's 16
 * lane sums at + 16 o; zeros first when `first`) += X[r * ldx + j] w[o][j]
 * for j < n, lane j % 16, one FMA each in order of j (lanes past n % 16 of
 * the last step masked to zero): nt_linear's few-row chains, any R. pf (or
 * NULL): 8 ranges of pf_bytes prefetched meanwhile (the next chunk's
 * weights). out (the last chunk, or NULL): instead of updating acc,
 * out->Y[r * ldy + o] = the lanes of row r, output o added in the tree order
 * (l + l+8, + l+4, + l+2, + l+1), + bias[o] if bias, for o < out->n. */
#define NT_ROWS_CHUNKED 3
#define NT_ROWS_KC 512
#define NT_ROWS_TILE 32
typedef struct nt_rows8_out {
    float *Y;
    int64_t ldy;
    const float *bias;
    int n;
} nt_rows8_out;
void nt_rows8_chunk(float *acc, const float *X, int64_t ldx, int R, const float *const *w, int n, int first,
                    const char *const *pf, int pf_bytes, const nt_rows8_out *out);

/* Thread t's share of a product when nth threads run it together, for
 * callers inside a parallel region of nth threads where every thread t < nth
 * calls with its t (no barrier inside: the caller's barrier or the region's
 * end closes the product; C must not be read before). nt_sgemm's result
 * (core/gemm.h), bitwise the same for any nth, arguments unchecked:
 *   C (m, n) = alpha op(A) op(B) + beta C, or with bias (n) not NULL (beta
 *   must then be 0) C = alpha op(A) op(B) + bias on every row - the bits of
 *   C preset to the bias and beta = 1.
 * nth 0: the product on its own threads, as nt_sgemm (outside a region).
 * nt_gemm_bf16_share: the same for nt_gemm_bf16 (core/gemm_bf16.h). */
void nt_sgemm_share(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda, const float *b,
                    int ldb, float beta, const float *bias, float *c, int ldc, int t, int nth);
void nt_gemm_bf16_share(int ta, int tb, int m, int n, int k, float alpha, const void *a, nt_operand a_type,
                        int lda, const void *b, nt_operand b_type, int ldb, float beta, const float *bias, float *c, int ldc, int t,
                        int nth);

/* out (Dh) = sum_j p_j V[j * ld ..], p = softmax over j < n of
 * scale q . K[j * ld ..] (Dh wide): one head of one query with every key
 * visible, bitwise nt_attention's single-query path. s: n floats of scratch
 * (the probabilities on return). n >= 1. out may alias q. */
void nt_attention_row(float *out, const float *q, const float *K, const float *V, int n, int Dh,
                      int ld, float scale, float *s);

#endif
