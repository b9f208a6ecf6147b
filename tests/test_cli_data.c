/* test_cli_data.c - runs the real `nextok-translate data` (path from NT_BIN):
 * the files it writes, determinism, and the exits on bad flags. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/number_corpus.h"
#include "data/tsv.h"
#include "support/check.h"
#include "support/cli_run.h"
#include "support/proc.h"
#include "support/scratch.h"


static void test_writes(void) {
    char dir[1100], dir2[1100], path[1200];
    snprintf(dir, sizeof dir, "%s/digits-fr", nt_scratch);
    snprintf(dir2, sizeof dir2, "%s/again", nt_scratch);
    const char *a1[] = {"data", "--task", "digits-fr", "--out", dir, "--train", "300", "--valid", "20", "--test", "30",
                        "--seed", "7", NULL};
    CHECK(nt_cli_run(a1) == 0, "data exit: %s", nt_cli_err);
    const char *a2[] = {"data", "--task", "digits-fr", "--out", dir2, "--train", "300", "--valid", "20", "--test", "30",
                        "--seed", "7", NULL};
    CHECK(nt_cli_run(a2) == 0, "data again: %s", nt_cli_err);
    const char *names[3] = {"train.tsv", "valid.tsv", "test.tsv"};
    int want[3] = {300, 20, 30};
    static char seen[1000000];
    memset(seen, 0, sizeof seen);
    int shared = 0;
    for (int s = 0; s < 3; s++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[s]);
        nt_tsv *t;
        CHECK(nt_tsv_read(&t, path, NULL) == NT_OK, "read %s: %s", path, nt_errmsg());
        if (!t) continue;
        CHECK(t->n == want[s] && t->n_lines == want[s], "%s: %d pairs", names[s], t->n);
        /* each pair is one number, digits then fr */
        for (int i = 0; i < t->n; i++) {
            int n = atoi(t->src[i]);
            char fr[NT_NUMBER_CORPUS_MAX_TEXT];
            CHECK(n >= 0 && n <= NT_NUMBER_CORPUS_MAX_NUMBER, "%s line %d: %s", names[s], i + 1, t->src[i]);
            if (n < 0 || n > NT_NUMBER_CORPUS_MAX_NUMBER) continue;
            nt_number_corpus_render(NT_NUMBER_FORM_FR, n, fr, sizeof fr);
            CHECK(strcmp(fr, t->tgt[i]) == 0, "%s line %d: %s", names[s], i + 1, t->tgt[i]);
            shared += seen[n];
            seen[n] = 1;
        }
        nt_tsv_free(t);
        /* same seed, same bytes */
        char p2[1200];
        snprintf(p2, sizeof p2, "%s/%s", dir2, names[s]);
        char *x = nt_proc_read_file(path, NULL), *y = nt_proc_read_file(p2, NULL);
        CHECK(x && y && strcmp(x, y) == 0, "%s: same seed, same file", names[s]);
        free(x);
        free(y);
    }
    CHECK(shared == 0, "splits share %d numbers", shared);
    /* defaults: 20000 / 500 / 1000 */
    snprintf(dir, sizeof dir, "%s/digits-de", nt_scratch);
    const char *a3[] = {"data", "--task", "digits-de", "--out", dir, NULL};
    CHECK(nt_cli_run(a3) == 0, "defaults: %s", nt_cli_err);
    for (int s = 0; s < 3; s++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[s]);
        nt_tsv *t;
        const int want_default[3] = {20000, 500, 1000};
        CHECK(nt_tsv_read(&t, path, NULL) == NT_OK && t->n == want_default[s], "default %s", names[s]);
        if (t && s == 0) {
            /* length sampling: plenty of short numbers */
            int short_ = 0;
            for (int i = 0; i < t->n; i++) short_ += strlen(t->src[i]) <= 3;
            CHECK(short_ > 700, "short numbers in train: %d", short_);
        }
        nt_tsv_free(t);
    }
    /* uniform sampling over a small range uses it up */
    snprintf(dir, sizeof dir, "%s/small", nt_scratch);
    const char *a4[] = {"data", "--task", "digits-arabic", "--out", dir, "--max", "99", "--train", "90", "--valid",
                        "5", "--test", "5", "--sampling", "uniform", NULL};
    CHECK(nt_cli_run(a4) == 0, "small: %s", nt_cli_err);
    snprintf(path, sizeof path, "%s/train.tsv", dir);
    char *x = nt_proc_read_file(path, NULL);
    CHECK(x && strstr(x, "\t") != NULL && strstr(x, "\xD9"), "arabic digits written");
    free(x);
}

static void expect_usage_error(const char *const *args, const char *fragment) {
    int rc = nt_cli_run(args);
    CHECK(rc == 2, "%s %s: exit %d", args[1] ? args[1] : "", fragment, rc);
    CHECK(strstr(nt_cli_err, fragment) != NULL, "stderr lacks \"%s\": %s", fragment, nt_cli_err);
    /* the message and one line pointing to --help, not the whole help */
    CHECK(strstr(nt_cli_err, "--help'.") != NULL, "stderr lacks the --help pointer: %s", nt_cli_err);
    CHECK(strstr(nt_cli_err, "usage:") == NULL, "stderr holds the whole help: %s", nt_cli_err);
}

/* --typed: the numbers people type first, as a training file, less the excluded */
static void test_typed(void) {
    char dir[1100], dir2[1100], path[1200];
    snprintf(dir, sizeof dir, "%s/typed", nt_scratch);
    const char *a[] = {"data", "--task", "en-fr", "--out", dir, "--typed", NULL};
    CHECK(nt_cli_run(a) == 0, "typed: %s", nt_cli_err);
    snprintf(path, sizeof path, "%s/train.tsv", dir);
    char *x = nt_proc_read_file(path, NULL);
    int lines = 0;
    for (const char *c = x ? x : ""; *c; c++) lines += *c == '\n';
    /* 0..1000 (1001), k*10^n above 1000 (4 x 9 = 36, less 10,000 .. 90,000 and 100,000 .. 900,000
     * counted again below), k*1000 for k = 2..999 (998): 1001 + 998 = 1999 distinct */
    CHECK(lines == 1999, "typed: %d lines", lines);
    CHECK(x && strstr(x, "\neighty thousand\tquatre-vingt mille\n") && strstr(x, "\nnine hundred thousand\tneuf cent mille\n") &&
              strncmp(x, "zero\tz\xc3\xa9ro\n", 11) == 0,
          "typed content");
    free(x);
    /* less an excluded file's numbers */
    snprintf(dir2, sizeof dir2, "%s/typed2", nt_scratch);
    const char *b[] = {"data", "--task", "en-fr", "--out", dir2, "--typed", "--exclude", path, "--max", "2000", NULL};
    CHECK(nt_cli_run(b) == 0 && strstr(nt_cli_out, "(0)") && strstr(nt_cli_out, "excluded 1002"), "typed minus itself: %s %s", nt_cli_out,
          nt_cli_err);
}

static void test_errors(void) {
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/err", nt_scratch);
    expect_usage_error((const char *[]){"data", "--task", "en-fr", "--out", dir, "--bogus", "1", NULL},
                       "unknown option \"--bogus\"");
    expect_usage_error((const char *[]){"data", "--task", "en-fr", "--out", NULL}, "--out needs a value");
    expect_usage_error((const char *[]){"data", "--task", "en-fr", "--out", dir, "--train", "12x", NULL},
                       "--train \"12x\": expected an integer in 0..1000000 or all");
    expect_usage_error((const char *[]){"data", "--task", "en-fr", "--out", dir, "--train", "-5", NULL},
                       "--train \"-5\": expected an integer");
    expect_usage_error((const char *[]){"data", "--task", "en-fr", "--out", dir, "--max", "1000000", NULL},
                       "--max \"1000000\": expected an integer in 0..999999");
    expect_usage_error((const char *[]){"data", "--task", "en-fr", "--out", dir, "--seed", "-1", NULL},
                       "\"-1\": expected");
    expect_usage_error((const char *[]){"data", "--task", "en-en", "--out", dir, NULL}, "same form");
    expect_usage_error((const char *[]){"data", "--task", "en-es", "--out", dir, NULL}, "unknown form");
    expect_usage_error((const char *[]){"data", "--out", dir, NULL}, "--task is required");
    expect_usage_error((const char *[]){"data", "--task", "en-fr", NULL}, "--out is required");
    expect_usage_error((const char *[]){"data", "--task", "en-fr", "--out", dir, "--sampling", "zipf", NULL},
                       "--sampling \"zipf\": expected one of uniform, length");
    expect_usage_error((const char *[]){"data", "--task", "en-fr", "--out", dir, "--max", "50", "--train", "60", NULL},
                       "holds only 51");
    expect_usage_error((const char *[]){"frobnicate", NULL}, "unknown command \"frobnicate\"");
    /* unwritable output: a runtime failure, exit 1 */
    char file[1100];
    snprintf(file, sizeof file, "%s/a-file", nt_scratch);
    CHECK(nt_proc_write_file(file, "x", 1) == 0, "write %s", file);
    int rc = nt_cli_run((const char *[]){"data", "--task", "en-fr", "--out", file, "--train", "5", NULL});
    CHECK(rc == 1 && strstr(nt_cli_err, "not a directory"), "out is a file: %d %s", rc, nt_cli_err);
    /* --help: exit 0, defaults stated */
    CHECK(nt_cli_run((const char *[]){"data", "--help", NULL}) == 0, "help");
    const char *h = nt_cli_out;
    CHECK(strstr(h, "default 20000") && strstr(h, "default 500") && strstr(h, "default 1000") &&
              strstr(h, "default 999999") && strstr(h, "default length"), "help states defaults: %s", h);
    CHECK(nt_cli_run((const char *[]){NULL}) == 2, "no command");
}

/* --train all: every number of 0..M that test, valid and --exclude leave,
 * with no count to work out by hand (demo.sh's short numbers). */
static void test_train_all(void) {
    char a[1100], b[1100], path[1200];
    snprintf(a, sizeof a, "%s/all-a", nt_scratch);
    snprintf(b, sizeof b, "%s/all-b", nt_scratch);
    const char *a1[] = {"data", "--task", "digits-en", "--out", a, "--max", "99", "--test", "10", "--valid", "5",
                        "--train", "all", "--seed", "3", NULL};
    CHECK(nt_cli_run(a1) == 0 && strstr(nt_cli_out, "train.tsv (85)"), "--train all: %s%s", nt_cli_out, nt_cli_err);
    static int seen[100];
    memset(seen, 0, sizeof seen);
    const char *names[3] = {"train.tsv", "valid.tsv", "test.tsv"};
    const int want[3] = {85, 5, 10};
    for (int s = 0; s < 3; s++) {
        snprintf(path, sizeof path, "%s/%s", a, names[s]);
        nt_tsv *t;
        CHECK(nt_tsv_read(&t, path, NULL) == NT_OK && t->n == want[s], "%s: %s", names[s], nt_errmsg());
        if (!t) continue;
        for (int i = 0; i < t->n; i++) {
            int n = atoi(t->src[i]);
            if (n >= 0 && n < 100) seen[n]++;
        }
        nt_tsv_free(t);
    }
    int once = 0;
    for (int n = 0; n < 100; n++) once += seen[n] == 1;
    CHECK(once == 100, "every number of 0..99 in exactly one split (%d)", once);
    /* around an exclusion: what the excluded file leaves, all of it */
    snprintf(path, sizeof path, "%s/test.tsv", a);
    const char *a2[] = {"data", "--task", "digits-en", "--out", b, "--max", "99", "--test", "0", "--valid", "0",
                        "--train", "all", "--sampling", "uniform", "--exclude", path, NULL};
    CHECK(nt_cli_run(a2) == 0 && strstr(nt_cli_out, "train.tsv (90)"), "--train all --exclude: %s%s", nt_cli_out, nt_cli_err);
    /* nothing left for training is not an error; too little for test is */
    const char *a3[] = {"data", "--task", "digits-en", "--out", b, "--max", "9", "--test", "10", "--valid", "0",
                        "--train", "all", NULL};
    CHECK(nt_cli_run(a3) == 0 && strstr(nt_cli_out, "train.tsv (0)"), "--train all, nothing left: %s%s", nt_cli_out, nt_cli_err);
    const char *a4[] = {"data", "--task", "digits-en", "--out", b, "--max", "9", "--test", "11", "--valid", "0",
                        "--train", "all", NULL};
    CHECK(nt_cli_run(a4) == 2 && strstr(nt_cli_err, "only 10 numbers"), "--train all, test too large: %s", nt_cli_err);
}

int main(void) {
    nt_cli_use("nextok-translate");
    CHECK(access(nt_cli_bin, X_OK) == 0, "no executable %s (set NT_BIN)", nt_cli_bin);
    CHECK(nt_scratch_begin("nt_cli_data"), "mkdtemp");
    test_writes();
    test_errors();
    test_train_all();
    test_typed();
    nt_scratch_end();
    return nt_check_report("test_cli_data");
}
