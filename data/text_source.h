/* text_source.h - contiguous text as a data source (data/source.h): windows
 * of T + 1 consecutive tokens, the input of a language model.
 *
 * Dimension letters: B windows per batch, T tokens of context (the block
 * size), n tokens of text. A window starting at s gives
 *   tgt_in (T) = ids[s .. s + T)        labels (T) = ids[s + 1 .. s + T + 1)
 * so the model takes a loss at every position: plain next-token prediction,
 * no <bos>/<sep> structure.
 *
 *     nt_text_source_config c = {.mode = NT_TEXT_SOURCE_RANDOM, .batch_size = 12,
 *                                .block_size = 64, .seed = 1};
 *     nt_data_source *train;
 *     NT_TRY(nt_text_source_new(&train, ids, n, &c));   // ids borrowed
 *     nt_batch b;
 *     NT_TRY(nt_data_source_next(train, &b));            // (12, 64) windows
 *     nt_data_source_free(train);
 *
 * Modes:
 *  - NT_TEXT_SOURCE_RANDOM (training): endless; window k (counting from the start
 *    of training) starts at a uniform offset drawn from value k of the
 *    counter-based generator seeded with `seed` (core/rng.h), so the cursor
 *    is that counter: {passes, windows drawn}, where passes =
 *    windows * T / (n - 1) (how many times the text has been read, for the
 *    log; set_cursor checks it matches). next() never returns B == 0.
 *  - NT_TEXT_SOURCE_FIXED (validation during training): a pass is `batches`
 *    batches of windows at offsets drawn the same way from `seed`, the same
 *    windows every pass (so evaluations compare), then B == 0. nanoGPT's
 *    estimate_loss() draws eval_iters fresh random batches instead.
 *  - NT_TEXT_SOURCE_SEQUENTIAL (scoring a whole file): consecutive non-overlapping
 *    windows starting at 0, T, 2T, ...: every token but the first is
 *    predicted exactly once (the first tokens of a window see a short
 *    context); the last window is padded (tgt_mask 0, labels 0 (<pad>):
 *    no loss) and the last batch may hold fewer than B windows; then
 *    B == 0.
 * Evaluation modes have the cursor {pass, batches taken in it}; {0, 0}
 * rewinds.
 *
 * Counts: n_src_tokens = 0 and n_tgt_tokens = the labels that take a loss
 * (B * T in the random modes), so the trainer's tokens/s counts tokens read.
 * Ids must be >= 1 (0 is <pad>: a label of 0 would silently take no loss).
 */
#ifndef NT_DATA_TEXT_SOURCE_H
#define NT_DATA_TEXT_SOURCE_H

#include <stdint.h>

#include "data/source.h"

typedef enum nt_text_source_mode {
    NT_TEXT_SOURCE_RANDOM = 0,     /* endless random windows (training) */
    NT_TEXT_SOURCE_FIXED = 1,      /* `batches` batches of fixed random windows per pass */
    NT_TEXT_SOURCE_SEQUENTIAL = 2, /* consecutive non-overlapping windows over the whole text */
} nt_text_source_mode;

typedef struct nt_text_source_config {
    nt_text_source_mode mode;
    int batch_size;  /* B >= 1 */
    int block_size;  /* T >= 1: tokens of context (the model's max_len or less) */
    uint64_t seed;   /* window offsets of RANDOM and FIXED */
    int batches;     /* FIXED: batches per pass, >= 1 (eval_iters) */
} nt_text_source_config;

/* A source over ids[0 .. n) (borrowed: they must outlive the source).
 * Errors: NT_ERR_ARG for a bad config (naming the field), a text shorter
 * than one window (n < T + 1 in the random modes, n < 2 sequentially:
 * "text of 40 tokens is shorter than one window of 65 (block size 64)"),
 * an id < 1 (naming its position); NT_ERR_NOMEM. *out untouched on error. */
nt_status nt_text_source_new(nt_data_source **out, const int32_t *ids, int64_t n,
                             const nt_text_source_config *cfg);

/* The start offsets of the windows of the last batch (B of them), or NULL if
 * ds is not a text source or no batch was taken yet. Valid until the next
 * call of next(). */
const int64_t *nt_text_source_offsets(const nt_data_source *ds);

/* Windows in one pass of an evaluation source (FIXED: batches * B;
 * SEQUENTIAL: ceil((n - 1) / T)); 0 for RANDOM or another source. */
int64_t nt_text_source_pass_windows(const nt_data_source *ds);

#endif
