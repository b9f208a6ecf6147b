/* numbers.c - input normalisation for the number task (see numbers.h). */
#include "numbers.h"

#include <stdint.h>
#include <string.h>

#include "core/strset.h"
#include "data/number_corpus.h"

/* ---- folding ---------------------------------------------------------------------------- */

/* Lower case, one space between words and none around, typographic dashes as '-'. */
static size_t fold(const char *in, char *out, size_t cap) {
    size_t k = 0;
    int space = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p;) {
        unsigned char c = p[0];
        char put[4];
        int np = 0, adv = 1;
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f') {
            space = 1;
        } else if (c == 0xC2 && p[1] == 0xA0) { /* no-break space */
            space = 1, adv = 2;
        } else if (c == 0xE2 && p[1] == 0x80 && (p[2] == 0x87 || p[2] == 0x89 || p[2] == 0xAF)) {
            space = 1, adv = 3; /* figure, thin and narrow no-break space: "1 000" as French typesets it */
        } else if (c >= 'A' && c <= 'Z') {
            put[np++] = (char)(c + 32);
        } else if (c == 0xC3 && p[1] >= 0x80 && p[1] <= 0x9E && p[1] != 0x97) { /* À..Þ but × */
            put[np++] = (char)0xC3, put[np++] = (char)(p[1] + 0x20), adv = 2;
        } else if (c == 0xE2 && p[1] == 0x80 && p[2] >= 0x90 && p[2] <= 0x94) { /* ‐ ‑ ‒ – — */
            put[np++] = '-', adv = 3;
        } else if (c == 0xE2 && p[1] == 0x88 && p[2] == 0x92) { /* − */
            put[np++] = '-', adv = 3;
        } else {
            put[np++] = (char)c;
        }
        for (int i = 1; i < adv; i++)
            if (!p[i]) adv = i; /* a truncated sequence: copy what there is */
        p += adv;
        if (np) {
            if (space && k > 0 && k + 1 < cap) out[k++] = ' ';
            space = 0;
            for (int i = 0; i < np && k + 1 < cap; i++) out[k++] = put[i];
        }
    }
    if (cap) out[k < cap ? k : cap - 1] = 0;
    return k;
}

/* ---- words -------------------------------------------------------------------------------- */

enum { W_EN, W_FR, W_DE, N_WORD_FORMS };
static const nt_number_form word_form[N_WORD_FORMS] = {NT_NUMBER_FORM_EN, NT_NUMBER_FORM_FR, NT_NUMBER_FORM_DE};
static const char *thousand_word[N_WORD_FORMS] = {"thousand", "mille", "tausend"};

/* The words of `text` without the spelling variants of form w (numbers.h),
 * one space between them (de: no spaces at all). */
static void skeleton(int w, const char *text, char *out, size_t cap) {
    size_t k = 0;
    const char *p = text;
    while (*p) {
        while (*p == ' ' || *p == '-' || (w == W_EN && *p == ',')) p++;
        const char *s = p;
        while (*p && *p != ' ' && *p != '-' && !(w == W_EN && *p == ',')) p++;
        size_t n = (size_t)(p - s);
        if (n == 0) break;
        if (w == W_EN && n == 3 && memcmp(s, "and", 3) == 0) continue;
        if (w == W_FR && n == 2 && memcmp(s, "et", 2) == 0) continue;
        if (w == W_FR && ((n == 6 && memcmp(s, "vingts", 6) == 0) || (n == 5 && memcmp(s, "cents", 5) == 0))) n--;
        if (k && w != W_DE && k + 1 < cap) out[k++] = ' ';
        for (size_t i = 0; i < n && k + 1 < cap; i++) out[k++] = s[i];
    }
    out[k < cap ? k : cap - 1] = 0;
}

enum { SK_MAX = 96 };
static char chunk_sk[N_WORD_FORMS][1000][SK_MAX]; /* skeleton of n = 0..999 in each form */
static int chunk_ready;

static void chunks_init(void) {
    if (chunk_ready) return;
    char buf[NT_NUMBER_CORPUS_MAX_TEXT];
    for (int w = 0; w < N_WORD_FORMS; w++)
        for (int n = 0; n < 1000; n++) {
            nt_number_corpus_render(word_form[w], n, buf, sizeof buf);
            skeleton(w, buf, chunk_sk[w][n], SK_MAX);
        }
    chunk_ready = 1;
}

/* The n in lo..999 whose skeleton is s[0..len), or -1. */
static int chunk_lookup(int w, const char *s, size_t len, int lo) {
    if (len == 0 || len >= SK_MAX) return -1;
    if (w == W_DE && len == 3 && memcmp(s, "ein", 3) == 0) return 1; /* "eintausend" */
    for (int n = lo; n < 1000; n++)
        if (strlen(chunk_sk[w][n]) == len && memcmp(chunk_sk[w][n], s, len) == 0) return n;
    return -1;
}

/* The number whose skeleton in form w is sk, or -1. */
static int words_number(int w, const char *sk) {
    size_t len = strlen(sk), tl = strlen(thousand_word[w]);
    const char *t = NULL;
    for (const char *p = strstr(sk, thousand_word[w]); p; p = strstr(p + 1, thousand_word[w])) {
        int word_start = w == W_DE || p == sk || p[-1] == ' ';
        int word_end = w == W_DE || p[tl] == 0 || p[tl] == ' ';
        if (word_start && word_end) {
            t = p;
            break;
        }
    }
    if (!t) return chunk_lookup(w, sk, len, 0);
    size_t left = (size_t)(t - sk), right0 = left + tl;
    if (w != W_DE && left > 0) left--; /* the space before the word */
    if (w != W_DE && sk[right0] == ' ') right0++;
    int a = left == 0 ? 1 : chunk_lookup(w, sk, left, 1);
    int b = sk[right0] ? chunk_lookup(w, sk + right0, len - right0, 1) : 0;
    return a < 0 || b < 0 ? -1 : a * 1000 + b;
}

/* ---- digits ---------------------------------------------------------------------------------- */

/* The number written with digits (ASCII or Eastern Arabic-Indic, not mixed)
 * and thousands separators, or -1; *arabic tells which digits. */
static int digits_number(const char *s, int *arabic) {
    long v = 0;
    int digits = 0, ascii = 0, east = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        if (*p >= '0' && *p <= '9') {
            v = v * 10 + (*p - '0'), ascii = 1, digits++, p++;
        } else if (p[0] == 0xD9 && p[1] >= 0xA0 && p[1] <= 0xA9) {
            v = v * 10 + (p[1] - 0xA0), east = 1, digits++, p += 2;
        } else if (*p == ' ' || *p == ',' || *p == '_' || *p == '\'') {
            p++;
        } else if (p[0] == 0xD9 && p[1] == 0xAC) { /* U+066C ARABIC THOUSANDS SEPARATOR */
            p += 2;
        } else {
            return -1;
        }
        if (v > NT_NUMBER_CORPUS_MAX_NUMBER) return -1;
    }
    if (!digits || (ascii && east)) return -1;
    *arabic = east;
    return (int)v;
}

/* ---- the normaliser ------------------------------------------------------------------------------ */

nt_status nt_numbers_normalize(const char *in, char *out, size_t cap, int *number) {
    if (number) *number = -1;
    if (!in || !out || cap == 0) return nt_error(NT_ERR_ARG, "nt_numbers_normalize: NULL argument");
    char folded[1024];
    size_t n = fold(in, folded, sizeof folded);
    int value = -1;
    nt_number_form form = NT_NUMBER_FORM_DIGITS;
    if (n < sizeof folded - 1) {
        int arabic = 0;
        if ((value = digits_number(folded, &arabic)) >= 0) {
            form = arabic ? NT_NUMBER_FORM_ARABIC : NT_NUMBER_FORM_DIGITS;
        } else {
            chunks_init();
            char sk[1024], canon[NT_NUMBER_CORPUS_MAX_TEXT], canon_sk[1024];
            for (int w = 0; w < N_WORD_FORMS && value < 0; w++) {
                skeleton(w, folded, sk, sizeof sk);
                int v = words_number(w, sk);
                if (v < 0) continue;
                /* only the variants set aside may differ from the corpus' spelling */
                nt_number_corpus_render(word_form[w], v, canon, sizeof canon);
                skeleton(w, canon, canon_sk, sizeof canon_sk);
                if (strcmp(sk, canon_sk) == 0) value = v, form = word_form[w];
            }
        }
    }
    if (value >= 0) {
        if (number) *number = value;
        return nt_number_corpus_render(form, value, out, cap);
    }
    if (n + 1 > cap) {
        out[0] = 0;
        return nt_error(NT_ERR_ARG, "nt_numbers_normalize: %zu bytes needed, %zu given", n + 1, cap);
    }
    fold(in, out, cap);
    return NT_OK;
}

/* ---- the vocabulary check ------------------------------------------------------------------------ */

int nt_numbers_vocab(const nt_vocab *v) {
    if (!v) return 0;
    nt_strset words = {0};
    nt_status s = NT_OK;
    /* every word of every form, in every position a tokenizer distinguishes */
    static const int rest[] = {0, 1, 7, 21, 71, 80, 81, 91, 100, 101, 180, 200, 999};
    char buf[NT_NUMBER_CORPUS_MAX_TEXT];
    for (int f = 0; f < NT_NUMBER_FORM_COUNT && s == NT_OK; f++)
        for (int k = 0; k < 1000 && s == NT_OK; k++)
            for (int r = 0; r < (int)(sizeof rest / sizeof *rest); r++) {
                int n = k == 0 ? (r == 0 ? 0 : -1) : k * 1000 + rest[r];
                if (n < 0) continue;
                if (s == NT_OK && nt_number_corpus_render((nt_number_form)f, n, buf, sizeof buf) == NT_OK)
                    s = nt_vocab_collect(v, buf, &words);
                if (s == NT_OK && k < 1000 && r == 0 && nt_number_corpus_render((nt_number_form)f, k, buf, sizeof buf) == NT_OK)
                    s = nt_vocab_collect(v, buf, &words);
            }
    int all = s == NT_OK;
    for (int id = 5; id < nt_vocab_size(v) && all; id++) {
        const char *tok = nt_vocab_token(v, id);
        all = tok && nt_strset_has(&words, tok, strlen(tok));
    }
    nt_strset_free(&words);
    return all;
}
