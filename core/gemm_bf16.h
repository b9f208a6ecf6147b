/* gemm_bf16.h - nt_gemm_bf16: matrix product on bf16 operands with float32 accumulation.
 *
 *     // C (M, N) = X (M, K) W (N, K)^T, X float32 (rounded to bf16 as it is
 *     // packed), W already bf16 (converted once, e.g. per optimizer update)
 *     nt_status s = nt_gemm_bf16(0, 1, M, N, K, 1.0f, X, NT_OPERAND_F32, K,
 *                                Wbf, NT_OPERAND_BF16, K, 0.0f, C, N);
 *
 * Semantics of cblas_sgemm / nt_sgemm (core/gemm.h), row-major:
 *   C = alpha op(A) op(B) + beta C,  op(A) (m, k), op(B) (k, n), C (m, n)
 * except that every element of A and B is read as bf16: a float32 operand
 * is rounded to nearest even (core/bf16.h) while it is packed, a bf16 one is
 * read as is. bf16 subnormal operands count as zero (as in vdpbf16ps and
 * AMX). Products are exact in float32 and are accumulated in float32: k in
 * blocks of KC (512), each block summed from zero as pairs
 *   acc = (acc + a[2q+1] b[2q+1]) + a[2q] b[2q]   (two float32 roundings)
 * in order of q (vdpbf16ps's order), then C = alpha acc + beta C per block
 * (the first block with the caller's beta, the next ones with 1). That order
 * depends on k only, so a result is bitwise the same for any thread count
 * and any position of the element in C. beta == 0 overwrites C without
 * reading it (NaNs in C are not propagated); k == 0 or alpha == 0 gives
 * C = beta C; m == 0 or n == 0 does nothing.
 *
 * Kernels, chosen once at run time (capped by NT_ISA, see core/bf16.h):
 *   avx512bf16  vdpbf16ps on a 14 x 32 register tile (Zen 4, Cooper Lake+)
 *   emulated    the same arithmetic in portable C on the same packed panels:
 *               float32 FMAs on the bf16 values, in the same order, with
 *               results below FLT_MIN flushed to zero on x86 (the hardware
 *               kernel's DAZ/FTZ), so the two agree bitwise whenever no
 *               product is a float32 subnormal (tests/test_gemm_bf16.c)
 * There is no AMX kernel yet (Sapphire Rapids+; see the issue notes): on
 * such CPUs the avx512bf16 kernel runs.
 *
 * Threads, packing buffers and the nesting rule are nt_sgemm's: outside any
 * OpenMP parallel region a product of >= 64^3 multiply-adds uses up to
 * omp_get_max_threads() threads (C split into strips of whole tiles, a
 * static split), inside one it runs on the calling thread; per-thread
 * buffers are allocated once and freed at thread exit.
 */
#ifndef NT_GEMM_BF16_H
#define NT_GEMM_BF16_H

#include "core/bf16.h"
#include "core/status.h"

/* What an operand's memory holds. */
typedef enum nt_operand {
    NT_OPERAND_F32 = 0,  /* float32, rounded to bf16 when packed */
    NT_OPERAND_BF16 = 1, /* nt_bf16 */
} nt_operand;

/* The bf16 GEMM kernels. */
typedef enum nt_gemm_bf16_kernel {
    NT_GEMM_BF16_AUTO = -1,      /* the best this CPU has, capped by NT_ISA */
    NT_GEMM_BF16_EMULATED = 0,   /* portable float32 arithmetic, bitwise vdpbf16ps's */
    NT_GEMM_BF16_AVX512BF16 = 1, /* vdpbf16ps */
} nt_gemm_bf16_kernel;

/* C (m, n) = alpha op(A) op(B) + beta C with bf16 operands (see above);
 * a_type / b_type say whether a / b point to float or nt_bf16 elements, and
 * lda / ldb count elements. NT_ERR_ARG (C untouched) for a negative m, n or
 * k, ldc < n, lda < (trans_a ? m : k) or ldb < (trans_b ? k : n) when A and B
 * are read (k > 0 and alpha != 0), a bad operand type, or a NULL matrix that
 * would be read or written. If a packing buffer cannot be allocated, that
 * thread's share runs unpacked through the emulated arithmetic (same bits;
 * still NT_OK). */
nt_status nt_gemm_bf16(int trans_a, int trans_b, int m, int n, int k, float alpha, const void *a,
                       nt_operand a_type, int lda, const void *b, nt_operand b_type, int ldb,
                       float beta, float *c, int ldc);

/* Forces a kernel for every later call (tests, benchmarks), or back to the
 * automatic choice with NT_GEMM_BF16_AUTO. NT_ERR_ARG (choice unchanged) if
 * this CPU lacks it. Not thread-safe against concurrent products. */
nt_status nt_gemm_bf16_force(nt_gemm_bf16_kernel kernel);

/* The kernel the next call runs on. */
nt_gemm_bf16_kernel nt_gemm_bf16_kernel_active(void);
/* "avx512bf16" or "emulated". */
const char *nt_gemm_bf16_kernel_name(nt_gemm_bf16_kernel kernel);

#endif
