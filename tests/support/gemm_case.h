/* gemm_case.h - test support: one GEMM problem C = alpha op(A) op(B) + beta C
 * (row-major, leading dimensions past the rows) and its check against a
 * double-precision reference; shared by the tests of nt_sgemm and
 * nt_gemm_bf16.
 *
 *     gemm_case p;
 *     if (!gemm_case_init(&p, 0, 1, m, n, k, 2, 1.0f, 0.5f, salt)) ...   // CHECK, gemm_case_free
 *     nt_sgemm(p.ta, p.tb, m, n, k, p.alpha, p.a, p.lda, p.b, p.ldb, p.beta, p.c, p.ldc);
 *     int bad = gemm_case_check(&p, p.c, NULL, "what");   // 0: every element within the bound
 *     gemm_case_free(&p);
 *
 * Error bound per element: |c - ref| <= 4 (k + 4) eps32 (|alpha| sum_p |a b| +
 * |beta c0|), a few times the worst case of any summation order (Higham,
 * "Accuracy and Stability of Numerical Algorithms", 3.1), far below the error
 * of a wrong index or a missed term.
 */
#ifndef NT_TEST_GEMM_CASE_H
#define NT_TEST_GEMM_CASE_H

#include <stddef.h>
#include <stdint.h>

/* What C's padding columns (j >= n) hold before the product: it must not
 * write them. */
#define GEMM_CASE_SENTINEL 12345.0f

typedef struct gemm_case {
    int ta, tb, m, n, k, lda, ldb, ldc;
    float alpha, beta;
    float *a, *b; /* op(A) (m, k), op(B) (k, n): nt_test_val values */
    float *c0;    /* (m, ldc) C before the product: values (NaN when beta == 0), the sentinel in padding */
    float *c;     /* (m, ldc) a copy of c0 for the product to write */
} gemm_case;

/* Allocates and fills a case: lda = cols + pad, ldb = cols + 2 pad, ldc = n +
 * pad (at least 1), values from nt_test_val streams salt, salt + 1, salt + 2.
 * Returns 0 when out of memory (gemm_case_free still frees what was made). */
int gemm_case_init(gemm_case *p, int ta, int tb, int m, int n, int k, int pad, float alpha, float beta,
                   uint32_t salt);
void gemm_case_free(gemm_case *p);

/* Floats in C (m * ldc, plus one past the end that no product writes). */
size_t gemm_case_c_len(const gemm_case *p);

/* A[i, q] and B[q, j] of the product (op applied). */
double gemm_case_a(const gemm_case *p, int i, int q);
double gemm_case_b(const gemm_case *p, int q, int j);

/* Checks c (m, ldc) against the double reference on operands passed through
 * `round` (NULL: as they are; nt_bf16_round for a bf16 product) and its
 * padding against the sentinel; CHECK-fails the first three bad elements
 * (naming `what`) and returns the number of bad elements. */
int gemm_case_check(const gemm_case *p, const float *c, float (*round)(float), const char *what);

#endif
