/* pairs_trainer.h - test support: a trainer over pair corpora, built as the
 * translator builds it (examples/translate/cmd_train.c): length-bucketed
 * training batches and the validation pass as data sources
 * (data/source.h), the validation pairs for exact match.
 *
 *     nt_trainer *tr;
 *     NT_TRY(nt_test_pairs_trainer_new(&tr, &cfg, model, vocab, train, valid));  // valid may be NULL
 *     nt_trainer_run(tr, &result);
 *     nt_test_pairs_trainer_free(tr);   // the sources too
 */
#ifndef NT_TEST_PAIRS_TRAINER_H
#define NT_TEST_PAIRS_TRAINER_H

#include "data/corpus.h"
#include "nn/model.h"
#include "train/trainer.h"

/* As nt_trainer_new; up to 4 such trainers at once. On error nothing is left
 * allocated. */
nt_status nt_test_pairs_trainer_new(nt_trainer **out, const nt_trainer_config *c, nt_model *m, const nt_vocab *v,
                                    const nt_corpus *train, const nt_corpus *valid);
/* Frees the trainer and its sources; NULL is a no-op. */
void nt_test_pairs_trainer_free(nt_trainer *tr);

#endif
