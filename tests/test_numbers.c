/* test_numbers.c - input normalisation for the number task (data/numbers.h):
 * every spelling variant of a number gives the corpus' text of that number;
 * the corpus' texts are unchanged; text naming no number is only folded. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "data/number_corpus.h"
#include "data/numbers.h"
#include "support/check.h"

static int failures_shown;

/* Expects normalize(variant) == want and the number n. */
static void expect(const char *variant, const char *want, int n) {
    char out[NT_NUMBER_CORPUS_MAX_TEXT];
    int got = -2;
    nt_status s = nt_numbers_normalize(variant, out, sizeof out, &got);
    int ok = s == NT_OK && strcmp(out, want) == 0 && got == n;
    if (!ok && failures_shown++ < 20)
        CHECK(ok, "\"%s\" -> \"%s\" (%d), want \"%s\" (%d)", variant, out, got, want, n);
    else
        CHECK(ok, "(more)");
}

/* Replaces every occurrence of `from` by `to` in s (into out). */
static void replace(const char *s, const char *from, const char *to, char *out, size_t cap) {
    size_t k = 0, fl = strlen(from), tl = strlen(to);
    while (*s && k + tl + 1 < cap) {
        if (strncmp(s, from, fl) == 0) memcpy(out + k, to, tl), k += tl, s += fl;
        else out[k++] = *s++;
    }
    out[k] = 0;
}

static void upper_ascii(const char *s, char *out) {
    for (; *s; s++) *out++ = (char)toupper((unsigned char)*s);
    *out = 0;
}

/* The variants of form f's text of n (numbers.h's list), each expected to
 * normalise back to it. */
static void variants(nt_number_form f, int n) {
    char canon[NT_NUMBER_CORPUS_MAX_TEXT], v[512], w[512];
    nt_number_corpus_render(f, n, canon, sizeof canon);
    expect(canon, canon, n);
    snprintf(v, sizeof v, "  %s \t", canon); /* surrounding whitespace */
    expect(v, canon, n);
    replace(canon, " ", "   ", v, sizeof v); /* repeated spaces */
    expect(v, canon, n);
    upper_ascii(canon, v); /* SHOUTED (ASCII letters; "ZéRO" stays mixed) */
    expect(v, canon, n);
    if (f == NT_NUMBER_FORM_EN || f == NT_NUMBER_FORM_FR) {
        replace(canon, "-", " ", v, sizeof v); /* space instead of hyphen */
        expect(v, canon, n);
        replace(canon, " ", "-", v, sizeof v); /* hyphens everywhere */
        expect(v, canon, n);
    }
    if (f == NT_NUMBER_FORM_EN) {
        replace(canon, " and", "", v, sizeof v); /* no "and" */
        expect(v, canon, n);
        replace(v, ",", "", w, sizeof w); /* nor commas */
        expect(w, canon, n);
        replace(canon, " hundred", " hundred and", v, sizeof v); /* "and" where British English would not put it */
        if (n % 100 == 0) expect(v, canon, n);
        replace(canon, "y-", "y ", v, sizeof v);
        replace(v, ",", "", w, sizeof w);
        expect(w, canon, n);
    }
    if (f == NT_NUMBER_FORM_FR) {
        replace(canon, "vingts", "vingt", v, sizeof v); /* plural s or not */
        replace(v, "cents", "cent", w, sizeof w);
        expect(w, canon, n);
        replace(canon, " et ", "-et-", v, sizeof v); /* 1990 spelling */
        expect(v, canon, n);
    }
    if (f == NT_NUMBER_FORM_DE) {
        replace(canon, "und", " und ", v, sizeof v);
        expect(v, canon, n);
        replace(canon, "tausend", "-tausend ", v, sizeof v);
        expect(v, canon, n);
    }
    if (f == NT_NUMBER_FORM_DIGITS && n >= 1000) {
        snprintf(v, sizeof v, "%d,%03d", n / 1000, n % 1000);
        expect(v, canon, n);
        snprintf(v, sizeof v, "%d %03d", n / 1000, n % 1000);
        expect(v, canon, n);
        snprintf(v, sizeof v, "00%d", n);
        expect(v, canon, n);
    }
}

int main(void) {
    const nt_number_form forms[] = {NT_NUMBER_FORM_DIGITS, NT_NUMBER_FORM_ARABIC, NT_NUMBER_FORM_EN, NT_NUMBER_FORM_FR, NT_NUMBER_FORM_DE};
    for (int fi = 0; fi < 5; fi++)
        for (int n = 0; n <= NT_NUMBER_CORPUS_MAX_NUMBER; n += n < 2000 ? 1 : n < 100000 ? 97 : 997) variants(forms[fi], n);
    for (int fi = 0; fi < 5; fi++)
        for (int k = 1; k < 1000; k++) variants(forms[fi], k * 1000); /* every k thousand */
    /* the cases of the issue */
    expect("forty two", "forty-two", 42);
    expect(" seven ", "seven", 7);
    expect("Forty-Two", "forty-two", 42);
    expect("SEVEN", "seven", 7);
    expect("eighty thousand", "eighty thousand", 80000);
    expect("one thousand two hundred and thirty four", "one thousand, two hundred and thirty-four", 1234);
    expect("one thousand and five", "one thousand and five", 1005);
    expect("ZÉRO", "zéro", 0);
    expect("Quatre Vingt Dix Sept", "quatre-vingt-dix-sept", 97);
    expect("quatre-vingts mille", "quatre-vingt mille", 80000);
    expect("vingt et un", "vingt et un", 21);
    expect("zwei und vierzig", "zweiundvierzig", 42);
    expect("1 000", "1000", 1000);
    expect("١٬٠٠٠", "١٠٠٠", 1000);
    expect("forty \xe2\x80\x93 two", "forty-two", 42); /* an en dash */
    expect("1\xe2\x80\xaf" "000", "1000", 1000);          /* narrow no-break space, as French typesets it */
    expect("250\xe2\x80\x89" "000", "250000", 250000);    /* thin space */
    expect("1\xc2\xa0" "234", "1234", 1234);               /* no-break space */
    expect("mille\xc2\xa0" "deux", "mille deux", 1002);
    /* text that names no number is folded and nothing more */
    expect("Hello   World ", "hello world", -1);
    expect("forty forty", "forty forty", -1);
    expect("a hundred", "a hundred", -1);
    expect("1.5", "1.5", -1);
    expect("1000000", "1000000", -1);
    expect("12a", "12a", -1);
    expect("one two", "one two", -1);
    expect("", "", -1);
    char small[4];
    CHECK(nt_numbers_normalize("hello", small, sizeof small, NULL) == NT_ERR_ARG && small[0] == 0, "small buffer");
    return nt_check_report("test_numbers");
}
