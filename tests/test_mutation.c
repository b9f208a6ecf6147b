/* test_mutation.c - the gradient check catches wrong gradients: with each
 * deliberately wrong backward kernel (core/mutate.h) at least one case of the
 * check fails, and with none every case passes. The cases and tolerances are
 * those of test_grad_basic / test_grad_nn (relative to each gradient
 * tensor's norm, support/gradcheck.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/mutate.h"
#include "core/ops.h"
#include "support/check.h"
#include "support/gradcheck.h"

static nt_status b_mean(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *a) { return nt_mean(c, out, in[0]); }
static nt_status b_gelu(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *a) { return nt_gelu(c, out, in[0]); }
static nt_status b_softmax(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *a) { return nt_softmax(c, out, in[0]); }
static nt_status b_log_softmax(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *a) {
    return nt_log_softmax(c, out, in[0]);
}
static nt_status b_layernorm(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *a) {
    return nt_layernorm(c, out, in[0], in[1], in[2], 1e-5f);
}
static nt_status b_matmul(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *a) {
    return nt_matmul(c, out, in[0], in[1], 0, 0);
}
static nt_status b_linear(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *a) {
    return nt_linear(c, out, in[0], in[1], in[2]);
}
static nt_status b_embedding(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *a) {
    return nt_embedding(c, out, in[0], in[1]);
}
/* arg: heads */
static nt_status b_attention(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *a) {
    int H = *(const int *)a, D = in[0]->shape[2];
    return nt_attention(c, out, in[0], in[1], in[2], NULL, H, 1, 1.0f / sqrtf((float)D / H), NULL);
}
/* arg: ignore index, label smoothing in percent */
static nt_status b_ce(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *a) {
    const int *v = a;
    return nt_cross_entropy(c, out, in[0], in[1], v[0], (float)v[1] / 100.0f, NULL);
}

typedef struct mcase {
    const char *name;
    gc_build_fn build;
    int n_in;
    int nd[3], s[3][3]; /* inputs: ndim and shape; an I32 third-from-spec input is the ids */
    int ids;            /* index of an I32 input (targets, ids), -1 if none */
    int arg[2];
    double tol;
} mcase;

static const mcase cases[] = {
    {"mean 3x17", b_mean, 1, {2}, {{3, 17}}, -1, {0}, 2.5e-4},
    {"layernorm 3x17", b_layernorm, 3, {2, 1, 1}, {{3, 17}, {17}, {17}}, -1, {0}, 2e-3},
    {"matmul 4x4 @ 4x4", b_matmul, 2, {2, 2}, {{4, 4}, {4, 4}}, -1, {0}, 2.5e-4},
    {"attention causal 2x3x4 h2", b_attention, 3, {3, 3, 3}, {{2, 3, 4}, {2, 3, 4}, {2, 3, 4}}, -1, {2}, 2.5e-4},
    {"gelu 3x17", b_gelu, 1, {2}, {{3, 17}}, -1, {0}, 2.5e-4},
    {"cross-entropy 4x17 ignore 2 smoothing 0.2", b_ce, 2, {2, 1}, {{4, 17}, {4}}, 1, {2, 20}, 2.5e-4},
    {"softmax 3x17", b_softmax, 1, {2}, {{3, 17}}, -1, {0}, 2.5e-4},
    {"log_softmax 3x17", b_log_softmax, 1, {2}, {{3, 17}}, -1, {0}, 2.5e-4},
    {"embedding 5x3 repeated ids", b_embedding, 2, {2, 2}, {{5, 3}, {2, 3}}, 1, {0}, 2.5e-4},
    {"linear 3x17 -> 5 bias", b_linear, 3, {2, 2, 1}, {{3, 17}, {5, 17}, {5}}, -1, {0}, 2.5e-4},
};
enum { NCASES = sizeof cases / sizeof *cases };

/* Runs every case; err[k] gets case k's relative error. */
static void run_cases(double *err) {
    nt_ctx *leaf;
    NT_ASSERT(nt_ctx_new(&leaf, 0) == NT_OK);
    nt_rng rng;
    nt_rng_seed(&rng, 2024); /* the same inputs for every mutation */
    for (int k = 0; k < NCASES; k++) {
        const mcase *c = &cases[k];
        nt_tensor *in[3];
        for (int i = 0; i < c->n_in; i++) {
            int is_id = i == c->ids;
            in[i] = gc_input(leaf, is_id ? NT_I32 : NT_F32, c->nd[i], c->s[i], !is_id, &rng);
            if (is_id) { /* targets / ids: repeated values, and the ignore index once */
                int V = c->s[0][c->nd[0] - 1];
                for (int64_t j = 0; j < in[i]->n; j++) nt_i32(in[i])[j] = (int32_t)((j * 3 + 1) % V);
                if (c->build == b_ce) nt_i32(in[i])[0] = c->arg[0];
                else nt_i32(in[i])[0] = nt_i32(in[i])[2];
            }
        }
        err[k] = gc_error(c->name, c->build, c->n_in, in, (void *)c->arg, 1e-2, 0);
        nt_ctx_reset(leaf);
    }
    nt_ctx_free(leaf);
}

int main(void) {
    double err[NCASES];
    /* none: every case passes */
    NT_ASSERT(nt_mutation_set(NULL) == NT_OK);
    run_cases(err);
    for (int k = 0; k < NCASES; k++)
        CHECK(err[k] <= cases[k].tol, "no mutation: %s: error %.3g > %.3g", cases[k].name, err[k], cases[k].tol);
    /* each mutation: some case fails */
    printf("%-18s %-44s %s\n", "mutation", "case it fails most (error / tolerance)", "cases failed");
    for (int m = 1; m < NT_MUT_COUNT; m++) {
        CHECK(nt_mutation_set(nt_mutation_name(m)) == NT_OK && nt_mutation == m, "set %s", nt_mutation_name(m));
        run_cases(err);
        int failed = 0, worst = 0;
        for (int k = 0; k < NCASES; k++) {
            failed += !(err[k] <= cases[k].tol);
            if (err[k] / cases[k].tol > err[worst] / cases[worst].tol) worst = k;
        }
        printf("%-18s %-34s %9.3g x %d\n", nt_mutation_name(m), cases[worst].name, err[worst] / cases[worst].tol,
               failed);
        CHECK(failed > 0, "mutation %s passed the gradient check (worst: %s, %.3g <= %.3g)", nt_mutation_name(m),
              cases[worst].name, err[worst], cases[worst].tol);
    }
    nt_mutation_set(NULL);
    CHECK(nt_mutation_set("no_such_mutation") == NT_ERR_ARG && nt_mutation == NT_MUT_NONE, "unknown name");
    return nt_check_report("test_mutation");
}
