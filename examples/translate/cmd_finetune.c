/* cmd_finetune.c - `nextok-translate finetune`: train from a checkpoint's
 * weights on new data with a fresh optimizer and schedule. */
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "core/alloc.h"
#include "train/finetune.h"

int cmd_finetune(int argc, char **argv) {
    const char *ckpt = NULL, *train = NULL, *valid = NULL, *out = NULL;
    long threads = 0;
    int overwrite = 0, extend = 0;
    nt_trainer_config tc = nt_trainer_config_default();
    nt_opt trainer_opts[EX_TRAINER_NOPTS];
    ex_trainer_opts(trainer_opts, &tc, EX_TRAINER_PAIRS);
    nt_opt opts[] = {
        {"--checkpoint", NT_OPT_STRING, &ckpt, .arg = "C", .required = 1, .help = "the starting weights"},
        {"--train", NT_OPT_STRING, &train, .arg = "F[,F...]", .required = 1,
         .help = "training pairs (F*K: F's pairs K times)"},
        {"--valid", NT_OPT_STRING, &valid, .arg = "F", .required = 1, .help = "validation pairs"},
        {"--out", NT_OPT_STRING, &out, .arg = "RUN", .required = 1, .help = "run folder (created if missing)"},
        {"--overwrite", NT_OPT_FLAG, &overwrite, .help = "replace the run already in RUN"},
        {"--extend-vocab", NT_OPT_FLAG, &extend,
         .help = "add the training data's tokens that C's vocabulary lacks (new embedding rows; old ones kept); "
                 "without it such tokens are an error"},
        {"--threads", NT_OPT_INT, &threads, 1, 1024, .def = "OMP_NUM_THREADS or all cores",
         .help = "OpenMP/OpenBLAS threads"},
        {.kind = NT_OPT_GROUP, .help = "trainer:", .dest = trainer_opts},
        {0}};
    nt_opts cmd = {"nextok-translate finetune",
                   "usage: nextok-translate finetune --checkpoint C --train F --valid F --out RUN [options]",
                   "Trains from the weights of checkpoint C (full or weights-only) on new data with a fresh optimizer "
                   "and learning-rate schedule (C's optimizer state and step are not used), and writes RUN/ as "
                   "'train' does. The model and its vocabulary are C's. Exit status as 'train': 128 + N when signal N "
                   "stopped it (checkpoint-last.h5 saved first).",
                   .opts = opts, .epilog = cli_omp_policy_help()};
    int rc = nt_opts_parse(&cmd, argc, argv);
    if (rc >= 0) return rc;
    ex_trainer_budget_apply(&tc, &cmd);
    if (strlen(train) >= sizeof tc.train_path || strlen(valid) >= sizeof tc.valid_path || strlen(out) >= sizeof tc.out_dir)
        return nt_opts_usage_error(&cmd, "a path is too long");
    snprintf(tc.train_path, sizeof tc.train_path, "%s", train);
    snprintf(tc.valid_path, sizeof tc.valid_path, "%s", valid);
    snprintf(tc.out_dir, sizeof tc.out_dir, "%s", out);
    tc.extend_vocab = extend;
    if (nt_trainer_config_check(&tc) != NT_OK) return nt_opts_usage_error(&cmd, "%s", cli_errmsg());
    cli_threads(threads);

    cli_pairs ptrain = {0}, pvalid = {0};
    nt_model *model = NULL;
    nt_vocab *vocab = NULL;
    const char **texts = NULL;
    int added = 0;
    rc = 1;
    nt_status s = cli_pairs_read(&ptrain, tc.train_path);
    if (s == NT_OK) s = cli_pairs_read(&pvalid, tc.valid_path);
    if (s != NT_OK) {
        fprintf(stderr, "nextok-translate finetune: %s\n", cli_errmsg());
        goto done;
    }
    texts = nt_malloc((size_t)ptrain.n * 2 * sizeof *texts);
    if (!texts) goto done;
    for (int i = 0; i < ptrain.n; i++) texts[2 * i] = ptrain.src[i], texts[2 * i + 1] = ptrain.tgt[i];
    s = nt_finetune_load(ckpt, texts, 2 * ptrain.n, extend, tc.seed, &model, &vocab, &added);
    if (s != NT_OK) {
        fprintf(stderr, "nextok-translate finetune: %s%s\n", cli_errmsg(),
                strstr(nt_errmsg(), "vocabulary mismatch") ? " (pass --extend-vocab)" : "");
        goto done;
    }
    fprintf(stderr, "fine-tuning %s%s", ckpt, added ? "" : "\n");
    if (added) fprintf(stderr, " (vocabulary extended by %d tokens)\n", added);
    if (!ex_run_dir_clear("nextok-translate", "finetune", tc.out_dir, overwrite)) goto done;
    rc = cli_run_training("finetune", &tc, model, vocab, &ptrain, &pvalid);
done:
    nt_free(texts);
    cli_pairs_free(&ptrain);
    cli_pairs_free(&pvalid);
    nt_model_free(model);
    nt_vocab_free(vocab);
    return rc;
}
