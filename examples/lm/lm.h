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

#include "data/tokenizer.h"
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

#endif
