/* cmd_export_spm.c - `nextok-translate export-spm`: a checkpoint's
 * SentencePiece model as a .model file, for Python's sentencepiece. */
#include <string.h>

#include "commands.h"
#include "data/spm.h"
#include "train/checkpoint.h"

void cmd_export_spm_usage(FILE *out) {
    fprintf(out,
            "usage: nextok-translate export-spm C OUT.model\n"
            "\n"
            "Writes the SentencePiece model stored in checkpoint C (a model trained with\n"
            "--tokenizer spm) to OUT.model, byte for byte. In Python:\n"
            "  sp = sentencepiece.SentencePieceProcessor(model_file=\"OUT.model\")\n"
            "  sp.encode(text)  # the checkpoint's token ids (specials at 0..4)\n");
}

int cmd_export_spm(int argc, char **argv) {
    const char *args[2] = {NULL, NULL};
    int n = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cmd_export_spm_usage(stdout);
            return 0;
        }
        if (argv[i][0] == '-' || n == 2) {
            fprintf(stderr, "nextok-translate export-spm: %s \"%s\"\n\n",
                    argv[i][0] == '-' ? "unknown option" : "unexpected argument", argv[i]);
            cmd_export_spm_usage(stderr);
            return 2;
        }
        args[n++] = argv[i];
    }
    if (n < 2) {
        fprintf(stderr, "nextok-translate export-spm: %s\n\n", n ? "where to? (OUT.model)" : "which checkpoint?");
        cmd_export_spm_usage(stderr);
        return 2;
    }
    nt_model *m = NULL;
    nt_vocab *v = NULL;
    if (nt_ckpt_load(args[0], &m, &v) != NT_OK) {
        fprintf(stderr, "nextok-translate export-spm: %s\n", nt_errmsg());
        return 1;
    }
    int rc = 0;
    const nt_spm *sp = nt_vocab_spm(v);
    if (!sp) {
        fprintf(stderr, "nextok-translate export-spm: %s has a %s tokenizer, not spm: there is no SentencePiece "
                        "model to export\n", args[0], nt_tokenizer_kind_name(nt_vocab_kind(v)));
        rc = 1;
    } else if (nt_spm_save_file(sp, args[1]) != NT_OK) {
        fprintf(stderr, "nextok-translate export-spm: %s\n", nt_errmsg());
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
