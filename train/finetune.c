/* finetune.c - starting a transformer from a checkpoint on new data, growing
 * its vocabulary when the data needs tokens it lacks. */
#include "train/finetune.h"

#include <string.h>

#include "core/alloc.h"
#include "train/checkpoint.h"


typedef struct missing_ctx {
    const nt_vocab *v;
    char **tokens;   /* new tokens, in order of first appearance */
    int n, cap;
    int oom;
} missing_ctx;

static void collect_missing(const char *piece, size_t len, void *user) {
    missing_ctx *m = user;
    char buf[256];
    if (m->oom || len >= sizeof buf) return;
    memcpy(buf, piece, len);
    buf[len] = 0;
    if (nt_vocab_id(m->v, buf) >= 0) return;
    for (int i = 0; i < m->n; i++)
        if (strcmp(m->tokens[i], buf) == 0) return;
    if (m->n == m->cap) {
        int cap = m->cap ? 2 * m->cap : 16;
        char **t = nt_realloc(m->tokens, (size_t)cap * sizeof *t);
        if (!t) {
            m->oom = 1;
            return;
        }
        m->tokens = t, m->cap = cap;
    }
    char *copy = nt_malloc(len + 1);
    if (!copy) {
        m->oom = 1;
        return;
    }
    memcpy(copy, buf, len + 1);
    m->tokens[m->n++] = copy;
}

nt_status nt_finetune_load(const char *ckpt, const char *const *texts, int n, int extend,
                                   uint64_t seed, nt_model **model, nt_vocab **vocab, int *n_added) {
    const char *fn = "nt_finetune_load";
    if (!ckpt || (!texts && n > 0) || n < 0 || !model || !vocab)
        return nt_error(NT_ERR_ARG, "%s: bad arguments", fn);
    nt_model *m = NULL, *m2 = NULL;
    nt_vocab *v = NULL, *v2 = NULL;
    NT_TRY(nt_ckpt_load(ckpt, &m, &v));
    missing_ctx mc = {.v = v};
    nt_status s = NT_OK;
    for (int i = 0; i < n && s == NT_OK && !nt_vocab_spm(v); i++) { /* spm: byte fallback, nothing missing */
        s = nt_tokenizer_split(nt_vocab_kind(v), texts[i], collect_missing, &mc);
        if (s != NT_OK) nt_error_wrap(s, "%s: text %d", fn, i);
    }
    if (s == NT_OK && mc.oom) s = nt_error(NT_ERR_NOMEM, "%s: out of memory", fn);
    if (s == NT_OK && mc.n > 0 && !extend) {
        char list[256] = "";
        size_t k = 0;
        for (int i = 0; i < mc.n && i < 5 && k < sizeof list; i++)
            k += (size_t)snprintf(list + k, sizeof list - k, "%s'%s'", i ? ", " : "", mc.tokens[i]);
        s = nt_error(NT_ERR_ARG,
                     "vocabulary mismatch: %d token%s of the training data %s not in %s's vocabulary "
                     "(first: %s); extending the vocabulary adds them (new embedding rows are "
                     "initialised, old rows kept)",
                     mc.n, mc.n == 1 ? "" : "s", mc.n == 1 ? "is" : "are", ckpt, list);
    }
    if (s == NT_OK && mc.n > 0) {
        /* The extended vocabulary: old tokens (ids unchanged), then the new. */
        int V0 = nt_vocab_size(v), V1 = V0 + mc.n;
        const char **toks = nt_malloc((size_t)V1 * sizeof *toks);
        if (!toks) s = nt_error(NT_ERR_NOMEM, "%s: out of memory", fn);
        if (s == NT_OK) {
            for (int i = 0; i < V0; i++) toks[i] = nt_vocab_token(v, i);
            for (int i = 0; i < mc.n; i++) toks[V0 + i] = mc.tokens[i];
            s = nt_vocab_from_tokens(&v2, nt_vocab_kind(v), toks, V1);
        }
        nt_free(toks);
        nt_model_config mcfg = m->cfg;
        mcfg.vocab_size = V1;
        if (s == NT_OK) s = nt_model_new(&m2, &mcfg);
        if (s == NT_OK) {
            /* Copy every parameter; the embedding's old rows, new rows N(0, 0.02). */
            nt_params *a = m->params, *b = m2->params;
            for (int i = 0; i < b->count && s == NT_OK; i++) {
                int j = nt_params_find(a, b->names[i]);
                NT_ASSERT(j >= 0);
                const nt_tensor *ta = &a->tensors[j];
                nt_tensor *tb = &b->tensors[i];
                memcpy(nt_f32(tb), nt_f32(ta), (size_t)ta->n * sizeof(float));
                if (tb->n > ta->n) {
                    nt_rng r;
                    nt_rng_seed(&r, seed);
                    for (int64_t e = ta->n; e < tb->n; e++) nt_f32(tb)[e] = 0.02f * nt_rng_normal(&r);
                }
            }
        }
        if (s == NT_OK) {
            nt_model_free(m), nt_vocab_free(v);
            m = m2, v = v2;
            m2 = NULL, v2 = NULL;
        }
    }
    for (int i = 0; i < mc.n; i++) nt_free(mc.tokens[i]);
    nt_free(mc.tokens);
    if (s != NT_OK) {
        nt_model_free(m), nt_model_free(m2);
        nt_vocab_free(v), nt_vocab_free(v2);
        return s;
    }
    *model = m, *vocab = v;
    if (n_added) *n_added = mc.n;
    return NT_OK;
}
