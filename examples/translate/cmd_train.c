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

void cmd_train_usage(FILE *out) {
    fprintf(out,
            "usage: nextok-translate train --train F --valid F --out RUN [options]\n"
            "       nextok-translate train --resume RUN [--steps N | --minutes M] [options]\n"
            "\n"
            "Trains a translator from scratch on a TSV corpus (source<TAB>target per line) and writes\n"
            "RUN/checkpoint-last.h5, RUN/checkpoint-best.h5, RUN/metrics.jsonl and RUN/report.html.\n"
            "--resume continues RUN/checkpoint-last.h5 (or a checkpoint file) exactly where it\n"
            "stopped, to N updates in total, with the run's stored options and data files.\n"
            "\n"
            "  --train F[,F...]     training pairs (several files are read as one corpus; F*K reads\n"
            "                       F K times, to upsample a small file)\n"
            "  --valid F            validation pairs (loss, token accuracy, exact match)\n"
            "  --out RUN            run folder (created if missing)\n"
            "  --overwrite          replace the run already in RUN (else it is an error)\n"
            "  --resume RUN|FILE    continue a run\n"
            "model (not with --resume):\n"
            "  --preset NAME        tiny (d 32, 1+1 layers), small (d 128, 2+2), base (d 256, 3+3)\n"
            "                       (default small)\n"
            "  --arch A             encdec | decoder (default encdec; decoder: one stack holding the\n"
            "                       preset's encoder and decoder layers)\n"
            "  --tokenizer T        char | word | auto (default auto: word unless the data holds\n"
            "                       more than %d distinct words, as digits and German do)\n"
            "  --d-model N, --heads N, --layers N (each side), --enc-layers N, --dec-layers N,\n"
            "  --max-len N          override the preset (max-len default: the preset's, grown to fit\n"
            "                       the longest training pair)\n"
            "  --threads N          OpenMP/OpenBLAS threads (default: OMP_NUM_THREADS or all cores)\n"
            "  --stop-after N       stop after update N as if interrupted (checkpoint-last saved;\n"
            "                       --resume continues with the same budget and schedule)\n"
            "\n",
            CLI_AUTO_WORD_MAX);
    cli_trainer_usage(out);
}

static int usage_error(void) {
    fputc('\n', stderr);
    cmd_train_usage(stderr);
    return 2;
}

static int file_exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

static int is_dir(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

int cli_run_dir_clear(const char *cmd, const char *run_dir, int overwrite) {
    static const char *files[] = {"checkpoint-last.h5", "checkpoint-best.h5", "metrics.jsonl", "report.html"};
    char p[NT_TRAINER_PATH_MAX + 32];
    for (size_t k = 0; k < sizeof files / sizeof *files; k++) {
        snprintf(p, sizeof p, "%s/%s", run_dir, files[k]);
        if (!file_exists(p)) continue;
        if (!overwrite) {
            fprintf(stderr,
                    "nextok-translate %s: %s holds a run already (%s); continue it with "
                    "'nextok-translate train --resume %s', or pass --overwrite to replace it\n",
                    cmd, run_dir, p, run_dir);
            return 0;
        }
        if (remove(p) != 0) {
            fprintf(stderr, "nextok-translate %s: cannot remove %s (%s)\n", cmd, p, strerror(errno));
            return 0;
        }
    }
    return 1;
}

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
    bc.layout = model->cfg.arch == NT_ARCH_DECODER ? NT_LAYOUT_DECODER : NT_LAYOUT_ENCDEC;
    bc.max_tokens = tc->batch_tokens, bc.max_sentences = tc->batch_sentences;
    bc.seed = tc->seed, bc.shuffle = 1, bc.max_len = model->cfg.max_len, bc.buckets = tc->buckets;
    if (s == NT_OK) s = nt_pairs_source_new(&strain, ctrain, &bc);
    bc.shuffle = 0;
    if (s == NT_OK && (s = nt_pairs_source_new(&svalid, cvalid, &bc)) != NT_OK)
        nt_error_wrap(s, "the validation data");
    nt_evaluator ev = {.batches = svalid, .exact = cvalid};
    if (s == NT_OK) s = nt_trainer_new(&tr, tc, &model->net, vocab, strain, &ev);
    if (s != NT_OK) {
        fprintf(stderr, "nextok-translate %s: %s\n", cmd, nt_errmsg());
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
            nt_optim_kind_name(tc->optim), tc->lr, nt_sched_kind_name(tc->schedule), (long long)tc->warmup,
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
        fprintf(stderr, "nextok-translate %s: %s\n", cmd, nt_errmsg());
        goto done;
    }
    if (s == NT_ERR_INTERRUPTED)
        fprintf(stderr, "nextok-translate %s: %s; resume with: nextok-translate train --resume %s\n", cmd,
                nt_errmsg(), run_dir);
    double sec = res.seconds;
    fprintf(stderr, "trained %lld updates in %.0f s (%s), %.0f tokens/s", (long long)res.step, sec, res.stop_reason,
            sec > 0 ? (double)res.tokens / sec : 0.0);
    if (isfinite(res.best_metric)) {
        int pct = tc->metric == NT_METRIC_TOKEN_ACC || tc->metric == NT_METRIC_EXACT_MATCH;
        fprintf(stderr, "; best validation %s %.4g%s at update %lld", nt_metric_name(tc->metric),
                pct ? 100 * res.best_metric : res.best_metric, pct ? "%" : "", (long long)res.best_step);
    }
    fprintf(stderr, "\n");
    if (res.eval.n_sentences > 0) {
        fprintf(stderr, "last validation: loss %.4f, token accuracy %.2f%%", res.eval.loss, 100 * res.eval.token_acc);
        if (res.eval.n_decoded > 0)
            fprintf(stderr, ", exact match %.2f%% (%d sentences)", 100 * res.eval.exact_match, res.eval.n_decoded);
        fprintf(stderr, "\n");
    }
    s = cli_report_write(run_dir, file_exists(last) ? last : best, tc->valid_path, 4, report, sizeof report);
    if (s != NT_OK) {
        fprintf(stderr, "nextok-translate %s: report: %s\n", cmd, nt_errmsg());
        goto done;
    }
    fprintf(stderr, "wrote %s, %s%s, %s/metrics.jsonl and %s\n", last, file_exists(best) ? best : "",
            file_exists(best) ? "" : "(no best checkpoint: no evaluation ran)", run_dir, report);
    rc = 0;
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
        NT_TRY(nt_vocab_encode(v, p->src[i], NULL, 0, &a));
        NT_TRY(nt_vocab_encode(v, p->tgt[i], NULL, 0, &b));
        int n = arch == NT_ARCH_ENCDEC ? (a > b ? a : b) + 1 : a + b + 2;
        if (n > *need) *need = n;
    }
    return NT_OK;
}

static nt_status build_vocab(const cli_pairs *p, nt_tokenizer_kind kind, nt_vocab **out) {
    const char **texts = nt_malloc((size_t)p->n * 2 * sizeof *texts);
    if (!texts) return nt_error(NT_ERR_NOMEM, "out of memory");
    for (int i = 0; i < p->n; i++) texts[2 * i] = p->src[i], texts[2 * i + 1] = p->tgt[i];
    nt_status s = nt_vocab_build(out, kind, texts, 2 * p->n, 1);
    nt_free(texts);
    return s;
}

int cmd_train(int argc, char **argv) {
    const char *train = NULL, *valid = NULL, *out = NULL, *resume = NULL, *preset = "small", *arch = NULL,
               *tokenizer = "auto";
    long d_model = 0, heads = 0, layers = -1, enc_layers = -1, dec_layers = -1, max_len = 0, threads = 0,
         stop_after = 0;
    int model_flags = 0, overwrite = 0;
    nt_trainer_config scratch = nt_trainer_config_default();
    cli_budget_seen seen = {0};
    /* pass 1: this command's flags; trainer options are checked into a scratch config */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            cmd_train_usage(stdout);
            return 0;
        }
        int r = cli_trainer_option(&scratch, &seen, argc, argv, &i);
        if (r < 0) return usage_error();
        if (r > 0) continue;
        if (strcmp(a, "--overwrite") == 0) {
            overwrite = 1;
            continue;
        }
        const char **str = strcmp(a, "--train") == 0       ? &train
                           : strcmp(a, "--valid") == 0     ? &valid
                           : strcmp(a, "--out") == 0       ? &out
                           : strcmp(a, "--resume") == 0    ? &resume
                           : strcmp(a, "--preset") == 0    ? &preset
                           : strcmp(a, "--arch") == 0      ? &arch
                           : strcmp(a, "--tokenizer") == 0 ? &tokenizer
                                                           : NULL;
        long *num = strcmp(a, "--d-model") == 0      ? &d_model
                    : strcmp(a, "--heads") == 0      ? &heads
                    : strcmp(a, "--layers") == 0     ? &layers
                    : strcmp(a, "--enc-layers") == 0 ? &enc_layers
                    : strcmp(a, "--dec-layers") == 0 ? &dec_layers
                    : strcmp(a, "--max-len") == 0    ? &max_len
                    : strcmp(a, "--threads") == 0    ? &threads
                    : strcmp(a, "--stop-after") == 0 ? &stop_after
                                                     : NULL;
        if (!str && !num) {
            fprintf(stderr, "nextok-translate train: unknown option \"%s\"\n", a);
            return usage_error();
        }
        const char *v = cli_value("train", argc, argv, &i);
        if (!v) return usage_error();
        if (str) *str = v;
        else if (!nt_cli_parse_int(a, v, num == &enc_layers || num == &dec_layers || num == &layers ? 0 : 1,
                                   num == &threads ? 1024 : num == &stop_after ? 2000000000L : 65536, num))
            return usage_error();
        if (num != &threads && num != &stop_after && str != &train && str != &valid && str != &out && str != &resume) model_flags = 1;
    }
    cli_threads((int)threads);

    nt_trainer_config tc = nt_trainer_config_default();
    nt_model *model = NULL;
    nt_vocab *vocab = NULL;
    cli_pairs ptrain = {0}, pvalid = {0};
    int rc = 1;
    nt_status s;
    if (resume) {
        if (model_flags) {
            fprintf(stderr, "nextok-translate train: the model options (--preset, --arch, --tokenizer, --d-model, "
                            "...) cannot change on --resume: the run's checkpoint fixes them\n");
            return usage_error();
        }
        char file[NT_TRAINER_PATH_MAX], dir[NT_TRAINER_PATH_MAX];
        if (strlen(resume) + 20 >= sizeof file) {
            fprintf(stderr, "nextok-translate train: --resume: path too long\n");
            return 2;
        }
        if (is_dir(resume)) {
            snprintf(file, sizeof file, "%s/checkpoint-last.h5", resume);
            snprintf(dir, sizeof dir, "%s", resume);
        } else {
            snprintf(file, sizeof file, "%s", resume);
            snprintf(dir, sizeof dir, "%s", resume);
            char *slash = strrchr(dir, '/');
            if (slash) *slash = 0;
            else snprintf(dir, sizeof dir, ".");
        }
        nt_train_state *ts = nt_malloc(sizeof *ts);
        if (!ts) return 1;
        int has = cli_ckpt_train_state(file, ts);
        if (has <= 0) {
            fprintf(stderr, "nextok-translate train: --resume %s: %s\n", resume,
                    has < 0 ? nt_errmsg() : "the checkpoint has no training state (a weights-only file); "
                                            "use 'finetune --checkpoint' to train from its weights");
            nt_free(ts);
            return 1;
        }
        if (ts->options[0] && nt_trainer_config_from_json(&tc, ts->options) != NT_OK) {
            fprintf(stderr, "nextok-translate train: --resume %s: stored options: %s\n", file, nt_errmsg());
            nt_free(ts);
            return 1;
        }
        int64_t at = ts->step;
        nt_free(ts);
        /* the options given now override the stored ones */
        cli_budget_seen seen2 = {0};
        for (int i = 1; i < argc; i++) cli_trainer_option(&tc, &seen2, argc, argv, &i);
        cli_budget_apply(&tc, &seen2);
        if (tc.steps > 0 && tc.steps <= at && tc.minutes == 0) {
            fprintf(stderr, "nextok-translate train: %s is at update %lld already; pass --steps N with N > %lld\n",
                    file, (long long)at, (long long)at);
            return 2;
        }
        snprintf(tc.resume, sizeof tc.resume, "%s", file);
        snprintf(tc.out_dir, sizeof tc.out_dir, "%s", out ? out : dir);
        if (train) snprintf(tc.train_path, sizeof tc.train_path, "%s", train);
        if (valid) snprintf(tc.valid_path, sizeof tc.valid_path, "%s", valid);
        if (!tc.train_path[0] || !tc.valid_path[0]) {
            fprintf(stderr, "nextok-translate train: %s does not record its data files; pass --train and --valid\n", file);
            return 2;
        }
        s = nt_ckpt_load(file, &model, &vocab);
        if (s != NT_OK) {
            fprintf(stderr, "nextok-translate train: --resume: %s\n", nt_errmsg());
            return 1;
        }
    } else {
        if (!train || !valid || !out) {
            fprintf(stderr, "nextok-translate train: %s is required (or --resume RUN)\n",
                    !train ? "--train" : !valid ? "--valid" : "--out");
            return usage_error();
        }
        for (int i = 1; i < argc; i++) cli_trainer_option(&tc, &seen, argc, argv, &i);
        cli_budget_apply(&tc, &seen);
        if (strlen(train) >= sizeof tc.train_path || strlen(valid) >= sizeof tc.valid_path ||
            strlen(out) >= sizeof tc.out_dir) {
            fprintf(stderr, "nextok-translate train: a path is too long\n");
            return 2;
        }
        snprintf(tc.train_path, sizeof tc.train_path, "%s", train);
        snprintf(tc.valid_path, sizeof tc.valid_path, "%s", valid);
        snprintf(tc.out_dir, sizeof tc.out_dir, "%s", out);
        if (nt_trainer_config_check(&tc) != NT_OK) {
            fprintf(stderr, "nextok-translate train: %s\n", nt_errmsg());
            return usage_error();
        }
    }
    tc.stop_at = stop_after;
    if (nt_trainer_config_check(&tc) != NT_OK) {
        fprintf(stderr, "nextok-translate train: %s\n", nt_errmsg());
        rc = 2;
        goto done;
    }
    s = cli_pairs_read(&ptrain, tc.train_path);
    if (s == NT_OK) s = cli_pairs_read(&pvalid, tc.valid_path);
    if (s != NT_OK) {
        fprintf(stderr, "nextok-translate train: %s\n", nt_errmsg());
        goto done;
    }
    if (!resume) {
        nt_model_config mc;
        if (!cli_preset(preset, &mc)) {
            rc = usage_error();
            goto done;
        }
        if (arch && strcmp(arch, "encdec") == 0) mc.arch = NT_ARCH_ENCDEC;
        else if (arch && strcmp(arch, "decoder") == 0) mc.arch = NT_ARCH_DECODER;
        else if (arch) {
            fprintf(stderr, "nextok-translate train: --arch: unknown architecture \"%s\" (expected encdec or decoder)\n", arch);
            rc = usage_error();
            goto done;
        }
        if (d_model) mc.d_model = (int)d_model;
        if (heads) mc.heads = (int)heads;
        if (layers >= 0) mc.enc_layers = mc.dec_layers = (int)layers;
        if (enc_layers >= 0) mc.enc_layers = (int)enc_layers;
        if (dec_layers >= 0) mc.dec_layers = (int)dec_layers;
        if (mc.arch == NT_ARCH_DECODER) {
            /* one stack: the preset's layers all go to the decoder unless given */
            if (layers < 0 && dec_layers < 0) mc.dec_layers += mc.enc_layers;
            mc.enc_layers = 0;
        }
        nt_tokenizer_kind kind;
        s = cli_tokenizer_choose(tokenizer, &ptrain, &kind);
        if (s != NT_OK) {
            fprintf(stderr, "nextok-translate train: --tokenizer: %s\n", nt_errmsg());
            rc = s == NT_ERR_ARG ? usage_error() : 1;
            goto done;
        }
        s = build_vocab(&ptrain, kind, &vocab);
        int need = 0;
        if (s == NT_OK) s = longest_pair(&ptrain, vocab, mc.arch, &need);
        if (s != NT_OK) {
            fprintf(stderr, "nextok-translate train: %s: %s\n", tc.train_path, nt_errmsg());
            goto done;
        }
        if (max_len) mc.max_len = (int)max_len;
        else if (need > mc.max_len) mc.max_len = (need + 8 + 31) / 32 * 32;
        mc.vocab_size = nt_vocab_size(vocab);
        s = nt_model_new(&model, &mc);
        if (s != NT_OK) {
            fprintf(stderr, "nextok-translate train: model: %s\n", nt_errmsg());
            rc = s == NT_ERR_ARG ? 2 : 1;
            goto done;
        }
        nt_rng rng;
        nt_rng_seed(&rng, tc.seed);
        nt_model_init(model, &rng);
        if (!cli_run_dir_clear("train", tc.out_dir, overwrite)) goto done;
    }
    rc = cli_run_training("train", &tc, model, vocab, &ptrain, &pvalid);
done:
    cli_pairs_free(&ptrain);
    cli_pairs_free(&pvalid);
    nt_model_free(model);
    nt_vocab_free(vocab);
    return rc;
}
