/* cmd_train.c - `nextok-translate train`: a translator from scratch, or the
 * continuation of a run (--resume); the training run shared with finetune. */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "core/alloc.h"
#include "core/rng.h"
#include "data/batcher.h"
#include "data/source.h"
#include "train/checkpoint.h"
#include "train/runlock.h"
#include "train/dist.h"

static void print_budget(FILE *f, const nt_trainer_config *tc) {
    if (tc->steps > 0 && tc->minutes > 0) fprintf(f, "%lld updates or %g minutes", (long long)tc->steps, tc->minutes);
    else if (tc->steps > 0) fprintf(f, "%lld updates", (long long)tc->steps);
    else fprintf(f, "%g minutes", tc->minutes);
}

int cli_run_training(const char *cmd, nt_trainer_config *tc, nt_model *model, const nt_vocab *vocab,
                     const cli_pairs *train, const cli_pairs *valid) {
    nt_corpus *ctrain = NULL, *cvalid = NULL;
    nt_data_source *strain = NULL, *svalid = NULL;
    nt_trainer *tr = NULL;
    int rc = 1;
    nt_status s = cli_corpus(&ctrain, train, vocab, "the training data");
    if (s == NT_OK) s = cli_corpus(&cvalid, valid, vocab, "the validation data");
    /* Length-bucketed batches of the pairs, in the model's layout; the
     * validation pass in corpus order. */
    nt_batcher_config bc = nt_batcher_config_default();
    bc.layout = model->cfg.arch == NT_ARCH_DECODER ? NT_BATCHER_LAYOUT_DECODER : NT_BATCHER_LAYOUT_ENCDEC;
    bc.max_tokens = tc->batch_tokens, bc.max_sentences = tc->batch_sentences;
    bc.seed = tc->seed, bc.shuffle = 1, bc.max_len = model->cfg.max_len, bc.buckets = tc->buckets;
    if (s == NT_OK) s = nt_pairs_source_new(&strain, ctrain, &bc);
    bc.shuffle = 0;
    if (s == NT_OK && (s = nt_pairs_source_new(&svalid, cvalid, &bc)) != NT_OK)
        nt_error_wrap(s, "the validation data");
    nt_eval_decoder em; /* exact match: greedy output == reference */
    if (s == NT_OK) s = nt_eval_exact_match(&em, cvalid);
    nt_evaluator ev = {.batches = svalid, .decode = s == NT_OK ? &em : NULL};
    if (s == NT_OK) s = nt_trainer_new(&tr, tc, &model->net, vocab, strain, &ev);
    if (s != NT_OK) {
        /* a bad value of an option (a --freeze prefix no parameter has, a
         * batch no pair fits in) is a usage error */
        int usage = s == NT_ERR_ARG;
        fprintf(stderr, "nextok-translate %s: %s%s\n", cmd, strstr(nt_errmsg(), "nt_optim_freeze") ? "--freeze: " : "",
                cli_errmsg());
        if (usage) fprintf(stderr, "Try 'nextok-translate %s --help'.\n", cmd), rc = 2;
        goto done;
    }
    const nt_model_config *mc = &model->cfg;
    const nt_train_state *st0 = nt_trainer_state(tr);
    fprintf(stderr, "model: %s, d_model %d, %d heads, %d+%d layers, max_len %d, %lld parameters; vocabulary %d (%s)\n",
            mc->arch == NT_ARCH_ENCDEC ? "encoder-decoder" : "decoder-only", mc->d_model, mc->heads, mc->enc_layers,
            mc->dec_layers, mc->max_len, (long long)nt_model_num_params(model), nt_vocab_size(vocab),
            nt_tokenizer_kind_name(nt_vocab_kind(vocab)));
    fprintf(stderr, "data: %d training pairs (%s), %d validation pairs (%s)\n", ctrain->n, tc->train_path, cvalid->n,
            tc->valid_path);
    fprintf(stderr, "training: ");
    print_budget(stderr, tc);
    if (st0->step > 0) fprintf(stderr, " (resuming at update %lld)", (long long)st0->step);
    fprintf(stderr, ", %s lr %g %s warmup %lld, batch %d tokens x %d, label smoothing %g, dropout %g, seed %llu\n",
            nt_optim_kind_name(tc->optim), tc->lr, nt_schedule_kind_name(tc->schedule), (long long)tc->warmup,
            tc->batch_tokens, tc->accum, (double)tc->label_smoothing, (double)tc->dropout,
            (unsigned long long)tc->seed);
    fflush(stderr);

    nt_train_result res;
    s = nt_trainer_run(tr, &res);
    const char *run_dir = tc->out_dir;
    char last[NT_TRAINER_PATH_MAX + 32], best[NT_TRAINER_PATH_MAX + 32], report[NT_TRAINER_PATH_MAX + 32];
    snprintf(last, sizeof last, "%s/checkpoint-last.h5", run_dir);
    snprintf(best, sizeof best, "%s/checkpoint-best.h5", run_dir);
    if (s != NT_OK && s != NT_ERR_INTERRUPTED) {
        fprintf(stderr, "nextok-translate %s: %s\n", cmd, cli_errmsg());
        goto done;
    }
    if (s == NT_ERR_INTERRUPTED)
        fprintf(stderr, "nextok-translate %s: %s; resume with: nextok-translate train --resume %s\n", cmd,
                cli_errmsg(), run_dir);
    double sec = res.seconds;
    fprintf(stderr, "trained %lld updates in %.0f s (%s), %.0f tokens/s", (long long)res.step, sec, res.stop_reason,
            sec > 0 ? (double)res.tokens / sec : 0.0);
    if (isfinite(res.best_metric)) {
        int pct = tc->metric == NT_TRAINER_METRIC_TOKEN_ACC || tc->metric == NT_TRAINER_METRIC_EXACT_MATCH;
        fprintf(stderr, "; best validation %s %.4g%s at update %lld", nt_trainer_metric_name(tc->metric),
                pct ? 100 * res.best_metric : res.best_metric, pct ? "%" : "", (long long)res.best_step);
    }
    fprintf(stderr, "\n");
    if (res.eval.n_sentences > 0) {
        fprintf(stderr, "last validation: loss %.4f, token accuracy %.2f%%", res.eval.loss, 100 * res.eval.token_acc);
        if (res.eval.n_decoded > 0)
            fprintf(stderr, ", exact match %.2f%% (%d sentences)", 100 * res.eval.decode_metric, res.eval.n_decoded);
        fprintf(stderr, "\n");
    }
    s = !nt_dist_is_root(NULL) ? NT_OK /* rank 0 writes it */
        : cli_report_write(run_dir, ex_file_exists(best) ? best : last, tc->valid_path, 4, report, sizeof report);
    if (s != NT_OK) {
        fprintf(stderr, "nextok-translate %s: report: %s\n", cmd, cli_errmsg());
        goto done;
    }
    fprintf(stderr, "wrote %s, %s%s, %s/metrics.jsonl and %s\n", last, ex_file_exists(best) ? best : "",
            ex_file_exists(best) ? "" : "(no best checkpoint: no evaluation ran)", run_dir, report);
    /* stopped by a signal: 128 + its number, as a shell reports a process the
     * signal ended, so that a script does not go on as if training had finished */
    rc = res.signal > 0 ? 128 + res.signal : 0;
done:
    nt_trainer_free(tr);
    nt_data_source_free(strain);
    nt_data_source_free(svalid);
    nt_corpus_free(ctrain);
    nt_corpus_free(cvalid);
    return rc;
}

/* The longest sequence (in positions) a pair of p needs under model layout arch. */
static nt_status longest_pair(const cli_pairs *p, const nt_vocab *v, nt_arch arch, int *need) {
    *need = 0;
    for (int i = 0; i < p->n; i++) {
        int a, b;
        NT_TRY(nt_vocab_encode_src(v, p->src[i], NULL, 0, &a));
        NT_TRY(nt_vocab_encode(v, p->tgt[i], NULL, 0, &b));
        int n = arch == NT_ARCH_ENCDEC ? (a > b ? a : b) + 1 : a + b + 2;
        if (n > *need) *need = n;
    }
    return NT_OK;
}

/* spm learns one joint model from every source, then every target sentence,
 * or with `separate` one model per side. */
static nt_status build_vocab(const cli_pairs *p, nt_tokenizer_kind kind, const nt_spm_options *o, int separate,
                             nt_vocab **out) {
    const char **texts = nt_malloc((size_t)p->n * 2 * sizeof *texts);
    if (!texts) return nt_error(NT_ERR_NOMEM, "out of memory");
    nt_status s;
    if (kind == NT_TOKENIZER_SPM) {
        for (int i = 0; i < p->n; i++) texts[i] = p->src[i], texts[p->n + i] = p->tgt[i];
        s = separate ? nt_vocab_build_spm_pair(out, o, texts, p->n, texts + p->n, p->n)
                     : nt_vocab_build_spm(out, o, texts, 2 * p->n);
        nt_free(texts);
        return s;
    }
    for (int i = 0; i < p->n; i++) texts[2 * i] = p->src[i], texts[2 * i + 1] = p->tgt[i];
    s = nt_vocab_build(out, kind, texts, 2 * p->n, 1);
    nt_free(texts);
    return s;
}

int cmd_train(int argc, char **argv) {
    const char *train = NULL, *valid = NULL, *out = NULL, *resume = NULL, *tokenizer = "auto", *spm_type = NULL;
    long vocab_size = 0;
    int spm_joint = 0, spm_separate = 0;
    int preset = CLI_PRESET_SMALL, arch = NT_ARCH_ENCDEC, d_model = 0, heads = 0, layers = -1, enc_layers = -1,
        dec_layers = -1, max_len = 0, overwrite = 0;
    long threads = 0;
    int64_t stop_after = 0;
    /* the trainer options given now (on --resume they override the stored ones) */
    nt_trainer_config given = nt_trainer_config_default();
    nt_opt trainer_opts[EX_TRAINER_NOPTS];
    ex_trainer_opts(trainer_opts, &given, EX_TRAINER_PAIRS);
    nt_opt model_opts[] = {
        {"--preset", NT_OPT_ENUM, &preset, .choices = cli_preset_choices(),
         .help = "tiny (d 32, 1+1 layers), small (d 128, 2+2), base (d 256, 3+3)"},
        {"--arch", NT_OPT_ENUM, &arch, .choices = "encdec|decoder",
         .values = (const int[]){NT_ARCH_ENCDEC, NT_ARCH_DECODER},
         .help = "decoder: one stack holding the preset's encoder and decoder layers"},
        {"--tokenizer", NT_OPT_STRING, &tokenizer, .arg = "char|word|spm|auto",
         .help = "auto: word unless the data holds more than " CLI_AUTO_WORD_MAX_TEXT
                 " distinct words, as digits and German do; spm: SentencePiece subwords learned from the training "
                 "file (byte fallback: no input is ever <unk>), the model stored in the checkpoint (export-spm "
                 "writes it out)"},
        {"--vocab-size", NT_OPT_INT, &vocab_size, 262, 1000000, .def = "8000",
         .help = "spm: pieces, the 5 specials and 256 bytes included"},
        {"--spm-type", NT_OPT_STRING, &spm_type, .arg = "unigram|bpe", .def = "unigram", .help = "spm: the model type"},
        {"--spm-joint", NT_OPT_FLAG, &spm_joint, .help = "spm: one model for source and target (the default)"},
        {"--spm-separate", NT_OPT_FLAG, &spm_separate,
         .help = "spm: a source model and a target model, each of --vocab-size pieces (both in the checkpoint; "
                 "export-spm --side writes either)"},
        {"--d-model", NT_OPT_INT, &d_model, 1, 65536, .small = 1, .def = "the preset's", .help = "model width"},
        {"--heads", NT_OPT_INT, &heads, 1, 65536, .small = 1, .def = "the preset's", .help = "attention heads"},
        {"--layers", NT_OPT_INT, &layers, 0, 65536, .small = 1, .def = "the preset's", .help = "layers on each side"},
        {"--enc-layers", NT_OPT_INT, &enc_layers, 0, 65536, .small = 1, .def = "the preset's", .help = "encoder layers"},
        {"--dec-layers", NT_OPT_INT, &dec_layers, 0, 65536, .small = 1, .def = "the preset's", .help = "decoder layers"},
        {"--max-len", NT_OPT_INT, &max_len, 1, 65536, .small = 1, .def = "the preset's, grown to fit the longest pair",
         .help = "positions of the model"},
        {0}};
    nt_opt opts[] = {
        {"--train", NT_OPT_STRING, &train, .arg = "F[,F...]",
         .help = "training pairs (several files are read as one corpus; F*K reads F K times, to upsample a small "
                 "file)"},
        {"--valid", NT_OPT_STRING, &valid, .arg = "F", .help = "validation pairs (loss, token accuracy, exact match)"},
        {"--out", NT_OPT_STRING, &out, .arg = "RUN", .help = "run folder (created if missing)"},
        {"--overwrite", NT_OPT_FLAG, &overwrite, .help = "replace the run already in RUN (else it is an error)"},
        {"--resume", NT_OPT_STRING, &resume, .arg = "RUN|FILE", .help = "continue a run"},
        {"--threads", NT_OPT_INT, &threads, 1, 1024, .def = "OMP_NUM_THREADS or all cores",
         .help = "OpenMP/OpenBLAS threads"},
        {"--stop-after", NT_OPT_INT64, &stop_after, 1, 2e9, .def = "",
         .help = "stop after update N as if interrupted (checkpoint-last saved; --resume continues with the same "
                 "budget and schedule)"},
        {.kind = NT_OPT_GROUP, .help = "model (not with --resume):", .dest = model_opts},
        {.kind = NT_OPT_GROUP, .help = "trainer:", .dest = trainer_opts},
        {0}};
    nt_opts cmd = {"nextok-translate train",
                   "usage: nextok-translate train --train F --valid F --out RUN [options]\n"
                   "       nextok-translate train --resume RUN [--steps N | --minutes M] [options]",
                   "Trains a translator from scratch on a TSV corpus (source<TAB>target per line) and writes "
                   "RUN/checkpoint-last.h5, RUN/checkpoint-best.h5, RUN/metrics.jsonl and RUN/report.html. "
                   "--resume continues RUN/checkpoint-last.h5 (or a checkpoint file) exactly where it stopped, to N "
                   "updates in total, with the run's stored options and data files. Exit status: 0 when the "
                   "budget is used up (or early stopping or --target ended the run), 128 + N when signal N stopped "
                   "it (130 for Ctrl-C/SIGINT, 143 for SIGTERM; checkpoint-last.h5 is saved first and --resume "
                   "continues it), 1 on an error, 2 on a usage error.",
                   .opts = opts, .epilog = cli_omp_policy_help()};
    int rc = nt_opts_parse(&cmd, argc, argv);
    if (rc >= 0) return rc;
    int model_flags = 0;
    for (const nt_opt *o = model_opts; o->kind; o++) model_flags |= o->given;
    cli_threads(threads);

    nt_trainer_config tc = nt_trainer_config_default();
    nt_model *model = NULL;
    nt_vocab *vocab = NULL;
    cli_pairs ptrain = {0}, pvalid = {0};
    rc = 1;
    nt_status s;
    if (resume) {
        if (model_flags)
            return nt_opts_usage_error(&cmd, "the model options (--preset, --arch, --tokenizer, --d-model, ...) cannot "
                                             "change on --resume: the run's checkpoint fixes them");
        char file[NT_TRAINER_PATH_MAX], dir[NT_TRAINER_PATH_MAX];
        if (!ex_run_resume_paths(resume, file, dir, sizeof file))
            return nt_opts_usage_error(&cmd, "--resume: path too long");
        nt_train_state *ts = nt_malloc(sizeof *ts);
        if (!ts) return 1;
        int has = cli_ckpt_train_state(file, ts);
        if (has <= 0) {
            fprintf(stderr, "nextok-translate train: --resume %s: %s\n", resume,
                    has < 0 ? cli_errmsg() : "the checkpoint has no training state (a weights-only file); "
                                            "use 'finetune --checkpoint' to train from its weights");
            nt_free(ts);
            return 1;
        }
        if (ts->options[0] && nt_trainer_config_from_json(&tc, ts->options) != NT_OK) {
            fprintf(stderr, "nextok-translate train: --resume %s: stored options: %s\n", file, cli_errmsg());
            nt_free(ts);
            return 1;
        }
        int64_t at = ts->step;
        nt_free(ts);
        /* the options given now override the stored ones */
        ex_trainer_opts_copy(&tc, trainer_opts, &given);
        ex_trainer_budget_apply(&tc, &cmd);
        if (tc.steps > 0 && tc.steps <= at && tc.minutes == 0)
            return nt_opts_usage_error(&cmd, "%s is at update %lld already; pass --steps N with N > %lld", file,
                                       (long long)at, (long long)at);
        snprintf(tc.resume, sizeof tc.resume, "%s", file);
        snprintf(tc.out_dir, sizeof tc.out_dir, "%s", out ? out : dir);
        if (train) snprintf(tc.train_path, sizeof tc.train_path, "%s", train);
        if (valid) snprintf(tc.valid_path, sizeof tc.valid_path, "%s", valid);
        if (!tc.train_path[0] || !tc.valid_path[0])
            return nt_opts_usage_error(&cmd, "%s does not record its data files; pass --train and --valid", file);
        s = nt_ckpt_load(file, &model, &vocab);
        if (s != NT_OK) {
            fprintf(stderr, "nextok-translate train: --resume: %s\n", cli_errmsg());
            return 1;
        }
    } else {
        if (!train || !valid || !out)
            return nt_opts_usage_error(&cmd, "%s is required (or --resume RUN)",
                                       !train ? "--train" : !valid ? "--valid" : "--out");
        tc = given;
        ex_trainer_budget_apply(&tc, &cmd);
        if (strlen(train) >= sizeof tc.train_path || strlen(valid) >= sizeof tc.valid_path ||
            strlen(out) >= sizeof tc.out_dir)
            return nt_opts_usage_error(&cmd, "a path is too long");
        snprintf(tc.train_path, sizeof tc.train_path, "%s", train);
        snprintf(tc.valid_path, sizeof tc.valid_path, "%s", valid);
        snprintf(tc.out_dir, sizeof tc.out_dir, "%s", out);
    }
    tc.stop_at = stop_after;
    if (nt_trainer_config_check(&tc) != NT_OK) {
        rc = nt_opts_usage_error(&cmd, "%s", cli_errmsg());
        goto done;
    }
    s = cli_pairs_read(&ptrain, tc.train_path);
    if (s == NT_OK) s = cli_pairs_read(&pvalid, tc.valid_path);
    if (s != NT_OK) {
        fprintf(stderr, "nextok-translate train: %s\n", cli_errmsg());
        goto done;
    }
    if (!resume) {
        nt_model_config mc;
        cli_preset(preset, &mc);
        mc.arch = (nt_arch)arch;
        if (d_model) mc.d_model = d_model;
        if (heads) mc.heads = heads;
        if (layers >= 0) mc.enc_layers = mc.dec_layers = layers;
        if (enc_layers >= 0) mc.enc_layers = enc_layers;
        if (dec_layers >= 0) mc.dec_layers = dec_layers;
        if (mc.arch == NT_ARCH_DECODER) {
            /* one stack: the preset's layers all go to the decoder unless given */
            if (layers < 0 && dec_layers < 0) mc.dec_layers += mc.enc_layers;
            mc.enc_layers = 0;
        }
        nt_tokenizer_kind kind;
        s = cli_tokenizer_choose(tokenizer, &ptrain, &kind);
        if (s != NT_OK) {
            if (s == NT_ERR_ARG) rc = nt_opts_usage_error(&cmd, "--tokenizer: %s", cli_errmsg());
            else fprintf(stderr, "nextok-translate train: --tokenizer: %s\n", cli_errmsg());
            goto done;
        }
        nt_spm_options so;
        nt_spm_options_default(&so);
        so.seed = (unsigned)tc.seed;
        if (vocab_size) so.vocab_size = (int)vocab_size;
        if (spm_type && nt_spm_type_parse(spm_type, &so.type) != NT_OK) {
            rc = nt_opts_usage_error(&cmd, "--spm-type: %s", cli_errmsg());
            goto done;
        }
        if (kind != NT_TOKENIZER_SPM && (vocab_size || spm_type || spm_joint || spm_separate)) {
            rc = nt_opts_usage_error(&cmd, "--vocab-size, --spm-type, --spm-joint and --spm-separate need --tokenizer spm");
            goto done;
        }
        if (spm_joint && spm_separate) {
            rc = nt_opts_usage_error(&cmd, "--spm-joint and --spm-separate exclude each other");
            goto done;
        }
        if (kind == NT_TOKENIZER_SPM)
            fprintf(stderr, "learning %s SentencePiece %s model%s of %d pieces from %s (%s)\n",
                    spm_separate ? "two" : "a", nt_spm_type_name(so.type), spm_separate ? "s" : "", so.vocab_size,
                    tc.train_path, spm_separate ? "one per side" : "both sides");
        s = build_vocab(&ptrain, kind, &so, spm_separate, &vocab);
        int need = 0;
        if (s == NT_OK) s = longest_pair(&ptrain, vocab, mc.arch, &need);
        if (s != NT_OK) {
            fprintf(stderr, "nextok-translate train: %s: %s%s\n", tc.train_path, cli_errmsg(),
                    kind == NT_TOKENIZER_SPM && strstr(nt_errmsg(), "Vocabulary size too high")
                        ? " (--vocab-size sets the number of pieces)" : "");
            goto done;
        }
        if (max_len && max_len < need) {
            rc = nt_opts_usage_error(&cmd, "--max-len %d is too short: the longest pair of %s needs %d positions",
                                     max_len, tc.train_path, need);
            goto done;
        }
        if (max_len) mc.max_len = max_len;
        else if (need > mc.max_len) mc.max_len = (need + 8 + 31) / 32 * 32;
        mc.vocab_size = nt_vocab_size(vocab);
        s = nt_model_new(&model, &mc);
        if (s != NT_OK) {
            if (s == NT_ERR_ARG) rc = nt_opts_usage_error(&cmd, "model: %s", cli_errmsg());
            else fprintf(stderr, "nextok-translate train: model: %s\n", cli_errmsg());
            goto done;
        }
        nt_rng rng;
        nt_rng_seed(&rng, tc.seed);
        nt_model_init(model, &rng);
        if (!ex_run_dir_clear("nextok-translate", "train", tc.out_dir, overwrite)) goto done;
    }
    rc = cli_run_training("train", &tc, model, vocab, &ptrain, &pvalid);
done:
    cli_pairs_free(&ptrain);
    cli_pairs_free(&pvalid);
    nt_model_free(model);
    nt_vocab_free(vocab);
    return rc;
}
