/* trainer.h - the training loop over any model: batches -> loss -> backward
 * -> clip -> step, evaluation, early stopping, checkpoints, metrics,
 * progress, exact resume.
 *
 * The trainer knows the model only through the model interface (nn/net.h)
 * and the data only through the data-source interface (data/source.h):
 *
 *     nt_trainer_config tc = nt_trainer_config_default();
 *     tc.steps = 5000;  tc.eval_every = 250;  snprintf(tc.out_dir, sizeof tc.out_dir, "runs/en-fr");
 *     nt_data_source *train, *valid;
 *     NT_TRY(nt_pairs_source_new(&train, train_corpus, &bc));       // or any source
 *     NT_TRY(nt_pairs_source_new(&valid, valid_corpus, &bc_eval));
 *     nt_eval_decoder em;                                            // optional: a decode metric
 *     NT_TRY(nt_eval_exact_match(&em, valid_corpus));
 *     nt_evaluator ev = {.batches = valid, .decode = &em};
 *     nt_trainer *tr;
 *     NT_TRY(nt_trainer_new(&tr, &tc, &model->net, vocab, train, &ev));
 *     nt_train_result res;
 *     nt_status s = nt_trainer_run(tr, &res);
 *     // NT_OK: budget reached or early stop; NT_ERR_INTERRUPTED: SIGINT/SIGTERM,
 *     // checkpoint saved (print nt_errmsg(), exit 128 + res.signal: a script must
 *     // not carry on as if training had finished); NT_ERR_NUMERIC: NaN/Inf loss,
 *     // the last good checkpoint kept.
 *     nt_trainer_free(tr);
 *
 * One update: `accum` micro-batches from the data source, each
 * back-propagated with its loss weighted by its share of the update's target
 * tokens, so the gradient is that of the mean cross-entropy over every
 * target token of the update (4 micro-batches of 8 = one batch of 32); then
 * global-norm clipping (the norm is logged), the scheduled learning rate and
 * the optimizer step.
 *
 * Files in out_dir: checkpoint-last.h5 (every save_every steps, default at
 * each evaluation, at the end, and on SIGINT/SIGTERM), checkpoint-best.h5
 * (whenever the early-stopping metric improves), metrics.jsonl: one JSON
 * object per line,
 *   {"type":"train","step":50,"epoch":0,"loss":2.31,"lr":0.0005,"grad_norm":1.2,
 *    "tokens":51234,"tok_s":4100.5,"elapsed":12.5}
 *   {"type":"eval","step":250,"loss":1.1,"ppl":3.0,"token_acc":71.2,
 *    "exact_match":12.4,"sentences":500,"best":true}
 * "tokens" counts source + target tokens trained on so far and "tok_s" their
 * rate over the last log window (nt_train_state.tokens).
 * token_acc and the decode metric in percent there (like BLEU), as fractions
 * in nt_eval_result; the decode metric (key: the evaluator's decode->name,
 * "exact_match" for the translator) is present when decoding ran
 * (eval_exact_max >= 0). A resumed run first drops the lines of steps after
 * its checkpoint, so the file never repeats a step.
 *
 * Resuming: a checkpoint's /train attribute "options" holds the run's
 * options as JSON; a caller restores them with nt_ckpt_load_train +
 * nt_trainer_config_from_json, builds the same model, data sources and
 * vocabulary, sets cfg.resume to the run folder and calls nt_trainer_new as
 * for a fresh run.
 *
 * Data parallelism (docs/distributed.md): under `mpirun -np N` (after
 * nt_dist_init), every rank runs the same data source and, of the N * accum
 * micro-batches of an update, takes those with index k % N == rank; the
 * gradient block is summed over the ranks (bucketed MPI_Iallreduce), the
 * loss weighting uses the update's token count over all ranks, so N ranks
 * with accum A train exactly like one process with accum N * A (dropout
 * included: micro-batch k draws from its own stretch of the RNG stream).
 * Every rank applies the same clipped step; evaluation is split across the
 * ranks and reduced; the ranks agree on stopping (budget, signal) after
 * every update; rank 0 alone writes checkpoints, metrics.jsonl and the log.
 *
 * Exact resume: a checkpoint holds the weights, the optimizer moments and
 * step, the data cursor, the dropout RNG and the early-stopping state, and
 * every kernel is deterministic for a fixed thread count; a run of N steps
 * and a run stopped (or killed) after the checkpoint at K and resumed to N
 * end bitwise identical. A time budget makes a run depend on the clock and
 * so is not reproducible.
 */
#ifndef NT_TRAINER_H
#define NT_TRAINER_H

#include <stdio.h>

#include "data/corpus.h"
#include "data/source.h"
#include "nn/net.h"
#include "train/checkpoint.h"
#include "train/evaluator.h"
#include "train/optim.h"
#include "train/schedule.h"

typedef enum nt_trainer_metric {
    NT_TRAINER_METRIC_LOSS = 0,        /* validation cross-entropy (lower is better) */
    NT_TRAINER_METRIC_PPL = 1,         /* exp(loss) (lower is better) */
    NT_TRAINER_METRIC_TOKEN_ACC = 2,   /* teacher-forced next-token accuracy (higher is better) */
    NT_TRAINER_METRIC_EXACT_MATCH = 3, /* the evaluator's decode metric (higher is better): exact match
                                  (greedy output == reference) for the translator */
} nt_trainer_metric;

const char *nt_trainer_metric_name(nt_trainer_metric m); /* "loss", "ppl", "token_acc", "exact_match" */
/* NT_ERR_ARG naming the text and the choices; *out untouched then. */
nt_status nt_trainer_metric_parse(const char *name, nt_trainer_metric *out);

/* What an evaluation (metric value v, validation loss) is worth against the
 * best so far (best_v and best_loss; NaN: none yet):
 * NT_EVAL_BETTER  v better than best_v, or equal to it with a lower loss - a
 *                 saturated metric (exact match at 100%) still counts as an
 *                 improvement (resets the patience) while the loss improves;
 * NT_EVAL_TIE     v equal to best_v, the loss not lower: checkpoint-best
 *                 moves to the later of the equals (it has trained longer at
 *                 the same validation score: on the demo, the first 100% of
 *                 600 validation numbers made 167 errors in all 1,000,000,
 *                 the last one 0), but the patience keeps counting;
 * NT_EVAL_WORSE   otherwise, and for a non-finite v (or a tie whose loss is
 *                 not finite). */
typedef enum nt_eval_rank { NT_EVAL_WORSE, NT_EVAL_TIE, NT_EVAL_BETTER } nt_eval_rank;
nt_eval_rank nt_eval_compare(nt_trainer_metric m, double v, double loss, double best_v, double best_loss);

#define NT_TRAINER_PATH_MAX 1024

/* Every option the CLI exposes. Fixed-size strings keep the struct copyable;
 * nt_trainer_config_to_json / _from_json store it in checkpoints (/train
 * attribute "options") so that a resume can restore it. */
typedef struct nt_trainer_config {
    /* budget: stop at whichever comes first (0 = no limit; one must be set) */
    int64_t steps;            /* optimizer updates */
    double minutes;           /* wall-clock minutes (not reproducible) */
    /* batches: the data source makes them; batch_tokens, batch_sentences and
     * buckets are the caller's record of how (stored for its resume) */
    int batch_tokens;         /* tokens per micro-batch (0: use batch_sentences) */
    int batch_sentences;      /* sentences (rows) per micro-batch (0: use batch_tokens) */
    int accum;                /* micro-batches per update, >= 1 */
    int buckets;              /* length buckets of the batcher, 0 = its default */
    /* optimizer */
    nt_optim_kind optim;
    double lr;                /* peak learning rate */
    double lr_min;            /* cosine floor */
    nt_schedule_kind schedule;
    int64_t warmup;           /* linear warmup updates */
    double beta1, beta2, eps, weight_decay, momentum;
    int nesterov;
    int decay_all;            /* weight-decay every parameter (see train/optim.h) */
    float clip;               /* global gradient-norm limit, 0 = off */
    float label_smoothing;    /* training loss only; evaluation uses plain cross-entropy */
    float dropout;            /* sets the model's dropout */
    int precision;            /* products of training and evaluation: NT_PREC_F32 or NT_PREC_BF16
                                 (bf16 operands, fp32 accumulation and master weights; core/tensor.h) */
    /* evaluation and stopping */
    int64_t eval_every;       /* updates between evaluations, 0 = only at the end */
    int64_t log_every;        /* updates between train log lines */
    int64_t save_every;       /* updates between checkpoint-last saves, 0 = at evaluations */
    int patience;             /* evaluations without improvement before stopping, 0 = off */
    nt_trainer_metric metric;         /* early stopping and checkpoint-best (ties: the later
                                 evaluation wins, see nt_eval_compare) */
    double target;            /* stop once an evaluation's metric reaches this (<= for loss
                                 and ppl, >= for accuracies, as fractions); 0 = off */
    int eval_exact_max;       /* items of the decode metric (exact match) decoded: 0 all, -1 none */
    int eval_max_new_tokens;  /* decoding limit, 0 = the decoder's (exact match: longest reference + 8) */
    uint64_t seed;            /* data order and dropout */
    /* files */
    char out_dir[NT_TRAINER_PATH_MAX];   /* created if missing; "" = "run", or the resumed run's */
    char resume[NT_TRAINER_PATH_MAX];    /* run folder or checkpoint to resume, "" = fresh */
    char freeze[NT_TRAINER_PATH_MAX];    /* comma-separated parameter-name prefixes */
    int extend_vocab;                    /* fine-tuning: see nt_finetune_load */
    char train_path[NT_TRAINER_PATH_MAX]; /* recorded for the CLI's resume; not read here */
    char valid_path[NT_TRAINER_PATH_MAX];
    char extra[NT_TRAINER_PATH_MAX];      /* the caller's own options (e.g. its data or model
                                             flags as JSON or text), stored and restored
                                             verbatim; not read here */
    /* display: -1 auto (a progress line on a terminal, plain lines otherwise),
     * 0 plain lines, 1 progress line, -2 silent */
    int progress;
    /* ---- not stored in checkpoints: hooks for callers and tests ---- */
    FILE *log;                /* progress and messages; NULL = stderr */
    int64_t stop_at;          /* > 0: behave as if SIGINT arrived after this update */
    /* called after each checkpoint write (path = the file written) */
    void (*on_checkpoint)(void *user, int64_t step, const char *path);
    void *user;
    /* data parallelism (train/dist.h): the ranks this run spans; NULL = the
     * world mpirun started (nt_dist_world(): one process without mpirun) */
    struct nt_dist *dist;
} nt_trainer_config;

/* Defaults: 1000 steps, batch_tokens 2048, accum 1, AdamW (0.9, 0.999, 1e-8,
 * weight decay 0.01), lr 1e-3, cosine to 1e-5 after 100 warmup steps,
 * clip 1, label smoothing 0.1, dropout 0.1, eval every 200, log every 20,
 * patience 0, metric loss, exact match on all validation sentences,
 * seed 1, out_dir "" (see above), progress auto. */
nt_trainer_config nt_trainer_config_default(void);

/* Checks every field (NT_ERR_ARG naming it: "accum 0 must be >= 1"). */
nt_status nt_trainer_config_check(const nt_trainer_config *cfg);

/* JSON of the stored fields into buf (NT_ERR_ARG if cap is too small). */
nt_status nt_trainer_config_to_json(const nt_trainer_config *cfg, char *buf, size_t cap);
/* Fields present in the JSON object replace those of *cfg; unknown keys are
 * NT_ERR_FORMAT naming them (so are values of the wrong type). */
nt_status nt_trainer_config_from_json(nt_trainer_config *cfg, const char *json);

/* Validation results. */
typedef struct nt_eval_result {
    double loss;          /* mean cross-entropy per target token */
    double ppl;           /* exp(loss) */
    double token_acc;     /* argmax == label, over target tokens */
    double decode_metric; /* the evaluator's decode metric (mean score; exact match: the fraction
                             of decoded sentences equal to the reference); NaN if not run */
    int64_t n_tokens;     /* target tokens scored */
    int n_sentences;      /* sentences scored (loss) */
    int n_decoded;        /* items decoded for the decode metric */
} nt_eval_result;

typedef struct nt_train_result {
    int64_t step;             /* updates done (resumed ones included) */
    double loss;              /* mean training loss of the last update */
    nt_eval_result eval;      /* the last evaluation (n_sentences 0 if none) */
    double best_metric;       /* NaN if no evaluation */
    int64_t best_step;
    int64_t tokens;           /* source + target tokens trained on (nt_train_state.tokens) */
    double seconds;           /* training time, resumed runs included */
    const char *stop_reason;  /* "steps", "time", "early_stop", "target", "interrupted", "nan" */
    int signal;               /* the signal that interrupted the run (SIGINT, SIGTERM; on any rank),
                                 0 otherwise (cfg.stop_at is no signal): a CLI exits 128 + signal */
} nt_train_result;

typedef struct nt_trainer nt_trainer;

/* What an evaluation runs on. */
typedef struct nt_evaluator {
    /* Validation batches: one full pass per evaluation (the source is
     * rewound to cursor {0, 0} first, and a pass ends at B == 0). Loss,
     * perplexity and token accuracy come from the model's loss(). */
    nt_data_source *batches;
    /* Optional: a decode-and-compare metric (train/evaluator.h; the first
     * cfg.eval_exact_max of its items), run after the loss pass through
     * nt_generate: the translator's exact match (nt_eval_exact_match), or a
     * model's own. Needs a model that can generate. */
    const nt_eval_decoder *decode;
} nt_evaluator;

/* A trainer for `net` (not owned; trained in place) on the batches of
 * `train`, evaluated with `eval` (NULL or eval->batches NULL: no
 * evaluation). Everything is borrowed and must outlive the trainer. `vocab`
 * (may be NULL) is written into checkpoints; when given, its size must be
 * the model's vocab_size. Sets the model's dropout to cfg->dropout (when
 * the model has set_dropout). With cfg->resume set, loads the checkpoint
 * strictly (the weights into `net`, the optimizer, the data cursor, the RNG,
 * the early-stopping state); out_dir defaults to the resumed run's folder.
 * Freezes cfg->freeze prefixes. Creates out_dir.
 * Errors: NT_ERR_ARG (bad config, an incomplete model, a prefix that matches
 * no parameter, mismatched vocab, exact match asked of a model that cannot
 * generate or a bad decoder), NT_ERR_IO / NT_ERR_FORMAT (resume file: another kind or shape
 * of model is named), NT_ERR_NOMEM; *out untouched (the model may hold
 * loaded weights if a later part of the resume failed). */
nt_status nt_trainer_new(nt_trainer **out, const nt_trainer_config *cfg, nt_net *net,
                         const nt_vocab *vocab, nt_data_source *train, const nt_evaluator *eval);
void nt_trainer_free(nt_trainer *t); /* NULL is a no-op */

/* Trains until the budget or early stop. Returns NT_OK, NT_ERR_INTERRUPTED
 * (a signal or cfg->stop_at: checkpoint-last saved, message says how to
 * resume), NT_ERR_NUMERIC (non-finite loss, gradient or weights: nothing is
 * saved from that step on, the message names the step and the last good
 * checkpoint), or an I/O error of a checkpoint write. *res (optional) is
 * filled in every case. Can be called once. */
nt_status nt_trainer_run(nt_trainer *t, nt_train_result *res);

/* Evaluates the model on the evaluator now (no state changes). */
nt_status nt_trainer_evaluate(nt_trainer *t, nt_eval_result *ev);

/* Optimizer and state, for inspection (owned by the trainer). */
nt_optim *nt_trainer_optim(nt_trainer *t);
const nt_train_state *nt_trainer_state(const nt_trainer *t);

#endif
