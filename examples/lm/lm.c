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

/* ---- tokenizers: char and spm ---------------------------------------------------- */

void lm_text_split(const lm_text *t, double valid_fraction, size_t *cut, int64_t *chars) {
    int64_t n = 0;
    for (size_t i = 0; i < t->len; i++) n += ((unsigned char)t->bytes[i] & 0xC0) != 0x80;
    *chars = n;
    int64_t keep = valid_fraction > 0 ? (int64_t)((double)n * (1.0 - valid_fraction)) : n;
    size_t i = 0;
    for (int64_t c = 0; c < keep && i < t->len; c++) {
        i++;
        while (i < t->len && ((unsigned char)t->bytes[i] & 0xC0) == 0x80) i++;
    }
    *cut = i;
}

nt_status lm_vocab_build(nt_vocab **v, nt_tokenizer_kind kind, const lm_text *t, size_t cut,
                         const lm_spm_config *sp) {
    *v = NULL;
    if (kind == NT_TOKENIZER_CHAR) {
        const char *texts[1] = {t->bytes};
        return nt_vocab_build(v, NT_TOKENIZER_CHAR, texts, 1, 1);
    }
    if (kind != NT_TOKENIZER_SPM || !sp)
        return nt_error(NT_ERR_ARG, "tokenizer %s: nextok-lm takes char or spm", nt_tokenizer_kind_name(kind));
    /* the lines of the training part, without their newlines ("\n" is a piece of its own) */
    char *copy = nt_malloc(cut + 1);
    int n_lines = 0;
    for (size_t i = 0; i < cut; i++) n_lines += t->bytes[i] == '\n';
    const char **lines = copy ? nt_malloc((size_t)(n_lines + 1) * sizeof *lines) : NULL;
    if (!lines) {
        nt_free(copy);
        return nt_error(NT_ERR_NOMEM, "out of memory for the lines of %s", t->path);
    }
    memcpy(copy, t->bytes, cut);
    copy[cut] = 0;
    int n = 0;
    for (char *p = copy, *end = copy + cut; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl) *nl = 0;
        if (*p) lines[n++] = p; /* empty lines teach nothing */
        p = nl ? nl + 1 : end;
    }
    nt_status s;
    if (n == 0) {
        s = nt_error(NT_ERR_FORMAT, "%s: the training part of the text has no characters but newlines", t->path);
    } else {
        nt_spm_options o;
        nt_spm_options_default(&o);
        o.raw_text = 1;
        o.type = sp->type;
        o.vocab_size = sp->vocab_size;
        o.seed = sp->seed;
        o.threads = 1; /* deterministic */
        s = nt_vocab_build_spm(v, &o, lines, n);
        if (s != NT_OK)
            s = nt_error_wrap(s, "%s: learning a SentencePiece %s vocabulary of %d pieces from the training part "
                              "(%d lines, %zu bytes)", t->path, nt_spm_type_name(sp->type), sp->vocab_size, n, cut);
    }
    nt_free(lines);
    nt_free(copy);
    return s;
}

/* The ids of t->bytes[from .. to) appended at ids + *n (cap tokens in all). A
 * SentencePiece encoding runs over chunks ending at a newline (a piece of its
 * own, so no piece spans one: the ids are those of the whole range). */
static nt_status encode_part(const lm_text *t, const nt_vocab *v, size_t from, size_t to, int32_t **ids,
                             int64_t *n, int64_t *cap) {
    const size_t chunk = nt_vocab_kind(v) == NT_TOKENIZER_SPM ? 1 << 16 : (size_t)-1;
    char *b = t->bytes;
    for (size_t i = from; i < to;) {
        size_t j = to;
        if (to - i > chunk) {
            char *nl = memchr(b + i + chunk, '\n', to - i - chunk);
            j = nl ? (size_t)(nl - b) + 1 : to;
        }
        char saved = b[j];
        b[j] = 0; /* the text is ours to cut (restored below) */
        int cnt = 0;
        nt_status s = nt_vocab_encode(v, b + i, NULL, 0, &cnt);
        if (s == NT_OK && *n + cnt > *cap) {
            int64_t nc = (*cap + cnt) * 2;
            int32_t *r = nt_realloc(*ids, (size_t)nc * sizeof *r);
            if (!r) s = nt_error(NT_ERR_NOMEM, "out of memory for %lld tokens of %s", (long long)nc, t->path);
            else *ids = r, *cap = nc;
        }
        if (s == NT_OK) s = nt_vocab_encode(v, b + i, *ids + *n, cnt, &cnt);
        b[j] = saved;
        if (s != NT_OK) return nt_error_wrap(s, "%s", t->path);
        *n += cnt;
        i = j;
    }
    return NT_OK;
}

nt_status lm_text_encode_split(const lm_text *t, const nt_vocab *v, size_t cut, int32_t **ids, int64_t *n,
                               int64_t *n_train) {
    if (nt_vocab_kind(v) != NT_TOKENIZER_SPM) {
        /* char: one token per code point, so the split of the ids is that of the characters */
        NT_TRY(lm_text_encode(t, v, ids, n));
        int64_t c = 0;
        for (size_t i = 0; i < cut; i++) c += ((unsigned char)t->bytes[i] & 0xC0) != 0x80;
        *n_train = c;
        return NT_OK;
    }
    if (t->len > 0x7ffffff0u)
        return nt_error(NT_ERR_ARG, "%s: %zu bytes is more text than this tool reads (2 GB)", t->path, t->len);
    int32_t *out = NULL;
    int64_t cnt = 0, cap = 0;
    nt_status s = encode_part(t, v, 0, cut, &out, &cnt, &cap);
    int64_t nt = cnt;
    if (s == NT_OK) s = encode_part(t, v, cut, t->len, &out, &cnt, &cap);
    for (int64_t k = 0; s == NT_OK && k < cnt; k++)
        if (out[k] == NT_TOK_UNK)
            s = nt_error(NT_ERR_FORMAT, "%s: token %lld is <unk>: the SentencePiece model has no byte fallback",
                         t->path, (long long)k);
    if (s != NT_OK) {
        nt_free(out);
        return s;
    }
    *ids = out, *n = cnt, *n_train = nt;
    return NT_OK;
}

/* The value of a byte piece "<0xE2>", or -1. */
static int byte_piece(const char *p) {
    unsigned v;
    char end;
    if (strlen(p) != 6 || strncmp(p, "<0x", 3) != 0 || p[5] != '>') return -1;
    if (sscanf(p + 3, "%2X%c", &v, &end) != 2 || end != '>') return -1;
    return (int)v;
}

nt_status lm_tokens_new(lm_tokens *t, const nt_vocab *v) {
    memset(t, 0, sizeof *t);
    int V = nt_vocab_size(v);
    const nt_spm *sp = nt_vocab_spm(v);
    t->V = V;
    t->text = nt_calloc((size_t)V, sizeof *t->text);
    t->len = nt_calloc((size_t)V, sizeof *t->len);
    t->chars = nt_calloc((size_t)V, sizeof *t->chars);
    if (!t->text || !t->len || !t->chars) goto nomem;
    static const char space[] = "\xE2\x96\x81"; /* ▁ */
    for (int id = 0; id < V; id++) {
        const char *tok = nt_vocab_token(v, id);
        size_t n = tok ? strlen(tok) : 0;
        if (!(t->text[id] = nt_malloc(n + 1))) goto nomem;
        t->text[id][0] = 0;
        if (id < NT_TOK_N_SPECIAL || !tok) continue;
        if (!sp) {
            memcpy(t->text[id], tok, n + 1);
            t->len[id] = (int)n;
        } else {
            int sid = nt_spm_piece_id(sp, tok);
            nt_spm_piece_kind k = sid >= 0 ? nt_spm_piece_kind_of(sp, sid) : NT_SPM_NORMAL;
            int byte = k == NT_SPM_BYTE ? byte_piece(tok) : -1;
            if (byte >= 0) {
                t->text[id][0] = (char)byte;
                t->len[id] = 1;
            } else if (k == NT_SPM_NORMAL || k == NT_SPM_USER_DEFINED) {
                size_t o = 0;
                for (size_t i = 0; i < n;) {
                    if (strncmp(tok + i, space, 3) == 0) t->text[id][o++] = ' ', i += 3;
                    else t->text[id][o++] = tok[i++];
                }
                t->text[id][o] = 0;
                t->len[id] = (int)o;
            } /* control, unknown, unused: no text */
        }
        for (int i = 0; i < t->len[id]; i++) t->chars[id] += ((unsigned char)t->text[id][i] & 0xC0) != 0x80;
    }
    return NT_OK;
nomem:
    lm_tokens_free(t);
    return nt_error(NT_ERR_NOMEM, "out of memory for the text of %d tokens", V);
}

void lm_tokens_free(lm_tokens *t) {
    if (!t) return;
    for (int id = 0; t->text && id < t->V; id++) nt_free(t->text[id]);
    nt_free(t->text);
    nt_free(t->len);
    nt_free(t->chars);
    memset(t, 0, sizeof *t);
}

void lm_writer_start(lm_writer *w, FILE *f, const lm_tokens *tok) {
    memset(w, 0, sizeof *w);
    w->f = f, w->tok = tok;
}

static void put_replacement(lm_writer *w) { fputs("\xEF\xBF\xBD", w->f); }

void lm_writer_bytes(lm_writer *w, const char *bytes, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)bytes[i];
        if (w->npend > 0) {
            if ((c & 0xC0) == 0x80) {
                w->pend[w->npend++] = c;
                if (w->npend == w->need) {
                    size_t bad;
                    if (nt_utf8_valid((const char *)w->pend, (size_t)w->npend, &bad)) fwrite(w->pend, 1, (size_t)w->npend, w->f);
                    else put_replacement(w); /* overlong or a surrogate */
                    w->npend = 0;
                }
                continue;
            }
            put_replacement(w); /* a character cut short */
            w->npend = 0;
        }
        if (c < 0x80) fputc(c, w->f);
        else if (c >= 0xC2 && c <= 0xF4) w->pend[0] = c, w->npend = 1, w->need = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        else put_replacement(w); /* a stray continuation byte or a byte UTF-8 never uses */
    }
}

void lm_writer_token(lm_writer *w, int32_t id) {
    if (id >= 0 && id < w->tok->V) lm_writer_bytes(w, w->tok->text[id], (size_t)w->tok->len[id]);
    fflush(w->f);
}

void lm_writer_end(lm_writer *w) {
    if (w->npend > 0) put_replacement(w);
    w->npend = 0;
    fflush(w->f);
}

/* ---- losses per character -------------------------------------------------------- */

int64_t lm_batch_chars(const nt_batch *b, const int *chars) {
    int64_t c = 0;
    for (int64_t i = 0; i < (int64_t)b->B * b->T; i++) c += chars[b->labels[i]];
    return c;
}

static nt_status perchar_loss(nt_net *net, nt_ctx *ctx, const nt_batch *b, float label_smoothing,
                              nt_tensor **loss, nt_tensor **logits, int64_t *n_tokens) {
    lm_perchar_net *w = (lm_perchar_net *)net;
    NT_TRY(w->inner->ops->loss(w->inner, ctx, b, label_smoothing, loss, logits, n_tokens));
    if (nt_ctx_training(ctx)) return NT_OK;
    /* evaluation: nats / characters, weighted by the characters */
    int64_t c = lm_batch_chars(b, w->chars);
    if (c > 0 && c != *n_tokens) { /* (equal for characters: the loss stays bit for bit the model's) */
        nt_f32(*loss)[0] = (float)((double)nt_f32(*loss)[0] * (double)*n_tokens / (double)c);
        *n_tokens = c;
    }
    return NT_OK;
}

static nt_status perchar_config(const nt_net *net, nt_attrs *out) {
    const lm_perchar_net *w = (const lm_perchar_net *)net;
    return w->inner->ops->config(w->inner, out);
}

static void perchar_set_dropout(nt_net *net, float p) {
    lm_perchar_net *w = (lm_perchar_net *)net;
    if (w->inner->ops->set_dropout) w->inner->ops->set_dropout(w->inner, p);
}

static void perchar_free(nt_net *net) { (void)net; /* the inner model is the caller's */ }

void lm_perchar_net_init(lm_perchar_net *w, nt_net *inner, const int *chars) {
    memset(w, 0, sizeof *w);
    w->inner = inner, w->chars = chars;
    w->ops.arch = inner->ops->arch;
    w->ops.loss = perchar_loss;
    w->ops.config = perchar_config;
    w->ops.free = perchar_free;
    w->ops.set_dropout = perchar_set_dropout;
    w->base = *inner;
    w->base.ops = &w->ops;
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
