/* test_tsv.c - the parallel-corpus reader: good files, every error case, skip mode. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "data/tsv.h"
#include "support/check.h"

/* Reads `bytes` as file `name`; expects status `want`; if an error, the
 * message must contain each of the fragments. */
static nt_tsv *read_mem(const char *bytes, size_t len, const nt_tsv_config *cfg, nt_status want,
                        const char *frag1, const char *frag2) {
    nt_tsv *t = NULL;
    nt_status s = nt_tsv_read_buffer(&t, "corpus.tsv", bytes, len, cfg);
    CHECK(s == want, "status %s, want %s (%s)", nt_status_name(s), nt_status_name(want), nt_errmsg());
    if (s != NT_OK) {
        CHECK(t == NULL, "out NULL on error");
        if (frag1) CHECK(strstr(nt_errmsg(), frag1) != NULL, "message \"%s\" lacks \"%s\"", nt_errmsg(), frag1);
        if (frag2) CHECK(strstr(nt_errmsg(), frag2) != NULL, "message \"%s\" lacks \"%s\"", nt_errmsg(), frag2);
    }
    return t;
}
#define READ(str, cfg, want, f1, f2) read_mem(str, sizeof(str) - 1, cfg, want, f1, f2)

static void test_good(void) {
    nt_tsv *t = READ("one\tun\ntwo\tdeux\n", NULL, NT_OK, NULL, NULL);
    CHECK(t && t->n == 2 && strcmp(t->src[1], "two") == 0 && strcmp(t->tgt[1], "deux") == 0, "plain");
    CHECK(t && t->line[1] == 2 && t->n_skipped == 0, "lines");
    nt_tsv_free(t);
    /* CRLF, no final newline, UTF-8 of several lengths */
    t = READ("z\xC3\xA9ro\t\xD9\xA0\r\nfünf\tneuf\r\n\xF0\x9F\x98\x80 x\tdrei", NULL, NT_OK, NULL, NULL);
    CHECK(t && t->n == 3, "crlf n");
    if (t && t->n == 3) {
        CHECK(strcmp(t->src[0], "zéro") == 0 && strcmp(t->tgt[0], "٠") == 0, "crlf 0: %s|%s", t->src[0], t->tgt[0]);
        CHECK(strcmp(t->tgt[1], "neuf") == 0, "crlf stripped: [%s]", t->tgt[1]);
        CHECK(strcmp(t->tgt[2], "drei") == 0 && t->line[2] == 3, "last line without newline");
    }
    nt_tsv_free(t);
    t = READ("", NULL, NT_OK, NULL, NULL);
    CHECK(t && t->n == 0, "empty file");
    nt_tsv_free(t);
    /* spaces inside a side are content; around it they are trimmed (test_hygiene) */
    t = READ(" a  b \t b \n", NULL, NT_OK, NULL, NULL);
    CHECK(t && strcmp(t->src[0], "a  b") == 0 && strcmp(t->tgt[0], "b") == 0, "inner spaces kept");
    nt_tsv_free(t);
}

static void test_errors(void) {
    READ("a\tb\nno tab here\n", NULL, NT_ERR_FORMAT, "corpus.tsv:2: missing tab", NULL);
    READ("a\tb\tc\n", NULL, NT_ERR_FORMAT, "corpus.tsv:1: extra tab", "2 tabs");
    READ("a\tb\n\tb\n", NULL, NT_ERR_FORMAT, "corpus.tsv:2: empty side", "source is empty");
    READ("a\tb\r\nc\t\r\n", NULL, NT_ERR_FORMAT, "corpus.tsv:2: empty side", "target is empty");
    READ("a\tb\n\xC3\x28\tb\n", NULL, NT_ERR_FORMAT, "corpus.tsv:2: invalid UTF-8", "byte 1");
    READ("ab\t\xE2\x82\n", NULL, NT_ERR_FORMAT, "corpus.tsv:1: invalid UTF-8", "byte 4");   /* truncated */
    READ("a\t\xC0\xAF\n", NULL, NT_ERR_FORMAT, "invalid UTF-8", NULL);                      /* overlong */
    READ("a\t\xED\xA0\x80\n", NULL, NT_ERR_FORMAT, "invalid UTF-8", NULL);                  /* surrogate */
    READ("a\t\xF4\x90\x80\x80\n", NULL, NT_ERR_FORMAT, "invalid UTF-8", NULL);              /* > U+10FFFF */
    READ("a\t\xFF\n", NULL, NT_ERR_FORMAT, "invalid UTF-8", NULL);
    READ("a\tb\x00" "c\n", NULL, NT_ERR_FORMAT, "invalid UTF-8", "NUL");
    READ("a\tb\n\nc\td\n", NULL, NT_ERR_FORMAT, "corpus.tsv:2: empty line", NULL);
    nt_tsv_config c = {.max_line_bytes = 8};
    nt_tsv *t = READ("1234\t567\n", &c, NT_OK, NULL, NULL); /* 8 bytes: at the limit */
    nt_tsv_free(t);
    READ("1234\t567\n1234\t5678\n", &c, NT_ERR_FORMAT, "corpus.tsv:2: line too long", "9 bytes, limit 8");
    /* CRLF does not count toward the limit */
    t = READ("1234\t567\r\n", &c, NT_OK, NULL, NULL);
    nt_tsv_free(t);
    /* files */
    t = NULL;
    CHECK(nt_tsv_read(&t, "/nonexistent/x.tsv", NULL) == NT_ERR_IO && t == NULL, "missing file");
    CHECK(strstr(nt_errmsg(), "/nonexistent/x.tsv") != NULL, "msg: %s", nt_errmsg());
    CHECK(nt_tsv_read(NULL, "x", NULL) == NT_ERR_ARG, "NULL out");
    char path[] = "/tmp/nt_tsv_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp");
    FILE *f = fdopen(fd, "wb");
    /* a file larger than the reader's first buffer, with a bad line at the end */
    for (int i = 0; i < 20000; i++) fprintf(f, "%d\tx%d\n", i, i);
    fprintf(f, "bad line\n");
    fclose(f);
    CHECK(nt_tsv_read(&t, path, NULL) == NT_ERR_FORMAT, "big file bad line");
    char want[128];
    snprintf(want, sizeof want, "%s:20001: missing tab", path);
    CHECK(strstr(nt_errmsg(), want) != NULL, "msg: %s", nt_errmsg());
    nt_tsv_config skip = {.skip_bad = 1};
    CHECK(nt_tsv_read(&t, path, &skip) == NT_OK && t->n == 20000 && t->n_skipped == 1, "big file skip");
    if (t) CHECK(strcmp(t->src[19999], "19999") == 0 && strcmp(t->tgt[19999], "x19999") == 0, "last pair");
    nt_tsv_free(t);
    unlink(path);
}

static void test_skip(void) {
    nt_tsv_config c = {.max_line_bytes = 20, .skip_bad = 1};
    const char text[] = "a\tb\nno tab\nx\ty\tz\n\tq\n\xFF\tq\n0123456789\t0123456789\n\nc\td";
    nt_tsv *t = READ(text, &c, NT_OK, NULL, NULL);
    CHECK(t != NULL, "skip mode");
    if (!t) return;
    CHECK(t->n == 2 && strcmp(t->src[1], "c") == 0 && t->line[1] == 8, "kept 2 (n %d)", t->n);
    CHECK(t->n_skipped == 6 && t->n_lines == 8, "skipped %d of %d", t->n_skipped, t->n_lines);
    for (int r = 0; r < NT_TSV_N_REASONS; r++) CHECK(t->skipped[r] == 1, "reason %s: %d", nt_tsv_reason_name((nt_tsv_reason)r), t->skipped[r]);
    CHECK(strstr(t->first_skipped, "corpus.tsv:2: missing tab") != NULL, "first: %s", t->first_skipped);
    char sum[256];
    nt_tsv_skip_summary(t, sum, sizeof sum);
    CHECK(strcmp(sum, "skipped 6 lines: 1 invalid UTF-8, 1 missing tab, 1 extra tab, 1 empty side, "
                      "1 line too long, 1 empty line") == 0, "summary: %s", sum);
    nt_tsv_free(t);
    nt_tsv_free(NULL);
}

static void test_nomem(void) {
    /* every allocation of a read can fail cleanly: count the read's N
     * allocations, then fail each one in turn; each must be reported (an
     * injection that never happened would pass a loop accepting NT_OK) */
    nt_tsv *t = NULL;
    uint64_t a0 = nt_alloc_count();
    CHECK(nt_tsv_read_buffer(&t, "m.tsv", "a\tb\n", 4, NULL) == NT_OK, "read");
    uint64_t n = nt_alloc_count() - a0;
    nt_tsv_free(t);
    CHECK(n > 0 && n < 1000, "the read allocates through nt_malloc (%llu)", (unsigned long long)n);
    int reported = 0;
    for (uint64_t k = 1; k <= n + 1 && k < 1000; k++) {
        t = (nt_tsv *)1;
        nt_alloc_fail_after(k);
        nt_status s = nt_tsv_read_buffer(&t, "m.tsv", "a\tb\n", 4, NULL);
        nt_alloc_fail_after(0);
        if (k <= n) CHECK(s == NT_ERR_NOMEM && t == NULL, "fail at %d of %d: %s", (int)k, (int)n, nt_status_name(s));
        else CHECK(s == NT_OK, "allocation %d is past the last: %s", (int)k, nt_status_name(s));
        reported += k <= n && s == NT_ERR_NOMEM;
        nt_tsv_free(s == NT_OK ? t : NULL);
    }
    CHECK(reported == (int)n, "%d of %d injected failures reported", reported, (int)n);
}

/* A byte-order mark is dropped and said (bom); spaces around a field are
 * trimmed and counted; a field of spaces only is an empty side. */
static void test_hygiene(void) {
    nt_tsv *t = READ("\xEF\xBB\xBFseven\tsept\r\neight\thuit\n", NULL, NT_OK, NULL, NULL);
    CHECK(t && t->bom == 1 && t->n == 2 && strcmp(t->src[0], "seven") == 0 && strcmp(t->tgt[0], "sept") == 0,
          "BOM dropped: \"%s\"", t ? t->src[0] : "");
    CHECK(t && t->n_trimmed == 0 && t->first_trimmed == 0, "nothing trimmed");
    nt_tsv_free(t);
    t = READ("one\tun\n seven \t  sept \ntwo\tdeux  \r\n", NULL, NT_OK, NULL, NULL);
    CHECK(t && t->bom == 0 && t->n == 3, "three pairs");
    CHECK(t && strcmp(t->src[1], "seven") == 0 && strcmp(t->tgt[1], "sept") == 0, "trimmed: \"%s\" \"%s\"",
          t ? t->src[1] : "", t ? t->tgt[1] : "");
    CHECK(t && strcmp(t->tgt[2], "deux") == 0 && strcmp(t->src[0], "one") == 0, "trailing spaces before CRLF");
    CHECK(t && t->n_trimmed == 2 && t->first_trimmed == 2, "counted: %d from line %d", t ? t->n_trimmed : -1,
          t ? t->first_trimmed : -1);
    CHECK(t && strcmp(t->src[1], "seven") == 0 && t->line[1] == 2, "line numbers kept");
    nt_tsv_free(t);
    READ("one\t   \n", NULL, NT_ERR_FORMAT, "corpus.tsv:1", "target is empty");
    /* a BOM elsewhere than at the start is data */
    t = READ("a\tb\n\xEF\xBB\xBF" "c\td\n", NULL, NT_OK, NULL, NULL);
    CHECK(t && t->bom == 0 && strcmp(t->src[1], "\xEF\xBB\xBF" "c") == 0, "BOM inside the file kept");
    nt_tsv_free(t);
}

int main(void) {
    test_good();
    test_hygiene();
    test_errors();
    test_skip();
    test_nomem();
    return nt_check_report("test_tsv");
}
