/* cmd_export_spm.c - `nextok-translate export-spm`: a checkpoint's
 * SentencePiece model as a .model file, for Python's sentencepiece. */
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "data/spm.h"
#include "train/checkpoint.h"

int cmd_export_spm(int argc, char **argv) {
    const char *args[2] = {NULL, NULL};
    int side = -1; /* -1 joint, 0 source, 1 target */
    nt_opt opts[] = {{"--side", NT_OPT_ENUM, &side, .choices = "source|target", .values = (const int[]){0, 1},
                      .def = "", .help = "which model of a checkpoint with separate source and target models "
                                         "(--spm-separate); not for a joint model"},
                     {0}};
    nt_opts cmd = {"nextok-translate export-spm", "usage: nextok-translate export-spm C OUT.model [--side source|target]",
                   "Writes the SentencePiece model stored in checkpoint C (a model trained with --tokenizer spm) to "
                   "OUT.model, byte for byte. A checkpoint with separate source and target models holds two: "
                   "--side picks one.",
                   .opts = opts, .positional = "C OUT.model", .args = args, .max_args = 2, .min_args = 2,
                   .epilog = "In Python:\n  sp = sentencepiece.SentencePieceProcessor(model_file=\"OUT.model\")\n"
                             "  sp.encode(text)  # the checkpoint's token ids (specials at 0..4)\n"
                             "Separate models: the target model's ids are the checkpoint's; a source id i >= 5 is\n"
                             "the checkpoint's T - 5 + i, T = the target model's size (docs/multi30k.md)."};
    int rc0 = nt_opts_parse(&cmd, argc, argv);
    if (rc0 >= 0) return rc0;
    nt_model *m = NULL;
    nt_vocab *v = NULL;
    if (nt_ckpt_load(args[0], &m, &v) != NT_OK) {
        fprintf(stderr, "nextok-translate export-spm: %s\n", cli_errmsg());
        return 1;
    }
    int rc = 0;
    const nt_spm *sp = side == 0 ? nt_vocab_spm_src(v) : nt_vocab_spm(v);
    if (!nt_vocab_spm(v)) {
        fprintf(stderr, "nextok-translate export-spm: %s has a %s tokenizer, not spm: there is no SentencePiece "
                        "model to export\n", args[0], nt_tokenizer_kind_name(nt_vocab_kind(v)));
        rc = 1;
    } else if (side < 0 && nt_vocab_spm_src(v)) {
        fprintf(stderr, "nextok-translate export-spm: %s has separate source and target SentencePiece models: "
                        "pass --side source or --side target\n", args[0]);
        rc = 2;
    } else if (side >= 0 && !nt_vocab_spm_src(v)) {
        fprintf(stderr, "nextok-translate export-spm: --side %s: %s has one joint SentencePiece model for both "
                        "sides; export it without --side\n", side ? "target" : "source", args[0]);
        rc = 2;
    } else if (nt_spm_save_file(sp, args[1]) != NT_OK) {
        fprintf(stderr, "nextok-translate export-spm: %s\n", cli_errmsg());
        rc = 1;
    } else {
        const uint8_t *b;
        size_t nb;
        nt_spm_bytes(sp, &b, &nb);
        printf("wrote %s: SentencePiece %smodel, %d pieces, %zu bytes\n", args[1],
               side < 0 ? "" : side ? "target " : "source ", nt_spm_size(sp), nb);
    }
    nt_model_free(m);
    nt_vocab_free(v);
    return rc;
}
