/* cmd_train.c - `nextok-lm train`: a decoder-only language model on a text
 * file, from scratch or resumed (--resume), through the framework's trainer
 * (train/trainer.h) and the contiguous-text data source (data/text_source.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "../common/omp_policy.h"
#include "../common/run_dir.h"
#include "../common/trainer_opts.h"
#include "core/alloc.h"
#include "core/opts.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "data/text_source.h"
#include "lm.h"
#include "train/checkpoint.h"
#include "train/dist.h"
#include "eval/report.h"
#include "train/trainer.h"

/* ---- options ---------------------------------------------------------------------- */

/* This command's own options (the trainer's live in nt_trainer_config).
 * block_size, batch_size, valid_fraction, eval_iters and tokenizer are
 * stored in the checkpoint (nt_trainer_config.extra) for --resume. */
typedef struct train_opts {
    const char *text, *out, *resume, *preset, *tokenizer, *spm_type;
    int layers, heads, d_model, block_size, batch_size, eval_iters, threads, overwrite, vocab_size;
    double valid_fraction;
    int64_t stop_after;
} train_opts;

/* nanoGPT's CPU recipe (README of karpathy/nanoGPT, "I only have a macbook"):
 * AdamW lr 1e-3, 100 warmup, cosine to 1e-4, beta2 0.99, weight decay 0.1,
 * clip 1, no dropout; 2000 updates, evaluation every 250 over 20 batches. */
static nt_trainer_config lm_trainer_defaults(void) {
    nt_trainer_config c = nt_trainer_config_default();
    c.steps = 2000;
    c.minutes = 0;
    c.lr = 1e-3, c.lr_min = 1e-4, c.warmup = 100, c.schedule = NT_SCHEDULE_COSINE;
    c.beta2 = 0.99, c.weight_decay = 0.1, c.clip = 1;
    c.label_smoothing = 0, c.dropout = 0;
    c.eval_every = 250, c.log_every = 50;
    c.eval_exact_max = -1; /* no greedy decoding at evaluation: the loss is the metric */
    c.metric = NT_TRAINER_METRIC_LOSS;
    c.batch_tokens = 0, c.batch_sentences = 12, c.buckets = 0;
    return c;
}

/* The --preset help: each preset and what it is. */
static const char *preset_help(void) {
    static char text[2048];
    int n = snprintf(text, sizeof text, "model and batch shape (default nanogpt-cpu; --layers, --heads, --d-model, "
                                        "--block-size and --batch-size override it):");
    for (int i = 0; i < LM_N_PRESETS && n > 0 && (size_t)n < sizeof text; i++)
        n += snprintf(text + n, sizeof text - (size_t)n, "\n%s: %s", LM_PRESETS[i].name, LM_PRESETS[i].help);
    return text;
}

/* ---- the run's own options in nt_trainer_config.extra ------------------------------- */

static void extra_write(nt_trainer_config *c, const train_opts *o) {
    snprintf(c->extra, sizeof c->extra, "block_size=%d batch_size=%d valid_fraction=%.17g eval_iters=%d tokenizer=%s",
             o->block_size, o->batch_size, o->valid_fraction, o->eval_iters, o->tokenizer);
}

static int extra_read(const nt_trainer_config *c, train_opts *o, const char *file) {
    static char tok[32];
    if (sscanf(c->extra, "block_size=%d batch_size=%d valid_fraction=%lg eval_iters=%d tokenizer=%31s", &o->block_size,
               &o->batch_size, &o->valid_fraction, &o->eval_iters, tok) != 5) {
        fprintf(stderr, "nextok-lm train: --resume %s: not a nextok-lm run (its stored options lack the "
                        "block size: \"%.80s\")\n", file, c->extra);
        return 0;
    }
    o->tokenizer = tok;
    return 1;
}

/* ---- the command ----------------------------------------------------------------------- */

typedef struct train_run {
    lm_text text;
    int32_t *ids;
    int64_t n, n_train, n_valid;  /* tokens: all, the training part, the validation part */
    int64_t chars, chars_train;   /* code points: all, the training part */
    nt_model *model;
    nt_vocab *vocab;
    lm_tokens tokens;             /* what each token covers (losses per character) */
    lm_perchar_net net;           /* the model as the trainer sees it */
    nt_data_source *train, *valid;
    nt_trainer *tr;
} train_run;

static void train_run_free(train_run *r) {
    nt_trainer_free(r->tr);
    nt_data_source_free(r->train);
    nt_data_source_free(r->valid);
    nt_model_free(r->model);
    nt_vocab_free(r->vocab);
    lm_tokens_free(&r->tokens);
    nt_free(r->ids);
    lm_text_free(&r->text);
}

/* The text's ids under r->vocab, split into training and validation parts at
 * the last valid_fraction of its characters (each part encoded on its own). */
static nt_status encode_text(train_run *r, const train_opts *o) {
    size_t cut;
    lm_text_split(&r->text, o->valid_fraction, &cut, &r->chars);
    NT_TRY(lm_text_encode_split(&r->text, r->vocab, cut, &r->ids, &r->n, &r->n_train));
    for (size_t i = 0; i < cut; i++) r->chars_train += ((unsigned char)r->text.bytes[i] & 0xC0) != 0x80;
    return lm_tokens_new(&r->tokens, r->vocab);
}

/* A fresh model: the vocabulary (char: from the whole text, as nanoGPT's;
 * spm: learned from the training part only), preset + overrides, max_len =
 * block size, initialised from the seed. */
static int build_model(train_run *r, train_opts *o, const nt_trainer_config *tc) {
    nt_tokenizer_kind kind = strcmp(o->tokenizer, "spm") == 0 ? NT_TOKENIZER_SPM : NT_TOKENIZER_CHAR;
    size_t cut;
    int64_t chars;
    lm_text_split(&r->text, o->valid_fraction, &cut, &chars);
    lm_spm_config sp = {.vocab_size = o->vocab_size, .seed = (unsigned)tc->seed};
    nt_status s = NT_OK;
    if (kind == NT_TOKENIZER_SPM) s = nt_spm_type_parse(o->spm_type, &sp.type);
    if (s == NT_OK) s = lm_vocab_build(&r->vocab, kind, &r->text, cut, &sp);
    if (s == NT_OK) s = encode_text(r, o);
    if (s != NT_OK) {
        fprintf(stderr, "nextok-lm train: %s\n", nt_errmsg());
        return 0;
    }
    nt_model_config mc = nt_model_config_default();
    mc.arch = NT_ARCH_DECODER;
    mc.vocab_size = nt_vocab_size(r->vocab);
    mc.d_model = o->d_model, mc.heads = o->heads, mc.enc_layers = 0, mc.dec_layers = o->layers;
    mc.max_len = o->block_size;
    mc.dropout = tc->dropout;
    s = nt_model_new(&r->model, &mc);
    if (s != NT_OK) {
        fprintf(stderr, "nextok-lm train: model: %s\n", nt_errmsg());
        return 0;
    }
    nt_rng rng;
    nt_rng_seed(&rng, tc->seed);
    nt_model_init(r->model, &rng);
    return 1;
}

/* The training windows (the first part of the text) and the fixed validation
 * windows (its last valid_fraction). */
static int make_sources(train_run *r, const train_opts *o, const nt_trainer_config *tc) {
    /* nanoGPT's split: train = data[:int(n * 0.9)], in characters (encode_text) */
    int64_t n_train = r->n_train;
    int64_t n_valid = r->n - n_train;
    r->n_valid = n_valid;
    nt_text_source_config c = {.mode = NT_TEXT_SOURCE_RANDOM, .batch_size = o->batch_size, .block_size = o->block_size,
                               .seed = tc->seed};
    nt_status s = nt_text_source_new(&r->train, r->ids, n_train, &c);
    if (s != NT_OK) {
        fprintf(stderr, "nextok-lm train: %s: the training text (%lld tokens): %s\n", r->text.path,
                (long long)n_train, nt_errmsg());
        return 0;
    }
    if (n_valid == 0) return 1;
    c.mode = NT_TEXT_SOURCE_FIXED;
    c.batches = o->eval_iters;
    c.seed = tc->seed + 1;
    s = nt_text_source_new(&r->valid, r->ids + n_train, n_valid, &c);
    if (s != NT_OK) {
        fprintf(stderr, "nextok-lm train: %s: the validation text (the last %g of it, %lld tokens): %s; "
                        "pass a larger --valid-fraction, a smaller --block-size or --valid-fraction 0\n",
                r->text.path, o->valid_fraction, (long long)n_valid, nt_errmsg());
        return 0;
    }
    return 1;
}

/* RUN/report.html: the curves of metrics.jsonl and a summary of the run. */
static nt_status write_report(const train_run *r, const nt_trainer_config *tc, const train_opts *o,
                              const nt_train_result *res) {
    enum { NKV = 8 };
    static char vals[NKV][NT_TRAINER_PATH_MAX + 128];
    nt_report_kv kv[NKV];
    int n = 0;
    const nt_model_config *mc = &r->model->cfg;
#define KV(k, ...) (snprintf(vals[n], sizeof vals[n], __VA_ARGS__), kv[n].key = (k), kv[n].value = vals[n], n++)
    KV("model", "decoder-only, %d layers x %d, %d heads, context %d", mc->dec_layers, mc->d_model, mc->heads,
       mc->max_len);
    KV("parameters", "%lld", (long long)nt_model_num_params(r->model));
    KV("text", "%s: %lld characters, %lld for training, the last %lld for validation; %s tokenizer, %d tokens: "
       "%lld for training, %lld for validation", r->text.path, (long long)r->chars, (long long)r->chars_train,
       (long long)(r->chars - r->chars_train), nt_tokenizer_kind_name(nt_vocab_kind(r->vocab)), nt_vocab_size(r->vocab),
       (long long)r->n_train, (long long)r->n_valid);
    KV("batches", "%d windows of %d + 1 tokens x %d micro-batches", o->batch_size, o->block_size, tc->accum);
    KV("optimizer", "%s, lr %g, %s to %g, warmup %lld, weight decay %g, beta2 %g, clip %g, dropout %g",
       nt_optim_kind_name(tc->optim), tc->lr, nt_schedule_kind_name(tc->schedule), tc->lr_min, (long long)tc->warmup,
       tc->weight_decay, tc->beta2, (double)tc->clip, (double)tc->dropout);
    KV("training", "%lld updates in %.1f s (%s), %.0f tokens/s", (long long)res->step, res->seconds, res->stop_reason,
       res->seconds > 0 ? (double)res->tokens / res->seconds : 0.0);
    if (isfinite(res->best_metric))
        KV("best validation", "%s %.4f (per character) at update %lld", nt_trainer_metric_name(tc->metric),
           res->best_metric,
           (long long)res->best_step);
#undef KV
    char path[NT_TRAINER_PATH_MAX + 32], metrics[NT_TRAINER_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/report.html", tc->out_dir);
    snprintf(metrics, sizeof metrics, "%s/metrics.jsonl", tc->out_dir);
    nt_report_info info = {"nextok-lm training report", kv, n, NULL, 0};
    return nt_report_write(path, ex_file_exists(metrics) ? metrics : NULL, &info);
}

/* Tokens per character of the text a source reads in one pass (its windows'
 * labels): for the per-token figures. */
static double tokens_per_char(const train_run *r, nt_data_source *src) {
    int64_t tok = 0, ch = 0;
    nt_batch b;
    if (nt_data_source_set_cursor(src, &(nt_cursor){0, 0}) != NT_OK) return NAN;
    while (nt_data_source_next(src, &b) == NT_OK && b.B > 0) {
        tok += b.n_tgt_tokens;
        ch += lm_batch_chars(&b, r->tokens.chars);
    }
    nt_data_source_set_cursor(src, &(nt_cursor){0, 0});
    return ch > 0 ? (double)tok / (double)ch : NAN;
}

static int run_training(train_run *r, nt_trainer_config *tc, const train_opts *o) {
    nt_evaluator ev = {.batches = r->valid};
    /* the trainer sees the model through lm_perchar_net: validation losses per character */
    lm_perchar_net_init(&r->net, &r->model->net, r->tokens.chars);
    nt_status s = nt_trainer_new(&r->tr, tc, &r->net.base, r->vocab, r->train, r->valid ? &ev : NULL);
    if (s != NT_OK) {
        fprintf(stderr, "nextok-lm train: %s\n", nt_errmsg());
        return 1;
    }
    const nt_model_config *mc = &r->model->cfg;
    const nt_train_state *st0 = nt_trainer_state(r->tr);
    int64_t n_valid = nt_text_source_pass_windows(r->valid);
    const nt_spm *sp = nt_vocab_spm(r->vocab);
    if (sp) {
        nt_spm_info info;
        nt_spm_get_info(sp, &info);
        fprintf(stderr, "model: decoder-only, %d layers x %d, %d heads, context %d, %lld parameters; SentencePiece %s, "
                        "%d pieces (specials and 256 bytes included)\n", mc->dec_layers, mc->d_model, mc->heads,
                mc->max_len, (long long)nt_model_num_params(r->model), info.type, nt_vocab_size(r->vocab));
    } else {
        fprintf(stderr, "model: decoder-only, %d layers x %d, %d heads, context %d, %lld parameters; %d characters\n",
                mc->dec_layers, mc->d_model, mc->heads, mc->max_len, (long long)nt_model_num_params(r->model),
                nt_vocab_size(r->vocab) - NT_TOK_N_SPECIAL);
    }
    double tpc_train = r->chars_train > 0 ? (double)r->n_train / (double)r->chars_train : NAN;
    double tpc_valid = r->valid ? tokens_per_char(r, r->valid) : NAN;
    fprintf(stderr, "data: %s, %lld characters, %lld tokens: %lld for training, %lld for validation (%lld windows per "
                    "evaluation); %.3f characters per token\n", r->text.path, (long long)r->chars, (long long)r->n,
            (long long)r->n_train, (long long)r->n_valid, (long long)n_valid, 1.0 / tpc_train);
    fprintf(stderr, "losses: validation per character (nats / characters predicted); training per token\n");
    fprintf(stderr, "training: ");
    if (tc->steps > 0) fprintf(stderr, "%lld updates", (long long)tc->steps);
    if (tc->steps > 0 && tc->minutes > 0) fprintf(stderr, " or ");
    if (tc->minutes > 0) fprintf(stderr, "%g minutes", tc->minutes);
    if (st0->step > 0) fprintf(stderr, " (resuming at update %lld)", (long long)st0->step);
    fprintf(stderr, " of %d x %d tokens x %d, %s lr %g %s to %g, warmup %lld, weight decay %g, dropout %g, seed %llu\n",
            o->batch_size, o->block_size, tc->accum, nt_optim_kind_name(tc->optim), tc->lr,
            nt_schedule_kind_name(tc->schedule), tc->lr_min, (long long)tc->warmup, tc->weight_decay, (double)tc->dropout,
            (unsigned long long)tc->seed);
    fflush(stderr);
    nt_train_result res;
    s = nt_trainer_run(r->tr, &res);
    if (s != NT_OK && s != NT_ERR_INTERRUPTED) {
        fprintf(stderr, "nextok-lm train: %s\n", nt_errmsg());
        return 1;
    }
    if (s == NT_ERR_INTERRUPTED)
        fprintf(stderr, "nextok-lm train: %s; continue with 'nextok-lm train --resume %s'\n", nt_errmsg(), tc->out_dir);
    fprintf(stderr, "trained %lld updates in %.1f s (%s), %.0f tokens/s", (long long)res.step, res.seconds,
            res.stop_reason, res.seconds > 0 ? (double)res.tokens / res.seconds : 0.0);
    if (isfinite(res.best_metric))
        fprintf(stderr, "; best validation %s %.4f at update %lld", nt_trainer_metric_name(tc->metric), res.best_metric,
                (long long)res.best_step);
    char best[NT_TRAINER_PATH_MAX + 32];
    snprintf(best, sizeof best, "%s/checkpoint-best.h5", tc->out_dir);
    if (nt_dist_is_root(NULL) && write_report(r, tc, o, &res) != NT_OK)
        fprintf(stderr, "nextok-lm train: report: %s\n", nt_errmsg());
    fprintf(stderr, "\nwrote %s/checkpoint-last.h5%s, metrics.jsonl and report.html\n", tc->out_dir,
            ex_file_exists(best) ? ", checkpoint-best.h5" : " (no checkpoint-best.h5: no evaluation ran)");
    /* per character; the per-token figures: validation x characters / tokens of its windows, training the last
     * update's own */
    double val = res.eval.n_tokens > 0 ? res.eval.loss : NAN;
    printf("step=%lld val_loss=%.4f train_loss=%.4f seconds=%.2f tok_s=%.0f val_loss_token=%.4f train_loss_token=%.4f\n",
           (long long)res.step, val, res.loss * tpc_train, res.seconds,
           res.seconds > 0 ? (double)res.tokens / res.seconds : 0.0, val / tpc_valid, res.loss);
    fflush(stdout);
    return res.signal > 0 ? 128 + res.signal : 0; /* a script must not go on as if it had finished */
}

int cmd_train(int argc, char **argv) {
    train_opts o = {.preset = "nanogpt-cpu", .tokenizer = "char", .spm_type = "unigram", .vocab_size = 1024,
                    .valid_fraction = 0.1, .eval_iters = 20};
    /* the trainer options given now (on --resume they override the stored ones) */
    nt_trainer_config given = lm_trainer_defaults();
    nt_opt trainer_opts[EX_TRAINER_NOPTS];
    ex_trainer_opts(trainer_opts, &given, EX_TRAINER_TEXT);
    nt_opt opts[] = {
        {"--text", NT_OPT_STRING, &o.text, .arg = "FILE",
         .help = "the text (UTF-8); its last --valid-fraction is the validation text"},
        {"--out", NT_OPT_STRING, &o.out, .arg = "RUN", .help = "run folder (created if missing)"},
        {"--overwrite", NT_OPT_FLAG, &o.overwrite, .help = "replace the run already in RUN (else it is an error)"},
        {"--resume", NT_OPT_STRING, &o.resume, .arg = "RUN|FILE",
         .help = "continue a run (its stored options; flags given now override)"},
        {"--valid-fraction", NT_OPT_DOUBLE, &o.valid_fraction, 0, 0.9, .arg = "X",
         .help = "share of the text, at its end, held out for validation (0: none)"},
        {"--block-size", NT_OPT_INT, &o.block_size, 1, 65536, .small = 1, .arg = "T", .def = "the preset's",
         .help = "context: tokens the model reads (its max_len)"},
        {"--batch-size", NT_OPT_INT, &o.batch_size, 1, 1 << 20, .small = 1, .arg = "B", .def = "the preset's",
         .help = "windows per micro-batch"},
        {"--eval-iters", NT_OPT_INT, &o.eval_iters, 1, 1 << 20, .small = 1, .arg = "N",
         .help = "validation batches per evaluation: a fixed, seeded set of N x B windows"},
        {"--preset", NT_OPT_STRING, &o.preset, .arg = "NAME", .def = "", .help = preset_help()},
        {"--layers", NT_OPT_INT, &o.layers, 1, 256, .small = 1, .arg = "N", .def = "the preset's",
         .help = "transformer blocks"},
        {"--heads", NT_OPT_INT, &o.heads, 1, 1024, .small = 1, .arg = "N", .def = "the preset's",
         .help = "attention heads (divides --d-model)"},
        {"--d-model", NT_OPT_INT, &o.d_model, 1, 65536, .small = 1, .arg = "N", .def = "the preset's", .help = "width"},
        {"--tokenizer", NT_OPT_STRING, &o.tokenizer, .arg = "char|spm",
         .help = "char: one token per Unicode code point (the vocabulary: every character of the file); spm: "
                 "SentencePiece subwords learned from the training part only (seeded, byte fallback, raw text: "
                 "spaces and newlines kept, decoding gives the text back byte for byte), stored in the checkpoint"},
        {"--vocab-size", NT_OPT_INT, &o.vocab_size, 269, 1000000, .arg = "N",
         .help = "spm: pieces in the vocabulary (5 specials, newline and 256 byte pieces included)"},
        {"--spm-type", NT_OPT_STRING, &o.spm_type, .arg = "bpe|unigram", .help = "spm: SentencePiece's model"},
        {"--threads", NT_OPT_INT, &o.threads, 1, 1024, .small = 1, .arg = "N", .def = "OMP_NUM_THREADS or all cores",
         .help = "OpenMP/OpenBLAS threads"},
        {"--stop-after", NT_OPT_INT64, &o.stop_after, 1, 1e15, .arg = "N", .def = "",
         .help = "stop after update N as if interrupted (checkpoint-last saved; --resume continues)"},
        {.kind = NT_OPT_GROUP, .help = "trainer options (defaults: nanoGPT's CPU recipe):", .dest = trainer_opts},
        {0}};
    nt_opts cmd = {"nextok-lm train",
                   "usage: nextok-lm train --text FILE --out RUN [options]\n"
                   "       nextok-lm train --resume RUN [--steps N] [options]",
                   "Trains a decoder-only transformer on a text with next-token cross-entropy at every position: "
                   "each update reads B windows of T + 1 consecutive tokens at seeded random offsets of the "
                   "training text (the first 1 - X of the file). Writes RUN/checkpoint-last.h5, "
                   "RUN/checkpoint-best.h5 (lowest validation loss), RUN/metrics.jsonl and RUN/report.html; "
                   "SIGINT/SIGTERM saves checkpoint-last and exits with status 128 + the signal's number (130, 143); "
                   "--resume continues bitwise exactly. "
                   "Losses per character, whatever the tokenizer: the validation loss (logged, selecting "
                   "checkpoint-best, and on the last line) is the total cross-entropy in nats of the predicted "
                   "tokens divided by the characters (Unicode code points) they cover, comparable between "
                   "tokenizers and with nanoGPT's character model (for char it is the mean per token). The "
                   "training log's loss is per token. Ends with one line on stdout: step=N val_loss=X "
                   "train_loss=X seconds=S tok_s=R val_loss_token=X train_loss_token=X (train_loss: the last "
                   "update's loss per token x tokens per character of the training text).",
                   .opts = opts, .epilog = ex_omp_policy_help("nextok-lm")};
    int rc = nt_opts_parse(&cmd, argc, argv);
    if (rc >= 0) return rc;
    nt_trainer_config tc = given;
    if (o.threads) nt_threads_set(o.threads);
    if (strcmp(o.tokenizer, "char") != 0 && strcmp(o.tokenizer, "spm") != 0)
        return nt_opts_usage_error(&cmd, "--tokenizer: unknown tokenizer \"%s\" (expected char or spm)", o.tokenizer);
    if (!o.resume && strcmp(o.tokenizer, "spm") != 0 &&
        (nt_opts_given(&cmd, "--vocab-size") || nt_opts_given(&cmd, "--spm-type")))
        return nt_opts_usage_error(&cmd, "--%s is an spm option: pass --tokenizer spm (the char vocabulary is every "
                                   "character of the text)", nt_opts_given(&cmd, "--vocab-size") ? "vocab-size" : "spm-type");
    nt_spm_type spm_type;
    if (nt_spm_type_parse(o.spm_type, &spm_type) != NT_OK)
        return nt_opts_usage_error(&cmd, "--spm-type: %s", nt_errmsg());
    static const char *model_flags[] = {"--preset", "--layers", "--heads", "--d-model", "--tokenizer", "--vocab-size",
                                        "--spm-type"};
    train_run r;
    memset(&r, 0, sizeof r);
    rc = 1;
    if (o.resume) {
        for (size_t k = 0; k < sizeof model_flags / sizeof *model_flags; k++)
            if (nt_opts_given(&cmd, model_flags[k]))
                return nt_opts_usage_error(&cmd, "%s cannot change on --resume: the run's checkpoint fixes the model",
                                      model_flags[k]);
        char file[NT_TRAINER_PATH_MAX], dir[NT_TRAINER_PATH_MAX];
        if (!ex_run_resume_paths(o.resume, file, dir, sizeof file))
            return nt_opts_usage_error(&cmd, "--resume: path too long");
        nt_train_state *ts = nt_malloc(sizeof *ts);
        if (!ts) return 1;
        nt_trainer_config stored = lm_trainer_defaults();
        nt_status s = nt_ckpt_load_train(file, ts);
        if (s == NT_OK && ts->options[0]) s = nt_trainer_config_from_json(&stored, ts->options);
        int64_t at = ts->step;
        nt_free(ts);
        if (s != NT_OK) {
            fprintf(stderr, "nextok-lm train: --resume %s: %s\n", o.resume, nt_errmsg());
            return 1;
        }
        train_opts so = o;
        if (!extra_read(&stored, &so, file)) return 1;
        /* the stored options, then the flags given now on top */
        tc = stored;
        ex_trainer_opts_copy(&tc, trainer_opts, &given);
        /* so: o as given, with the stored block size, batch size, validation fraction and evaluation batches
         * unless given now */
        if (nt_opts_given(&cmd, "--block-size")) so.block_size = o.block_size;
        if (nt_opts_given(&cmd, "--batch-size")) so.batch_size = o.batch_size;
        if (nt_opts_given(&cmd, "--valid-fraction")) so.valid_fraction = o.valid_fraction;
        if (nt_opts_given(&cmd, "--eval-iters")) so.eval_iters = o.eval_iters;
        ex_trainer_budget_apply(&tc, &cmd);
        if (tc.steps > 0 && tc.steps <= at && tc.minutes == 0)
            return nt_opts_usage_error(&cmd, "%s is at update %lld already; pass --steps N with N > %lld", file,
                                  (long long)at, (long long)at);
        o = so;
        snprintf(tc.resume, sizeof tc.resume, "%s", file);
        snprintf(tc.out_dir, sizeof tc.out_dir, "%s", o.out ? o.out : dir);
        if (o.text) snprintf(tc.train_path, sizeof tc.train_path, "%s", o.text);
        if (!tc.train_path[0]) return nt_opts_usage_error(&cmd, "%s does not record its text; pass --text", file);
        s = nt_ckpt_load(file, &r.model, &r.vocab);
        if (s != NT_OK) {
            fprintf(stderr, "nextok-lm train: --resume: %s\n", nt_errmsg());
            goto done;
        }
        if (r.model->cfg.arch != NT_ARCH_DECODER) {
            fprintf(stderr, "nextok-lm train: --resume: %s holds an encoder-decoder model, not a language model\n", file);
            goto done;
        }
        if (o.block_size > r.model->cfg.max_len) {
            rc = nt_opts_usage_error(&cmd, "--block-size %d exceeds the model's context of %d tokens (%s)", o.block_size,
                                r.model->cfg.max_len, file);
            goto done;
        }
        s = lm_text_read(&r.text, tc.train_path);
        if (s == NT_OK) s = encode_text(&r, &o);
        if (s != NT_OK) {
            fprintf(stderr, "nextok-lm train: %s\n", nt_errmsg());
            goto done;
        }
    } else {
        if (!o.text || !o.out)
            return nt_opts_usage_error(&cmd, "%s is required (or --resume RUN)", !o.text ? "--text" : "--out");
        const lm_preset *p = lm_preset_find(o.preset);
        if (!p) {
            char names[256] = "";
            for (int i = 0, n = 0; i < LM_N_PRESETS && n >= 0 && (size_t)n < sizeof names; i++)
                n += snprintf(names + n, sizeof names - (size_t)n, "%s%s", i ? ", " : "", LM_PRESETS[i].name);
            return nt_opts_usage_error(&cmd, "--preset: unknown preset \"%s\" (expected %s)", o.preset, names);
        }
        /* the preset, then the flags given */
        if (!nt_opts_given(&cmd, "--layers")) o.layers = p->layers;
        if (!nt_opts_given(&cmd, "--heads")) o.heads = p->heads;
        if (!nt_opts_given(&cmd, "--d-model")) o.d_model = p->d_model;
        if (!nt_opts_given(&cmd, "--block-size")) o.block_size = p->block_size;
        if (!nt_opts_given(&cmd, "--batch-size")) o.batch_size = p->batch_size;
        if (o.d_model % o.heads != 0)
            return nt_opts_usage_error(&cmd, "--heads %d does not divide --d-model %d", o.heads, o.d_model);
        ex_trainer_budget_apply(&tc, &cmd);
        if (strlen(o.text) >= sizeof tc.train_path || strlen(o.out) >= sizeof tc.out_dir)
            return nt_opts_usage_error(&cmd, "a path is too long");
        snprintf(tc.train_path, sizeof tc.train_path, "%s", o.text);
        snprintf(tc.out_dir, sizeof tc.out_dir, "%s", o.out);
        rc = 1;
        nt_status s = lm_text_read(&r.text, o.text);
        if (s != NT_OK) {
            fprintf(stderr, "nextok-lm train: %s\n", nt_errmsg());
            goto done;
        }
        if (!build_model(&r, &o, &tc)) goto done;
        if (!ex_run_dir_clear("nextok-lm", "train", tc.out_dir, o.overwrite)) goto done;
    }
    tc.batch_sentences = o.batch_size;
    tc.batch_tokens = 0;
    tc.stop_at = o.stop_after;
    extra_write(&tc, &o);
    if (nt_trainer_config_check(&tc) != NT_OK) {
        rc = nt_opts_usage_error(&cmd, "%s", nt_errmsg());
        goto done;
    }
    rc = 1;
    if (!make_sources(&r, &o, &tc)) goto done;
    rc = run_training(&r, &tc, &o);
done:
    train_run_free(&r);
    return rc;
}
