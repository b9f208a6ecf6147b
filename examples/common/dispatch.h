/* dispatch.h - the main() of a CLI with subcommands (nextok-translate,
 * nextok-lm): the OpenMP wait policy, MPI start and stop, then the
 * subcommand named by argv[1], or the list of commands.
 *
 *     static const ex_command commands[] = {
 *         {"train", "train a model", cmd_train},
 *         {"eval", "score a model", cmd_eval},
 *     };
 *     int main(int argc, char **argv) {
 *         ex_cli cli = {"nextok-lm", commands, 2, NULL};
 *         return ex_cli_main(&cli, argc, argv);
 *     }
 *
 * A subcommand gets the arguments after the program's name (its argv[0] is
 * its own name) and returns the exit status: 0, 1 on a runtime failure, 2 on
 * a usage error.
 */
#ifndef NT_EXAMPLES_DISPATCH_H
#define NT_EXAMPLES_DISPATCH_H

typedef struct ex_command {
    const char *name;     /* "train" */
    const char *summary;  /* one line for the list of commands */
    int (*run)(int argc, char **argv);
} ex_command;

typedef struct ex_cli {
    const char *prog;             /* "nextok-translate" */
    const ex_command *commands;   /* (n_commands) */
    int n_commands;
    const char *epilog;           /* a last line of the help (NULL: none) */
} ex_cli;

/* Sets the OpenMP wait policy (examples/common/omp_policy.h: it may
 * re-execute the program, so it comes first), starts MPI when launched by
 * mpirun (rank 0 alone prints; a rank that fails takes the job down, see
 * train/dist.h), runs the command and returns its exit status. No command:
 * the help on stderr, 2; --help, -h or help: the help on stdout, 0; an
 * unknown command: an error naming it and the commands, 2. */
int ex_cli_main(const ex_cli *cli, int argc, char **argv);

#endif
