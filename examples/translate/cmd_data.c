/* cmd_data.c - `nextok-translate data`: write the splits of a number task. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "commands.h"
#include "core/alloc.h"
#include "core/status.h"
#include "data/corpus.h"
#include "data/tsv.h"

/* ---- --exclude: a set of texts, and splits drawn around it ------------------------ */

typedef struct text_set {
    const char **keys; /* open addressing, cap a power of two; point into the tables */
    size_t cap, n;
} text_set;

static uint64_t text_hash(const char *s) {
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static int text_set_has(const text_set *t, const char *s) {
    if (!t->cap) return 0;
    for (size_t k = text_hash(s) & (t->cap - 1);; k = (k + 1) & (t->cap - 1)) {
        if (!t->keys[k]) return 0;
        if (strcmp(t->keys[k], s) == 0) return 1;
    }
}

static void text_set_add(text_set *t, const char *s) {
    size_t k = text_hash(s) & (t->cap - 1);
    for (; t->keys[k]; k = (k + 1) & (t->cap - 1))
        if (strcmp(t->keys[k], s) == 0) return;
    t->keys[k] = s;
    t->n++;
}

static nt_status write_numbers(const char *dir, const char *name, nt_form src, nt_form tgt, const int *nums, int n) {
    char path[4200], a[NT_CORPUS_MAX_TEXT], b[NT_CORPUS_MAX_TEXT];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) return nt_error(NT_ERR_IO, "cannot open %s for writing: %s", path, strerror(errno));
    for (int i = 0; i < n; i++) {
        NT_TRY(nt_corpus_render(src, nums[i], a, sizeof a));
        NT_TRY(nt_corpus_render(tgt, nums[i], b, sizeof b));
        fprintf(f, "%s\t%s\n", a, b);
    }
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) return nt_error(NT_ERR_IO, "write to %s failed", path);
    return NT_OK;
}

/* The splits of cfg without any number whose source or target text is in ex:
 * draws cfg's total plus one per excluded text as one random-order pool (the
 * data library's draw), drops the excluded, and cuts test | valid | train.
 * cfg->n_train == TRAIN_ALL: the pool is all of 0..max_number, and training
 * takes what test and valid leave (cfg->n_train is set to that count). */
#define TRAIN_ALL (-1)
static nt_status write_splits_excluding(const char *dir, nt_form src, nt_form tgt, nt_corpus_split_config *cfg,
                                        const text_set *ex, int *n_dropped) {
    int all = cfg->n_train == TRAIN_ALL;
    int64_t total = (int64_t)(all ? 0 : cfg->n_train) + cfg->n_valid + cfg->n_test;
    int64_t draw = total + (int64_t)ex->n, avail = (int64_t)cfg->max_number + 1;
    if (draw > avail || all) draw = avail;
    nt_corpus_split_config pool = *cfg;
    pool.n_train = (int)draw, pool.n_valid = 0, pool.n_test = 0;
    int *nums = nt_malloc((size_t)(draw ? draw : 1) * sizeof *nums);
    if (!nums) return nt_error(NT_ERR_NOMEM, "out of memory");
    nt_status s = nt_corpus_split_numbers(&pool, nums, NULL, NULL);
    int64_t kept = 0;
    char a[NT_CORPUS_MAX_TEXT], b[NT_CORPUS_MAX_TEXT];
    for (int64_t i = 0; i < draw && s == NT_OK; i++) {
        s = nt_corpus_render(src, nums[i], a, sizeof a);
        if (s == NT_OK) s = nt_corpus_render(tgt, nums[i], b, sizeof b);
        if (s == NT_OK && !text_set_has(ex, a) && !text_set_has(ex, b)) nums[kept++] = nums[i];
    }
    *n_dropped = (int)(draw - kept);
    if (s == NT_OK && all && kept >= total) cfg->n_train = (int)(kept - total), total = kept;
    if (s == NT_OK && kept < total)
        s = nt_error(NT_ERR_ARG, "only %lld numbers of 0..%d are left after the exclusions, %lld asked", (long long)kept,
                     cfg->max_number, (long long)total);
    char path[4096];
    size_t len = strlen(dir);
    if (s == NT_OK && (len == 0 || len >= sizeof path)) s = nt_error(NT_ERR_ARG, "bad directory name \"%s\"", dir);
    for (size_t i = 1; s == NT_OK && i <= len; i++) {
        if (dir[i] != '/' && dir[i] != 0) continue;
        memcpy(path, dir, i);
        path[i] = 0;
        if (mkdir(path, 0777) != 0 && errno != EEXIST)
            s = nt_error(NT_ERR_IO, "cannot create directory %s: %s", path, strerror(errno));
    }
    if (s == NT_OK) s = write_numbers(dir, "test.tsv", src, tgt, nums, cfg->n_test);
    if (s == NT_OK) s = write_numbers(dir, "valid.tsv", src, tgt, nums + cfg->n_test, cfg->n_valid);
    if (s == NT_OK) s = write_numbers(dir, "train.tsv", src, tgt, nums + cfg->n_test + cfg->n_valid, cfg->n_train);
    nt_free(nums);
    return s;
}

/* The numbers people type first (0..1000, every k*10^n, every k*1000) that
 * are <= max and not in ex, into DIR/train.tsv (cfg->n_train gets the count;
 * valid.tsv and test.tsv are written empty). */
static nt_status write_typed(const char *dir, nt_form src, nt_form tgt, nt_corpus_split_config *cfg,
                             const text_set *ex, int *n_dropped) {
    static int nums[3000];
    static unsigned char seen[NT_CORPUS_MAX_NUMBER + 1];
    int n = 0, kept = 0;
    char a[NT_CORPUS_MAX_TEXT], b[NT_CORPUS_MAX_TEXT];
    memset(seen, 0, sizeof seen);
    for (int i = 0; i <= 1000; i++) nums[n++] = i;
    for (int p = 10; p <= 100000; p *= 10)
        for (int k = 1; k <= 9; k++) nums[n++] = k * p;
    for (int k = 1; k <= 999; k++) nums[n++] = k * 1000;
    for (int i = 0; i < n; i++) {
        int v = nums[i];
        if (v > cfg->max_number || seen[v]) continue;
        seen[v] = 1;
        NT_TRY(nt_corpus_render(src, v, a, sizeof a));
        NT_TRY(nt_corpus_render(tgt, v, b, sizeof b));
        if (ex->cap && (text_set_has(ex, a) || text_set_has(ex, b))) {
            (*n_dropped)++;
            continue;
        }
        nums[kept++] = v;
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return nt_error(NT_ERR_IO, "cannot create directory %s: %s", dir, strerror(errno));
    cfg->n_train = kept;
    NT_TRY(write_numbers(dir, "test.tsv", src, tgt, nums, 0));
    NT_TRY(write_numbers(dir, "valid.tsv", src, tgt, nums, 0));
    return write_numbers(dir, "train.tsv", src, tgt, nums, kept);
}

#define MAX_EXCLUDE 64

int cmd_data(int argc, char **argv) {
    nt_corpus_split_config cfg;
    nt_corpus_split_config_default(&cfg);
    const char *task = NULL, *out = NULL;
    const char *exclude[MAX_EXCLUDE];
    int n_exclude = 0, sampling = (int)cfg.sampling, typed = 0;
    nt_opt opts[] = {
        {"--task", NT_OPT_STRING, &task, .arg = "SRC-TGT", .required = 1,
         .help = "two distinct forms of digits, arabic, en, fr, de (e.g. en-fr)"},
        {"--out", NT_OPT_STRING, &out, .arg = "DIR", .required = 1, .help = "output directory (created if missing)"},
        {"--train", NT_OPT_INT, &cfg.n_train, 0, NT_CORPUS_MAX_NUMBER + 1, .small = 1, .word = "all",
         .word_value = TRAIN_ALL,
         .help = "training pairs; all: every number of 0..M that the test and validation splits and --exclude leave"},
        {"--valid", NT_OPT_INT, &cfg.n_valid, 0, NT_CORPUS_MAX_NUMBER + 1, .small = 1, .help = "validation pairs"},
        {"--test", NT_OPT_INT, &cfg.n_test, 0, NT_CORPUS_MAX_NUMBER + 1, .small = 1, .help = "test pairs"},
        {"--max", NT_OPT_INT, &cfg.max_number, 0, NT_CORPUS_MAX_NUMBER, .small = 1, .arg = "M",
         .help = "numbers are drawn from 0..M"},
        {"--seed", NT_OPT_U64, &cfg.seed, .arg = "S", .help = "random seed; the same seed writes the same files"},
        {"--sampling", NT_OPT_ENUM, &sampling, .choices = "uniform|length",
         .help = "uniform: every number equally likely; length: every digit length equally likely, so small numbers "
                 "are not rare"},
        {"--typed", NT_OPT_FLAG, &typed,
         .help = "write only DIR/train.tsv: the numbers people type first (0..1000, every k*10^n, every k*1000), "
                 "less those of the --exclude files (--train, --valid, --test, --sampling and --seed do not apply)"},
        {"--exclude", NT_OPT_LIST, exclude, 0, MAX_EXCLUDE, .arg = "F", .count = &n_exclude,
         .help = "never write a number that appears in TSV file F (either side, as text): keeps new splits disjoint "
                 "from an existing test set"},
        {0}};
    nt_opts cmd = {"nextok-translate data", "usage: nextok-translate data --task SRC-TGT --out DIR [options]",
                   "Writes DIR/train.tsv, DIR/valid.tsv and DIR/test.tsv (source<TAB>target per line) for a "
                   "number-translation task; the splits never share a number.",
                   .opts = opts};
    int rc = nt_opts_parse(&cmd, argc, argv);
    if (rc >= 0) return rc;
    cfg.sampling = (nt_sampling)sampling;
    nt_form src, tgt;
    if (nt_corpus_task_parse(task, &src, &tgt) != NT_OK) return nt_opts_usage_error(&cmd, "--task: %s", cli_errmsg());
    nt_status s = NT_OK;
    int dropped = 0;
    if (typed) cfg.n_train = 0, cfg.n_valid = 0, cfg.n_test = 0;
    if (n_exclude == 0 && cfg.n_train != TRAIN_ALL && !typed) {
        s = nt_corpus_write_splits(out, src, tgt, &cfg);
    } else {
        nt_tsv *tables[MAX_EXCLUDE] = {0};
        text_set ex = {0};
        size_t n_texts = 0;
        for (int k = 0; k < n_exclude && s == NT_OK; k++) {
            s = nt_tsv_read(&tables[k], exclude[k], NULL);
            if (s == NT_OK) n_texts += 2 * (size_t)tables[k]->n, cli_tsv_notes(tables[k]);
        }
        if (s == NT_OK) {
            for (ex.cap = 16; ex.cap < 2 * n_texts; ex.cap *= 2) {}
            ex.keys = nt_calloc(ex.cap, sizeof *ex.keys);
            if (!ex.keys) s = nt_error(NT_ERR_NOMEM, "out of memory");
        }
        for (int k = 0; k < n_exclude && s == NT_OK; k++)
            for (int i = 0; i < tables[k]->n; i++) text_set_add(&ex, tables[k]->src[i]), text_set_add(&ex, tables[k]->tgt[i]);
        if (s == NT_OK && typed) s = write_typed(out, src, tgt, &cfg, &ex, &dropped);
        else if (s == NT_OK) s = write_splits_excluding(out, src, tgt, &cfg, &ex, &dropped);
        nt_free(ex.keys);
        for (int k = 0; k < n_exclude; k++) nt_tsv_free(tables[k]);
    }
    if (s != NT_OK) {
        if (s == NT_ERR_ARG) return nt_opts_usage_error(&cmd, "%s", cli_errmsg());
        fprintf(stderr, "nextok-translate data: %s\n", cli_errmsg());
        return 1;
    }
    printf("wrote %s/train.tsv (%d), %s/valid.tsv (%d), %s/test.tsv (%d): task %s, numbers 0..%d, %s sampling, "
           "seed %llu\n",
           out, cfg.n_train, out, cfg.n_valid, out, cfg.n_test, task, cfg.max_number,
           nt_corpus_sampling_name(cfg.sampling), (unsigned long long)cfg.seed);
    if (n_exclude) printf("excluded %d drawn numbers found in the --exclude files\n", dropped);
    return 0;
}
