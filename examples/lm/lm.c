/* lm.c - shared parts of nextok-lm: text checks and tokenizing, presets. */
#include "lm.h"

#include <errno.h>
#include <string.h>

#include "core/alloc.h"
#include "data/tsv.h" /* nt_utf8_valid */

/* ---- text --------------------------------------------------------------------- */

/* 1-based line and column (in code points) of byte offset `at`. */
static void line_col(const char *s, size_t at, long *line, long *col) {
    *line = 1, *col = 1;
    for (size_t i = 0; i < at; i++) {
        if (s[i] == '\n') ++*line, *col = 1;
        else if (((unsigned char)s[i] & 0xC0) != 0x80) ++*col;
    }
}

static nt_status text_check(const char *what, const char *s, size_t len, int allow_empty) {
    if (len == 0 && !allow_empty) return nt_error(NT_ERR_FORMAT, "%s is empty", what);
    const char *nul = memchr(s, 0, len);
    long line, col;
    if (nul) {
        line_col(s, (size_t)(nul - s), &line, &col);
        return nt_error(NT_ERR_FORMAT, "%s: line %ld, column %ld: a NUL byte (not text)", what, line, col);
    }
    size_t bad;
    if (!nt_utf8_valid(s, len, &bad)) {
        line_col(s, bad, &line, &col);
        return nt_error(NT_ERR_FORMAT, "%s: line %ld, column %ld (byte %zu): invalid UTF-8 (byte 0x%02X)", what,
                        line, col, bad + 1, (unsigned char)s[bad]);
    }
    return NT_OK;
}

nt_status lm_text_read(lm_text *t, const char *path) {
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "rb");
    if (!f) return nt_error(NT_ERR_IO, "cannot open %s (%s)", path, strerror(errno));
    size_t cap = 1 << 16, len = 0;
    char *buf = nt_malloc(cap);
    nt_status s = buf ? NT_OK : nt_error(NT_ERR_NOMEM, "out of memory reading %s", path);
    while (s == NT_OK) {
        if (len + 1 >= cap) {
            char *nb = cap < ((size_t)1 << 40) ? nt_realloc(buf, cap * 2) : NULL;
            if (!nb) {
                s = nt_error(NT_ERR_NOMEM, "out of memory reading %s (%zu bytes so far)", path, len);
                break;
            }
            buf = nb, cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - 1 - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) s = nt_error(NT_ERR_IO, "cannot read %s (%s)", path, strerror(errno));
            break;
        }
    }
    fclose(f);
    if (s == NT_OK) {
        buf[len] = 0;
        s = text_check(path, buf, len, 0);
    }
    if (s != NT_OK) {
        nt_free(buf);
        return s;
    }
    t->bytes = buf, t->len = len, t->path = path;
    return NT_OK;
}

nt_status lm_text_from_string(lm_text *t, const char *what, const char *s, int allow_empty) {
    memset(t, 0, sizeof *t);
    size_t len = strlen(s);
    NT_TRY(text_check(what, s, len, allow_empty));
    t->bytes = nt_malloc(len + 1);
    if (!t->bytes) return nt_error(NT_ERR_NOMEM, "out of memory");
    memcpy(t->bytes, s, len + 1);
    t->len = len, t->path = what;
    return NT_OK;
}

void lm_text_free(lm_text *t) {
    if (!t) return;
    nt_free(t->bytes);
    memset(t, 0, sizeof *t);
}

int lm_utf8_count(const char *s) {
    int n = 0;
    for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* The character at byte offset i as a printable quote ("'Z'", "'\n'"). */
static void quote_char(char *out, size_t cap, const char *s, size_t i, unsigned *cp) {
    const unsigned char *u = (const unsigned char *)s + i;
    int k = u[0] < 0x80 ? 1 : u[0] < 0xE0 ? 2 : u[0] < 0xF0 ? 3 : 4;
    unsigned c = k == 1 ? u[0] : u[0] & (0x7F >> k);
    for (int j = 1; j < k; j++) c = (c << 6) | (u[j] & 0x3F);
    *cp = c;
    if (c == '\n') snprintf(out, cap, "'\\n'");
    else if (c == '\t') snprintf(out, cap, "'\\t'");
    else if (c == '\r') snprintf(out, cap, "'\\r'");
    else if (c < 0x20 || c == 0x7F) snprintf(out, cap, "a control character");
    else snprintf(out, cap, "'%.*s'", k, (const char *)u);
}

nt_status lm_text_encode(const lm_text *t, const nt_vocab *vocab, int32_t **ids, int64_t *n) {
    if (t->len > 0x7ffffff0u)
        return nt_error(NT_ERR_ARG, "%s: %zu bytes is more text than this tool reads (2 GB)", t->path, t->len);
    int cnt = 0;
    NT_TRY(nt_vocab_encode(vocab, t->bytes, NULL, 0, &cnt));
    int32_t *out = nt_malloc((size_t)(cnt > 0 ? cnt : 1) * sizeof *out);
    if (!out) return nt_error(NT_ERR_NOMEM, "out of memory for %d tokens of %s", cnt, t->path);
    nt_status s = nt_vocab_encode(vocab, t->bytes, out, cnt, &cnt);
    if (s != NT_OK) {
        nt_free(out);
        return nt_error_wrap(s, "%s", t->path);
    }
    for (int k = 0; k < cnt; k++) {
        if (out[k] != NT_TOK_UNK) continue;
        /* char tokenizer: token k is code point k of the text */
        size_t i = 0;
        for (int c = 0; c < k && i < t->len; c++) {
            i++;
            while (i < t->len && ((unsigned char)t->bytes[i] & 0xC0) == 0x80) i++;
        }
        long line, col;
        line_col(t->bytes, i, &line, &col);
        char q[32];
        unsigned cp;
        quote_char(q, sizeof q, t->bytes, i, &cp);
        int unknown = 0;
        for (int j = k; j < cnt; j++) unknown += out[j] == NT_TOK_UNK;
        nt_free(out);
        return nt_error(NT_ERR_FORMAT,
                        "%s: line %ld, column %ld: %s (U+%04X) is not in the model's vocabulary of %d "
                        "characters (%d such character%s in all)",
                        t->path, line, col, q, cp, nt_vocab_size(vocab) - NT_TOK_N_SPECIAL, unknown,
                        unknown == 1 ? "" : "s");
    }
    *ids = out, *n = cnt;
    return NT_OK;
}

/* ---- presets -------------------------------------------------------------------- */

const lm_preset LM_PRESETS[] = {
    {"test", 2, 4, 64, 32, 16, "2 layers x 64, 4 heads, context 32, batch 16 (for tests)"},
    {"nanogpt-cpu", 4, 4, 128, 64, 12, "nanoGPT's CPU recipe: 4 layers x 128, 4 heads, context 64, batch 12"},
    {"10min", 6, 4, 128, 128, 16, "the 10-minute recipe: 6 layers x 128, 4 heads, context 128, batch 16"},
    {"60min", 6, 6, 192, 256, 16, "for an hour: 6 layers x 192, 6 heads, context 256, batch 16"},
    {"gpu", 6, 6, 384, 256, 64, "nanoGPT's GPU recipe: 6 layers x 384, 6 heads, context 256, batch 64"},
};
const int LM_N_PRESETS = (int)(sizeof LM_PRESETS / sizeof *LM_PRESETS);

const lm_preset *lm_preset_find(const char *name) {
    for (int i = 0; i < LM_N_PRESETS; i++)
        if (strcmp(LM_PRESETS[i].name, name) == 0) return &LM_PRESETS[i];
    return NULL;
}
