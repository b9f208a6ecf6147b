/* infer.h - the transformer's no-grad decode path: what nt_generate runs
 * (translate, eval, nextok-lm sample, greedy, sampling and beam search).
 *
 * A batch of rows (sequences: sources x beams x samples), each with its own
 * KV cache of positions, fed token by token or a whole prompt at once, with
 * no tape, no tensor headers and no allocation after nt_infer_new. One
 * parallel region per pass (a decoder pass on core/decode_pool.h's workers,
 * which stay awake between steps: no OS wake-up per token); a pass streams each weight
 * matrix once for every row it feeds (the few-row kernels of core/kernels.h,
 * rows in tiles), so batched decoding reads the weights once per step.
 *
 *     nt_infer *d;
 *     nt_infer_config c = {.rows = 8, .cap = 64, .sources = 2, .src_cap = 20};
 *     NT_TRY(nt_infer_new(&d, model, &c));
 *     NT_TRY(nt_infer_encode(d, 2, (int[]){0, 1}, srcs, lens)); // encoder + cross K/V, once
 *     NT_TRY(nt_infer_start(d, 2, (int[]){0, 1}));     // row r reads source slot r
 *     float logits[2 * V];
 *     NT_TRY(nt_infer_feed(d, 2, (int[]){0, 1}, (int32_t[]){NT_GEN_BOS, NT_GEN_BOS}, logits));
 *     NT_TRY(nt_infer_select(d, (int[]){1, 1, 0}, 3));  // beams: rows 0, 1 = old 1, row 2 = old 0
 *     nt_infer_free(d);
 *
 * Results: a row's logits depend on nothing but its own tokens and source:
 * not on the other rows, the row count, how its tokens were split into
 * feeds (a prompt fed at once gives the logits of feeding it token by
 * token), the thread count or which thread ran what — bitwise. A decoding
 * step's logits are bitwise those of nt_model_decode with an nt_kv_cache
 * (the graph path, nn/model.h) fed the same tokens, given the same cross
 * K/V: the kernels and summation orders are the graph's few-row ones
 * (nt_linear's dot products, nt_attention's single-query path,
 * nt_layernorm's row). The encoder pass runs the few-row kernels over all
 * source rows where the graph's nt_model_encode may use sgemm, so encdec
 * logits agree with the graph path to float rounding (~1e-6 relative) and
 * bitwise for sources of at most 16 tokens.
 *
 * bf16 (cfg.bf16): every matrix product reads the weights' bf16 copies
 * (nt_params_bf16_of: converted once, again only after the parameters
 * change), activations and sums stay float32 (nt_linear_rows_bf16).
 *
 * Weights are read from the model in place: a pass must not run while the
 * parameters change.
 */
#ifndef NT_INFER_H
#define NT_INFER_H

#include "nn/model.h"

typedef struct nt_infer nt_infer;

typedef struct nt_infer_config {
    int rows;     /* rows at most (sources x beams / samples), >= 1 */
    int cap;      /* positions per row, in [1, max_len] */
    int sources;  /* encdec: source slots (>= 1); decoder-only: ignored */
    int src_cap;  /* encdec: longest source in ids (<eos> included), in [1, max_len] */
    int items;    /* tokens per decoder pass (0: max(rows, 256)); a feed of more
                     runs in several passes, same results */
    int enc_items; /* encdec: source tokens per encoder pass (0: max(src_cap, items)) */
    int bf16;     /* 1: bf16 weights, float32 activations */
} nt_infer_config;

/* All memory is allocated here. NT_ERR_ARG naming the field for a size out
 * of range or a NULL argument; NT_ERR_NOMEM. *out untouched on error. */
nt_status nt_infer_new(nt_infer **out, nt_model *m, const nt_infer_config *cfg);
void nt_infer_free(nt_infer *d); /* NULL is a no-op */

/* encdec: runs the encoder over n sources (src[i]: len[i] ids, all real: the
 * caller appends <eos>) and stores the cross-attention K/V of every decoder
 * layer in source slot slots[i]. NT_ERR_STATE for a decoder-only model;
 * NT_ERR_ARG for a slot outside [0, sources), a length outside [1, src_cap]
 * or an id outside [0, V) (nothing computed then). */
nt_status nt_infer_encode(nt_infer *d, int n, const int *slots, const int32_t *const *src,
                          const int *len);

/* Starts `rows` empty rows; row r reads source slot slots[r] (encdec; NULL
 * for decoder-only). NT_ERR_ARG for rows outside [1, cfg.rows] or a slot
 * not encoded. */
nt_status nt_infer_start(nt_infer *d, int rows, const int *slots);

/* Feeds n tokens: token i goes to row rows[i] at that row's next position
 * (items of a row in order: a prompt is its tokens in a row). logits (or
 * NULL) receives V floats for every item that is the last of its row in
 * this call, in item order. NT_ERR_ARG (nothing fed) for a row outside
 * [0, rows), a token outside [0, V) or a row whose positions would exceed
 * cap; NT_ERR_STATE before nt_infer_start. */
nt_status nt_infer_feed(nt_infer *d, int n, const int *rows, const int32_t *tokens, float *logits);

/* Row r becomes old row src_rows[r] for r < n_new (beams reordered, rows
 * dropped or forked); copies only rows that move. NT_ERR_ARG (unchanged) for
 * n_new outside [1, cfg.rows] or a source row outside [0, rows). */
nt_status nt_infer_select(nt_infer *d, const int *src_rows, int n_new);

/* Live rows, and positions fed to row r (0 for a bad row). */
int nt_infer_rows(const nt_infer *d);
int nt_infer_len(const nt_infer *d, int r);

#endif
