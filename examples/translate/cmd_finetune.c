/* cmd_finetune.c - `nextok-translate finetune`: train from a checkpoint's
 * weights on new data with a fresh optimizer and schedule. */
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "core/alloc.h"
#include "train/finetune.h"

void cmd_finetune_usage(FILE *out) {
    fprintf(out,
            "usage: nextok-translate finetune --checkpoint C --train F --valid F --out RUN [options]\n"
            "\n"
            "Trains from the weights of checkpoint C (full or weights-only) on new data with a fresh\n"
            "optimizer and learning-rate schedule (C's optimizer state and step are not used), and\n"
            "writes RUN/ as 'train' does. The model and its vocabulary are C's.\n"
            "\n"
            "  --checkpoint C       the starting weights\n"
            "  --train F[,F...]     training pairs (F*K: F's pairs K times)\n"
            "  --valid F            validation pairs\n"
            "  --out RUN            run folder (created if missing)\n"
            "  --overwrite          replace the run already in RUN\n"
            "  --extend-vocab       add the training data's tokens that C's vocabulary lacks (new\n"
            "                       embedding rows; old ones kept); without it such tokens are an error\n"
            "  --threads N          OpenMP/OpenBLAS threads\n"
            "\n");
    cli_trainer_usage(out);
}

static int usage_error(void) {
    fputc('\n', stderr);
    cmd_finetune_usage(stderr);
    return 2;
}

int cmd_finetune(int argc, char **argv) {
    const char *ckpt = NULL, *train = NULL, *valid = NULL, *out = NULL;
    long threads = 0;
    int overwrite = 0, extend = 0;
    nt_trainer_config tc = nt_trainer_config_default();
    cli_budget_seen seen = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            cmd_finetune_usage(stdout);
            return 0;
        }
        int r = cli_trainer_option(&tc, &seen, argc, argv, &i);
        if (r < 0) return usage_error();
        if (r > 0) continue;
        if (strcmp(a, "--overwrite") == 0) {
            overwrite = 1;
            continue;
        }
        if (strcmp(a, "--extend-vocab") == 0) {
            extend = 1;
            continue;
        }
        const char **str = strcmp(a, "--checkpoint") == 0 ? &ckpt
                           : strcmp(a, "--train") == 0    ? &train
                           : strcmp(a, "--valid") == 0    ? &valid
                           : strcmp(a, "--out") == 0      ? &out
                                                          : NULL;
        if (!str && strcmp(a, "--threads") != 0) {
            fprintf(stderr, "nextok-translate finetune: unknown option \"%s\"\n", a);
            return usage_error();
        }
        const char *v = cli_value("finetune", argc, argv, &i);
        if (!v) return usage_error();
        if (str) *str = v;
        else if (!nt_cli_parse_int(a, v, 1, 1024, &threads)) return usage_error();
    }
    if (!ckpt || !train || !valid || !out) {
        fprintf(stderr, "nextok-translate finetune: %s is required\n",
                !ckpt ? "--checkpoint" : !train ? "--train" : !valid ? "--valid" : "--out");
        return usage_error();
    }
    cli_budget_apply(&tc, &seen);
    if (strlen(train) >= sizeof tc.train_path || strlen(valid) >= sizeof tc.valid_path || strlen(out) >= sizeof tc.out_dir) {
        fprintf(stderr, "nextok-translate finetune: a path is too long\n");
        return 2;
    }
    snprintf(tc.train_path, sizeof tc.train_path, "%s", train);
    snprintf(tc.valid_path, sizeof tc.valid_path, "%s", valid);
    snprintf(tc.out_dir, sizeof tc.out_dir, "%s", out);
    tc.extend_vocab = extend;
    if (nt_trainer_config_check(&tc) != NT_OK) {
        fprintf(stderr, "nextok-translate finetune: %s\n", nt_errmsg());
        return usage_error();
    }
    cli_threads((int)threads);

    cli_pairs ptrain = {0}, pvalid = {0};
    nt_model *model = NULL;
    nt_vocab *vocab = NULL;
    const char **texts = NULL;
    int rc = 1, added = 0;
    nt_status s = cli_pairs_read(&ptrain, tc.train_path);
    if (s == NT_OK) s = cli_pairs_read(&pvalid, tc.valid_path);
    if (s != NT_OK) {
        fprintf(stderr, "nextok-translate finetune: %s\n", nt_errmsg());
        goto done;
    }
    texts = nt_malloc((size_t)ptrain.n * 2 * sizeof *texts);
    if (!texts) goto done;
    for (int i = 0; i < ptrain.n; i++) texts[2 * i] = ptrain.src[i], texts[2 * i + 1] = ptrain.tgt[i];
    s = nt_trainer_finetune_load(ckpt, texts, 2 * ptrain.n, extend, tc.seed, &model, &vocab, &added);
    if (s != NT_OK) {
        fprintf(stderr, "nextok-translate finetune: %s%s\n", nt_errmsg(),
                strstr(nt_errmsg(), "vocabulary mismatch") ? " (pass --extend-vocab)" : "");
        goto done;
    }
    fprintf(stderr, "fine-tuning %s%s", ckpt, added ? "" : "\n");
    if (added) fprintf(stderr, " (vocabulary extended by %d tokens)\n", added);
    if (!cli_run_dir_clear("finetune", tc.out_dir, overwrite)) goto done;
    rc = cli_run_training("finetune", &tc, model, vocab, &ptrain, &pvalid);
done:
    nt_free(texts);
    cli_pairs_free(&ptrain);
    cli_pairs_free(&pvalid);
    nt_model_free(model);
    nt_vocab_free(vocab);
    return rc;
}
