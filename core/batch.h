/* batch.h - a batch of token sequences: what a data source yields and a
 * model's loss reads (data/source.h, nn/net.h).
 *
 * Dimension letters: B rows, S padded source length, T padded target
 * (decoder) length. Ids are int32, row-major, padded with 0 (<pad>).
 *
 *   src      (B, S)  source ids + <eos>, or NULL (decoder-only data)
 *   src_mask (B, S)  1 real, 0 pad; NULL with src
 *   tgt_in   (B, T)  decoder input (<bos> + target, or a text window)
 *   tgt_mask (B, T)  1 real, 0 pad
 *   labels   (B, T)  next-token targets; 0 (<pad>) where no loss is taken
 *
 * B == 0 marks the end of a pass over the data (an epoch); every pointer
 * is then NULL. The buffers belong to whoever filled the batch and stay
 * valid until its next call.
 */
#ifndef NT_CORE_BATCH_H
#define NT_CORE_BATCH_H

#include <stdint.h>

typedef struct nt_batch {
    int B, S, T;          /* B == 0: the pass ended */
    int32_t *src;         /* (B, S) or NULL */
    int32_t *src_mask;    /* (B, S) or NULL */
    int32_t *tgt_in;      /* (B, T) */
    int32_t *tgt_mask;    /* (B, T) */
    int32_t *labels;      /* (B, T) */
    int *index;           /* (B) index of each row in its corpus, or NULL */
    int *prompt_len;      /* (B) prompt length of decoder-layout pairs, or NULL */
    int64_t n_src_tokens; /* source tokens read (throughput counts them) */
    int64_t n_tgt_tokens; /* labels with a loss */
} nt_batch;

#endif
