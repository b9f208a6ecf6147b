/* test_gemm_bf16.c - nt_gemm_bf16's kernels against a double reference on bf16-rounded operands.
 *
 * For each kernel this CPU has (emulated everywhere, avx512bf16 where the
 * CPU has AVX512_BF16): all four transpose combinations; m, n, k at the
 * remainders of the 14 x 32 tile, of the k pairs (odd k) and around the
 * blocks (KC 512 deep, NC 512 wide); leading dimensions larger than the
 * rows; float32 and pre-converted bf16 operands; alpha != 1; beta 0 (old C
 * full of NaNs), 1 and 0.5; k = 0 and alpha = 0; C's padding untouched.
 *
 * Error bound per element against the double sum of the bf16-rounded
 * products: |c - ref| <= 4 (k + 4) eps32 (|alpha| sum_p |a b| + |beta c0|)
 * (float32 accumulation, products exact), as in test_gemm.c.
 *
 * Beyond the bound, bitwise checks: the avx512bf16 and emulated kernels
 * agree bit for bit (same pair order, DAZ/FTZ; test values are normal);
 * one result at 1 and 2 threads; a float32 operand and its bf16 copy.
 */
#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/bf16.h"
#include "core/gemm_bf16.h"
#include "support/check.h"
#include "support/gemm_case.h"

typedef struct {
    gemm_case g;
    nt_bf16 *ah, *bh; /* A and B converted to bf16 */
} prob;

static void prob_free(prob *p) { gemm_case_free(&p->g), free(p->ah), free(p->bh); }

static int prob_init(prob *p, int ta, int tb, int m, int n, int k, int pad, float alpha, float beta, uint32_t salt) {
    p->ah = p->bh = NULL;
    if (!gemm_case_init(&p->g, ta, tb, m, n, k, pad, alpha, beta, salt)) return 0;
    size_t na = (size_t)(ta ? k : m) * p->g.lda + 1, nb = (size_t)(tb ? n : k) * p->g.ldb + 1;
    p->ah = malloc(na * sizeof(nt_bf16)), p->bh = malloc(nb * sizeof(nt_bf16));
    if (!p->ah || !p->bh) return 0;
    nt_bf16_from_f32_n(p->ah, p->g.a, (int64_t)na);
    nt_bf16_from_f32_n(p->bh, p->g.b, (int64_t)nb);
    return 1;
}

static size_t c_len(const prob *p) { return gemm_case_c_len(&p->g); }

// C (a fresh copy of C0) through nt_gemm_bf16 with the given operand types
static float *run(const prob *p, nt_operand at, nt_operand bt) {
    float *c = malloc(c_len(p) * sizeof(float));
    if (!c) return NULL;
    const gemm_case *g = &p->g;
    memcpy(c, g->c0, c_len(p) * sizeof(float));
    const void *a = at == NT_OPERAND_BF16 ? (const void *)p->ah : g->a;
    const void *b = bt == NT_OPERAND_BF16 ? (const void *)p->bh : g->b;
    nt_status s = nt_gemm_bf16(g->ta, g->tb, g->m, g->n, g->k, g->alpha, a, at, g->lda, b, bt, g->ldb, g->beta, c, g->ldc);
    CHECK(s == NT_OK, "nt_gemm_bf16 status %d", (int)s);
    return c;
}

// c against the double reference on bf16-rounded operands; returns 1 if all within bound
static int check_ref(const prob *p, const float *c, const char *what) {
    return gemm_case_check(&p->g, c, nt_bf16_round, what) == 0;
}

static int n_kernels;
static nt_gemm_bf16_kernel kernels[2];

static void run_case(int ta, int tb, int m, int n, int k, int pad, float alpha, float beta, int types, uint32_t salt) {
    prob p;
    if (!prob_init(&p, ta, tb, m, n, k, pad, alpha, beta, salt)) {
        CHECK(0, "out of memory");
        prob_free(&p);
        return;
    }
    nt_operand at = (types & 1) ? NT_OPERAND_BF16 : NT_OPERAND_F32, bt = (types & 2) ? NT_OPERAND_BF16 : NT_OPERAND_F32;
    char what[160];
    float *first = NULL;
    for (int kk = 0; kk < n_kernels; kk++) {
        nt_gemm_bf16_force(kernels[kk]);
        snprintf(what, sizeof what, "%s ta %d tb %d m %d n %d k %d pad %d alpha %g beta %g types %d",
                 nt_gemm_bf16_kernel_name(kernels[kk]), ta, tb, m, n, k, pad, (double)alpha, (double)beta, types);
        float *c = run(&p, at, bt);
        if (!c) continue;
        check_ref(&p, c, what);
        /* the other operand form gives the same bits */
        float *c2 = run(&p, at ^ NT_OPERAND_BF16, bt ^ NT_OPERAND_BF16);
        if (c2) CHECK(memcmp(c, c2, c_len(&p) * sizeof(float)) == 0, "%s: f32 and bf16 operands differ", what);
        free(c2);
        if (!first) first = c;
        else {
            CHECK(memcmp(first, c, c_len(&p) * sizeof(float)) == 0, "%s: differs bitwise from the %s kernel", what,
                  nt_gemm_bf16_kernel_name(kernels[0]));
            free(c);
        }
    }
    free(first);
    nt_gemm_bf16_force(NT_GEMM_BF16_AUTO);
    prob_free(&p);
}

static void test_shapes(void) {
    static const int ms[] = {1, 2, 7, 8, 13, 14, 15, 29};
    static const int ns[] = {1, 15, 16, 17, 31, 32, 33, 65};
    static const int ks[] = {1, 2, 3, 7, 16, 33};
    uint32_t salt = 1;
    int idx = 0;
    for (int f = 0; f < 4; f++)
        for (size_t im = 0; im < sizeof ms / sizeof *ms; im++)
            for (size_t in = 0; in < sizeof ns / sizeof *ns; in++, idx++) {
                int k = ks[idx % 6], pad = idx % 3 == 0 ? 3 : 0;
                float alpha = idx % 4 == 1 ? -0.75f : 1.0f, beta = idx % 3 == 0 ? 0.0f : idx % 3 == 1 ? 1.0f : 0.5f;
                run_case(f >> 1, f & 1, ms[im], ns[in], k, pad, alpha, beta, idx % 4, salt++);
            }
    /* around the blocks: k across KC = 512 (odd remainders too), n across NC = 512 */
    static const int big[][3] = {{15, 33, 511}, {15, 33, 512}, {14, 32, 513}, {29, 65, 1027},
                                 {3, 513, 20}, {30, 1030, 9}, {40, 70, 600}, {1, 600, 1}};
    for (int f = 0; f < 4; f++)
        for (size_t s = 0; s < sizeof big / sizeof *big; s++)
            run_case(f >> 1, f & 1, big[s][0], big[s][1], big[s][2], (int)(s % 2) * 5, s % 3 ? 1.0f : 2.0f,
                     s % 3 == 0 ? 0.0f : 0.5f, (int)(s + f) % 4, salt++);
}

static void test_degenerate(void) {
    /* k = 0 and alpha = 0: C = beta C, A and B not read (NULL) */
    float c[6] = {1, 2, 3, 4, 5, 6};
    CHECK(nt_gemm_bf16(0, 0, 2, 3, 0, 1.0f, NULL, NT_OPERAND_F32, 0, NULL, NT_OPERAND_F32, 0, 0.5f, c, 3) == NT_OK, "k = 0");
    CHECK(c[0] == 0.5f && c[5] == 3.0f, "k = 0 scales C: %g %g", (double)c[0], (double)c[5]);
    float nanc[4] = {NAN, NAN, NAN, NAN};
    CHECK(nt_gemm_bf16(0, 0, 2, 2, 4, 0.0f, NULL, NT_OPERAND_F32, 4, NULL, NT_OPERAND_F32, 2, 0.0f, nanc, 2) == NT_OK, "alpha 0");
    CHECK(nanc[0] == 0.0f && nanc[3] == 0.0f, "alpha = 0, beta = 0 zeroes a NaN C");
    CHECK(nt_gemm_bf16(0, 0, 0, 3, 2, 1.0f, NULL, NT_OPERAND_F32, 2, NULL, NT_OPERAND_F32, 3, 0.0f, NULL, 3) == NT_OK, "m = 0");
    /* argument errors, C untouched */
    float a[4] = {1, 2, 3, 4}, b[4] = {1, 0, 0, 1}, cc[4] = {7, 7, 7, 7};
    CHECK(nt_gemm_bf16(0, 0, -1, 2, 2, 1.0f, a, NT_OPERAND_F32, 2, b, NT_OPERAND_F32, 2, 0.0f, cc, 2) == NT_ERR_ARG, "m < 0");
    CHECK(nt_gemm_bf16(0, 0, 2, 2, 2, 1.0f, a, NT_OPERAND_F32, 1, b, NT_OPERAND_F32, 2, 0.0f, cc, 2) == NT_ERR_ARG, "lda");
    CHECK(nt_gemm_bf16(0, 1, 2, 2, 2, 1.0f, a, NT_OPERAND_F32, 2, b, NT_OPERAND_F32, 1, 0.0f, cc, 2) == NT_ERR_ARG, "ldb");
    CHECK(nt_gemm_bf16(0, 0, 2, 2, 2, 1.0f, a, NT_OPERAND_F32, 2, b, NT_OPERAND_F32, 2, 0.0f, cc, 1) == NT_ERR_ARG, "ldc");
    CHECK(nt_gemm_bf16(0, 0, 2, 2, 2, 1.0f, NULL, NT_OPERAND_F32, 2, b, NT_OPERAND_F32, 2, 0.0f, cc, 2) == NT_ERR_ARG, "a NULL");
    CHECK(nt_gemm_bf16(0, 0, 2, 2, 2, 1.0f, a, (nt_operand)5, 2, b, NT_OPERAND_F32, 2, 0.0f, cc, 2) == NT_ERR_ARG, "type");
    CHECK(cc[0] == 7 && cc[3] == 7, "C untouched on error");
    /* exact small case: bf16 values, sums exact in float32 */
    CHECK(nt_gemm_bf16(0, 0, 2, 2, 2, 1.0f, a, NT_OPERAND_F32, 2, b, NT_OPERAND_F32, 2, 0.0f, cc, 2) == NT_OK, "2x2");
    CHECK(cc[0] == 1 && cc[1] == 2 && cc[2] == 3 && cc[3] == 4, "A I = A: %g %g %g %g", cc[0], cc[1], cc[2], cc[3]);
    /* operands are rounded: 1 + 2^-9 is not a bf16, rounds to 1 */
    float x = 1.0f + 1.0f / 512, one = 1.0f, r = 0;
    nt_gemm_bf16(0, 0, 1, 1, 1, 1.0f, &x, NT_OPERAND_F32, 1, &one, NT_OPERAND_F32, 1, 0.0f, &r, 1);
    CHECK(r == 1.0f, "operand rounded to bf16: got %.9g", (double)r);
}

/* the same product at 1 and 2 threads, large enough to be split */
static void test_threads(void) {
    for (int f = 0; f < 4; f++) {
        prob p;
        if (!prob_init(&p, f >> 1, f & 1, 150, 230, 700, 1, 1.0f, 0.5f, 77 + f)) {
            CHECK(0, "out of memory");
            prob_free(&p);
            return;
        }
        for (int kk = 0; kk < n_kernels; kk++) {
            nt_gemm_bf16_force(kernels[kk]);
            omp_set_num_threads(1);
            float *c1 = run(&p, NT_OPERAND_F32, NT_OPERAND_F32);
            omp_set_num_threads(2);
            float *c2 = run(&p, NT_OPERAND_F32, NT_OPERAND_F32);
            if (c1 && c2)
                CHECK(memcmp(c1, c2, c_len(&p) * sizeof(float)) == 0, "%s ta %d tb %d: 1 and 2 threads differ",
                      nt_gemm_bf16_kernel_name(kernels[kk]), f >> 1, f & 1);
            if (c2) check_ref(&p, c2, "threads");
            free(c1), free(c2);
        }
        nt_gemm_bf16_force(NT_GEMM_BF16_AUTO);
        prob_free(&p);
    }
}

/* Without a packing buffer (its allocation fails), a thread computes its
 * share element by element: the same bits. A fresh thread has no buffer
 * yet, so failing its next allocation takes that path. */
typedef struct {
    prob *p;
    float *c;
    nt_status st;
} nobuf_job;

static void *nobuf_thread(void *arg) {
    nobuf_job *j = arg;
    prob *p = j->p;
    const gemm_case *g = &p->g;
    memcpy(j->c, g->c0, c_len(p) * sizeof(float));
    nt_alloc_fail_after(1);
    j->st = nt_gemm_bf16(g->ta, g->tb, g->m, g->n, g->k, g->alpha, g->a, NT_OPERAND_F32, g->lda, p->bh, NT_OPERAND_BF16,
                         g->ldb, g->beta, j->c, g->ldc);
    nt_alloc_fail_after(0);
    return NULL;
}

static void test_no_buffer(void) {
    for (int f = 0; f < 4; f++) {
        prob p;
        if (!prob_init(&p, f >> 1, f & 1, 17, 35, 517, 2, 1.5f, f == 1 ? 0.0f : 0.5f, 300 + f)) {
            CHECK(0, "out of memory");
            prob_free(&p);
            return;
        }
        float *want = run(&p, NT_OPERAND_F32, NT_OPERAND_F32);
        nobuf_job j = {&p, malloc(c_len(&p) * sizeof(float)), NT_ERR_STATE};
        pthread_t th;
        if (want && j.c && pthread_create(&th, NULL, nobuf_thread, &j) == 0) {
            pthread_join(th, NULL);
            CHECK(j.st == NT_OK, "status without a buffer %d", (int)j.st);
            CHECK(memcmp(want, j.c, c_len(&p) * sizeof(float)) == 0, "ta %d tb %d: the unbuffered path differs",
                  f >> 1, f & 1);
        }
        free(want), free(j.c);
        prob_free(&p);
    }
}

/* Float32 operands at the edges of the conversion (NaN, Inf, signed zeros,
 * subnormals - among them those that round up to FLT_MIN, which the
 * hardware conversion alone would read as zero -, the largest floats that
 * round to Inf): a diagonal matrix of them times the identity, as A and as
 * B, in each transpose form (16-lane and paired loads). Every kernel gives
 * the emulated kernel's bits (NaN for NaN), and the round-up cases give
 * exactly +-FLT_MIN. */
static float from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static void test_special_values(void) {
    static const uint32_t sp[] = {0x7FC00001u, 0xFF812345u, 0x7F800000u, 0xFF800000u, 0x00000000u, 0x80000000u,
                                  0x00000001u, 0x80400000u, 0x007F7FFFu, 0x007F8000u, 0x807FFFFFu, 0x00800000u,
                                  0x00807FFFu, 0x7F7FFFFFu, 0xFF7F8000u, 0x3F808000u, 0x3F818000u, 0x4049FFFFu,
                                  0x007FC000u, 0x80000100u};
    enum { S = sizeof sp / sizeof *sp };
    float diag[S * S], eye[S * S];
    for (int i = 0; i < S * S; i++) diag[i] = 0.0f, eye[i] = 0.0f;
    for (int i = 0; i < S; i++) diag[i * S + i] = from_bits(sp[i]), eye[i * S + i] = 1.0f;
    for (int form = 0; form < 8; form++) {
        int ta = form & 1, tb = (form >> 1) & 1, special_b = form >> 2;
        const float *a = special_b ? eye : diag, *b = special_b ? diag : eye;
        float c[2][S * S];
        for (int kk = 0; kk < n_kernels; kk++) {
            nt_gemm_bf16_force(kernels[kk]);
            CHECK(nt_gemm_bf16(ta, tb, S, S, S, 1.0f, a, NT_OPERAND_F32, S, b, NT_OPERAND_F32, S, 0.0f, c[kk], S) == NT_OK,
                  "special values: %s", nt_gemm_bf16_kernel_name(kernels[kk]));
            for (int i = 0; i < S; i++) {
                uint32_t mag = sp[i] & 0x7FFFFFFFu, got;
                memcpy(&got, &c[kk][i * S + i], sizeof got);
                if (mag >= 0x007F8000u && mag < 0x00800000u)
                    CHECK(got == ((sp[i] & 0x80000000u) | 0x00800000u) || (got == 0x00800000u && !(sp[i] >> 31)),
                          "%s ta %d tb %d special %s: %08x rounds to %08x, expected +-FLT_MIN",
                          nt_gemm_bf16_kernel_name(kernels[kk]), ta, tb, special_b ? "B" : "A", sp[i], got);
            }
            if (kk == 0) continue;
            for (int e = 0; e < S * S; e++) {
                int same = isnan(c[0][e]) ? isnan(c[kk][e]) : memcmp(&c[0][e], &c[kk][e], sizeof(float)) == 0;
                CHECK(same, "%s ta %d tb %d special %s: element %d is %g, emulated %g", nt_gemm_bf16_kernel_name(kernels[kk]),
                      ta, tb, special_b ? "B" : "A", e, (double)c[kk][e], (double)c[0][e]);
            }
        }
        nt_gemm_bf16_force(NT_GEMM_BF16_AUTO);
    }
}

int main(void) {
    kernels[n_kernels++] = NT_GEMM_BF16_EMULATED;
    if (nt_gemm_bf16_force(NT_GEMM_BF16_AVX512BF16) == NT_OK) kernels[n_kernels++] = NT_GEMM_BF16_AVX512BF16;
    nt_gemm_bf16_force(NT_GEMM_BF16_AUTO);
    printf("test_gemm_bf16: kernels tested: emulated%s; default: %s\n",
           n_kernels > 1 ? ", avx512bf16" : " only (this CPU has no AVX512_BF16: the hardware kernel is not tested here)",
           nt_gemm_bf16_kernel_name(nt_gemm_bf16_kernel_active()));
    test_degenerate();
    test_shapes();
    test_threads();
    test_no_buffer();
    test_special_values();
    return nt_check_report("test_gemm_bf16");
}
