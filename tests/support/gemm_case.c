/* gemm_case.c - a GEMM test problem and its double-precision check. */
#include "support/gemm_case.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support/check.h"
#include "support/values.h"

int gemm_case_init(gemm_case *p, int ta, int tb, int m, int n, int k, int pad, float alpha, float beta,
                   uint32_t salt) {
    memset(p, 0, sizeof *p);
    p->ta = ta, p->tb = tb, p->m = m, p->n = n, p->k = k, p->alpha = alpha, p->beta = beta;
    int arows = ta ? k : m, acols = ta ? m : k, brows = tb ? n : k, bcols = tb ? k : n;
    p->lda = acols + pad, p->ldb = bcols + 2 * pad, p->ldc = n + pad;
    if (p->lda < 1) p->lda = 1;
    if (p->ldb < 1) p->ldb = 1;
    size_t na = (size_t)arows * p->lda + 1, nb = (size_t)brows * p->ldb + 1, nc = gemm_case_c_len(p);
    p->a = malloc(na * sizeof(float));
    p->b = malloc(nb * sizeof(float));
    p->c0 = malloc(nc * sizeof(float));
    p->c = malloc(nc * sizeof(float));
    if (!p->a || !p->b || !p->c0 || !p->c) return 0;
    nt_test_fill(p->a, (int64_t)na, salt);
    nt_test_fill(p->b, (int64_t)nb, salt + 1);
    for (size_t i = 0; i < nc; i++)
        p->c0[i] = (i % p->ldc) >= (size_t)n ? GEMM_CASE_SENTINEL
                   : beta == 0.0f            ? NAN
                                             : nt_test_val((uint32_t)i, salt + 2);
    memcpy(p->c, p->c0, nc * sizeof(float));
    return 1;
}

void gemm_case_free(gemm_case *p) {
    free(p->a);
    free(p->b);
    free(p->c0);
    free(p->c);
    memset(p, 0, sizeof *p);
}

size_t gemm_case_c_len(const gemm_case *p) { return (size_t)p->m * p->ldc + 1; }

double gemm_case_a(const gemm_case *p, int i, int q) {
    return p->ta ? p->a[(size_t)q * p->lda + i] : p->a[(size_t)i * p->lda + q];
}

double gemm_case_b(const gemm_case *p, int q, int j) {
    return p->tb ? p->b[(size_t)j * p->ldb + q] : p->b[(size_t)q * p->ldb + j];
}

int gemm_case_check(const gemm_case *p, const float *c, float (*round)(float), const char *what) {
    int bad = 0;
    double tol = 4.0 * (p->k + 4) * FLT_EPSILON;
    for (int i = 0; i < p->m; i++) {
        for (int j = 0; j < p->ldc; j++) {
            size_t at = (size_t)i * p->ldc + j;
            double got = c[at];
            if (j >= p->n) {
                if (got != GEMM_CASE_SENTINEL && bad++ < 3)
                    CHECK(0, "%s: padding C[%d, %d] written (%g)", what, i, j, got);
                continue;
            }
            double ref = 0, mag = 0;
            for (int q = 0; q < p->k; q++) {
                double a = gemm_case_a(p, i, q), b = gemm_case_b(p, q, j);
                if (round) a = round((float)a), b = round((float)b);
                double t = a * b;
                ref += t;
                mag += fabs(t);
            }
            ref *= p->alpha;
            mag *= fabs(p->alpha);
            if (p->beta != 0.0f) {
                ref += (double)p->beta * p->c0[at];
                mag += fabs((double)p->beta * p->c0[at]);
            }
            if (!(fabs(got - ref) <= tol * mag + 1e-30) && bad++ < 3)
                CHECK(0, "%s: C[%d, %d] = %.9g, expected %.9g (bound %.3g)", what, i, j, got, ref, tol * mag);
        }
    }
    return bad;
}
