/* gemm.c - nt_sgemm: blocked single-precision GEMM with AVX-512 and AVX2
 * micro-kernels (chosen at run time by core/isa.h's level).
 *
 * Letters: C (m, n) = alpha op(A) (m, k) op(B) (k, n) + beta C, row-major.
 *   MR x NR   register tile of C: 14 rows x 32 columns (2 zmm per row),
 *             28 accumulators + 2 B vectors of the 32 zmm registers
 *             (AVX2: MR2 x NR2 = 6 x 16, 12 of the 16 ymm registers)
 *   KC        depth of one pass over a tile (k in blocks of KC)
 *   NC        columns of op(B) packed at once (KC x NC floats, kept in L2)
 *
 * The classic Goto/BLIS structure (K. Goto, R. van de Geijn, "Anatomy of
 * high-performance matrix multiplication", ACM TOMS 34(3), 2008), arranged
 * for row-major C with the vectors along n:
 *
 *   for jc in n, step NC                       columns of this thread's share
 *     for pc in k, step KC
 *       pack op(B)[pc.., jc..] -> Bp           (KC, NC) as NR-wide panels, L2
 *       for ir in m, step MR
 *         pack op(A)[ir.., pc..] -> Ap         one MR x KC micro-panel, L1
 *         for jr in NC, step NR
 *           C[ir.., jc+jr..] = alpha Ap Bp_jr + (pc == 0 ? beta : 1) C
 *
 * Transposes are absorbed by the packing: op(A) is packed row by row (A not
 * transposed: rows of A copied, "i-major") or k by k (A transposed: MR
 * contiguous values per k, "p-major"), and the kernel reads either layout
 * through compile-time strides. A full 14-row panel of a non-transposed A
 * needs no copy: the kernel reads it in place with row stride lda (no copy
 * traffic; ~3% faster in one-thread runs at the model shapes), except when
 * lda is a multiple of 1024 floats, whose 14 rows would share one 12-way L1
 * set. op(B) panels hold NR consecutive columns per k, zero-padded; A
 * micro-panels are zero-padded to MR rows. Edge tiles compute the full
 * 14 x 32 (7 x 32 for panels of at most 7 rows) and store only the valid
 * part through masks, so every element of C goes through the same sequence
 * of operations.
 *
 * The loops, the thread split and the per-thread buffers are the shared
 * driver's (core/gemm_driver.h, also nt_gemm_bf16's): threads split C into
 * strips of whole tiles (rows, or columns when C has more column tiles than
 * row tiles); each thread runs the loops above on its strip with its own
 * buffer, packing the operand both strips share again (that costs 1/(rows of
 * its strip) of its work). Nothing is split along k, so the sum behind each
 * element is the same for any thread count. This file supplies the packing
 * and the micro-kernels (pack_b_*, rows_*: one MR-row panel of A against the
 * packed B block).
 */
#include "core/gemm.h"

#include <cblas.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/gemm_driver.h"
#include "core/gemm_internal.h"
#include "core/isa.h"
#include "core/kernels.h"

#if NT_ISA_X86
#define NT_GEMM_X86 1
#include <immintrin.h>
#define AVX512 NT_AVX512
#define AVX2 NT_AVX2
#else
#define NT_GEMM_X86 0
#endif

#define MR 14
#define NR 32
/* The AVX2 kernel's tile: 6 rows x 16 columns, 12 ymm accumulators + 2 B
 * vectors + 1 broadcast of the 16 ymm registers. */
#define MR2 6
#define NR2 16
#ifndef NT_GEMM_KC
#define NT_GEMM_KC 384
#endif
#ifndef NT_GEMM_NC
#define NT_GEMM_NC 512
#endif
#define KC NT_GEMM_KC
#define NC NT_GEMM_NC
/* Per thread (the driver's buffer): the B block, then one A micro-panel
 * (with room for a masked 16-lane store past its end). */
#define BUF_FLOATS ((size_t)KC * NC + (size_t)MR * KC + 16)
_Static_assert(BUF_FLOATS * sizeof(float) <= NT_GEMM_BUF_BYTES, "NT_GEMM_BUF_BYTES too small for KC x NC");

typedef struct gemm_args {
    int ta, tb, m, n, k;
    float alpha, beta;
    const float *a, *b;
    float *c;
    int lda, ldb, ldc;
    const float *bias; /* (n) added to every row of C, or NULL (then beta == 0) */
} gemm_args;

/* ---- backend choice and per-thread buffers ------------------------------------------ */

enum { BACKEND_OPENBLAS = 0, BACKEND_AVX2 = 1, BACKEND_AVX512 = 2 };
static int force_blas = -1; /* NT_GEMM=openblas, read once */

// the kernel for this call: the ISA level's (nt_isa()), or OpenBLAS
static int backend_get(void) {
    int f = __atomic_load_n(&force_blas, __ATOMIC_RELAXED);
    if (f < 0) {
        const char *env = getenv("NT_GEMM");
        f = env && !strcmp(env, "openblas");
        __atomic_store_n(&force_blas, f, __ATOMIC_RELAXED); /* racing first calls agree */
    }
    if (f || !NT_GEMM_X86) return BACKEND_OPENBLAS;
    switch (nt_isa()) {
    case NT_ISA_AVX512: return BACKEND_AVX512;
    case NT_ISA_AVX2: return BACKEND_AVX2;
    default: return BACKEND_OPENBLAS;
    }
}

const char *nt_sgemm_backend(void) {
    switch (backend_get()) {
    case BACKEND_AVX512: return "avx512";
    case BACKEND_AVX2: return "avx2";
    default: return "openblas";
    }
}

/* ---- reference paths ------------------------------------------------------------------ */

// rows [r0, r1) x columns [c0, c1) of the product through OpenBLAS (a bias: C preset to it, beta 1)
static void part_cblas(const gemm_args *g, int r0, int r1, int c0, int c1) {
    if (r0 >= r1 || c0 >= c1) return;
    const float *a = g->ta ? g->a + r0 : g->a + (int64_t)r0 * g->lda;
    const float *b = g->tb ? g->b + (int64_t)c0 * g->ldb : g->b + c0;
    if (g->bias)
        for (int i = r0; i < r1; i++) memcpy(g->c + (int64_t)i * g->ldc + c0, g->bias + c0, (size_t)(c1 - c0) * sizeof(float));
    cblas_sgemm(CblasRowMajor, g->ta ? CblasTrans : CblasNoTrans, g->tb ? CblasTrans : CblasNoTrans,
                r1 - r0, c1 - c0, g->k, g->alpha, a, g->lda, b, g->ldb, g->bias ? 1.0f : g->beta,
                g->c + (int64_t)r0 * g->ldc + c0, g->ldc);
}

// the driver's fallback: a thread without its buffer runs its strip on OpenBLAS
static void part_fallback(const void *args, int r0, int r1, int c0, int c1) {
    part_cblas(args, r0, r1, c0, c1);
}

#if NT_GEMM_X86
/* ---- the AVX-512 kernel ------------------------------------------------------------ */

/* C[0..mr, 0..32) (masks m0, m1 for its two 16-column halves) =
 *     alpha sum_p A(i, p) Bp[p, j] + beta C, beta == 0 not reading C.
 * A(i, p) = ap[i * rs + p * ks]: rs = KC, ks = 1 for an i-major panel, rs = 1,
 * ks = MR for a p-major one. Bp is (kc, NR), 64-byte aligned. */
static inline __attribute__((always_inline)) AVX512 void
kernel_tile(const int rows, int kc, const float *restrict ap, const int64_t rs, const int ks,
            const float *restrict bp, float *c, int64_t ldc, float alpha, float beta, const float *bias, int mr,
            __mmask16 m0, __mmask16 m1) {
    for (int i = 0; i < mr; i++) {
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + NR - 1), _MM_HINT_T0);
    }
    __m512 acc[MR][2];
#pragma GCC unroll 14
    for (int i = 0; i < rows; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
#pragma GCC unroll 2
    for (int p = 0; p < kc; p++) {
        __m512 b0 = _mm512_load_ps(bp + p * NR), b1 = _mm512_load_ps(bp + p * NR + 16);
#pragma GCC unroll 14
        for (int i = 0; i < rows; i++) {
            __m512 av = _mm512_set1_ps(ap[i * rs + p * ks]);
            acc[i][0] = _mm512_fmadd_ps(av, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(av, b1, acc[i][1]);
        }
    }
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 14
    for (int i = 0; i < rows; i++) {
        if (i < mr) {
            nt_gemm_store_row(c + i * ldc, acc[i][0], acc[i][1], va, vb, beta, bias, m0, m1);
        }
    }
}

AVX512 static void kernel_imajor(int kc, const float *ap, const float *bp, float *c, int64_t ldc,
                                 float alpha, float beta, const float *bias, int mr, __mmask16 m0, __mmask16 m1) {
    if (mr > MR / 2) kernel_tile(MR, kc, ap, KC, 1, bp, c, ldc, alpha, beta, bias, mr, m0, m1);
    else kernel_tile(MR / 2, kc, ap, KC, 1, bp, c, ldc, alpha, beta, bias, mr, m0, m1);
}

AVX512 static void kernel_pmajor(int kc, const float *ap, const float *bp, float *c, int64_t ldc,
                                 float alpha, float beta, const float *bias, int mr, __mmask16 m0, __mmask16 m1) {
    if (mr > MR / 2) kernel_tile(MR, kc, ap, 1, MR, bp, c, ldc, alpha, beta, bias, mr, m0, m1);
    else kernel_tile(MR / 2, kc, ap, 1, MR, bp, c, ldc, alpha, beta, bias, mr, m0, m1);
}

// A(i, p) = ap[i * lda + p]: a full panel of A read in place
AVX512 static void kernel_direct(int kc, const float *ap, int64_t lda, const float *bp, float *c, int64_t ldc,
                                 float alpha, float beta, const float *bias, int mr, __mmask16 m0, __mmask16 m1) {
    kernel_tile(MR, kc, ap, lda, 1, bp, c, ldc, alpha, beta, bias, mr, m0, m1);
}

#define lanes nt_gemm_lanes

/* Ap = op(A)[i0 .. i0+mr, p0 .. p0+kc), zero rows up to MR: i-major (row
 * stride KC) when A is not transposed, p-major (MR values per k) when it is. */
AVX512 static void pack_a(float *restrict ap, const gemm_args *g, int i0, int mr, int p0, int kc) {
    if (!g->ta) {
        for (int i = 0; i < mr; i++)
            memcpy(ap + i * KC, g->a + (int64_t)(i0 + i) * g->lda + p0, (size_t)kc * sizeof(float));
        for (int i = mr; i < MR; i++) memset(ap + i * KC, 0, (size_t)kc * sizeof(float));
    } else {
        __mmask16 mk = lanes(mr), all = lanes(MR);
        const float *src = g->a + (int64_t)p0 * g->lda + i0;
        for (int p = 0; p < kc; p++)
            _mm512_mask_storeu_ps(ap + p * MR, all, _mm512_maskz_loadu_ps(mk, src + (int64_t)p * g->lda));
    }
}

/* Bp = op(B)[p0 .. p0+kc, j0 .. j0+nc) as ceil(nc / NR) panels of (kc, NR),
 * columns past nc zero. */
AVX512 static void pack_b(float *restrict bp, const gemm_args *g, int p0, int kc, int j0, int nc) {
    for (int jp = 0; jp < nc; jp += NR) {
        float *dst = bp + (int64_t)jp * kc;
        int w = nc - jp < NR ? nc - jp : NR;
        if (!g->tb) {
            __mmask16 m0 = lanes(w), m1 = lanes(w - 16);
            const float *src = g->b + (int64_t)p0 * g->ldb + j0 + jp;
            for (int p = 0; p < kc; p++, src += g->ldb) {
                _mm512_store_ps(dst + p * NR, _mm512_maskz_loadu_ps(m0, src));
                _mm512_store_ps(dst + p * NR + 16, _mm512_maskz_loadu_ps(m1, src + 16));
            }
            continue;
        }
        /* B stored (n, k): 16 columns x 16 k at a time, transposed. */
        for (int h = 0; h < NR; h += 16) {
            int wh = w - h; /* valid columns in this half */
            const float *src = g->b + (int64_t)(j0 + jp + h) * g->ldb + p0;
            for (int p = 0; p < kc; p += 16) {
                __mmask16 mk = lanes(kc - p);
                __m512 r[16];
                for (int j = 0; j < 16; j++)
                    r[j] = j < wh ? _mm512_maskz_loadu_ps(mk, src + (int64_t)j * g->ldb + p) : _mm512_setzero_ps();
                nt_gemm_transpose16(r);
                int np = kc - p < 16 ? kc - p : 16;
                for (int q = 0; q < np; q++) _mm512_store_ps(dst + (p + q) * NR + h, r[q]);
            }
        }
    }
}

// the driver's pack_b: the B block at the start of the buffer
AVX512 static void pack_b_avx512(void *buf, const void *args, int p0, int kc, int j0, int nc) {
    pack_b(buf, args, p0, kc, j0, nc);
}

// the driver's rows: op(A) rows [ir, ir + mr) against the packed B block
AVX512 static void rows_avx512(void *buf, const void *args, int ir, int mr, int pc, int kc, int jc, int nc) {
    const gemm_args *g = args;
    float *bp = buf, *ap = bp + (size_t)KC * NC;
    int64_t ldc = g->ldc;
    float beta = pc == 0 ? g->beta : 1.0f;
    /* A full panel of a non-transposed A is read in place (row stride lda)
     * unless its rows would share L1 sets (a stride of a multiple of 4 KB
     * puts all 14 in one 12-way set). */
    int direct = !g->ta && mr == MR && g->lda % 1024 != 0;
    if (!direct) pack_a(ap, g, ir, mr, pc, kc);
    for (int jr = 0; jr < nc; jr += NR) {
        int w = nc - jr;
        __mmask16 m0 = lanes(w), m1 = lanes(w - 16);
        float *ct = g->c + ir * ldc + jc + jr;
        const float *bias = pc == 0 && g->bias ? g->bias + jc + jr : NULL;
        if (direct) kernel_direct(kc, g->a + (int64_t)ir * g->lda + pc, g->lda, bp + (int64_t)jr * kc, ct, ldc, g->alpha, beta, bias, mr, m0, m1);
        else if (!g->ta) kernel_imajor(kc, ap, bp + (int64_t)jr * kc, ct, ldc, g->alpha, beta, bias, mr, m0, m1);
        else kernel_pmajor(kc, ap, bp + (int64_t)jr * kc, ct, ldc, g->alpha, beta, bias, mr, m0, m1);
    }
}
/* ---- the AVX2 + FMA kernel -----------------------------------------------------------
 * The same loops with a 6 x 16 tile (MR2 x NR2) and plain-C packing. Each
 * element of C is the same FMA chain over k in blocks of KC, then alpha acc,
 * then beta C added with one FMA, as in the AVX-512 kernel: the two give
 * bitwise the same C. */

/* C[0..mr, 0..w) = alpha sum_p A(i, p) Bp[p, 0..16) + beta C; A(i, p) = ap[i rs + p ks] */
static inline __attribute__((always_inline)) AVX2 void
kernel2_tile(int kc, const float *restrict ap, const int64_t rs, const int ks, const float *restrict bp,
             float *c, int64_t ldc, const float *ab, const float *bias, int mr, int w) {
    /* alpha, beta = ab[0], ab[1], read after the loop: as arguments they
     * would hold 2 of the 16 registers through it and spill an accumulator */
    __m256 acc[MR2][2];
#pragma GCC unroll 6
    for (int i = 0; i < MR2; i++) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
#pragma GCC unroll 2
    for (int p = 0; p < kc; p++) {
        __m256 b0 = _mm256_load_ps(bp + p * NR2), b1 = _mm256_load_ps(bp + p * NR2 + 8);
#pragma GCC unroll 6
        for (int i = 0; i < MR2; i++) {
            __m256 av = _mm256_broadcast_ss(ap + i * rs + p * ks);
            acc[i][0] = _mm256_fmadd_ps(av, b0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(av, b1, acc[i][1]);
        }
    }
    float alpha = ab[0], beta = ab[1];
    __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    if (w == NR2) {
#pragma GCC unroll 6
        for (int i = 0; i < MR2; i++) {
            if (i < mr) {
                float *cr = c + i * ldc;
                __m256 r0 = _mm256_mul_ps(va, acc[i][0]), r1 = _mm256_mul_ps(va, acc[i][1]);
                if (beta != 0.0f) {
                    r0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr), r0);
                    r1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr + 8), r1);
                }
                if (bias) {
                    r0 = _mm256_add_ps(r0, _mm256_loadu_ps(bias));
                    r1 = _mm256_add_ps(r1, _mm256_loadu_ps(bias + 8));
                }
                _mm256_storeu_ps(cr, r0);
                _mm256_storeu_ps(cr + 8, r1);
            }
        }
        return;
    }
    /* edge tile: the same operations, lane by lane for the valid columns */
    float t[NR2];
#pragma GCC unroll 6
    for (int i = 0; i < MR2; i++) { /* constant indices: acc stays in registers */
        if (i < mr) {
            _mm256_storeu_ps(t, _mm256_mul_ps(va, acc[i][0]));
            _mm256_storeu_ps(t + 8, _mm256_mul_ps(va, acc[i][1]));
            float *cr = c + i * ldc;
            if (beta != 0.0f)
                for (int j = 0; j < w; j++)
                    cr[j] = _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(beta), _mm_set_ss(cr[j]), _mm_set_ss(t[j])));
            else
                for (int j = 0; j < w; j++) cr[j] = t[j];
            if (bias)
                for (int j = 0; j < w; j++) cr[j] += bias[j];
        }
    }
}

AVX2 static void kernel2_packed(int kc, const float *ap, int ta, const float *bp, float *c, int64_t ldc,
                                const float *ab, const float *bias, int mr, int w) {
    if (!ta) kernel2_tile(kc, ap, KC, 1, bp, c, ldc, ab, bias, mr, w);
    else kernel2_tile(kc, ap, 1, MR2, bp, c, ldc, ab, bias, mr, w);
}

AVX2 static void kernel2_direct(int kc, const float *ap, int64_t lda, const float *bp, float *c, int64_t ldc,
                                const float *ab, const float *bias, int mr, int w) {
    kernel2_tile(kc, ap, lda, 1, bp, c, ldc, ab, bias, mr, w);
}

/* Ap = op(A)[i0 .. i0+mr, p0 .. p0+kc), zero rows up to MR2: i-major (row
 * stride KC) or p-major (MR2 values per k) as pack_a. */
AVX2 static void pack2_a(float *restrict ap, const gemm_args *g, int i0, int mr, int p0, int kc) {
    if (!g->ta) {
        for (int i = 0; i < mr; i++)
            memcpy(ap + i * KC, g->a + (int64_t)(i0 + i) * g->lda + p0, (size_t)kc * sizeof(float));
        for (int i = mr; i < MR2; i++) memset(ap + i * KC, 0, (size_t)kc * sizeof(float));
    } else {
        const float *src = g->a + (int64_t)p0 * g->lda + i0;
        for (int p = 0; p < kc; p++, src += g->lda) {
            float *d = ap + p * MR2;
            for (int i = 0; i < MR2; i++) d[i] = i < mr ? src[i] : 0.0f;
        }
    }
}

/* 8 x 8 transpose of r[0..8) */
static inline __attribute__((always_inline)) AVX2 void transpose8(__m256 r[8]) {
    __m256 t[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        r[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
        r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int i = 0; i < 4; i++) {
        t[i] = _mm256_permute2f128_ps(r[i], r[i + 4], 0x20);
        t[i + 4] = _mm256_permute2f128_ps(r[i], r[i + 4], 0x31);
    }
    for (int i = 0; i < 8; i++) r[i] = t[i];
}

/* Bp = op(B)[p0 .. p0+kc, j0 .. j0+nc) as ceil(nc / NR2) panels of (kc, NR2),
 * columns past nc zero. */
AVX2 static void pack2_b(float *restrict bp, const gemm_args *g, int p0, int kc, int j0, int nc) {
    for (int jp = 0; jp < nc; jp += NR2) {
        float *dst = bp + (int64_t)jp * kc;
        int w = nc - jp < NR2 ? nc - jp : NR2;
        if (!g->tb) {
            const float *src = g->b + (int64_t)p0 * g->ldb + j0 + jp;
            if (w == NR2) {
                for (int p = 0; p < kc; p++, src += g->ldb) {
                    _mm256_store_ps(dst + p * NR2, _mm256_loadu_ps(src));
                    _mm256_store_ps(dst + p * NR2 + 8, _mm256_loadu_ps(src + 8));
                }
            } else {
                for (int p = 0; p < kc; p++, src += g->ldb)
                    for (int j = 0; j < NR2; j++) dst[p * NR2 + j] = j < w ? src[j] : 0.0f;
            }
            continue;
        }
        /* B stored (n, k): 8 columns x 8 k at a time, transposed */
        for (int h = 0; h < NR2; h += 8) {
            int wh = w - h;
            const float *src = g->b + (int64_t)(j0 + jp + h) * g->ldb + p0;
            int p = 0;
            if (wh >= 8) {
                for (; p + 8 <= kc; p += 8) {
                    __m256 r[8];
                    for (int j = 0; j < 8; j++) r[j] = _mm256_loadu_ps(src + (int64_t)j * g->ldb + p);
                    transpose8(r);
                    for (int q = 0; q < 8; q++) _mm256_store_ps(dst + (p + q) * NR2 + h, r[q]);
                }
            }
            for (; p < kc; p++)
                for (int j = 0; j < 8; j++) dst[p * NR2 + h + j] = j < wh ? src[(int64_t)j * g->ldb + p] : 0.0f;
        }
    }
}

AVX2 static void pack_b_avx2(void *buf, const void *args, int p0, int kc, int j0, int nc) {
    pack2_b(buf, args, p0, kc, j0, nc);
}

AVX2 static void rows_avx2(void *buf, const void *args, int ir, int mr, int pc, int kc, int jc, int nc) {
    const gemm_args *g = args;
    float *bp = buf, *ap = bp + (size_t)KC * NC;
    int64_t ldc = g->ldc;
    const float ab[2] = {g->alpha, pc == 0 ? g->beta : 1.0f};
    int direct = !g->ta && mr == MR2 && g->lda % 1024 != 0;
    if (!direct) pack2_a(ap, g, ir, mr, pc, kc);
    for (int jr = 0; jr < nc; jr += NR2) {
        int w = nc - jr < NR2 ? nc - jr : NR2;
        float *ct = g->c + ir * ldc + jc + jr;
        const float *bias = pc == 0 && g->bias ? g->bias + jc + jr : NULL;
        if (direct) kernel2_direct(kc, g->a + (int64_t)ir * g->lda + pc, g->lda, bp + (int64_t)jr * kc, ct, ldc, ab, bias, mr, w);
        else kernel2_packed(kc, ap, g->ta, bp + (int64_t)jr * kc, ct, ldc, ab, bias, mr, w);
    }
}
#endif

// the product on our kernel (the shared driver): on its own threads (nth 0), or thread t's share of nth
static void run_blocked(const gemm_args *g, int be, int t, int nth) {
#if NT_GEMM_X86
    nt_gemm_plan p = {g->m, g->n, g->k, MR, NR, KC, NC, g, pack_b_avx512, rows_avx512, part_fallback};
    if (be == BACKEND_AVX2)
        p = (nt_gemm_plan){g->m, g->n, g->k, MR2, NR2, KC, NC, g, pack_b_avx2, rows_avx2, part_fallback};
    if (nth) nt_gemm_run_share(&p, t, nth);
    else nt_gemm_run(&p);
#else
    (void)be, (void)t, (void)nth;
    part_cblas(g, 0, g->m, 0, g->n);
#endif
}

// C = bias on every row (k == 0 or alpha == 0 with a bias)
static void fill_bias(float *c, int m, int n, int ldc, const float *bias) {
    for (int i = 0; i < m; i++) memcpy(c + (int64_t)i * ldc, bias, (size_t)n * sizeof(float));
}

void nt_sgemm_share(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda, const float *b,
                    int ldb, float beta, const float *bias, float *c, int ldc, int t, int nth) {
    if (m <= 0 || n <= 0) return;
    if (nth <= 0) t = 0; /* on its own threads */
    gemm_args g = {ta != 0, tb != 0, m, n, k, alpha, beta, a, b, c, lda, ldb, ldc, bias};
    if (k == 0 || alpha == 0.0f) { /* rows split among the threads */
        int n_of = nth > 0 ? nth : 1;
        int r0 = (int)((int64_t)m * t / n_of), r1 = (int)((int64_t)m * (t + 1) / n_of);
        if (bias) fill_bias(c + (int64_t)r0 * ldc, r1 - r0, n, ldc, bias);
        else nt_gemm_scale_c(c + (int64_t)r0 * ldc, r1 - r0, n, ldc, beta);
        return;
    }
    int be = backend_get();
    if (be != BACKEND_OPENBLAS) {
        run_blocked(&g, be, t, nth);
        return;
    }
    if (nth <= 0) {
        part_cblas(&g, 0, m, 0, n);
        return;
    }
    /* OpenBLAS runs on one thread inside a parallel region: rows split here */
    int r0 = (int)((int64_t)m * t / nth), r1 = (int)((int64_t)m * (t + 1) / nth);
    part_cblas(&g, r0, r1, 0, n);
}

nt_status nt_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                   int lda, const float *b, int ldb, float beta, float *c, int ldc) {
    int ta = trans_a != 0, tb = trans_b != 0;
    if (m < 0 || n < 0 || k < 0)
        return nt_error(NT_ERR_ARG, "nt_sgemm: m, n, k must be >= 0 (got %d, %d, %d)", m, n, k);
    if (m == 0 || n == 0) return NT_OK;
    if (ldc < n) return nt_error(NT_ERR_ARG, "nt_sgemm: ldc %d < n %d", ldc, n);
    if (!c) return nt_error(NT_ERR_ARG, "nt_sgemm: c is NULL");
    gemm_args g = {ta, tb, m, n, k, alpha, beta, a, b, c, lda, ldb, ldc, NULL};
    if (k == 0 || alpha == 0.0f) { /* A and B are not read */
        nt_gemm_scale_c(c, m, n, ldc, beta);
        return NT_OK;
    }
    int arow = ta ? m : k, brow = tb ? k : n;
    if (lda < arow || ldb < brow)
        return nt_error(NT_ERR_ARG, "nt_sgemm: leading dimension too small (lda %d, need >= %d; ldb %d, need >= %d)",
                        lda, arow, ldb, brow);
    if (!a || !b) return nt_error(NT_ERR_ARG, "nt_sgemm: a or b is NULL (a %p, b %p)", (const void *)a, (const void *)b);
    int be = backend_get();
    if (be != BACKEND_OPENBLAS) run_blocked(&g, be, 0, 0);
    else part_cblas(&g, 0, m, 0, n);
    return NT_OK;
}
