/* batcher.h - length-bucketed, token-capped, resumable batches of a corpus.
 *
 * Dimension letters: B sentences in the batch, S padded source length,
 * T padded target (decoder) length.
 *
 *     nt_batcher_config bc = nt_batcher_config_default();
 *     bc.layout = NT_BATCHER_LAYOUT_ENCDEC;  bc.max_tokens = 4096;  bc.seed = 42;
 *     nt_batcher *b;
 *     if (nt_batcher_new(&b, corpus, &bc) != NT_OK) ... nt_errmsg() ...
 *     nt_batch batch;
 *     for (;;) {
 *         nt_batcher_next(b, &batch);
 *         if (batch.B == 0) break;            // the epoch ended; cursor is (epoch+1, 0)
 *         train_step(batch.src, batch.src_mask, batch.tgt_in, batch.labels, ...);
 *     }
 *     int64_t epoch, pos;  nt_batcher_get_cursor(b, &epoch, &pos);   // into a checkpoint
 *     nt_batcher_set_cursor(b, epoch, pos);                           // on resume
 *     nt_batcher_free(b);
 *
 * Training order (shuffle = 1). The sentences are sorted by length and cut
 * into `buckets` groups of about equal count (a length never straddles two
 * groups). Each epoch every bucket is shuffled and cut into batches, so a
 * batch is a random draw from its bucket (similar lengths, little padding)
 * and never a run of neighbours in sorted order; then the batches of all
 * buckets are shuffled together. The order is a pure function of (seed,
 * epoch): the RNG is nt_rng seeded with `seed`, at stream position
 * epoch * 2^40. Evaluation order (shuffle = 0): corpus order, cut into
 * consecutive batches, the same every epoch.
 *
 * Batch size: a batch grows while B * max_len_in_batch <= max_tokens (the
 * padded size, as fairseq counts it; the length of a sentence is max(S, T)
 * for encdec and T for the decoder layout) and B <= max_sentences; a cap of
 * 0 is unused, at least one must be set. A single sentence longer than
 * max_tokens is a batch of its own.
 *
 * Layouts (pad id 0 everywhere after a row's end):
 *   encdec:  src    (B,S) source ids + <eos>     src_mask (B,S) 1 real, 0 pad
 *            tgt_in (B,T) <bos> + target ids     labels   (B,T) target ids + <eos>
 *   decoder: S = 0, src = src_mask = NULL; the sequence <bos> src <sep> tgt <eos>
 *            minus its last token is tgt_in; labels[t] is the next token of the
 *            sequence for t >= prompt_len - 1 (the <sep> position predicts the
 *            first target token) and 0 (<pad>, no loss) on the prompt.
 *            prompt_len (B) = source length + 2 (<bos> src <sep>).
 * n_src_tokens = sum(source length + 1) and n_tgt_tokens = sum(target
 * length + 1) = the non-pad labels, in both layouts.
 *
 * Buffers are owned by the batcher and valid until the next call; after
 * nt_batcher_new, nt_batcher_next and nt_batcher_set_cursor allocate nothing.
 */
#ifndef NT_DATA_BATCHER_H
#define NT_DATA_BATCHER_H

#include <stdint.h>

#include "core/batch.h"
#include "core/status.h"
#include "data/corpus.h"

typedef enum nt_batcher_layout {
    NT_BATCHER_LAYOUT_ENCDEC = 0,  /* encoder input and decoder input/labels */
    NT_BATCHER_LAYOUT_DECODER = 1, /* one sequence <bos> source <sep> target <eos> */
} nt_batcher_layout;

typedef struct nt_batcher_config {
    nt_batcher_layout layout;
    int max_tokens;    /* cap on B * padded length (0 = unused) */
    int max_sentences; /* cap on B (0 = unused) */
    uint64_t seed;
    int shuffle;       /* 1: bucketed random order per epoch; 0: corpus order */
    int max_len;       /* longest S or T allowed (0 = no limit) */
    int skip_long;     /* 1: drop longer pairs (counted) instead of failing */
    int buckets;       /* length buckets when shuffling (0: 8) */
} nt_batcher_config;

/* layout encdec, max_tokens 4096, seed 1, shuffle 1, max_len 256, 8 buckets. */
nt_batcher_config nt_batcher_config_default(void);

/* nt_batch (core/batch.h): the fields above; index and prompt_len are set. */

typedef struct nt_batcher nt_batcher; /* opaque */

/* Creates a batcher over corpus c (borrowed: it must outlive the batcher),
 * positioned at (epoch 0, position 0). NT_ERR_ARG for bad config values
 * (named) or both caps 0; NT_ERR_FORMAT naming file:line when a pair is
 * longer than max_len and skip_long is 0; NT_ERR_NOMEM. *out = NULL on error. */
nt_status nt_batcher_new(nt_batcher **out, const nt_corpus *c, const nt_batcher_config *cfg);
void nt_batcher_free(nt_batcher *b); /* NULL is a no-op */

/* Fills *out with the next batch of the current epoch and returns NT_OK.
 * At the end of an epoch it sets out->B = 0 (all pointers NULL), advances
 * the cursor to (epoch + 1, 0) and returns NT_OK; the next call starts the
 * new epoch. NT_ERR_ARG for NULL arguments. */
nt_status nt_batcher_next(nt_batcher *b, nt_batch *out);

/* The cursor: the epoch and the number of its batches already returned. */
void nt_batcher_get_cursor(const nt_batcher *b, int64_t *epoch, int64_t *position);

/* Moves to (epoch, position): the next batch is the one a run that never
 * stopped would get there. NT_ERR_ARG (cursor unchanged) for epoch < 0 or a
 * position outside 0..nt_batcher_n_batches of that epoch. */
nt_status nt_batcher_set_cursor(nt_batcher *b, int64_t epoch, int64_t position);

int nt_batcher_n_batches(const nt_batcher *b); /* batches in the current epoch */
int nt_batcher_n_sentences(const nt_batcher *b); /* pairs kept (corpus minus skipped) */
int nt_batcher_n_skipped(const nt_batcher *b);  /* pairs dropped by skip_long */

#endif
