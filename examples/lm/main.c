/* main.c - nextok-lm: a character-level language model built on nextok
 * (train, sample, eval); dispatches the subcommands. */
#include <stddef.h>

#include "../common/dispatch.h"
#include "commands.h"

static const ex_command commands[] = {
    {"train", "train a language model on a text file, or resume a run", cmd_train},
    {"sample", "write text from a model, token by token", cmd_sample},
    {"eval", "loss, perplexity and bits per character over a text file", cmd_eval},
};

int main(int argc, char **argv) {
    const ex_cli cli = {"nextok-lm", commands, sizeof commands / sizeof *commands, NULL};
    return ex_cli_main(&cli, argc, argv);
}
