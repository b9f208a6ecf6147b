/* corpus_encode.c - the in-memory parallel corpus: raw pairs plus token ids. */
#include <string.h>

#include "core/alloc.h"
#include "data/corpus.h"

void nt_corpus_free(nt_corpus *c) {
    if (!c) return;
    if (c->src_text)
        for (int i = 0; i < c->n; i++) nt_free(c->src_text[i]);
    if (c->tgt_text)
        for (int i = 0; i < c->n; i++) nt_free(c->tgt_text[i]);
    nt_free(c->src_text);
    nt_free(c->tgt_text);
    nt_free(c->ids);
    nt_free(c->src_off);
    nt_free(c->tgt_off);
    nt_free(c->src_len);
    nt_free(c->tgt_len);
    nt_free(c->line);
    nt_free(c->path);
    nt_free(c);
}

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = nt_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static nt_status build(nt_corpus **out, const char *const *src, const char *const *tgt, const int *line,
                       int n, const char *path, const nt_vocab *v, const char *who) {
    if (!out) return nt_error(NT_ERR_ARG, "%s: NULL out", who);
    *out = NULL;
    if (!v || n < 0 || (n > 0 && (!src || !tgt)))
        return nt_error(NT_ERR_ARG, "%s: NULL vocab or pairs (n %d)", who, n);
    nt_corpus *c = nt_calloc(1, sizeof *c);
    if (!c) return nt_error(NT_ERR_NOMEM, "%s: out of memory", who);
    size_t m = (size_t)(n ? n : 1);
    c->src_off = nt_malloc(m * sizeof *c->src_off);
    c->tgt_off = nt_malloc(m * sizeof *c->tgt_off);
    c->src_len = nt_malloc(m * sizeof *c->src_len);
    c->tgt_len = nt_malloc(m * sizeof *c->tgt_len);
    c->line = nt_malloc(m * sizeof *c->line);
    c->src_text = nt_calloc(m, sizeof *c->src_text);
    c->tgt_text = nt_calloc(m, sizeof *c->tgt_text);
    c->path = dup_str(path);
    if (!c->src_off || !c->tgt_off || !c->src_len || !c->tgt_len || !c->line || !c->src_text ||
        !c->tgt_text || !c->path)
        goto nomem;
    c->n = n;
    /* pass 1: count ids (and validate the texts) */
    int64_t total = 0;
    for (int i = 0; i < n; i++) {
        int ns, nt;
        const char *bad = NULL;
        nt_status s = NT_OK;
        if (!src[i] || !tgt[i]) s = nt_error(NT_ERR_ARG, "NULL text");
        if (s == NT_OK && (s = nt_vocab_encode_src(v, src[i], NULL, 0, &ns)) != NT_OK) bad = "source";
        if (s == NT_OK && (s = nt_vocab_encode(v, tgt[i], NULL, 0, &nt)) != NT_OK) bad = "target";
        if (s != NT_OK) {
            nt_error_wrap(s, "%s: %s:%d: %s", who, path, line ? line[i] : i + 1, bad ? bad : "pair");
            nt_corpus_free(c);
            return s;
        }
        c->src_off[i] = total;
        c->src_len[i] = ns;
        total += ns;
        c->tgt_off[i] = total;
        c->tgt_len[i] = nt;
        total += nt;
        c->line[i] = line ? line[i] : i + 1;
    }
    c->ids = nt_malloc((size_t)(total ? total : 1) * sizeof *c->ids);
    if (!c->ids) goto nomem;
    /* pass 2: encode, copy the raw strings */
    for (int i = 0; i < n; i++) {
        int k;
        /* the calls stay outside NT_ASSERT: they write the ids */
        nt_status ss = nt_vocab_encode_src(v, src[i], c->ids + c->src_off[i], c->src_len[i], &k);
        nt_status st = nt_vocab_encode(v, tgt[i], c->ids + c->tgt_off[i], c->tgt_len[i], &k);
        NT_ASSERT(ss == NT_OK && st == NT_OK);
        if (!(c->src_text[i] = dup_str(src[i])) || !(c->tgt_text[i] = dup_str(tgt[i]))) goto nomem;
    }
    for (int64_t j = 0; j < total; j++) c->n_unk += c->ids[j] == NT_TOK_UNK;
    *out = c;
    return NT_OK;
nomem:
    nt_corpus_free(c);
    return nt_error(NT_ERR_NOMEM, "%s: out of memory for %d pairs", who, n);
}

nt_status nt_corpus_from_tsv(nt_corpus **out, const nt_tsv *t, const nt_vocab *v) {
    if (!t) {
        if (out) *out = NULL;
        return nt_error(NT_ERR_ARG, "nt_corpus_from_tsv: NULL tsv");
    }
    return build(out, (const char *const *)t->src, (const char *const *)t->tgt, t->line, t->n, t->path, v,
                 "nt_corpus_from_tsv");
}

nt_status nt_corpus_from_pairs(nt_corpus **out, const char *const *src, const char *const *tgt, int n,
                               const nt_vocab *v) {
    return build(out, src, tgt, NULL, n, "<memory>", v, "nt_corpus_from_pairs");
}
