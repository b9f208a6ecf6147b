/* lm.h - what the nextok-lm subcommands share: reading and tokenizing text
 * (untrusted: every problem is reported with its file, line and column),
 * model presets, and the sampler (the generation loop of a decoder-only
 * language model, with a KV cache, streaming one token at a time).
 *
 *     lm_text t;
 *     if (lm_text_read(&t, "input.txt") != NT_OK) ... nt_errmsg() names the file and line
 *     int32_t *ids; int64_t n;
 *     lm_text_encode(&t, vocab, &ids, &n);    // error if a character is not in the vocabulary
 *
 *     lm_sampler s;
 *     lm_sampler_open(&s, model, 1, model->cfg.max_len, NT_PREC_F32); // use_cache 1, keep T
 *     float *logits = ...;                                     // (V)
 *     lm_sampler_logits(&s, seq, n, logits);                   // next-token logits of seq
 *     lm_sampler_close(&s);
 */
#ifndef NT_LM_H
#define NT_LM_H

#include <stdint.h>

#include <stdio.h>

#include "data/tokenizer.h"
#include "data/vocab.h"
#include "nn/infer.h"
#include "nn/model.h"

/* ---- text --------------------------------------------------------------------- */

typedef struct lm_text {
    char *bytes;       /* NUL-terminated, valid UTF-8, no NUL inside */
    size_t len;        /* bytes */
    const char *path;  /* for messages (borrowed) */
} lm_text;

/* Reads a whole file. NT_ERR_IO if it cannot be read; NT_ERR_FORMAT naming
 * the file (and line and column) if it is empty, holds a NUL byte or is not
 * UTF-8. *t zeroed on error. */
nt_status lm_text_read(lm_text *t, const char *path);
/* The same checks on text given on the command line (what names it). */
nt_status lm_text_from_string(lm_text *t, const char *what, const char *s, int allow_empty);
void lm_text_free(lm_text *t);

/* The ids of the text under vocab (no specials). NT_ERR_FORMAT if a
 * character is not in the vocabulary ("prompt: line 1, column 7: 'Z'
 * (U+005A) is not in the model's vocabulary of 65 characters"). *ids from
 * nt_malloc (the caller frees it); untouched on error. */
nt_status lm_text_encode(const lm_text *t, const nt_vocab *vocab, int32_t **ids, int64_t *n);

/* Unicode code points of a token string (1 for every char-tokenizer token). */
int lm_utf8_count(const char *s);

/* ---- tokenizers: char and spm --------------------------------------------------
 * char: one token per code point; the vocabulary is every character of the
 * whole file (as nanoGPT's). spm: SentencePiece subwords learned from the
 * training part of the text only, in raw-text mode (data/spm.h raw_text:
 * identity normalization, every space kept, "\n" a piece of its own, byte
 * fallback), so decode(encode(text)) == text byte for byte. Its model is
 * stored in the checkpoint (/vocab/spm_model). */

/* The split of a text of n code points under --valid-fraction X: the first
 * floor(n * (1 - X)) code points train, the rest validate (nanoGPT's
 * data[:int(n * 0.9)] for characters). *cut = the byte offset of the first
 * validation character (t->len when X is 0). */
void lm_text_split(const lm_text *t, double valid_fraction, size_t *cut, int64_t *chars);

/* The options of an spm tokenizer for nextok-lm (raw_text on, seeded). */
typedef struct lm_spm_config {
    int vocab_size;   /* pieces, specials and 256 bytes included */
    nt_spm_type type;
    unsigned seed;
} lm_spm_config;

/* The vocabulary of a new run: char over the whole text, spm learned from
 * t->bytes[0 .. cut) (sp: its options; NULL for char). Errors name the text
 * and, for spm, SentencePiece's reason (a vocabulary larger than the text
 * supports, ...). *v = NULL on error. */
nt_status lm_vocab_build(nt_vocab **v, nt_tokenizer_kind kind, const lm_text *t, size_t cut,
                         const lm_spm_config *sp);

/* The ids of the whole text, the training part t->bytes[0 .. cut) and the
 * validation part encoded separately (no token spans the cut), one after the
 * other: ids[0 .. *n_train) train, ids[*n_train .. *n) validate. Errors as
 * lm_text_encode. */
nt_status lm_text_encode_split(const lm_text *t, const nt_vocab *v, size_t cut, int32_t **ids, int64_t *n,
                               int64_t *n_train);

/* What each token id stands for in the text: its bytes (a char token's
 * character; an spm piece with "▁" as a space; a byte piece <0xE2> the one
 * byte; the specials nothing) and the characters it covers: the UTF-8 lead
 * bytes among them, so a character spelled as several byte pieces counts
 * once (at its first byte) and the counts of a text's tokens add up to its
 * code points. */
typedef struct lm_tokens {
    int V;
    char **text;   /* (V) NUL-terminated (a byte piece <0x00> is the empty string's NUL: see len) */
    int *len;      /* (V) bytes */
    int *chars;    /* (V) code points covered */
} lm_tokens;
nt_status lm_tokens_new(lm_tokens *t, const nt_vocab *v);
void lm_tokens_free(lm_tokens *t);

/* Writes tokens' text to f as it is generated, one token at a time (flushed),
 * holding back the bytes of a character not yet complete (a byte-fallback
 * piece may end mid-sequence), so only whole, valid UTF-8 is ever printed;
 * bytes that cannot form a character become U+FFFD. */
typedef struct lm_writer {
    FILE *f;
    const lm_tokens *tok;
    unsigned char pend[4];
    int npend, need;
} lm_writer;
void lm_writer_start(lm_writer *w, FILE *f, const lm_tokens *tok);
void lm_writer_token(lm_writer *w, int32_t id);
void lm_writer_bytes(lm_writer *w, const char *bytes, size_t n);
/* A character left incomplete at the end becomes U+FFFD; flushes. */
void lm_writer_end(lm_writer *w);

/* ---- losses per character ------------------------------------------------------
 * The loss nextok-lm reports for validation and evaluation is per character:
 * the total cross-entropy (nats) of the predicted tokens divided by the
 * characters (code points) they cover (lm_tokens.chars of the labels). For
 * the char tokenizer that is the mean per token. lm_perchar_net wraps a
 * model for the trainer: in training mode its loss() is the model's (per
 * token, what the gradient follows); in evaluation mode (ctx not training)
 * it returns the per-character loss and the characters as the count, so the
 * trainer's token-weighted mean over the validation batches is total nats /
 * total characters. (Its token_acc is then right tokens per character.) */
typedef struct lm_perchar_net {
    nt_net base;        /* first: the trainer's net */
    nt_net_ops ops;
    nt_net *inner;      /* borrowed */
    const int *chars;   /* (V) borrowed: lm_tokens.chars */
} lm_perchar_net;
void lm_perchar_net_init(lm_perchar_net *w, nt_net *inner, const int *chars);
/* Characters covered by the labels of a batch (labels 0 cover none). */
int64_t lm_batch_chars(const nt_batch *b, const int *chars);

/* ---- presets -------------------------------------------------------------------- */

typedef struct lm_preset {
    const char *name;
    int layers, heads, d_model, block_size, batch_size;
    const char *help;
} lm_preset;

extern const lm_preset LM_PRESETS[];
extern const int LM_N_PRESETS;
/* The preset called name, or NULL. */
const lm_preset *lm_preset_find(const char *name);

/* ---- sampling ------------------------------------------------------------------- */

/* The generation loop's model side for one sequence. The context window:
 * the model reads at most T = max_len tokens. While the text is shorter the
 * KV cache grows by one token per step; when it would overflow, the window
 * restarts at the last `keep` tokens (1 <= keep <= T) and the cache is
 * rebuilt from them (crop and recompute: learned absolute positions rule out
 * a sliding cache). keep = T (the default) recomputes every step once the
 * text is longer than T, so every token sees exactly the last T tokens, as
 * in training and nanoGPT's sampler; a smaller keep recomputes every
 * T - keep + 1 steps, faster, with a context between keep and T tokens.
 * use_cache 0 reruns the full forward on the same window every step (the
 * reference the cached path must match). */
typedef struct lm_sampler {
    nt_model *m;
    nt_ctx *ctx;
    nt_infer *inf;        /* the cached path: nt_generate's decoder (nn/infer.h); NULL without cache */
    int *rows, rows_n;    /* row ids of a fed window (all 0) */
    int use_cache, T, keep, V, bf16;
    int64_t start;        /* index in the sequence of the window's first token */
    int64_t cached;       /* tokens of the sequence in the cache (from start) */
    int recomputes;       /* window restarts so far (for tests and --verbose) */
} lm_sampler;

/* A sampler of model m (decoder-only; NT_ERR_ARG otherwise, or for keep
 * outside [1, T]). Owns a ctx and, with use_cache, a decoder with its KV
 * cache. prec NT_PREC_BF16: the cached path reads bf16 copies of the
 * weights, and the uncached path runs the graph in bf16 precision. */
nt_status lm_sampler_open(lm_sampler *s, nt_model *m, int use_cache, int keep, nt_precision prec);
void lm_sampler_close(lm_sampler *s);
/* Forgets the sequence (a new sample starts). */
void lm_sampler_reset(lm_sampler *s);
/* logits (V) of the token after seq[0 .. n) (n >= 1). The sequence must
 * extend the one of the previous call by exactly one token, or the sampler
 * must have been reset (any other sequence: NT_ERR_STATE). */
nt_status lm_sampler_logits(lm_sampler *s, const int32_t *seq, int64_t n, float *logits);

#endif
