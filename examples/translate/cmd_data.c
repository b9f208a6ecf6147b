/* cmd_data.c - `nextok-translate data`: write the splits of a number task. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "core/status.h"
#include "data/corpus.h"

void cmd_data_usage(FILE *out) {
    fprintf(out,
            "usage: nextok-translate data --task SRC-TGT --out DIR [options]\n"
            "\n"
            "Writes DIR/train.tsv, DIR/valid.tsv and DIR/test.tsv (source<TAB>target per line)\n"
            "for a number-translation task; the splits never share a number.\n"
            "\n"
            "  --task SRC-TGT   two distinct forms of digits, arabic, en, fr, de (e.g. en-fr)\n"
            "  --out DIR        output directory (created if missing)\n"
            "  --train N        training pairs (default 20000)\n"
            "  --valid N        validation pairs (default 500)\n"
            "  --test N         test pairs (default 1000)\n"
            "  --max M          numbers are drawn from 0..M, M <= 999999 (default 999999)\n"
            "  --seed S         random seed; the same seed writes the same files (default 1)\n"
            "  --sampling K     uniform: every number equally likely; length: every digit\n"
            "                   length equally likely, so small numbers are not rare\n"
            "                   (default length)\n"
            "  -h, --help       this text\n");
}

static int usage_error(void) {
    fputc('\n', stderr);
    cmd_data_usage(stderr);
    return 2;
}

int cmd_data(int argc, char **argv) {
    nt_corpus_split_config cfg;
    nt_corpus_split_config_default(&cfg);
    const char *task = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            cmd_data_usage(stdout);
            return 0;
        }
        static const char *valued[] = {"--task", "--out", "--train", "--valid", "--test", "--max", "--seed", "--sampling"};
        int known = 0;
        for (size_t k = 0; k < sizeof valued / sizeof *valued; k++) known |= strcmp(a, valued[k]) == 0;
        if (!known) {
            fprintf(stderr, "nextok-translate data: unknown option \"%s\"\n", a);
            return usage_error();
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "nextok-translate data: %s needs a value\n", a);
            return usage_error();
        }
        const char *v = argv[++i];
        long n;
        if (strcmp(a, "--task") == 0) task = v;
        else if (strcmp(a, "--out") == 0) out = v;
        else if (strcmp(a, "--seed") == 0) {
            unsigned long long s;
            if (!nt_cli_parse_u64(a, v, &s)) return usage_error();
            cfg.seed = s;
        } else if (strcmp(a, "--sampling") == 0) {
            if (nt_corpus_sampling_parse(v, &cfg.sampling) != NT_OK) {
                fprintf(stderr, "nextok-translate data: --sampling: %s\n", nt_errmsg());
                return usage_error();
            }
        } else {
            long max = strcmp(a, "--max") == 0 ? NT_CORPUS_MAX_NUMBER : NT_CORPUS_MAX_NUMBER + 1;
            if (!nt_cli_parse_int(a, v, 0, max, &n)) return usage_error();
            if (strcmp(a, "--train") == 0) cfg.n_train = (int)n;
            else if (strcmp(a, "--valid") == 0) cfg.n_valid = (int)n;
            else if (strcmp(a, "--test") == 0) cfg.n_test = (int)n;
            else cfg.max_number = (int)n;
        }
    }
    if (!task || !out) {
        fprintf(stderr, "nextok-translate data: %s is required\n", !task ? "--task" : "--out");
        return usage_error();
    }
    nt_form src, tgt;
    if (nt_corpus_task_parse(task, &src, &tgt) != NT_OK) {
        fprintf(stderr, "nextok-translate data: --task: %s\n", nt_errmsg());
        return usage_error();
    }
    nt_status s = nt_corpus_write_splits(out, src, tgt, &cfg);
    if (s != NT_OK) {
        fprintf(stderr, "nextok-translate data: %s\n", nt_errmsg());
        return s == NT_ERR_ARG ? usage_error() : 1;
    }
    printf("wrote %s/train.tsv (%d), %s/valid.tsv (%d), %s/test.tsv (%d): task %s, numbers 0..%d, %s sampling, "
           "seed %llu\n",
           out, cfg.n_train, out, cfg.n_valid, out, cfg.n_test, task, cfg.max_number,
           nt_corpus_sampling_name(cfg.sampling), (unsigned long long)cfg.seed);
    return 0;
}
