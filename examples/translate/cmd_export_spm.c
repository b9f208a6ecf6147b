/* cmd_export_spm.c - `nextok-translate export-spm`: a checkpoint's
 * SentencePiece model as a .model file, for Python's sentencepiece. */
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "data/spm.h"
#include "train/checkpoint.h"

int cmd_export_spm(int argc, char **argv) {
    const char *args[2] = {NULL, NULL};
    nt_opt none[] = {{0}};
    nt_opts cmd = {"nextok-translate export-spm", "usage: nextok-translate export-spm C OUT.model",
                   "Writes the SentencePiece model stored in checkpoint C (a model trained with --tokenizer spm) to "
                   "OUT.model, byte for byte.",
                   .opts = none, .positional = "C OUT.model", .args = args, .max_args = 2, .min_args = 2,
                   .epilog = "In Python:\n  sp = sentencepiece.SentencePieceProcessor(model_file=\"OUT.model\")\n"
                             "  sp.encode(text)  # the checkpoint's token ids (specials at 0..4)"};
    int rc0 = nt_opts_parse(&cmd, argc, argv);
    if (rc0 >= 0) return rc0;
    nt_model *m = NULL;
    nt_vocab *v = NULL;
    if (nt_ckpt_load(args[0], &m, &v) != NT_OK) {
        fprintf(stderr, "nextok-translate export-spm: %s\n", cli_errmsg());
        return 1;
    }
    int rc = 0;
    const nt_spm *sp = nt_vocab_spm(v);
    if (!sp) {
        fprintf(stderr, "nextok-translate export-spm: %s has a %s tokenizer, not spm: there is no SentencePiece "
                        "model to export\n", args[0], nt_tokenizer_kind_name(nt_vocab_kind(v)));
        rc = 1;
    } else if (nt_spm_save_file(sp, args[1]) != NT_OK) {
        fprintf(stderr, "nextok-translate export-spm: %s\n", cli_errmsg());
        rc = 1;
    } else {
        const uint8_t *b;
        size_t nb;
        nt_spm_bytes(sp, &b, &nb);
        printf("wrote %s: SentencePiece model, %d pieces, %zu bytes\n", args[1], nt_spm_size(sp), nb);
    }
    nt_model_free(m);
    nt_vocab_free(v);
    return rc;
}
