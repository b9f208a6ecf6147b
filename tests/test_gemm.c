/* test_gemm.c - nt_sgemm against a double-precision reference and cblas_sgemm.
 *
 * All four transpose combinations; m, n, k at every remainder of the kernel's
 * 14 x 32 tile and around its blocks (KC 384 deep, NC 512 wide, see
 * core/gemm.c); leading dimensions larger than the rows; alpha != 1; beta 0
 * (old C full of NaNs), 1 and 0.5; k = 0 and alpha = 0; C's padding columns
 * untouched; bitwise equality of a result at 1 and 2 threads and of a strip
 * computed on its own; argument errors. Everything runs at each ISA level
 * the CPU has (nt_isa_set: AVX-512, AVX2 kernels; portable = OpenBLAS), and
 * the AVX-512 and AVX2 kernels give bitwise the same C on every case of
 * test_cross_level (the promise of core/gemm.h).
 *
 * Error bound per element: |c - ref| <= 4 (k + 4) eps (|alpha| sum_p |a b| +
 * |beta c0|), a few times the worst case of any summation order (Higham,
 * "Accuracy and Stability of Numerical Algorithms", 3.1), far below the error
 * of a wrong index or a missed term.
 */
#include <cblas.h>
#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/gemm.h"
#include "core/isa.h"
#include "core/kernels.h"
#include "core/parallel.h"
#include "support/check.h"
#include "support/gemm_case.h"
#include "support/values.h"

static int run_case(int ta, int tb, int m, int n, int k, int pad, float alpha, float beta, uint32_t salt) {
    gemm_case p;
    char what[160];
    snprintf(what, sizeof what, "ta %d tb %d m %d n %d k %d pad %d alpha %g beta %g", ta, tb, m, n, k,
             pad, alpha, beta);
    if (!gemm_case_init(&p, ta, tb, m, n, k, pad, alpha, beta, salt)) {
        CHECK(0, "%s: out of memory", what);
        gemm_case_free(&p);
        return 1;
    }
    nt_status st = nt_sgemm(ta, tb, m, n, k, alpha, p.a, p.lda, p.b, p.ldb, beta, p.c, p.ldc);
    CHECK(st == NT_OK, "%s: %s", what, nt_errmsg());
    int bad = gemm_case_check(&p, p.c, NULL, what);
    CHECK(bad == 0, "%s: %d elements off", what, bad);
    gemm_case_free(&p);
    return bad;
}

static const float alphas[] = {1.0f, -0.75f, 2.5f};
static const float betas[] = {0.0f, 1.0f, 0.5f};

/* Every remainder of the 14 x 32 tile (and of its 16-column halves). */
static void test_edges(void) {
    static const int ns[] = {1, 2, 3, 7, 15, 16, 17, 24, 31, 32, 33, 47, 48, 63, 64, 65};
    static const int ks[] = {1, 5, 16};
    int cases = 0, fails = 0;
    uint32_t salt = 1;
    for (int t = 0; t < 4; t++)
        for (int m = 1; m <= 29; m++)
            for (size_t ni = 0; ni < sizeof ns / sizeof *ns; ni++)
                for (size_t ki = 0; ki < sizeof ks / sizeof *ks; ki++, salt += 3) {
                    float alpha = alphas[salt % 3], beta = betas[(salt / 3) % 3];
                    fails += run_case(t >> 1, t & 1, m, ns[ni], ks[ki], (int)(salt % 4), alpha, beta, salt) != 0;
                    cases++;
                }
    printf("edge tiles: %d cases, %d failed\n", cases, fails);
}

/* Sizes around the cache blocks, strips split across threads (rows and
 * columns), and degenerate shapes. */
static void test_blocks(void) {
    static const int sizes[][3] = {
        {30, 70, 383},  {30, 70, 384},  {30, 70, 385},  {29, 33, 769},   {15, 511, 20},
        {15, 512, 20},  {15, 513, 20},  {43, 1025, 9},  {200, 150, 300}, {130, 40, 600},
        {5, 700, 70},   {1, 1, 1000},   {1000, 1, 3},   {600, 3, 1},     {97, 97, 97},
        {64, 64, 64},   {257, 33, 77},  {3, 1000, 90},  {28, 40, 1024}, /* lda 1024: packed */
    };
    int cases = 0, fails = 0;
    uint32_t salt = 1000;
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
        for (int t = 0; t < 4; t++, salt += 3) {
            float alpha = alphas[salt % 3], beta = betas[(salt / 3) % 3];
            fails += run_case(t >> 1, t & 1, sizes[s][0], sizes[s][1], sizes[s][2], (int)(s % 3) * 5,
                              alpha, beta, salt) != 0;
            cases++;
        }
    printf("block sizes: %d cases, %d failed\n", cases, fails);
}

/* k = 0 and alpha = 0: C = beta C (beta 0 clears NaNs). */
static void test_no_product(void) {
    for (int b = 0; b < 3; b++) {
        run_case(0, 0, 9, 37, 0, 2, 1.0f, betas[b], 77);
        run_case(1, 1, 9, 37, 5, 2, 0.0f, betas[b], 78);
    }
}

/* nt_sgemm and cblas_sgemm agree to the same bound (relative to sum |a b|). */
static void test_vs_cblas(void) {
    static const int sizes[][3] = {{128, 384, 256}, {77, 45, 530}, {300, 64, 33}};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
        for (int t = 0; t < 4; t++) {
            gemm_case p;
            int m = sizes[s][0], n = sizes[s][1], k = sizes[s][2];
            if (!gemm_case_init(&p, t >> 1, t & 1, m, n, k, 3, 1.0f, 0.5f, (uint32_t)(500 + s * 4 + t))) {
                CHECK(0, "out of memory");
                gemm_case_free(&p);
                continue;
            }
            float *ref = malloc((size_t)m * p.ldc * sizeof(float));
            if (!ref) {
                CHECK(0, "out of memory");
                gemm_case_free(&p);
                continue;
            }
            memcpy(ref, p.c0, (size_t)m * p.ldc * sizeof(float));
            cblas_sgemm(CblasRowMajor, p.ta ? CblasTrans : CblasNoTrans, p.tb ? CblasTrans : CblasNoTrans,
                        m, n, k, p.alpha, p.a, p.lda, p.b, p.ldb, p.beta, ref, p.ldc);
            CHECK(nt_sgemm(p.ta, p.tb, m, n, k, p.alpha, p.a, p.lda, p.b, p.ldb, p.beta, p.c, p.ldc) == NT_OK,
                  "%s", nt_errmsg());
            int bad = 0;
            double tol = 8.0 * (k + 4) * FLT_EPSILON;
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) {
                    double mag = 0;
                    for (int q = 0; q < k; q++) mag += fabs(gemm_case_a(&p, i, q) * gemm_case_b(&p, q, j));
                    mag = mag * fabs(p.alpha) + fabs(p.beta * p.c0[(size_t)i * p.ldc + j]);
                    double d = fabs((double)p.c[(size_t)i * p.ldc + j] - ref[(size_t)i * p.ldc + j]);
                    if (!(d <= tol * mag) && bad++ < 3)
                        CHECK(0, "vs cblas: ta %d tb %d %dx%dx%d: C[%d, %d] %.9g vs %.9g", p.ta, p.tb, m, n,
                              k, i, j, p.c[(size_t)i * p.ldc + j], ref[(size_t)i * p.ldc + j]);
                }
            CHECK(bad == 0, "vs cblas: ta %d tb %d %dx%dx%d: %d elements differ", p.ta, p.tb, m, n, k, bad);
            free(ref);
            gemm_case_free(&p);
        }
}

/* The result does not depend on the thread count nor on which strip of C an
 * element is computed in: a 1-thread run, a 2-thread run and the product of
 * rows [r0, m) alone agree bitwise. */
static void test_bitwise(void) {
    static const int sizes[][3] = {{333, 190, 700}, {100, 600, 300}};
    if (strcmp(nt_sgemm_backend(), "openblas") == 0) {
        printf("bitwise checks skipped: OpenBLAS backend\n");
        return;
    }
    for (size_t s = 0; s < 2; s++)
        for (int t = 0; t < 4; t++) {
            gemm_case p;
            int m = sizes[s][0], n = sizes[s][1], k = sizes[s][2];
            if (!gemm_case_init(&p, t >> 1, t & 1, m, n, k, 1, 0.5f, 1.0f, (uint32_t)(900 + t))) {
                CHECK(0, "out of memory");
                gemm_case_free(&p);
                continue;
            }
            size_t nc = (size_t)m * p.ldc;
            float *c1 = malloc(nc * sizeof(float)), *c3 = malloc(nc * sizeof(float));
            if (!c1 || !c3) {
                CHECK(0, "out of memory");
                free(c1), free(c3), gemm_case_free(&p);
                continue;
            }
            memcpy(c1, p.c0, nc * sizeof(float));
            memcpy(c3, p.c0, nc * sizeof(float));
            nt_threads_set(1);
            nt_sgemm(p.ta, p.tb, m, n, k, p.alpha, p.a, p.lda, p.b, p.ldb, p.beta, c1, p.ldc);
            nt_threads_set(2);
            nt_sgemm(p.ta, p.tb, m, n, k, p.alpha, p.a, p.lda, p.b, p.ldb, p.beta, p.c, p.ldc);
            CHECK(memcmp(c1, p.c, nc * sizeof(float)) == 0, "ta %d tb %d %dx%dx%d: 1 and 2 threads differ",
                  p.ta, p.tb, m, n, k);
            /* rows [r0, m) alone (r0 not a multiple of the tile), then columns [c0, n) alone */
            int r0 = 19, c0 = 45;
            const float *ar = p.ta ? p.a + r0 : p.a + (size_t)r0 * p.lda;
            nt_sgemm(p.ta, p.tb, m - r0, n, k, p.alpha, ar, p.lda, p.b, p.ldb, p.beta, c3 + (size_t)r0 * p.ldc, p.ldc);
            const float *bc = p.tb ? p.b + (size_t)c0 * p.ldb : p.b + c0;
            nt_sgemm(p.ta, p.tb, r0, n - c0, k, p.alpha, p.a, p.lda, bc, p.ldb, p.beta, c3 + c0, p.ldc);
            nt_sgemm(p.ta, p.tb, r0, c0, k, p.alpha, p.a, p.lda, p.b, p.ldb, p.beta, c3, p.ldc);
            CHECK(memcmp(c3, p.c, nc * sizeof(float)) == 0, "ta %d tb %d %dx%dx%d: strips differ from the whole",
                  p.ta, p.tb, m, n, k);
            CHECK(gemm_case_check(&p, p.c, NULL, "bitwise case") == 0, "ta %d tb %d: wrong result", p.ta, p.tb);
            free(c1);
            free(c3);
            gemm_case_free(&p);
        }
}

/* Products started from inside a parallel region run on the calling thread
 * and give the same bits as outside. */
static void test_in_parallel(void) {
    gemm_case p;
    if (strcmp(nt_sgemm_backend(), "openblas") == 0) return;
    if (!gemm_case_init(&p, 0, 1, 150, 90, 260, 0, 1.0f, 0.0f, 4242)) {
        CHECK(0, "out of memory");
        gemm_case_free(&p);
        return;
    }
    size_t nc = (size_t)p.m * p.ldc;
    float *cs = malloc(2 * nc * sizeof(float));
    if (!cs) {
        CHECK(0, "out of memory");
        gemm_case_free(&p);
        return;
    }
    nt_sgemm(0, 1, p.m, p.n, p.k, 1.0f, p.a, p.lda, p.b, p.ldb, 0.0f, p.c, p.ldc);
    int ok[2] = {0, 0};
#pragma omp parallel for num_threads(2)
    for (int t = 0; t < 2; t++)
        ok[t] = nt_sgemm(0, 1, p.m, p.n, p.k, 1.0f, p.a, p.lda, p.b, p.ldb, 0.0f, cs + t * nc, p.ldc) == NT_OK;
    CHECK(ok[0] && ok[1], "in a parallel region: %s", nt_errmsg());
    CHECK(memcmp(cs, p.c, nc * sizeof(float)) == 0 && memcmp(cs + nc, p.c, nc * sizeof(float)) == 0,
          "in a parallel region: results differ from the serial call");
    free(cs);
    gemm_case_free(&p);
}

/* nt_sgemm_share (core/kernels.h): a bias added by the product equals C
 * preset to the bias with beta 1, bitwise, on 1 and 2 threads sharing it from
 * inside a region and on its own threads (nth 0); k past KC (the bias only
 * on the first pass) and k = 0 (C = bias). OpenBLAS: within rounding. */
static void test_share_bias(void) {
    static const int sizes[][3] = {{1, 1, 1}, {7, 17, 5}, {29, 70, 385}, {100, 600, 300}, {333, 190, 120}, {5, 9, 0}};
    int blas = strcmp(nt_sgemm_backend(), "openblas") == 0;
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
        for (int t = 0; t < 4; t++) {
            gemm_case p;
            int m = sizes[s][0], n = sizes[s][1], k = sizes[s][2];
            if (!gemm_case_init(&p, t >> 1, t & 1, m, n, k, 1, 1.0f, 1.0f, (uint32_t)(500 + s * 4 + t))) {
                CHECK(0, "out of memory");
                gemm_case_free(&p);
                continue;
            }
            size_t nc = (size_t)m * p.ldc;
            float *bias = malloc((size_t)n * sizeof(float)), *cs = malloc(nc * sizeof(float));
            if (!bias || !cs) {
                CHECK(0, "out of memory");
                free(bias), free(cs), gemm_case_free(&p);
                continue;
            }
            for (int j = 0; j < n; j++) bias[j] = nt_test_val((uint32_t)j, 31);
            memcpy(p.c, p.c0, nc * sizeof(float)); /* keeps the padding sentinels */
            for (int i = 0; i < m; i++) memcpy(p.c + (size_t)i * p.ldc, bias, (size_t)n * sizeof(float));
            nt_sgemm(p.ta, p.tb, m, n, k, 1.0f, p.a, p.lda, p.b, p.ldb, 1.0f, p.c, p.ldc);
            for (int nth = 0; nth <= 2; nth++) {
                memcpy(cs, p.c0, nc * sizeof(float)); /* padding sentinels; C itself NaN (not read) */
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++) cs[(size_t)i * p.ldc + j] = NAN;
                if (nth == 0)
                    nt_sgemm_share(p.ta, p.tb, m, n, k, 1.0f, p.a, p.lda, p.b, p.ldb, 0.0f, bias, cs, p.ldc, 0, 0);
                else {
#pragma omp parallel num_threads(nth)
                    nt_sgemm_share(p.ta, p.tb, m, n, k, 1.0f, p.a, p.lda, p.b, p.ldb, 0.0f, bias, cs, p.ldc,
                                   omp_get_thread_num(), omp_get_num_threads());
                }
                double worst = 0.0;
                int same = 1;
                for (size_t e = 0; e < nc; e++) {
                    double d = fabs((double)cs[e] - (double)p.c[e]);
                    if (!(d <= worst)) worst = d;
                    same &= memcmp(cs + e, p.c + e, sizeof(float)) == 0;
                }
                if (blas)
                    CHECK(worst <= 1e-4 * (k + 4), "share %dx%dx%d ta %d tb %d nth %d: off by %g", m, n, k, p.ta,
                          p.tb, nth, worst);
                else
                    CHECK(same, "share %dx%dx%d ta %d tb %d nth %d: bias product differs from C preset (max %g)", m,
                          n, k, p.ta, p.tb, nth, worst);
            }
            free(bias), free(cs), gemm_case_free(&p);
        }
}

static void test_errors(void) {
    float a[16] = {0}, b[16] = {0}, c[16];
    for (int i = 0; i < 16; i++) c[i] = 7.0f;
    CHECK(nt_sgemm(0, 0, -1, 2, 2, 1.0f, a, 2, b, 2, 0.0f, c, 2) == NT_ERR_ARG, "negative m");
    CHECK(strstr(nt_errmsg(), "nt_sgemm") != NULL, "message names the function: %s", nt_errmsg());
    CHECK(nt_sgemm(0, 0, 2, 2, 3, 1.0f, a, 2, b, 2, 0.0f, c, 2) == NT_ERR_ARG, "lda 2 < k 3");
    CHECK(nt_sgemm(1, 0, 3, 2, 2, 1.0f, a, 2, b, 2, 0.0f, c, 2) == NT_ERR_ARG, "lda 2 < m 3 (trans_a)");
    CHECK(nt_sgemm(0, 1, 2, 2, 3, 1.0f, a, 3, b, 2, 0.0f, c, 2) == NT_ERR_ARG, "ldb 2 < k 3 (trans_b)");
    CHECK(nt_sgemm(0, 0, 2, 3, 2, 1.0f, a, 2, b, 3, 0.0f, c, 2) == NT_ERR_ARG, "ldc 2 < n 3");
    CHECK(nt_sgemm(0, 0, 2, 2, 2, 1.0f, NULL, 2, b, 2, 0.0f, c, 2) == NT_ERR_ARG, "NULL a");
    int untouched = 1;
    for (int i = 0; i < 16; i++) untouched &= c[i] == 7.0f;
    CHECK(untouched, "C changed by a failing call");
    CHECK(nt_sgemm(0, 0, 0, 0, 5, 1.0f, NULL, 5, NULL, 1, 0.0f, NULL, 1) == NT_OK, "empty product");
    /* k == 0 (as nt_matmul passes it: lda = k = 0): C = beta C, A and B unread */
    CHECK(nt_sgemm(0, 0, 2, 2, 0, 1.0f, NULL, 0, NULL, 2, 0.5f, c, 2) == NT_OK, "k = 0: %s", nt_errmsg());
    CHECK(c[0] == 3.5f && c[3] == 3.5f && c[4] == 7.0f, "k = 0: C = 0.5 C (got %g %g %g)", c[0], c[3], c[4]);
}

/* The AVX-512 and AVX2 kernels agree bitwise: every transpose, edge shapes
 * of both tiles, a k past KC, beta 0 / 1 / 0.3, 1 and 2 threads. */
static void test_cross_level(void) {
    if (nt_isa_cpu() < NT_ISA_AVX512) {
        printf("cross-level check skipped: one kernel level on this CPU\n");
        return;
    }
    static const int sizes[][3] = {{1, 1, 1}, {7, 17, 5}, {14, 32, 9}, {6, 16, 400}, {29, 70, 385},
                                   {64, 130, 777}, {333, 190, 120}};
    static const float xl_betas[] = {0.0f, 1.0f, 0.3f}; /* 0.3 C is rounded: the FMA shows */
    int cases = 0, bad = 0;
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
        for (int t = 0; t < 4; t++)
            for (int bi = 0; bi < 3; bi++) {
                gemm_case p;
                int m = sizes[s][0], n = sizes[s][1], k = sizes[s][2];
                if (!gemm_case_init(&p, t >> 1, t & 1, m, n, k, (int)s % 3, 0.75f, xl_betas[bi], (uint32_t)(77 + s * 8 + t))) {
                    CHECK(0, "out of memory");
                    gemm_case_free(&p);
                    continue;
                }
                size_t nc = (size_t)m * p.ldc;
                float *c2 = malloc(nc * sizeof(float));
                if (!c2) {
                    CHECK(0, "out of memory");
                    gemm_case_free(&p);
                    continue;
                }
                memcpy(p.c, p.c0, nc * sizeof(float));
                memcpy(c2, p.c0, nc * sizeof(float));
                nt_isa_set(NT_ISA_AVX512);
                nt_threads_set(1 + (int)(s % 2));
                nt_sgemm(p.ta, p.tb, m, n, k, p.alpha, p.a, p.lda, p.b, p.ldb, p.beta, p.c, p.ldc);
                nt_isa_set(NT_ISA_AVX2);
                nt_threads_set(2 - (int)(s % 2));
                nt_sgemm(p.ta, p.tb, m, n, k, p.alpha, p.a, p.lda, p.b, p.ldb, p.beta, c2, p.ldc);
                cases++;
                if (memcmp(c2, p.c, nc * sizeof(float)) != 0) {
                    bad++;
                    CHECK(0, "ta %d tb %d %dx%dx%d beta %g: AVX-512 and AVX2 kernels differ", p.ta, p.tb, m, n, k,
                          (double)p.beta);
                }
                free(c2);
                gemm_case_free(&p);
            }
    nt_threads_set(2);
    printf("cross-level (avx512 vs avx2): %d cases, %d differ\n", cases, bad);
}

int main(void) {
    nt_threads_set(2);
    nt_isa_level top = nt_isa();
    for (int l = (int)top; l >= NT_ISA_PORTABLE; l--) {
        nt_isa_set((nt_isa_level)l);
        printf("-- level %s: nt_sgemm backend %s\n", nt_isa_name((nt_isa_level)l), nt_sgemm_backend());
        test_edges();
        test_blocks();
        test_no_product();
        test_vs_cblas();
        test_bitwise();
        test_in_parallel();
        test_share_bias();
        test_errors();
    }
    if (top == NT_ISA_AVX512) test_cross_level();
    nt_isa_set(top);
    return nt_check_report("test_gemm");
}
