/* finetune.h - fine-tuning the transformer: its weights from a checkpoint,
 * its vocabulary grown for new training data.
 *
 *     nt_model *m;  nt_vocab *v;  int added;
 *     NT_TRY(nt_finetune_load("run/checkpoint-best.h5", texts, n, 1, seed, &m, &v, &added));
 *     ... nt_trainer_new(&tr, &cfg, &m->net, v, train, &eval) ...
 */
#ifndef NT_TRAIN_FINETUNE_H
#define NT_TRAIN_FINETUNE_H

#include <stdint.h>

#include "data/tokenizer.h"
#include "nn/model.h"

/* ---- fine-tuning -----------------------------------------------------------------
 * Starts from a checkpoint's weights (its optimizer and train state are
 * ignored: the trainer then starts a fresh optimizer and schedule). `texts`
 * are the new training texts (sources and targets): if one holds a token the
 * checkpoint's vocabulary lacks, the vocabulary does not fit, and
 *   extend = 0: NT_ERR_ARG "vocabulary mismatch: 3 tokens of the training
 *     data are not in <ckpt>'s vocabulary (first: 'x', 'y', 'z'); extending the
 *     vocabulary adds them" (a CLI names its own flag for it);
 *   extend = 1: the tokens are appended (ids of old tokens unchanged), the
 *     embedding grows: old rows kept bitwise, new rows drawn from
 *     normal(0, 0.02) with `seed`; *n_added says how many.
 * On error the outputs are untouched. */
nt_status nt_finetune_load(const char *ckpt, const char *const *texts, int n, int extend,
                                   uint64_t seed, nt_model **model, nt_vocab **vocab, int *n_added);

#endif
