/* generate_fast.h - the batch-1 decoder: one sequence, KV cache, greedy steps
 * with no per-token allocation, tensor headers or tape, and one parallel
 * region per step (or per greedy run) instead of one per op.
 *
 * It computes what nt_model_encode + nt_model_decode do with a cache of one
 * row. A step uses the generic path's kernels in the same summation order
 * (nt_linear's few-row dot products, nt_attention's single-query path,
 * nt_layernorm's row), so given the same cross K/V its logits are bitwise the
 * generic path's, for any thread count (decoder-only models: bitwise, full
 * stop). The encoder pass (encdec) runs the same operations with the few-row
 * kernel over all S rows instead of sgemm, so its output, and the logits
 * after it, agree with the generic path to float rounding (~1e-6 relative),
 * not bitwise; results never depend on the thread count.
 *
 *     nt_decoder *d;
 *     NT_TRY(nt_decoder_new(&d, model, 64, 32));        // cap 64 positions, sources <= 32
 *     NT_TRY(nt_decoder_start(d, src_ids, S));          // encoder + cross K/V (encdec);
 *                                                       // decoder-only: src NULL, S 0
 *     const float *logits;                              // (V), valid until the next step
 *     NT_TRY(nt_decoder_step(d, NT_GEN_BOS, &logits));  // one token in, next-token logits out
 *     int32_t out[16];
 *     NT_TRY(nt_decoder_greedy(d, NT_GEN_BOS, 16, out)); // or: 16 greedy steps at once
 *     nt_decoder_free(d);
 *
 * Each thread of the step streams its share of every weight matrix (output
 * rows split evenly; attention split by heads), so both cores read half of
 * the weights. Weights are read from the model in place (not copied): the
 * decoder sees later changes to the parameters, but a step must not run
 * while the parameters change.
 */
#ifndef NT_GENERATE_FAST_H
#define NT_GENERATE_FAST_H

#include "nn/model.h"

typedef struct nt_decoder nt_decoder;

/* A decoder for model m, up to `cap` decoder positions (<= max_len) and
 * sources up to `src_cap` tokens (encdec; ignored for decoder-only). All
 * memory is allocated here. NT_ERR_ARG for a NULL argument or a size outside
 * [1, max_len]; NT_ERR_NOMEM. *out is untouched on error. */
nt_status nt_decoder_new(nt_decoder **out, nt_model *m, int cap, int src_cap);
void nt_decoder_free(nt_decoder *d); /* NULL is a no-op */

/* Starts a sequence: forgets every position; for an encoder-decoder model
 * runs the encoder over src (S ids, all real: the caller appends <eos> if it
 * wants one) and computes the cross-attention K/V of every layer once.
 * Decoder-only: src must be NULL and S 0. NT_ERR_ARG for an id outside
 * [0, V), S outside [1, src_cap] or a NULL argument; after an error no
 * sequence is started (a step returns NT_ERR_STATE). */
nt_status nt_decoder_start(nt_decoder *d, const int32_t *src, int S);

/* Feeds `token` at the next position and returns the next-token logits (V
 * floats owned by the decoder, valid until the next call). NT_ERR_ARG for a
 * token outside [0, V) or when the cache is full (cap or max_len positions);
 * NT_ERR_STATE before nt_decoder_start. */
nt_status nt_decoder_step(nt_decoder *d, int32_t token, const float **logits);

/* n greedy steps from `first`: out[i] = argmax of the logits after feeding
 * first, out[0], ..., out[i-1] (ties: lowest id; no stop at <eos>). Errors
 * as nt_decoder_step, checked before any step runs. */
nt_status nt_decoder_greedy(nt_decoder *d, int32_t first, int n, int32_t *out);

/* Positions fed since nt_decoder_start. */
int nt_decoder_len(const nt_decoder *d);

#endif
