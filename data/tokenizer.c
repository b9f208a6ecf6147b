/* tokenizer.c - char and word tokenizers, the vocabulary, its HDF5 form. */
#include "data/tokenizer.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "data/tsv.h" /* nt_utf8_valid */

#define MARK "\xE2\x96\x81" /* U+2581 LOWER ONE EIGHTH BLOCK, SentencePiece's space mark */
#define MARK_LEN 3

static const char *special_names[NT_TOK_N_SPECIAL] = {"<pad>", "<bos>", "<eos>", "<unk>", "<sep>"};
static const char *kind_names[2] = {"char", "word"};

const char *nt_tokenizer_kind_name(nt_tokenizer_kind k) {
    return (unsigned)k < 2 ? kind_names[k] : NULL;
}

nt_status nt_tokenizer_kind_parse(const char *name, nt_tokenizer_kind *out) {
    if (!name || !out) return nt_error(NT_ERR_ARG, "nt_tokenizer_kind_parse: NULL argument");
    for (int k = 0; k < 2; k++)
        if (strcmp(name, kind_names[k]) == 0) { *out = (nt_tokenizer_kind)k; return NT_OK; }
    return nt_error(NT_ERR_ARG, "nt_tokenizer_kind_parse: unknown tokenizer \"%s\" (expected char or word)",
                    name);
}

/* ---- splitting ---------------------------------------------------------------- */

/* A token is an optional ▁ marker followed by text[off, off + len). */
typedef void (*piece_fn)(int mark, const char *p, size_t len, void *user);

static size_t utf8_len(unsigned char c) { return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4; }

static nt_status split(nt_tokenizer_kind k, const char *who, const char *text, piece_fn fn,
                       void *user) {
    size_t len = strlen(text), bad;
    if (!nt_utf8_valid(text, len, &bad))
        return nt_error(NT_ERR_FORMAT, "%s: invalid UTF-8 at byte %zu of \"%.40s\"", who, bad + 1, text);
    if (k == NT_TOKENIZER_CHAR) {
        for (size_t i = 0; i < len;) {
            size_t n = utf8_len((unsigned char)text[i]);
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
        size_t j = i + 1;
        if (c != '-' && c != ',')
            while (j < len && text[j] != ' ' && text[j] != '-' && text[j] != ',') j++;
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

nt_status nt_tokenizer_split(nt_tokenizer_kind k, const char *text,
                             void (*fn)(const char *piece, size_t len, void *user), void *user) {
    if (!text || !fn || (unsigned)k > NT_TOKENIZER_WORD)
        return nt_error(NT_ERR_ARG, "nt_tokenizer_split: NULL argument or bad kind %d", (int)k);
    pub_ctx c = {fn, user, NULL, 0, 0};
    nt_status s = split(k, "nt_tokenizer_split", text, pub_piece, &c);
    nt_free(c.buf);
    if (s == NT_OK && c.nomem) return nt_error(NT_ERR_NOMEM, "nt_tokenizer_split: out of memory");
    return s;
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
    int n;        /* tokens, specials included */
    char **tok;   /* (n) owned strings */
    strmap map;   /* token -> id (keys borrowed from tok) */
};

void nt_vocab_free(nt_vocab *v) {
    if (!v) return;
    if (v->tok)
        for (int i = 0; i < v->n; i++) nt_free(v->tok[i]);
    nt_free(v->tok);
    map_free(&v->map, 0);
    nt_free(v);
}

int nt_vocab_size(const nt_vocab *v) { return v ? v->n : 0; }
nt_tokenizer_kind nt_vocab_kind(const nt_vocab *v) { return v ? v->kind : NT_TOKENIZER_CHAR; }
void nt_vocab_set_kind(nt_vocab *v, nt_tokenizer_kind k) {
    if (v && (unsigned)k <= NT_TOKENIZER_WORD) v->kind = k;
}

const char *nt_vocab_token(const nt_vocab *v, int id) {
    return v && id >= 0 && id < v->n ? v->tok[id] : NULL;
}

int nt_vocab_id(const nt_vocab *v, const char *s) {
    if (!v || !s) return -1;
    size_t j = map_slot(&v->map, 0, s, strlen(s));
    return v->map.key[j] ? v->map.val[j] : -1;
}

/* Takes ownership of tok[0..n) (freed on error too). Checks specials and
 * duplicates. */
static nt_status vocab_make(nt_vocab **out, nt_tokenizer_kind kind, char **tok, int n, const char *who) {
    nt_vocab *v = nt_calloc(1, sizeof *v);
    if (!v) {
        for (int i = 0; i < n; i++) nt_free(tok[i]);
        nt_free(tok);
        return nt_error(NT_ERR_NOMEM, "%s: out of memory", who);
    }
    v->kind = kind;
    v->n = n;
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
    if (!map_init(&v->map, (size_t)n)) {
        nt_vocab_free(v);
        return nt_error(NT_ERR_NOMEM, "%s: out of memory", who);
    }
    for (int i = 0; i < n; i++) {
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
    if ((unsigned)kind > NT_TOKENIZER_WORD) return nt_error(NT_ERR_ARG, "%s: bad kind %d", who, (int)kind);
    if (n < 0 || (!texts && n)) return nt_error(NT_ERR_ARG, "%s: bad text count %d", who, n);
    if (min_freq < 1) return nt_error(NT_ERR_ARG, "%s: min_freq %d, expected >= 1", who, min_freq);
    count_ctx c = {{0}, 0};
    if (!map_init(&c.m, 256)) { map_free(&c.m, 1); return nt_error(NT_ERR_NOMEM, "%s: out of memory", who); }
    for (int i = 0; i < n; i++) {
        if (!texts[i]) { map_free(&c.m, 1); return nt_error(NT_ERR_ARG, "%s: text %d is NULL", who, i); }
        nt_status s = split(kind, who, texts[i], count_piece, &c);
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
    return vocab_make(out, kind, tok, nt, who);
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
    enc_ctx c = {v, ids, cap < 0 ? 0 : cap, 0};
    NT_TRY(split(v->kind, "nt_vocab_encode", text, enc_piece, &c));
    *n = c.n;
    if (ids && c.n > cap)
        return nt_error(NT_ERR_ARG, "nt_vocab_encode: %d ids do not fit cap %d", c.n, cap);
    return NT_OK;
}

nt_status nt_vocab_decode(const nt_vocab *v, const int32_t *ids, int n, char *buf, size_t cap) {
    if (!v || !buf || (!ids && n > 0) || n < 0)
        return nt_error(NT_ERR_ARG, "nt_vocab_decode: NULL argument or n %d", n);
    if (cap > 0) buf[0] = 0;
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

/* ---- HDF5: /vocab/tokens ---------------------------------------------------------------- */

static hid_t utf8_vlen_type(void) {
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return t;
    if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

nt_status nt_vocab_save_h5(const nt_vocab *v, hid_t loc) {
    if (!v) return nt_error(NT_ERR_ARG, "nt_vocab_save_h5: NULL vocab");
    nt_status s = NT_OK;
    hid_t g = -1, type = -1, space = -1, ds = -1, aspace = -1, attr = -1;
    H5E_BEGIN_TRY {
        htri_t has = H5Lexists(loc, "vocab", H5P_DEFAULT);
        if (has < 0) s = nt_error(NT_ERR_IO, "nt_vocab_save_h5: bad HDF5 location");
        else g = has ? H5Gopen2(loc, "vocab", H5P_DEFAULT)
                     : H5Gcreate2(loc, "vocab", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (s == NT_OK && g < 0) s = nt_error(NT_ERR_IO, "nt_vocab_save_h5: cannot open or create group vocab");
        if (s == NT_OK && H5Lexists(g, "tokens", H5P_DEFAULT) > 0)
            s = nt_error(NT_ERR_IO, "nt_vocab_save_h5: vocab/tokens exists already");
        if (s == NT_OK) {
            hsize_t dim = (hsize_t)v->n;
            type = utf8_vlen_type();
            space = H5Screate_simple(1, &dim, NULL);
            if (type >= 0 && space >= 0)
                ds = H5Dcreate2(g, "tokens", type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
            if (ds < 0 || H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v->tok) < 0)
                s = nt_error(NT_ERR_IO, "nt_vocab_save_h5: cannot write vocab/tokens (%d strings)", v->n);
        }
        if (s == NT_OK) {
            const char *kn = kind_names[v->kind];
            aspace = H5Screate(H5S_SCALAR);
            if (aspace >= 0) attr = H5Acreate2(ds, "tokenizer", type, aspace, H5P_DEFAULT, H5P_DEFAULT);
            if (attr < 0 || H5Awrite(attr, type, &kn) < 0)
                s = nt_error(NT_ERR_IO, "nt_vocab_save_h5: cannot write attribute vocab/tokens.tokenizer");
        }
        if (attr >= 0) H5Aclose(attr);
        if (aspace >= 0) H5Sclose(aspace);
        if (ds >= 0) H5Dclose(ds);
        if (space >= 0) H5Sclose(space);
        if (type >= 0) H5Tclose(type);
        if (g >= 0) H5Gclose(g);
    } H5E_END_TRY;
    return s;
}

nt_status nt_vocab_load_h5(nt_vocab **out, hid_t loc) {
    const char *who = "nt_vocab_load_h5";
    if (!out) return nt_error(NT_ERR_ARG, "%s: NULL out", who);
    *out = NULL;
    nt_status s = NT_OK;
    hid_t ds = -1, ftype = -1, space = -1, mtype = -1, attr = -1;
    char **raw = NULL;
    hsize_t n = 0;
    nt_tokenizer_kind kind = NT_TOKENIZER_CHAR;
    H5E_BEGIN_TRY {
        if (H5Lexists(loc, "vocab", H5P_DEFAULT) <= 0 || H5Lexists(loc, "vocab/tokens", H5P_DEFAULT) <= 0 ||
            (ds = H5Dopen2(loc, "vocab/tokens", H5P_DEFAULT)) < 0)
            s = nt_error(NT_ERR_FORMAT, "%s: no dataset vocab/tokens", who);
        if (s == NT_OK) {
            ftype = H5Dget_type(ds);
            space = H5Dget_space(ds);
            if (ftype < 0 || H5Tget_class(ftype) != H5T_STRING || H5Tis_variable_str(ftype) <= 0)
                s = nt_error(NT_ERR_FORMAT, "%s: vocab/tokens is not variable-length strings", who);
            else if (space < 0 || H5Sget_simple_extent_ndims(space) != 1)
                s = nt_error(NT_ERR_FORMAT, "%s: vocab/tokens is not 1-D", who);
            else H5Sget_simple_extent_dims(space, &n, NULL);
        }
        if (s == NT_OK && (n < NT_TOK_N_SPECIAL || n > 100000000))
            s = nt_error(NT_ERR_FORMAT, "%s: vocab/tokens has %llu tokens, expected at least the %d specials",
                         who, (unsigned long long)n, NT_TOK_N_SPECIAL);
        if (s == NT_OK) {
            mtype = utf8_vlen_type();
            raw = nt_calloc((size_t)n, sizeof *raw);
            if (!raw) s = nt_error(NT_ERR_NOMEM, "%s: out of memory", who);
            else if (mtype < 0 || H5Dread(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) < 0)
                s = nt_error(NT_ERR_FORMAT, "%s: cannot read vocab/tokens", who);
        }
        if (s == NT_OK && H5Aexists(ds, "tokenizer") > 0) {
            char *kn = NULL;
            attr = H5Aopen(ds, "tokenizer", H5P_DEFAULT);
            hid_t at = attr >= 0 ? H5Aget_type(attr) : -1;
            if (at < 0 || H5Tget_class(at) != H5T_STRING || H5Tis_variable_str(at) <= 0 ||
                H5Aread(attr, mtype, &kn) < 0 || !kn)
                s = nt_error(NT_ERR_FORMAT, "%s: attribute vocab/tokens.tokenizer is not a string", who);
            else if (nt_tokenizer_kind_parse(kn, &kind) != NT_OK)
                s = nt_error(NT_ERR_FORMAT, "%s: vocab/tokens.tokenizer is \"%.40s\", expected char or word",
                             who, kn);
            if (kn) H5free_memory(kn);
            if (at >= 0) H5Tclose(at);
        }
    } H5E_END_TRY;
    char **tok = NULL;
    if (s == NT_OK) {
        tok = nt_calloc((size_t)n, sizeof *tok);
        if (!tok) s = nt_error(NT_ERR_NOMEM, "%s: out of memory", who);
        for (hsize_t i = 0; s == NT_OK && i < n; i++) {
            const char *r = raw[i] ? raw[i] : "";
            size_t bad;
            if (!nt_utf8_valid(r, strlen(r), &bad)) {
                s = nt_error(NT_ERR_FORMAT, "%s: token %llu is not valid UTF-8", who, (unsigned long long)i);
                break;
            }
            if (!(tok[i] = dup_piece(0, r, strlen(r)))) s = nt_error(NT_ERR_NOMEM, "%s: out of memory", who);
        }
        if (s != NT_OK && tok) {
            for (hsize_t i = 0; i < n; i++) nt_free(tok[i]);
            nt_free(tok);
            tok = NULL;
        }
    }
    if (raw) {
        for (hsize_t i = 0; i < n; i++)
            if (raw[i]) H5free_memory(raw[i]);
        nt_free(raw);
    }
    H5E_BEGIN_TRY {
        if (attr >= 0) H5Aclose(attr);
        if (mtype >= 0) H5Tclose(mtype);
        if (space >= 0) H5Sclose(space);
        if (ftype >= 0) H5Tclose(ftype);
        if (ds >= 0) H5Dclose(ds);
    } H5E_END_TRY;
    if (s != NT_OK) return s;
    return vocab_make(out, kind, tok, (int)n, who);
}
