/* gemm_bf16.c - nextok-bench --gemm-bf16: nt_gemm_bf16 against nt_sgemm at the model's product shapes.
 *
 * M = 2048 rows (B*T of a training batch) against the (K, N) pairs of the
 * configs' layers, in the three forms a linear layer runs: forward
 * X W^T (NT), backward dX = dY W (NN), dW = dY^T X (TN); plus 2048^3 NN.
 * bf16 columns: float32 operands rounded while packed (what activations
 * and gradients get), and B already bf16 (what weights get). GFLOP/s is
 * the best of `reps` timings (median of bench_time), 2 M N K flops per call.
 */
#include <stdio.h>

#include "bench.h"
#include "core/alloc.h"
#include "core/gemm.h"
#include "core/gemm_bf16.h"

typedef struct {
    int kind; /* 0: nt_sgemm, 1: nt_gemm_bf16 on float32, 2: nt_gemm_bf16 with B bf16 */
    int ta, tb, M, N, K;
    const float *A, *B;
    const nt_bf16 *Bh;
    float *C;
} gb_job;

static void run(void *p) {
    gb_job *g = p;
    int lda = g->ta ? g->M : g->K, ldb = g->tb ? g->K : g->N;
    if (g->kind == 0) nt_sgemm(g->ta, g->tb, g->M, g->N, g->K, 1.0f, g->A, lda, g->B, ldb, 0.0f, g->C, g->N);
    else if (g->kind == 1)
        nt_gemm_bf16(g->ta, g->tb, g->M, g->N, g->K, 1.0f, g->A, NT_OPERAND_F32, lda, g->B, NT_OPERAND_F32, ldb,
                     0.0f, g->C, g->N);
    else
        nt_gemm_bf16(g->ta, g->tb, g->M, g->N, g->K, 1.0f, g->A, NT_OPERAND_F32, lda, g->Bh, NT_OPERAND_BF16, ldb,
                     0.0f, g->C, g->N);
}

int bench_gemm_bf16(const bench_opts *o) {
    size_t big = (size_t)2048 * 2048;
    float *A = nt_malloc_aligned(big * sizeof(float)), *B = nt_malloc_aligned(big * sizeof(float));
    float *C = nt_malloc_aligned(big * sizeof(float));
    nt_bf16 *Bh = nt_malloc_aligned(big * sizeof(nt_bf16));
    if (!A || !B || !C || !Bh) {
        fprintf(stderr, "nextok-bench: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < big; i++) {
        A[i] = (float)((i * 2654435761u) % 2001) / 1000.0f - 1.0f;
        B[i] = (float)((i * 40503u + 7) % 2001) / 1000.0f - 1.0f;
    }
    nt_bf16_from_f32_n(Bh, B, (int64_t)big);
    printf("nt_gemm_bf16 (%s kernel) vs nt_sgemm (%s), M = 2048, %d thread(s); GFLOP/s\n",
           nt_gemm_bf16_kernel_name(nt_gemm_bf16_kernel_active()), nt_sgemm_backend(), o->threads);
    printf("  %-4s %5s %5s %5s %9s %9s %9s %7s\n", "form", "M", "K", "N", "sgemm", "bf16", "bf16(Bh)", "ratio");
    static const int dims[][2] = {{256, 256}, {256, 1024}, {384, 384}, {384, 1536}, {512, 512}, {512, 2048},
                                  {1024, 256}, {1536, 384}, {2048, 512}, {2048, 2048}};
    static const struct { int ta, tb; const char *name; } forms[] = {{0, 1, "NT"}, {0, 0, "NN"}, {1, 0, "TN"}};
    for (int f = 0; f < 3; f++)
        for (size_t d = 0; d < sizeof dims / sizeof *dims; d++) {
            int K = dims[d][0], N = dims[d][1], M = 2048;
            if (forms[f].ta) { /* dW (N, K) = dY^T (N, M) X (M, K): the reduction runs over the 2048 rows */
                int t = N;
                N = K, K = M, M = t;
            }
            double gf[3];
            for (int kind = 0; kind < 3; kind++) {
                gb_job g = {kind, forms[f].ta, forms[f].tb, M, N, K, A, B, Bh, C};
                gf[kind] = 2.0 * M * N * K / bench_time(run, &g, o->reps, 0.02) * 1e-9;
            }
            printf("  %-4s %5d %5d %5d %9.1f %9.1f %9.1f %6.2fx\n", forms[f].name, M, K, N, gf[0], gf[1], gf[2],
                   gf[2] / gf[0]);
        }
    nt_free_aligned(A), nt_free_aligned(B), nt_free_aligned(C), nt_free_aligned(Bh);
    return 0;
}
