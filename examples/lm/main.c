/* main.c - nextok-lm: a character-level language model built on nextok
 * (train, sample, eval); dispatches the subcommands. */
#include <stdio.h>
#include <string.h>

#include "../common/omp_policy.h"
#include "commands.h"
#include "train/dist.h"

typedef struct command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} command;

static const command commands[] = {
    {"train", "train a language model on a text file, or resume a run", cmd_train},
    {"sample", "write text from a model, token by token", cmd_sample},
    {"eval", "loss, perplexity and bits per character over a text file", cmd_eval},
};
enum { N_COMMANDS = sizeof commands / sizeof *commands };

static void usage(FILE *out) {
    fprintf(out, "usage: nextok-lm <command> [options]\n\ncommands:\n");
    for (int i = 0; i < N_COMMANDS; i++) fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'nextok-lm <command> --help' describes a command's options.\n");
    fprintf(out, "%s\n", ex_omp_policy_help("nextok-lm"));
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
    fprintf(stderr, "nextok-lm: unknown command \"%s\" (commands:", argv[1]);
    for (int i = 0; i < N_COMMANDS; i++) fprintf(stderr, " %s", commands[i].name);
    fprintf(stderr, ")\nTry 'nextok-lm --help'.\n");
    return 2;
}

/* Under mpirun every rank runs the same command; rank 0 alone prints and
 * writes (train/dist.h), and a rank that fails takes the job down. */
int main(int argc, char **argv) {
    ex_omp_policy(argv); /* first: before anything starts the OpenMP runtime */
    if (nt_dist_init(&argc, &argv) != NT_OK) {
        fprintf(stderr, "nextok-lm: %s\n", nt_errmsg());
        return 1;
    }
    nt_dist_quiet_others();
    return nt_dist_finalize(run(argc, argv));
}
