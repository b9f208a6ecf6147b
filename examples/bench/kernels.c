/* kernels.c - nextok-bench --kernels: throughput of the hot kernels at the model shapes.
 *
 * sgemm: M = 2048 rows (B*T of a training batch) against K, N in
 * {128 .. 1536}, in the three forms a linear layer runs (forward x W^T = NT,
 * dx = dy W = NN, dW = dy^T x = TN), as GFLOP/s and as a fraction of a large
 * square sgemm (2048^3) measured in the same run, OpenBLAS (cblas_sgemm) beside
 * nt_sgemm (core/gemm.h) at each shape. Then nt_layernorm (GB/s),
 * nt_attention (GFLOP/s of its four/six products; forward and forward +
 * backward, and a KV-cached decoding step), nt_cross_entropy.
 */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "core/alloc.h"
#include "core/gemm.h"
#include "core/ops.h"
#include "core/parallel.h"

/* ---- sgemm ------------------------------------------------------------------------ */

typedef struct {
    int ours; /* 1: nt_sgemm, 0: cblas_sgemm (OpenBLAS) */
    int ta, tb, M, N, K;
    const float *A, *B;
    float *C;
} gemm_job;

static void run_gemm(void *p) {
    gemm_job *g = p;
    if (g->ours)
        nt_sgemm(g->ta, g->tb, g->M, g->N, g->K, 1.0f, g->A, g->ta ? g->M : g->K, g->B,
                 g->tb ? g->K : g->N, 0.0f, g->C, g->N);
    else
        cblas_sgemm(CblasRowMajor, g->ta ? CblasTrans : CblasNoTrans, g->tb ? CblasTrans : CblasNoTrans,
                    g->M, g->N, g->K, 1.0f, g->A, g->ta ? g->M : g->K, g->B, g->tb ? g->K : g->N, 0.0f,
                    g->C, g->N);
}

static double gemm_gflops(int ours, int ta, int tb, int M, int N, int K, float *A, float *B, float *C,
                          int reps) {
    gemm_job g = {ours, ta, tb, M, N, K, A, B, C};
    double s = bench_time(run_gemm, &g, reps, 0.02);
    return 2.0 * M * N * K / s * 1e-9;
}

static const int dims[] = {128, 256, 384, 512, 768, 1024, 1536};
enum { NDIMS = sizeof dims / sizeof *dims, MROWS = 2048 };

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int bench_sgemm(const bench_opts *o) {
    size_t big = (size_t)2048 * 2048;
    float *A = nt_malloc_aligned(big * sizeof(float)), *B = nt_malloc_aligned(big * sizeof(float));
    float *C = nt_malloc_aligned(big * sizeof(float));
    if (!A || !B || !C) {
        fprintf(stderr, "nextok-bench: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < big; i++) A[i] = (float)((i * 7) % 13) * 0.1f - 0.6f, B[i] = (float)((i * 5) % 11) * 0.1f - 0.5f;
    /* The peak is measured before and after the table (the larger counts), and
     * the table is printed once both are known. Each shape runs OpenBLAS, then
     * nt_sgemm (core/gemm.h) right after, so that both see the same load. */
    static const struct { int ta, tb; const char *what; } forms[] = {
        {0, 1, "NT: C (M x N) = A (M x K) B (N x K)^T  -- linear forward, In K, Out N"},
        {0, 0, "NN: C (M x N) = A (M x K) B (K x N)    -- linear dx = dy W, Out K, In N"},
        {1, 0, "TN: C (K x N) = A (M x K)^T B (M x N)  -- linear dW = dy^T x, Out K, In N"},
    };
    double g[2][3][NDIMS][NDIMS], peak0[2], peak1[2], peak[2];
    for (int u = 0; u < 2; u++) peak0[u] = gemm_gflops(u, 0, 0, 2048, 2048, 2048, A, B, C, o->reps);
    for (int f = 0; f < 3; f++)
        for (int i = 0; i < NDIMS; i++)
            for (int j = 0; j < NDIMS; j++)
                for (int u = 0; u < 2; u++) {
                    int K = dims[i], N = dims[j];
                    g[u][f][i][j] = forms[f].ta ? gemm_gflops(u, 1, 0, K, N, MROWS, A, B, C, o->reps)
                                                : gemm_gflops(u, 0, forms[f].tb, MROWS, N, K, A, B, C, o->reps);
                }
    for (int u = 0; u < 2; u++) {
        peak1[u] = gemm_gflops(u, 0, 0, 2048, 2048, 2048, A, B, C, o->reps);
        peak[u] = peak0[u] > peak1[u] ? peak0[u] : peak1[u];
    }
    printf("sgemm peak, 2048x2048x2048 NN: OpenBLAS %.1f GFLOP/s (%.1f before the table, %.1f after)\n",
           peak[0], peak0[0], peak1[0]);
    printf("                               nt_sgemm %.1f GFLOP/s (%.1f before the table, %.1f after; %s)\n\n",
           peak[1], peak0[1], peak1[1], nt_sgemm_backend());
    double sum_frac = 0, min_frac = 1e9, max_frac = 0, ratio[3 * NDIMS * NDIMS];
    int count = 0;
    for (int f = 0; f < 3; f++) {
        printf("sgemm %s, M = %d\n  GFLOP/s: OpenBLAS (fraction of its peak) | nt_sgemm\n  %6s", forms[f].what,
               MROWS, "K \\ N");
        for (int j = 0; j < NDIMS; j++) printf(" %19d", dims[j]);
        printf("\n");
        for (int i = 0; i < NDIMS; i++) {
            printf("  %6d", dims[i]);
            for (int j = 0; j < NDIMS; j++) {
                double fr = g[0][f][i][j] / peak[0];
                ratio[count] = g[1][f][i][j] / g[0][f][i][j];
                sum_frac += fr, count++;
                if (fr < min_frac) min_frac = fr;
                if (fr > max_frac) max_frac = fr;
                printf(" %6.1f (%3.0f%%)|%6.1f", g[0][f][i][j], 100 * fr, g[1][f][i][j]);
            }
            printf("\n");
        }
        printf("\n");
    }
    printf("sgemm at the model shapes: %.0f%% of peak on average (min %.0f%%, max %.0f%%)\n",
           100 * sum_frac / count, 100 * min_frac, 100 * max_frac);
    qsort(ratio, (size_t)count, sizeof *ratio, cmp_double);
    printf("nt_sgemm / OpenBLAS at the model shapes: median %.2fx (min %.2fx, max %.2fx); 2048^3: %.2fx\n\n",
           ratio[count / 2], ratio[0], ratio[count - 1], peak[1] / peak[0]);
    nt_free_aligned(A);
    nt_free_aligned(B);
    nt_free_aligned(C);
    return 0;
}

/* ---- ops on the tape ---------------------------------------------------------------- */

typedef struct {
    nt_ctx *ctx;
    nt_tensor *in[4];
    float *dout;        /* seed gradient for the output */
    int backward;       /* 0: forward only (recorded, as in training) */
    int kind;           /* 0 layernorm, 1 attention, 2 cross-entropy */
    int heads, causal;
    float scale;
    nt_tensor *mask;
} op_job;

static void run_op(void *p) {
    op_job *j = p;
    nt_tensor *y = NULL;
    nt_status st = NT_OK;
    if (j->kind == 0) st = nt_layernorm(j->ctx, &y, j->in[0], j->in[1], j->in[2], 1e-5f);
    else if (j->kind == 1)
        st = nt_attention(j->ctx, &y, j->in[0], j->in[1], j->in[2], j->mask, j->heads, j->causal, j->scale, NULL);
    else st = nt_cross_entropy(j->ctx, &y, j->in[0], j->in[1], -1, 0.1f, NULL);
    if (st == NT_OK && j->backward) st = nt_backward_seeded(j->ctx, y, j->dout);
    if (st != NT_OK) fprintf(stderr, "nextok-bench: %s\n", nt_errmsg());
    nt_ctx_reset(j->ctx);
}

/* A leaf F32 tensor with its own gradient buffer (so the op's backward
 * accumulates into memory that outlives the work arena's resets). */
static nt_tensor *leaf(nt_ctx *c, int ndim, const int *shape, int grad, unsigned seed) {
    nt_tensor *t;
    if (nt_tensor_new(c, &t, NT_F32, ndim, shape) != NT_OK) return NULL;
    for (int64_t i = 0; i < t->n; i++) nt_f32(t)[i] = (float)(((i + seed) * 2654435761u) % 1000) * 0.002f - 1.0f;
    if (grad) {
        t->requires_grad = 1;
        t->grad = nt_ctx_alloc(c, (size_t)t->n * sizeof(float));
        memset(t->grad, 0, (size_t)t->n * sizeof(float));
    }
    return t;
}

static float *ones(nt_ctx *c, int64_t n) {
    float *d = nt_ctx_alloc(c, (size_t)n * sizeof(float));
    for (int64_t i = 0; i < n; i++) d[i] = (float)((i * 37) % 17) * 0.01f - 0.08f;
    return d;
}

static const struct { int B, T, D, H; } shapes[] = {{64, 32, 128, 4}, {32, 64, 256, 8}, {16, 128, 384, 6}};

static int bench_ops(const bench_opts *o) {
    nt_ctx *lc, *wc;
    if (nt_ctx_new(&lc, 0) != NT_OK || nt_ctx_new(&wc, 0) != NT_OK) return 1;

    printf("nt_layernorm (x (B*T, D) = (2048, D)), median of %d\n", o->reps);
    printf("  %-22s %12s %12s %14s %14s\n", "shape", "fwd us", "fwd+bwd us", "fwd GB/s", "fwd+bwd GB/s");
    for (size_t s = 0; s < 3; s++) {
        int N = shapes[s].B * shapes[s].T, D = shapes[s].D;
        op_job j = {.ctx = wc, .kind = 0};
        j.in[0] = leaf(lc, 2, (int[]){N, D}, 1, 1);
        j.in[1] = leaf(lc, 1, (int[]){D}, 1, 2);
        j.in[2] = leaf(lc, 1, (int[]){D}, 1, 3);
        j.dout = ones(lc, (int64_t)N * D);
        double tf = bench_time(run_op, &j, o->reps, 0.02);
        j.backward = 1;
        double tb = bench_time(run_op, &j, o->reps, 0.02);
        double bytes = 4.0 * N * D; /* fwd: read x, write y; bwd: read x, dy, read+write dx */
        char name[32];
        snprintf(name, sizeof name, "%dx%d", N, D);
        printf("  %-22s %12.1f %12.1f %14.1f %14.1f\n", name, tf * 1e6, tb * 1e6, 2 * bytes / tf * 1e-9,
               6 * bytes / tb * 1e-9);
    }

    printf("\nnt_attention (causal, self, Tq = Tk = T), median of %d\n", o->reps);
    printf("  %-22s %12s %12s %14s %14s\n", "B,T,D,H", "fwd us", "fwd+bwd us", "fwd GFLOP/s", "fwd+bwd GFLOP/s");
    for (size_t s = 0; s < 3; s++) {
        int B = shapes[s].B, T = shapes[s].T, D = shapes[s].D, H = shapes[s].H;
        op_job j = {.ctx = wc, .kind = 1, .heads = H, .causal = 1, .scale = 1.0f / sqrtf((float)D / H)};
        for (int i = 0; i < 3; i++) j.in[i] = leaf(lc, 3, (int[]){B, T, D}, 1, 10u + i);
        j.dout = ones(lc, (int64_t)B * T * D);
        double tf = bench_time(run_op, &j, o->reps, 0.02);
        j.backward = 1;
        double tb = bench_time(run_op, &j, o->reps, 0.02);
        double fl = 4.0 * B * T * T * D; /* QK^T and PV, full (masked entries included) */
        char name[32];
        snprintf(name, sizeof name, "%d,%d,%d,%d", B, T, D, H);
        printf("  %-22s %12.1f %12.1f %14.1f %14.1f\n", name, tf * 1e6, tb * 1e6, fl / tf * 1e-9,
               3 * fl / tb * 1e-9);
    }
    /* KV-cached decoding step: batch 1, one query against a 128-key prefix */
    {
        int D = 256, H = 8, Tk = 128;
        nt_ctx_set_grad(wc, 0);
        op_job j = {.ctx = wc, .kind = 1, .heads = H, .causal = 1, .scale = 1.0f / sqrtf((float)D / H)};
        j.in[0] = leaf(lc, 3, (int[]){1, 1, D}, 0, 20);
        j.in[1] = leaf(lc, 3, (int[]){1, Tk, D}, 0, 21);
        j.in[2] = leaf(lc, 3, (int[]){1, Tk, D}, 0, 22);
        double t = bench_time(run_op, &j, o->reps, 0.02);
        printf("  %-22s %12.2f   (decode step, Tq = 1, Tk = %d, no grad)\n", "1,1,256,8", t * 1e6, Tk);
        nt_ctx_set_grad(wc, 1);
    }

    printf("\nnt_cross_entropy (N = 2048 rows, smoothing 0.1), median of %d\n", o->reps);
    printf("  %-22s %12s %12s %14s\n", "N x V", "fwd us", "fwd+bwd us", "fwd GB/s");
    static const int vocab[] = {128, 1024, 8192};
    for (size_t s = 0; s < 3; s++) {
        int N = 2048, V = vocab[s];
        op_job j = {.ctx = wc, .kind = 2};
        j.in[0] = leaf(lc, 2, (int[]){N, V}, 1, 30);
        nt_tensor *t;
        nt_tensor_new(lc, &t, NT_I32, 1, (int[]){N});
        for (int i = 0; i < N; i++) nt_i32(t)[i] = (i * 31) % V;
        j.in[1] = t;
        j.dout = ones(lc, 1);
        double tf = bench_time(run_op, &j, o->reps, 0.02);
        j.backward = 1;
        double tb = bench_time(run_op, &j, o->reps, 0.02);
        char name[32];
        snprintf(name, sizeof name, "%dx%d", N, V);
        printf("  %-22s %12.1f %12.1f %14.1f\n", name, tf * 1e6, tb * 1e6, 4.0 * N * V / tf * 1e-9);
    }
    printf("\n(nt_gelu is not timed here: it belongs to the elementwise ops.)\n");
    nt_ctx_free(wc);
    nt_ctx_free(lc);
    return 0;
}

int bench_kernels(const bench_opts *o) {
    printf("nextok-bench --kernels: %d thread(s), %s\n\n", o->threads, nt_blas_info());
    int rc = bench_sgemm(o);
    if (rc) return rc;
    return bench_ops(o);
}
