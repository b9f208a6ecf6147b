/* evaluator.h - decode-and-compare metrics for evaluation: the model
 * generates (nt_generate) for a set of prompts and each output is scored
 * against its own reference; the metric is the mean score. The trainer runs
 * one at every evaluation (nt_evaluator.decode, train/trainer.h); the
 * translator's exact match is one, and an LM or a user's model adds its own
 * by filling the struct:
 *
 *     nt_eval_decoder em;
 *     NT_TRY(nt_eval_exact_match(&em, valid_corpus));   // greedy; output == target
 *     nt_evaluator ev = {.batches = valid, .decode = &em};
 *
 *     // or a metric of one's own: prompt(i) gives item i's ids, score(i, out)
 *     // its score in [0, 1]; gen says how to decode (sampling, raw prompts, ...)
 *     nt_eval_decoder mine = {.name = "rhymes", .n = 100, .gen = g,
 *                             .prompt = my_prompt, .score = my_score, .user = &data};
 */
#ifndef NT_EVALUATOR_H
#define NT_EVALUATOR_H

#include "data/corpus.h"
#include "nn/generate.h"
#include "nn/net.h"

struct nt_dist;

typedef struct nt_eval_decoder {
    const char *name;        /* the metric's key in metrics.jsonl and the log, [a-z_]+ ("exact_match") */
    int n;                   /* items; the trainer decodes the first eval_exact_max of them (0: all) */
    nt_generate_config gen;  /* how to decode (the trainer's eval_max_new_tokens > 0 replaces
                                max_new_tokens); output sequence 0 of each item is scored */
    /* item i's prompt: ids without specials, as nt_generate's sources; they
     * must stay valid until the next call */
    nt_status (*prompt)(void *user, int i, const int32_t **ids, int *len);
    /* item i's score, in [0, 1] (1: right), of its best output */
    double (*score)(void *user, int i, const nt_generate_seq *out);
    void *user;
} nt_eval_decoder;

/* Checks a decoder: name [a-z_]+ of at most 63 bytes, n >= 0, prompt and
 * score set, gen valid (nt_generate_config_check). NT_ERR_ARG naming the
 * field. */
nt_status nt_eval_decoder_check(const nt_eval_decoder *d);

/* The translator's exact match over the pairs of c (borrowed; must outlive
 * d): greedy decoding of each source, score 1 when the output ended with
 * <eos> and equals the target, max_new_tokens = longest target + 8. */
nt_status nt_eval_exact_match(nt_eval_decoder *d, const nt_corpus *c);

/* Decodes the first max_items items (0 or more than d->n: all) with net,
 * in chunks of 64 sources; with several ranks (train/dist.h; NULL: one
 * process) rank r takes chunks r, r + N, ... and the sums are reduced.
 * *value = mean score (0 for no items), *n_items = items scored. ctx is
 * nt_generate's scratch. Errors: the decoder's, nt_generate's. */
nt_status nt_eval_decoder_run(const nt_eval_decoder *d, nt_net *net, nt_ctx *ctx, struct nt_dist *dist,
                              int max_items, int max_new_tokens, double *value, int *n_items);

#endif
