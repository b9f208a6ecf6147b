/* source.h - the data-source interface: where the trainer's batches come
 * from, and a cursor a checkpoint stores so a resumed run sees exactly the
 * batches it would have seen.
 *
 * An nt_data_source is a table of functions over the source's own object.
 * Two implementations ship: sentence pairs through the length-bucketed
 * batcher (nt_pairs_source_new, below) and contiguous text in random
 * windows (examples/lm). A user's is a third:
 *
 *     nt_data_source *train;
 *     NT_TRY(nt_pairs_source_new(&train, corpus, &batcher_cfg));
 *     nt_batch b;
 *     NT_TRY(nt_data_source_next(train, &b));   // b.B == 0: a pass (epoch) ended
 *     nt_cursor c;  nt_data_source_get_cursor(train, &c);   // into a checkpoint
 *     NT_TRY(nt_data_source_set_cursor(train, &c));          // on resume
 *     nt_data_source_free(train);
 *
 * The contract:
 *  - next() fills *b with the next batch (buffers owned by the source,
 *    valid until its next call) or, at the end of a pass, sets b->B = 0 and
 *    moves the cursor to the start of the next pass. A source that never
 *    ends (random windows) never returns B == 0 when training.
 *  - the cursor is two integers (the pass and the position in it, or any
 *    other pair: a random-window source stores its RNG counter) that fully
 *    determine the batches that follow. set_cursor({0, 0}) rewinds an
 *    evaluation source to its start.
 *  - n_src_tokens and n_tgt_tokens of each batch count the tokens it feeds
 *    and the tokens that take a loss (the trainer's tokens/s and the
 *    weighting of accumulated micro-batches use them).
 */
#ifndef NT_DATA_SOURCE_H
#define NT_DATA_SOURCE_H

#include <stdint.h>

#include "core/batch.h"
#include "core/status.h"

typedef struct nt_cursor {
    int64_t epoch;    /* pass over the data (or the source's first state word) */
    int64_t position; /* batches taken in it (or the second state word) */
} nt_cursor;

typedef struct nt_data_source nt_data_source;

typedef struct nt_data_source_ops {
    const char *name; /* for messages: "pairs", "text" */
    nt_status (*next)(nt_data_source *ds, nt_batch *b);
    void (*get_cursor)(const nt_data_source *ds, nt_cursor *c);
    /* NT_ERR_ARG (cursor unchanged) for a cursor this data cannot reach. */
    nt_status (*set_cursor)(nt_data_source *ds, const nt_cursor *c);
    void (*free)(nt_data_source *ds);
} nt_data_source_ops;

/* The common head: first member of an implementation's struct. */
struct nt_data_source {
    const nt_data_source_ops *ops;
};

nt_status nt_data_source_next(nt_data_source *ds, nt_batch *b);
void nt_data_source_get_cursor(const nt_data_source *ds, nt_cursor *c);
nt_status nt_data_source_set_cursor(nt_data_source *ds, const nt_cursor *c);
void nt_data_source_free(nt_data_source *ds); /* NULL is a no-op */

/* ---- sentence pairs ---------------------------------------------------------------
 * The batcher (data/batcher.h) over a corpus as a data source: the cursor is
 * the batcher's (epoch, position). The corpus is borrowed and must outlive
 * the source. Errors as nt_batcher_new; *out untouched then. */
struct nt_corpus;
struct nt_batcher_config;
nt_status nt_pairs_source_new(nt_data_source **out, const struct nt_corpus *corpus,
                              const struct nt_batcher_config *cfg);

#endif
