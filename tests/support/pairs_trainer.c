/* pairs_trainer.c - a trainer over pair corpora for tests. */
#include "pairs_trainer.h"

#include <string.h>

#include "data/batcher.h"
#include "data/source.h"

static struct {
    nt_trainer *tr;
    nt_data_source *train, *valid;
    nt_eval_decoder em; /* exact match over the validation pairs: outlives the trainer */
} live[4];

nt_status nt_test_pairs_trainer_new(nt_trainer **out, const nt_trainer_config *c, nt_model *m, const nt_vocab *v,
                                    const nt_corpus *train, const nt_corpus *valid) {
    int k = 0;
    while (k < 4 && live[k].tr) k++;
    if (k == 4) return nt_error(NT_ERR_STATE, "nt_test_pairs_trainer_new: 4 trainers live already");
    nt_batcher_config bc = nt_batcher_config_default();
    bc.layout = m->cfg.arch == NT_ARCH_DECODER ? NT_BATCHER_LAYOUT_DECODER : NT_BATCHER_LAYOUT_ENCDEC;
    bc.max_tokens = c->batch_tokens, bc.max_sentences = c->batch_sentences;
    bc.seed = c->seed, bc.max_len = m->cfg.max_len, bc.buckets = c->buckets;
    nt_data_source *st = NULL, *sv = NULL;
    nt_status s = nt_pairs_source_new(&st, train, &bc);
    bc.shuffle = 0;
    if (s == NT_OK && valid) s = nt_pairs_source_new(&sv, valid, &bc);
    if (s == NT_OK && valid) s = nt_eval_exact_match(&live[k].em, valid);
    nt_evaluator ev = {.batches = sv, .decode = valid ? &live[k].em : NULL};
    if (s == NT_OK) s = nt_trainer_new(out, c, &m->net, v, st, &ev);
    if (s != NT_OK) {
        nt_data_source_free(st), nt_data_source_free(sv);
        return s;
    }
    live[k].tr = *out, live[k].train = st, live[k].valid = sv;
    return NT_OK;
}

void nt_test_pairs_trainer_free(nt_trainer *tr) {
    for (int k = 0; k < 4; k++)
        if (tr && live[k].tr == tr) {
            nt_trainer_free(tr);
            nt_data_source_free(live[k].train), nt_data_source_free(live[k].valid);
            memset(&live[k], 0, sizeof live[k]);
        }
}
