/* lm.h - what the nextok-lm subcommands share: reading and tokenizing text
 * (untrusted: every problem is reported with its file, line and column),
 * and model presets. Sampling is nt_generate's (nn/generate.h; cmd_sample.c
 * streams it).
 *
 *     lm_text t;
 *     if (lm_text_read(&t, "input.txt") != NT_OK) ... nt_errmsg() names the file and line
 *     int32_t *ids; int64_t n;
 *     lm_text_encode(&t, vocab, &ids, &n);    // error if a character is not in the vocabulary
 */
#ifndef NT_LM_H
#define NT_LM_H

#include <stdint.h>

#include <stdio.h>

#include "data/tokenizer.h"
#include "data/vocab.h"
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

#endif
