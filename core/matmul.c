/* matmul.c - matrix products: nt_matmul (2-D and batched) and nt_linear (x W^T + b).
 *
 * Dimensions:
 *   Bt  batch (product of the leading dims of a; 1 for 2-D)
 *   M, K, N   op(a) is (M, K), op(b) is (K, N), out is (M, N) per batch
 *   R   rows of a linear's input (product of its leading dims)
 *   In, Out   a linear's input and output widths, W is (Out, In)
 *
 * Every product is one nt_sgemm (row-major, core/gemm.h). A 2-D b shared by a batched a
 * with trans_a off is folded into one product with M' = Bt*M; otherwise a
 * batch of small products runs one sgemm per batch item inside an OpenMP
 * loop (OpenBLAS' OpenMP build runs single-threaded in a parallel region),
 * and a batch of large ones runs them one after another, each threaded.
 */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <string.h>

#include "core/bf16.h"
#include "core/gemm.h"
#include "core/gemm_bf16.h"
#include "core/kernels.h"
#include "core/core_internal.h"
#include "core/mutate.h"
#include "core/ops.h"
#include "core/vecmath.h"

/* C (M, N) = op(A) (M, K) op(B) (K, N) + beta C, all row-major and packed:
 * A is stored (M, K), or (K, M) if ta; B is stored (K, N), or (N, K) if tb. */
static void gemm(int ta, int tb, int M, int N, int K, const float *A, const float *B, float beta,
                 float *C) {
    nt_status st = nt_sgemm(ta, tb, M, N, K, 1.0f, A, ta ? M : K, B, tb ? K : N, beta, C, N);
    NT_ASSERT(st == NT_OK); /* shapes were checked by the op */
}

/* The same in the context's precision: with bf16 != 0 on bf16 operands
 * (core/gemm_bf16.h), B read from Bh when its bf16 copy is given (a
 * parameter's, see nt_params_bf16_of), else rounded as it is packed. */
static void gemm_p(int bf16, int ta, int tb, int M, int N, int K, const float *A, const float *B,
                   const nt_bf16 *Bh, float beta, float *C) {
    if (!bf16) {
        gemm(ta, tb, M, N, K, A, B, beta, C);
        return;
    }
    nt_status st = Bh ? nt_gemm_bf16(ta, tb, M, N, K, 1.0f, A, NT_OPERAND_F32, ta ? M : K, Bh, NT_OPERAND_BF16,
                                     tb ? K : N, beta, C, N)
                      : nt_gemm_bf16(ta, tb, M, N, K, 1.0f, A, NT_OPERAND_F32, ta ? M : K, B, NT_OPERAND_F32,
                                     tb ? K : N, beta, C, N);
    NT_ASSERT(st == NT_OK);
}

/* Thread t's share of nth (nth 0: on its own threads) of C (M, N) = op(A)
 * op(B) + beta C, or + bias (N) on every row when bias is given (beta 0),
 * in the context's precision as gemm_p (core/kernels.h's *_share). */
static void gemm_share(int bf16, int ta, int tb, int M, int N, int K, const float *A, const float *B,
                       const nt_bf16 *Bh, float beta, const float *bias, float *C, int t, int nth) {
    if (!bf16)
        nt_sgemm_share(ta, tb, M, N, K, 1.0f, A, ta ? M : K, B, tb ? K : N, beta, bias, C, N, t, nth);
    else if (Bh)
        nt_gemm_bf16_share(ta, tb, M, N, K, 1.0f, A, NT_OPERAND_F32, ta ? M : K, Bh, NT_OPERAND_BF16, tb ? K : N,
                           beta, bias, C, N, t, nth);
    else
        nt_gemm_bf16_share(ta, tb, M, N, K, 1.0f, A, NT_OPERAND_F32, ta ? M : K, B, NT_OPERAND_F32, tb ? K : N,
                           beta, bias, C, N, t, nth);
}

/* Below this many multiply-adds per batch item, a batch runs its products in
 * parallel (one per thread) rather than threading each product. */
#define SMALL_GEMM_MACS (96 * 96 * 96)

/* ---- nt_matmul ---------------------------------------------------------------- */

static void matmul_dims(const nt_tensor *a, const nt_tensor *b, int ta, int tb, int *M, int *K,
                        int *Kb, int *N) {
    int ar = a->shape[a->ndim - 2], ac = a->shape[a->ndim - 1];
    int br = b->shape[b->ndim - 2], bc = b->shape[b->ndim - 1];
    *M = ta ? ac : ar;
    *K = ta ? ar : ac;
    *Kb = tb ? bc : br;
    *N = tb ? br : bc;
}

/* What nt_matmul keeps on its node. */
typedef struct {
    int ta, tb;  /* the transpose flags */
    int Bt;      /* batch items */
    int shared;  /* b is 2-D, shared by every batch item */
    int bf16;    /* the precision the forward ran in (1: bf16) */
} matmul_args;

/* C = op(A) op(B) per batch item, A (Bt, .., ..), B (Bt or 1, .., ..), dC
 * (Bt, M, N):
 *   dop(A) = dC op(B)^T ;  stored (K, M) when ta: dA = op(B) dC^T
 *   dop(B) = op(A)^T dC ;  stored (N, K) when tb: dB = dC^T op(A)
 * dA, dB: NULL (not wanted), or dX = dX beta_x + the product (beta 0 for a
 * fresh write-first gradient, 1 to accumulate). B_bf16: B's bf16 copy for
 * a bf16 product when it has one (a parameter's), else NULL. */
static void matmul_backward(float *dA, float *dB, const float *dC, const float *A, const float *B,
                            const nt_bf16 *B_bf16, int Bt, int M, int K, int N, int ta, int tb, int shared,
                            int bf, float beta_a, float beta_b) {
    int64_t sa = (int64_t)M * K, sb = shared ? 0 : (int64_t)K * N, sc = (int64_t)M * N;
    int flip = nt_mutation == NT_MUT_MATMUL_TRANSPOSE && K == N; /* test-only (mutate.h) */
    if (shared && !ta) {
        /* b shared, a's batch folded into rows: one product each. */
        int R = Bt * M;
        if (dA) gemm_p(bf, 0, flip ? tb : !tb, R, K, N, dC, B, B_bf16, beta_a, dA);
        if (dB) {
            if (!tb) gemm_p(bf, 1, 0, K, N, R, A, dC, NULL, beta_b, dB);
            else gemm_p(bf, 1, 0, N, K, R, dC, A, NULL, beta_b, dB);
        }
        return;
    }
    int par = Bt > 1 && (int64_t)M * N * K <= SMALL_GEMM_MACS;
    if (dA) {
#pragma omp parallel for schedule(static) if (par)
        for (int i = 0; i < Bt; i++) {
            const float *Bi = B + i * sb, *dCi = dC + i * sc;
            float *dAi = dA + i * sa;
            if (!ta) gemm_p(bf, 0, flip ? tb : !tb, M, K, N, dCi, Bi, NULL, beta_a, dAi);
            else gemm_p(bf, tb, 1, K, M, N, Bi, dCi, NULL, beta_a, dAi);
        }
    }
    if (dB) {
        /* A shared dB accumulates over the batch: in batch order, serially;
         * only the first item may store. */
#pragma omp parallel for schedule(static) if (par && !shared)
        for (int i = 0; i < Bt; i++) {
            const float *Ai = A + i * sa, *dCi = dC + i * sc;
            float *dBi = dB + i * sb;
            float bi = shared && i > 0 ? 1.0f : beta_b;
            if (!tb) gemm_p(bf, !ta, 0, K, N, M, Ai, dCi, NULL, bi, dBi);
            else gemm_p(bf, 1, ta, N, K, M, dCi, Ai, NULL, bi, dBi);
        }
    }
}

static void matmul_backward_node(nt_ctx *ctx, nt_node *nd) {
    (void)ctx;
    const matmul_args *p = NT_NODE_ARGS(nd, matmul_args);
    nt_tensor *a = nd->in[0], *b = nd->in[1];
    int M, K, Kb, N;
    matmul_dims(a, b, p->ta, p->tb, &M, &K, &Kb, &N);
    float *dA = a->requires_grad ? a->grad : NULL;
    float *dB = b->requires_grad ? b->grad : NULL;
    /* write-first: a fresh gradient is stored with beta = 0 (asked a, then b) */
    float beta_a = dA && nt_grad_first(a) ? 0.0f : 1.0f;
    float beta_b = dB && nt_grad_first(b) ? 0.0f : 1.0f;
    const nt_bf16 *B_bf16 = p->bf16 && dA && p->shared && !p->ta ? nt_params_bf16_of(b) : NULL;
    matmul_backward(dA, dB, nd->out->grad, nt_f32(a), nt_f32(b), B_bf16, p->Bt, M, K, N, p->ta, p->tb,
                    p->shared, p->bf16, beta_a, beta_b);
}

/* C (Bt, M, N) = op(A) op(B) per batch item, A (Bt, .., ..), B (Bt, .., ..)
 * or 2-D (shared); B_bf16: B's bf16 copy for a bf16 product, or NULL. */
static void matmul_forward(float *C, const float *A, const float *B, const nt_bf16 *B_bf16, int Bt, int M,
                           int K, int N, int ta, int tb, int shared, int bf) {
    if (shared && !ta) { /* a's batch folded into rows: one product */
        gemm_p(bf, 0, tb, Bt * M, N, K, A, B, B_bf16, 0.0f, C);
        return;
    }
    int64_t sA = (int64_t)M * K, sB = shared ? 0 : (int64_t)K * N, sC = (int64_t)M * N;
    int par = Bt > 1 && (int64_t)M * N * K <= SMALL_GEMM_MACS;
#pragma omp parallel for schedule(static) if (par)
    for (int i = 0; i < Bt; i++) gemm_p(bf, ta, tb, M, N, K, A + i * sA, B + i * sB, NULL, 0.0f, C + i * sC);
}

nt_status nt_matmul(nt_ctx *ctx, nt_tensor **out, nt_tensor *a, nt_tensor *b, int trans_a,
                    int trans_b) {
    if (!ctx || !out || !a || !b) return nt_error(NT_ERR_ARG, "nt_matmul: ctx, out, a or b is NULL");
    if (a->dtype != NT_F32 || b->dtype != NT_F32)
        return nt_error(NT_ERR_SHAPE, "nt_matmul: a and b must be F32");
    char sa[64], sb[64];
    if (a->ndim < 2 || b->ndim < 2)
        return nt_error(NT_ERR_SHAPE, "nt_matmul: a and b need >= 2 dims (a: %s, b: %s)", nt_shape_str(a, sa, sizeof sa), nt_shape_str(b, sb, sizeof sb));
    int ta = trans_a != 0, tb = trans_b != 0;
    int M, K, Kb, N;
    matmul_dims(a, b, ta, tb, &M, &K, &Kb, &N);
    if (K != Kb)
        return nt_error(NT_ERR_SHAPE,
                        "nt_matmul: inner dims differ (a: %s, b: %s, trans_a %d, trans_b %d: %d vs %d)",
                        nt_shape_str(a, sa, sizeof sa), nt_shape_str(b, sb, sizeof sb), ta, tb, K, Kb);
    int shared = b->ndim == 2;
    if (!shared) {
        int same = b->ndim == a->ndim;
        for (int i = 0; same && i < a->ndim - 2; i++) same = a->shape[i] == b->shape[i];
        if (!same)
            return nt_error(NT_ERR_SHAPE,
                            "nt_matmul: batch dims differ (a: %s, b: %s; b must have a's batch "
                            "dims or be 2-D)",
                            nt_shape_str(a, sa, sizeof sa), nt_shape_str(b, sb, sizeof sb));
    }
    int Bt = 1, shape[NT_MAX_DIMS];
    for (int i = 0; i < a->ndim - 2; i++) Bt *= (shape[i] = a->shape[i]);
    shape[a->ndim - 2] = M;
    shape[a->ndim - 1] = N;
    nt_tensor *c;
    NT_TRY(nt_tensor_new(ctx, &c, NT_F32, a->ndim, shape)); // (.., M, N)

    int bf = nt_ctx_precision(ctx) == NT_PREC_BF16;
    const nt_bf16 *B_bf16 = bf && shared && !ta ? nt_params_bf16_of(b) : NULL;
    matmul_forward(nt_f32(c), nt_f32(a), nt_f32(b), B_bf16, Bt, M, K, N, ta, tb, shared, bf);

    nt_status st;
    nt_node *nd = nt_tape_record(ctx, matmul_backward_node, "nt_matmul", c, 2, (nt_tensor *[]){a, b}, &st);
    if (st) return st;
    if (nd) {
        nd->write_first = 1;
        *NT_NODE_ARGS(nd, matmul_args) = (matmul_args){ta, tb, Bt, shared, bf};
    }
    *out = c;
    return NT_OK;
}

/* ---- nt_linear -------------------------------------------------------------- */

enum { BIAS_TILE = 64 }; /* columns per tile of bias_backward */

/* db (Out) += column sums of dy (R, Out) (acc 1), or = (acc 0: a fresh
 * gradient): thread t of nth takes the 64-column tiles t, t + nth, ... and
 * walks the rows in order, so the sum is the same for any thread count. */
static void bias_backward_share(float *db, const float *dy, int R, int Out, int acc, int t, int nth) {
    int tiles = (Out + BIAS_TILE - 1) / BIAS_TILE;
    int rows = nt_mutation == NT_MUT_LINEAR_BIAS ? 1 : R; /* test-only (mutate.h) */
    for (int tile = t; tile < tiles; tile += nth) {
        int c0 = tile * BIAS_TILE, w = Out - c0 < BIAS_TILE ? Out - c0 : BIAS_TILE;
        float sum[BIAS_TILE] = {0};
        if (w == BIAS_TILE) /* a constant width: the loop vectorises */
            for (int r = 0; r < rows; r++) {
                const float *row = dy + (int64_t)r * Out + c0;
                for (int j = 0; j < BIAS_TILE; j++) sum[j] += row[j];
            }
        else
            for (int r = 0; r < rows; r++) {
                const float *row = dy + (int64_t)r * Out + c0;
                for (int j = 0; j < w; j++) sum[j] += row[j];
            }
        nt_grad_put(db + c0, sum, w, acc);
    }
}

/* ---- nt_linear for a few rows ------------------------------------------------------
 * A decoding step multiplies one row (or one row per sequence) by each weight:
 * sgemm then spends most of its time packing W. Up to LINEAR_FEW_ROWS rows,
 * nt_linear computes the outputs as dot products, eight at a time:
 *   y[r, o] = b[o] + sum_j x[r, j] W[o, j]
 * summed in 16 lanes (lane l takes j = l mod 16 in order, the In % 16 tail
 * goes to lanes 0..), the lanes added by a fixed network, then the bias.
 * That order depends on nothing but In, so a row's result is the same
 * whatever the row count, the row's position, the output blocking or the
 * thread count: a sequence decodes the same alone or in a batch of up to
 * LINEAR_FEW_ROWS rows. Kernels: one row (dot8), two rows sharing each
 * weight load (dot8x2, and any row count at AVX2), and at AVX-512 from
 * NT_ROWS_CHUNKED rows the weights in L1-sized chunks with every row over
 * a chunk (chunk_avx512); the same chains in all of them. */
#define LINEAR_FEW_ROWS 16
#define LANES 16
/* Below this many multiply-adds a few-row product stays on one thread (and
 * enters no parallel region at all). */
#define FEW_PAR_MACS (1 << 18)
/* From this many multiply-adds a linear's backward runs on the team */
#define LINEAR_PAR_MACS (64 * 64 * 64)

#if NT_ISA_X86
#include <immintrin.h>


// y[o] = x (In) . w[o] (In) for o < 8
NT_AVX512 static void dot8_avx512(float *y, const float *restrict x, const float *const *w, int In) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    int j = 0;
    for (; j + LANES <= In; j += LANES) {
        __m512 xv = _mm512_loadu_ps(x + j);
        a0 = _mm512_fmadd_ps(xv, _mm512_loadu_ps(w[0] + j), a0);
        a1 = _mm512_fmadd_ps(xv, _mm512_loadu_ps(w[1] + j), a1);
        a2 = _mm512_fmadd_ps(xv, _mm512_loadu_ps(w[2] + j), a2);
        a3 = _mm512_fmadd_ps(xv, _mm512_loadu_ps(w[3] + j), a3);
        a4 = _mm512_fmadd_ps(xv, _mm512_loadu_ps(w[4] + j), a4);
        a5 = _mm512_fmadd_ps(xv, _mm512_loadu_ps(w[5] + j), a5);
        a6 = _mm512_fmadd_ps(xv, _mm512_loadu_ps(w[6] + j), a6);
        a7 = _mm512_fmadd_ps(xv, _mm512_loadu_ps(w[7] + j), a7);
    }
    if (j < In) {
        __mmask16 m = (__mmask16)((1u << (In - j)) - 1);
        __m512 xv = _mm512_maskz_loadu_ps(m, x + j);
        a0 = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(m, w[0] + j), a0);
        a1 = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(m, w[1] + j), a1);
        a2 = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(m, w[2] + j), a2);
        a3 = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(m, w[3] + j), a3);
        a4 = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(m, w[4] + j), a4);
        a5 = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(m, w[5] + j), a5);
        a6 = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(m, w[6] + j), a6);
        a7 = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(m, w[7] + j), a7);
    }
    nt_reduce8_ps(y, a0, a1, a2, a3, a4, a5, a6, a7);
}

// y0[o] = x0 . w[o], y1[o] = x1 . w[o] for o < 8: two rows share every load
// of w; each row's sums are dot8's, operation for operation.
NT_AVX512 static void dot8x2_avx512(float *y0, float *y1, const float *restrict x0, const float *restrict x1,
                          const float *const *w, int In) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    __m512 b0 = a0, b1 = a0, b2 = a0, b3 = a0, b4 = a0, b5 = a0, b6 = a0, b7 = a0;
    int j = 0;
#define NT_DOT8X2_STEP(LOAD)                                                                       \
    do {                                                                                           \
        __m512 u = LOAD(x0), v = LOAD(x1), wk;                                                     \
        wk = LOAD(w[0]); a0 = _mm512_fmadd_ps(u, wk, a0); b0 = _mm512_fmadd_ps(v, wk, b0);         \
        wk = LOAD(w[1]); a1 = _mm512_fmadd_ps(u, wk, a1); b1 = _mm512_fmadd_ps(v, wk, b1);         \
        wk = LOAD(w[2]); a2 = _mm512_fmadd_ps(u, wk, a2); b2 = _mm512_fmadd_ps(v, wk, b2);         \
        wk = LOAD(w[3]); a3 = _mm512_fmadd_ps(u, wk, a3); b3 = _mm512_fmadd_ps(v, wk, b3);         \
        wk = LOAD(w[4]); a4 = _mm512_fmadd_ps(u, wk, a4); b4 = _mm512_fmadd_ps(v, wk, b4);         \
        wk = LOAD(w[5]); a5 = _mm512_fmadd_ps(u, wk, a5); b5 = _mm512_fmadd_ps(v, wk, b5);         \
        wk = LOAD(w[6]); a6 = _mm512_fmadd_ps(u, wk, a6); b6 = _mm512_fmadd_ps(v, wk, b6);         \
        wk = LOAD(w[7]); a7 = _mm512_fmadd_ps(u, wk, a7); b7 = _mm512_fmadd_ps(v, wk, b7);         \
    } while (0)
#define NT_LOAD_FULL(p) _mm512_loadu_ps((p) + j)
    for (; j + LANES <= In; j += LANES) NT_DOT8X2_STEP(NT_LOAD_FULL);
    if (j < In) {
        __mmask16 m = (__mmask16)((1u << (In - j)) - 1);
#define NT_LOAD_TAIL(p) _mm512_maskz_loadu_ps(m, (p) + j)
        NT_DOT8X2_STEP(NT_LOAD_TAIL);
#undef NT_LOAD_TAIL
    }
#undef NT_LOAD_FULL
#undef NT_DOT8X2_STEP
    nt_reduce8_ps(y0, a0, a1, a2, a3, a4, a5, a6, a7);
    nt_reduce8_ps(y1, b0, b1, b2, b3, b4, b5, b6, b7);
}

/* AVX2: the same 16 lanes per output as two ymm (lo = lanes 0..7, hi =
 * 8..15), the same FMAs, the same tree: bitwise dot8_avx512's sums. Four
 * outputs at a time (8 accumulators of the 16 registers). */
NT_AVX2 static void dot8_avx2(float *y, const float *restrict x, const float *const *w, int In) {
    for (int o = 0; o < 8; o += 4) {
        __m256 lo[4], hi[4];
        for (int q = 0; q < 4; q++) lo[q] = hi[q] = _mm256_setzero_ps();
        int j = 0;
        for (; j + LANES <= In; j += LANES) {
            __m256 x0 = _mm256_loadu_ps(x + j), x1 = _mm256_loadu_ps(x + j + 8);
#pragma GCC unroll 4
            for (int q = 0; q < 4; q++) {
                lo[q] = _mm256_fmadd_ps(x0, _mm256_loadu_ps(w[o + q] + j), lo[q]);
                hi[q] = _mm256_fmadd_ps(x1, _mm256_loadu_ps(w[o + q] + j + 8), hi[q]);
            }
        }
        if (j < In) {
            __m256i m0 = nt_tail8_mask(In - j), m1 = nt_tail8_mask(In - j - 8);
            __m256 x0 = _mm256_maskload_ps(x + j, m0), x1 = _mm256_maskload_ps(x + j + 8, m1);
            for (int q = 0; q < 4; q++) {
                lo[q] = _mm256_fmadd_ps(x0, _mm256_maskload_ps(w[o + q] + j, m0), lo[q]);
                hi[q] = _mm256_fmadd_ps(x1, _mm256_maskload_ps(w[o + q] + j + 8, m1), hi[q]);
            }
        }
        for (int q = 0; q < 4; q++) y[o + q] = nt_reduce16_ps256(lo[q], hi[q]);
    }
}

/* a[q] += the 16 lane sums of x0 . w[q] and b[q] += those of x1 . w[q] over
 * inputs [0, n), q < 2, as dot8_avx2's lanes ([q][0] lanes 0..7, [q][1]
 * 8..15): two rows by two outputs, each weight vector loaded once for both
 * rows (GCC would otherwise fold a load into every FMA) */
static inline __attribute__((always_inline)) NT_AVX2 void fma2x2_avx2(__m256 a[2][2], __m256 b[2][2],
                                                                      const float *x0, const float *x1,
                                                                      const float *const *w, int n) {
    int j = 0;
    for (; j + LANES <= n; j += LANES) {
        __m256 u0 = _mm256_loadu_ps(x0 + j), u1 = _mm256_loadu_ps(x0 + j + 8);
        __m256 v0 = _mm256_loadu_ps(x1 + j), v1 = _mm256_loadu_ps(x1 + j + 8);
#pragma GCC unroll 2
        for (int q = 0; q < 2; q++) {
            __m256 w0 = _mm256_loadu_ps(w[q] + j), w1 = _mm256_loadu_ps(w[q] + j + 8);
            __asm__("" : "+x"(w0), "+x"(w1));
            a[q][0] = _mm256_fmadd_ps(u0, w0, a[q][0]);
            a[q][1] = _mm256_fmadd_ps(u1, w1, a[q][1]);
            b[q][0] = _mm256_fmadd_ps(v0, w0, b[q][0]);
            b[q][1] = _mm256_fmadd_ps(v1, w1, b[q][1]);
        }
    }
    if (j < n) {
        __m256i m0 = nt_tail8_mask(n - j), m1 = nt_tail8_mask(n - j - 8);
        __m256 u0 = _mm256_maskload_ps(x0 + j, m0), u1 = _mm256_maskload_ps(x0 + j + 8, m1);
        __m256 v0 = _mm256_maskload_ps(x1 + j, m0), v1 = _mm256_maskload_ps(x1 + j + 8, m1);
        for (int q = 0; q < 2; q++) {
            __m256 w0 = _mm256_maskload_ps(w[q] + j, m0), w1 = _mm256_maskload_ps(w[q] + j + 8, m1);
            a[q][0] = _mm256_fmadd_ps(u0, w0, a[q][0]);
            a[q][1] = _mm256_fmadd_ps(u1, w1, a[q][1]);
            b[q][0] = _mm256_fmadd_ps(v0, w0, b[q][0]);
            b[q][1] = _mm256_fmadd_ps(v1, w1, b[q][1]);
        }
    }
}

// two rows share every load of w, two outputs at a time; each row's sums are dot8_avx2's
NT_AVX2 static void dot8x2_avx2(float *y0, float *y1, const float *restrict x0, const float *restrict x1,
                                const float *const *w, int In) {
    for (int o = 0; o < 8; o += 2) {
        __m256 a[2][2], b[2][2]; /* [output][half] for rows 0 and 1 */
        for (int q = 0; q < 2; q++) a[q][0] = a[q][1] = b[q][0] = b[q][1] = _mm256_setzero_ps();
        fma2x2_avx2(a, b, x0, x1, w + o, In);
        for (int q = 0; q < 2; q++) {
            y0[o + q] = nt_reduce16_ps256(a[q][0], a[q][1]);
            y1[o + q] = nt_reduce16_ps256(b[q][0], b[q][1]);
        }
    }
}

/* ---- more rows: the weights in chunks, every row over a chunk ------------------------
 * From NT_ROWS_CHUNKED rows on, the 8 outputs' weights are read a chunk of
 * NT_ROWS_KC inputs at a time (kept in L1 while every row runs over it; a bf16
 * caller converts a chunk once for all rows) and each row's 8 x 16 lane sums
 * wait in acc between chunks. A lane's chain is dot8's - the same FMAs in the
 * same order, the In % 16 tail on masked (zero) lanes - and the lanes are
 * added by dot8's tree, so a row's bits are dot8's whatever the row count. */

// rows [0, NR) of acc (row r at acc + 128 r, output o's lanes at + 16 o) += chunk j < n
static inline __attribute__((always_inline)) NT_AVX512 void
chunk_rows_avx512(const int NRW, float *acc, const float *X, int64_t ldx, const float *const *w, int n,
                  int first, const nt_rows8_out *out, int r0) {
    __m512 a[3][8];
#pragma GCC unroll 3
    for (int r = 0; r < NRW; r++)
#pragma GCC unroll 8
        for (int o = 0; o < 8; o++) a[r][o] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(acc + 128 * r + 16 * o);
    int j = 0;
    for (; j + LANES <= n; j += LANES) {
        __m512 xv[3];
#pragma GCC unroll 3
        for (int r = 0; r < NRW; r++) xv[r] = _mm512_loadu_ps(X + r * ldx + j);
#pragma GCC unroll 8
        for (int o = 0; o < 8; o++) {
            __m512 wk = _mm512_loadu_ps(w[o] + j);
            __asm__("" : "+v"(wk)); /* one load for the rows, not one folded into each FMA */
#pragma GCC unroll 3
            for (int r = 0; r < NRW; r++) a[r][o] = _mm512_fmadd_ps(xv[r], wk, a[r][o]);
        }
    }
    if (j < n) {
        __mmask16 m = (__mmask16)((1u << (n - j)) - 1);
        __m512 xv[3];
#pragma GCC unroll 3
        for (int r = 0; r < NRW; r++) xv[r] = _mm512_maskz_loadu_ps(m, X + r * ldx + j);
#pragma GCC unroll 8
        for (int o = 0; o < 8; o++) {
            __m512 wk = _mm512_maskz_loadu_ps(m, w[o] + j);
#pragma GCC unroll 3
            for (int r = 0; r < NRW; r++) a[r][o] = _mm512_fmadd_ps(xv[r], wk, a[r][o]);
        }
    }
    if (out) { /* the last chunk: the sums, from the registers */
#pragma GCC unroll 3
        for (int r = 0; r < NRW; r++) {
            float y[8], *yr = out->Y + (r0 + r) * out->ldy;
            nt_reduce8_ps(y, a[r][0], a[r][1], a[r][2], a[r][3], a[r][4], a[r][5], a[r][6], a[r][7]);
            for (int o = 0; o < out->n; o++) yr[o] = out->bias ? y[o] + out->bias[o] : y[o];
        }
        return;
    }
#pragma GCC unroll 3
    for (int r = 0; r < NRW; r++)
#pragma GCC unroll 8
        for (int o = 0; o < 8; o++) _mm512_storeu_ps(acc + 128 * r + 16 * o, a[r][o]);
}

// group g of G's share of the prefetch: lines [g L / G, (g + 1) L / G) of the 8 ranges pf[o], bytes each
static inline __attribute__((always_inline)) void prefetch_share(const char *const *pf, int bytes, int g, int G) {
    if (!pf) return;
    int per = (bytes + 63) / 64, L = 8 * per;
    for (int k = L * g / G; k < L * (g + 1) / G; k++) __builtin_prefetch(pf[k / per] + 64 * (k % per), 0, 3);
}

NT_AVX512 static void chunk_avx512(float *acc, const float *X, int64_t ldx, int R, const float *const *w, int n,
                                   int first, const char *const *pf, int pf_bytes, const nt_rows8_out *out) {
    int r = 0, G = (R + 2) / 3;
    for (; r + 3 <= R; r += 3) {
        prefetch_share(pf, pf_bytes, r / 3, G);
        chunk_rows_avx512(3, acc + 128 * r, X + r * ldx, ldx, w, n, first, out, r);
    }
    if (r < R) prefetch_share(pf, pf_bytes, r / 3, G);
    if (R - r == 2) chunk_rows_avx512(2, acc + 128 * r, X + r * ldx, ldx, w, n, first, out, r);
    else if (R - r == 1) chunk_rows_avx512(1, acc + 128 * r, X + r * ldx, ldx, w, n, first, out, r);
}

/* AVX2: lanes 0..7 and 8..15 of a sum as two ymm (dot8_avx2's), two rows by
 * two outputs at a time. */
NT_AVX2 static void chunk_avx2(float *acc, const float *X, int64_t ldx, int R, const float *const *w, int n,
                               int first, const char *const *pf, int pf_bytes, const nt_rows8_out *out) {
    for (int r = 0; r < R; r += 2) {
        prefetch_share(pf, pf_bytes, r / 2, (R + 1) / 2);
        int two = r + 1 < R;
        const float *x0 = X + r * ldx, *x1 = two ? x0 + ldx : x0;
        for (int o = 0; o < 8; o += 2) {
            float *c0 = acc + 128 * r + 16 * o, *c1 = two ? c0 + 128 : c0;
            __m256 a[2][2], b[2][2]; /* [output][half] of rows r and r + 1 */
            for (int q = 0; q < 2; q++)
                for (int h = 0; h < 2; h++) {
                    a[q][h] = first ? _mm256_setzero_ps() : _mm256_loadu_ps(c0 + 16 * q + 8 * h);
                    b[q][h] = first ? _mm256_setzero_ps() : _mm256_loadu_ps(c1 + 16 * q + 8 * h);
                }
            fma2x2_avx2(a, b, x0, x1, w + o, n);
            if (out) { /* the last chunk: the sums */
                for (int q = 0; q < 2; q++) {
                    float y0 = nt_reduce16_ps256(a[q][0], a[q][1]), y1 = nt_reduce16_ps256(b[q][0], b[q][1]);
                    if (o + q >= out->n) continue;
                    const float bq = out->bias ? out->bias[o + q] : 0.0f;
                    out->Y[r * out->ldy + o + q] = out->bias ? y0 + bq : y0;
                    if (two) out->Y[(r + 1) * out->ldy + o + q] = out->bias ? y1 + bq : y1;
                }
                continue;
            }
            /* the second row's sums first: with one row left, c1 is c0 and the
             * first row's (the same values) win */
            for (int q = 0; q < 2; q++)
                for (int h = 0; h < 2; h++) _mm256_storeu_ps(c1 + 16 * q + 8 * h, b[q][h]);
            for (int q = 0; q < 2; q++)
                for (int h = 0; h < 2; h++) _mm256_storeu_ps(c0 + 16 * q + 8 * h, a[q][h]);
        }
    }
}
#endif

/* Portable: 16 lane sums per output, fmaf where the build targets FMA
 * (then bitwise the AVX kernels), else a rounded multiply and an add. */
#ifdef __FMA__
#define MADD(a, b, c) fmaf(a, b, c)
#else
#define MADD(a, b, c) ((a) * (b) + (c))
#endif
// y[o] = x (In) . w[o] (In) for o < 8
static void dot8_portable(float *y, const float *restrict x, const float *const *w, int In) {
    float a[8][LANES] = {{0}};
    int j = 0;
    for (; j + LANES <= In; j += LANES)
        for (int o = 0; o < 8; o++)
            for (int l = 0; l < LANES; l++) a[o][l] = MADD(x[j + l], w[o][j + l], a[o][l]);
    for (int l = 0; j + l < In; l++)
        for (int o = 0; o < 8; o++) a[o][l] = MADD(x[j + l], w[o][j + l], a[o][l]);
    for (int o = 0; o < 8; o++) {
        for (int h = LANES / 2; h > 0; h /= 2)
            for (int l = 0; l < h; l++) a[o][l] += a[o][l + h];
        y[o] = a[o][0];
    }
}


void nt_rows8_chunk(float *acc, const float *X, int64_t ldx, int R, const float *const *w, int n, int first,
                    const char *const *pf, int pf_bytes, const nt_rows8_out *out) {
#if NT_ISA_X86
    if (nt_isa() == NT_ISA_AVX512) chunk_avx512(acc, X, ldx, R, w, n, first, pf, pf_bytes, out);
    else chunk_avx2(acc, X, ldx, R, w, n, first, pf, pf_bytes, out);
#else
    (void)acc, (void)X, (void)ldx, (void)R, (void)w, (void)n, (void)first, (void)pf, (void)pf_bytes, (void)out;
#endif
}



// few_rows_block's rows from NT_ROWS_CHUNKED on: the chunked kernel, NT_ROWS_TILE rows at a time;
// next (or NULL): the 8 weight rows of the next block, prefetched during the last chunk
static void few_rows_chunked(float *Y, const float *X, const float *const *w, const float *const *next,
                             const float *bias, int R, int In, int Out, int o0, int n) {
    _Alignas(64) float acc[NT_ROWS_TILE * 128];
    for (int r0 = 0; r0 < R; r0 += NT_ROWS_TILE) {
        int nr = R - r0 < NT_ROWS_TILE ? R - r0 : NT_ROWS_TILE;
        for (int j0 = 0; j0 == 0 || j0 < In; j0 += NT_ROWS_KC) {
            const float *wc[8];
            const char *pf[8];
            int j1 = j0 + NT_ROWS_KC, pf_n = j1 < In ? (In - j1 < NT_ROWS_KC ? In - j1 : NT_ROWS_KC) : 0;
            for (int o = 0; o < 8; o++) {
                wc[o] = w[o] + j0;
                pf[o] = pf_n ? (const char *)(w[o] + j1) : next ? (const char *)next[o] : NULL;
            }
            if (!pf_n && next) pf_n = In < NT_ROWS_KC ? In : NT_ROWS_KC;
            nt_rows8_out out = {Y + (int64_t)r0 * Out + o0, Out, bias ? bias + o0 : NULL, n};
            nt_rows8_chunk(acc, X + (int64_t)r0 * In + j0, In, nr, wc, In - j0 < NT_ROWS_KC ? In - j0 : NT_ROWS_KC,
                           j0 == 0, pf_n ? pf : NULL, pf_n * (int)sizeof(float), j1 >= In ? &out : NULL);
        }
    }
}


// Y[r, o0 .. min(o0+8, end)) for every r < R (outputs past end reuse row end-1 and are dropped)
static void few_rows_block(float *Y, const float *X, const float *W, const float *bias, int R,
                           int In, int Out, int o0, int end) {
    const float *w[8];
    for (int o = 0; o < 8; o++) w[o] = W + (int64_t)(o0 + o < end ? o0 + o : end - 1) * In;
    int n = end - o0 < 8 ? end - o0 : 8;
    int r = 0;
#if NT_ISA_X86
    nt_isa_level isa = nt_isa();
    /* AVX2: the two-row kernel is faster on float32 weights (measured); the
     * chunked one serves bf16 weights there (core/gemm_bf16.c) */
    if (isa == NT_ISA_AVX512 && R >= NT_ROWS_CHUNKED) {
        const float *next[8];
        for (int o = 0; o < 8; o++) next[o] = W + (int64_t)(o0 + 8 + o < end ? o0 + 8 + o : end - 1) * In;
        (void)next; /* float32 weights: the hardware prefetcher does better alone (measured) */
        few_rows_chunked(Y, X, w, NULL, bias, R, In, Out, o0, n);
        return;
    }
    for (; isa != NT_ISA_PORTABLE && r + 2 <= R; r += 2) {
        float y0[8], y1[8];
        if (isa == NT_ISA_AVX512) dot8x2_avx512(y0, y1, X + (int64_t)r * In, X + (int64_t)(r + 1) * In, w, In);
        else dot8x2_avx2(y0, y1, X + (int64_t)r * In, X + (int64_t)(r + 1) * In, w, In);
        float *yr = Y + (int64_t)r * Out + o0, *ys = yr + Out;
        for (int o = 0; o < n; o++) {
            yr[o] = bias ? y0[o] + bias[o0 + o] : y0[o];
            ys[o] = bias ? y1[o] + bias[o0 + o] : y1[o];
        }
    }
#endif
    for (; r < R; r++) {
        float y[8];
#if NT_ISA_X86
        if (isa == NT_ISA_AVX512) dot8_avx512(y, X + (int64_t)r * In, w, In);
        else if (isa == NT_ISA_AVX2) dot8_avx2(y, X + (int64_t)r * In, w, In);
        else
#endif
            dot8_portable(y, X + (int64_t)r * In, w, In);
        float *yr = Y + (int64_t)r * Out + o0;
        for (int o = 0; o < n; o++) yr[o] = bias ? y[o] + bias[o0 + o] : y[o];
    }
}

// Y (R, Out) = X (R, In) W (Out, In)^T + bias (Out, or NULL), R <= LINEAR_FEW_ROWS
static void linear_few_rows(float *Y, const float *X, const float *W, const float *bias, int R,
                            int In, int Out) {
    int blocks = (Out + 7) / 8;
    if ((int64_t)R * In * Out >= FEW_PAR_MACS && blocks > 1) {
#pragma omp parallel for schedule(static)
        for (int k = 0; k < blocks; k++) few_rows_block(Y, X, W, bias, R, In, Out, 8 * k, Out);
    } else {
        for (int k = 0; k < blocks; k++) few_rows_block(Y, X, W, bias, R, In, Out, 8 * k, Out);
    }
}

void nt_linear_rows(float *Y, const float *X, const float *W, const float *bias, int R, int In,
                    int Out, int o0, int o1) {
    for (int o = o0; o < o1; o += 8) few_rows_block(Y, X, W, bias, R, In, Out, o, o1);
}

/* What nt_linear and nt_gelu_linear keep on their node. */
typedef struct {
    int R, In, Out;
    int bf16; /* the precision the forward ran in (1: bf16) */
} linear_args;

/* The write-first flags of a linear's three gradients, asked in the order
 * x (or h), w, b; a gradient not wanted gets NULL. */
typedef struct {
    float *dx, *dw, *db;
    int acc_x, acc_w, acc_b; /* 0: a fresh buffer, stored; 1: accumulated */
} linear_grads;

static linear_grads linear_grads_of(nt_tensor *x, nt_tensor *w, nt_tensor *b, int x_may_store) {
    linear_grads g = {0};
    g.dx = x->requires_grad ? x->grad : NULL;
    g.acc_x = !(g.dx && x_may_store && nt_grad_first(x));
    g.dw = w->requires_grad ? w->grad : NULL;
    g.acc_w = !(g.dw && nt_grad_first(w));
    g.db = b && b->requires_grad ? b->grad : NULL;
    g.acc_b = !(g.db && nt_grad_first(b));
    return g;
}

/* y = x W^T + b, x (R, In), W (Out, In), b (Out), dy (R, Out):
 *   dx = dy W,  dW = dy^T x,  db = sum over rows of dy
 * each output NULL (not wanted), stored (acc 0) or accumulated (acc 1).
 * weight_bf16: W's bf16 copy for a bf16 product, or NULL. */
static void linear_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                            const float *weight, const nt_bf16 *weight_bf16, int R, int In, int Out, int bf,
                            int acc_inp, int acc_weight, int acc_bias) {
    /* the three outputs are disjoint and read only inputs: one parallel
     * region shares all of them (one fork and join instead of three) */
    int nth = omp_get_level() == 0 ? omp_get_max_threads() : 1;
    int par = nth > 1 && (int64_t)R * In * Out >= LINEAR_PAR_MACS;
#pragma omp parallel if (par) num_threads(nth)
    {
        int t = omp_get_thread_num(), n = omp_get_num_threads();
        if (dinp) gemm_share(bf, 0, 0, R, In, Out, dout, weight, weight_bf16, (float)acc_inp, NULL, dinp, t, n);
        if (dweight) gemm_share(bf, 1, 0, Out, In, R, dout, inp, NULL, (float)acc_weight, NULL, dweight, t, n);
        if (dbias) bias_backward_share(dbias, dout, R, Out, acc_bias, t, n);
    }
}

static void linear_backward_node(nt_ctx *ctx, nt_node *nd) {
    (void)ctx;
    const linear_args *p = NT_NODE_ARGS(nd, linear_args);
    nt_tensor *x = nd->in[0], *w = nd->in[1], *b = nd->in[2];
    linear_grads g = linear_grads_of(x, w, b, 1);
    const nt_bf16 *w_bf16 = p->bf16 && g.dx ? nt_params_bf16_of(w) : NULL;
    linear_backward(g.dx, g.dw, g.db, nd->out->grad, nt_f32(x), nt_f32(w), w_bf16, p->R, p->In, p->Out,
                    p->bf16, g.acc_x, g.acc_w, g.acc_b);
}

/* out (R, Out) = inp (R, In) weight (Out, In)^T + bias (Out) (bias may be
 * NULL). Up to LINEAR_FEW_ROWS rows: dot products (bf16 weights when
 * weight_bf16 is given, a bf16 decoding step); more: one product, on bf16
 * operands when bf (weight read from weight_bf16 when given). */
static void linear_forward(float *out, const float *inp, const float *weight, const nt_bf16 *weight_bf16,
                           const float *bias, int R, int In, int Out, int bf) {
    if (R <= LINEAR_FEW_ROWS && weight_bf16) { /* bf16 weights, float32 activations */
        int blocks = (Out + 7) / 8;
#pragma omp parallel for schedule(static) if ((int64_t)R * In * Out >= FEW_PAR_MACS && blocks > 1)
        for (int k = 0; k < blocks; k++)
            nt_linear_rows_bf16(out, inp, weight_bf16, bias, R, In, Out, 8 * k, 8 * k + 8 < Out ? 8 * k + 8 : Out);
        return;
    }
    if (R <= LINEAR_FEW_ROWS) {
        linear_few_rows(out, inp, weight, bias, R, In, Out);
        return;
    }
    // (R, In) (Out, In)^T + bias, the bias added by the product's last step (its own threads)
    gemm_share(bf, 0, 1, R, Out, In, inp, weight, weight_bf16, 0.0f, bias, out, 0, 0);
}

nt_status nt_linear(nt_ctx *ctx, nt_tensor **out, nt_tensor *x, nt_tensor *w, nt_tensor *b) {
    if (!ctx || !out || !x || !w) return nt_error(NT_ERR_ARG, "nt_linear: ctx, out, x or w is NULL");
    char sx[64], sw[64], sbias[64];
    if (x->dtype != NT_F32 || w->dtype != NT_F32 || (b && b->dtype != NT_F32))
        return nt_error(NT_ERR_SHAPE, "nt_linear: x, w and b must be F32");
    if (w->ndim != 2) return nt_error(NT_ERR_SHAPE, "nt_linear: w must be 2-D (Out, In), got %s", nt_shape_str(w, sw, sizeof sw));
    if (x->ndim < 1) return nt_error(NT_ERR_SHAPE, "nt_linear: x must have >= 1 dim, got a scalar");
    int Out = w->shape[0], In = w->shape[1];
    if (x->shape[x->ndim - 1] != In)
        return nt_error(NT_ERR_SHAPE,
                        "nt_linear: x's last dim %d differs from w's In (x: %s, w: %s = Out x In)",
                        x->shape[x->ndim - 1], nt_shape_str(x, sx, sizeof sx), nt_shape_str(w, sw, sizeof sw));
    if (b && (b->ndim != 1 || b->shape[0] != Out))
        return nt_error(NT_ERR_SHAPE, "nt_linear: bias must be (%d) to match w %s, got %s", Out, nt_shape_str(w, sw, sizeof sw),
                        nt_shape_str(b, sbias, sizeof sbias));
    int R = (int)(x->n / In), shape[NT_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[x->ndim - 1] = Out;
    nt_tensor *y;
    NT_TRY(nt_tensor_new(ctx, &y, NT_F32, x->ndim, shape)); // (.., Out)

    int bf = nt_ctx_precision(ctx) == NT_PREC_BF16;
    const nt_bf16 *Wh = bf ? nt_params_bf16_of(w) : NULL; /* a parameter's bf16 copy, or NULL */
    linear_forward(nt_f32(y), nt_f32(x), nt_f32(w), Wh, b ? nt_f32(b) : NULL, R, In, Out, bf);

    nt_status st;
    nt_node *nd = nt_tape_record(ctx, linear_backward_node, "nt_linear", y, 3, (nt_tensor *[]){x, w, b}, &st);
    if (st) return st;
    if (nd) {
        nd->write_first = 1;
        *NT_NODE_ARGS(nd, linear_args) = (linear_args){R, In, Out, bf && (R > LINEAR_FEW_ROWS || Wh)};
    }
    *out = y;
    return NT_OK;
}

/* ---- nt_gelu_linear ------------------------------------------------------------
 * y = gelu(h) W^T + b without keeping gelu(h): the forward computes it into
 * the context's scratch buffer, the backward recomputes it there (for dW),
 * then reuses the same buffer for dg = dy W before dh += dg gelu'(h). Saves
 * one (R, In) activation per call against nt_gelu + nt_linear. */

#define GELU_PAR_MIN 32768
#define GELU_CHUNK 4096

// g (n) = gelu(h (n))
static void gelu_into(float *restrict g, const float *restrict h, int64_t n) {
    if (n <= GELU_PAR_MIN) {
        nt_vgelu(g, h, n);
        return;
    }
    int64_t chunks = (n + GELU_CHUNK - 1) / GELU_CHUNK;
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < chunks; c++) {
        int64_t i0 = c * GELU_CHUNK, m = n - i0 < GELU_CHUNK ? n - i0 : GELU_CHUNK;
        float *restrict gc = g + i0;
        const float *restrict hc = h + i0;
        nt_vgelu(gc, hc, m);
    }
}

/* y = gelu(h) W^T + b, h (R, In), W (Out, In), dy (R, Out):
 *   dW = dy^T gelu(h),  db = sum over rows of dy,  dh = (dy W) gelu'(h)
 * each output NULL (not wanted), stored (acc 0) or accumulated (acc 1).
 * g: (R, In) scratch, gelu(h) then dg = dy W. When dh is stored and dW is
 * wanted, one pass computes gelu(h) into g and gelu'(h) into dh, and the
 * last pass multiplies dh by dg: one exp per element instead of two. */
static void gelu_linear_backward(float *dh, float *dweight, float *dbias, float *g, const float *dout,
                                 const float *h, const float *weight, const nt_bf16 *weight_bf16, int R,
                                 int In, int Out, int bf, int acc_h, int acc_weight, int acc_bias) {
    int64_t n = (int64_t)R * In, chunks = (n + GELU_CHUNK - 1) / GELU_CHUNK;
    int both = dweight && dh && !acc_h; /* dh = gelu'(h) from the first pass */
    /* one parallel region for the passes and products (barriers where one
     * reads what another wrote) instead of a fork and join each */
    int nth = omp_get_level() == 0 ? omp_get_max_threads() : 1;
    int par = nth > 1 && (int64_t)R * In * Out >= LINEAR_PAR_MACS;
#pragma omp parallel if (par) num_threads(nth)
    {
        int t = omp_get_thread_num(), nt = omp_get_num_threads();
        if (dweight) {
#pragma omp for schedule(static)
            for (int64_t c = 0; c < chunks; c++) {
                int64_t i0 = c * GELU_CHUNK, m = n - i0 < GELU_CHUNK ? n - i0 : GELU_CHUNK;
                if (both) nt_vgelu_both(g + i0, dh + i0, h + i0, m);
                else nt_vgelu(g + i0, h + i0, m);
            } /* (barrier) */
            // dW += dy^T gelu(h)
            gemm_share(bf, 1, 0, Out, In, R, dout, g, NULL, (float)acc_weight, NULL, dweight, t, nt);
        }
        if (dbias) bias_backward_share(dbias, dout, R, Out, acc_bias, t, nt);
        if (dh) {
            if (dweight) {
#pragma omp barrier
            } /* the dW product has read g */
            gemm_share(bf, 0, 0, R, In, Out, dout, weight, weight_bf16, 0.0f, NULL, g, t, nt); // dg = dy W
#pragma omp barrier
#pragma omp for schedule(static)
            for (int64_t c = 0; c < chunks; c++) {
                int64_t i0 = c * GELU_CHUNK, m = n - i0 < GELU_CHUNK ? n - i0 : GELU_CHUNK;
                if (both)
                    for (int64_t i = i0; i < i0 + m; i++) dh[i] = g[i] * dh[i];
                else
                    nt_vgelu_grad(dh + i0, g + i0, h + i0, m, acc_h);
            }
        }
    }
}

/* node: in = {h (R, In), w (Out, In), b (Out) or NULL}. */
static void gelu_linear_backward_node(nt_ctx *ctx, nt_node *nd) {
    const linear_args *p = NT_NODE_ARGS(nd, linear_args);
    nt_tensor *h = nd->in[0], *w = nd->in[1], *b = nd->in[2];
    float *g = nt_ctx_scratch(ctx, (size_t)p->R * p->In * sizeof(float)); // (R, In)
    NT_ASSERT(g); /* the forward obtained this size already */
    /* h sharing its gradient with w or b would make dh a shared buffer: accumulate */
    linear_grads gr = linear_grads_of(h, w, b, h != w && h != b);
    const nt_bf16 *w_bf16 = p->bf16 && gr.dx ? nt_params_bf16_of(w) : NULL;
    gelu_linear_backward(gr.dx, gr.dw, gr.db, g, nd->out->grad, nt_f32(h), nt_f32(w), w_bf16, p->R, p->In,
                         p->Out, p->bf16, gr.acc_x, gr.acc_w, gr.acc_b);
}

nt_status nt_gelu_linear(nt_ctx *ctx, nt_tensor **out, nt_tensor *h, nt_tensor *w, nt_tensor *b) {
    if (!ctx || !out || !h || !w)
        return nt_error(NT_ERR_ARG, "nt_gelu_linear: ctx, out, h or w is NULL");
    if (h->dtype != NT_F32) return nt_error(NT_ERR_SHAPE, "nt_gelu_linear: h must be F32");
    if (h->ndim < 1) return nt_error(NT_ERR_SHAPE, "nt_gelu_linear: h must have >= 1 dim, got a scalar");
    /* With a node to record, gelu(h) goes to the scratch buffer (not kept);
     * without one (evaluation, decoding) to the arena like any output, so
     * that steady loops stay free of heap allocations. */
    int record = nt_ctx_grad_enabled(ctx) &&
                 (h->requires_grad || w->requires_grad || (b && b->requires_grad));
    size_t bytes = (size_t)h->n * sizeof(float);
    float *g = record ? nt_ctx_scratch(ctx, bytes) : nt_ctx_alloc(ctx, bytes);
    if (!g) return nt_error_wrap(NT_ERR_NOMEM, "nt_gelu_linear");
    gelu_into(g, nt_f32(h), h->n);
    nt_tensor *gt, *y;
    NT_TRY(nt_tensor_wrap(ctx, &gt, NT_F32, h->ndim, h->shape, g));
    /* The product itself is nt_linear's (shape checks, few-row path), with
     * recording off: this op records its own node, which saves h, not gt. */
    int grad = nt_ctx_set_grad(ctx, 0);
    nt_status st = nt_linear(ctx, &y, gt, w, b);
    nt_ctx_set_grad(ctx, grad);
    if (st) return nt_error_wrap(st, "nt_gelu_linear");
    nt_node *nd = nt_tape_record(ctx, gelu_linear_backward_node, "nt_gelu_linear", y, 3,
                                 (nt_tensor *[]){h, w, b}, &st);
    if (st) return st;
    if (nd) {
        nd->write_first = 1;
        int R = (int)(y->n / w->shape[0]);
        int bf = nt_ctx_precision(ctx) == NT_PREC_BF16 && (R > LINEAR_FEW_ROWS || w->owner);
        *NT_NODE_ARGS(nd, linear_args) = (linear_args){R, w->shape[1], w->shape[0], bf};
    }
    *out = y;
    return NT_OK;
}
