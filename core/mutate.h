/* mutate.h - test-only mutations: one deliberately wrong backward kernel at
 * a time, so that a test can prove the gradient check catches wrong
 * gradients (tests/test_mutation.c). Compiled in always and cheap: a kernel
 * reads nt_mutation once per call, never inside its loops. Off (0) unless
 * a test calls nt_mutation_set or the environment has NT_MUTATE=<name> at
 * startup. Never set it outside tests: the gradients are then wrong.
 *
 *     NT_TRY(nt_mutation_set("mean_n1"));   // nt_mean's backward uses 1/(n-1)
 *     ...                                   // the gradient check must now fail
 *     nt_mutation_set(NULL);                // back to the true gradients
 */
#ifndef NT_MUTATE_H
#define NT_MUTATE_H

#include "core/status.h"

typedef enum nt_mutation_id {
    NT_MUT_NONE = 0,
    NT_MUT_MEAN_N1,          /* nt_mean: dx = dy / (n - 1) */
    NT_MUT_LAYERNORM_TERM,   /* nt_layernorm: dx without the - xhat mean(dy w xhat) term */
    NT_MUT_MATMUL_TRANSPOSE, /* nt_matmul: dA = dC op(B) instead of dC op(B)^T (square B only) */
    NT_MUT_ATTN_SCALE,       /* nt_attention: dS without the softmax scale */
    NT_MUT_GELU_ERF,         /* nt_gelu: the derivative of the erf form, not of the tanh form */
    NT_MUT_LS_TERM,          /* nt_cross_entropy: the label-smoothing eps/V term dropped */
    NT_MUT_SOFTMAX,          /* nt_softmax: dx = y dy (the - sum(dy y) dropped) */
    NT_MUT_LOG_SOFTMAX,      /* nt_log_softmax: dx = dy (the - softmax sum(dy) dropped) */
    NT_MUT_EMBED_SCATTER,    /* nt_embedding: scatter stores instead of adding (repeated ids) */
    NT_MUT_LINEAR_BIAS,      /* nt_linear: db from the first row only */
    NT_MUT_CE_IGNORE,        /* nt_cross_entropy: ignored targets get a gradient */
    NT_MUT_COUNT
} nt_mutation_id;

/* The active mutation (NT_MUT_NONE normally). */
extern int nt_mutation;

/* Its name ("mean_n1", ...), "none" for NT_MUT_NONE, NULL if out of range. */
const char *nt_mutation_name(int m);

/* Activates the mutation `name` (NULL, "" or "none": none). NT_ERR_ARG for
 * an unknown name (the active one is unchanged). */
nt_status nt_mutation_set(const char *name);

#endif
