/* corpus.h - the in-memory parallel corpus the batcher reads: N (source,
 * target) pairs as raw strings and as token ids (no specials; the batcher
 * adds <bos>/<sep>/<eos>). The toy number corpora that write such pairs to
 * TSV files are data/number_corpus.h.
 *
 *     nt_tsv *t;  nt_tsv_read(&t, "runs/en-fr/train.tsv", NULL);
 *     nt_corpus *c;  nt_corpus_from_tsv(&c, t, vocab);
 *     ... c->src_text[i], c->ids + c->tgt_off[i] (c->tgt_len[i] ids) ...
 *     nt_corpus_free(c); nt_tsv_free(t);
 */
#ifndef NT_DATA_CORPUS_H
#define NT_DATA_CORPUS_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "data/tokenizer.h"
#include "data/tsv.h"

/* ---- the in-memory parallel corpus ------------------------------------------ */

typedef struct nt_corpus {
    int n;               /* number of pairs */
    int32_t *ids;        /* all token ids, pair after pair (no specials) */
    int64_t *src_off;    /* (n) offset of source i's ids in `ids` */
    int64_t *tgt_off;    /* (n) offset of target i's ids */
    int *src_len;        /* (n) number of source ids */
    int *tgt_len;        /* (n) number of target ids */
    char **src_text;     /* (n) raw source strings (owned) */
    char **tgt_text;     /* (n) raw target strings (owned; exact-match reference) */
    int *line;           /* (n) 1-based line of pair i in `path` */
    char *path;          /* file the pairs came from ("<memory>" otherwise) */
    int64_t n_unk;       /* ids that are <unk> (symbols not in the vocabulary) */
} nt_corpus;

/* Encodes every pair of a TSV reader result with vocab v (unknown symbols
 * become <unk>, counted in n_unk). NT_ERR_ARG for NULL arguments,
 * NT_ERR_FORMAT (naming file and line) if a text cannot be encoded,
 * NT_ERR_NOMEM; *out = NULL on error. */
nt_status nt_corpus_from_tsv(nt_corpus **out, const nt_tsv *t, const nt_vocab *v);

/* The same from n parallel string arrays (line i+1, path "<memory>"). */
nt_status nt_corpus_from_pairs(nt_corpus **out, const char *const *src, const char *const *tgt,
                               int n, const nt_vocab *v);

void nt_corpus_free(nt_corpus *c); /* NULL is a no-op */

#endif
