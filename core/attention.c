/* attention.c - nt_attention: fused multi-head scaled dot-product attention.
 *
 * Dimensions:
 *   B batch, Tq queries, Tk keys, D model width, H heads, Dh = D / H
 *
 * Heads are column slices of the last dim: head h of q is q[b, :, h*Dh:(h+1)*Dh],
 * read in place as a (Tq, Dh) matrix with leading dimension D (no permute
 * copies). Per (b, h) (Vaswani et al. 2017, eq. 1):
 *   S = scale Q K^T                      (Tq, Tk)  one sgemm
 *   P = softmax over visible keys of S    (Tq, Tk)  masked entries are 0
 *   O = P V                               (Tq, Dh)  one sgemm, written into out's slice
 * Key j is visible to query i if key_mask[b, j] != 0 and, when causal,
 * j <= i + (Tk - Tq). A row with no visible key has P = 0, so O = 0.
 * Backward recomputes P per (b, h) from Q and K (one more QK^T product per
 * head) instead of keeping (B, H, Tq, Tk) floats from the forward; the
 * per-thread P and dS blocks live in the context's scratch (nt_ctx_scratch),
 * which the forward already grew to that size:
 *   dV = P^T dO,  dP = dO V^T,  dS = P (dP - rowsum(dP P)) scale,
 *   dQ = dS K,    dK = dS^T Q
 * The (b, h) pairs run in an OpenMP loop (static schedule); each writes only
 * its own column slices, so the result is the same for any thread count.
 * OpenBLAS' OpenMP build runs each sgemm single-threaded inside the loop.
 */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <string.h>

#include "core/gemm_bf16.h"
#include "core/kernels.h"
#include "core/mutate.h"
#include "core/ops.h"
#include "core/vecmath.h"

/* Below this many multiply-adds in total, stay on one thread (a KV-cached
 * decoding step with Tq = 1 costs less than waking the pool). */
#define ATT_PAR_MACS 65536

/* ---- per-head products ---------------------------------------------------------
 * The products of one (b, h) pair are small (Tq, Tk up to a few hundred, Dh
 * 32..64): sgemm spends most of their time in call overhead and packing. At
 * the ISA level AVX-512, head_gemm computes them directly: C rows in blocks
 * of HG_ROWS, 32 columns at a time (two zmm, masked at the edge), k in order,
 * one FMA chain per output element; at AVX2 the same with 16 columns (two
 * ymm) and 4 rows at a time, which gives the same bits. The order of every sum depends
 * on the shapes alone, so results are the same for any thread count. A
 * transposed B (K^T, V^T) is first copied into a (K, N) block on the stack;
 * past HG_MAX_BT floats, or at the portable level, the product goes to
 * cblas_sgemm. */
#define HG_ROWS 6
#define HG2_ROWS 4 /* the AVX2 kernel's */
#define HG_MAX_BT 16384

#if NT_ISA_X86
#include <immintrin.h>

// C[r, 0..32) (r < rows) = alpha sum_k a(r, k) b(k, 0..32) + beta C, a(r, k) = A[r ars + k acs]
static inline __attribute__((always_inline)) NT_AVX512 void hg_block(int rows, int K, const float *A, int64_t ars,
                                                           int64_t acs, const float *B, int64_t ldb,
                                                           __mmask16 m0, __mmask16 m1, float alpha,
                                                           float beta, float *C, int64_t ldc) {
    __m512 c0[HG_ROWS], c1[HG_ROWS];
    for (int r = 0; r < rows; r++) c0[r] = c1[r] = _mm512_setzero_ps();
    for (int k = 0; k < K; k++) {
        const float *bk = B + k * ldb;
        __m512 b0 = _mm512_maskz_loadu_ps(m0, bk), b1 = _mm512_maskz_loadu_ps(m1, bk + 16);
        const float *ak = A + k * acs;
        for (int r = 0; r < rows; r++) {
            __m512 a = _mm512_set1_ps(ak[r * ars]);
            c0[r] = _mm512_fmadd_ps(a, b0, c0[r]);
            c1[r] = _mm512_fmadd_ps(a, b1, c1[r]);
        }
    }
    __m512 al = _mm512_set1_ps(alpha), be = _mm512_set1_ps(beta);
    for (int r = 0; r < rows; r++) {
        float *cr = C + r * ldc;
        __m512 v0 = _mm512_mul_ps(al, c0[r]), v1 = _mm512_mul_ps(al, c1[r]);
        if (beta != 0.0f) { /* beta 0: C is not read (it may hold garbage) */
            v0 = _mm512_fmadd_ps(be, _mm512_maskz_loadu_ps(m0, cr), v0);
            v1 = _mm512_fmadd_ps(be, _mm512_maskz_loadu_ps(m1, cr + 16), v1);
        }
        _mm512_mask_storeu_ps(cr, m0, v0);
        _mm512_mask_storeu_ps(cr + 16, m1, v1);
    }
}

NT_AVX512 static void hg_kernel(int M, int N, int K, float alpha, const float *A, int64_t ars, int64_t acs,
                      const float *B, int64_t ldb, float beta, float *C, int64_t ldc) {
    for (int j0 = 0; j0 < N; j0 += 32) {
        int w = N - j0 < 32 ? N - j0 : 32;
        __mmask16 m0 = (__mmask16)(w >= 16 ? 0xFFFFu : (1u << w) - 1u);
        __mmask16 m1 = (__mmask16)(w >= 32 ? 0xFFFFu : w > 16 ? (1u << (w - 16)) - 1u : 0u);
        for (int i0 = 0; i0 < M; i0 += HG_ROWS) {
            const float *Ai = A + i0 * ars;
            float *Ci = C + i0 * ldc + j0;
            switch (M - i0 < HG_ROWS ? M - i0 : HG_ROWS) {
            case 6: hg_block(6, K, Ai, ars, acs, B + j0, ldb, m0, m1, alpha, beta, Ci, ldc); break;
            case 5: hg_block(5, K, Ai, ars, acs, B + j0, ldb, m0, m1, alpha, beta, Ci, ldc); break;
            case 4: hg_block(4, K, Ai, ars, acs, B + j0, ldb, m0, m1, alpha, beta, Ci, ldc); break;
            case 3: hg_block(3, K, Ai, ars, acs, B + j0, ldb, m0, m1, alpha, beta, Ci, ldc); break;
            case 2: hg_block(2, K, Ai, ars, acs, B + j0, ldb, m0, m1, alpha, beta, Ci, ldc); break;
            default: hg_block(1, K, Ai, ars, acs, B + j0, ldb, m0, m1, alpha, beta, Ci, ldc); break;
            }
        }
    }
}

// C[r, 0..16) (r < rows) as hg_block, with two ymm per row (m0, m1 masks of the columns)
static inline __attribute__((always_inline)) NT_AVX2 void hg2_block(int rows, int K, const float *A, int64_t ars,
                                                                     int64_t acs, const float *B, int64_t ldb,
                                                                     __m256i m0, __m256i m1, int w, float alpha,
                                                                     float beta, float *C, int64_t ldc) {
    __m256 c0[HG2_ROWS], c1[HG2_ROWS];
    for (int r = 0; r < rows; r++) c0[r] = c1[r] = _mm256_setzero_ps();
    for (int k = 0; k < K; k++) {
        const float *bk = B + k * ldb;
        __m256 b0, b1;
        if (w == 16) {
            b0 = _mm256_loadu_ps(bk);
            b1 = _mm256_loadu_ps(bk + 8);
        } else {
            b0 = _mm256_maskload_ps(bk, m0);
            b1 = _mm256_maskload_ps(bk + 8, m1);
        }
        const float *ak = A + k * acs;
        for (int r = 0; r < rows; r++) {
            __m256 a = _mm256_broadcast_ss(ak + r * ars);
            c0[r] = _mm256_fmadd_ps(a, b0, c0[r]);
            c1[r] = _mm256_fmadd_ps(a, b1, c1[r]);
        }
    }
    __m256 al = _mm256_set1_ps(alpha), be = _mm256_set1_ps(beta);
    for (int r = 0; r < rows; r++) {
        float *cr = C + r * ldc;
        __m256 v0 = _mm256_mul_ps(al, c0[r]), v1 = _mm256_mul_ps(al, c1[r]);
        if (w == 16) {
            if (beta != 0.0f) {
                v0 = _mm256_fmadd_ps(be, _mm256_loadu_ps(cr), v0);
                v1 = _mm256_fmadd_ps(be, _mm256_loadu_ps(cr + 8), v1);
            }
            _mm256_storeu_ps(cr, v0);
            _mm256_storeu_ps(cr + 8, v1);
        } else {
            if (beta != 0.0f) { /* beta 0: C is not read (it may hold garbage) */
                v0 = _mm256_fmadd_ps(be, _mm256_maskload_ps(cr, m0), v0);
                v1 = _mm256_fmadd_ps(be, _mm256_maskload_ps(cr + 8, m1), v1);
            }
            _mm256_maskstore_ps(cr, m0, v0);
            _mm256_maskstore_ps(cr + 8, m1, v1);
        }
    }
}

NT_AVX2 static void hg2_kernel(int M, int N, int K, float alpha, const float *A, int64_t ars, int64_t acs,
                               const float *B, int64_t ldb, float beta, float *C, int64_t ldc) {
    /* 4 rows x 2 ymm: 8 accumulators, 2 B vectors, 1 broadcast, 2 masks and
     * alpha, beta fit the 16 registers (6 rows would spill) */
    for (int j0 = 0; j0 < N; j0 += 16) {
        int w = N - j0 < 16 ? N - j0 : 16;
        __m256i m0 = nt_tail8_mask(w), m1 = nt_tail8_mask(w - 8);
        for (int i0 = 0; i0 < M; i0 += HG2_ROWS) {
            const float *Ai = A + i0 * ars;
            float *Ci = C + i0 * ldc + j0;
            switch (M - i0 < HG2_ROWS ? M - i0 : HG2_ROWS) {
            case 4: hg2_block(4, K, Ai, ars, acs, B + j0, ldb, m0, m1, w, alpha, beta, Ci, ldc); break;
            case 3: hg2_block(3, K, Ai, ars, acs, B + j0, ldb, m0, m1, w, alpha, beta, Ci, ldc); break;
            case 2: hg2_block(2, K, Ai, ars, acs, B + j0, ldb, m0, m1, w, alpha, beta, Ci, ldc); break;
            default: hg2_block(1, K, Ai, ars, acs, B + j0, ldb, m0, m1, w, alpha, beta, Ci, ldc); break;
            }
        }
    }
}

// bt (K, N) = B^T for B stored (N, K) with row stride ldb, 16 columns of B gathered at a time
NT_AVX512 static void transpose_b_avx512(float *bt, const float *B, int ldb, int K, int N) {
    __m512i idx = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                     _mm512_set1_epi32(ldb));
    for (int j0 = 0; j0 < N; j0 += 16) {
        __mmask16 m = (__mmask16)(N - j0 >= 16 ? 0xFFFFu : (1u << (N - j0)) - 1u);
        const float *bj = B + (int64_t)j0 * ldb;
        for (int k = 0; k < K; k++)
            _mm512_mask_storeu_ps(bt + (int64_t)k * N + j0, m,
                                  _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx, bj + k, 4));
    }
}
#endif

/* Row-major C (M, N) = alpha op(A) (M, K) op(B) (K, N) + beta C, cblas_sgemm's
 * arguments (beta 0 does not read C). bf16 != 0: on bf16-rounded operands
 * (core/gemm_bf16.h; on the calling thread inside the (b, h) loop). */
static void head_gemm(int bf16, int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                      const float *B, int ldb, float beta, float *C, int ldc) {
    if (bf16) {
        nt_status st = nt_gemm_bf16(ta, tb, M, N, K, alpha, A, NT_OPERAND_F32, lda, B, NT_OPERAND_F32, ldb,
                                    beta, C, ldc);
        NT_ASSERT(st == NT_OK);
        return;
    }
#if NT_ISA_X86
    nt_isa_level isa = nt_isa();
    if (isa != NT_ISA_PORTABLE && (!tb || (int64_t)K * N <= HG_MAX_BT)) {
        float bt[HG_MAX_BT]; // op(B) (K, N) = B^T
        if (tb) {
            if (isa == NT_ISA_AVX512) transpose_b_avx512(bt, B, ldb, K, N);
            else
                for (int k = 0; k < K; k++)
                    for (int j = 0; j < N; j++) bt[(int64_t)k * N + j] = B[(int64_t)j * ldb + k];
            B = bt;
            ldb = N;
        }
        if (isa == NT_ISA_AVX512) hg_kernel(M, N, K, alpha, A, ta ? 1 : lda, ta ? lda : 1, B, ldb, beta, C, ldc);
        else hg2_kernel(M, N, K, alpha, A, ta ? 1 : lda, ta ? lda : 1, B, ldb, beta, C, ldc);
        return;
    }
#endif
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K,
                alpha, A, lda, B, ldb, beta, C, ldc);
}

/* One query's scores and its probability-weighted sum of values, with the
 * kernels of nt_attention_row (at the end of this file). */
static void row_scores(float *s, const float *q, const float *K, int n, int Dh, int ld, float scale);
static void row_pv(float *out, const float *s, const float *V, int n, int Dh, int ld);

/* Last visible key + 1 for query i under the causal rule (may be <= 0). */
static inline int causal_end(int i, int Tq, int Tk, int causal) {
    if (!causal) return Tk;
    int e = i + (Tk - Tq) + 1;
    return e < Tk ? e : Tk;
}

/* In place: S (Tq, Tk) scores -> P probabilities over the visible keys. */
static void masked_softmax(float *S, const int32_t *mask, int Tq, int Tk, int causal) {
    for (int i = 0; i < Tq; i++) {
        float *s = S + (int64_t)i * Tk;
        int n = causal_end(i, Tq, Tk, causal);
        if (n <= 0) {
            memset(s, 0, (size_t)Tk * sizeof(float));
            continue;
        }
        float m, sum;
        if (!mask) {
            m = nt_vmax(s, n);
            sum = nt_vexp_sum(s, s, n, m); /* s = exp(s - m), summed in nt_vsum's order */
        } else {
            m = -INFINITY;
            for (int j = 0; j < n; j++)
                if (mask[j] && s[j] > m) m = s[j];
            if (m == -INFINITY) { /* every key padded */
                memset(s, 0, (size_t)Tk * sizeof(float));
                continue;
            }
            for (int j = 0; j < n; j++) s[j] = mask[j] ? nt_expf(s[j] - m) : 0.0f;
            sum = nt_vsum(s, n);
        }
        float inv = 1.0f / sum;
        for (int j = 0; j < n; j++) s[j] *= inv;
        for (int j = n; j < Tk; j++) s[j] = 0.0f;
    }
}

typedef struct attn_fwd_args {
    float *O, *P;
    const float *Q, *K, *V;
    const int32_t *M;
    int64_t pstride, pslot; /* floats between the P blocks of pairs (kept) or of threads */
    int B, H, Tq, Tk, D, Dh, causal;
    float scale;
    int bf16; /* products on bf16 operands (nt_ctx_precision) */
} attn_fwd_args;

/* S (Tq, Tk) = P of pair bh: scaled scores, then the masked softmax. A single
 * query (a KV-cached decoding step) takes dot products directly: an sgemm
 * call on a 1-row problem costs more in overhead and packing than the work. */
static void attention_head_probs(const attn_fwd_args *a, int bh, float *S) {
    int b = bh / a->H, h = bh % a->H, Tq = a->Tq, Tk = a->Tk, D = a->D, Dh = a->Dh;
    int64_t qo = (int64_t)b * Tq * D + h * Dh, ko = (int64_t)b * Tk * D + h * Dh;
    const int32_t *mask = a->M ? a->M + (int64_t)b * Tk : NULL;
    if (Tq == 1) {
        const float *q = a->Q + qo;
        int n = causal_end(0, 1, Tk, a->causal);
        // S (1, Tk) = scale q . k_j (nt_vdot's sums)
        if (n > 0) row_scores(S, q, a->K + ko, n, Dh, D, a->scale);
    } else {
        // S (Tq, Tk) = scale Q (Tq, Dh) K^T (Dh, Tk)
        head_gemm(a->bf16, 0, 1, Tq, Tk, Dh, a->scale, a->Q + qo, D, a->K + ko, D, 0.0f, S, Tk);
    }
    masked_softmax(S, mask, Tq, Tk, a->causal);
}

/* What nt_attention keeps on its node. */
typedef struct {
    float *P;      /* (B, H, Tq, Tk) the probabilities when the caller kept them, else NULL */
    int32_t *mask; /* (B, Tk) copy of the key mask, or NULL */
    int H;
    int nslots;    /* threads the forward ran with (blocks of the scratch) */
    int causal;
    int bf16;      /* the precision the forward ran in (1: bf16) */
    float scale;
} attention_args;

/* O = softmax(scale Q K^T + mask) V per (b, h) pair; Q (B, Tq, D), K, V
 * (B, Tk, D), dO (B, Tq, D), D = H Dh. Per pair, with P recomputed unless
 * kept (P NULL) and S = scale Q K^T:
 *   dV = P^T dO
 *   dP = dO V^T,  dS = P (dP - rowsum(dP P)) scale  (softmax backward)
 *   dQ = dS K,    dK = dS^T Q
 * dQ, dK, dV: NULL (not wanted) or dX = dX beta_x + the product (beta 0 for
 * a fresh write-first gradient, 1 to accumulate). scratch: (nslots, 2, Tq,
 * Tk) floats, per thread the recomputed P then dP / dS. */
static void attention_backward(float *dQ, float *dK, float *dV, float *scratch, const float *dO,
                               const float *Q, const float *K, const float *V, const float *P,
                               const int32_t *M, int B, int Tq, int Tk, int D, int H, int nslots, int causal,
                               float scale, int bf, float bq, float bk, float bv) {
    int Dh = D / H;
    float ds_scale = nt_mutation == NT_MUT_ATTN_SCALE ? 1.0f : scale; /* test-only (mutate.h) */
    attn_fwd_args fa = {NULL, NULL, Q, K, V, M, 0, 0, B, H, Tq, Tk, D, Dh, causal, scale, bf};
    int64_t macs = (int64_t)B * H * Tq * Tk * Dh;

#pragma omp parallel for schedule(static) num_threads(nslots) if (B * H > 1 && macs > ATT_PAR_MACS)
    for (int bh = 0; bh < B * H; bh++) {
        int b = bh / H, h = bh % H;
        int64_t qo = (int64_t)b * Tq * D + h * Dh, ko = (int64_t)b * Tk * D + h * Dh;
        float *slot = scratch + (int64_t)omp_get_thread_num() * 2 * Tq * Tk;
        const float *Pbh = P ? P + (int64_t)bh * Tq * Tk : slot;
        if (!P) attention_head_probs(&fa, bh, slot);
        if (dV) // dV (Tk, Dh) += P^T (Tk, Tq) dO (Tq, Dh)
            head_gemm(bf, 1, 0, Tk, Dh, Tq, 1.0f, Pbh, Tk, dO + qo, D, bv, dV + ko, D);
        if (!dQ && !dK) continue;
        float *dS = slot + (int64_t)Tq * Tk;
        // dP (Tq, Tk) = dO (Tq, Dh) V^T (Dh, Tk)
        head_gemm(bf, 0, 1, Tq, Tk, Dh, 1.0f, dO + qo, D, V + ko, D, 0.0f, dS, Tk);
        // dS = P (dP - rowsum(dP P)) scale; masked P = 0 gives dS = 0
        for (int i = 0; i < Tq; i++) {
            float *ds = dS + (int64_t)i * Tk;
            const float *p = Pbh + (int64_t)i * Tk;
            float r = nt_vdot(ds, p, Tk);
            for (int j = 0; j < Tk; j++) ds[j] = p[j] * (ds[j] - r) * ds_scale;
        }
        if (dQ) // dQ (Tq, Dh) += dS (Tq, Tk) K (Tk, Dh)
            head_gemm(bf, 0, 0, Tq, Dh, Tk, 1.0f, dS, Tk, K + ko, D, bq, dQ + qo, D);
        if (dK) // dK (Tk, Dh) += dS^T (Tk, Tq) Q (Tq, Dh)
            head_gemm(bf, 1, 0, Tk, Dh, Tq, 1.0f, dS, Tk, Q + qo, D, bk, dK + ko, D);
    }
}

static void attention_backward_node(nt_ctx *ctx, nt_node *nd) {
    const attention_args *a = NT_NODE_ARGS(nd, attention_args);
    nt_tensor *q = nd->in[0], *k = nd->in[1], *v = nd->in[2];
    int B = q->shape[0], Tq = q->shape[1], D = q->shape[2], Tk = k->shape[1];
    float *scratch = nt_ctx_scratch(ctx, (size_t)a->nslots * 2 * Tq * Tk * sizeof(float));
    NT_ASSERT(scratch); /* the forward obtained this size already */
    float *dQ = q->requires_grad ? q->grad : NULL;
    float *dK = k->requires_grad ? k->grad : NULL;
    float *dV = v->requires_grad ? v->grad : NULL;
    /* Write-first: a fresh gradient is stored (beta 0). Every pair writes
     * its own slices in the order dV, dQ, dK, so the fresh marks are taken in
     * that order too (q, k, v may be one tensor). */
    float bv = dV && nt_grad_first(v) ? 0.0f : 1.0f;
    float bq = dQ && nt_grad_first(q) ? 0.0f : 1.0f;
    float bk = dK && nt_grad_first(k) ? 0.0f : 1.0f;
    attention_backward(dQ, dK, dV, scratch, nd->out->grad, nt_f32(q), nt_f32(k), nt_f32(v), a->P, a->mask, B,
                       Tq, Tk, D, a->H, a->nslots, a->causal, a->scale, a->bf16, bq, bk, bv);
}

/* One (b, h) pair of the forward; `slot` picks the thread's block of P when
 * P is not kept (pstride 0). */
static void attention_head_forward(const attn_fwd_args *a, int bh, int slot) {
    int b = bh / a->H, h = bh % a->H, Tq = a->Tq, Tk = a->Tk, D = a->D, Dh = a->Dh;
    int64_t qo = (int64_t)b * Tq * D + h * Dh, ko = (int64_t)b * Tk * D + h * Dh;
    float *S = a->pstride ? a->P + bh * a->pstride : a->P + (int64_t)slot * a->pslot;
    attention_head_probs(a, bh, S);
    if (Tq == 1) {
        int n = causal_end(0, 1, Tk, a->causal);
        // O (1, Dh) = sum_j P_j v_j, j in order
        row_pv(a->O + qo, S, a->V + ko, n > 0 ? n : 0, Dh, D);
        return;
    }
    // O (Tq, Dh) = P (Tq, Tk) V (Tk, Dh)
    head_gemm(a->bf16, 0, 0, Tq, Dh, Tk, 1.0f, S, Tk, a->V + ko, D, 0.0f, a->O + qo, D);
}

nt_status nt_attention(nt_ctx *ctx, nt_tensor **out, nt_tensor *q, nt_tensor *k, nt_tensor *v,
                       nt_tensor *key_mask, int heads, int causal, float scale,
                       nt_tensor **probs_out) {
    if (!ctx || !out || !q || !k || !v)
        return nt_error(NT_ERR_ARG, "nt_attention: ctx, out, q, k or v is NULL");
    char sq[64], sk[64], sv[64], sm[64];
    if (q->dtype != NT_F32 || k->dtype != NT_F32 || v->dtype != NT_F32)
        return nt_error(NT_ERR_SHAPE, "nt_attention: q, k and v must be F32");
    if (q->ndim != 3 || k->ndim != 3 || v->ndim != 3)
        return nt_error(NT_ERR_SHAPE, "nt_attention: q, k, v must be 3-D (B, T, D) (q: %s, k: %s, v: %s)",
                        nt_shape_str(q, sq, sizeof sq), nt_shape_str(k, sk, sizeof sk), nt_shape_str(v, sv, sizeof sv));
    int B = q->shape[0], Tq = q->shape[1], D = q->shape[2], Tk = k->shape[1];
    if (!nt_shape_eq(k, v) || k->shape[0] != B || k->shape[2] != D)
        return nt_error(NT_ERR_SHAPE,
                        "nt_attention: k and v must be (%d, Tk, %d) like q's batch and width "
                        "(q: %s, k: %s, v: %s)",
                        B, D, nt_shape_str(q, sq, sizeof sq), nt_shape_str(k, sk, sizeof sk), nt_shape_str(v, sv, sizeof sv));
    if (heads < 1 || D % heads != 0)
        return nt_error(NT_ERR_SHAPE, "nt_attention: heads %d must be >= 1 and divide D = %d", heads, D);
    if (key_mask && (key_mask->dtype != NT_I32 || key_mask->ndim != 2 || key_mask->shape[0] != B ||
                     key_mask->shape[1] != Tk))
        return nt_error(NT_ERR_SHAPE, "nt_attention: key_mask must be I32 (B, Tk) = (%d, %d), got %s%s",
                        B, Tk, nt_shape_str(key_mask, sm, sizeof sm),
                        key_mask->dtype != NT_I32 ? " F32" : "");
    if (!isfinite(scale)) return nt_error(NT_ERR_ARG, "nt_attention: scale %g is not finite", (double)scale);
    int H = heads, Dh = D / H;
    int rec = nt_ctx_grad_enabled(ctx) && (q->requires_grad || k->requires_grad || v->requires_grad);
    int nslots = omp_get_max_threads();

    nt_tensor *o, *probs = NULL;
    NT_TRY(nt_tensor_new(ctx, &o, NT_F32, 3, (int[]){B, Tq, D})); // (B, Tq, D)
    float *P;
    int64_t pstride = 0, pslot = (int64_t)Tq * Tk;
    if (probs_out) {
        NT_TRY(nt_tensor_new(ctx, &probs, NT_F32, 4, (int[]){B, H, Tq, Tk})); // (B, H, Tq, Tk)
        P = nt_f32(probs);
        pstride = (int64_t)Tq * Tk;
    } else if (rec) {
        /* P is not kept: per-thread blocks in the scratch, grown here to the
         * (nslots, 2, Tq, Tk) that backward will ask for (P and dS). */
        P = nt_ctx_scratch(ctx, (size_t)nslots * 2 * Tq * Tk * sizeof(float));
        pslot = 2 * (int64_t)Tq * Tk;
    } else { /* nothing kept: one block per thread, in the arena (no heap in decoding loops) */
        P = nt_ctx_alloc(ctx, (size_t)nslots * Tq * Tk * sizeof(float));
    }
    if (!P) return nt_error_wrap(NT_ERR_NOMEM, "nt_attention");
    if (rec && probs_out && !nt_ctx_scratch(ctx, (size_t)nslots * 2 * Tq * Tk * sizeof(float)))
        return nt_error_wrap(NT_ERR_NOMEM, "nt_attention");

    const float *Q = nt_f32(q), *K = nt_f32(k), *V = nt_f32(v);
    const int32_t *M = key_mask ? nt_i32(key_mask) : NULL;
    float *O = nt_f32(o);
    int64_t macs = (int64_t)B * H * Tq * Tk * Dh;
    int bf = nt_ctx_precision(ctx) == NT_PREC_BF16;
    attn_fwd_args fa = {O, P, Q, K, V, M, pstride, pslot, B, H, Tq, Tk, D, Dh, causal, scale, bf};
    if (B * H > 1 && macs > ATT_PAR_MACS) {
#pragma omp parallel for schedule(static) num_threads(nslots)
        for (int bh = 0; bh < B * H; bh++) attention_head_forward(&fa, bh, omp_get_thread_num());
    } else { /* no parallel region (a decoding step) */
        for (int bh = 0; bh < B * H; bh++) attention_head_forward(&fa, bh, 0);
    }

    if (rec) {
        nt_status st;
        nt_node *nd = nt_tape_record(ctx, attention_backward_node, "nt_attention", o, 3,
                                     (nt_tensor *[]){q, k, v}, &st);
        if (st) return st;
        nd->write_first = 1;
        int32_t *Mc = NULL; /* the mask is read again in backward: keep a copy */
        if (M) {
            Mc = nt_ctx_alloc(ctx, (size_t)B * Tk * sizeof(int32_t));
            if (!Mc) return nt_error_wrap(NT_ERR_NOMEM, "nt_attention");
            memcpy(Mc, M, (size_t)B * Tk * sizeof(int32_t));
        }
        *NT_NODE_ARGS(nd, attention_args) =
            (attention_args){probs_out ? P : NULL, Mc, H, nslots, causal, bf, scale};
    }
    if (probs_out) *probs_out = probs;
    *out = o;
    return NT_OK;
}

/* ---- one query, one head, every key visible (the batch-1 decoder) ----------------
 * The operations of attention_head_probs + attention_head_forward for Tq = 1
 * and no masked key, in their order: score j = scale * (q . k_j) with
 * nt_vdot's lanes (products rounded, then added; lane l takes d = l mod 16;
 * nt_vsum's tree), nt_vmax, nt_expf, nt_vsum, then o = sum_j p_j v_j in key
 * order. At AVX-512 the scores of 8 keys share one transposing reduction, at
 * AVX2 4 keys are summed side by side, and o stays in registers; the results
 * are the same bits at every level. */
#if NT_ISA_X86
// s[j] = scale * (q . k_j), j < n
NT_AVX512 static void row_scores_avx512(float *s, const float *q, const float *K, int n, int Dh, int ld, float scale) {
    int full = Dh / 16 * 16;
    __mmask16 tm = (__mmask16)((1u << (Dh - full)) - 1);
    for (int j0 = 0; j0 < n; j0 += 8) {
        const float *k[8];
        for (int i = 0; i < 8; i++) k[i] = K + (int64_t)(j0 + i < n ? j0 + i : n - 1) * ld;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
#define NT_ROW_STEP(LOAD)                                                                          \
    do {                                                                                           \
        __m512 qv = LOAD(q);                                                                       \
        a0 = _mm512_add_ps(a0, _mm512_mul_ps(qv, LOAD(k[0])));                                     \
        a1 = _mm512_add_ps(a1, _mm512_mul_ps(qv, LOAD(k[1])));                                     \
        a2 = _mm512_add_ps(a2, _mm512_mul_ps(qv, LOAD(k[2])));                                     \
        a3 = _mm512_add_ps(a3, _mm512_mul_ps(qv, LOAD(k[3])));                                     \
        a4 = _mm512_add_ps(a4, _mm512_mul_ps(qv, LOAD(k[4])));                                     \
        a5 = _mm512_add_ps(a5, _mm512_mul_ps(qv, LOAD(k[5])));                                     \
        a6 = _mm512_add_ps(a6, _mm512_mul_ps(qv, LOAD(k[6])));                                     \
        a7 = _mm512_add_ps(a7, _mm512_mul_ps(qv, LOAD(k[7])));                                     \
    } while (0)
        int d = 0;
#define NT_ROW_FULL(p) _mm512_loadu_ps((p) + d)
        for (; d < full; d += 16) NT_ROW_STEP(NT_ROW_FULL);
#undef NT_ROW_FULL
        if (d < Dh) {
            /* masked lanes add 0 * 0 = +0, which leaves a sum unchanged: nt_vdot
             * never adds them at all */
#define NT_ROW_TAIL(p) _mm512_maskz_loadu_ps(tm, (p) + d)
            NT_ROW_STEP(NT_ROW_TAIL);
#undef NT_ROW_TAIL
        }
#undef NT_ROW_STEP
        float y[8];
        nt_reduce8_ps(y, a0, a1, a2, a3, a4, a5, a6, a7);
        int m = n - j0 < 8 ? n - j0 : 8;
        for (int i = 0; i < m; i++) s[j0 + i] = scale * y[i];
    }
}

NT_AVX2 static void row_scores_avx2(float *s, const float *q, const float *K, int n, int Dh, int ld, float scale) {
    for (int j0 = 0; j0 < n; j0 += 4) {
        const float *k[4];
        for (int i = 0; i < 4; i++) k[i] = K + (int64_t)(j0 + i < n ? j0 + i : n - 1) * ld;
        __m256 lo[4], hi[4];
#pragma GCC unroll 4
        for (int i = 0; i < 4; i++) lo[i] = hi[i] = _mm256_setzero_ps();
        int d = 0;
        for (; d + 16 <= Dh; d += 16) {
            __m256 q0 = _mm256_loadu_ps(q + d), q1 = _mm256_loadu_ps(q + d + 8);
#pragma GCC unroll 4
            for (int i = 0; i < 4; i++) {
                lo[i] = _mm256_add_ps(lo[i], _mm256_mul_ps(q0, _mm256_loadu_ps(k[i] + d)));
                hi[i] = _mm256_add_ps(hi[i], _mm256_mul_ps(q1, _mm256_loadu_ps(k[i] + d + 8)));
            }
        }
        if (d < Dh) { /* masked lanes add 0 * 0 = +0 */
            __m256i m0 = nt_tail8_mask(Dh - d), m1 = nt_tail8_mask(Dh - d - 8);
            __m256 q0 = _mm256_maskload_ps(q + d, m0), q1 = _mm256_maskload_ps(q + d + 8, m1);
#pragma GCC unroll 4
            for (int i = 0; i < 4; i++) {
                lo[i] = _mm256_add_ps(lo[i], _mm256_mul_ps(q0, _mm256_maskload_ps(k[i] + d, m0)));
                hi[i] = _mm256_add_ps(hi[i], _mm256_mul_ps(q1, _mm256_maskload_ps(k[i] + d + 8, m1)));
            }
        }
        int m = n - j0 < 4 ? n - j0 : 4;
#pragma GCC unroll 4
        for (int i = 0; i < 4; i++) /* constant indices: lo, hi stay in registers */
            if (i < m) s[j0 + i] = scale * nt_reduce16_ps256(lo[i], hi[i]);
    }
}

// out (Dh) = sum_j s_j v_j, j in order; Dh % 16 == 0, Dh <= 64
NT_AVX512 static void row_pv_avx512(float *out, const float *s, const float *V, int n, int Dh, int ld) {
    __m512 o0 = _mm512_setzero_ps(), o1 = o0, o2 = o0, o3 = o0;
    for (int j = 0; j < n; j++) {
        const float *v = V + (int64_t)j * ld;
        __m512 p = _mm512_set1_ps(s[j]);
        o0 = _mm512_add_ps(o0, _mm512_mul_ps(p, _mm512_loadu_ps(v)));
        if (Dh > 16) o1 = _mm512_add_ps(o1, _mm512_mul_ps(p, _mm512_loadu_ps(v + 16)));
        if (Dh > 32) o2 = _mm512_add_ps(o2, _mm512_mul_ps(p, _mm512_loadu_ps(v + 32)));
        if (Dh > 48) o3 = _mm512_add_ps(o3, _mm512_mul_ps(p, _mm512_loadu_ps(v + 48)));
    }
    _mm512_storeu_ps(out, o0);
    if (Dh > 16) _mm512_storeu_ps(out + 16, o1);
    if (Dh > 32) _mm512_storeu_ps(out + 32, o2);
    if (Dh > 48) _mm512_storeu_ps(out + 48, o3);
}

// the same with Dh % 8 == 0, Dh <= 64
NT_AVX2 static void row_pv_avx2(float *out, const float *s, const float *V, int n, int Dh, int ld) {
    __m256 o[8];
    int nv = Dh / 8;
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) o[i] = _mm256_setzero_ps();
    for (int j = 0; j < n; j++) {
        const float *v = V + (int64_t)j * ld;
        __m256 p = _mm256_set1_ps(s[j]);
#pragma GCC unroll 8
        for (int i = 0; i < 8; i++)
            if (i < nv) o[i] = _mm256_add_ps(o[i], _mm256_mul_ps(p, _mm256_loadu_ps(v + 8 * i)));
    }
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) /* constant indices: o stays in registers */
        if (i < nv) _mm256_storeu_ps(out + 8 * i, o[i]);
}
#endif

// s[j] = scale * nt_vdot(q, K[j * ld ..], Dh) for j < n, bitwise, at the ISA level's speed
static void row_scores(float *s, const float *q, const float *K, int n, int Dh, int ld, float scale) {
#if NT_ISA_X86
    nt_isa_level isa = nt_isa();
    if (isa == NT_ISA_AVX512) {
        row_scores_avx512(s, q, K, n, Dh, ld, scale);
        return;
    }
    if (isa == NT_ISA_AVX2) {
        row_scores_avx2(s, q, K, n, Dh, ld, scale);
        return;
    }
#endif
    for (int j = 0; j < n; j++) s[j] = scale * nt_vdot(q, K + (int64_t)j * ld, Dh);
}

// out (Dh) = sum_j s_j V[j * ld ..] in key order (out[d] = 0, then += s_j v_j[d]), bitwise
static void row_pv(float *out, const float *s, const float *V, int n, int Dh, int ld) {
#if NT_ISA_X86
    nt_isa_level isa = nt_isa();
    if (isa == NT_ISA_AVX512 && Dh % 16 == 0 && Dh <= 64) {
        row_pv_avx512(out, s, V, n, Dh, ld);
        return;
    }
    if (isa == NT_ISA_AVX2 && Dh % 8 == 0 && Dh <= 64) {
        row_pv_avx2(out, s, V, n, Dh, ld);
        return;
    }
#endif
    for (int d = 0; d < Dh; d++) out[d] = 0.0f;
    for (int j = 0; j < n; j++) {
        const float *v = V + (int64_t)j * ld;
        float p = s[j];
        for (int d = 0; d < Dh; d++) out[d] += p * v[d];
    }
}

void nt_attention_row(float *out, const float *q, const float *K, const float *V, int n, int Dh,
                      int ld, float scale, float *s) {
    row_scores(s, q, K, n, Dh, ld, scale);
    float mx = nt_vmax(s, n);
    float inv = 1.0f / nt_vexp_sum(s, s, n, mx); /* s = exp(s - mx), summed in nt_vsum's order */
    for (int j = 0; j < n; j++) s[j] *= inv;
    row_pv(out, s, V, n, Dh, ld);
}
