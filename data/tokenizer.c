/* tokenizer.c - char, word and spm tokenizers and the vocabulary (data/tokenizer.h,
 * data/vocab.h); the vocabulary's HDF5 form is train/vocab_h5.c. */
#include "data/tokenizer.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/strset.h"
#include "data/utf8.h"

#define MARK "\xE2\x96\x81" /* U+2581 LOWER ONE EIGHTH BLOCK, SentencePiece's space mark */
#define MARK_LEN 3

static const char *special_names[NT_TOK_N_SPECIAL] = {"<pad>", "<bos>", "<eos>", "<unk>", "<sep>"};
static const char *kind_names[3] = {"char", "word", "spm"};

const char *nt_tokenizer_kind_name(nt_tokenizer_kind k) {
    return (unsigned)k < 3 ? kind_names[k] : NULL;
}

nt_status nt_tokenizer_kind_parse(const char *name, nt_tokenizer_kind *out) {
    if (!name || !out) return nt_error(NT_ERR_ARG, "nt_tokenizer_kind_parse: NULL argument");
    for (int k = 0; k < 3; k++)
        if (strcmp(name, kind_names[k]) == 0) { *out = (nt_tokenizer_kind)k; return NT_OK; }
    return nt_error(NT_ERR_ARG, "nt_tokenizer_kind_parse: unknown tokenizer \"%s\" (expected char, word or spm)",
                    name);
}

/* ---- splitting ---------------------------------------------------------------- */

/* A token is an optional ▁ marker followed by text[off, off + len). */
typedef void (*piece_fn)(int mark, const char *p, size_t len, void *user);

/* The bytes of the decimal digit at p (rem bytes left): 1 for an ASCII
 * digit, 2 for an Arabic-Indic one (U+0660..U+0669, UTF-8 D9 A0..D9 A9),
 * else 0. The digit scripts of the number task (data/number_corpus.h). */
static size_t digit_len(const char *p, size_t rem) {
    unsigned char c = (unsigned char)p[0];
    if (c >= '0' && c <= '9') return 1;
    if (c == 0xD9 && rem >= 2 && (unsigned char)p[1] >= 0xA0 && (unsigned char)p[1] <= 0xA9) return 2;
    return 0;
}

/* split_digits (word only): every digit is a token of its own, as
 * SentencePiece's split_digits option makes it: "123,456" -> ▁1 2 3 , 4 5 6.
 * Without it a digit run is part of its word (DESIGN.md's rule). */
static nt_status split(nt_tokenizer_kind k, int split_digits, const char *who, const char *text, piece_fn fn,
                       void *user) {
    size_t len = strlen(text), bad;
    if (!nt_utf8_valid(text, len, &bad))
        return nt_error(NT_ERR_FORMAT, "%s: invalid UTF-8 at byte %zu of \"%.40s\"", who, bad + 1, text);
    if (k == NT_TOKENIZER_CHAR) {
        for (size_t i = 0; i < len;) {
            uint32_t cp;
            size_t n = nt_utf8_decode(text + i, len - i, &cp); /* >= 1: the text is valid */
            fn(0, text + i, n, user);
            i += n;
        }
        return NT_OK;
    }
    const char *m = strstr(text, MARK);
    if (m)
        return nt_error(NT_ERR_FORMAT, "%s: text contains U+2581 (the word tokenizer's space mark) at byte %zu",
                        who, (size_t)(m - text) + 1);
    /* The text is read as " " + text: a space merges into the token after it
     * as ▁; a space followed by a space (or by the end) is a bare ▁. */
    int space = 1;
    size_t i = 0;
    while (i < len) {
        char c = text[i];
        if (c == ' ') {
            if (space) fn(1, text + i, 0, user);
            space = 1;
            i++;
            continue;
        }
        size_t d = split_digits ? digit_len(text + i, len - i) : 0, j = i + (d ? d : 1);
        /* a word runs to a space, '-', ',' or (split_digits) a digit; a
         * digit's lead byte is never inside another character's UTF-8 */
        if (!d && c != '-' && c != ',')
            while (j < len && text[j] != ' ' && text[j] != '-' && text[j] != ',' &&
                   !(split_digits && digit_len(text + j, len - j)))
                j++;
        fn(space, text + i, j - i, user);
        space = 0;
        i = j;
    }
    if (space && len > 0) fn(1, text + len, 0, user);
    return NT_OK;
}

typedef struct pub_ctx {
    void (*fn)(const char *, size_t, void *);
    void *user;
    char *buf;
    size_t cap;
    int nomem;
} pub_ctx;

static void pub_piece(int mark, const char *p, size_t len, void *user) {
    pub_ctx *c = user;
    if (!mark) { c->fn(p, len, c->user); return; }
    if (len + MARK_LEN + 1 > c->cap) {
        char *b = nt_realloc(c->buf, len + MARK_LEN + 1);
        if (!b) { c->nomem = 1; return; }
        c->buf = b;
        c->cap = len + MARK_LEN + 1;
    }
    memcpy(c->buf, MARK, MARK_LEN);
    memcpy(c->buf + MARK_LEN, p, len);
    c->buf[MARK_LEN + len] = 0;
    c->fn(c->buf, MARK_LEN + len, c->user);
}

/* nt_tokenizer_split with the digit rule given (nt_vocab_split passes its own). */
static nt_status split_pub(nt_tokenizer_kind k, int split_digits, const char *text,
                           void (*fn)(const char *piece, size_t len, void *user), void *user) {
    if (k == NT_TOKENIZER_SPM)
        return nt_error(NT_ERR_ARG, "nt_tokenizer_split: spm needs its model (nt_vocab_split)");
    if (!text || !fn || (unsigned)k > NT_TOKENIZER_WORD)
        return nt_error(NT_ERR_ARG, "nt_tokenizer_split: NULL argument or bad kind %d", (int)k);
    pub_ctx c = {fn, user, NULL, 0, 0};
    nt_status s = split(k, split_digits, "nt_tokenizer_split", text, pub_piece, &c);
    nt_free(c.buf);
    if (s == NT_OK && c.nomem) return nt_error(NT_ERR_NOMEM, "nt_tokenizer_split: out of memory");
    return s;
}

nt_status nt_tokenizer_split(nt_tokenizer_kind k, const char *text,
                             void (*fn)(const char *piece, size_t len, void *user), void *user) {
    return split_pub(k, 1, text, fn, user);
}

/* ---- a string -> int hash map (open addressing, FNV-1a) ------------------------ */

typedef struct strmap {
    char **key;   /* (cap) owned, NULL = empty slot */
    int *val;     /* (cap) */
    size_t cap, n;
} strmap;

static uint64_t hash_bytes(int mark, const char *p, size_t len) {
    uint64_t h = 1469598103934665603ULL;
    if (mark)
        for (int i = 0; i < MARK_LEN; i++) h = (h ^ (unsigned char)MARK[i]) * 1099511628211ULL;
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
    return h;
}

static int key_eq(const char *key, int mark, const char *p, size_t len) {
    if (mark) {
        if (strncmp(key, MARK, MARK_LEN) != 0) return 0;
        key += MARK_LEN;
    }
    return strncmp(key, p, len) == 0 && key[len] == 0;
}

/* The slot of (mark, p, len): its own if present, else the empty one to use. */
static size_t map_slot(const strmap *m, int mark, const char *p, size_t len) {
    size_t i = (size_t)hash_bytes(mark, p, len) & (m->cap - 1);
    while (m->key[i] && !key_eq(m->key[i], mark, p, len)) i = (i + 1) & (m->cap - 1);
    return i;
}

static int map_init(strmap *m, size_t cap) {
    m->cap = 16;
    while (m->cap < cap * 2) m->cap *= 2;
    m->n = 0;
    m->key = nt_calloc(m->cap, sizeof *m->key);
    m->val = nt_calloc(m->cap, sizeof *m->val);
    return m->key && m->val;
}

static void map_free(strmap *m, int free_keys) {
    if (free_keys && m->key)
        for (size_t i = 0; i < m->cap; i++) nt_free(m->key[i]);
    nt_free(m->key);
    nt_free(m->val);
    m->key = NULL;
    m->val = NULL;
}

/* Inserts key (taking ownership) with value v; the map must not hold it. */
static int map_put_owned(strmap *m, char *key, int v) {
    if ((m->n + 1) * 2 > m->cap) {
        strmap g;
        if (!map_init(&g, m->cap)) { map_free(&g, 0); return 0; }
        for (size_t i = 0; i < m->cap; i++)
            if (m->key[i]) {
                size_t j = map_slot(&g, 0, m->key[i], strlen(m->key[i]));
                g.key[j] = m->key[i];
                g.val[j] = m->val[i];
            }
        g.n = m->n;
        map_free(m, 0);
        *m = g;
    }
    size_t j = map_slot(m, 0, key, strlen(key));
    m->key[j] = key;
    m->val[j] = v;
    m->n++;
    return 1;
}

static char *dup_piece(int mark, const char *p, size_t len) {
    size_t ml = mark ? MARK_LEN : 0;
    char *s = nt_malloc(ml + len + 1);
    if (!s) return NULL;
    memcpy(s, MARK, ml);
    memcpy(s + ml, p, len);
    s[ml + len] = 0;
    return s;
}

/* ---- the vocabulary ----------------------------------------------------------------- */

struct nt_vocab {
    nt_tokenizer_kind kind;
    int split_digits; /* word: every digit a token (/vocab attribute split_digits) */
    int n;        /* tokens, specials included */
    char **tok;   /* (n) owned strings */
    strmap map;   /* token -> id (keys borrowed from tok) */
    nt_spm *spm;          /* spm: the model (owned), n == its size */
    int32_t *from_spm;    /* spm: (n) SentencePiece id -> nextok id */
    int32_t *to_spm;      /* spm: nextok id -> SentencePiece id (-1 for an absent special) */
    /* separate source model (nt_vocab_from_spm_pair): the target model's
     * pieces are ids 0..n_tgt-1, the source model's ordinary pieces follow */
    int n_tgt;            /* n unless separate */
    nt_spm *spm_src;      /* the source model (owned), NULL for a joint one */
    int32_t *from_src;    /* (its size) source SentencePiece id -> nextok id */
    int32_t *to_src;      /* (n - n_tgt) nextok id - n_tgt -> source SentencePiece id */
};

void nt_vocab_free(nt_vocab *v) {
    if (!v) return;
    if (v->tok)
        for (int i = 0; i < v->n; i++) nt_free(v->tok[i]);
    nt_free(v->tok);
    map_free(&v->map, 0);
    nt_spm_free(v->spm);
    nt_free(v->from_spm);
    nt_free(v->to_spm);
    nt_spm_free(v->spm_src);
    nt_free(v->from_src);
    nt_free(v->to_src);
    nt_free(v);
}

int nt_vocab_size(const nt_vocab *v) { return v ? v->n : 0; }
nt_tokenizer_kind nt_vocab_kind(const nt_vocab *v) { return v ? v->kind : NT_TOKENIZER_CHAR; }
void nt_vocab_set_kind(nt_vocab *v, nt_tokenizer_kind k) {
    if (v && !v->spm && (unsigned)k <= NT_TOKENIZER_WORD) v->kind = k;
}
int nt_vocab_split_digits(const nt_vocab *v) { return v && v->kind == NT_TOKENIZER_WORD ? v->split_digits : 0; }
void nt_vocab_set_split_digits(nt_vocab *v, int on) {
    if (v && !v->spm) v->split_digits = on != 0;
}

const nt_spm *nt_vocab_spm(const nt_vocab *v) { return v ? v->spm : NULL; }
const nt_spm *nt_vocab_spm_src(const nt_vocab *v) { return v ? v->spm_src : NULL; }
int nt_vocab_target_size(const nt_vocab *v) { return v ? v->n_tgt : 0; }

const char *nt_vocab_token(const nt_vocab *v, int id) {
    return v && id >= 0 && id < v->n ? v->tok[id] : NULL;
}

int nt_vocab_id(const nt_vocab *v, const char *s) {
    if (!v || !s) return -1;
    size_t j = map_slot(&v->map, 0, s, strlen(s));
    return v->map.key[j] ? v->map.val[j] : -1;
}

/* Takes ownership of tok[0..n) (freed on error too). Checks specials and
 * duplicates among tok[0..n_map), which the string map holds (a separate
 * source model's pieces, tok[n_map..n), may repeat target pieces). */
static nt_status vocab_make_map(nt_vocab **out, nt_tokenizer_kind kind, char **tok, int n, int n_map,
                                const char *who) {
    nt_vocab *v = nt_calloc(1, sizeof *v);
    if (!v) {
        for (int i = 0; i < n; i++) nt_free(tok[i]);
        nt_free(tok);
        return nt_error(NT_ERR_NOMEM, "%s: out of memory", who);
    }
    v->kind = kind;
    v->n = n;
    v->n_tgt = n_map;
    v->tok = tok;
    if (n < NT_TOK_N_SPECIAL) {
        nt_vocab_free(v);
        return nt_error(NT_ERR_FORMAT, "%s: %d tokens, expected at least the %d specials", who, n,
                        NT_TOK_N_SPECIAL);
    }
    for (int i = 0; i < NT_TOK_N_SPECIAL; i++)
        if (strcmp(tok[i], special_names[i]) != 0) {
            nt_status s = nt_error(NT_ERR_FORMAT, "%s: token %d is \"%.40s\", expected \"%s\"", who, i,
                                   tok[i], special_names[i]);
            nt_vocab_free(v);
            return s;
        }
    if (!map_init(&v->map, (size_t)n_map)) {
        nt_vocab_free(v);
        return nt_error(NT_ERR_NOMEM, "%s: out of memory", who);
    }
    for (int i = 0; i < n_map; i++) {
        size_t j = map_slot(&v->map, 0, tok[i], strlen(tok[i]));
        if (v->map.key[j]) {
            nt_status s = nt_error(NT_ERR_FORMAT, "%s: token %d \"%.40s\" repeats token %d", who, i,
                                   tok[i], v->map.val[j]);
            nt_vocab_free(v);
            return s;
        }
        v->map.key[j] = tok[i];
        v->map.val[j] = i;
        v->map.n++;
    }
    *out = v;
    return NT_OK;
}

static nt_status vocab_make(nt_vocab **out, nt_tokenizer_kind kind, char **tok, int n, const char *who) {
    return vocab_make_map(out, kind, tok, n, n, who);
}

nt_status nt_vocab_from_tokens(nt_vocab **out, nt_tokenizer_kind kind, const char *const *tokens, int n) {
    const char *who = "nt_vocab_from_tokens";
    if (!out) return nt_error(NT_ERR_ARG, "%s: NULL out", who);
    *out = NULL;
    if ((!tokens && n) || n < 0 || (unsigned)kind > NT_TOKENIZER_WORD)
        return nt_error(NT_ERR_ARG, "%s: bad arguments (n %d, kind %d)", who, n, (int)kind);
    char **tok = nt_calloc((size_t)(n ? n : 1), sizeof *tok);
    if (!tok) return nt_error(NT_ERR_NOMEM, "%s: out of memory", who);
    for (int i = 0; i < n; i++) {
        if (!tokens[i] || !(tok[i] = dup_piece(0, tokens[i], strlen(tokens[i])))) {
            for (int j = 0; j < i; j++) nt_free(tok[j]);
            nt_free(tok);
            return tokens[i] ? nt_error(NT_ERR_NOMEM, "%s: out of memory", who)
                             : nt_error(NT_ERR_ARG, "%s: token %d is NULL", who, i);
        }
    }
    return vocab_make(out, kind, tok, n, who);
}

/* counting pass of nt_vocab_build */
typedef struct count_ctx {
    strmap m;
    int nomem;
} count_ctx;

static void count_piece(int mark, const char *p, size_t len, void *user) {
    count_ctx *c = user;
    if (c->nomem) return;
    size_t j = map_slot(&c->m, mark, p, len);
    if (c->m.key[j]) { c->m.val[j]++; return; }
    char *k = dup_piece(mark, p, len);
    if (!k || !map_put_owned(&c->m, k, 1)) { nt_free(k); c->nomem = 1; }
}

typedef struct tokcount { char *s; int count; } tokcount;

static int by_count(const void *a, const void *b) {
    const tokcount *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    return strcmp(x->s, y->s);
}

nt_status nt_vocab_build(nt_vocab **out, nt_tokenizer_kind kind, const char *const *texts, int n, int min_freq) {
    const char *who = "nt_vocab_build";
    if (!out) return nt_error(NT_ERR_ARG, "%s: NULL out", who);
    *out = NULL;
    if (kind == NT_TOKENIZER_SPM) return nt_error(NT_ERR_ARG, "%s: spm is built by nt_vocab_build_spm", who);
    if ((unsigned)kind > NT_TOKENIZER_WORD) return nt_error(NT_ERR_ARG, "%s: bad kind %d", who, (int)kind);
    if (n < 0 || (!texts && n)) return nt_error(NT_ERR_ARG, "%s: bad text count %d", who, n);
    if (min_freq < 1) return nt_error(NT_ERR_ARG, "%s: min_freq %d, expected >= 1", who, min_freq);
    count_ctx c = {{0}, 0};
    if (!map_init(&c.m, 256)) { map_free(&c.m, 1); return nt_error(NT_ERR_NOMEM, "%s: out of memory", who); }
    for (int i = 0; i < n; i++) {
        if (!texts[i]) { map_free(&c.m, 1); return nt_error(NT_ERR_ARG, "%s: text %d is NULL", who, i); }
        nt_status s = split(kind, 1, who, texts[i], count_piece, &c);
        if (s != NT_OK) {
            map_free(&c.m, 1);
            return nt_error_wrap(s, "text %d", i);
        }
        if (c.nomem) break;
    }
    tokcount *tc = c.nomem ? NULL : nt_malloc((c.m.n ? c.m.n : 1) * sizeof *tc);
    char **tok = tc ? nt_calloc(c.m.n + NT_TOK_N_SPECIAL, sizeof *tok) : NULL;
    if (!tok) {
        nt_free(tc);
        map_free(&c.m, 1);
        return nt_error(NT_ERR_NOMEM, "%s: out of memory", who);
    }
    size_t k = 0;
    for (size_t i = 0; i < c.m.cap; i++)
        if (c.m.key[i]) { tc[k].s = c.m.key[i]; tc[k].count = c.m.val[i]; k++; }
    qsort(tc, k, sizeof *tc, by_count);
    int nt = 0;
    for (int i = 0; i < NT_TOK_N_SPECIAL; i++) tok[nt++] = dup_piece(0, special_names[i], strlen(special_names[i]));
    for (size_t i = 0; i < k; i++) {
        int is_special = 0;
        for (int j = 0; j < NT_TOK_N_SPECIAL; j++) is_special |= strcmp(tc[i].s, special_names[j]) == 0;
        if (tc[i].count >= min_freq && !is_special) { tok[nt++] = tc[i].s; tc[i].s = NULL; }
    }
    for (size_t i = 0; i < k; i++) nt_free(tc[i].s); /* the dropped ones */
    nt_free(tc);
    map_free(&c.m, 0);
    for (int i = 0; i < NT_TOK_N_SPECIAL; i++)
        if (!tok[i]) {
            for (int j = 0; j < nt; j++) nt_free(tok[j]);
            nt_free(tok);
            return nt_error(NT_ERR_NOMEM, "%s: out of memory", who);
        }
    nt_status s = vocab_make(out, kind, tok, nt, who);
    if (s == NT_OK) (*out)->split_digits = kind == NT_TOKENIZER_WORD;
    return s;
}

/* ---- spm: a SentencePiece model as the vocabulary ------------------------------------------ */

nt_status nt_vocab_from_spm(nt_vocab **out, nt_spm *m) {
    const char *who = "nt_vocab_from_spm";
    if (!out) { nt_spm_free(m); return nt_error(NT_ERR_ARG, "%s: NULL out", who); }
    *out = NULL;
    if (!m) return nt_error(NT_ERR_ARG, "%s: NULL model", who);
    int n = nt_spm_size(m);
    /* SentencePiece id -> nextok special, -1 for an ordinary piece */
    int special_of[4][2] = {{nt_spm_pad_id(m), NT_TOK_PAD}, {nt_spm_bos_id(m), NT_TOK_BOS},
                            {nt_spm_eos_id(m), NT_TOK_EOS}, {nt_spm_unk_id(m), NT_TOK_UNK}};
    int sep = nt_spm_piece_id(m, special_names[NT_TOK_SEP]);
    if (sep >= 0 && nt_spm_piece_kind_of(m, sep) != NT_SPM_CONTROL) sep = -1; /* a plain piece "<sep>" */
    if (special_of[3][0] < 0 || nt_spm_piece_kind_of(m, special_of[3][0]) != NT_SPM_UNKNOWN) {
        nt_spm_free(m);
        return nt_error(NT_ERR_FORMAT, "%s: the SentencePiece model has no unk piece", who);
    }
    int32_t *from = nt_malloc((size_t)n * sizeof *from);
    int32_t *to = nt_malloc((size_t)(n + NT_TOK_N_SPECIAL) * sizeof *to);
    char **tok = nt_calloc((size_t)(n + NT_TOK_N_SPECIAL), sizeof *tok);
    if (!from || !to || !tok) goto nomem;
    for (int i = 0; i < n + NT_TOK_N_SPECIAL; i++) to[i] = -1;
    int next = NT_TOK_N_SPECIAL;
    for (int i = 0; i < n; i++) {
        int id = -1;
        for (int k = 0; k < 4; k++)
            if (special_of[k][0] == i) id = special_of[k][1];
        if (i == sep) id = NT_TOK_SEP;
        if (id < 0) {
            id = next++;
            const char *p = nt_spm_piece(m, i);
            if (!(tok[id] = dup_piece(0, p, strlen(p)))) goto nomem;
        }
        from[i] = id;
        to[id] = i;
    }
    for (int i = 0; i < NT_TOK_N_SPECIAL; i++)
        if (!(tok[i] = dup_piece(0, special_names[i], strlen(special_names[i])))) goto nomem;
    nt_status s = vocab_make(out, NT_TOKENIZER_SPM, tok, next, who); /* owns tok now */
    if (s != NT_OK) {
        nt_free(from);
        nt_free(to);
        nt_spm_free(m);
        return s;
    }
    (*out)->spm = m;
    (*out)->from_spm = from;
    (*out)->to_spm = to;
    return NT_OK;
nomem:
    if (tok)
        for (int i = 0; i < n + NT_TOK_N_SPECIAL; i++) nt_free(tok[i]);
    nt_free(tok);
    nt_free(from);
    nt_free(to);
    nt_spm_free(m);
    return nt_error(NT_ERR_NOMEM, "%s: out of memory", who);
}

/* The nextok id of each of m's SentencePiece ids that is a special
 * (0..4), else -1; -2 if m has no unk piece. */
static int spm_special(const nt_spm *m, int i) {
    int unk = nt_spm_unk_id(m);
    if (unk < 0 || nt_spm_piece_kind_of(m, unk) != NT_SPM_UNKNOWN) return -2;
    if (i == unk) return NT_TOK_UNK;
    if (i == nt_spm_pad_id(m)) return NT_TOK_PAD;
    if (i == nt_spm_bos_id(m)) return NT_TOK_BOS;
    if (i == nt_spm_eos_id(m)) return NT_TOK_EOS;
    if (nt_spm_piece_kind_of(m, i) == NT_SPM_CONTROL && strcmp(nt_spm_piece(m, i), special_names[NT_TOK_SEP]) == 0)
        return NT_TOK_SEP;
    return -1;
}

nt_status nt_vocab_from_spm_pair(nt_vocab **out, nt_spm *src, nt_spm *tgt) {
    const char *who = "nt_vocab_from_spm_pair";
    if (!out || !src || !tgt) {
        nt_spm_free(src);
        nt_spm_free(tgt);
        return nt_error(NT_ERR_ARG, "%s: NULL argument", who);
    }
    *out = NULL;
    if (spm_special(src, 0) == -2) {
        nt_spm_free(src);
        nt_spm_free(tgt);
        return nt_error(NT_ERR_FORMAT, "%s: the source SentencePiece model has no unk piece", who);
    }
    nt_vocab *v = NULL;
    nt_status s = nt_vocab_from_spm(&v, tgt); /* owns tgt now */
    if (s != NT_OK) {
        nt_spm_free(src);
        return nt_error_wrap(s, "%s: target model", who);
    }
    int ns = nt_spm_size(src), n_tgt = v->n;
    v->spm_src = src;
    v->from_src = nt_malloc((size_t)ns * sizeof *v->from_src);
    v->to_src = nt_malloc((size_t)ns * sizeof *v->to_src);
    char **tok = nt_realloc(v->tok, (size_t)(n_tgt + ns) * sizeof *tok);
    if (tok) v->tok = tok;
    if (!v->from_src || !v->to_src || !tok) goto nomem;
    for (int i = 0; i < ns; i++) {
        int id = spm_special(src, i);
        if (id < 0) {
            const char *p = nt_spm_piece(src, i);
            id = v->n;
            if (!(v->tok[id] = dup_piece(0, p, strlen(p)))) goto nomem;
            v->to_src[id - n_tgt] = i;
            v->n++;
        }
        v->from_src[i] = id;
    }
    *out = v;
    return NT_OK;
nomem:
    nt_vocab_free(v);
    return nt_error(NT_ERR_NOMEM, "%s: out of memory", who);
}

nt_status nt_vocab_build_spm_pair(nt_vocab **out, const nt_spm_options *o, const char *const *src, int n_src,
                                  const char *const *tgt, int n_tgt) {
    if (!out) return nt_error(NT_ERR_ARG, "nt_vocab_build_spm_pair: NULL out");
    *out = NULL;
    nt_spm *ms = NULL, *mt = NULL;
    nt_status s = nt_spm_train(&ms, o, src, n_src);
    if (s != NT_OK) return nt_error_wrap(s, "source side");
    s = nt_spm_train(&mt, o, tgt, n_tgt);
    if (s != NT_OK) {
        nt_spm_free(ms);
        return nt_error_wrap(s, "target side");
    }
    return nt_vocab_from_spm_pair(out, ms, mt);
}

nt_status nt_vocab_build_spm(nt_vocab **out, const nt_spm_options *o, const char *const *texts, int n) {
    if (!out) return nt_error(NT_ERR_ARG, "nt_vocab_build_spm: NULL out");
    *out = NULL;
    nt_spm *m = NULL;
    NT_TRY(nt_spm_train(&m, o, texts, n));
    return nt_vocab_from_spm(out, m);
}

nt_status nt_vocab_split(const nt_vocab *v, const char *text,
                         void (*fn)(const char *piece, size_t len, void *user), void *user) {
    if (!v) return nt_error(NT_ERR_ARG, "nt_vocab_split: NULL vocab");
    if (v->spm) return nt_spm_encode_pieces(v->spm, text, fn, user);
    return split_pub(v->kind, v->split_digits, text, fn, user);
}

/* ---- collecting distinct tokens ------------------------------------------------------------- */

typedef struct collect_ctx {
    nt_strset *set;
    const nt_vocab *v; /* NULL: every token; else only those v lacks */
    int nomem;
} collect_ctx;

static void collect_piece(const char *p, size_t len, void *user) {
    collect_ctx *c = user;
    if (c->nomem || (c->v && c->v->map.key[map_slot(&c->v->map, 0, p, len)])) return;
    if (nt_strset_add(c->set, p, len) < 0) c->nomem = 1;
}

/* The tokens of text (split by kind k and the digit rule), those v lacks if
 * lacks is set, added to set. */
static nt_status collect(const char *fn, nt_tokenizer_kind k, int split_digits, const nt_vocab *lacks,
                         const char *text, nt_strset *set) {
    if (!set) return nt_error(NT_ERR_ARG, "%s: NULL set", fn);
    collect_ctx c = {set, lacks, 0};
    NT_TRY(split_pub(k, split_digits, text, collect_piece, &c));
    return c.nomem ? nt_error(NT_ERR_NOMEM, "%s: out of memory", fn) : NT_OK;
}

nt_status nt_tokenizer_collect(nt_tokenizer_kind k, const char *text, nt_strset *set) {
    return collect("nt_tokenizer_collect", k, 1, NULL, text, set);
}

nt_status nt_vocab_collect(const nt_vocab *v, const char *text, nt_strset *set) {
    if (!v) return nt_error(NT_ERR_ARG, "nt_vocab_collect: NULL vocab");
    if (!set) return nt_error(NT_ERR_ARG, "nt_vocab_collect: NULL set");
    if (v->spm) {
        collect_ctx c = {set, NULL, 0};
        NT_TRY(nt_vocab_split(v, text, collect_piece, &c));
        return c.nomem ? nt_error(NT_ERR_NOMEM, "nt_vocab_collect: out of memory") : NT_OK;
    }
    return collect("nt_vocab_collect", v->kind, v->split_digits, NULL, text, set);
}

nt_status nt_vocab_collect_unknown(const nt_vocab *v, const char *text, nt_strset *set) {
    if (!v) return nt_error(NT_ERR_ARG, "nt_vocab_collect_unknown: NULL vocab");
    if (v->spm) return NT_OK; /* byte fallback: every text encodes to known pieces */
    return collect("nt_vocab_collect_unknown", v->kind, v->split_digits, v, text, set);
}

/* ---- encode / decode ------------------------------------------------------------------------ */

typedef struct enc_ctx {
    const nt_vocab *v;
    int32_t *ids;
    int cap, n;
} enc_ctx;

static void enc_piece(int mark, const char *p, size_t len, void *user) {
    enc_ctx *c = user;
    size_t j = map_slot(&c->v->map, mark, p, len);
    int id = c->v->map.key[j] ? c->v->map.val[j] : NT_TOK_UNK;
    if (id < NT_TOK_N_SPECIAL) id = NT_TOK_UNK; /* text "<pad>" is not the special */
    if (c->ids && c->n < c->cap) c->ids[c->n] = id;
    c->n++;
}

nt_status nt_vocab_encode(const nt_vocab *v, const char *text, int32_t *ids, int cap, int *n) {
    if (!v || !text || !n) return nt_error(NT_ERR_ARG, "nt_vocab_encode: NULL argument");
    if (v->spm) {
        NT_TRY(nt_spm_encode(v->spm, text, ids, cap < 0 ? 0 : cap, n));
        if (ids)
            for (int i = 0; i < *n; i++) ids[i] = v->from_spm[ids[i]];
        return NT_OK;
    }
    enc_ctx c = {v, ids, cap < 0 ? 0 : cap, 0};
    NT_TRY(split(v->kind, v->split_digits, "nt_vocab_encode", text, enc_piece, &c));
    *n = c.n;
    if (ids && c.n > cap)
        return nt_error(NT_ERR_ARG, "nt_vocab_encode: %d ids do not fit cap %d", c.n, cap);
    return NT_OK;
}

nt_status nt_vocab_encode_src(const nt_vocab *v, const char *text, int32_t *ids, int cap, int *n) {
    if (!v || !v->spm_src) return nt_vocab_encode(v, text, ids, cap, n);
    if (!text || !n) return nt_error(NT_ERR_ARG, "nt_vocab_encode_src: NULL argument");
    NT_TRY(nt_spm_encode(v->spm_src, text, ids, cap < 0 ? 0 : cap, n));
    if (ids)
        for (int i = 0; i < *n; i++) ids[i] = v->from_src[ids[i]];
    return NT_OK;
}

/* Specials dropped, the rest mapped to SentencePiece ids and decoded by it. */
static nt_status decode_spm(const nt_vocab *v, const int32_t *ids, int n, char *buf, size_t cap) {
    int32_t *sp = nt_malloc((size_t)(n ? n : 1) * sizeof *sp);
    if (!sp) return nt_error(NT_ERR_NOMEM, "nt_vocab_decode: out of memory");
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= v->n) {
            nt_free(sp);
            return nt_error(NT_ERR_ARG, "nt_vocab_decode: id %d at position %d out of range 0..%d", ids[i], i,
                            v->n - 1);
        }
        /* a separate source model's piece is not target text: dropped too */
        if (ids[i] >= NT_TOK_N_SPECIAL && ids[i] < v->n_tgt) sp[k++] = v->to_spm[ids[i]];
    }
    nt_status s = nt_spm_decode(v->spm, sp, k, buf, cap);
    nt_free(sp);
    return s == NT_OK ? NT_OK : nt_error_wrap(s, "nt_vocab_decode");
}

nt_status nt_vocab_decode(const nt_vocab *v, const int32_t *ids, int n, char *buf, size_t cap) {
    if (!v || !buf || (!ids && n > 0) || n < 0)
        return nt_error(NT_ERR_ARG, "nt_vocab_decode: NULL argument or n %d", n);
    if (cap > 0) buf[0] = 0;
    if (v->spm) return decode_spm(v, ids, n, buf, cap);
    size_t len = 0;
    int first = 1;
    for (int i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= v->n)
            return nt_error(NT_ERR_ARG, "nt_vocab_decode: id %d at position %d out of range 0..%d", ids[i],
                            i, v->n - 1);
        if (ids[i] < NT_TOK_N_SPECIAL) continue;
        const char *t = v->tok[ids[i]];
        if (v->kind == NT_TOKENIZER_WORD && strncmp(t, MARK, MARK_LEN) == 0) {
            if (!first) { if (len + 1 < cap) buf[len] = ' '; len++; } /* the leading ▁ is dropped */
            t += MARK_LEN;
        }
        size_t tl = strlen(t);
        if (len + tl < cap) memcpy(buf + len, t, tl);
        len += tl;
        first = 0;
    }
    if (len >= cap) {
        if (cap > 0) buf[0] = 0;
        return nt_error(NT_ERR_ARG, "nt_vocab_decode: buffer of %zu bytes too small (needs %zu)", cap, len + 1);
    }
    buf[len] = 0;
    return NT_OK;
}
