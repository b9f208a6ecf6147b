/* trainer.c - the training loop, evaluation, checkpoints, metrics, progress, resume. */
#include "train/trainer.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/fs.h"
#include "data/batcher.h"
#include "nn/generate.h"
#include "train/atomic_file.h"
#include "train/checkpoint.h"
#include "train/dist.h"
#include "train/json.h"
#include "train/runlock.h"
#include "train/progress.h"
#include "train/signals.h"

/* ---- metrics names ------------------------------------------------------------- */

static const char *const METRIC_NAMES[] = {"loss", "ppl", "token_acc", "exact_match"};

const char *nt_trainer_metric_name(nt_trainer_metric m) {
    return m >= NT_TRAINER_METRIC_LOSS && m <= NT_TRAINER_METRIC_EXACT_MATCH ? METRIC_NAMES[m] : "?";
}

nt_status nt_trainer_metric_parse(const char *name, nt_trainer_metric *out) {
    if (!name || !out) return nt_error(NT_ERR_ARG, "nt_trainer_metric_parse: NULL argument");
    for (int k = 0; k <= NT_TRAINER_METRIC_EXACT_MATCH; k++)
        if (strcmp(name, METRIC_NAMES[k]) == 0) {
            *out = (nt_trainer_metric)k;
            return NT_OK;
        }
    return nt_error(NT_ERR_ARG,
                    "unknown metric '%s' (expected loss, ppl, token_acc or exact_match)", name);
}

static int metric_higher_is_better(nt_trainer_metric m) {
    return m == NT_TRAINER_METRIC_TOKEN_ACC || m == NT_TRAINER_METRIC_EXACT_MATCH;
}

nt_eval_rank nt_eval_compare(nt_trainer_metric m, double v, double loss, double best_v, double best_loss) {
    if (!isfinite(v)) return NT_EVAL_WORSE;
    if (isnan(best_v)) return NT_EVAL_BETTER;
    if (v != best_v)
        return (metric_higher_is_better(m) ? v > best_v : v < best_v) ? NT_EVAL_BETTER : NT_EVAL_WORSE;
    if (!isfinite(loss)) return NT_EVAL_WORSE;
    return isnan(best_loss) || loss < best_loss ? NT_EVAL_BETTER : NT_EVAL_TIE;
}

static double metric_value(nt_trainer_metric m, const nt_eval_result *e) {
    switch (m) {
    case NT_TRAINER_METRIC_LOSS: return e->loss;
    case NT_TRAINER_METRIC_PPL: return e->ppl;
    case NT_TRAINER_METRIC_TOKEN_ACC: return e->token_acc;
    case NT_TRAINER_METRIC_EXACT_MATCH: return e->decode_metric;
    }
    return NAN;
}

/* ---- configuration ----------------------------------------------------------------- */

nt_trainer_config nt_trainer_config_default(void) {
    nt_trainer_config c;
    memset(&c, 0, sizeof c);
    c.steps = 1000;
    c.batch_tokens = 2048;
    c.accum = 1;
    c.optim = NT_OPTIM_ADAMW;
    c.lr = 1e-3;
    c.lr_min = 1e-5;
    c.schedule = NT_SCHEDULE_COSINE;
    c.warmup = 100;
    c.beta1 = 0.9, c.beta2 = 0.999, c.eps = 1e-8, c.weight_decay = 0.01;
    c.clip = 1.0f;
    c.label_smoothing = 0.1f;
    c.dropout = 0.1f;
    c.eval_every = 200;
    c.log_every = 20;
    c.metric = NT_TRAINER_METRIC_LOSS;
    c.seed = 1;
    c.progress = -1;
    return c;
}

/* The stored fields, for JSON in both directions. */
typedef enum field_type { F_I64, F_INT, F_U64, F_DBL, F_FLT, F_STR, F_OPTIM, F_SCHED, F_METRIC } field_type;
typedef struct field {
    const char *name;
    field_type type;
    size_t offset;
} field;

#define FIELD(n, t) {#n, t, offsetof(nt_trainer_config, n)}
static const field FIELDS[] = {
    FIELD(steps, F_I64),          FIELD(minutes, F_DBL),      FIELD(batch_tokens, F_INT),
    FIELD(batch_sentences, F_INT), FIELD(buckets, F_INT),     FIELD(accum, F_INT),
    FIELD(optim, F_OPTIM),        FIELD(lr, F_DBL),           FIELD(lr_min, F_DBL),
    FIELD(schedule, F_SCHED),     FIELD(warmup, F_I64),       FIELD(beta1, F_DBL),
    FIELD(beta2, F_DBL),          FIELD(eps, F_DBL),          FIELD(weight_decay, F_DBL),
    FIELD(momentum, F_DBL),       FIELD(nesterov, F_INT),     FIELD(decay_all, F_INT),
    FIELD(clip, F_FLT),           FIELD(label_smoothing, F_FLT), FIELD(dropout, F_FLT),
    FIELD(precision, F_INT),
    FIELD(eval_every, F_I64),     FIELD(log_every, F_I64),    FIELD(save_every, F_I64),
    FIELD(patience, F_INT),       FIELD(metric, F_METRIC),    FIELD(target, F_DBL),    FIELD(eval_exact_max, F_INT),
    FIELD(eval_max_new_tokens, F_INT), FIELD(seed, F_U64),    FIELD(out_dir, F_STR),
    FIELD(resume, F_STR),         FIELD(freeze, F_STR),       FIELD(extend_vocab, F_INT),
    FIELD(train_path, F_STR),     FIELD(valid_path, F_STR),   FIELD(extra, F_STR),
    FIELD(progress, F_INT),
};
#define N_FIELDS ((int)(sizeof FIELDS / sizeof *FIELDS))

nt_status nt_trainer_config_check(const nt_trainer_config *c) {
    const char *fn = "nt_trainer_config_check";
    if (!c) return nt_error(NT_ERR_ARG, "%s: config is NULL", fn);
    if (c->steps < 0) return nt_error(NT_ERR_ARG, "%s: steps %lld must be >= 0", fn, (long long)c->steps);
    if (!(c->minutes >= 0) || !isfinite(c->minutes))
        return nt_error(NT_ERR_ARG, "%s: minutes %g must be finite and >= 0", fn, c->minutes);
    if (c->steps == 0 && c->minutes == 0)
        return nt_error(NT_ERR_ARG, "%s: no budget: set steps or minutes (both are 0)", fn);
    if (c->batch_tokens < 0 || c->batch_sentences < 0 || (c->batch_tokens == 0 && c->batch_sentences == 0))
        return nt_error(NT_ERR_ARG, "%s: batch_tokens %d / batch_sentences %d: one must be > 0, "
                        "neither negative", fn, c->batch_tokens, c->batch_sentences);
    if (c->buckets < 0) return nt_error(NT_ERR_ARG, "%s: buckets %d must be >= 0", fn, c->buckets);
    if (c->accum < 1) return nt_error(NT_ERR_ARG, "%s: accum %d must be >= 1", fn, c->accum);
    nt_optim_config oc = nt_optim_config_default(c->optim);
    oc.lr = c->lr, oc.beta1 = c->beta1, oc.beta2 = c->beta2, oc.eps = c->eps;
    oc.weight_decay = c->weight_decay, oc.momentum = c->momentum, oc.nesterov = c->nesterov;
    nt_status s = nt_optim_config_check(&oc);
    if (s != NT_OK) return nt_error_wrap(s, "%s", fn);
    nt_schedule sc = {c->schedule, c->lr, c->warmup, c->steps > c->warmup ? c->steps : c->warmup + 1,
                      c->lr_min};
    s = nt_schedule_check(&sc);
    if (s != NT_OK) return nt_error_wrap(s, "%s", fn);
    if (c->schedule == NT_SCHEDULE_COSINE && c->steps > 0 && c->steps <= c->warmup)
        return nt_error(NT_ERR_ARG, "%s: cosine schedule: steps %lld must exceed warmup %lld", fn,
                        (long long)c->steps, (long long)c->warmup);
    if (!(c->clip >= 0) || !isfinite(c->clip))
        return nt_error(NT_ERR_ARG, "%s: clip %g must be finite and >= 0", fn, (double)c->clip);
    if (!(c->label_smoothing >= 0 && c->label_smoothing < 1))
        return nt_error(NT_ERR_ARG, "%s: label_smoothing %g not in [0, 1)", fn, (double)c->label_smoothing);
    if (!(c->dropout >= 0 && c->dropout < 1))
        return nt_error(NT_ERR_ARG, "%s: dropout %g not in [0, 1)", fn, (double)c->dropout);
    if (c->precision != NT_PREC_F32 && c->precision != NT_PREC_BF16)
        return nt_error(NT_ERR_ARG, "%s: precision %d is neither fp32 (0) nor bf16 (1)", fn, c->precision);
    if (c->eval_every < 0 || c->log_every < 0 || c->save_every < 0)
        return nt_error(NT_ERR_ARG, "%s: eval_every %lld, log_every %lld, save_every %lld must be >= 0",
                        fn, (long long)c->eval_every, (long long)c->log_every, (long long)c->save_every);
    if (c->patience < 0) return nt_error(NT_ERR_ARG, "%s: patience %d must be >= 0", fn, c->patience);
    if (c->metric < NT_TRAINER_METRIC_LOSS || c->metric > NT_TRAINER_METRIC_EXACT_MATCH)
        return nt_error(NT_ERR_ARG, "%s: unknown metric %d", fn, (int)c->metric);
    if (!(c->target >= 0) || !isfinite(c->target))
        return nt_error(NT_ERR_ARG, "%s: target %g must be finite and >= 0", fn, c->target);
    if (c->eval_exact_max < -1)
        return nt_error(NT_ERR_ARG, "%s: eval_exact_max %d must be >= -1", fn, c->eval_exact_max);
    if (c->metric == NT_TRAINER_METRIC_EXACT_MATCH && c->eval_exact_max < 0)
        return nt_error(NT_ERR_ARG, "%s: metric exact_match needs decoding (eval_exact_max is -1)", fn);
    if (c->eval_max_new_tokens < 0)
        return nt_error(NT_ERR_ARG, "%s: eval_max_new_tokens %d must be >= 0", fn, c->eval_max_new_tokens);
    if (c->progress < -2 || c->progress > 1)
        return nt_error(NT_ERR_ARG, "%s: progress %d not in -2..1", fn, c->progress);
    for (const char *s2 = c->freeze; *s2; s2++)
        if (*s2 == ',' && (s2[1] == ',' || s2[1] == 0 || s2 == c->freeze))
            return nt_error(NT_ERR_ARG, "%s: freeze '%s' has an empty prefix", fn, c->freeze);
    return NT_OK;
}

nt_status nt_trainer_config_to_json(const nt_trainer_config *c, char *buf, size_t cap) {
    if (!c || !buf || cap == 0) return nt_error(NT_ERR_ARG, "nt_trainer_config_to_json: NULL argument");
    nt_json w = nt_json_buffer(buf, cap);
    nt_json_begin(&w);
    for (int i = 0; i < N_FIELDS; i++) {
        const field *f = &FIELDS[i];
        const char *p = (const char *)c + f->offset;
        switch (f->type) {
        case F_I64: nt_json_int(&w, f->name, *(const int64_t *)p); break;
        case F_INT: nt_json_int(&w, f->name, *(const int *)p); break;
        case F_U64: nt_json_u64(&w, f->name, *(const uint64_t *)p); break;
        case F_DBL: nt_json_num(&w, f->name, *(const double *)p); break;
        case F_FLT: nt_json_flt(&w, f->name, *(const float *)p); break;
        case F_STR: nt_json_str(&w, f->name, p); break;
        case F_OPTIM: nt_json_str(&w, f->name, nt_optim_kind_name(*(const nt_optim_kind *)p)); break;
        case F_SCHED: nt_json_str(&w, f->name, nt_schedule_kind_name(*(const nt_schedule_kind *)p)); break;
        case F_METRIC: nt_json_str(&w, f->name, nt_trainer_metric_name(*(const nt_trainer_metric *)p)); break;
        }
    }
    nt_json_end(&w);
    if (w.len >= cap)
        return nt_error(NT_ERR_ARG, "nt_trainer_config_to_json: %zu bytes needed, buffer has %zu", w.len + 1, cap);
    return NT_OK;
}

/* One stored option from its JSON value into c. */
static nt_status field_from_json(nt_trainer_config *c, const field *f, const nt_json_field *x) {
    const char *fn = "nt_trainer_config_from_json";
    char *p = (char *)c + f->offset;
    int is_str = f->type == F_STR || f->type == F_OPTIM || f->type == F_SCHED || f->type == F_METRIC;
    if (is_str != (x->str != NULL))
        return nt_error(NT_ERR_FORMAT, "%s: \"%s\" must be a %s", fn, f->name, is_str ? "string" : "number");
    int64_t i;
    uint64_t u;
    nt_status st = NT_OK;
    switch (f->type) {
    case F_I64:
    case F_INT:
        if (nt_json_get_i64(x, &i) != 0 || (f->type == F_INT && (i < -2147483647LL || i > 2147483647LL)))
            return nt_error(NT_ERR_FORMAT, "%s: \"%s\" has a bad value for its type", fn, f->name);
        if (f->type == F_I64) *(int64_t *)p = i;
        else *(int *)p = (int)i;
        break;
    case F_U64:
        if (nt_json_get_u64(x, &u) != 0)
            return nt_error(NT_ERR_FORMAT, "%s: \"%s\" has a bad value for its type", fn, f->name);
        *(uint64_t *)p = u;
        break;
    case F_DBL: *(double *)p = x->num; break;
    case F_FLT: *(float *)p = (float)x->num; break;
    case F_STR:
        if (strlen(x->str) >= NT_TRAINER_PATH_MAX)
            return nt_error(NT_ERR_FORMAT, "%s: \"%s\" is longer than %d bytes", fn, f->name, NT_TRAINER_PATH_MAX - 1);
        memcpy(p, x->str, strlen(x->str) + 1);
        break;
    case F_OPTIM: st = nt_optim_kind_parse(x->str, (nt_optim_kind *)p); break;
    case F_SCHED: st = nt_schedule_kind_parse(x->str, (nt_schedule_kind *)p); break;
    case F_METRIC: st = nt_trainer_metric_parse(x->str, (nt_trainer_metric *)p); break;
    }
    return st == NT_OK ? NT_OK : nt_error_wrap(NT_ERR_FORMAT, "%s: \"%s\"", fn, f->name);
}

nt_status nt_trainer_config_from_json(nt_trainer_config *cfg, const char *json) {
    const char *fn = "nt_trainer_config_from_json";
    if (!cfg || !json) return nt_error(NT_ERR_ARG, "%s: NULL argument", fn);
    enum { MAX = 64 };
    size_t n = strlen(json);
    char *text = nt_malloc(n + 1);
    nt_json_field *f = nt_malloc(MAX * sizeof *f);
    nt_status st = text && f ? NT_OK : nt_error(NT_ERR_NOMEM, "%s: out of memory", fn);
    int nf = 0;
    long col = 0;
    if (st == NT_OK) {
        memcpy(text, json, n + 1);
        const char *err = nt_json_parse_flat(text, f, MAX, &nf, &col);
        if (err) st = nt_error(NT_ERR_FORMAT, "%s: %s at column %ld", fn, err, col);
    }
    nt_trainer_config c = *cfg;
    for (int k = 0; st == NT_OK && k < nf; k++) {
        const field *fd = NULL;
        for (int i = 0; i < N_FIELDS; i++)
            if (strcmp(FIELDS[i].name, f[k].key) == 0) fd = &FIELDS[i];
        st = fd ? field_from_json(&c, fd, &f[k]) : nt_error(NT_ERR_FORMAT, "%s: unknown option \"%s\"", fn, f[k].key);
    }
    nt_free(text);
    nt_free(f);
    if (st == NT_OK) *cfg = c;
    return st;
}

/* ---- the trainer ------------------------------------------------------------------------ */

/* What one call of nt_trainer_run keeps between updates (display, budget). */
typedef struct run_state {
    double t0, seconds0, budget;  /* clock at start, resumed seconds, budget in seconds */
    double win_t, last_draw;      /* log window start; last progress redraw */
    int64_t win_tokens, win_steps;
    int line_open;                /* a progress line is on screen without its newline */
    int signal;                   /* the stop signal the ranks agreed on (0: none) */
} run_state;

struct nt_trainer {
    nt_trainer_config cfg;
    nt_net *net;
    const nt_vocab *vocab;
    nt_data_source *train;
    nt_dist *dist;                /* the ranks (NULL: one process) */
    nt_evaluator eval;            /* eval.batches NULL: no evaluation */
    nt_optim *opt;
    nt_schedule sched;
    nt_ctx *ctx;
    nt_train_state st;            /* rng, step, cursor, best, ... (st.rng is the dropout RNG) */
    char path_last[NT_TRAINER_PATH_MAX + 32];
    char path_best[NT_TRAINER_PATH_MAX + 32];
    char path_metrics[NT_TRAINER_PATH_MAX + 32];
    FILE *metrics;
    FILE *log;
    int tty;                      /* progress line (1) or plain lines (0), -2 silent */
    int64_t last_saved_step;      /* -1 if nothing saved in this run or the resumed one */
    int ran;
    run_state run;
    nt_runlock *lock;             /* held on out_dir while the trainer exists (train/runlock.h) */
};

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int is_dir(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* Rewrites metrics.jsonl without the lines of steps after `step` (a resumed
 * run repeats them). Lines without a "step" are kept. */
static nt_status metrics_truncate(const char *path, int64_t step) {
    FILE *f = fopen(path, "rb");
    if (!f) return NT_OK;
    nt_atomic_file g;
    nt_status s = nt_atomic_file_open(&g, path);
    if (s != NT_OK) {
        fclose(f);
        return s;
    }
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        const char *p = strstr(line, "\"step\":");
        if (p && strtoll(p + 7, NULL, 10) > step) continue;
        fputs(line, g.f);
    }
    fclose(f);
    return nt_atomic_file_commit(&g);
}

static nt_status apply_freeze(nt_trainer *t) {
    char buf[NT_TRAINER_PATH_MAX];
    snprintf(buf, sizeof buf, "%s", t->cfg.freeze);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ') tok++;
        if (!*tok) continue;
        NT_TRY(nt_optim_freeze(t->opt, tok, NULL));
    }
    return NT_OK;
}

/* out_dir and the file to resume from: a run folder or a checkpoint;
 * out_dir defaults to the resumed run's folder, else "run". */
static void resolve_paths(nt_trainer *t, char *resume_file, size_t cap) {
    const char *r = t->cfg.resume;
    resume_file[0] = 0;
    if (r[0]) {
        if (is_dir(r)) snprintf(resume_file, cap, "%s/checkpoint-last.h5", r);
        else snprintf(resume_file, cap, "%s", r);
        if (!t->cfg.out_dir[0]) {
            snprintf(t->cfg.out_dir, sizeof t->cfg.out_dir, "%s", r);
            char *slash = is_dir(r) ? NULL : strrchr(t->cfg.out_dir, '/');
            if (slash) *slash = 0;
            else if (!is_dir(r)) snprintf(t->cfg.out_dir, sizeof t->cfg.out_dir, ".");
        }
    }
    if (!t->cfg.out_dir[0]) snprintf(t->cfg.out_dir, sizeof t->cfg.out_dir, "run");
    snprintf(t->path_last, sizeof t->path_last, "%s/checkpoint-last.h5", t->cfg.out_dir);
    snprintf(t->path_best, sizeof t->path_best, "%s/checkpoint-best.h5", t->cfg.out_dir);
    snprintf(t->path_metrics, sizeof t->path_metrics, "%s/metrics.jsonl", t->cfg.out_dir);
}

static nt_status make_optimizer(nt_trainer *t) {
    const nt_trainer_config *c = &t->cfg;
    nt_optim_config oc = nt_optim_config_default(c->optim);
    oc.lr = c->lr, oc.beta1 = c->beta1, oc.beta2 = c->beta2, oc.eps = c->eps;
    oc.weight_decay = c->weight_decay, oc.momentum = c->momentum;
    oc.nesterov = c->nesterov, oc.decay_all = c->decay_all;
    NT_TRY(nt_optim_new(&t->opt, t->net->params, &oc));
    t->sched.kind = c->schedule, t->sched.lr = c->lr, t->sched.warmup = c->warmup;
    t->sched.lr_min = c->lr_min;
    t->sched.total = c->steps > 0 ? c->steps : c->warmup + 1;
    return NT_OK;
}

/* Weights, optimizer, train state and data cursor of a checkpoint, strictly. */
static nt_status resume_from(nt_trainer *t, const char *file) {
    nt_train_state *ts = nt_malloc(sizeof *ts);
    if (!ts) return nt_error(NT_ERR_NOMEM, "out of memory");
    nt_status s = nt_ckpt_load_weights_into(file, t->net);
    if (s == NT_OK) s = nt_ckpt_load_optim(file, t->opt);
    if (s == NT_OK) s = nt_ckpt_load_train(file, ts);
    if (s == NT_OK) {
        nt_cursor cur = {ts->epoch, ts->cursor};
        s = nt_data_source_set_cursor(t->train, &cur);
        if (s != NT_OK) nt_error_wrap(s, "%s: data cursor (does the training data differ?)", file);
    }
    if (s == NT_OK && t->opt->step != ts->step)
        s = nt_error(NT_ERR_FORMAT, "%s: /optim step %lld differs from /train step %lld", file,
                     (long long)t->opt->step, (long long)ts->step);
    if (s == NT_OK) {
        t->st = *ts;
        t->last_saved_step = ts->step;
        if (nt_dist_is_root(t->dist)) s = metrics_truncate(t->path_metrics, t->st.step);
    }
    nt_free(ts);
    return s;
}

static nt_status check_inputs(const nt_trainer_config *cfg, nt_net *net, const nt_vocab *vocab,
                              nt_data_source *train, const nt_evaluator *eval) {
    NT_TRY(nt_trainer_config_check(cfg));
    NT_TRY(nt_net_check(net));
    if (!train || !train->ops) return nt_error(NT_ERR_ARG, "no training data source");
    if (vocab && nt_vocab_size(vocab) != net->vocab_size)
        return nt_error(NT_ERR_ARG, "vocabulary has %d tokens, the model's vocab_size is %d",
                        nt_vocab_size(vocab), net->vocab_size);
    int decode = eval && eval->batches && eval->decode && cfg->eval_exact_max >= 0;
    if (decode) NT_TRY(nt_eval_decoder_check(eval->decode));
    if (decode && !net->ops->stepper && !net->ops->next_logits)
        return nt_error(NT_ERR_ARG, "%s needs generation, and model '%s' has neither stepper nor "
                        "next_logits (set eval_exact_max to -1)", eval->decode->name, net->ops->arch);
    if (cfg->metric == NT_TRAINER_METRIC_EXACT_MATCH && !decode)
        return nt_error(NT_ERR_ARG, "metric exact_match needs a decode metric (evaluator.decode)");
    return NT_OK;
}

nt_status nt_trainer_new(nt_trainer **out, const nt_trainer_config *cfg, nt_net *net,
                         const nt_vocab *vocab, nt_data_source *train, const nt_evaluator *eval) {
    const char *fn = "nt_trainer_new";
    if (!out || !cfg || !net) return nt_error(NT_ERR_ARG, "%s: out, cfg and model must not be NULL", fn);
    nt_status s = check_inputs(cfg, net, vocab, train, eval);
    if (s == NT_OK && !cfg->dist && nt_dist_uninitialised_rank())
        s = nt_error(NT_ERR_STATE, "started by mpirun, but this program did not call nt_dist_init() "
                     "first in main (train/dist.h): every copy would train alone");
    if (s != NT_OK) return nt_error_wrap(s, "%s", fn);
    nt_trainer *t = nt_calloc(1, sizeof *t);
    if (!t) return nt_error(NT_ERR_NOMEM, "%s: out of memory", fn);
    t->cfg = *cfg;
    t->net = net, t->vocab = vocab, t->train = train;
    t->dist = cfg->dist ? cfg->dist : nt_dist_world();
    if (eval) t->eval = *eval;
    t->log = cfg->log ? cfg->log : stderr;
    t->last_saved_step = -1;
    nt_train_state_init(&t->st);
    nt_rng_seed(&t->st.rng, cfg->seed ^ 0xd50a0d50a0ULL);
    if (net->ops->set_dropout) net->ops->set_dropout(net, cfg->dropout);

    char resume_file[NT_TRAINER_PATH_MAX + 32];
    resolve_paths(t, resume_file, sizeof resume_file);
    s = nt_fs_mkdirs(t->cfg.out_dir);
    if (s == NT_OK && nt_dist_is_root(t->dist)) /* one run per folder; under mpirun rank 0 holds it */
        s = nt_runlock_acquire(t->cfg.out_dir, &t->lock);
    if (s == NT_OK) s = make_optimizer(t);
    if (s == NT_OK) s = nt_ctx_new(&t->ctx, 0);
    if (s == NT_OK) nt_ctx_set_precision(t->ctx, (nt_precision)cfg->precision);
    if (s == NT_OK && resume_file[0]) s = resume_from(t, resume_file);
    if (s == NT_OK) s = apply_freeze(t);
    if (s == NT_OK) { /* rank 0 writes the files; the others' lines go nowhere */
        t->metrics = fopen(nt_dist_is_root(t->dist) ? t->path_metrics : "/dev/null", "ab");
        if (!t->metrics) s = nt_error(NT_ERR_IO, "cannot open %s (%s)", t->path_metrics, strerror(errno));
    }
    if (s == NT_OK) {
        nt_trainer_config stored = t->cfg;
        stored.resume[0] = 0;
        s = nt_trainer_config_to_json(&stored, t->st.options, sizeof t->st.options);
    }
    if (s != NT_OK) {
        nt_trainer_free(t);
        return nt_error_wrap(s, "%s", fn);
    }
    t->tty = cfg->progress == -1 ? isatty(fileno(t->log)) : cfg->progress;
    if (!nt_dist_is_root(t->dist)) t->tty = -2;
    *out = t;
    return NT_OK;
}

void nt_trainer_free(nt_trainer *t) {
    if (!t) return;
    nt_optim_free(t->opt);
    nt_ctx_free(t->ctx);
    if (t->metrics) fclose(t->metrics);
    nt_runlock_release(t->lock);
    nt_free(t);
}

nt_optim *nt_trainer_optim(nt_trainer *t) { return t ? t->opt : NULL; }
const nt_train_state *nt_trainer_state(const nt_trainer *t) { return t ? &t->st : NULL; }

/* ---- one update ---------------------------------------------------------------------- */

/* The next training batch, crossing into the next pass when one ends. */
static nt_status next_train_batch(nt_trainer *t, nt_batch *b) {
    NT_TRY(nt_data_source_next(t->train, b));
    if (b->B == 0) NT_TRY(nt_data_source_next(t->train, b));
    if (b->B == 0) return nt_error(NT_ERR_STATE, "the training data yields no batch");
    return NT_OK;
}

typedef struct step_info {
    double loss;        /* mean over the update's target tokens */
    float grad_norm;
    double lr;
    int64_t tokens;     /* source + target tokens */
    int nonfinite;      /* 1: loss or gradient not finite (message set) */
} step_info;

/* Dropout draws of micro-batch k start 2^36 draws apart (far more than
 * one micro-batch takes), so they do not depend on which rank runs it. */
#define MICRO_BATCH_DRAWS ((uint64_t)1 << 36)

/* accum micro-batches (on each of the N ranks: N * accum in all) ->
 * gradient of the mean loss over all their target tokens -> clip ->
 * optimizer step. */
static nt_status train_update(nt_trainer *t, step_info *si) {
    nt_net *net = t->net;
    const int ranks = nt_dist_size(t->dist), rank = nt_dist_rank(t->dist);
    const int micro = ranks * t->cfg.accum;
    nt_params_zero_grad(net->params);
    nt_ctx_set_grad(t->ctx, 1);
    nt_ctx_set_training(t->ctx, 1);
    nt_rng rng = t->st.rng;
    const uint64_t base = rng.counter;
    t->st.rng.counter = base + (uint64_t)micro * MICRO_BATCH_DRAWS;
    nt_ctx_set_rng(t->ctx, &rng);
    NT_TRY(nt_dist_allreduce_begin(t->dist, net->params->grads, net->params->total));
    double sum_loss = 0;
    int64_t n_total = 0;
    si->tokens = 0;
    si->nonfinite = 0;
    for (int k = 0; k < micro; k++) {
        nt_batch b;
        NT_TRY(next_train_batch(t, &b));
        if (k % ranks != rank) continue; /* another rank's micro-batch */
        rng.counter = base + (uint64_t)k * MICRO_BATCH_DRAWS;
        nt_tensor *loss;
        int64_t n = 0;
        NT_TRY(net->ops->loss(net, t->ctx, &b, t->cfg.label_smoothing, &loss, NULL, &n));
        float l = nt_f32(loss)[0];
        if (!isfinite(l)) {
            si->loss = l;
            si->nonfinite = 1;
            nt_ctx_reset(t->ctx);
            return nt_error(NT_ERR_NUMERIC, "training loss is %s (micro-batch %d of %d)",
                            isnan(l) ? "NaN" : "Inf", k + 1, micro);
        }
        /* this rank's last micro-batch: its backward finishes the gradients,
         * and their buckets start while it runs */
        int last = k + ranks >= micro && n > 0;
        if (last) NT_TRY(nt_dist_overlap_begin(t->dist, t->ctx, loss, net->params));
        /* d(sum of token losses) = n * d(mean): the micro-batches add up to
         * the gradient of the summed loss, divided by the total below. */
        if (n > 0) NT_TRY(nt_backward_seeded(t->ctx, loss, &(float){(float)n}));
        if (last) NT_TRY(nt_dist_overlap_end(t->dist, t->ctx));
        sum_loss += (double)l * (double)n;
        n_total += n;
        si->tokens += b.n_src_tokens + b.n_tgt_tokens;
        nt_ctx_reset(t->ctx);
    }
    /* the sums over the ranks: gradients, then loss and token counts */
    NT_TRY(nt_dist_allreduce_end(t->dist));
    double sums[3] = {sum_loss, (double)n_total, (double)si->tokens};
    NT_TRY(nt_dist_sum(t->dist, sums, 3));
    sum_loss = sums[0], n_total = (int64_t)sums[1], si->tokens = (int64_t)sums[2];
    if (n_total > 0) nt_optim_scale_grads(t->opt, (float)(1.0 / (double)n_total));
    si->loss = n_total > 0 ? sum_loss / (double)n_total : 0.0;
    nt_status s = nt_optim_clip(t->opt, t->cfg.clip, &si->grad_norm);
    if (s != NT_OK) {
        si->nonfinite = 1;
        return s;
    }
    si->lr = nt_schedule_lr(&t->sched, t->st.step);
    NT_TRY(nt_optim_step(t->opt, si->lr));
    return NT_OK;
}

/* ---- evaluation ----------------------------------------------------------------------- */

/* Tokens whose argmax logit is the label, over the labels that take a loss. */
static int64_t count_right(const nt_batch *b, const float *logits, int V) { /* logits (B, T, V) */
    int64_t right = 0;
    for (int64_t r = 0; r < (int64_t)b->B * b->T; r++) {
        int32_t y = b->labels[r];
        if (y == 0) continue;
        const float *row = logits + r * V;
        int best = 0;
        for (int v = 1; v < V; v++)
            if (row[v] > row[best]) best = v;
        right += best == y;
    }
    return right;
}

/* One pass over the evaluation batches: loss, perplexity, token accuracy.
 * Rank r of N scores batches r, r + N, ...; the sums are reduced. */
static nt_status eval_batches(nt_trainer *t, nt_eval_result *ev) {
    nt_net *net = t->net;
    const int ranks = nt_dist_size(t->dist), rank = nt_dist_rank(t->dist);
    nt_status s = nt_data_source_set_cursor(t->eval.batches, &(nt_cursor){0, 0});
    double sum_loss = 0;
    int64_t n_tok = 0, n_right = 0;
    for (int j = 0; s == NT_OK; j++) {
        nt_batch b;
        s = nt_data_source_next(t->eval.batches, &b);
        if (s != NT_OK || b.B == 0) break;
        if (j % ranks != rank) continue;
        nt_tensor *loss, *logits;
        int64_t n = 0;
        s = net->ops->loss(net, t->ctx, &b, 0.0f, &loss, &logits, &n);
        if (s == NT_OK) {
            sum_loss += (double)nt_f32(loss)[0] * (double)n;
            n_tok += n;
            n_right += count_right(&b, nt_f32(logits), net->vocab_size);
            ev->n_sentences += b.B;
        }
        nt_ctx_reset(t->ctx);
    }
    if (s != NT_OK) return s; /* (its exit through nt_dist_finalize ends the other ranks) */
    double sums[4] = {sum_loss, (double)n_tok, (double)n_right, ev->n_sentences};
    NT_TRY(nt_dist_sum(t->dist, sums, 4));
    sum_loss = sums[0], n_tok = (int64_t)sums[1], n_right = (int64_t)sums[2], ev->n_sentences = (int)sums[3];
    ev->n_tokens = n_tok;
    ev->loss = n_tok > 0 ? sum_loss / (double)n_tok : 0.0;
    ev->ppl = exp(ev->loss);
    ev->token_acc = n_tok > 0 ? (double)n_right / (double)n_tok : 0.0;
    return s;
}

nt_status nt_trainer_evaluate(nt_trainer *t, nt_eval_result *ev) {
    if (!t || !ev) return nt_error(NT_ERR_ARG, "nt_trainer_evaluate: NULL argument");
    memset(ev, 0, sizeof *ev);
    ev->decode_metric = NAN;
    if (!t->eval.batches) return nt_error(NT_ERR_STATE, "nt_trainer_evaluate: no validation data");
    int prev_grad = nt_ctx_set_grad(t->ctx, 0);
    nt_ctx_set_training(t->ctx, 0);
    nt_ctx_set_rng(t->ctx, NULL);
    nt_status s = eval_batches(t, ev);
    if (s == NT_OK && t->eval.decode && t->cfg.eval_exact_max >= 0)
        s = nt_eval_decoder_run(t->eval.decode, t->net, t->ctx, t->dist, t->cfg.eval_exact_max,
                                t->cfg.eval_max_new_tokens, &ev->decode_metric, &ev->n_decoded);
    nt_ctx_reset(t->ctx);
    nt_ctx_set_grad(t->ctx, prev_grad);
    nt_ctx_set_training(t->ctx, 1);
    return s == NT_OK ? NT_OK : nt_error_wrap(s, "nt_trainer_evaluate");
}

/* ---- checkpoints, logs --------------------------------------------------------------- */

static int params_finite(const nt_params *p) {
    int ok = 1;
#pragma omp parallel for schedule(static) reduction(&& : ok)
    for (int64_t i = 0; i < p->total; i++) ok = ok && isfinite(p->values[i]);
    return ok;
}

static nt_status save_checkpoint(nt_trainer *t, const char *path) {
    if (!params_finite(t->net->params))
        return nt_error(NT_ERR_NUMERIC, "step %lld: the weights hold NaN or Inf; %s not written",
                        (long long)t->st.step, path);
    nt_cursor cur;
    nt_data_source_get_cursor(t->train, &cur);
    t->st.epoch = cur.epoch, t->st.cursor = cur.position;
    if (!nt_dist_is_root(t->dist)) { /* rank 0 writes; every rank holds the same state */
        if (path == t->path_last) t->last_saved_step = t->st.step;
        return NT_OK;
    }
    NT_TRY(nt_ckpt_save(path, t->net, t->vocab, t->opt, &t->st));
    if (path == t->path_last) t->last_saved_step = t->st.step;
    if (t->cfg.on_checkpoint) t->cfg.on_checkpoint(t->cfg.user, t->st.step, path);
    return NT_OK;
}

static void fmt_duration(char *buf, size_t n, double s) {
    if (!(s >= 0) || !isfinite(s)) snprintf(buf, n, "?");
    else if (s < 60) snprintf(buf, n, "%ds", (int)s);
    else if (s < 3600) snprintf(buf, n, "%dm%02ds", (int)s / 60, (int)s % 60);
    else snprintf(buf, n, "%dh%02dm", (int)(s / 3600), ((int)s % 3600) / 60);
}

/* Ends an open progress line before a line of its own. */
static void close_progress_line(nt_trainer *t) {
    if (t->run.line_open) fprintf(t->log, "\n");
    t->run.line_open = 0;
}

/* metrics.jsonl's train line and the display after an update. */
static void log_update(nt_trainer *t, const step_info *si) {
    const nt_trainer_config *c = &t->cfg;
    run_state *rs = &t->run;
    rs->win_tokens += si->tokens, rs->win_steps++;
    double now = now_seconds();
    int log_now = c->log_every > 0 && t->st.step % c->log_every == 0;
    double rate = rs->win_tokens / (now - rs->win_t > 1e-9 ? now - rs->win_t : 1e-9);
    double step_time = (now - rs->win_t) / (double)(rs->win_steps ? rs->win_steps : 1);
    double eta = INFINITY;
    if (c->steps > 0) eta = (double)(c->steps - t->st.step) * step_time;
    if (rs->budget > 0 && rs->budget - t->st.seconds < eta) eta = rs->budget - t->st.seconds;
    char eta_s[32];
    fmt_duration(eta_s, sizeof eta_s, eta);
    if (log_now) {
        nt_cursor cur;
        nt_data_source_get_cursor(t->train, &cur);
        nt_json w = nt_json_file(t->metrics);
        nt_json_begin(&w);
        nt_json_str(&w, "type", "train");
        nt_json_int(&w, "step", t->st.step);
        nt_json_int(&w, "epoch", cur.epoch);
        nt_json_flt(&w, "loss", si->loss);
        nt_json_flt(&w, "lr", si->lr);
        nt_json_flt(&w, "grad_norm", si->grad_norm);
        nt_json_int(&w, "tokens", t->st.tokens);
        nt_json_flt(&w, "tok_s", rate);
        nt_json_flt(&w, "elapsed_s", t->st.seconds);
        if (nt_dist_size(t->dist) > 1) { /* rank 0's all-reduce: time blocked in it, time
                                            its buckets were in flight during backward */
            nt_dist_stats ds;
            nt_dist_stats_get(t->dist, &ds);
            double per = ds.reductions ? 1e3 / (double)ds.reductions : 0.0; /* ms per update */
            nt_json_int(&w, "ranks", nt_dist_size(t->dist));
            nt_json_flt(&w, "comm_wait_ms", per * ds.wait_s);
            nt_json_flt(&w, "comm_overlap_ms", per * ds.overlap_s);
            nt_dist_stats_reset(t->dist);
        }
        nt_json_end(&w);
        fputc('\n', t->metrics);
        fflush(t->metrics);
    }
    char total_s[32] = "";
    if (c->steps > 0) snprintf(total_s, sizeof total_s, "/%lld", (long long)c->steps);
    if (t->tty == 1 && (now - rs->last_draw > 0.1 || log_now)) {
        nt_progress_info pi = {t->st.step, c->steps, t->st.seconds, rs->budget, eta, si->loss, si->lr, rate};
        char bar[512];
        nt_progress_format(&pi, nt_progress_width(fileno(t->log)), bar, sizeof bar);
        fprintf(t->log, "\r%s\033[K", bar);
        fflush(t->log);
        rs->last_draw = now;
        rs->line_open = 1;
    } else if (t->tty == 0 && log_now) {
        fprintf(t->log, "step %lld%s loss %.4f lr %.2e grad_norm %.3f tok/s %.0f eta %s\n",
                (long long)t->st.step, total_s, si->loss, si->lr, (double)si->grad_norm, rate, eta_s);
        fflush(t->log);
    }
    if (log_now) rs->win_t = now, rs->win_tokens = 0, rs->win_steps = 0;
}

/* What an evaluation decided. */
typedef struct eval_outcome {
    int better;      /* an improvement (the patience starts over) */
    int saved_best;  /* checkpoint-best was written: an improvement or a later tie */
    int stop_early;  /* patience ran out */
    int reached;     /* the target metric was reached */
} eval_outcome;

/* Evaluates, tracks the best (checkpoint-best.h5), logs the eval line. */
static nt_status evaluate_and_track(nt_trainer *t, nt_train_result *r, eval_outcome *o) {
    const nt_trainer_config *c = &t->cfg;
    memset(o, 0, sizeof *o);
    nt_eval_result ev;
    NT_TRY(nt_trainer_evaluate(t, &ev));
    r->eval = ev;
    double v = metric_value(c->metric, &ev);
    nt_eval_rank rank = nt_eval_compare(c->metric, v, ev.loss, t->st.best_metric, t->st.best_loss);
    o->better = rank == NT_EVAL_BETTER;
    o->saved_best = rank != NT_EVAL_WORSE;
    if (o->better) {
        t->st.best_metric = v, t->st.best_loss = ev.loss, t->st.bad_evals = 0;
    } else {
        t->st.bad_evals++;
        o->stop_early = c->patience > 0 && t->st.bad_evals >= c->patience;
    }
    if (o->saved_best) t->st.best_step = t->st.step;
    o->reached = c->target > 0 && isfinite(v) &&
                 (metric_higher_is_better(c->metric) ? v >= c->target : v <= c->target);
    nt_json w = nt_json_file(t->metrics);
    nt_json_begin(&w);
    nt_json_str(&w, "type", "eval");
    nt_json_int(&w, "step", t->st.step);
    nt_json_flt(&w, "loss", ev.loss);
    nt_json_flt(&w, "ppl", ev.ppl);
    nt_json_flt(&w, "token_acc", 100.0 * ev.token_acc);
    if (ev.n_decoded > 0 || (t->eval.decode && c->eval_exact_max >= 0))
        nt_json_flt(&w, t->eval.decode->name, 100.0 * ev.decode_metric);
    nt_json_flt(&w, "elapsed_s", t->st.seconds);
    nt_json_int(&w, "sentences", ev.n_sentences);
    nt_json_bool(&w, "best", o->saved_best);
    if (rank == NT_EVAL_TIE) nt_json_bool(&w, "tie", 1);
    nt_json_end(&w);
    fputc('\n', t->metrics);
    fflush(t->metrics);
    if (t->tty >= 0) {
        if (t->run.line_open) fprintf(t->log, "\r\033[K");
        t->run.line_open = 0;
        fprintf(t->log, "eval step %lld: loss %.4f ppl %.3f token_acc %.2f%%", (long long)t->st.step, ev.loss,
                ev.ppl, 100.0 * ev.token_acc);
        if (ev.n_decoded > 0)
            fprintf(t->log, " %s %.2f%% (%d decoded)", t->eval.decode->name, 100.0 * ev.decode_metric, ev.n_decoded);
        fprintf(t->log, "%s\n", o->better ? " (best)" : o->saved_best ? " (best: ties, later)" : "");
        fflush(t->log);
    }
    return o->saved_best ? save_checkpoint(t, t->path_best) : NT_OK;
}

/* ---- the loop ---------------------------------------------------------------------------- */

static const char *stop_message(nt_trainer *t, char *buf, size_t n) {
    if (t->last_saved_step >= 0)
        snprintf(buf, n, "the last good checkpoint is %s (step %lld)", t->path_last,
                 (long long)t->last_saved_step);
    else
        snprintf(buf, n, "no checkpoint was written");
    return buf;
}

/* A failed update: NaN/Inf stops with the last good checkpoint named. */
static nt_status update_failed(nt_trainer *t, nt_status s, const step_info *si, nt_train_result *r) {
    char why[2048], msg[NT_TRAINER_PATH_MAX + 128];
    nt_ctx_reset(t->ctx);
    snprintf(why, sizeof why, "%s", nt_errmsg());
    if (si->nonfinite || s == NT_ERR_NUMERIC) {
        r->stop_reason = "nan";
        r->loss = si->loss;
        return nt_error(NT_ERR_NUMERIC, "nt_trainer_run: step %lld: %s; training stopped, %s",
                        (long long)t->st.step + 1, why, stop_message(t, msg, sizeof msg));
    }
    return nt_error(s, "nt_trainer_run: step %lld: %s", (long long)t->st.step + 1, why);
}

/* checkpoint-last.h5 now; non-finite weights stop the run. */
static nt_status save_last(nt_trainer *t, nt_train_result *r) {
    nt_status s = save_checkpoint(t, t->path_last);
    if (s == NT_ERR_NUMERIC) {
        char why[2048], msg[NT_TRAINER_PATH_MAX + 128];
        r->stop_reason = "nan";
        snprintf(why, sizeof why, "%s", nt_errmsg());
        nt_error(NT_ERR_NUMERIC, "nt_trainer_run: %s; training stopped, %s", why, stop_message(t, msg, sizeof msg));
    }
    return s;
}

/* 1 when the step or time budget is used up. */
static int budget_done(const nt_trainer *t) {
    return (t->cfg.steps > 0 && t->st.step >= t->cfg.steps) ||
           (t->run.budget > 0 && t->st.seconds >= t->run.budget);
}

/* The ranks' clocks and signals differ: all stop after the same update, the
 * latest clock and any rank's signal deciding (one small reduction). */
static nt_status agree_on_stop(nt_trainer *t) {
    double v[2] = {t->st.seconds, nt_signals_pending()};
    NT_TRY(nt_dist_max(t->dist, v, 2));
    t->st.seconds = v[0], t->run.signal = (int)v[1];
    return NT_OK;
}

/* After an update: evaluation, checkpoints, and whether to stop (*stop set,
 * r->stop_reason named; NT_ERR_INTERRUPTED on a signal). */
static nt_status after_update(nt_trainer *t, nt_train_result *r, int *stop) {
    const nt_trainer_config *c = &t->cfg;
    int done = budget_done(t);
    eval_outcome o = {0};
    if (t->eval.batches && ((c->eval_every > 0 && t->st.step % c->eval_every == 0) || done))
        NT_TRY(evaluate_and_track(t, r, &o));
    int interrupted = t->run.signal || (c->stop_at > 0 && t->st.step == c->stop_at);
    int64_t save_every = c->save_every > 0 ? c->save_every : c->eval_every;
    if (done || o.stop_early || o.reached || interrupted || (save_every > 0 && t->st.step % save_every == 0))
        NT_TRY(save_last(t, r));
    *stop = 1;
    if (interrupted) {
        int sig = t->run.signal;
        r->stop_reason = "interrupted";
        r->signal = sig;
        return nt_error(NT_ERR_INTERRUPTED, "interrupted by %s after step %lld; checkpoint saved to %s",
                        sig ? nt_signals_name(sig) : "request", (long long)t->st.step, t->path_last);
    }
    if (o.reached) {
        r->stop_reason = "target";
        if (t->tty >= 0) {
            close_progress_line(t);
            fprintf(t->log, "target reached at step %lld: %s %.6g\n", (long long)t->st.step,
                    nt_trainer_metric_name(c->metric), metric_value(c->metric, &r->eval));
        }
        return NT_OK;
    }
    if (o.stop_early) {
        r->stop_reason = "early_stop";
        if (t->tty >= 0) {
            close_progress_line(t);
            fprintf(t->log, "early stop at step %lld: %s did not improve for %d evaluations (best %.6g at step %lld)\n",
                    (long long)t->st.step, nt_trainer_metric_name(c->metric), c->patience, t->st.best_metric,
                    (long long)t->st.best_step);
        }
        return NT_OK;
    }
    if (done) {
        r->stop_reason = c->steps > 0 && t->st.step >= c->steps ? "steps" : "time";
        return NT_OK;
    }
    *stop = 0;
    return NT_OK;
}

nt_status nt_trainer_run(nt_trainer *t, nt_train_result *res) {
    if (!t) return nt_error(NT_ERR_ARG, "nt_trainer_run: trainer is NULL");
    if (t->ran) return nt_error(NT_ERR_STATE, "nt_trainer_run: a trainer runs once");
    t->ran = 1;
    nt_train_result r;
    memset(&r, 0, sizeof r);
    r.eval.decode_metric = NAN;
    r.stop_reason = t->cfg.steps > 0 && t->st.step >= t->cfg.steps ? "steps" : "time";
    run_state *rs = &t->run;
    memset(rs, 0, sizeof *rs);
    rs->t0 = rs->win_t = now_seconds();
    rs->seconds0 = t->st.seconds;
    rs->budget = t->cfg.minutes * 60.0;
    nt_signals_install();
    nt_status s = NT_OK;
    for (int stop = budget_done(t); !stop;) {
        /* A time budget without a step budget: the cosine's end moves with the clock. */
        if (t->cfg.steps == 0 && rs->budget > 0 && t->st.seconds > 0) {
            int64_t est = (int64_t)((double)t->st.step * rs->budget / t->st.seconds);
            t->sched.total = est > t->sched.warmup + 1 ? est : t->sched.warmup + 1;
        }
        step_info si;
        s = train_update(t, &si);
        t->st.seconds = rs->seconds0 + (now_seconds() - rs->t0);
        if (s == NT_OK) s = agree_on_stop(t);
        if (s != NT_OK) {
            s = update_failed(t, s, &si, &r);
            break;
        }
        t->st.step++;
        t->st.tokens += si.tokens;
        r.loss = si.loss;
        log_update(t, &si);
        s = after_update(t, &r, &stop);
        if (s != NT_OK) break;
    }
    close_progress_line(t);
    nt_signals_restore();
    if (s != NT_ERR_INTERRUPTED) nt_signals_clear();
    r.step = t->st.step;
    r.best_metric = t->st.best_metric;
    r.best_step = t->st.best_step;
    r.tokens = t->st.tokens;
    r.seconds = t->st.seconds;
    if (res) *res = r;
    return s;
}
