/* vocab.h - the vocabulary: token strings <-> ids for the char, word and
 * spm tokenizers (data/tokenizer.h splits text; data/spm.h is the
 * SentencePiece shim). Its HDF5 form (/vocab in a checkpoint) is
 * train/vocab_h5.h.
 *
 * Token ids 0..4 are the specials (core/tokens.h, DESIGN.md), then the
 * vocabulary built from training text, most frequent first (ties in byte
 * order):
 *
 *     const char *texts[] = {"vingt et un", "quatre-vingts"};
 *     nt_vocab *v;
 *     nt_vocab_build(&v, NT_TOKENIZER_CHAR, texts, 2, 1);  // min_freq 1
 *     int32_t ids[64]; int n;
 *     nt_vocab_encode(v, "vingt", ids, 64, &n);            // 5 ids, no specials
 *     char out[64];
 *     nt_vocab_decode(v, ids, n, out, sizeof out);         // "vingt"
 *     nt_vocab_free(v);
 *
 * spm: a SentencePiece model does the splitting; the vocabulary is the
 * model's pieces. Id layout: nextok's specials keep ids 0..4, and
 * SentencePiece's own ids are mapped around them: its unk/bos/eos/pad ids
 * go to <unk> <bos> <eos> <pad>, a control piece "<sep>" to <sep>, and every
 * other piece keeps SentencePiece's order from id 5 on. A model trained by
 * nt_vocab_build_spm already has its specials at 0..4 (data/spm.h), so
 * there the map is the identity: checkpoint ids == SentencePiece ids, and
 * Python's sp.encode() on the exported model gives the same numbers.
 * Byte fallback spells characters outside the pieces as UTF-8 bytes, so an
 * spm vocabulary never produces <unk>.
 */
#ifndef NT_DATA_VOCAB_H
#define NT_DATA_VOCAB_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "core/strset.h"
#include "core/tokens.h" /* NT_TOK_PAD .. NT_TOK_SEP, NT_TOK_N_SPECIAL */
#include "data/spm.h"

typedef enum nt_tokenizer_kind {
    NT_TOKENIZER_CHAR = 0, /* Unicode code points */
    NT_TOKENIZER_WORD = 1, /* words with the ▁ convention */
    NT_TOKENIZER_SPM = 2,  /* SentencePiece subwords (a model in the vocabulary) */
} nt_tokenizer_kind;

/* "char" | "word" | "spm"; NULL for an out-of-range value. */
const char *nt_tokenizer_kind_name(nt_tokenizer_kind k);
/* NT_ERR_ARG naming the bad name; *out unchanged on error. */
nt_status nt_tokenizer_kind_parse(const char *name, nt_tokenizer_kind *out);

typedef struct nt_vocab nt_vocab; /* opaque */

/* Builds a vocabulary from n training texts: specials, then every token seen
 * at least min_freq times (min_freq >= 1). A word vocabulary splits digits
 * (nt_vocab_split_digits is 1). NT_ERR_ARG for bad arguments,
 * NT_ERR_FORMAT naming the text index for invalid UTF-8, NT_ERR_NOMEM;
 * *out = NULL on error. */
nt_status nt_vocab_build(nt_vocab **out, nt_tokenizer_kind kind, const char *const *texts, int n,
                         int min_freq);

/* An spm vocabulary: trains a SentencePiece model on the n texts with
 * options o (nt_spm_train) and wraps it (nt_vocab_from_spm). Errors as
 * nt_spm_train; *out = NULL on error. */
nt_status nt_vocab_build_spm(nt_vocab **out, const nt_spm_options *o, const char *const *texts, int n);

/* An spm vocabulary over model m, taking ownership of m (freed on error
 * too). NT_ERR_FORMAT if the model has no unk piece or a piece repeats a
 * special's name (naming it). *out = NULL on error. */
nt_status nt_vocab_from_spm(nt_vocab **out, nt_spm *m);

/* The SentencePiece model of an spm vocabulary (owned by v; the target
 * model of separate ones), else NULL. */
const nt_spm *nt_vocab_spm(const nt_vocab *v);

/* Separate source and target SentencePiece models (train --tokenizer spm
 * without --spm-joint): one id space, which the model's one embedding
 * table covers. Ids 0..T-1 are the target model's, mapped as
 * nt_vocab_from_spm maps a joint model (T = nt_vocab_target_size(v); with
 * nextok's layout, target ids == the target model's SentencePiece ids),
 * then the source model's ordinary pieces in its order: with nextok's
 * layout, source SentencePiece id i >= 5 is id T - 5 + i. Its specials map
 * to 0..4 like the target's. Source text is encoded with
 * nt_vocab_encode_src, target text with nt_vocab_encode; decoding is the
 * target side's and drops source pieces like specials. nt_vocab_id and
 * nt_vocab_split are the target side's too. Takes ownership of both models
 * (freed on error too). NT_ERR_FORMAT if a model has no unk piece. */
nt_status nt_vocab_from_spm_pair(nt_vocab **out, nt_spm *src, nt_spm *tgt);

/* Trains both models with options o (each of o->vocab_size pieces), the
 * source model on src[0..n_src), the target model on tgt[0..n_tgt), and
 * wraps them (nt_vocab_from_spm_pair). Errors as nt_spm_train, prefixed
 * with "source side" or "target side"; *out = NULL on error. */
nt_status nt_vocab_build_spm_pair(nt_vocab **out, const nt_spm_options *o, const char *const *src, int n_src,
                                  const char *const *tgt, int n_tgt);

/* The source model of separate models (owned by v), else NULL: the
 * vocabulary is joint (or not spm) and nt_vocab_spm() serves both sides. */
const nt_spm *nt_vocab_spm_src(const nt_vocab *v);

/* The ids of the target side: nt_vocab_size(v) unless separate models. */
int nt_vocab_target_size(const nt_vocab *v);

/* nt_tokenizer_split with the vocabulary's tokenizer: for spm, the pieces
 * its model encodes text to. */
nt_status nt_vocab_split(const nt_vocab *v, const char *text,
                         void (*fn)(const char *piece, size_t len, void *user), void *user);

/* Adds every token of text, as v splits it (nt_vocab_split), to `set`, in
 * order of first appearance. Errors as nt_tokenizer_collect; NT_ERR_ARG for
 * a NULL v or set. */
nt_status nt_vocab_collect(const nt_vocab *v, const char *text, nt_strset *set);

/* Adds the tokens of text that v lacks (they would encode to <unk>) to
 * `set` (core/strset.h), in order of first appearance: what extending v to
 * text needs. Nothing for an spm vocabulary (byte fallback: nothing is
 * unknown). Errors as nt_tokenizer_collect; NT_ERR_ARG for a NULL v or set. */
nt_status nt_vocab_collect_unknown(const nt_vocab *v, const char *text, nt_strset *set);

/* A vocabulary from an explicit token list: tokens[0..4] must be the five
 * specials by name, the rest distinct. Word: DESIGN.md's rule, digit runs
 * whole (what a /vocab without the split_digits attribute means); set the
 * rule with nt_vocab_set_split_digits. NT_ERR_FORMAT naming the first bad
 * entry; *out = NULL on error. */
nt_status nt_vocab_from_tokens(nt_vocab **out, nt_tokenizer_kind kind, const char *const *tokens,
                               int n);

void nt_vocab_free(nt_vocab *v); /* NULL is a no-op */

int nt_vocab_size(const nt_vocab *v);                    /* specials included */
nt_tokenizer_kind nt_vocab_kind(const nt_vocab *v);
/* After a load without the attr; char <-> word only (spm needs a model:
 * a no-op for an spm vocabulary or k == NT_TOKENIZER_SPM). */
void nt_vocab_set_kind(nt_vocab *v, nt_tokenizer_kind k);
/* The word tokenizer's digit rule (data/tokenizer.h): 1 if every digit is a
 * token of its own (what nt_vocab_build makes), 0 if a digit run is part of
 * its word (DESIGN.md's rule, a checkpoint from before the extension).
 * Always 0 unless the kind is word. */
int nt_vocab_split_digits(const nt_vocab *v);
/* Sets the rule (after a load: the /vocab attribute split_digits); a no-op
 * for an spm vocabulary. Kept across nt_vocab_set_kind. */
void nt_vocab_set_split_digits(nt_vocab *v, int on);
/* The token string of id (NUL-terminated), NULL if id is out of range. */
const char *nt_vocab_token(const nt_vocab *v, int id);
/* The id of token string s, or -1 if s is not in the vocabulary. */
int nt_vocab_id(const nt_vocab *v, const char *s);

/* Encodes text to ids (no specials added; unknown tokens -> NT_TOK_UNK).
 * *n = the number of ids. With ids == NULL only counts. NT_ERR_ARG if the
 * count exceeds cap (ids unspecified), NT_ERR_FORMAT for invalid UTF-8. */
nt_status nt_vocab_encode(const nt_vocab *v, const char *text, int32_t *ids, int cap, int *n);

/* nt_vocab_encode for source text: with separate SentencePiece models the
 * source model's ids (mapped, see nt_vocab_from_spm_pair), else exactly
 * nt_vocab_encode. */
nt_status nt_vocab_encode_src(const nt_vocab *v, const char *text, int32_t *ids, int cap, int *n);

/* Decodes ids to text in buf (always NUL-terminated when cap > 0), skipping
 * the specials (<pad> <bos> <eos> <unk> <sep>). NT_ERR_ARG for an id out of
 * range or a buffer too small (the message gives the bytes needed). */
nt_status nt_vocab_decode(const nt_vocab *v, const int32_t *ids, int n, char *buf, size_t cap);

#endif
