/* main.c - nextok-translate: a number translator built on nextok; dispatches subcommands. */
#include <stdio.h>

#include "../common/dispatch.h"
#include "commands.h"
#include "train/dist.h"

static const ex_command commands[] = {
    {"data", "write train/valid/test TSV files of a number task, or pair two text files", cmd_data},
    {"train", "train a translator from scratch, or resume a run", cmd_train},
    {"translate", "translate lines of stdin (or a file), one output line each", cmd_translate},
    {"eval", "exact match, character accuracy, BLEU and chrF on a test file", cmd_eval},
    {"finetune", "train from a checkpoint's weights on new data", cmd_finetune},
    {"inspect", "print a checkpoint's architecture, sizes and training state", cmd_inspect},
    {"report", "write RUN/report.html (curves, attention heatmaps)", cmd_report},
    {"export-spm", "write a checkpoint's SentencePiece model to a .model file", cmd_export_spm},
};

int main(int argc, char **argv) {
    char epilog[256];
    snprintf(epilog, sizeof epilog, "%s; see docs/distributed.md", nt_dist_build_info());
    const ex_cli cli = {"nextok-translate", commands, sizeof commands / sizeof *commands, epilog};
    return ex_cli_main(&cli, argc, argv);
}
