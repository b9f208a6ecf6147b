/* gemm.h - nt_sgemm: single-precision matrix product, our AVX-512 or AVX2 kernel, or OpenBLAS.
 *
 *     // C (M, N) = A (M, K) B (N, K)^T, all row-major and packed
 *     nt_status s = nt_sgemm(0, 1, M, N, K, 1.0f, A, K, B, K, 0.0f, C, N);
 *
 * Same semantics as cblas_sgemm(CblasRowMajor, ...):
 *   C = alpha op(A) op(B) + beta C,  op(A) (m, k), op(B) (k, n), C (m, n)
 * where op(A) = A stored (m, k) with row stride lda, or, if trans_a, A^T with
 * A stored (k, m); likewise op(B) = B stored (k, n) or B^T stored (n, k).
 * beta == 0 overwrites C (old values, NaNs included, are not read); k == 0
 * or alpha == 0 leaves C = beta C. m == 0 or n == 0 does nothing.
 *
 * At the ISA level AVX-512 (core/isa.h: chosen at run time, NT_ISA caps it)
 * the product runs on our blocked kernel: packed panels, a 14 x 32 register
 * tile, cache blocking for a 48 KB L1 / 1 MB L2; at the level AVX2 on the
 * same loops with a 6 x 16 tile of 256-bit registers. Each element of C is summed in an order that depends
 * only on k (k in blocks of KC, in order, each block one FMA chain), so the
 * result is bitwise the same for any thread count and any position of the
 * element in the matrix. Called outside any OpenMP parallel region, a product
 * of at least 64^3 multiply-adds uses up to omp_get_max_threads() threads
 * (one parallel region, C split into row or column strips); called inside
 * one (even an inactive one, `if (0)`: libgomp would start a fresh thread for
 * every nested team), it runs on the calling thread. Packing buffers are
 * allocated once per thread (freed when the thread exits), so steady loops
 * make no allocation after the first call.
 *
 * Both kernels give bitwise the same C (each element is the same FMA chain
 * over k in blocks of KC, then alpha times it, then beta C added by one FMA).
 *
 * At the portable level, or with the environment variable NT_GEMM=openblas
 * (read once, at the first call), every call goes to cblas_sgemm instead
 * (results within rounding of the kernels'; A/B comparisons against OpenBLAS).
 */
#ifndef NT_GEMM_H
#define NT_GEMM_H

#include "core/status.h"

/* C (m, n) = alpha op(A) op(B) + beta C (row-major, see above).
 * NT_ERR_ARG (C untouched) for a negative m, n or k, a leading dimension
 * smaller than its row length (ldc < n; lda < (trans_a ? m : k) or
 * ldb < (trans_b ? k : n) when A and B are read, i.e. k > 0 and alpha != 0),
 * or a NULL matrix that would be read or written. Unlike cblas, a leading
 * dimension of 0 is accepted for an empty row (k == 0 or n == 0).
 * If a packing buffer cannot be allocated, that thread's share falls back to
 * cblas_sgemm (same result up to rounding; still NT_OK). */
nt_status nt_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                   int lda, const float *b, int ldb, float beta, float *c, int ldc);

/* "avx512", "avx2" or "openblas": the path nt_sgemm takes now. */
const char *nt_sgemm_backend(void);

#endif
