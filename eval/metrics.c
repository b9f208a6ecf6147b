/* metrics.c - corpus metrics: exact match, character accuracy, BLEU (13a), chrF.
 *
 * Everything works on Unicode code points (uint32). An n-gram match count is
 * computed by sorting the n-gram start positions of hypothesis and reference
 * together by content and walking the groups of equal n-grams, adding
 * min(hypothesis count, reference count) per group (the clipped count). BLEU
 * first interns the 13a tokens of a pair as small integers, so the same code
 * counts word n-grams (units = token ids) and character n-grams (units =
 * code points).
 */
#include "eval/metrics.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "data/utf8.h"

/* A growable array of 32-bit units. */
typedef struct buf32 {
    uint32_t *p;
    int64_t n, cap;
} buf32;

struct nt_metrics_acc {
    /* sufficient statistics, summed over the pairs */
    int64_t n_pairs, n_exact;
    int64_t char_edits, ref_chars;
    int64_t sys_len, ref_len, correct[NT_BLEU_ORDER], total[NT_BLEU_ORDER];
    int64_t chrf_hyp[NT_CHRF_ORDER], chrf_ref[NT_CHRF_ORDER], chrf_match[NT_CHRF_ORDER];
    /* scratch, reused across pairs */
    buf32 hyp, ref;          /* decoded code points */
    buf32 tok_a, tok_b;      /* 13a ping-pong buffers */
    buf32 htok, rtok;        /* tokenized code points of hyp and ref */
    buf32 spans;             /* token (start, len) pairs: hyp tokens then ref tokens */
    buf32 units;             /* n-gram units: hyp then ref */
    buf32 idx, tmp;          /* sort scratch */
    int64_t *row;            /* Levenshtein rows (2 * row_cap) */
    int64_t row_cap;
};

static nt_status buf_reserve(buf32 *b, int64_t need) {
    if (need <= b->cap) return NT_OK;
    int64_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap *= 2;
    uint32_t *p = nt_realloc(b->p, (size_t)cap * sizeof *p);
    if (!p) return nt_error(NT_ERR_NOMEM, "nt_metrics: cannot grow scratch to %lld units", (long long)cap);
    b->p = p;
    b->cap = cap;
    return NT_OK;
}

/* ---- UTF-8 and whitespace --------------------------------------------------- */

/* Decodes NUL-terminated UTF-8 into b. Returns -1 on success, else the byte
 * offset of the first invalid sequence (overlong forms, surrogates and
 * values above U+10FFFF are invalid). b must hold strlen(s) units. */
static int64_t utf8_decode(buf32 *b, const char *str) {
    size_t len = strlen(str), i = 0;
    int64_t n = 0;
    while (i < len) {
        uint32_t c;
        size_t k = nt_utf8_decode(str + i, len - i, &c);
        if (k == 0) return (int64_t)i;
        b->p[n++] = c;
        i += k;
    }
    b->n = n;
    return -1;
}

/* Python's str.isspace(), which is what sacreBLEU's str.split() splits on. */
static int is_space(uint32_t c) {
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

static int is_digit(uint32_t c) { return c >= '0' && c <= '9'; }
static int is_dot_comma(uint32_t c) { return c == '.' || c == ','; }

/* The characters of 13a rule 1: [\{-\~\[-\` -\&\(-\+\:-\@\/] */
static int is_13a_punct(uint32_t c) {
    return (c >= '{' && c <= '~') || (c >= '[' && c <= '`') || (c >= ' ' && c <= '&') ||
           (c >= '(' && c <= '+') || (c >= ':' && c <= '@') || c == '/';
}

/* ---- the 13a tokenizer ------------------------------------------------------- */

/* In place, Python's s.replace(pat, rep) for ASCII pat/rep with
 * strlen(rep) <= strlen(pat): left to right, non-overlapping. */
static void replace_ascii(buf32 *b, const char *pat, const char *rep) {
    int64_t plen = (int64_t)strlen(pat), rlen = (int64_t)strlen(rep), w = 0, i = 0;
    while (i < b->n) {
        int64_t k = 0;
        while (k < plen && i + k < b->n && b->p[i + k] == (uint32_t)(unsigned char)pat[k]) k++;
        if (k == plen) {
            for (int64_t j = 0; j < rlen; j++) b->p[w++] = (uint32_t)(unsigned char)rep[j];
            i += plen;
        } else {
            b->p[w++] = b->p[i++];
        }
    }
    b->n = w;
}

/* The four 13a substitutions, from a into b (then back), leaving the result
 * in *out (one of a, b). */
static nt_status tok13a_rules(buf32 *a, buf32 *b, buf32 **out) {
    int64_t n = a->n, w = 0;
    /* 1. isolate the punctuation and symbols */
    NT_TRY(buf_reserve(b, 3 * n));
    for (int64_t i = 0; i < n; i++) {
        uint32_t c = a->p[i];
        if (is_13a_punct(c)) { b->p[w++] = ' '; b->p[w++] = c; b->p[w++] = ' '; }
        else b->p[w++] = c;
    }
    b->n = w;
    /* 2. ([^0-9])([.,]) -> "\1 \2 " */
    NT_TRY(buf_reserve(a, 2 * b->n));
    w = 0;
    for (int64_t i = 0; i < b->n;) {
        if (i + 1 < b->n && !is_digit(b->p[i]) && is_dot_comma(b->p[i + 1])) {
            a->p[w++] = b->p[i]; a->p[w++] = ' '; a->p[w++] = b->p[i + 1]; a->p[w++] = ' ';
            i += 2;
        } else {
            a->p[w++] = b->p[i++];
        }
    }
    a->n = w;
    /* 3. ([.,])([^0-9]) -> " \1 \2" */
    NT_TRY(buf_reserve(b, 2 * a->n));
    w = 0;
    for (int64_t i = 0; i < a->n;) {
        if (i + 1 < a->n && is_dot_comma(a->p[i]) && !is_digit(a->p[i + 1])) {
            b->p[w++] = ' '; b->p[w++] = a->p[i]; b->p[w++] = ' '; b->p[w++] = a->p[i + 1];
            i += 2;
        } else {
            b->p[w++] = a->p[i++];
        }
    }
    b->n = w;
    /* 4. ([0-9])(-) -> "\1 \2 " */
    NT_TRY(buf_reserve(a, 2 * b->n));
    w = 0;
    for (int64_t i = 0; i < b->n;) {
        if (i + 1 < b->n && is_digit(b->p[i]) && b->p[i + 1] == '-') {
            a->p[w++] = b->p[i]; a->p[w++] = ' '; a->p[w++] = '-'; a->p[w++] = ' ';
            i += 2;
        } else {
            a->p[w++] = b->p[i++];
        }
    }
    a->n = w;
    *out = a;
    return NT_OK;
}

/* Tokenizes the code points of `in` (13a, after rstrip) into `res`: the
 * tokens' code points back to back, and appends a (start, len) pair per
 * token to `spans` (starts are offsets into res plus `base`). */
static nt_status tok13a(nt_metrics_acc *acc, const buf32 *in, buf32 *res, buf32 *spans,
                        int64_t base) {
    buf32 *a = &acc->tok_a, *b = &acc->tok_b, *r;
    int64_t n = in->n;
    while (n > 0 && is_space(in->p[n - 1])) n--;  /* sacreBLEU: sent.rstrip() */
    NT_TRY(buf_reserve(a, n + 2));
    a->p[0] = ' ';
    memcpy(a->p + 1, in->p, (size_t)n * sizeof *a->p);
    a->n = n + 1;
    replace_ascii(a, "<skipped>", "");
    replace_ascii(a, "-\n", "");
    replace_ascii(a, "\n", " ");
    replace_ascii(a, "&quot;", "\"");
    replace_ascii(a, "&amp;", "&");
    replace_ascii(a, "&lt;", "<");
    replace_ascii(a, "&gt;", ">");
    a->p[a->n++] = ' ';
    NT_TRY(tok13a_rules(a, b, &r));
    /* split on whitespace */
    NT_TRY(buf_reserve(res, r->n));
    res->n = 0;
    for (int64_t i = 0; i < r->n;) {
        if (is_space(r->p[i])) { i++; continue; }
        int64_t start = res->n;
        while (i < r->n && !is_space(r->p[i])) res->p[res->n++] = r->p[i++];
        NT_TRY(buf_reserve(spans, spans->n + 2));
        spans->p[spans->n++] = (uint32_t)(base + start);
        spans->p[spans->n++] = (uint32_t)(res->n - start);
    }
    return NT_OK;
}

/* ---- sorting with a context, and clipped n-gram matches ---------------------- */

typedef int (*cmp_fn)(uint32_t x, uint32_t y, const void *ctx);

/* Stable merge sort of a[0..n) (indices) by cmp; tmp holds n entries. */
static void msort(uint32_t *a, uint32_t *tmp, int64_t n, cmp_fn cmp, const void *ctx) {
    if (n < 2) return;
    int64_t h = n / 2;
    msort(a, tmp, h, cmp, ctx);
    msort(a + h, tmp, n - h, cmp, ctx);
    int64_t i = 0, j = h, k = 0;
    while (i < h && j < n) tmp[k++] = cmp(a[j], a[i], ctx) < 0 ? a[j++] : a[i++];
    while (i < h) tmp[k++] = a[i++];
    while (j < n) tmp[k++] = a[j++];
    memcpy(a, tmp, (size_t)n * sizeof *a);
}

typedef struct ngram_ctx {
    const uint32_t *units;
    int n;
} ngram_ctx;

static int cmp_ngram(uint32_t x, uint32_t y, const void *ctx) {
    const ngram_ctx *c = ctx;
    for (int k = 0; k < c->n; k++) {
        uint32_t u = c->units[x + k], v = c->units[y + k];
        if (u != v) return u < v ? -1 : 1;
    }
    return 0;
}

/* Sum over distinct n-grams of min(count in hyp, count in ref), where
 * units[0..H) is the hypothesis and units[H..H+R) the reference. */
static nt_status ngram_matches(nt_metrics_acc *acc, int64_t H, int64_t R, int n, int64_t *out) {
    int64_t nh = H >= n ? H - n + 1 : 0, nr = R >= n ? R - n + 1 : 0, m = 0;
    *out = 0;
    if (nh == 0 || nr == 0) return NT_OK;
    NT_TRY(buf_reserve(&acc->idx, nh + nr));
    NT_TRY(buf_reserve(&acc->tmp, nh + nr));
    uint32_t *idx = acc->idx.p;
    for (int64_t i = 0; i < nh; i++) idx[m++] = (uint32_t)i;
    for (int64_t i = 0; i < nr; i++) idx[m++] = (uint32_t)(H + i);
    ngram_ctx c = {acc->units.p, n};
    msort(idx, acc->tmp.p, m, cmp_ngram, &c);
    int64_t matches = 0;
    for (int64_t g = 0; g < m;) {
        int64_t e = g, ch = 0, cr = 0;
        while (e < m && cmp_ngram(idx[g], idx[e], &c) == 0) {
            if (idx[e] < (uint64_t)H) ch++; else cr++;
            e++;
        }
        matches += ch < cr ? ch : cr;
        g = e;
    }
    *out = matches;
    return NT_OK;
}

/* Compares two tokens given as span numbers into acc->spans / token text. */
typedef struct tok_ctx {
    const uint32_t *spans, *text;
} tok_ctx;

static int cmp_token(uint32_t x, uint32_t y, const void *ctx) {
    const tok_ctx *c = ctx;
    uint32_t xs = c->spans[2 * x], xl = c->spans[2 * x + 1];
    uint32_t ys = c->spans[2 * y], yl = c->spans[2 * y + 1];
    uint32_t l = xl < yl ? xl : yl;
    for (uint32_t k = 0; k < l; k++) {
        uint32_t u = c->text[xs + k], v = c->text[ys + k];
        if (u != v) return u < v ? -1 : 1;
    }
    return xl == yl ? 0 : (xl < yl ? -1 : 1);
}

/* ---- the per-pair statistics ------------------------------------------------ */

static nt_status add_bleu(nt_metrics_acc *acc, int64_t stats[2 + 2 * NT_BLEU_ORDER]) {
    /* tokens of both sides; hyp text then ref text in one buffer so a span
     * start indexes either */
    acc->spans.n = 0;
    NT_TRY(tok13a(acc, &acc->hyp, &acc->htok, &acc->spans, 0));
    int64_t H = acc->spans.n / 2;
    NT_TRY(tok13a(acc, &acc->ref, &acc->rtok, &acc->spans, acc->htok.n));
    int64_t R = acc->spans.n / 2 - H;
    NT_TRY(buf_reserve(&acc->htok, acc->htok.n + acc->rtok.n));
    memcpy(acc->htok.p + acc->htok.n, acc->rtok.p, (size_t)acc->rtok.n * sizeof(uint32_t));
    /* intern: equal tokens get equal ids */
    int64_t T = H + R;
    NT_TRY(buf_reserve(&acc->idx, T));
    NT_TRY(buf_reserve(&acc->tmp, T));
    NT_TRY(buf_reserve(&acc->units, T));
    for (int64_t i = 0; i < T; i++) acc->idx.p[i] = (uint32_t)i;
    tok_ctx c = {acc->spans.p, acc->htok.p};
    msort(acc->idx.p, acc->tmp.p, T, cmp_token, &c);
    uint32_t id = 0;
    for (int64_t i = 0; i < T; i++) {
        if (i > 0 && cmp_token(acc->idx.p[i - 1], acc->idx.p[i], &c) != 0) id++;
        acc->units.p[acc->idx.p[i]] = id;
    }
    stats[0] = H;
    stats[1] = R;
    for (int n = 1; n <= NT_BLEU_ORDER; n++) {
        NT_TRY(ngram_matches(acc, H, R, n, &stats[1 + n]));
        stats[1 + NT_BLEU_ORDER + n] = H >= n ? H - n + 1 : 0;
    }
    return NT_OK;
}

static nt_status add_chrf(nt_metrics_acc *acc, int64_t stats[3 * NT_CHRF_ORDER]) {
    NT_TRY(buf_reserve(&acc->units, acc->hyp.n + acc->ref.n));
    int64_t H = 0, R = 0;
    for (int64_t i = 0; i < acc->hyp.n; i++)
        if (!is_space(acc->hyp.p[i])) acc->units.p[H++] = acc->hyp.p[i];
    for (int64_t i = 0; i < acc->ref.n; i++)
        if (!is_space(acc->ref.p[i])) acc->units.p[H + R++] = acc->ref.p[i];
    for (int n = 1; n <= NT_CHRF_ORDER; n++) {
        int64_t nr = R >= n ? R - n + 1 : 0;
        /* sacreBLEU counts no hypothesis n-grams where the reference has none */
        stats[3 * (n - 1) + 0] = nr > 0 && H >= n ? H - n + 1 : 0;
        stats[3 * (n - 1) + 1] = nr;
        NT_TRY(ngram_matches(acc, H, R, n, &stats[3 * (n - 1) + 2]));
    }
    return NT_OK;
}

static nt_status levenshtein(nt_metrics_acc *acc, int64_t *out) {
    const uint32_t *h = acc->hyp.p, *r = acc->ref.p;
    int64_t H = acc->hyp.n, R = acc->ref.n;
    if (R + 1 > acc->row_cap) {
        int64_t *p = nt_realloc(acc->row, 2 * (size_t)(R + 1) * sizeof *p);
        if (!p) return nt_error(NT_ERR_NOMEM, "nt_metrics: cannot grow edit-distance rows to %lld", (long long)(R + 1));
        acc->row = p;
        acc->row_cap = R + 1;
    }
    int64_t *prev = acc->row, *cur = acc->row + R + 1;
    for (int64_t j = 0; j <= R; j++) prev[j] = j;
    for (int64_t i = 1; i <= H; i++) {
        cur[0] = i;
        for (int64_t j = 1; j <= R; j++) {
            int64_t best = prev[j - 1] + (h[i - 1] != r[j - 1]);
            if (prev[j] + 1 < best) best = prev[j] + 1;
            if (cur[j - 1] + 1 < best) best = cur[j - 1] + 1;
            cur[j] = best;
        }
        int64_t *t = prev; prev = cur; cur = t;
    }
    *out = prev[R];
    return NT_OK;
}

/* ---- public API --------------------------------------------------------------- */

nt_status nt_metrics_acc_new(nt_metrics_acc **out) {
    if (!out) return nt_error(NT_ERR_ARG, "nt_metrics_acc_new: out is NULL");
    *out = nt_calloc(1, sizeof **out);
    if (!*out) return nt_error(NT_ERR_NOMEM, "nt_metrics_acc_new: out of memory");
    return NT_OK;
}

void nt_metrics_acc_free(nt_metrics_acc *acc) {
    if (!acc) return;
    buf32 *bufs[] = {&acc->hyp, &acc->ref, &acc->tok_a, &acc->tok_b, &acc->htok, &acc->rtok,
                     &acc->spans, &acc->units, &acc->idx, &acc->tmp};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) nt_free(bufs[i]->p);
    nt_free(acc->row);
    nt_free(acc);
}

static nt_status decode_arg(nt_metrics_acc *acc, buf32 *b, const char *s, const char *what) {
    NT_TRY(buf_reserve(b, (int64_t)strlen(s) + 1));
    int64_t bad = utf8_decode(b, s);
    if (bad >= 0)
        return nt_error(NT_ERR_FORMAT, "nt_metrics_acc_add: pair %lld: %s is not valid UTF-8 (byte %lld: 0x%02x)",
                        (long long)acc->n_pairs, what, (long long)bad, (unsigned)(unsigned char)s[bad]);
    return NT_OK;
}

nt_status nt_metrics_acc_add(nt_metrics_acc *acc, const char *hyp, const char *ref) {
    if (!acc) return nt_error(NT_ERR_ARG, "nt_metrics_acc_add: acc is NULL");
    if (!hyp || !ref)
        return nt_error(NT_ERR_ARG, "nt_metrics_acc_add: pair %lld: %s is NULL", (long long)acc->n_pairs,
                        !hyp ? "hypothesis" : "reference");
    NT_TRY(decode_arg(acc, &acc->hyp, hyp, "hypothesis"));
    NT_TRY(decode_arg(acc, &acc->ref, ref, "reference"));
    /* everything that can fail happens before the sums change */
    int64_t edits = 0, bleu[2 + 2 * NT_BLEU_ORDER], chrf[3 * NT_CHRF_ORDER];
    NT_TRY(levenshtein(acc, &edits));
    NT_TRY(add_chrf(acc, chrf));
    NT_TRY(add_bleu(acc, bleu));
    acc->n_pairs++;
    acc->n_exact += strcmp(hyp, ref) == 0;
    acc->char_edits += edits;
    acc->ref_chars += acc->ref.n;
    acc->sys_len += bleu[0];
    acc->ref_len += bleu[1];
    for (int n = 0; n < NT_BLEU_ORDER; n++) {
        acc->correct[n] += bleu[2 + n];
        acc->total[n] += bleu[2 + NT_BLEU_ORDER + n];
    }
    for (int n = 0; n < NT_CHRF_ORDER; n++) {
        acc->chrf_hyp[n] += chrf[3 * n];
        acc->chrf_ref[n] += chrf[3 * n + 1];
        acc->chrf_match[n] += chrf[3 * n + 2];
    }
    return NT_OK;
}

/* sacreBLEU's my_log: log(0) is a large negative number, not -inf. */
static double sb_log(double x) { return x == 0.0 ? -9999999999.0 : log(x); }

static void bleu_result(const nt_metrics_acc *acc, nt_metrics *m) {
    m->bleu_sys_len = acc->sys_len;
    m->bleu_ref_len = acc->ref_len;
    m->bleu_ratio = acc->ref_len ? (double)acc->sys_len / (double)acc->ref_len : 0.0;
    m->bleu_bp = 1.0;
    if (acc->sys_len < acc->ref_len)
        m->bleu_bp = acc->sys_len > 0 ? exp(1.0 - (double)acc->ref_len / (double)acc->sys_len) : 0.0;
    int any = 0;
    for (int n = 0; n < NT_BLEU_ORDER; n++) {
        m->bleu_counts[n] = acc->correct[n];
        m->bleu_totals[n] = acc->total[n];
        m->bleu_precisions[n] = 0.0;
        any |= acc->correct[n] != 0;
    }
    m->bleu = 0.0;
    if (!any) return;
    double smooth = 1.0, logsum = 0.0;
    for (int n = 0; n < NT_BLEU_ORDER; n++) {
        if (acc->total[n] == 0) break;  /* the rest stay 0 and drive the score to 0 */
        if (acc->correct[n] == 0) {
            smooth *= 2.0;
            m->bleu_precisions[n] = 100.0 / (smooth * (double)acc->total[n]);
        } else {
            m->bleu_precisions[n] = 100.0 * (double)acc->correct[n] / (double)acc->total[n];
        }
    }
    for (int n = 0; n < NT_BLEU_ORDER; n++) logsum += sb_log(m->bleu_precisions[n]);
    m->bleu = m->bleu_bp * exp(logsum / NT_BLEU_ORDER);
}

static double chrf_result(const nt_metrics_acc *acc) {
    double p = 0.0, r = 0.0, b2 = (double)NT_CHRF_BETA * NT_CHRF_BETA;
    int eff = 0;
    for (int n = 0; n < NT_CHRF_ORDER; n++) {
        if (acc->chrf_hyp[n] > 0 && acc->chrf_ref[n] > 0) {
            p += (double)acc->chrf_match[n] / (double)acc->chrf_hyp[n];
            r += (double)acc->chrf_match[n] / (double)acc->chrf_ref[n];
            eff++;
        }
    }
    if (eff == 0) return 0.0;
    p /= eff;
    r /= eff;
    if (p + r == 0.0) return 0.0;
    return 100.0 * (1.0 + b2) * p * r / (b2 * p + r);
}

void nt_metrics_acc_result(const nt_metrics_acc *acc, nt_metrics *out) {
    if (!out) return;
    memset(out, 0, sizeof *out);
    if (!acc || acc->n_pairs == 0) return;
    out->n = acc->n_pairs;
    out->exact_match = 100.0 * (double)acc->n_exact / (double)acc->n_pairs;
    out->char_edits = acc->char_edits;
    out->ref_chars = acc->ref_chars;
    if (acc->ref_chars == 0) {
        out->char_accuracy = acc->char_edits == 0 ? 100.0 : 0.0;
    } else {
        double a = 1.0 - (double)acc->char_edits / (double)acc->ref_chars;
        out->char_accuracy = a > 0.0 ? 100.0 * a : 0.0;
    }
    bleu_result(acc, out);
    out->chrf = chrf_result(acc);
}

nt_status nt_metrics_corpus(nt_metrics *out, const char *const *hyps, const char *const *refs,
                            int64_t n) {
    if (!out || !hyps || !refs || n < 0)
        return nt_error(NT_ERR_ARG, "nt_metrics_corpus: %s", !out ? "out is NULL" : !hyps ? "hyps is NULL"
                                                         : !refs ? "refs is NULL" : "n < 0");
    nt_metrics_acc *acc;
    NT_TRY(nt_metrics_acc_new(&acc));
    for (int64_t i = 0; i < n; i++) {
        nt_status s = nt_metrics_acc_add(acc, hyps[i], refs[i]);
        if (s != NT_OK) {
            nt_metrics_acc_free(acc);
            return nt_error_wrap(s, "nt_metrics_corpus");
        }
    }
    nt_metrics_acc_result(acc, out);
    nt_metrics_acc_free(acc);
    return NT_OK;
}

nt_status nt_metrics_tokenize_13a(char **out, const char *line) {
    if (!out) return nt_error(NT_ERR_ARG, "nt_metrics_tokenize_13a: out is NULL");
    *out = NULL;
    if (!line) return nt_error(NT_ERR_ARG, "nt_metrics_tokenize_13a: line is NULL");
    nt_metrics_acc *acc;
    NT_TRY(nt_metrics_acc_new(&acc));
    nt_status s = NT_OK;
    if ((s = buf_reserve(&acc->hyp, (int64_t)strlen(line) + 1)) != NT_OK) goto done;
    int64_t bad = utf8_decode(&acc->hyp, line);
    if (bad >= 0) {
        s = nt_error(NT_ERR_FORMAT, "nt_metrics_tokenize_13a: line is not valid UTF-8 (byte %lld)", (long long)bad);
        goto done;
    }
    if ((s = tok13a(acc, &acc->hyp, &acc->htok, &acc->spans, 0)) != NT_OK) goto done;
    int64_t ntok = acc->spans.n / 2;
    char *str = nt_malloc((size_t)acc->htok.n * 4 + (size_t)ntok + 1), *w = str;
    if (!str) { s = nt_error(NT_ERR_NOMEM, "nt_metrics_tokenize_13a: out of memory"); goto done; }
    for (int64_t t = 0; t < ntok; t++) {
        if (t) *w++ = ' ';
        uint32_t st = acc->spans.p[2 * t], len = acc->spans.p[2 * t + 1];
        for (uint32_t k = 0; k < len; k++) w += nt_utf8_encode(acc->htok.p[st + k], w);
    }
    *w = 0;
    *out = str;
done:
    nt_metrics_acc_free(acc);
    return s;
}
