/* mutate.c - the test-only backward mutations (see mutate.h). */
#include "core/mutate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int nt_mutation = NT_MUT_NONE;

static const char *names[NT_MUT_COUNT] = {
    "none",   "mean_n1", "layernorm_term", "matmul_transpose", "attn_scale",     "gelu_erf",
    "ls_term", "softmax", "log_softmax",   "embed_scatter",    "linear_bias", "ce_ignore",
};

const char *nt_mutation_name(int m) { return m >= 0 && m < NT_MUT_COUNT ? names[m] : NULL; }

nt_status nt_mutation_set(const char *name) {
    if (!name || !*name) {
        nt_mutation = NT_MUT_NONE;
        return NT_OK;
    }
    for (int m = 0; m < NT_MUT_COUNT; m++)
        if (strcmp(names[m], name) == 0) {
            nt_mutation = m;
            return NT_OK;
        }
    return nt_error(NT_ERR_ARG, "nt_mutation_set: unknown mutation '%s'", name);
}

/* NT_MUTATE=<name> at startup (for running a whole test binary mutated). */
__attribute__((constructor)) static void mutation_from_env(void) {
    const char *e = getenv("NT_MUTATE");
    if (e && *e && nt_mutation_set(e) != NT_OK) fprintf(stderr, "nextok: %s (ignored)\n", nt_errmsg());
    else if (e && *e) fprintf(stderr, "nextok: NT_MUTATE=%s: backward kernels are deliberately wrong\n", e);
}
