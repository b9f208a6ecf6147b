/* test_corpus.c - number forms against the sample file, task names, splits. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "data/number_corpus.h"
#include "support/check.h"
#include "support/fixtures.h"

/* Every row of tests/fixtures/numbers-sample.tsv (a copy of
 * shared/data/numbers-sample.tsv, the authority on conventions) and, when
 * present, numbers-num2words.tsv (the larger cross-checked fixture), in all
 * five forms. Returns the number of rows checked. */
static int check_fixture(const char *name, int required) {
    char path[1024];
    nt_fixture_path_to(path, sizeof path, name);
    FILE *f = fopen(path, "rb");
    if (!required && !f) return 0;
    CHECK(f != NULL, "cannot open %s", path);
    if (!f) return 0;
    char line[2048], buf[NT_NUMBER_CORPUS_MAX_TEXT];
    int rows = 0, lineno = 0;
    CHECK(fgets(line, sizeof line, f) != NULL, "header");
    CHECK(strcmp(line, "digits\tarabic\ten\tfr\tde\n") == 0, "header is %s", line);
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = 0;
        char *col[NT_NUMBER_FORM_COUNT];
        int k = 0;
        for (char *p = line; k < NT_NUMBER_FORM_COUNT; k++) {
            col[k] = p;
            char *t = strchr(p, '\t');
            if (!t) { k++; break; }
            *t = 0;
            p = t + 1;
        }
        CHECK(k == NT_NUMBER_FORM_COUNT, "%s line %d: %d columns", name, lineno + 1, k);
        if (k != NT_NUMBER_FORM_COUNT) continue;
        int n = atoi(col[0]);
        for (int fm = 0; fm < NT_NUMBER_FORM_COUNT; fm++) {
            nt_status s = nt_number_corpus_render((nt_number_form)fm, n, buf, sizeof buf);
            CHECK(s == NT_OK && strcmp(buf, col[fm]) == 0, "%s line %d: %d in %s: got \"%s\", want \"%s\"",
                  name, lineno + 1, n, nt_number_corpus_form_name((nt_number_form)fm), buf, col[fm]);
        }
        rows++;
    }
    fclose(f);
    return rows;
}

static void test_render_errors(void) {
    char buf[8];
    CHECK(nt_number_corpus_render(NT_NUMBER_FORM_EN, 1000000, buf, sizeof buf) == NT_ERR_ARG, "range");
    CHECK(strstr(nt_errmsg(), "out of range") != NULL, "msg: %s", nt_errmsg());
    CHECK(nt_number_corpus_render(NT_NUMBER_FORM_EN, -1, buf, sizeof buf) == NT_ERR_ARG, "negative");
    CHECK(nt_number_corpus_render((nt_number_form)9, 1, buf, sizeof buf) == NT_ERR_ARG, "form");
    CHECK(nt_number_corpus_render(NT_NUMBER_FORM_EN, 777, buf, sizeof buf) == NT_ERR_ARG && buf[0] == 0, "small buf");
    CHECK(strstr(nt_errmsg(), "needs 32") != NULL, "msg: %s", nt_errmsg());
    CHECK(nt_number_corpus_render(NT_NUMBER_FORM_DIGITS, 1234567 % 1000000, buf, 7) == NT_OK && strcmp(buf, "234567") == 0,
          "exact fit: %s", buf);
    /* the longest rendering fits NT_NUMBER_CORPUS_MAX_TEXT */
    char big[NT_NUMBER_CORPUS_MAX_TEXT];
    size_t longest = 0;
    for (int n = 0; n <= NT_NUMBER_CORPUS_MAX_NUMBER; n += 7)
        for (int fm = 0; fm < NT_NUMBER_FORM_COUNT; fm++) {
            if (nt_number_corpus_render((nt_number_form)fm, n, big, sizeof big) != NT_OK) { CHECK(0, "render %d", n); return; }
            if (strlen(big) > longest) longest = strlen(big);
        }
    CHECK(longest < NT_NUMBER_CORPUS_MAX_TEXT / 2, "longest %zu", longest);
}

static void test_names(void) {
    nt_number_form s, t;
    int ok = 0;
    for (int a = 0; a < NT_NUMBER_FORM_COUNT; a++)
        for (int b = 0; b < NT_NUMBER_FORM_COUNT; b++) {
            char task[64];
            snprintf(task, sizeof task, "%s-%s", nt_number_corpus_form_name((nt_number_form)a), nt_number_corpus_form_name((nt_number_form)b));
            nt_status st = nt_number_corpus_task_parse(task, &s, &t);
            if (a == b) CHECK(st == NT_ERR_ARG && strstr(nt_errmsg(), "same form"), "%s: %s", task, nt_errmsg());
            else { CHECK(st == NT_OK && s == (nt_number_form)a && t == (nt_number_form)b, "%s", task); ok += st == NT_OK; }
        }
    CHECK(ok == 20, "20 tasks, got %d", ok);
    const char *bad[] = {"en", "en-", "-fr", "en-fr-de", "english-fr", "en_fr", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        s = t = NT_NUMBER_FORM_COUNT;
        CHECK(nt_number_corpus_task_parse(bad[i], &s, &t) == NT_ERR_ARG && s == NT_NUMBER_FORM_COUNT, "bad task %s", bad[i]);
        CHECK(strstr(nt_errmsg(), "nt_number_corpus_task_parse") != NULL, "msg: %s", nt_errmsg());
    }
    nt_number_form f;
    CHECK(nt_number_corpus_form_parse("arabic", &f) == NT_OK && f == NT_NUMBER_FORM_ARABIC, "arabic");
    CHECK(nt_number_corpus_form_parse("es", &f) == NT_ERR_ARG && strstr(nt_errmsg(), "\"es\""), "es: %s", nt_errmsg());
    nt_number_corpus_sampling sm;
    CHECK(nt_number_corpus_sampling_parse("length", &sm) == NT_OK && sm == NT_NUMBER_CORPUS_SAMPLING_LENGTH, "length");
    CHECK(nt_number_corpus_sampling_parse("zipf", &sm) == NT_ERR_ARG, "zipf");
}

static int n_digits(int n) { int d = 1; while (n >= 10) { n /= 10; d++; } return d; }

static void check_disjoint(const nt_number_corpus_split_config *c, const int *tr, const int *va, const int *te) {
    uint8_t *seen = calloc((size_t)c->max_number + 1, 1);
    int dup = 0, out = 0;
    const int *arr[3] = {tr, va, te};
    int len[3] = {c->n_train, c->n_valid, c->n_test};
    for (int s = 0; s < 3; s++)
        for (int i = 0; i < len[s]; i++) {
            int v = arr[s][i];
            if (v < 0 || v > c->max_number) { out++; continue; }
            dup += seen[v] != 0;
            seen[v] = 1;
        }
    CHECK(dup == 0 && out == 0, "splits share %d numbers, %d out of range", dup, out);
    free(seen);
}

static void test_splits(void) {
    nt_number_corpus_split_config c;
    nt_number_corpus_split_config_default(&c);
    CHECK(c.n_train == 20000 && c.n_valid == 500 && c.n_test == 1000 && c.max_number == 999999 &&
              c.sampling == NT_NUMBER_CORPUS_SAMPLING_LENGTH, "defaults");
    int *tr = malloc(20000 * sizeof(int)), *va = malloc(500 * sizeof(int)), *te = malloc(1000 * sizeof(int));
    int *tr2 = malloc(20000 * sizeof(int));
    for (int sm = 0; sm < 2; sm++) {
        c.sampling = (nt_number_corpus_sampling)sm;
        c.seed = 5;
        CHECK(nt_number_corpus_split_numbers(&c, tr, va, te) == NT_OK, "split: %s", nt_errmsg());
        check_disjoint(&c, tr, va, te);
        int hist[7] = {0};
        for (int i = 0; i < c.n_train; i++) hist[n_digits(tr[i])]++;
        if (sm == NT_NUMBER_CORPUS_SAMPLING_LENGTH) {
            /* 21500 numbers: lengths 1..3 hold only 10 + 90 + 900 and give all of
             * them; lengths 4..6 share the remaining 20500 evenly. Train holds
             * 20000/21500 of each. */
            CHECK(hist[1] + hist[2] >= 80, "short numbers: %d + %d", hist[1], hist[2]);
            CHECK(hist[3] > 780 && hist[3] <= 900, "length 3: %d", hist[3]);
            for (int d = 4; d <= 6; d++)
                CHECK(abs(hist[d] - 6357) < 250, "length %d: %d", d, hist[d]);
        } else {
            CHECK(hist[6] > 17000 && hist[1] + hist[2] + hist[3] < 100, "uniform: %d 6-digit", hist[6]);
        }
        /* same seed, same numbers; another seed, others */
        CHECK(nt_number_corpus_split_numbers(&c, tr2, va, te) == NT_OK, "again");
        CHECK(memcmp(tr, tr2, 20000 * sizeof(int)) == 0, "deterministic");
        c.seed = 6;
        CHECK(nt_number_corpus_split_numbers(&c, tr2, va, te) == NT_OK, "seed 6");
        CHECK(memcmp(tr, tr2, 20000 * sizeof(int)) != 0, "seed matters");
    }
    /* a small range used up exactly */
    c.max_number = 99; c.n_train = 80; c.n_valid = 10; c.n_test = 10;
    for (int sm = 0; sm < 2; sm++) {
        c.sampling = (nt_number_corpus_sampling)sm;
        CHECK(nt_number_corpus_split_numbers(&c, tr, va, te) == NT_OK, "exact: %s", nt_errmsg());
        check_disjoint(&c, tr, va, te);
    }
    c.n_train = 81;
    CHECK(nt_number_corpus_split_numbers(&c, tr, va, te) == NT_ERR_ARG && strstr(nt_errmsg(), "holds only 100"),
          "too many: %s", nt_errmsg());
    c.n_train = -1;
    CHECK(nt_number_corpus_split_numbers(&c, tr, va, te) == NT_ERR_ARG, "negative");
    c.n_train = 5; c.max_number = 1000000;
    CHECK(nt_number_corpus_split_numbers(&c, tr, va, te) == NT_ERR_ARG, "max");
    free(tr); free(tr2); free(va); free(te);
}

static void test_write(void) {
    char dir[] = "/tmp/nt_corpus_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char sub[256], path[300];
    snprintf(sub, sizeof sub, "%s/a/b", dir);
    nt_number_corpus_split_config c;
    nt_number_corpus_split_config_default(&c);
    c.n_train = 50; c.n_valid = 5; c.n_test = 7;
    CHECK(nt_number_corpus_write_splits(sub, NT_NUMBER_FORM_EN, NT_NUMBER_FORM_FR, &c) == NT_OK, "write: %s", nt_errmsg());
    const char *names[3] = {"train.tsv", "valid.tsv", "test.tsv"};
    int want[3] = {50, 5, 7};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", sub, names[i]);
        FILE *f = fopen(path, "r");
        CHECK(f != NULL, "open %s", path);
        if (!f) continue;
        char line[512];
        int n = 0;
        while (fgets(line, sizeof line, f)) {
            n++;
            CHECK(strchr(line, '\t') && line[strlen(line) - 1] == '\n', "line %s", line);
        }
        fclose(f);
        CHECK(n == want[i], "%s: %d lines", names[i], n);
        unlink(path);
    }
    rmdir(sub);
    snprintf(path, sizeof path, "%s/a", dir);
    rmdir(path);
    /* the target directory is a file */
    snprintf(path, sizeof path, "%s/file", dir);
    FILE *f = fopen(path, "w");
    if (f) fclose(f);
    CHECK(nt_number_corpus_write_splits(path, NT_NUMBER_FORM_EN, NT_NUMBER_FORM_FR, &c) == NT_ERR_IO, "dir is a file: %s", nt_errmsg());
    unlink(path);
    CHECK(nt_number_corpus_write_splits(dir, NT_NUMBER_FORM_EN, NT_NUMBER_FORM_EN, &c) == NT_ERR_ARG, "same form");
    rmdir(dir);
}

int main(void) {
    int rows = check_fixture("numbers-sample.tsv", 1);
    CHECK(rows == 470, "sample rows %d", rows);
    printf("checked %d sample rows x 5 forms\n", rows);
    int more = check_fixture("numbers-num2words.tsv", 0);
    if (more) printf("checked %d num2words-agreeing rows x 5 forms\n", more);
    test_render_errors();
    test_names();
    test_splits();
    test_write();
    return nt_check_report("test_corpus");
}
