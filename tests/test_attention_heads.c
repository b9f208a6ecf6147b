/* test_attention_heads.c - nt_attention on head shapes past the blocking of
 * its per-head products (rows in blocks of 6, columns in blocks of 32, K^T
 * and V^T copies): outputs against a double-precision reference, and
 * gradients against directional central differences of L = sum(out * R)
 * (one random direction per input: cheap enough for large shapes). Cases:
 * cross-attention with a key mask and odd sizes, causal self-attention with
 * Dh = 64, q = k = v (one tensor, write-first gradients), one query (a
 * decoding step). Every case runs at each ISA level the CPU has (nt_isa_set);
 * the outputs and gradients at AVX-512 and AVX2 must agree bitwise (the
 * promise of core/attention.c's per-head products). nt_attention_row (one
 * query, one head) gives bitwise the operations core/kernels.h names
 * (nt_vdot scores, nt_vmax, nt_expf, nt_vsum, the sum over keys in order) at
 * every level, and is within 1e-5 of a double reference. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/isa.h"
#include "core/kernels.h"
#include "core/ops.h"
#include "core/vecmath.h"
#include "support/check.h"

typedef struct acase {
    const char *name;
    int B, Tq, Tk, D, H, causal, masked, shared;
} acase;

// out (B, Tq, D) in double, the definition in core/ops.h
static void reference(double *out, const float *q, const float *k, const float *v, const int32_t *mask,
                      const acase *c, float scale) {
    int Dh = c->D / c->H;
    double *s = malloc(sizeof(double) * (size_t)c->Tk);
    for (int b = 0; b < c->B; b++)
        for (int h = 0; h < c->H; h++)
            for (int i = 0; i < c->Tq; i++) {
                double m = -INFINITY, sum = 0;
                for (int j = 0; j < c->Tk; j++) {
                    int vis = (!mask || mask[b * c->Tk + j]) && (!c->causal || j <= i + (c->Tk - c->Tq));
                    double d = 0;
                    for (int e = 0; e < Dh; e++)
                        d += (double)q[((size_t)b * c->Tq + i) * c->D + h * Dh + e] *
                             k[((size_t)b * c->Tk + j) * c->D + h * Dh + e];
                    s[j] = vis ? d * scale : -INFINITY;
                    if (s[j] > m) m = s[j];
                }
                for (int j = 0; j < c->Tk; j++) {
                    s[j] = m == -INFINITY ? 0 : exp(s[j] - m);
                    sum += s[j];
                }
                for (int e = 0; e < Dh; e++) {
                    double o = 0;
                    for (int j = 0; j < c->Tk; j++)
                        o += (sum > 0 ? s[j] / sum : 0) * v[((size_t)b * c->Tk + j) * c->D + h * Dh + e];
                    out[((size_t)b * c->Tq + i) * c->D + h * Dh + e] = o;
                }
            }
    free(s);
}

static void fill(nt_tensor *t, nt_rng *r) {
    for (int64_t i = 0; i < t->n; i++) nt_f32(t)[i] = nt_rng_normal(r);
}

// sum(out * R) with grad mode off
static double loss_of(nt_ctx *c, nt_tensor *q, nt_tensor *k, nt_tensor *v, nt_tensor *m, const acase *a,
                      float scale, const float *R) {
    int g = nt_ctx_set_grad(c, 0);
    nt_tensor *o;
    CHECK(nt_attention(c, &o, q, k, v, m, a->H, a->causal, scale, NULL) == NT_OK, "nt_attention");
    double L = 0;
    for (int64_t i = 0; i < o->n; i++) L += (double)nt_f32(o)[i] * R[i];
    nt_ctx_set_grad(c, g);
    return L;
}

/* *keep (malloc'd, *nkeep floats): the output and the gradients, for the
 * comparison across levels */
static void run(const acase *a, nt_rng *r, float **keep, size_t *nkeep) {
    nt_ctx *c, *leaf; /* inputs live in leaf, activations in c (reset between passes) */
    CHECK(nt_ctx_new(&c, 0) == NT_OK && nt_ctx_new(&leaf, 0) == NT_OK, "nt_ctx_new");
    float scale = 1.0f / sqrtf((float)(a->D / a->H));
    nt_tensor *q, *k, *v, *m = NULL, *o;
    CHECK(nt_tensor_new(leaf, &q, NT_F32, 3, (int[]){a->B, a->Tq, a->D}) == NT_OK, "q");
    fill(q, r);
    if (a->shared) {
        k = v = q;
    } else {
        CHECK(nt_tensor_new(leaf, &k, NT_F32, 3, (int[]){a->B, a->Tk, a->D}) == NT_OK, "k");
        CHECK(nt_tensor_new(leaf, &v, NT_F32, 3, (int[]){a->B, a->Tk, a->D}) == NT_OK, "v");
        fill(k, r);
        fill(v, r);
    }
    if (a->masked) {
        CHECK(nt_tensor_new(leaf, &m, NT_I32, 2, (int[]){a->B, a->Tk}) == NT_OK, "mask");
        for (int64_t i = 0; i < m->n; i++) nt_i32(m)[i] = (i % a->Tk) < a->Tk - 1 - (int)(i / a->Tk) * 7;
    }
    /* forward against the reference */
    double *ref = malloc(sizeof(double) * (size_t)q->n);
    reference(ref, nt_f32(q), nt_f32(k), nt_f32(v), m ? nt_i32(m) : NULL, a, scale);
    CHECK(nt_attention(c, &o, q, k, v, m, a->H, a->causal, scale, NULL) == NT_OK, "nt_attention");
    double worst = 0;
    for (int64_t i = 0; i < o->n; i++) {
        double e = fabs(nt_f32(o)[i] - ref[i]) / (1.0 + fabs(ref[i]));
        if (e > worst) worst = e;
    }
    CHECK(worst < 1e-5, "%s: forward off the reference by %g", a->name, worst);
    nt_ctx_reset(c);
    free(ref);

    /* backward: <grad, u> against (L(x + eps u) - L(x - eps u)) / (2 eps) */
    q->requires_grad = k->requires_grad = v->requires_grad = 1;
    q->grad = k->grad = v->grad = NULL;
    float *R = malloc(sizeof(float) * (size_t)q->n);
    for (int64_t i = 0; i < q->n; i++) R[i] = nt_rng_normal(r);
    CHECK(nt_attention(c, &o, q, k, v, m, a->H, a->causal, scale, NULL) == NT_OK, "nt_attention");
    CHECK(nt_backward_seeded(c, o, R) == NT_OK, "nt_backward_seeded");
    nt_tensor *ins[3] = {q, k, v};
    size_t nk = (size_t)o->n + (size_t)q->n + (a->shared ? 0 : 2 * (size_t)k->n), at = 0;
    float *kp = malloc(sizeof(float) * nk);
    memcpy(kp, nt_f32(o), sizeof(float) * (size_t)o->n);
    at = (size_t)o->n;
    for (int t = 0; t < (a->shared ? 1 : 3); t++) {
        memcpy(kp + at, ins[t]->grad, sizeof(float) * (size_t)ins[t]->n);
        at += (size_t)ins[t]->n;
    }
    *keep = kp;
    *nkeep = nk;
    for (int t = 0; t < (a->shared ? 1 : 3); t++) {
        nt_tensor *x = ins[t];
        float *u = malloc(sizeof(float) * (size_t)x->n), *x0 = malloc(sizeof(float) * (size_t)x->n);
        memcpy(x0, nt_f32(x), sizeof(float) * (size_t)x->n);
        double dot = 0;
        for (int64_t i = 0; i < x->n; i++) {
            u[i] = nt_rng_normal(r);
            dot += (double)x->grad[i] * u[i];
        }
        const float eps = 1e-2f;
        for (int64_t i = 0; i < x->n; i++) nt_f32(x)[i] = x0[i] + eps * u[i];
        double Lp = loss_of(c, q, k, v, m, a, scale, R);
        for (int64_t i = 0; i < x->n; i++) nt_f32(x)[i] = x0[i] - eps * u[i];
        double Lm = loss_of(c, q, k, v, m, a, scale, R);
        memcpy(nt_f32(x), x0, sizeof(float) * (size_t)x->n);
        double num = (Lp - Lm) / (2.0 * eps);
        CHECK(fabs(num - dot) <= 2e-3 * (1.0 + fabs(num)), "%s: input %d directional grad %g vs numeric %g",
              a->name, t, dot, num);
        free(u);
        free(x0);
    }
    free(R);
    nt_ctx_free(c);
    nt_ctx_free(leaf);
}

/* nt_attention_row against its definition, bitwise, and a double reference */
static void check_attention_row(nt_rng *r) {
    static const int dhs[] = {5, 12, 16, 32, 40, 64, 80};
    float q[80], out[80], want[80], s[40], ps[40], K[40 * 100], V[40 * 100];
    for (size_t di = 0; di < sizeof dhs / sizeof *dhs; di++)
        for (int n = 1; n <= 37; n += (n < 12 ? 1 : 5)) {
            int Dh = dhs[di], ld = Dh + 7;
            float scale = 1.0f / sqrtf((float)Dh);
            for (int i = 0; i < Dh; i++) q[i] = nt_rng_normal(r);
            for (int i = 0; i < n * ld; i++) K[i] = nt_rng_normal(r), V[i] = nt_rng_normal(r);
            nt_attention_row(out, q, K, V, n, Dh, ld, scale, s);
            for (int j = 0; j < n; j++) ps[j] = scale * nt_vdot(q, K + j * ld, Dh);
            float mx = nt_vmax(ps, n);
            for (int j = 0; j < n; j++) ps[j] = nt_expf(ps[j] - mx);
            float inv = 1.0f / nt_vsum(ps, n);
            for (int j = 0; j < n; j++) ps[j] *= inv;
            for (int d = 0; d < Dh; d++) want[d] = 0.0f;
            for (int j = 0; j < n; j++)
                for (int d = 0; d < Dh; d++) want[d] += ps[j] * V[j * ld + d];
            CHECK(memcmp(out, want, sizeof(float) * (size_t)Dh) == 0 && memcmp(s, ps, sizeof(float) * (size_t)n) == 0,
                  "nt_attention_row Dh %d n %d: not the bits of its definition", Dh, n);
            double e[40], m = -INFINITY, z = 0, worst = 0;
            for (int j = 0; j < n; j++) {
                double d = 0;
                for (int k = 0; k < Dh; k++) d += (double)q[k] * K[j * ld + k];
                e[j] = d * scale;
                if (e[j] > m) m = e[j];
            }
            for (int j = 0; j < n; j++) z += e[j] = exp(e[j] - m);
            for (int d = 0; d < Dh; d++) {
                double o = 0;
                for (int j = 0; j < n; j++) o += e[j] / z * V[j * ld + d];
                if (fabs(o - out[d]) > worst) worst = fabs(o - out[d]);
            }
            CHECK(worst < 1e-5, "nt_attention_row Dh %d n %d: %g off the double reference", Dh, n, worst);
        }
}

int main(void) {
    nt_rng r;
    nt_rng_seed(&r, 11);
    static const acase cases[] = {
        {"cross, masked, Tq 40 Tk 70 Dh 36", 2, 40, 70, 72, 2, 0, 1, 0},
        {"self causal, T 45 Dh 64", 2, 45, 45, 64, 1, 1, 0, 0},
        {"q = k = v causal, T 33 Dh 17", 1, 33, 33, 51, 3, 1, 0, 1},
        {"self causal, T 130 Dh 130 (sgemm fallback)", 1, 130, 130, 130, 1, 1, 0, 0},
        {"one query, masked, Tk 37 Dh 40", 3, 1, 37, 80, 2, 0, 1, 0},
    };
    enum { NCASES = sizeof cases / sizeof *cases };
    float *kept[3][NCASES] = {{0}};
    size_t nkept[3][NCASES] = {{0}};
    nt_isa_level top = nt_isa();
    for (int l = (int)top; l >= NT_ISA_PORTABLE; l--) {
        nt_isa_set((nt_isa_level)l);
        nt_rng_seed(&r, 11); /* the same inputs at every level */
        int before = nt_check_failures;
        for (size_t i = 0; i < NCASES; i++) run(&cases[i], &r, &kept[l][i], &nkept[l][i]);
        check_attention_row(&r);
        printf("level %s: %s\n", nt_isa_name((nt_isa_level)l), nt_check_failures == before ? "ok" : "FAILED");
    }
    if (top == NT_ISA_AVX512)
        for (size_t i = 0; i < NCASES; i++)
            CHECK(nkept[2][i] == nkept[1][i] && memcmp(kept[2][i], kept[1][i], sizeof(float) * nkept[1][i]) == 0,
                  "%s: AVX-512 and AVX2 results differ", cases[i].name);
    for (int l = 0; l < 3; l++)
        for (size_t i = 0; i < NCASES; i++) free(kept[l][i]);
    nt_isa_set(top);
    return nt_check_report("test_attention_heads");
}
