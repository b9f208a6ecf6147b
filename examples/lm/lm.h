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

#include "data/tokenizer.h"
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
