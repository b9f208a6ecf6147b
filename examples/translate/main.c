/* main.c - nextok-translate: a number translator built on nextok; dispatches subcommands. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "train/dist.h"

typedef struct command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
    void (*usage)(FILE *out);
} command;

static const command commands[] = {
    {"data", "write train/valid/test TSV files of a number-translation task", cmd_data, cmd_data_usage},
    {"train", "train a translator from scratch, or resume a run", cmd_train, cmd_train_usage},
    {"translate", "translate lines of stdin (or a file), one output line each", cmd_translate, cmd_translate_usage},
    {"eval", "exact match, character accuracy, BLEU and chrF on a test file", cmd_eval, cmd_eval_usage},
    {"finetune", "train from a checkpoint's weights on new data", cmd_finetune, cmd_finetune_usage},
    {"inspect", "print a checkpoint's architecture, sizes and training state", cmd_inspect, cmd_inspect_usage},
    {"report", "write RUN/report.html (curves, attention heatmaps)", cmd_report, cmd_report_usage},
};
enum { N_COMMANDS = sizeof commands / sizeof *commands };

static void usage(FILE *out) {
    fprintf(out, "usage: nextok-translate <command> [options]\n\ncommands:\n");
    for (int i = 0; i < N_COMMANDS; i++) fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'nextok-translate <command> --help' describes a command's options.\n");
    fprintf(out, "%s; see docs/distributed.md\n", nt_dist_build_info());
}

int nt_cli_parse_int(const char *flag, const char *value, long min, long max, long *out) {
    char *end;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno || end == value || *end || v < min || v > max) {
        fprintf(stderr, "nextok-translate: %s: bad number \"%s\" (expected an integer in %ld..%ld)\n", flag, value,
                min, max);
        return 0;
    }
    *out = v;
    return 1;
}

int nt_cli_parse_u64(const char *flag, const char *value, unsigned long long *out) {
    char *end;
    errno = 0;
    if (value[0] == '-' || value[0] == '+') goto bad;
    unsigned long long v = strtoull(value, &end, 10);
    if (errno || end == value || *end) goto bad;
    *out = v;
    return 1;
bad:
    fprintf(stderr, "nextok-translate: %s: bad number \"%s\" (expected a non-negative integer)\n", flag, value);
    return 0;
}

static int run(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (int i = 0; i < N_COMMANDS; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "nextok-translate: unknown command \"%s\"\n\n", argv[1]);
    usage(stderr);
    return 2;
}

/* Under mpirun every rank runs the same command; rank 0 alone prints
 * (train/dist.h), and a rank that fails takes the job down. */
int main(int argc, char **argv) {
    if (nt_dist_init(&argc, &argv) != NT_OK) {
        fprintf(stderr, "nextok-translate: %s\n", nt_errmsg());
        return 1;
    }
    nt_dist_quiet_others();
    return nt_dist_finalize(run(argc, argv));
}
