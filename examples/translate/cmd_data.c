/* cmd_data.c - `nextok-translate data`: write the splits of a number task, or
 * pair two aligned text files into TSV (--from-parallel). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "commands.h"
#include "core/alloc.h"
#include "core/fs.h"
#include "core/strset.h"
#include "train/atomic_file.h"
#include "core/status.h"
#include "data/number_corpus.h"
#include "data/tsv.h"

/* ---- --from-parallel: two aligned text files -> one TSV ----------------------------- */

/* Reads one line of f into *buf (grown as needed, NUL-terminated, without its
 * line ending; a last line without a newline counts). 1 if a line was read,
 * 0 at the end, -1 on a read error or out of memory. */
static int read_line(FILE *f, char **buf, size_t *cap, size_t *len) {
    size_t n = 0;
    int c = 0, any = 0;
    while ((c = fgetc(f)) != EOF) {
        any = 1;
        if (c == '\n') break;
        if (n + 2 > *cap) {
            size_t nc = *cap ? *cap * 2 : 256;
            char *b = nt_realloc(*buf, nc);
            if (!b) return -1;
            *buf = b, *cap = nc;
        }
        (*buf)[n++] = (char)c;
    }
    if (ferror(f)) return -1;
    if (!any) return 0;
    if (!*buf) {
        *buf = nt_malloc(1);
        if (!*buf) return -1;
        *cap = 1;
    }
    if (n > 0 && (*buf)[n - 1] == '\r') n--;
    (*buf)[n] = 0;
    *len = n;
    return 1;
}

/* Checks one side of a pair; tabs become spaces. */
static nt_status check_sentence(char *s, size_t len, const char *path, long line) {
    size_t bad;
    if (!nt_utf8_valid(s, len, &bad) || memchr(s, 0, len))
        return nt_error(NT_ERR_FORMAT, "%s:%ld: invalid UTF-8 at byte %zu", path, line,
                        memchr(s, 0, len) ? (size_t)((char *)memchr(s, 0, len) - s) + 1 : bad + 1);
    int blank = 1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\t') s[i] = ' ';
        if (s[i] != ' ') blank = 0;
    }
    if (blank) return nt_error(NT_ERR_FORMAT, "%s:%ld: empty line (every line needs a sentence)", path, line);
    return NT_OK;
}

static nt_status pair_files(const char *src_path, const char *tgt_path, const char *out_path, long *n_pairs,
                            long *n_tabs) {
    FILE *a = fopen(src_path, "rb"), *b = fopen(tgt_path, "rb");
    nt_status s = NT_OK;
    if (!a || !b) s = nt_error(NT_ERR_IO, "cannot open %s: %s", !a ? src_path : tgt_path, strerror(errno));
    nt_atomic_file af = {0};
    if (s == NT_OK) s = nt_atomic_file_open(&af, out_path);
    FILE *o = af.f;
    char *x = NULL, *y = NULL;
    size_t cx = 0, cy = 0, lx = 0, ly = 0;
    long line = 0;
    *n_pairs = 0, *n_tabs = 0;
    while (s == NT_OK) {
        int ra = read_line(a, &x, &cx, &lx), rb = read_line(b, &y, &cy, &ly);
        if (ra < 0 || rb < 0) {
            s = nt_error(NT_ERR_IO, "cannot read %s", ra < 0 ? src_path : tgt_path);
            break;
        }
        if (ra == 0 && rb == 0) break;
        line++;
        if (ra == 0 || rb == 0) {
            s = nt_error(NT_ERR_FORMAT, "line counts differ: %s ends after line %ld, %s has a line %ld",
                         ra == 0 ? src_path : tgt_path, line - 1, ra == 0 ? tgt_path : src_path, line);
            break;
        }
        for (size_t i = 0; i < lx; i++) *n_tabs += x[i] == '\t';
        for (size_t i = 0; i < ly; i++) *n_tabs += y[i] == '\t';
        s = check_sentence(x, lx, src_path, line);
        if (s == NT_OK) s = check_sentence(y, ly, tgt_path, line);
        if (s == NT_OK && lx + 1 + ly > NT_TSV_DEFAULT_MAX_LINE)
            s = nt_error(NT_ERR_FORMAT, "%s:%ld and %s:%ld: the pair is %zu bytes, longer than the TSV reader's %d",
                         src_path, line, tgt_path, line, lx + 1 + ly, NT_TSV_DEFAULT_MAX_LINE);
        if (s == NT_OK) {
            fwrite(x, 1, lx, o), fputc('\t', o), fwrite(y, 1, ly, o), fputc('\n', o);
            (*n_pairs)++;
        }
    }
    if (s == NT_OK && line == 0) s = nt_error(NT_ERR_FORMAT, "%s and %s are empty", src_path, tgt_path);
    nt_free(x), nt_free(y);
    if (a) fclose(a);
    if (b) fclose(b);
    if (s == NT_OK) return nt_atomic_file_commit(&af);
    nt_atomic_file_abort(&af);
    return s;
}

#define FROM_PARALLEL_HELP                                                                                  \
    "Pairs two aligned text files (one sentence per line, line i of SRC_FILE translates line i of TGT_FILE) "   \
    "into TSV source<TAB>target, turning tabs inside a sentence into spaces. --out FILE.tsv names the file; "   \
    "any other --out is a directory (created if missing) that gets SRC_FILE's name without its extension plus " \
    ".tsv (train.de -> DIR/train.tsv). A line count mismatch, invalid UTF-8, an empty line or a pair longer "   \
    "than the TSV reader's line limit is an error naming file and line."

static int data_from_parallel(int argc, char **argv) {
    const char *files[2] = {NULL, NULL}, *out = NULL;
    int from = 0;
    nt_opt opts[] = {
        {"--from-parallel", NT_OPT_FLAG, &from, .help = "pair SRC_FILE and TGT_FILE"},
        {"--out", NT_OPT_STRING, &out, .arg = "DIR|FILE.tsv", .required = 1, .help = "where the TSV goes"},
        {0}};
    nt_opts cmd = {"nextok-translate data", "usage: nextok-translate data --from-parallel SRC_FILE TGT_FILE --out DIR|FILE.tsv",
                   FROM_PARALLEL_HELP, opts, .positional = "SRC_FILE TGT_FILE", .args = files, .max_args = 2,
                   .min_args = 2};
    int rc = nt_opts_parse(&cmd, argc, argv);
    if (rc >= 0) return rc;
    const char *src = files[0], *tgt = files[1];
    char path[4200];
    size_t ol = strlen(out);
    nt_status s = NT_OK;
    if (ol > 4 && strcmp(out + ol - 4, ".tsv") == 0) {
        snprintf(path, sizeof path, "%s", out);
    } else {
        const char *base = strrchr(src, '/');
        base = base ? base + 1 : src;
        const char *dot = strrchr(base, '.');
        int bl = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
        s = nt_fs_mkdirs(out);
        snprintf(path, sizeof path, "%s/%.*s.tsv", out, bl, base);
    }
    long n = 0, tabs = 0;
    if (s == NT_OK) s = pair_files(src, tgt, path, &n, &tabs);
    if (s != NT_OK) {
        fprintf(stderr, "nextok-translate data: --from-parallel: %s\n", cli_errmsg());
        return 1;
    }
    printf("wrote %s: %ld pairs from %s and %s (%ld tab%s inside sentences turned into spaces)\n", path, n, src, tgt,
           tabs, tabs == 1 ? "" : "s");
    return 0;
}

/* ---- --exclude: a set of texts, and splits drawn around it ------------------------ */

static nt_status write_numbers(const char *dir, const char *name, nt_number_form src, nt_number_form tgt, const int *nums, int n) {
    char path[4200], a[NT_NUMBER_CORPUS_MAX_TEXT], b[NT_NUMBER_CORPUS_MAX_TEXT];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) return nt_error(NT_ERR_IO, "cannot open %s for writing: %s", path, strerror(errno));
    for (int i = 0; i < n; i++) {
        NT_TRY(nt_number_corpus_render(src, nums[i], a, sizeof a));
        NT_TRY(nt_number_corpus_render(tgt, nums[i], b, sizeof b));
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
static nt_status write_splits_excluding(const char *dir, nt_number_form src, nt_number_form tgt, nt_number_corpus_split_config *cfg,
                                        const nt_strset *ex, int *n_dropped) {
    int all = cfg->n_train == TRAIN_ALL;
    int64_t total = (int64_t)(all ? 0 : cfg->n_train) + cfg->n_valid + cfg->n_test;
    int64_t draw = total + (int64_t)ex->n, avail = (int64_t)cfg->max_number + 1;
    if (draw > avail || all) draw = avail;
    nt_number_corpus_split_config pool = *cfg;
    pool.n_train = (int)draw, pool.n_valid = 0, pool.n_test = 0;
    int *nums = nt_malloc((size_t)(draw ? draw : 1) * sizeof *nums);
    if (!nums) return nt_error(NT_ERR_NOMEM, "out of memory");
    nt_status s = nt_number_corpus_split_numbers(&pool, nums, NULL, NULL);
    int64_t kept = 0;
    char a[NT_NUMBER_CORPUS_MAX_TEXT], b[NT_NUMBER_CORPUS_MAX_TEXT];
    for (int64_t i = 0; i < draw && s == NT_OK; i++) {
        s = nt_number_corpus_render(src, nums[i], a, sizeof a);
        if (s == NT_OK) s = nt_number_corpus_render(tgt, nums[i], b, sizeof b);
        if (s == NT_OK && !nt_strset_has(ex, a, strlen(a)) && !nt_strset_has(ex, b, strlen(b)))
            nums[kept++] = nums[i];
    }
    *n_dropped = (int)(draw - kept);
    if (s == NT_OK && all && kept >= total) cfg->n_train = (int)(kept - total), total = kept;
    if (s == NT_OK && kept < total)
        s = nt_error(NT_ERR_ARG, "only %lld numbers of 0..%d are left after the exclusions, %lld asked", (long long)kept,
                     cfg->max_number, (long long)total);
    if (s == NT_OK) s = nt_fs_mkdirs(dir);
    if (s == NT_OK) s = write_numbers(dir, "test.tsv", src, tgt, nums, cfg->n_test);
    if (s == NT_OK) s = write_numbers(dir, "valid.tsv", src, tgt, nums + cfg->n_test, cfg->n_valid);
    if (s == NT_OK) s = write_numbers(dir, "train.tsv", src, tgt, nums + cfg->n_test + cfg->n_valid, cfg->n_train);
    nt_free(nums);
    return s;
}

/* The numbers people type first (0..1000, every k*10^n, every k*1000) that
 * are <= max and not in ex, into DIR/train.tsv (cfg->n_train gets the count;
 * valid.tsv and test.tsv are written empty). */
static nt_status write_typed(const char *dir, nt_number_form src, nt_number_form tgt, nt_number_corpus_split_config *cfg,
                             const nt_strset *ex, int *n_dropped) {
    static int nums[3000];
    static unsigned char seen[NT_NUMBER_CORPUS_MAX_NUMBER + 1];
    int n = 0, kept = 0;
    char a[NT_NUMBER_CORPUS_MAX_TEXT], b[NT_NUMBER_CORPUS_MAX_TEXT];
    memset(seen, 0, sizeof seen);
    for (int i = 0; i <= 1000; i++) nums[n++] = i;
    for (int p = 10; p <= 100000; p *= 10)
        for (int k = 1; k <= 9; k++) nums[n++] = k * p;
    for (int k = 1; k <= 999; k++) nums[n++] = k * 1000;
    for (int i = 0; i < n; i++) {
        int v = nums[i];
        if (v > cfg->max_number || seen[v]) continue;
        seen[v] = 1;
        NT_TRY(nt_number_corpus_render(src, v, a, sizeof a));
        NT_TRY(nt_number_corpus_render(tgt, v, b, sizeof b));
        if (nt_strset_has(ex, a, strlen(a)) || nt_strset_has(ex, b, strlen(b))) {
            (*n_dropped)++;
            continue;
        }
        nums[kept++] = v;
    }
    NT_TRY(nt_fs_mkdirs(dir));
    cfg->n_train = kept;
    NT_TRY(write_numbers(dir, "test.tsv", src, tgt, nums, 0));
    NT_TRY(write_numbers(dir, "valid.tsv", src, tgt, nums, 0));
    return write_numbers(dir, "train.tsv", src, tgt, nums, kept);
}

#define MAX_EXCLUDE 64

int cmd_data(int argc, char **argv) {
    nt_number_corpus_split_config cfg;
    nt_number_corpus_split_config_default(&cfg);
    const char *task = NULL, *out = NULL;
    const char *exclude[MAX_EXCLUDE];
    int n_exclude = 0, sampling = (int)cfg.sampling, typed = 0;
    nt_opt opts[] = {
        {"--task", NT_OPT_STRING, &task, .arg = "SRC-TGT", .required = 1,
         .help = "two distinct forms of digits, arabic, en, fr, de (e.g. en-fr)"},
        {"--out", NT_OPT_STRING, &out, .arg = "DIR", .required = 1, .help = "output directory (created if missing)"},
        {"--train", NT_OPT_INT, &cfg.n_train, 0, NT_NUMBER_CORPUS_MAX_NUMBER + 1, .small = 1, .word = "all",
         .word_value = TRAIN_ALL,
         .help = "training pairs; all: every number of 0..M that the test and validation splits and --exclude leave"},
        {"--valid", NT_OPT_INT, &cfg.n_valid, 0, NT_NUMBER_CORPUS_MAX_NUMBER + 1, .small = 1, .help = "validation pairs"},
        {"--test", NT_OPT_INT, &cfg.n_test, 0, NT_NUMBER_CORPUS_MAX_NUMBER + 1, .small = 1, .help = "test pairs"},
        {"--max", NT_OPT_INT, &cfg.max_number, 0, NT_NUMBER_CORPUS_MAX_NUMBER, .small = 1, .arg = "M",
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
                   .opts = opts,
                   .epilog = "nextok-translate data --from-parallel SRC_FILE TGT_FILE --out DIR|FILE.tsv: "
                             FROM_PARALLEL_HELP};
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--from-parallel") == 0) return data_from_parallel(argc, argv);
    int rc = nt_opts_parse(&cmd, argc, argv);
    if (rc >= 0) return rc;
    cfg.sampling = (nt_number_corpus_sampling)sampling;
    nt_number_form src, tgt;
    if (nt_number_corpus_task_parse(task, &src, &tgt) != NT_OK) return nt_opts_usage_error(&cmd, "--task: %s", cli_errmsg());
    nt_status s = NT_OK;
    int dropped = 0;
    if (typed) cfg.n_train = 0, cfg.n_valid = 0, cfg.n_test = 0;
    if (n_exclude == 0 && cfg.n_train != TRAIN_ALL && !typed) {
        s = nt_number_corpus_write_splits(out, src, tgt, &cfg);
    } else {
        nt_tsv *tables[MAX_EXCLUDE] = {0};
        nt_strset ex = {0}; /* the texts of the --exclude files */
        for (int k = 0; k < n_exclude && s == NT_OK; k++) {
            s = nt_tsv_read(&tables[k], exclude[k], NULL);
            if (s == NT_OK) cli_tsv_notes(tables[k]);
        }
        for (int k = 0; k < n_exclude && s == NT_OK; k++)
            for (int i = 0; i < tables[k]->n && s == NT_OK; i++) {
                const char *st = tables[k]->src[i], *tt = tables[k]->tgt[i];
                if (nt_strset_add(&ex, st, strlen(st)) < 0 || nt_strset_add(&ex, tt, strlen(tt)) < 0)
                    s = nt_error(NT_ERR_NOMEM, "out of memory");
            }
        if (s == NT_OK && typed) s = write_typed(out, src, tgt, &cfg, &ex, &dropped);
        else if (s == NT_OK) s = write_splits_excluding(out, src, tgt, &cfg, &ex, &dropped);
        nt_strset_free(&ex);
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
           nt_number_corpus_sampling_name(cfg.sampling), (unsigned long long)cfg.seed);
    if (n_exclude) printf("excluded %d drawn numbers found in the --exclude files\n", dropped);
    return 0;
}
