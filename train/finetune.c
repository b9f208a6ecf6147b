/* finetune.c - starting a transformer from a checkpoint on new data, growing
 * its vocabulary when the data needs tokens it lacks. */
#include "train/finetune.h"

#include <string.h>

#include "core/alloc.h"
#include "core/strset.h"
#include "train/checkpoint.h"

nt_status nt_finetune_load(const char *ckpt, const char *const *texts, int n, int extend,
                                   uint64_t seed, nt_model **model, nt_vocab **vocab, int *n_added) {
    const char *fn = "nt_finetune_load";
    if (!ckpt || (!texts && n > 0) || n < 0 || !model || !vocab)
        return nt_error(NT_ERR_ARG, "%s: bad arguments", fn);
    nt_model *m = NULL, *m2 = NULL;
    nt_vocab *v = NULL, *v2 = NULL;
    NT_TRY(nt_ckpt_load(ckpt, &m, &v));
    nt_strset mc = {0}; /* the tokens the texts need and v lacks, in order of first appearance */
    nt_status s = NT_OK;
    for (int i = 0; i < n && s == NT_OK; i++) {
        s = nt_vocab_collect_unknown(v, texts[i], &mc);
        if (s != NT_OK) nt_error_wrap(s, "%s: text %d", fn, i);
    }
    if (s == NT_OK && mc.n > 0 && !extend) {
        char list[256] = "";
        size_t k = 0;
        for (int i = 0; i < mc.n && i < 5 && k < sizeof list; i++)
            k += (size_t)snprintf(list + k, sizeof list - k, "%s'%s'", i ? ", " : "", mc.items[i]);
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
            for (int i = 0; i < mc.n; i++) toks[V0 + i] = mc.items[i];
            s = nt_vocab_from_tokens(&v2, nt_vocab_kind(v), toks, V1);
            if (s == NT_OK) nt_vocab_set_split_digits(v2, nt_vocab_split_digits(v)); /* the old rule stays */
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
    int added = mc.n;
    nt_strset_free(&mc);
    if (s != NT_OK) {
        nt_model_free(m), nt_model_free(m2);
        nt_vocab_free(v), nt_vocab_free(v2);
        return s;
    }
    *model = m, *vocab = v;
    if (n_added) *n_added = added;
    return NT_OK;
}
