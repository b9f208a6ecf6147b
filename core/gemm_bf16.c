/* gemm_bf16.c - nt_gemm_bf16: blocked GEMM on bf16 operands (vdpbf16ps kernel and its exact emulation).
 *
 * Letters: C (m, n) = alpha op(A) (m, k) op(B) (k, n) + beta C, row-major.
 *   MR x NR   register tile of C: 14 rows x 32 columns (2 zmm per row)
 *   KC        depth of one pass (even); Q = KC / 2 pairs of k
 *   NC        columns of op(B) packed at once (KC x NC bf16, kept in L2)
 *
 * The loops are nt_sgemm's (Goto & van de Geijn 2008), run by the same
 * driver (core/gemm_driver.h: thread split, per-thread buffers, block loops);
 * this file supplies the packing and the kernels:
 *
 *   for jc in n, step NC
 *     for pc in k, step KC
 *       pack op(B)[pc.., jc..] -> Bp           NR-wide panels of k pairs
 *       for ir in m, step MR
 *         pack op(A)[ir.., pc..] -> Ap         one MR x KC micro-panel
 *         for jr in NC, step NR
 *           C[ir.., jc+jr..] = alpha Ap Bp_jr + (pc == 0 ? beta : 1) C
 *           (hardware kernel: a share of op(A)[ir+MR.., pc..], the next
 *           panel, prefetched to L2 before each tile)
 *
 * vdpbf16ps multiplies pairs: lane j of the destination gets
 *   acc_j = (acc_j + a[2j+1] b[2j+1]) + a[2j] b[2j]
 * (measured on Zen 4: the odd product first, each add rounded to float32,
 * subnormal inputs read as zero and subnormal results flushed, as Intel's
 * pseudocode says). So the panels hold k in pairs: a 32-bit word is
 * (op(X)[2q][.] in the low half, op(X)[2q+1][.] in the high half).
 *   Bp: for each NR-column panel, word [q][j] = op(B)[2q, 2q+1][j]  (Q, NR)
 *   Ap: word (i, q) = op(A)[i][2q, 2q+1], at [i][q] (MR, Q) when A is not
 *       transposed (rows of A are contiguous in k), at [q][i] (Q, MR) when
 *       it is (rows of the stored A are contiguous in i)
 * The kernel broadcasts the A word of row i and multiplies it with the two
 * B vectors of pair q. Packing rounds float32 operands to bf16 (round to
 * nearest even, core/bf16.h) and reads bf16 subnormals as zero; with the
 * hardware kernel it runs on AVX-512 (16 lanes, transposes for a
 * transposed B), with the emulated one in portable C, same words. Odd k is padded with a zero pair half, rows past m
 * and columns past n with zeros; edge tiles compute the whole tile and
 * store the valid part through masks.
 *
 * The emulated kernel does the same on the same panels in C with fmaf
 * (exact products: 8-bit x 8-bit significands fit float32's 24), the two
 * products of a pair in the hardware's order, under the x86 MXCSR flags
 * DAZ/FTZ while it accumulates: bitwise the hardware's results unless a
 * product falls below FLT_MIN (then the hardware may keep it unrounded).
 */
#include "core/gemm_bf16.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/gemm_driver.h"
#include "core/gemm_internal.h"
#include "core/kernels.h"

#if defined(__GNUC__) && defined(__x86_64__)
#define NT_GB_X86 1
#include <immintrin.h>
#define BF16K __attribute__((target(NT_TARGET_AVX512 ",avx512bf16")))
#define AVX512K NT_AVX512
#else
#define NT_GB_X86 0
#endif

#define MR 14
#define NR 32
#ifndef NT_GEMM_BF16_KC
#define NT_GEMM_BF16_KC 512
#endif
#ifndef NT_GEMM_BF16_NC
#define NT_GEMM_BF16_NC 512
#endif
#define KC NT_GEMM_BF16_KC
#define NC NT_GEMM_BF16_NC
#define QC (KC / 2)
/* Per thread (the driver's buffer), in 32-bit words: the B block, then one
 * A micro-panel. */
#define BUF_WORDS ((size_t)QC * NC + (size_t)QC * MR + 16)
_Static_assert(BUF_WORDS * sizeof(uint32_t) <= NT_GEMM_BUF_BYTES, "NT_GEMM_BUF_BYTES too small for KC x NC");

typedef struct gb_args {
    int ta, tb, m, n, k;
    float alpha, beta;
    const void *a, *b;
    nt_operand at, bt;
    float *c;
    int lda, ldb, ldc;
    const float *bias; /* (n) added to every row of C, or NULL (then beta == 0) */
} gb_args;

/* ---- kernel choice ------------------------------------------------------------------ */

static int forced = NT_GEMM_BF16_AUTO;

static int cpu_has(nt_gemm_bf16_kernel k) {
    return k == NT_GEMM_BF16_EMULATED || (k == NT_GEMM_BF16_AVX512BF16 && nt_bf16_isa_cpu() >= NT_BF16_AVX512BF16);
}

nt_gemm_bf16_kernel nt_gemm_bf16_kernel_active(void) {
    if (forced != NT_GEMM_BF16_AUTO) return (nt_gemm_bf16_kernel)forced;
    return nt_bf16_isa_selected() >= NT_BF16_AVX512BF16 ? NT_GEMM_BF16_AVX512BF16 : NT_GEMM_BF16_EMULATED;
}

nt_status nt_gemm_bf16_force(nt_gemm_bf16_kernel kernel) {
    if (kernel != NT_GEMM_BF16_AUTO && !cpu_has(kernel))
        return nt_error(NT_ERR_ARG, "nt_gemm_bf16_force: this CPU cannot run the %s kernel",
                        nt_gemm_bf16_kernel_name(kernel));
    forced = kernel;
    return NT_OK;
}

const char *nt_gemm_bf16_kernel_name(nt_gemm_bf16_kernel kernel) {
    switch (kernel) {
    case NT_GEMM_BF16_AVX512BF16: return "avx512bf16";
    case NT_GEMM_BF16_EMULATED: return "emulated";
    default: return "auto";
    }
}

/* ---- reading operands as bf16 ------------------------------------------------------------ */

/* bf16 bits of float bits u (core/bf16.h's rounding, written without
 * branches so that packing loops vectorise), with a subnormal result read as
 * a signed zero (the kernels' DAZ). */
static inline uint32_t bf16_bits(uint32_t u) {
    uint32_t r = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
    r = (u & 0x7FFFFFFFu) > 0x7F800000u ? ((u >> 16) | 0x0040u) : r;
    return (r & 0x7F80u) ? r : (r & 0x8000u);
}

static inline uint32_t daz_bits(uint32_t h) { return (h & 0x7F80u) ? h : (h & 0x8000u); }

// element e of an operand as bf16 bits (daz applied)
static inline uint32_t elem(const void *x, nt_operand t, int64_t e) {
    if (t == NT_OPERAND_BF16) return daz_bits(((const nt_bf16 *)x)[e]);
    uint32_t u;
    memcpy(&u, (const float *)x + e, sizeof u);
    return bf16_bits(u);
}

/* dst[j * ds] = bf16 words of x[e0 + j * es] for j < n: one strided run */
static void load_run(uint32_t *restrict dst, int64_t ds, const void *x, nt_operand t, int64_t e0,
                     int64_t es, int n) {
    if (t == NT_OPERAND_BF16) {
        const nt_bf16 *h = (const nt_bf16 *)x + e0;
        for (int j = 0; j < n; j++) dst[j * ds] = daz_bits(h[j * es]);
    } else {
        const uint32_t *u = (const uint32_t *)((const float *)x + e0);
        for (int j = 0; j < n; j++) dst[j * ds] = bf16_bits(u[j * es]);
    }
}

/* Bp = op(B)[p0 .. p0+kc, j0 .. j0+nc) as ceil(nc / NR) panels of
 * (ceil(kc / 2), NR) words, low half row 2q, high half row 2q+1. */
static void pack_b(uint32_t *restrict bp, const gb_args *g, int p0, int kc, int j0, int nc, uint32_t *tmp) {
    int kq = (kc + 1) / 2;
    for (int jp = 0; jp < nc; jp += NR) {
        uint32_t *dst = bp + (int64_t)jp * kq;
        int w = nc - jp < NR ? nc - jp : NR;
        for (int q = 0; q < kq; q++) {
            uint32_t *row = dst + (int64_t)q * NR;
            int p = p0 + 2 * q, two = p + 1 < p0 + kc;
            /* op(B)[p][j]: B[p * ldb + j], or B[j * ldb + p] transposed */
            int64_t e0 = g->tb ? (int64_t)(j0 + jp) * g->ldb + p : (int64_t)p * g->ldb + j0 + jp;
            int64_t es = g->tb ? g->ldb : 1, enext = g->tb ? 1 : g->ldb;
            load_run(tmp, 1, g->b, g->bt, e0, es, w);
            if (two) load_run(tmp + NR, 1, g->b, g->bt, e0 + enext, es, w);
            else memset(tmp + NR, 0, (size_t)w * sizeof *tmp);
            for (int j = 0; j < w; j++) row[j] = tmp[j] | tmp[NR + j] << 16;
            for (int j = w; j < NR; j++) row[j] = 0;
        }
    }
}

/* Ap = op(A)[i0 .. i0+mr, p0 .. p0+kc), rows past mr zero: word (i, q) at
 * ap[i * QC + q] ("i-major") when A is not transposed (its rows are
 * contiguous in k), at ap[q * MR + i] ("q-major") when it is. */
static void pack_a(uint32_t *restrict ap, const gb_args *g, int i0, int mr, int p0, int kc, uint32_t *tmp) {
    int kq = (kc + 1) / 2;
    if (!g->ta) {
        for (int i = 0; i < mr; i++) {
            load_run(tmp, 1, g->a, g->at, (int64_t)(i0 + i) * g->lda + p0, 1, kc);
            if (kc & 1) tmp[kc] = 0;
            for (int q = 0; q < kq; q++) ap[i * QC + q] = tmp[2 * q] | tmp[2 * q + 1] << 16;
        }
        for (int i = mr; i < MR; i++)
            for (int q = 0; q < kq; q++) ap[i * QC + q] = 0;
        return;
    }
    /* op(A)[i][p] = A[p * lda + i]: rows of the stored A are contiguous in i */
    for (int q = 0; q < kq; q++) {
        int p = p0 + 2 * q;
        load_run(tmp, 1, g->a, g->at, (int64_t)p * g->lda + i0, 1, mr);
        if (p + 1 < p0 + kc) load_run(tmp + MR, 1, g->a, g->at, (int64_t)(p + 1) * g->lda + i0, 1, mr);
        else memset(tmp + MR, 0, (size_t)mr * sizeof *tmp);
        for (int i = 0; i < mr; i++) ap[q * MR + i] = tmp[i] | tmp[MR + i] << 16;
        for (int i = mr; i < MR; i++) ap[q * MR + i] = 0;
    }
}

/* ---- the emulated kernel --------------------------------------------------------------- */

static inline float lo_f(uint32_t w) {
    uint32_t u = w << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline float hi_f(uint32_t w) {
    uint32_t u = w & 0xFFFF0000u;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

#if NT_GB_X86
/* MXCSR: FTZ (bit 15) and DAZ (bit 6), the hardware kernel's float mode */
static unsigned ftz_on(void) {
    unsigned old = _mm_getcsr();
    _mm_setcsr(old | 0x8040u);
    return old;
}
static void ftz_off(unsigned old) { _mm_setcsr(old); }
#else
static unsigned ftz_on(void) { return 0; }
static void ftz_off(unsigned old) { (void)old; }
#endif

/* C[0..mr, 0..nr) = alpha sum Ap Bp + beta C (beta == 0: C not read) */
static void tile_emulated(int kq, const uint32_t *restrict ap, int64_t rs, int ks, const uint32_t *restrict bp,
                          float *c, int64_t ldc, float alpha, float beta, const float *bias, int mr, int nr) {
    float acc[MR][NR];
    memset(acc, 0, sizeof acc);
    unsigned csr = ftz_on();
    for (int q = 0; q < kq; q++) {
        const uint32_t *bq = bp + (int64_t)q * NR;
        float blo[NR], bhi[NR];
        for (int j = 0; j < NR; j++) blo[j] = lo_f(bq[j]), bhi[j] = hi_f(bq[j]);
        for (int i = 0; i < mr; i++) {
            uint32_t w = ap[i * rs + q * ks];
            float alo = lo_f(w), ahi = hi_f(w);
            for (int j = 0; j < NR; j++) acc[i][j] = fmaf(alo, blo[j], fmaf(ahi, bhi[j], acc[i][j]));
        }
    }
    ftz_off(csr);
    for (int i = 0; i < mr; i++) {
        float *cr = c + i * ldc;
        for (int j = 0; j < nr; j++) {
            float r = alpha * acc[i][j];
            r = beta != 0.0f ? fmaf(beta, cr[j], r) : r;
            cr[j] = bias ? r + bias[j] : r;
        }
    }
}

/* ---- the AVX512_BF16 kernel -------------------------------------------------------------- */

#if NT_GB_X86
#define lanes nt_gemm_lanes

static inline __attribute__((always_inline)) BF16K void
tile_bf16(const int rows, int kq, const uint32_t *restrict ap, const int64_t rs, const int ks,
          const uint32_t *restrict bp, float *c, int64_t ldc, float alpha, float beta, const float *bias, int mr,
          __mmask16 m0, __mmask16 m1) {
    for (int i = 0; i < mr; i++) _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
    __m512 acc[MR][2];
#pragma GCC unroll 14
    for (int i = 0; i < rows; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
#pragma GCC unroll 2
    for (int q = 0; q < kq; q++) {
        __m512bh b0 = (__m512bh)_mm512_load_si512(bp + q * NR);
        __m512bh b1 = (__m512bh)_mm512_load_si512(bp + q * NR + 16);
#pragma GCC unroll 14
        for (int i = 0; i < rows; i++) {
            __m512bh av = (__m512bh)_mm512_set1_epi32((int)ap[i * rs + q * ks]);
            acc[i][0] = _mm512_dpbf16_ps(acc[i][0], av, b0);
            acc[i][1] = _mm512_dpbf16_ps(acc[i][1], av, b1);
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

// A panel i-major (not transposed) or q-major, with compile-time strides
BF16K static void kernel_bf16(int ta, int kq, const uint32_t *ap, const uint32_t *bp, float *c, int64_t ldc,
                              float alpha, float beta, const float *bias, int mr, int nr) {
    __mmask16 m0 = lanes(nr), m1 = lanes(nr - 16);
    if (!ta) {
        if (mr > MR / 2) tile_bf16(MR, kq, ap, QC, 1, bp, c, ldc, alpha, beta, bias, mr, m0, m1);
        else tile_bf16(MR / 2, kq, ap, QC, 1, bp, c, ldc, alpha, beta, bias, mr, m0, m1);
    } else {
        if (mr > MR / 2) tile_bf16(MR, kq, ap, 1, MR, bp, c, ldc, alpha, beta, bias, mr, m0, m1);
        else tile_bf16(MR / 2, kq, ap, 1, MR, bp, c, ldc, alpha, beta, bias, mr, m0, m1);
    }
}
#endif

#if NT_GB_X86
/* ---- AVX-512 packing (with the hardware kernel) ------------------------------------------
 * The scalar packers' results, 16 lanes at a time. */

/* 16 floats x[e ..] (mask m, zero elsewhere) made ready for the hardware
 * conversion: vcvtne(2)ps2bf16 rounds to nearest even, quiets NaNs as
 * bf16_bits does and reads float32 subnormals as zero (DAZ), where
 * bf16_bits rounds them first; the two differ only for the subnormals
 * that round up to FLT_MIN (magnitude bits >= 0x007F8000), set to
 * +-FLT_MIN here so that the conversion gives bf16_bits' result. */
static inline __attribute__((always_inline)) BF16K __m512 ld_f32_for_cvt(const float *x, __mmask16 m) {
    __m512i u = _mm512_maskz_loadu_epi32(m, x);
    __m512i mag = _mm512_and_si512(u, _mm512_set1_epi32(0x7FFFFFFF));
    __mmask16 up = _mm512_cmpge_epu32_mask(mag, _mm512_set1_epi32(0x007F8000)) &
                   _mm512_cmplt_epu32_mask(mag, _mm512_set1_epi32(0x00800000));
    u = _mm512_mask_or_epi32(u, up, _mm512_and_si512(u, _mm512_set1_epi32((int)0x80000000u)),
                             _mm512_set1_epi32(0x00800000));
    return _mm512_castsi512_ps(u);
}

// bf16 bits (DAZ'd) of up to 16 elements x[e ..] (mask m, zero elsewhere), one per 32-bit lane (low half)
static inline __attribute__((always_inline)) BF16K __m512i ld16(const void *x, nt_operand t, int64_t e, __mmask16 m) {
    if (t == NT_OPERAND_F32) /* converted, no subnormal result (see ld_f32_for_cvt) */
        return _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(ld_f32_for_cvt((const float *)x + e, m)));
    __m512i v = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, (const nt_bf16 *)x + e));
    __mmask16 normal = _mm512_test_epi32_mask(v, _mm512_set1_epi32(0x7F80));
    return _mm512_mask_mov_epi32(_mm512_and_si512(v, _mm512_set1_epi32(0x8000)), normal, v);
}

// 16 words of k pairs from 32 consecutive elements x[e ..] (n valid, zero past)
static inline __attribute__((always_inline)) BF16K __m512i ld_pairs(const void *x, nt_operand t, int64_t e, int n) {
    if (t == NT_OPERAND_F32) { /* element 2j in the low half of word j, 2j+1 in the high half */
        const float *f = (const float *)x + e;
        return (__m512i)_mm512_cvtne2ps_pbh(ld_f32_for_cvt(f + 16, lanes(n - 16)), ld_f32_for_cvt(f, lanes(n)));
    }
    __m512i lo = ld16(x, t, e, lanes(n)), hi = ld16(x, t, e + 16, lanes(n - 16));
    const __m512i idx = _mm512_set_epi16(62, 60, 58, 56, 54, 52, 50, 48, 46, 44, 42, 40, 38, 36, 34, 32, 30, 28,
                                         26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    return _mm512_permutex2var_epi16(lo, idx, hi);
}

// pack_b's result: panels of (kq, NR) words
BF16K static void pack_b_avx512(uint32_t *restrict bp, const gb_args *g, int p0, int kc, int j0, int nc) {
    int kq = (kc + 1) / 2;
    for (int jp = 0; jp < nc; jp += NR) {
        uint32_t *dst = bp + (int64_t)jp * kq;
        int w = nc - jp < NR ? nc - jp : NR;
        if (!g->tb) { /* rows p, p+1 of B, 16 columns at a time */
            for (int q = 0; q < kq; q++) {
                int p = p0 + 2 * q, two = p + 1 < p0 + kc;
                int64_t e = (int64_t)p * g->ldb + j0 + jp;
                for (int h = 0; h < NR; h += 16) {
                    __mmask16 m = lanes(w - h);
                    __m512i lo = ld16(g->b, g->bt, e + h, m);
                    __m512i hi = two ? ld16(g->b, g->bt, e + g->ldb + h, m) : _mm512_setzero_si512();
                    _mm512_store_si512(dst + q * NR + h, _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16)));
                }
            }
            continue;
        }
        /* B stored (n, k): row j holds column j's k values; 16 columns x 16 pairs, transposed */
        for (int h = 0; h < NR; h += 16) {
            int wh = w - h;
            for (int q0 = 0; q0 < kq; q0 += 16) {
                __m512 v[16]; /* words of pairs, moved as float lanes */
                int n = kc - 2 * q0; /* elements left in each row */
                for (int j = 0; j < 16; j++)
                    v[j] = j < wh ? _mm512_castsi512_ps(ld_pairs(g->b, g->bt,
                                                                 (int64_t)(j0 + jp + h + j) * g->ldb + p0 + 2 * q0, n))
                                  : _mm512_setzero_ps();
                nt_gemm_transpose16(v);
                int nq = kq - q0 < 16 ? kq - q0 : 16;
                for (int q = 0; q < nq; q++) _mm512_store_si512(dst + (q0 + q) * NR + h, _mm512_castps_si512(v[q]));
            }
        }
    }
}

// pack_a's result (same layouts)
BF16K static void pack_a_avx512(uint32_t *restrict ap, const gb_args *g, int i0, int mr, int p0, int kc) {
    int kq = (kc + 1) / 2;
    if (!g->ta) {
        for (int i = 0; i < MR; i++)
            for (int q0 = 0; q0 < kq; q0 += 16) {
                __mmask16 m = lanes(kq - q0);
                __m512i v = i < mr ? ld_pairs(g->a, g->at, (int64_t)(i0 + i) * g->lda + p0 + 2 * q0, kc - 2 * q0)
                                   : _mm512_setzero_si512();
                _mm512_mask_storeu_epi32(ap + i * QC + q0, m, v);
            }
        return;
    }
    __mmask16 m = lanes(mr), all = lanes(MR);
    for (int q = 0; q < kq; q++) {
        int p = p0 + 2 * q;
        int64_t e = (int64_t)p * g->lda + i0;
        __m512i lo = ld16(g->a, g->at, e, m);
        __m512i hi = p + 1 < p0 + kc ? ld16(g->a, g->at, e + g->lda, m) : _mm512_setzero_si512();
        _mm512_mask_storeu_epi32(ap + q * MR, all, _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16)));
    }
}
#endif

/* ---- drivers -------------------------------------------------------------------------- */

/* The driver's pack_b and rows (core/gemm_driver.h): the B block at the
 * start of the buffer, the A micro-panel after it. */
static void pack_b_emulated(void *buf, const void *args, int p0, int kc, int j0, int nc) {
    uint32_t tmp[KC + 2 * NR + 2 * MR];
    pack_b(buf, args, p0, kc, j0, nc, tmp);
}

static void rows_emulated(void *buf, const void *args, int ir, int mr, int pc, int kc, int jc, int nc) {
    const gb_args *g = args;
    uint32_t *bp = buf, *ap = bp + (size_t)QC * NC;
    uint32_t tmp[KC + 2 * NR + 2 * MR];
    int kq = (kc + 1) / 2;
    float beta = pc == 0 ? g->beta : 1.0f;
    pack_a(ap, g, ir, mr, pc, kc, tmp);
    for (int jr = 0; jr < nc; jr += NR) {
        int nr = nc - jr < NR ? nc - jr : NR;
        const float *bias = pc == 0 && g->bias ? g->bias + jc + jr : NULL;
        tile_emulated(kq, ap, g->ta ? 1 : QC, g->ta ? MR : 1, bp + (int64_t)jr * kq, g->c + ir * (int64_t)g->ldc + jc + jr,
                      g->ldc, g->alpha, beta, bias, mr, nr);
    }
}

#if NT_GB_X86
BF16K static void pack_b_hw(void *buf, const void *args, int p0, int kc, int j0, int nc) {
    pack_b_avx512(buf, args, p0, kc, j0, nc);
}

/* Part `part` of `parts` of the prefetches (to L2) of op(A)[i0 .. i0+MR,
 * p0 .. p0+kc), the panel pack_a_avx512 reads next: the kernel of one
 * panel runs long enough to hide the misses of the next one's packing,
 * which otherwise stalls on every load (A is usually not in L2). */
static inline __attribute__((always_inline)) BF16K void prefetch_a(const gb_args *g, int i0, int p0, int kc,
                                                                   int part, int parts) {
    if (i0 >= g->m) return;
    int rows = g->m - i0 < MR ? g->m - i0 : MR;
    const int es = g->at == NT_OPERAND_BF16 ? 2 : 4; /* bytes per element */
    const char *a = g->a;
    if (!g->ta) { /* rows i0 .. i0+rows, kc elements each: spread the lines over the parts */
        int per_row = (kc * es + 63) / 64, lines = rows * per_row;
        int l0 = (int)((int64_t)lines * part / parts), l1 = (int)((int64_t)lines * (part + 1) / parts);
        for (int l = l0; l < l1; l++) {
            int i = l / per_row, c = l - i * per_row;
            int off = 64 * c < kc * es ? 64 * c : kc * es - 1; /* inside the row */
            _mm_prefetch(a + ((int64_t)(i0 + i) * g->lda + p0) * es + off, _MM_HINT_T1);
        }
        return;
    }
    /* rows p0 .. p0+kc of the stored A, `rows` elements from column i0 */
    int p_lo = (int)((int64_t)kc * part / parts), p_hi = (int)((int64_t)kc * (part + 1) / parts);
    for (int p = p_lo; p < p_hi; p++) {
        const char *r = a + ((int64_t)(p0 + p) * g->lda + i0) * es;
        _mm_prefetch(r, _MM_HINT_T1);
        _mm_prefetch(r + (rows * es - 1), _MM_HINT_T1);
    }
}

BF16K static void rows_hw(void *buf, const void *args, int ir, int mr, int pc, int kc, int jc, int nc) {
    const gb_args *g = args;
    uint32_t *bp = buf, *ap = bp + (size_t)QC * NC;
    int kq = (kc + 1) / 2;
    float beta = pc == 0 ? g->beta : 1.0f;
    pack_a_avx512(ap, g, ir, mr, pc, kc);
    const int tiles = (nc + NR - 1) / NR;
    for (int jr = 0; jr < nc; jr += NR) {
        int nr = nc - jr < NR ? nc - jr : NR;
        const float *bias = pc == 0 && g->bias ? g->bias + jc + jr : NULL;
        prefetch_a(g, ir + MR, pc, kc, jr / NR, tiles);
        kernel_bf16(g->ta, kq, ap, bp + (int64_t)jr * kq, g->c + ir * (int64_t)g->ldc + jc + jr, g->ldc, g->alpha,
                    beta, bias, mr, nr);
    }
}
#endif

/* The same sums element by element, without buffers (no memory for them):
 * slow, only a fallback. */
static void part_unpacked(const gb_args *g, int r0, int r1, int c0, int c1) {
    for (int i = r0; i < r1; i++)
        for (int j = c0; j < c1; j++) {
            float *cij = g->c + (int64_t)i * g->ldc + j;
            for (int pc = 0; pc < g->k; pc += KC) {
                int kc = g->k - pc < KC ? g->k - pc : KC;
                float acc = 0.0f;
                unsigned csr = ftz_on();
                for (int p = pc; p < pc + kc; p += 2) {
                    int two = p + 1 < pc + kc;
                    int64_t a0 = g->ta ? (int64_t)p * g->lda + i : (int64_t)i * g->lda + p;
                    int64_t b0 = g->tb ? (int64_t)j * g->ldb + p : (int64_t)p * g->ldb + j;
                    int64_t a1 = g->ta ? a0 + g->lda : a0 + 1, b1 = g->tb ? b0 + 1 : b0 + g->ldb;
                    if (two) acc = fmaf(lo_f(elem(g->a, g->at, a1)), lo_f(elem(g->b, g->bt, b1)), acc);
                    acc = fmaf(lo_f(elem(g->a, g->at, a0)), lo_f(elem(g->b, g->bt, b0)), acc);
                }
                ftz_off(csr);
                float beta = pc == 0 ? g->beta : 1.0f, r = g->alpha * acc;
                r = beta != 0.0f ? fmaf(beta, *cij, r) : r;
                *cij = pc == 0 && g->bias ? r + g->bias[j] : r;
            }
        }
}

// the driver's fallback: a thread without its buffer
static void part_fallback(const void *args, int r0, int r1, int c0, int c1) {
    part_unpacked(args, r0, r1, c0, c1);
}

// the product on its own threads (nth 0), or thread t's share of nth
static void run_blocked(const gb_args *g, int hw, int t, int nth) {
    nt_gemm_plan p = {g->m, g->n, g->k, MR, NR, KC, NC, g, pack_b_emulated, rows_emulated, part_fallback};
#if NT_GB_X86
    if (hw) p.pack_b = pack_b_hw, p.rows = rows_hw;
#else
    (void)hw;
#endif
    if (nth) nt_gemm_run_share(&p, t, nth);
    else nt_gemm_run(&p);
}

void nt_gemm_bf16_share(int ta, int tb, int m, int n, int k, float alpha, const void *a, nt_operand a_type,
                        int lda, const void *b, nt_operand b_type, int ldb, float beta, const float *bias, float *c,
                        int ldc, int t, int nth) {
    if (m <= 0 || n <= 0) return;
    if (nth <= 0) t = 0; /* on its own threads */
    gb_args g = {ta != 0, tb != 0, m, n, k, alpha, beta, a, b, a_type, b_type, c, lda, ldb, ldc, bias};
    if (k == 0 || alpha == 0.0f) { /* rows split among the threads */
        int n_of = nth > 0 ? nth : 1;
        int r0 = (int)((int64_t)m * t / n_of), r1 = (int)((int64_t)m * (t + 1) / n_of);
        if (bias)
            for (int i = r0; i < r1; i++) memcpy(c + (int64_t)i * ldc, bias, (size_t)n * sizeof(float));
        else nt_gemm_scale_c(c + (int64_t)r0 * ldc, r1 - r0, n, ldc, beta);
        return;
    }
    run_blocked(&g, nt_gemm_bf16_kernel_active() == NT_GEMM_BF16_AVX512BF16, t, nth);
}

nt_status nt_gemm_bf16(int trans_a, int trans_b, int m, int n, int k, float alpha, const void *a,
                       nt_operand a_type, int lda, const void *b, nt_operand b_type, int ldb,
                       float beta, float *c, int ldc) {
    int ta = trans_a != 0, tb = trans_b != 0;
    if (m < 0 || n < 0 || k < 0)
        return nt_error(NT_ERR_ARG, "nt_gemm_bf16: m, n, k must be >= 0 (got %d, %d, %d)", m, n, k);
    if ((a_type != NT_OPERAND_F32 && a_type != NT_OPERAND_BF16) || (b_type != NT_OPERAND_F32 && b_type != NT_OPERAND_BF16))
        return nt_error(NT_ERR_ARG, "nt_gemm_bf16: operand types must be NT_OPERAND_F32 or NT_OPERAND_BF16 (got %d, %d)",
                        (int)a_type, (int)b_type);
    if (m == 0 || n == 0) return NT_OK;
    if (ldc < n) return nt_error(NT_ERR_ARG, "nt_gemm_bf16: ldc %d < n %d", ldc, n);
    if (!c) return nt_error(NT_ERR_ARG, "nt_gemm_bf16: c is NULL");
    gb_args g = {ta, tb, m, n, k, alpha, beta, a, b, a_type, b_type, c, lda, ldb, ldc, NULL};
    if (k == 0 || alpha == 0.0f) {
        nt_gemm_scale_c(c, m, n, ldc, beta);
        return NT_OK;
    }
    int arow = ta ? m : k, brow = tb ? k : n;
    if (lda < arow || ldb < brow)
        return nt_error(NT_ERR_ARG, "nt_gemm_bf16: leading dimension too small (lda %d, need >= %d; ldb %d, need >= %d)",
                        lda, arow, ldb, brow);
    if (!a || !b) return nt_error(NT_ERR_ARG, "nt_gemm_bf16: a or b is NULL (a %p, b %p)", a, b);
    run_blocked(&g, nt_gemm_bf16_kernel_active() == NT_GEMM_BF16_AVX512BF16, 0, 0);
    return NT_OK;
}

/* ---- a few rows on bf16 weights (nt_linear_rows_bf16, core/kernels.h) -----------------
 * y[r, o] = b[o] + sum_j x[r, j] W[o, j], W bf16, x and the sums float32:
 * nt_linear's few-row order (16 lanes, lane l takes j = l mod 16 in order,
 * one FMA chain each, then the lanes added l + l+8, + l+4, + l+2, + l+1),
 * so a row's result depends on In only, and equals the float32 path's on
 * weights rounded beforehand (same FMAs on the same values). One row: the
 * weights widened in registers as they stream (AVX-512, AVX2, portable
 * fmaf); from 2 rows (AVX-512, AVX2): a chunk of NT_ROWS_KC inputs of the 8
 * outputs widened once into an L1 buffer, every row run over it by
 * nt_rows8_chunk (core/kernels.h), the next chunk prefetched meanwhile. */
#define LANES 16

// y[o] = lanes of acc[o] summed in the tree order
static void reduce_lanes(float *y, float acc[8][LANES]) {
    for (int o = 0; o < 8; o++) {
        for (int h = LANES / 2; h > 0; h /= 2)
            for (int l = 0; l < h; l++) acc[o][l] += acc[o][l + h];
        y[o] = acc[o][0];
    }
}

static void dot8_bf16_portable(float *y, const float *restrict x, const nt_bf16 *const *w, int In) {
    float a[8][LANES];
    memset(a, 0, sizeof a);
    for (int j0 = 0; j0 < In; j0 += LANES)
        for (int o = 0; o < 8; o++)
            for (int l = 0; l < LANES && j0 + l < In; l++)
                a[o][l] = fmaf(x[j0 + l], lo_f(w[o][j0 + l]), a[o][l]);
    reduce_lanes(y, a);
}

#if NT_GB_X86
AVX512K static void dot8_bf16_avx512(float *y, const float *restrict x, const nt_bf16 *const *w, int In) {
    __m512 acc[8];
    for (int o = 0; o < 8; o++) acc[o] = _mm512_setzero_ps();
    for (int j = 0; j < In; j += LANES) {
        __mmask16 m = lanes(In - j);
        __m512 xv = _mm512_maskz_loadu_ps(m, x + j);
#pragma GCC unroll 8
        for (int o = 0; o < 8; o++) {
            __m512i h = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, w[o] + j));
            acc[o] = _mm512_fmadd_ps(xv, _mm512_castsi512_ps(_mm512_slli_epi32(h, 16)), acc[o]);
        }
    }
    nt_reduce8_ps(y, acc[0], acc[1], acc[2], acc[3], acc[4], acc[5], acc[6], acc[7]);
}

// 8 bf16 words at p widened to float32
static inline __attribute__((always_inline)) NT_AVX2 __m256 widen8_avx2(const nt_bf16 *p) {
    __m256i h = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(h, 16));
}

/* AVX2: dot8_bf16_avx512's lanes as two ymm (lo 0..7, hi 8..15), the same
 * FMAs and tree; the In % 16 tail through zero-padded copies. */
NT_AVX2 static void dot8_bf16_avx2(float *y, const float *restrict x, const nt_bf16 *const *w, int In) {
    for (int o = 0; o < 8; o += 4) {
        __m256 lo[4], hi[4];
        for (int q = 0; q < 4; q++) lo[q] = hi[q] = _mm256_setzero_ps();
        int j = 0;
        for (; j + LANES <= In; j += LANES) {
            __m256 x0 = _mm256_loadu_ps(x + j), x1 = _mm256_loadu_ps(x + j + 8);
#pragma GCC unroll 4
            for (int q = 0; q < 4; q++) {
                lo[q] = _mm256_fmadd_ps(x0, widen8_avx2(w[o + q] + j), lo[q]);
                hi[q] = _mm256_fmadd_ps(x1, widen8_avx2(w[o + q] + j + 8), hi[q]);
            }
        }
        if (j < In) {
            float xt[LANES] = {0};
            memcpy(xt, x + j, (size_t)(In - j) * sizeof(float));
            __m256 x0 = _mm256_loadu_ps(xt), x1 = _mm256_loadu_ps(xt + 8);
            for (int q = 0; q < 4; q++) {
                nt_bf16 wt[LANES] = {0};
                memcpy(wt, w[o + q] + j, (size_t)(In - j) * sizeof(nt_bf16));
                lo[q] = _mm256_fmadd_ps(x0, widen8_avx2(wt), lo[q]);
                hi[q] = _mm256_fmadd_ps(x1, widen8_avx2(wt + 8), hi[q]);
            }
        }
        for (int q = 0; q < 4; q++) y[o + q] = nt_reduce16_ps256(lo[q], hi[q]);
    }
}

// dst[o * NT_ROWS_KC + j] = w[o][j] as float32 for o < 8, j < n (n <= NT_ROWS_KC)
AVX512K static void widen_block_avx512(float *dst, const nt_bf16 *const *w, int n) {
    for (int o = 0; o < 8; o++)
        for (int j = 0; j < n; j += LANES) {
            __mmask16 m = lanes(n - j);
            __m512i h = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, w[o] + j));
            _mm512_mask_storeu_ps(dst + o * NT_ROWS_KC + j, m, _mm512_castsi512_ps(_mm512_slli_epi32(h, 16)));
        }
}

NT_AVX2 static void widen_block_avx2(float *dst, const nt_bf16 *const *w, int n) {
    for (int o = 0; o < 8; o++) {
        int j = 0;
        for (; j + 8 <= n; j += 8) _mm256_storeu_ps(dst + o * NT_ROWS_KC + j, widen8_avx2(w[o] + j));
        for (; j < n; j++) dst[o * NT_ROWS_KC + j] = lo_f(w[o][j]);
    }
}

/* Rows from 2 on (x86 levels): a chunk of the 8 outputs' weights widened
 * once into an L1 buffer, then every row over it (nt_rows8_chunk, the same
 * chains as dot8's). */
static void rows_bf16_chunked(float *Y, const float *X, const nt_bf16 *const *w, const nt_bf16 *const *next,
                              const float *bias, int R, int In, int Out, int o0, int n, nt_isa_level isa) {
    _Alignas(64) float buf[8 * NT_ROWS_KC];
    _Alignas(64) float acc[NT_ROWS_TILE * 128];
    const float *wc[8];
    for (int o = 0; o < 8; o++) wc[o] = buf + o * NT_ROWS_KC;
    for (int r0 = 0; r0 < R; r0 += NT_ROWS_TILE) {
        int nr = R - r0 < NT_ROWS_TILE ? R - r0 : NT_ROWS_TILE;
        for (int j0 = 0; j0 == 0 || j0 < In; j0 += NT_ROWS_KC) {
            int kc = In - j0 < NT_ROWS_KC ? In - j0 : NT_ROWS_KC;
            const nt_bf16 *ws[8];
            const char *pf[8];
            int j1 = j0 + NT_ROWS_KC, pf_n = j1 < In ? (In - j1 < NT_ROWS_KC ? In - j1 : NT_ROWS_KC) : 0;
            for (int o = 0; o < 8; o++) {
                ws[o] = w[o] + j0;
                pf[o] = pf_n ? (const char *)(w[o] + j1) : next ? (const char *)next[o] : NULL;
            }
            if (!pf_n && next) pf_n = In < NT_ROWS_KC ? In : NT_ROWS_KC;
            if (r0 == 0 || In > NT_ROWS_KC) { /* one chunk: widened once for every tile */
                if (isa == NT_ISA_AVX512) widen_block_avx512(buf, ws, kc);
                else widen_block_avx2(buf, ws, kc);
            }
            nt_rows8_out out = {Y + (int64_t)r0 * Out + o0, Out, bias ? bias + o0 : NULL, n};
            nt_rows8_chunk(acc, X + (int64_t)r0 * In + j0, In, nr, wc, kc, j0 == 0, pf_n ? pf : NULL,
                           pf_n * (int)sizeof(nt_bf16), j1 >= In ? &out : NULL);
        }
    }
}
#endif

void nt_linear_rows_bf16(float *Y, const float *X, const uint16_t *Wh, const float *bias, int R, int In,
                         int Out, int o0, int o1) {
#if NT_GB_X86
    nt_isa_level isa = nt_isa();
#endif
    for (int b0 = o0; b0 < o1; b0 += 8) {
        const nt_bf16 *w[8];
        for (int o = 0; o < 8; o++) w[o] = Wh + (int64_t)(b0 + o < o1 ? b0 + o : o1 - 1) * In;
        int n = o1 - b0 < 8 ? o1 - b0 : 8;
#if NT_GB_X86
        if (isa != NT_ISA_PORTABLE && R >= 2) {
            const nt_bf16 *next[8];
            for (int o = 0; o < 8; o++) next[o] = Wh + (int64_t)(b0 + 8 + o < o1 ? b0 + 8 + o : o1 - 1) * In;
            rows_bf16_chunked(Y, X, w, b0 + 8 < o1 ? next : NULL, bias, R, In, Out, b0, n, isa);
            continue;
        }
#endif
        for (int r = 0; r < R; r++) {
            float y[8];
#if NT_GB_X86
            if (isa == NT_ISA_AVX512) dot8_bf16_avx512(y, X + (int64_t)r * In, w, In);
            else if (isa == NT_ISA_AVX2) dot8_bf16_avx2(y, X + (int64_t)r * In, w, In);
            else
#endif
                dot8_bf16_portable(y, X + (int64_t)r * In, w, In);
            float *yr = Y + (int64_t)r * Out + b0;
            for (int o = 0; o < n; o++) yr[o] = bias ? y[o] + bias[b0 + o] : y[o];
        }
    }
}
