/* sampling.h - logits processors and the token sampler of nn/generate.
 *
 * Each processor rewrites one row of logits (V floats) in place, the way the
 * HuggingFace processor of the same name does; a banned token gets -inf.
 * Generation applies them in this order: repetition penalty, no-repeat
 * n-grams (these shape the distribution every strategy ranks by), then, when
 * sampling, temperature, top-k and top-p, then draws a token:
 *
 *     nt_sampling_repetition_penalty(x, V, prev, n_prev, 1.2f);
 *     nt_sampling_temperature(x, V, 0.7f);
 *     nt_sampling_top_k(x, V, 50, scratch);         // scratch: nt_sampling_scratch_bytes(V)
 *     nt_sampling_top_p(x, V, 0.9f, scratch);
 *     int tok = nt_sampling_draw(x, V, nt_rng_uniform_double(&rng));
 *
 * Ties between equal logits are always broken toward the lower token id, so
 * top_k = 1 and temperature -> 0 both choose exactly what greedy chooses.
 * These functions do not validate their arguments (nt_generate_config_check
 * does); they never allocate.
 */
#ifndef NT_SAMPLING_H
#define NT_SAMPLING_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of scratch that top-k / top-p need for V logits. */
size_t nt_sampling_scratch_bytes(int V);

/* Index of the largest logit (the lowest id among equals); -1 if every logit
 * is -inf or NaN. */
int nt_sampling_argmax(const float *x, int V);

/* log(sum exp x) over V logits, computed stably in double; -inf if every
 * logit is -inf. log-softmax(x)[i] = x[i] - nt_sampling_logsumexp(x, V). */
double nt_sampling_logsumexp(const float *x, int V);

/* HF RepetitionPenaltyLogitsProcessor (CTRL, Keskar et al. 2019): every
 * distinct token of prev gets x / penalty if x > 0, x * penalty otherwise.
 * penalty 1 is a no-op. */
void nt_sampling_repetition_penalty(float *x, int V, const int32_t *prev, int n_prev, float penalty);

/* HF NoRepeatNGramLogitsProcessor: bans every token that would complete an
 * n-gram (n = ngram) already present in seq[0 .. len). ngram <= 0: no-op. */
void nt_sampling_no_repeat_ngram(float *x, int V, const int32_t *seq, int len, int ngram);

/* x /= temperature (temperature > 0). */
void nt_sampling_temperature(float *x, int V, float temperature);

/* Keeps the k largest logits (ties: lower id first), sets the rest to -inf.
 * k <= 0 or k >= V: no-op. */
void nt_sampling_top_k(float *x, int V, int k, void *scratch);

/* Nucleus filtering (Holtzman et al. 2020): keeps the smallest set of most
 * probable tokens whose softmax mass reaches p (within 1e-6, the rounding of
 * float probabilities), sets the rest to -inf. The most probable token is
 * always kept; p >= 1: no-op. */
void nt_sampling_top_p(float *x, int V, float p, void *scratch);

/* Draws from softmax(x) by inverting its CDF at u in [0, 1): the first token
 * whose cumulative probability exceeds u * total. Tokens at -inf are never
 * drawn. Returns -1 if every logit is -inf. */
int nt_sampling_draw(const float *x, int V, double u);

#endif
