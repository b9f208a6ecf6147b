/* test_cli_data.c - runs the real `nextok-translate data` (path from NT_BIN):
 * the files it writes, determinism, and the exits on bad flags. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "data/corpus.h"
#include "data/tsv.h"
#include "support/check.h"

static char bin[1024], tmp[] = "/tmp/nt_cli_XXXXXX", errtext[8192];

/* Runs bin with args (NULL-terminated), stdout/stderr to files; returns the
 * exit status (-1 if it did not exit normally); stderr text in errtext. */
static int run(const char *const *args) {
    char out_path[1100], err_path[1100];
    snprintf(out_path, sizeof out_path, "%s/stdout", tmp);
    snprintf(err_path, sizeof err_path, "%s/stderr", tmp);
    const char *argv[32];
    int n = 0;
    argv[n++] = bin;
    for (int i = 0; args[i] && n < 31; i++) argv[n++] = args[i];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644), e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(o, 1);
        dup2(e, 2);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    errtext[0] = 0;
    FILE *f = fopen(err_path, "r");
    if (f) {
        size_t k = fread(errtext, 1, sizeof errtext - 1, f);
        errtext[k] = 0;
        fclose(f);
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    size_t k = fread(s, 1, (size_t)n, f);
    s[k] = 0;
    fclose(f);
    return s;
}

static void test_writes(void) {
    char dir[1100], dir2[1100], path[1200];
    snprintf(dir, sizeof dir, "%s/digits-fr", tmp);
    snprintf(dir2, sizeof dir2, "%s/again", tmp);
    const char *a1[] = {"data", "--task", "digits-fr", "--out", dir, "--train", "300", "--valid", "20", "--test", "30",
                        "--seed", "7", NULL};
    CHECK(run(a1) == 0, "data exit: %s", errtext);
    const char *a2[] = {"data", "--task", "digits-fr", "--out", dir2, "--train", "300", "--valid", "20", "--test", "30",
                        "--seed", "7", NULL};
    CHECK(run(a2) == 0, "data again: %s", errtext);
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
            char fr[NT_CORPUS_MAX_TEXT];
            CHECK(n >= 0 && n <= NT_CORPUS_MAX_NUMBER, "%s line %d: %s", names[s], i + 1, t->src[i]);
            if (n < 0 || n > NT_CORPUS_MAX_NUMBER) continue;
            nt_corpus_render(NT_FORM_FR, n, fr, sizeof fr);
            CHECK(strcmp(fr, t->tgt[i]) == 0, "%s line %d: %s", names[s], i + 1, t->tgt[i]);
            shared += seen[n];
            seen[n] = 1;
        }
        nt_tsv_free(t);
        /* same seed, same bytes */
        char p2[1200];
        snprintf(p2, sizeof p2, "%s/%s", dir2, names[s]);
        char *x = slurp(path), *y = slurp(p2);
        CHECK(x && y && strcmp(x, y) == 0, "%s: same seed, same file", names[s]);
        free(x);
        free(y);
    }
    CHECK(shared == 0, "splits share %d numbers", shared);
    /* defaults: 20000 / 500 / 1000 */
    snprintf(dir, sizeof dir, "%s/digits-de", tmp);
    const char *a3[] = {"data", "--task", "digits-de", "--out", dir, NULL};
    CHECK(run(a3) == 0, "defaults: %s", errtext);
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
    snprintf(dir, sizeof dir, "%s/small", tmp);
    const char *a4[] = {"data", "--task", "digits-arabic", "--out", dir, "--max", "99", "--train", "90", "--valid",
                        "5", "--test", "5", "--sampling", "uniform", NULL};
    CHECK(run(a4) == 0, "small: %s", errtext);
    snprintf(path, sizeof path, "%s/train.tsv", dir);
    char *x = slurp(path);
    CHECK(x && strstr(x, "\t") != NULL && strstr(x, "\xD9"), "arabic digits written");
    free(x);
}

static void expect_usage_error(const char *const *args, const char *fragment) {
    int rc = run(args);
    CHECK(rc == 2, "%s %s: exit %d", args[1] ? args[1] : "", fragment, rc);
    CHECK(strstr(errtext, fragment) != NULL, "stderr lacks \"%s\": %s", fragment, errtext);
    CHECK(strstr(errtext, "usage:") != NULL, "stderr lacks the usage: %s", errtext);
}

static void test_errors(void) {
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/err", tmp);
    expect_usage_error((const char *[]){"data", "--task", "en-fr", "--out", dir, "--bogus", "1", NULL},
                       "unknown option \"--bogus\"");
    expect_usage_error((const char *[]){"data", "--task", "en-fr", "--out", NULL}, "--out needs a value");
    expect_usage_error((const char *[]){"data", "--task", "en-fr", "--out", dir, "--train", "12x", NULL},
                       "bad number \"12x\"");
    expect_usage_error((const char *[]){"data", "--task", "en-fr", "--out", dir, "--train", "-5", NULL},
                       "bad number \"-5\"");
    expect_usage_error((const char *[]){"data", "--task", "en-fr", "--out", dir, "--max", "1000000", NULL},
                       "bad number \"1000000\"");
    expect_usage_error((const char *[]){"data", "--task", "en-fr", "--out", dir, "--seed", "-1", NULL},
                       "bad number \"-1\"");
    expect_usage_error((const char *[]){"data", "--task", "en-en", "--out", dir, NULL}, "same form");
    expect_usage_error((const char *[]){"data", "--task", "en-es", "--out", dir, NULL}, "unknown form");
    expect_usage_error((const char *[]){"data", "--out", dir, NULL}, "--task is required");
    expect_usage_error((const char *[]){"data", "--task", "en-fr", NULL}, "--out is required");
    expect_usage_error((const char *[]){"data", "--task", "en-fr", "--out", dir, "--sampling", "zipf", NULL},
                       "unknown sampling \"zipf\"");
    expect_usage_error((const char *[]){"data", "--task", "en-fr", "--out", dir, "--max", "50", "--train", "60", NULL},
                       "holds only 51");
    expect_usage_error((const char *[]){"frobnicate", NULL}, "unknown command \"frobnicate\"");
    /* unwritable output: a runtime failure, exit 1 */
    char file[1100];
    snprintf(file, sizeof file, "%s/stdout", tmp);
    int rc = run((const char *[]){"data", "--task", "en-fr", "--out", file, "--train", "5", NULL});
    CHECK(rc == 1 && strstr(errtext, "not a directory"), "out is a file: %d %s", rc, errtext);
    /* --help: exit 0, defaults stated */
    CHECK(run((const char *[]){"data", "--help", NULL}) == 0, "help");
    char out[1100];
    snprintf(out, sizeof out, "%s/stdout", tmp);
    char *h = slurp(out);
    CHECK(h && strstr(h, "default 20000") && strstr(h, "default 500") && strstr(h, "default 1000") &&
              strstr(h, "default 999999") && strstr(h, "default length"), "help states defaults: %s", h ? h : "");
    free(h);
    CHECK(run((const char *[]){NULL}) == 2, "no command");
}

int main(void) {
    const char *b = getenv("NT_BIN");
    snprintf(bin, sizeof bin, "%s/nextok-translate", b ? b : "build/bin");
    CHECK(access(bin, X_OK) == 0, "no executable %s (set NT_BIN)", bin);
    CHECK(mkdtemp(tmp) != NULL, "mkdtemp");
    test_writes();
    test_errors();
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    CHECK(system(cmd) == 0, "cleanup");
    return nt_check_report("test_cli_data");
}
