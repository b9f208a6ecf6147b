/* test_metrics.c - exact match, character accuracy, 13a BLEU and chrF against
 * hand-worked cases and the fixture of tests/make_metrics_fixture.py (NLTK
 * BLEU, an independent chrF, Python-regex 13a tokenization). */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "support/check.h"
#include "support/fixtures.h"
#include "eval/metrics.h"

static nt_metrics run(const char *const *h, const char *const *r, int n) {
    nt_metrics m;
    memset(&m, 0xff, sizeof m);
    nt_status s = nt_metrics_corpus(&m, h, r, n);
    CHECK(s == NT_OK, "corpus: %s", nt_errmsg());
    return m;
}

static void test_identical(void) {
    const char *h[] = {"the cat sat on the mat.", "one thousand, two hundred and five", "zwölf"};
    nt_metrics m = run(h, h, 3);
    CHECK(m.n == 3, "n");
    CHECK_CLOSE(m.exact_match, 100.0, 1e-12, 0);
    CHECK_CLOSE(m.char_accuracy, 100.0, 1e-12, 0);
    CHECK_CLOSE(m.bleu, 100.0, 1e-9, 0);
    for (int k = 0; k < 4; k++) CHECK_CLOSE(m.bleu_precisions[k], 100.0, 1e-9, 0);
    CHECK_CLOSE(m.bleu_bp, 1.0, 0, 0);
    CHECK_CLOSE(m.bleu_ratio, 1.0, 0, 0);
    /* 13a: the . and , are split off: 7 + 7 + 1 tokens */
    CHECK(m.bleu_sys_len == 15 && m.bleu_ref_len == 15, "lens %lld %lld", (long long)m.bleu_sys_len,
          (long long)m.bleu_ref_len);
    CHECK_CLOSE(m.chrf, 100.0, 1e-9, 0);
}

static void test_empty(void) {
    /* empty hypothesis: E = 7 = L, no n-gram at all, BP 0 */
    const char *h[] = {""}, *r[] = {"one two"};
    nt_metrics m = run(h, r, 1);
    CHECK_CLOSE(m.exact_match, 0.0, 0, 0);
    CHECK(m.char_edits == 7 && m.ref_chars == 7, "E %lld L %lld", (long long)m.char_edits,
          (long long)m.ref_chars);
    CHECK_CLOSE(m.char_accuracy, 0.0, 0, 0);
    CHECK_CLOSE(m.bleu, 0.0, 0, 0);
    CHECK_CLOSE(m.bleu_bp, 0.0, 0, 0);
    CHECK(m.bleu_sys_len == 0 && m.bleu_ref_len == 2, "lens");
    CHECK_CLOSE(m.chrf, 0.0, 0, 0);
    /* empty corpus: all zero */
    m = run(h, r, 0);
    CHECK(m.n == 0 && m.bleu == 0.0 && m.chrf == 0.0 && m.exact_match == 0.0, "empty corpus");
    /* empty reference and hypothesis: nothing to edit */
    const char *e[] = {""};
    m = run(e, e, 1);
    CHECK_CLOSE(m.char_accuracy, 100.0, 0, 0);
    CHECK_CLOSE(m.exact_match, 100.0, 0, 0);
    /* more edits than reference characters: clamped at 0 */
    const char *lh[] = {"abcdefgh"}, *lr[] = {"xy"};
    m = run(lh, lr, 1);
    CHECK(m.char_edits == 8, "E %lld", (long long)m.char_edits);
    CHECK_CLOSE(m.char_accuracy, 0.0, 0, 0);
}

static void test_one_word_off(void) {
    /* "one two three five" vs "one two three four", 4 tokens each:
     *   p1 = 3/4, p2 = 2/3, p3 = 1/2, p4 = 0/1 -> exp smoothing 1/(2 * 1)
     *   BLEU = (3/4 * 2/3 * 1/2 * 1/2)^(1/4) = (1/8)^(1/4) = 2^(-3/4)
     * characters: five -> four is 3 substitutions over 18 reference code points.
     * chrF (spaces removed): "onetwothreefive" vs "onetwothreefour" share the
     *   12-character prefix "onetwothreef" and nothing after it, so for
     *   n = 1..6 matches = 13 - n of 16 - n n-grams on both sides (the unigram
     *   count 12 also clips e: 4 in hyp, 3 in ref, and o: 2 vs 3), P = R:
     *   chrF = mean over n of (13 - n) / (16 - n). */
    const char *h[] = {"one two three five"}, *r[] = {"one two three four"};
    nt_metrics m = run(h, r, 1);
    CHECK_CLOSE(m.bleu, 100.0 * pow(2.0, -0.75), 1e-9, 0);
    CHECK_CLOSE(m.bleu_precisions[0], 75.0, 1e-9, 0);
    CHECK_CLOSE(m.bleu_precisions[1], 200.0 / 3.0, 1e-9, 0);
    CHECK_CLOSE(m.bleu_precisions[2], 50.0, 1e-9, 0);
    CHECK_CLOSE(m.bleu_precisions[3], 50.0, 1e-9, 0);
    CHECK(m.bleu_counts[3] == 0 && m.bleu_totals[3] == 1, "4-gram counts");
    CHECK_CLOSE(m.char_accuracy, 100.0 * (1.0 - 3.0 / 18.0), 1e-9, 0);
    double want = (12.0 / 15 + 11.0 / 14 + 10.0 / 13 + 9.0 / 12 + 8.0 / 11 + 7.0 / 10) / 6 * 100;
    CHECK_CLOSE(m.chrf, want, 1e-9, 0);

    /* swapped words "two one three four": p1 = 4/4, p2 = 1/3, p3 = 0/2 ->
     * 1/(2*2), p4 = 0/1 -> 1/(4*1): BLEU = (1/3 * 1/4 * 1/4)^(1/4) = 48^(-1/4) */
    const char *hs[] = {"two one three four"};
    m = run(hs, r, 1);
    CHECK_CLOSE(m.bleu, 100.0 * pow(48.0, -0.25), 1e-9, 0);
    CHECK_CLOSE(m.bleu_precisions[2], 25.0, 1e-9, 0);
    CHECK_CLOSE(m.bleu_precisions[3], 25.0, 1e-9, 0);

    /* dropped word "one two four": 3 tokens, BP = exp(1 - 4/3); no 4-gram in
     * the hypothesis (total 0), so sacreBLEU stops there and log(0) sends the
     * score to 0 while p1..p3 are reported: 100, 50, 1/(2*1) */
    const char *hd[] = {"one two four"};
    m = run(hd, r, 1);
    CHECK_CLOSE(m.bleu_bp, exp(1.0 - 4.0 / 3.0), 1e-12, 0);
    CHECK_CLOSE(m.bleu_ratio, 0.75, 1e-12, 0);
    CHECK_CLOSE(m.bleu, 0.0, 1e-12, 0);
    CHECK_CLOSE(m.bleu_precisions[0], 100.0, 1e-9, 0);
    CHECK_CLOSE(m.bleu_precisions[1], 50.0, 1e-9, 0);
    CHECK_CLOSE(m.bleu_precisions[2], 50.0, 1e-9, 0);
    CHECK_CLOSE(m.bleu_precisions[3], 0.0, 0, 0);

    /* exact match of 1 of 4, case-sensitive BLEU: "One" != "one" */
    const char *h4[] = {"a b c d", "x", "One two three four", "q"};
    const char *r4[] = {"a b c d", "y", "one two three four", "q "};
    m = run(h4, r4, 4);
    CHECK_CLOSE(m.exact_match, 25.0, 1e-12, 0);
    CHECK(m.bleu_counts[0] == 4 + 0 + 3 + 1, "unigram matches %lld", (long long)m.bleu_counts[0]);
}

/* One-token corpora, worked by hand from sacreBLEU 2.x's corpus BLEU
 * (BLEU.compute_bleu, smooth_method 'exp', effective_order off, which is
 * what corpus_score and the sacrebleu command use): the loop over orders
 * stops at the first order with no hypothesis n-gram at all, leaving that
 * precision and the later ones 0, and my_log(0) = -9999999999 makes the
 * score 0. An order with n-grams but no match gets 100 / (2^k * total),
 * k counting such orders. (sentence_bleu differs: it turns effective order
 * on and would score a lone matching token 100.) */
static void test_one_token(void) {
    /* every segment one token, all correct: p1 = 100, no bigram -> BLEU 0 */
    const char *h1[] = {"five", "six", "seven"};
    nt_metrics m = run(h1, h1, 3);
    CHECK_CLOSE(m.exact_match, 100.0, 0, 0);
    CHECK_CLOSE(m.bleu, 0.0, 0, 0);
    CHECK_CLOSE(m.bleu_precisions[0], 100.0, 1e-12, 0);
    for (int k = 1; k < 4; k++) CHECK(m.bleu_precisions[k] == 0.0 && m.bleu_totals[k] == 0, "p%d 0", k + 1);
    CHECK(m.bleu_counts[0] == 3 && m.bleu_totals[0] == 3, "unigrams %lld / %lld", (long long)m.bleu_counts[0],
          (long long)m.bleu_totals[0]);
    CHECK_CLOSE(m.bleu_bp, 1.0, 0, 0);
    /* one token, wrong: no match at any order -> 0, all precisions 0 */
    const char *h2[] = {"five"}, *r2[] = {"six"};
    m = run(h2, r2, 1);
    CHECK(m.bleu == 0.0 && m.bleu_precisions[0] == 0.0 && m.bleu_totals[0] == 1, "no match");
    /* a one-token hypothesis against a longer reference: BP = exp(1 - 4/1) */
    const char *h3[] = {"five"}, *r3[] = {"five six seven eight"};
    m = run(h3, r3, 1);
    CHECK_CLOSE(m.bleu_bp, exp(-3.0), 1e-15, 0);
    CHECK_CLOSE(m.bleu_ratio, 0.25, 0, 0);
    CHECK_CLOSE(m.bleu, 0.0, 0, 0);
    CHECK_CLOSE(m.bleu_precisions[0], 100.0, 1e-12, 0);
    /* a one-token reference: the hypothesis's n-grams still count (the
     * reference having none is no reason to drop them, unlike chrF):
     * clipped unigrams 1/4, then 0/3, 0/2, 0/1 smoothed 1/(2*3), 1/(4*2), 1/(8*1) */
    const char *h4[] = {"five five five five"}, *r4[] = {"five"};
    m = run(h4, r4, 1);
    CHECK(m.bleu_counts[0] == 1 && m.bleu_totals[0] == 4 && m.bleu_totals[3] == 1, "clipped counts");
    CHECK_CLOSE(m.bleu_precisions[0], 25.0, 1e-12, 0);
    CHECK_CLOSE(m.bleu_precisions[1], 100.0 / 6.0, 1e-12, 0);
    CHECK_CLOSE(m.bleu_precisions[2], 12.5, 1e-12, 0);
    CHECK_CLOSE(m.bleu_precisions[3], 12.5, 1e-12, 0);
    CHECK_CLOSE(m.bleu_bp, 1.0, 0, 0);
    CHECK_CLOSE(m.bleu_ratio, 4.0, 0, 0);
    CHECK_CLOSE(m.bleu, pow(25.0 * (100.0 / 6.0) * 12.5 * 12.5, 0.25), 1e-9, 0);
    /* corpus counts: one-token segments next to a four-token one add to the
     * sums and do not zero the score: 5/5, 3/3, 2/2, 1/1 -> 100 */
    const char *h5[] = {"a b c d", "e", "f"};
    m = run(h5, h5, 3);
    CHECK_CLOSE(m.bleu, 100.0, 1e-9, 0);
    CHECK(m.bleu_totals[0] == 6 && m.bleu_totals[1] == 3 && m.bleu_totals[3] == 1, "totals");
}

static void tok_is(const char *in, const char *want) {
    char *out = NULL;
    nt_status s = nt_metrics_tokenize_13a(&out, in);
    CHECK(s == NT_OK && out && strcmp(out, want) == 0, "13a(\"%s\") = \"%s\", expected \"%s\"", in,
          out ? out : "(null)", want);
    nt_free(out);
}

static void test_tokenizer(void) {
    tok_is("Hello, world!", "Hello , world !");                 /* punctuation */
    tok_is("It costs 1,000.50 dollars.", "It costs 1,000.50 dollars .");  /* numbers keep . , */
    tok_is("3.14, 2,5", "3.14 , 2,5");
    tok_is("U.S.A.", "U . S . A .");
    tok_is("5-3 well-known x-5", "5 - 3 well-known x-5");       /* dash only after a digit */
    tok_is("\"quoted\" it's", "\" quoted \" it's");            /* ' is not split */
    tok_is("&quot;a&quot; &amp;lt;", "\" a \" <");              /* entities, in sequence */
    tok_is("vingt-et-un, soixante.", "vingt-et-un , soixante .");
    tok_is("  \t", "");
    char *out = (char *)1;
    CHECK(nt_metrics_tokenize_13a(&out, "ab\xff") == NT_ERR_FORMAT && out == NULL, "bad utf8");
}

/* ---- the fixture ------------------------------------------------------------------ */

static char *unescape(char *s) {
    char *w = s;
    for (char *p = s; *p; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            *w++ = *p == 't' ? '\t' : *p == 'n' ? '\n' : *p == 'r' ? '\r' : *p;
        } else {
            *w++ = *p;
        }
    }
    *w = 0;
    return s;
}

static int split_tabs(char *line, char **f, int max) {
    int n = 0;
    f[n++] = line;
    for (char *p = line; *p && n < max; p++)
        if (*p == '\t') { *p = 0; f[n++] = p + 1; }
    return n;
}

static void test_fixture(void) {
    char path[1024];
    nt_fixture_path_to(path, sizeof path, "metrics_cases.tsv");
    FILE *f = fopen(path, "r");
    CHECK(f != NULL, "cannot open %s", path);
    if (!f) return;
    char line[8192];
    char *hyp[256], *ref[256];
    int np = 0, ntok = 0, ncorp = 0;
    while (fgets(line, sizeof line, f)) {
        size_t len = strlen(line);
        if (len && line[len - 1] == '\n') line[--len] = 0;
        if (line[0] == '#' || line[0] == 0) continue;
        char *fl[20];
        int nf = split_tabs(line, fl, 20);
        if (fl[0][0] == 'T' && nf == 3) {
            tok_is(unescape(fl[1]), unescape(fl[2]));
            ntok++;
        } else if (fl[0][0] == 'P' && nf == 3 && np < 256) {
            hyp[np] = strdup(unescape(fl[1]));
            ref[np] = strdup(unescape(fl[2]));
            np++;
        } else if (fl[0][0] == 'C' && nf == 15) {
            const char *name = fl[1];
            CHECK(atoi(fl[2]) == np, "%s: %d pairs, fixture says %s", name, np, fl[2]);
            nt_metrics m = run((const char *const *)hyp, (const char *const *)ref, np);
            double tol = 1e-9;
            CHECK(fabs(m.exact_match - atof(fl[3])) < tol, "%s exact %.12g vs %s", name, m.exact_match, fl[3]);
            CHECK(fabs(m.char_accuracy - atof(fl[4])) < tol, "%s char acc %.12g vs %s", name, m.char_accuracy, fl[4]);
            CHECK(fabs(m.bleu - atof(fl[5])) < tol, "%s BLEU %.12g vs %s", name, m.bleu, fl[5]);
            for (int k = 0; k < 4; k++)
                CHECK(fabs(m.bleu_precisions[k] - atof(fl[6 + k])) < tol, "%s p%d %.12g vs %s", name, k + 1,
                      m.bleu_precisions[k], fl[6 + k]);
            CHECK(fabs(m.bleu_bp - atof(fl[10])) < tol, "%s BP %.12g vs %s", name, m.bleu_bp, fl[10]);
            CHECK(fabs(m.bleu_ratio - atof(fl[11])) < tol, "%s ratio %.12g vs %s", name, m.bleu_ratio, fl[11]);
            CHECK(m.bleu_sys_len == atoll(fl[12]) && m.bleu_ref_len == atoll(fl[13]), "%s lens %lld %lld vs %s %s",
                  name, (long long)m.bleu_sys_len, (long long)m.bleu_ref_len, fl[12], fl[13]);
            CHECK(fabs(m.chrf - atof(fl[14])) < tol, "%s chrF %.12g vs %s", name, m.chrf, fl[14]);
            for (int i = 0; i < np; i++) { free(hyp[i]); free(ref[i]); }
            np = 0;
            ncorp++;
        } else {
            CHECK(0, "bad fixture line: %s", line);
        }
    }
    fclose(f);
    CHECK(ntok >= 200 && ncorp >= 11, "fixture read: %d tokenizer cases, %d corpora", ntok, ncorp);
    for (int i = 0; i < np; i++) { free(hyp[i]); free(ref[i]); }
}

/* ---- errors ------------------------------------------------------------------------- */

static void test_errors(void) {
    nt_metrics_acc *acc;
    CHECK(nt_metrics_acc_new(&acc) == NT_OK, "new");
    CHECK(nt_metrics_acc_add(acc, "one two three", "one two three") == NT_OK, "add");
    nt_metrics before, after;
    nt_metrics_acc_result(acc, &before);
    const char *bad[] = {"\xff", "ok \xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "a\x80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(nt_metrics_acc_add(acc, "fine", bad[i]) == NT_ERR_FORMAT, "bad utf8 %zu", i);
        CHECK(strstr(nt_errmsg(), "pair 1") && strstr(nt_errmsg(), "reference"), "msg: %s", nt_errmsg());
    }
    CHECK(nt_metrics_acc_add(acc, bad[0], "fine") == NT_ERR_FORMAT, "bad hyp");
    CHECK(strstr(nt_errmsg(), "hypothesis") != NULL, "msg: %s", nt_errmsg());
    CHECK(nt_metrics_acc_add(acc, NULL, "x") == NT_ERR_ARG, "NULL hyp");
    /* out of memory while growing scratch: NT_ERR_NOMEM, sums untouched */
    static char big[20000];
    memset(big, 'a', sizeof big - 1);
    nt_alloc_fail_after(1);
    CHECK(nt_metrics_acc_add(acc, big, big) == NT_ERR_NOMEM, "nomem");
    nt_alloc_fail_after(0);
    nt_metrics_acc_result(acc, &after);
    CHECK(memcmp(&before, &after, sizeof before) == 0, "accumulator unchanged after errors");
    /* the corpus call names the pair */
    const char *h[] = {"a", "b", "c\xfe"}, *r[] = {"a", "b", "c"};
    nt_metrics m;
    CHECK(nt_metrics_corpus(&m, h, r, 3) == NT_ERR_FORMAT, "corpus bad utf8");
    CHECK(strstr(nt_errmsg(), "pair 2") != NULL, "msg: %s", nt_errmsg());
    CHECK(nt_metrics_corpus(&m, NULL, r, 3) == NT_ERR_ARG, "NULL hyps");
    CHECK(nt_metrics_corpus(&m, h, r, -1) == NT_ERR_ARG, "n < 0");
    /* streaming equals the one-shot call */
    CHECK(nt_metrics_acc_add(acc, "four hundred and two", "four hundred and twenty") == NT_OK, "add 2");
    nt_metrics_acc_result(acc, &after);
    const char *h2[] = {"one two three", "four hundred and two"};
    const char *r2[] = {"one two three", "four hundred and twenty"};
    m = run(h2, r2, 2);
    CHECK(memcmp(&m, &after, sizeof m) == 0, "stream == corpus");
    nt_metrics_acc_free(acc);
    nt_metrics_acc_free(NULL);
    CHECK(strcmp(NT_METRICS_BLEU_SIGNATURE, "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:nextok-0.1") == 0,
          "bleu signature");
    CHECK(strstr(NT_METRICS_CHRF_SIGNATURE, "nc:6|nw:0|space:no") != NULL, "chrf signature");
}

/* Every allocation failing in turn: NT_ERR_NOMEM or the right answer. */
static void test_nomem(void) {
    const char *h[] = {"one two three five", "zwölf."}, *r[] = {"one two three four", "zwölf"};
    nt_metrics want = run(h, r, 2), m;
    int nomem = 0;
    for (uint64_t k = 1; k <= 40; k++) {
        nt_alloc_fail_after(k);
        nt_status s = nt_metrics_corpus(&m, h, r, 2);
        nt_alloc_fail_after(0);
        CHECK(s == NT_OK || s == NT_ERR_NOMEM, "k %d: %s", (int)k, nt_errmsg());
        if (s == NT_OK) CHECK(memcmp(&m, &want, sizeof m) == 0, "k %d: result", (int)k);
        nomem += s == NT_ERR_NOMEM;
    }
    CHECK(nomem > 0, "no allocation failed");
}

int main(void) {
    test_identical();
    test_empty();
    test_one_word_off();
    test_one_token();
    test_tokenizer();
    test_fixture();
    test_errors();
    test_nomem();
    return nt_check_report("test_metrics");
}
