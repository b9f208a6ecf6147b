/* dispatch.c - a CLI's main(): OpenMP policy, MPI, then the subcommand. */
#include "dispatch.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "omp_policy.h"
#include "train/dist.h"

static void usage(const ex_cli *cli, FILE *out) {
    int width = 8;
    for (int i = 0; i < cli->n_commands; i++)
        if ((int)strlen(cli->commands[i].name) > width) width = (int)strlen(cli->commands[i].name);
    fprintf(out, "usage: %s <command> [options]\n\ncommands:\n", cli->prog);
    for (int i = 0; i < cli->n_commands; i++)
        fprintf(out, "  %-*s %s\n", width, cli->commands[i].name, cli->commands[i].summary);
    fprintf(out, "\n'%s <command> --help' describes a command's options.\n", cli->prog);
    fprintf(out, "%s\n", ex_omp_policy_help(cli->prog));
    if (cli->epilog) fprintf(out, "%s\n", cli->epilog);
}

static int run(const ex_cli *cli, int argc, char **argv) {
    if (argc < 2) {
        usage(cli, stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(cli, stdout);
        return 0;
    }
    for (int i = 0; i < cli->n_commands; i++)
        if (strcmp(argv[1], cli->commands[i].name) == 0) return cli->commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "%s: unknown command \"%s\" (commands:", cli->prog, argv[1]);
    for (int i = 0; i < cli->n_commands; i++) fprintf(stderr, " %s", cli->commands[i].name);
    fprintf(stderr, ")\nTry '%s --help'.\n", cli->prog);
    return 2;
}

int ex_cli_main(const ex_cli *cli, int argc, char **argv) {
    ex_omp_policy(argv); /* first: before anything starts the OpenMP runtime */
    if (nt_dist_init(&argc, &argv) != NT_OK) {
        fprintf(stderr, "%s: %s\n", cli->prog, nt_errmsg());
        return 1;
    }
    nt_dist_quiet_others();
    int rc = run(cli, argc, argv);
    /* A training run a signal stopped (exit 128 + SIGINT or SIGTERM): the
     * ranks stopped after the same update and rank 0 saved, so the world
     * ends normally (no MPI_Abort, no "[rank k]" replay), with that status. */
    if (rc == 128 + SIGINT || rc == 128 + SIGTERM) {
        nt_dist_finalize(0);
        return rc;
    }
    return nt_dist_finalize(rc);
}
