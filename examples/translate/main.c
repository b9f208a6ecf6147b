/* main.c - nextok-translate: a number translator built on nextok; dispatches subcommands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "train/dist.h"

typedef struct command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} command;

static const command commands[] = {
    {"data", "write train/valid/test TSV files of a number task, or pair two text files", cmd_data},
    {"train", "train a translator from scratch, or resume a run", cmd_train},
    {"translate", "translate lines of stdin (or a file), one output line each", cmd_translate},
    {"eval", "exact match, character accuracy, BLEU and chrF on a test file", cmd_eval},
    {"finetune", "train from a checkpoint's weights on new data", cmd_finetune},
    {"inspect", "print a checkpoint's architecture, sizes and training state", cmd_inspect},
    {"report", "write RUN/report.html (curves, attention heatmaps)", cmd_report},
    {"export-spm", "write a checkpoint's SentencePiece model to a .model file", cmd_export_spm},
};
enum { N_COMMANDS = sizeof commands / sizeof *commands };

static void usage(FILE *out) {
    fprintf(out, "usage: nextok-translate <command> [options]\n\ncommands:\n");
    for (int i = 0; i < N_COMMANDS; i++) fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'nextok-translate <command> --help' describes a command's options.\n");
    fprintf(out, "%s\n", cli_omp_policy_help());
    fprintf(out, "%s; see docs/distributed.md\n", nt_dist_build_info());
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
    fprintf(stderr, "nextok-translate: unknown command \"%s\" (commands:", argv[1]);
    for (int i = 0; i < N_COMMANDS; i++) fprintf(stderr, " %s", commands[i].name);
    fprintf(stderr, ")\nTry 'nextok-translate --help'.\n");
    return 2;
}

/* Under mpirun every rank runs the same command; rank 0 alone prints
 * (train/dist.h), and a rank that fails takes the job down. */
int main(int argc, char **argv) {
    cli_omp_policy(argv); /* first: before anything starts the OpenMP runtime */
    if (nt_dist_init(&argc, &argv) != NT_OK) {
        fprintf(stderr, "nextok-translate: %s\n", nt_errmsg());
        return 1;
    }
    nt_dist_quiet_others();
    return nt_dist_finalize(run(argc, argv));
}
