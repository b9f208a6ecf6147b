/* cli.c - shared parts of the nextok-translate subcommands: options, presets,
 * corpora, batched translation of untrusted lines, the run report. */
#include "cli.h"

#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "core/alloc.h"
#include "core/parallel.h"
#include "data/tsv.h"
#include "train/checkpoint.h"
#include "train/report.h"

/* ---- options ------------------------------------------------------------------ */

const char *cli_value(const char *cmd, int argc, char **argv, int *i) {
    if (*i + 1 >= argc) {
        fprintf(stderr, "nextok-translate %s: %s needs a value\n", cmd, argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

int cli_parse_double(const char *flag, const char *value, double min, double max, double *out) {
    char *end;
    errno = 0;
    double v = strtod(value, &end);
    if (errno || end == value || *end || !isfinite(v) || v < min || v > max) {
        fprintf(stderr, "nextok-translate: %s: bad number \"%s\" (expected a number in %g..%g)\n", flag, value,
                min, max);
        return 0;
    }
    *out = v;
    return 1;
}

typedef enum opt_kind { O_I64, O_INT, O_U64, O_DBL, O_FLT, O_FLAG, O_OPTIM, O_SCHED, O_METRIC, O_PROGRESS, O_STR } opt_kind;

typedef struct trainer_opt {
    const char *flag;
    opt_kind kind;
    size_t offset;
    double min, max;
    const char *help;
} trainer_opt;

#define OFF(f) offsetof(nt_trainer_config, f)
static const trainer_opt TRAINER_OPTS[] = {
    {"--steps", O_I64, OFF(steps), 0, 1e12, "optimizer updates in total (default 1000)"},
    {"--minutes", O_DBL, OFF(minutes), 0, 1e6, "wall-clock budget; alone it replaces --steps"},
    {"--batch-tokens", O_INT, OFF(batch_tokens), 0, 1e8, "padded tokens per micro-batch (default 2048)"},
    {"--batch-sentences", O_INT, OFF(batch_sentences), 0, 1e7, "sentences per micro-batch cap (0: none)"},
    {"--accum", O_INT, OFF(accum), 1, 1e6, "micro-batches per update (default 1)"},
    {"--buckets", O_INT, OFF(buckets), 0, 1e6, "length buckets of the batcher (default 8)"},
    {"--optim", O_OPTIM, OFF(optim), 0, 0, "sgd | adam | adamw (default adamw)"},
    {"--lr", O_DBL, OFF(lr), 0, 1e3, "peak learning rate (default 1e-3)"},
    {"--lr-min", O_DBL, OFF(lr_min), 0, 1e3, "floor of the cosine (default 1e-5)"},
    {"--schedule", O_SCHED, OFF(schedule), 0, 0, "constant | cosine | inv_sqrt (default cosine)"},
    {"--warmup", O_I64, OFF(warmup), 0, 1e12, "linear warmup updates (default 100)"},
    {"--beta1", O_DBL, OFF(beta1), 0, 1, "Adam beta1 (default 0.9)"},
    {"--beta2", O_DBL, OFF(beta2), 0, 1, "Adam beta2 (default 0.999)"},
    {"--eps", O_DBL, OFF(eps), 0, 1, "Adam epsilon (default 1e-8)"},
    {"--weight-decay", O_DBL, OFF(weight_decay), 0, 10, "AdamW/SGD weight decay (default 0.01)"},
    {"--momentum", O_DBL, OFF(momentum), 0, 1, "SGD momentum (default 0)"},
    {"--nesterov", O_FLAG, OFF(nesterov), 0, 0, "SGD: Nesterov momentum"},
    {"--decay-all", O_FLAG, OFF(decay_all), 0, 0, "weight-decay biases, LayerNorms and embeddings too"},
    {"--clip", O_FLT, OFF(clip), 0, 1e6, "global gradient-norm limit, 0 = off (default 1)"},
    {"--label-smoothing", O_FLT, OFF(label_smoothing), 0, 0.999, "training loss only (default 0.1)"},
    {"--dropout", O_FLT, OFF(dropout), 0, 0.999, "dropout rate (default 0.1)"},
    {"--eval-every", O_I64, OFF(eval_every), 0, 1e12, "updates between evaluations, 0 = at the end (default 200)"},
    {"--log-every", O_I64, OFF(log_every), 0, 1e12, "updates between log lines (default 20)"},
    {"--save-every", O_I64, OFF(save_every), 0, 1e12, "updates between checkpoint-last saves, 0 = at evaluations"},
    {"--patience", O_INT, OFF(patience), 0, 1e6, "evaluations without improvement before stopping, 0 = off"},
    {"--metric", O_METRIC, OFF(metric), 0, 0, "loss | ppl | token_acc | exact_match: early stopping, best checkpoint"},
    {"--eval-exact-max", O_INT, OFF(eval_exact_max), -1, 1e9,
     "validation sentences decoded for exact match: 0 all, -1 none (default 0)"},
    {"--eval-max-new-tokens", O_INT, OFF(eval_max_new_tokens), 0, 1e6, "decoding limit at evaluation (0: auto)"},
    {"--seed", O_U64, OFF(seed), 0, 0, "data order, dropout and initialisation (default 1)"},
    {"--progress", O_PROGRESS, OFF(progress), 0, 0, "auto | bar | lines | off (default auto: bar on a terminal)"},
    {"--freeze", O_STR, OFF(freeze), 0, 0, "comma-separated parameter-name prefixes not to train"},
};
#define N_TRAINER_OPTS ((int)(sizeof TRAINER_OPTS / sizeof *TRAINER_OPTS))

int cli_trainer_option(nt_trainer_config *tc, cli_budget_seen *seen, int argc, char **argv, int *i) {
    const char *a = argv[*i];
    const trainer_opt *o = NULL;
    for (int k = 0; k < N_TRAINER_OPTS; k++)
        if (strcmp(a, TRAINER_OPTS[k].flag) == 0) o = &TRAINER_OPTS[k];
    if (!o) return 0;
    char *p = (char *)tc + o->offset;
    if (o->kind == O_FLAG) {
        *(int *)p = 1;
        return 1;
    }
    if (*i + 1 >= argc) {
        fprintf(stderr, "nextok-translate: %s needs a value\n", a);
        return -1;
    }
    const char *v = argv[++*i];
    long n;
    double d = 0;
    unsigned long long u;
    nt_status s = NT_OK;
    switch (o->kind) {
    case O_I64:
        if (!cli_parse_double(a, v, o->min, o->max, &d)) return -1;
        if (d != floor(d)) {
            fprintf(stderr, "nextok-translate: %s: \"%s\" is not an integer\n", a, v);
            return -1;
        }
        *(int64_t *)p = (int64_t)d;
        break;
    case O_INT:
        if (!nt_cli_parse_int(a, v, (long)o->min, (long)o->max, &n)) return -1;
        *(int *)p = (int)n;
        break;
    case O_U64:
        if (!nt_cli_parse_u64(a, v, &u)) return -1;
        *(uint64_t *)p = u;
        break;
    case O_DBL:
        if (!cli_parse_double(a, v, o->min, o->max, &d)) return -1;
        *(double *)p = d;
        break;
    case O_FLT:
        if (!cli_parse_double(a, v, o->min, o->max, &d)) return -1;
        *(float *)p = (float)d;
        break;
    case O_OPTIM: s = nt_optim_kind_parse(v, (nt_optim_kind *)p); break;
    case O_SCHED: s = nt_sched_kind_parse(v, (nt_sched_kind *)p); break;
    case O_METRIC: s = nt_metric_parse(v, (nt_metric *)p); break;
    case O_PROGRESS:
        if (strcmp(v, "auto") == 0) *(int *)p = -1;
        else if (strcmp(v, "bar") == 0) *(int *)p = 1;
        else if (strcmp(v, "lines") == 0) *(int *)p = 0;
        else if (strcmp(v, "off") == 0) *(int *)p = -2;
        else {
            fprintf(stderr, "nextok-translate: --progress: unknown value \"%s\" (expected auto, bar, lines or off)\n", v);
            return -1;
        }
        break;
    case O_STR:
        if (strlen(v) >= NT_TRAINER_PATH_MAX) {
            fprintf(stderr, "nextok-translate: %s: value too long\n", a);
            return -1;
        }
        memcpy(p, v, strlen(v) + 1);
        break;
    case O_FLAG: break;
    }
    if (s != NT_OK) {
        fprintf(stderr, "nextok-translate: %s: %s\n", a, nt_errmsg());
        return -1;
    }
    if (strcmp(a, "--steps") == 0) seen->steps = 1;
    if (strcmp(a, "--minutes") == 0) seen->minutes = 1;
    if (strcmp(a, "--warmup") == 0) seen->warmup = 1;
    return 1;
}

void cli_budget_apply(nt_trainer_config *tc, const cli_budget_seen *seen) {
    if (seen->minutes && !seen->steps) tc->steps = 0;
    if (seen->steps && !seen->minutes) tc->minutes = 0;
    if (!seen->warmup && tc->steps > 0 && tc->warmup >= tc->steps) tc->warmup = tc->steps / 10;
}

void cli_trainer_usage(FILE *out) {
    fprintf(out, "trainer options:\n");
    for (int k = 0; k < N_TRAINER_OPTS; k++) {
        const trainer_opt *o = &TRAINER_OPTS[k];
        const char *arg = o->kind == O_FLAG ? "" : o->kind == O_DBL || o->kind == O_FLT ? " X"
                                                   : o->kind == O_STR                    ? " LIST"
                                                   : o->kind >= O_OPTIM                  ? " NAME"
                                                                                         : " N";
        char left[48];
        snprintf(left, sizeof left, "%s%s", o->flag, arg);
        fprintf(out, "  %-24s %s\n", left, o->help);
    }
}

int cli_preset(const char *name, nt_model_config *mc) {
    nt_model_config c = nt_model_config_default();
    c.arch = NT_ARCH_ENCDEC;
    c.max_len = 64;
    if (strcmp(name, "tiny") == 0) {
        c.d_model = 32, c.heads = 2, c.enc_layers = 1, c.dec_layers = 1;
    } else if (strcmp(name, "small") == 0) {
        c.d_model = 128, c.heads = 4, c.enc_layers = 2, c.dec_layers = 2;
    } else if (strcmp(name, "base") == 0) {
        c.d_model = 256, c.heads = 8, c.enc_layers = 3, c.dec_layers = 3;
        c.max_len = 128;
    } else {
        fprintf(stderr, "nextok-translate: --preset: unknown preset \"%s\" (expected tiny, small or base)\n", name);
        return 0;
    }
    *mc = c;
    return 1;
}

void cli_threads(int n) {
    if (n > 0) nt_threads_set(n);
}

/* ---- corpora ------------------------------------------------------------------ */

void cli_pairs_free(cli_pairs *p) {
    if (!p) return;
    for (int i = 0; i < p->n_tables; i++) nt_tsv_free(p->tables[i]);
    nt_free(p->tables);
    nt_free(p->src);
    nt_free(p->tgt);
    memset(p, 0, sizeof *p);
}

nt_status cli_pairs_read(cli_pairs *out, const char *paths) {
    memset(out, 0, sizeof *out);
    char buf[NT_TRAINER_PATH_MAX];
    if (!paths || !*paths || strlen(paths) >= sizeof buf) return nt_error(NT_ERR_ARG, "bad file list \"%s\"", paths ? paths : "");
    snprintf(buf, sizeof buf, "%s", paths);
    int n_files = 1;
    for (const char *c = buf; *c; c++) n_files += *c == ',';
    out->tables = nt_calloc((size_t)n_files, sizeof *out->tables);
    int *repeat = nt_calloc((size_t)n_files, sizeof *repeat);
    if (!out->tables || !repeat) {
        nt_free(repeat);
        cli_pairs_free(out);
        return nt_error(NT_ERR_NOMEM, "out of memory");
    }
    nt_status s = NT_OK;
    int64_t total = 0;
    char *save = NULL;
    for (char *f = strtok_r(buf, ",", &save); f && s == NT_OK; f = strtok_r(NULL, ",", &save)) {
        /* "FILE*K": the file's pairs K times (upsampling) */
        int k = 1;
        char *star = strrchr(f, '*');
        if (star) {
            char *end;
            long v = strtol(star + 1, &end, 10);
            if (end == star + 1 || *end || v < 1 || v > 100000) {
                s = nt_error(NT_ERR_ARG, "\"%s\": the repeat count after '*' must be an integer in 1..100000", f);
                break;
            }
            *star = 0;
            k = (int)v;
        }
        s = nt_tsv_read(&out->tables[out->n_tables], f, NULL);
        if (s == NT_OK) {
            total += (int64_t)k * out->tables[out->n_tables]->n;
            repeat[out->n_tables++] = k;
        }
    }
    if (s == NT_OK && total > 0x7fffffff) s = nt_error(NT_ERR_ARG, "%s: too many pairs (%lld)", paths, (long long)total);
    if (s == NT_OK) {
        out->src = nt_malloc((size_t)(total ? total : 1) * sizeof *out->src);
        out->tgt = nt_malloc((size_t)(total ? total : 1) * sizeof *out->tgt);
        if (!out->src || !out->tgt) s = nt_error(NT_ERR_NOMEM, "out of memory for %lld pairs", (long long)total);
    }
    if (s == NT_OK) {
        for (int t = 0; t < out->n_tables; t++)
            for (int r = 0; r < repeat[t]; r++)
                for (int i = 0; i < out->tables[t]->n; i++) {
                    out->src[out->n] = out->tables[t]->src[i];
                    out->tgt[out->n++] = out->tables[t]->tgt[i];
                }
        if (out->n == 0) s = nt_error(NT_ERR_FORMAT, "%s holds no pairs", paths);
    }
    nt_free(repeat);
    if (s != NT_OK) cli_pairs_free(out);
    return s;
}

typedef struct word_set {
    char **keys;
    int n, cap; /* open addressing, cap a power of two */
    int oom;
} word_set;

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

static void word_set_add(const char *piece, size_t len, void *user) {
    word_set *w = user;
    if (w->oom || w->n > CLI_AUTO_WORD_MAX) return;
    uint64_t h = hash_bytes(piece, len);
    for (int k = 0;; k++) {
        char **slot = &w->keys[(h + (uint64_t)k) & (uint64_t)(w->cap - 1)];
        if (!*slot) {
            *slot = nt_malloc(len + 1);
            if (!*slot) {
                w->oom = 1;
                return;
            }
            memcpy(*slot, piece, len);
            (*slot)[len] = 0;
            w->n++;
            return;
        }
        if (strlen(*slot) == len && memcmp(*slot, piece, len) == 0) return;
    }
}

nt_status cli_tokenizer_choose(const char *name, const cli_pairs *p, nt_tokenizer_kind *out) {
    if (strcmp(name, "auto") != 0) return nt_tokenizer_kind_parse(name, out);
    word_set w = {0};
    w.cap = 4096; /* > 2 * CLI_AUTO_WORD_MAX: the table never fills */
    w.keys = nt_calloc((size_t)w.cap, sizeof *w.keys);
    if (!w.keys) return nt_error(NT_ERR_NOMEM, "out of memory");
    nt_status s = NT_OK;
    for (int i = 0; i < p->n && s == NT_OK && w.n <= CLI_AUTO_WORD_MAX; i++) {
        s = nt_tokenizer_split(NT_TOKENIZER_WORD, p->src[i], word_set_add, &w);
        if (s == NT_OK) s = nt_tokenizer_split(NT_TOKENIZER_WORD, p->tgt[i], word_set_add, &w);
        if (s != NT_OK) s = NT_OK, w.n = CLI_AUTO_WORD_MAX + 1; /* not word-tokenizable: chars */
    }
    if (w.oom) s = nt_error(NT_ERR_NOMEM, "out of memory");
    *out = w.n > CLI_AUTO_WORD_MAX ? NT_TOKENIZER_CHAR : NT_TOKENIZER_WORD;
    for (int i = 0; i < w.cap; i++) nt_free(w.keys[i]);
    nt_free(w.keys);
    return s;
}

nt_status cli_corpus(nt_corpus **out, const cli_pairs *p, const nt_vocab *v, const char *what) {
    NT_TRY(nt_corpus_from_pairs(out, p->src, p->tgt, p->n, v));
    if ((*out)->n_unk > 0)
        fprintf(stderr, "nextok-translate: note: %s has %lld tokens that are not in the vocabulary (read as <unk>)\n",
                what, (long long)(*out)->n_unk);
    return NT_OK;
}

/* ---- translation ---------------------------------------------------------------- */

nt_status cli_translator_open(cli_translator *t, const char *ckpt) {
    memset(t, 0, sizeof *t);
    NT_TRY(nt_ckpt_load(ckpt, &t->model, &t->vocab));
    nt_status s = nt_ctx_new(&t->ctx, 0);
    if (s != NT_OK) {
        nt_model_free(t->model), nt_vocab_free(t->vocab);
        memset(t, 0, sizeof *t);
        return s;
    }
    t->model->cfg.dropout = 0;
    t->gen = nt_generate_config_default();
    t->gen.max_new_tokens = t->model->cfg.max_len;
    t->batch = 32;
    return NT_OK;
}

void cli_translator_close(cli_translator *t) {
    if (!t) return;
    nt_ctx_free(t->ctx);
    nt_model_free(t->model);
    nt_vocab_free(t->vocab);
    memset(t, 0, sizeof *t);
}

void cli_hyps_free(cli_hyp *hyps, int n) {
    for (int i = 0; i < n; i++) {
        cli_hyp *h = &hyps[i];
        for (int k = 0; k < h->n; k++) nt_free(h->text[k]);
        for (int k = 0; k < h->n_src_tokens; k++) nt_free(h->src_tokens[k]);
        for (int k = 0; k < h->n_out_tokens; k++) nt_free(h->out_tokens[k]);
        nt_free(h->text), nt_free(h->score), nt_free(h->src_tokens), nt_free(h->out_tokens), nt_free(h->attn);
        memset(h, 0, sizeof *h);
    }
}

static char *str_dup(const char *s) {
    size_t n = strlen(s);
    char *d = nt_malloc(n + 1);
    if (d) memcpy(d, s, n + 1);
    return d;
}

/* ids -> text (specials skipped). */
static nt_status decode_text(const nt_vocab *v, const int32_t *ids, int n, char **out) {
    size_t cap = 1;
    for (int i = 0; i < n; i++) {
        const char *tok = nt_vocab_token(v, ids[i]);
        cap += tok ? strlen(tok) + 1 : 8;
    }
    *out = nt_malloc(cap);
    if (!*out) return nt_error(NT_ERR_NOMEM, "out of memory");
    nt_status s = nt_vocab_decode(v, ids, n, *out, cap);
    if (s != NT_OK) nt_free(*out), *out = NULL;
    return s;
}

/* The token strings of ids, plus "<eos>" when with_eos. */
static nt_status token_strings(const nt_vocab *v, const int32_t *ids, int n, int with_eos, char ***out, int *n_out) {
    int m = n + (with_eos ? 1 : 0);
    char **t = nt_calloc((size_t)(m ? m : 1), sizeof *t);
    if (!t) return nt_error(NT_ERR_NOMEM, "out of memory");
    for (int i = 0; i < m; i++) {
        const char *s = i < n ? nt_vocab_token(v, ids[i]) : "<eos>";
        t[i] = str_dup(s ? s : "?");
        if (!t[i]) {
            for (int j = 0; j < i; j++) nt_free(t[j]);
            nt_free(t);
            return nt_error(NT_ERR_NOMEM, "out of memory");
        }
    }
    *out = t, *n_out = m;
    return NT_OK;
}

nt_status cli_translate(cli_translator *t, const char *const *lines, int n, cli_hyp *hyps, int line0, int verbose) {
    const nt_model_config *mc = &t->model->cfg;
    /* room for the source: encoder `src <eos>`; decoder prompt `<bos> src <sep>` and one output token */
    const int max_src = mc->arch == NT_ARCH_ENCDEC ? mc->max_len - 1 : mc->max_len - 3;
    const int B = t->batch > 0 ? t->batch : 32;
    int32_t *ids = nt_malloc((size_t)B * (size_t)(max_src > 0 ? max_src : 1) * sizeof *ids);
    const int32_t **src = nt_malloc((size_t)B * sizeof *src);
    int *len = nt_malloc((size_t)B * sizeof *len), *which = nt_malloc((size_t)B * sizeof *which);
    nt_status s = ids && src && len && which ? NT_OK : nt_error(NT_ERR_NOMEM, "out of memory");
    const int K = t->gen.num_return_sequences > 0 ? t->gen.num_return_sequences : 1;
    memset(hyps, 0, (size_t)n * sizeof *hyps);
    for (int i0 = 0; i0 < n && s == NT_OK;) {
        /* gather up to B accepted lines */
        int m = 0;
        for (; i0 < n && m < B; i0++) {
            const char *line = lines[i0];
            cli_hyp *h = &hyps[i0];
            size_t bytes = strlen(line), bad;
            int cnt = 0;
            if (bytes == 0) continue;
            if (!nt_utf8_valid(line, bytes, &bad)) {
                snprintf(h->error, sizeof h->error, "invalid UTF-8 at byte %zu", bad + 1);
            } else if (bytes > (size_t)64 * (size_t)mc->max_len) {
                snprintf(h->error, sizeof h->error, "too long (%zu bytes; this model reads at most %d tokens)", bytes,
                         max_src);
            } else if (nt_vocab_encode(t->vocab, line, NULL, 0, &cnt) != NT_OK) {
                snprintf(h->error, sizeof h->error, "cannot be tokenized: %s", nt_errmsg());
            } else if (cnt > max_src) {
                snprintf(h->error, sizeof h->error, "too long (%d tokens; this model reads at most %d)", cnt, max_src);
            } else {
                int32_t *dst = ids + (size_t)m * (size_t)max_src;
                s = nt_vocab_encode(t->vocab, line, dst, max_src, &cnt);
                if (s != NT_OK) break;
                int unk = 0;
                for (int k = 0; k < cnt; k++) unk += dst[k] == NT_TOK_UNK;
                if (unk && verbose)
                    fprintf(stderr, "nextok-translate: line %d: %d token%s not in the vocabulary (read as <unk>)\n",
                            line0 + i0, unk, unk == 1 ? "" : "s");
                src[m] = dst, len[m] = cnt, which[m] = i0;
                m++;
                continue;
            }
            if (verbose) fprintf(stderr, "nextok-translate: line %d: %s; output left empty\n", line0 + i0, h->error);
        }
        if (s != NT_OK || m == 0) continue;
        nt_generate_config g = t->gen;
        g.num_return_sequences = K;
        if (mc->arch != NT_ARCH_ENCDEC) g.output_attentions = 0;
        nt_generate_result res;
        s = nt_generate(&t->model->net, t->ctx, &g, src, len, m, &res);
        if (s != NT_OK) break;
        for (int j = 0; j < m && s == NT_OK; j++) {
            cli_hyp *h = &hyps[which[j]];
            h->text = nt_calloc((size_t)K, sizeof *h->text);
            h->score = nt_calloc((size_t)K, sizeof *h->score);
            if (!h->text || !h->score) {
                s = nt_error(NT_ERR_NOMEM, "out of memory");
                break;
            }
            for (int k = 0; k < K && s == NT_OK; k++) {
                const nt_generate_seq *q = nt_generate_result_get(&res, j, k);
                s = decode_text(t->vocab, q->tokens, q->len, &h->text[k]);
                if (s == NT_OK) h->score[k] = q->score_norm, h->n = k + 1;
            }
            const nt_generate_seq *q = nt_generate_result_get(&res, j, 0);
            if (s == NT_OK && q->attn && q->attn_cols == len[j] + 1 && q->attn_rows == q->len + q->finished) {
                s = token_strings(t->vocab, src[j], len[j], 1, &h->src_tokens, &h->n_src_tokens);
                if (s == NT_OK) s = token_strings(t->vocab, q->tokens, q->len, q->finished, &h->out_tokens, &h->n_out_tokens);
                size_t nw = (size_t)q->attn_rows * (size_t)q->attn_cols;
                if (s == NT_OK && (h->attn = nt_malloc(nw * sizeof *h->attn)) == NULL)
                    s = nt_error(NT_ERR_NOMEM, "out of memory");
                if (s == NT_OK) memcpy(h->attn, q->attn, nw * sizeof *h->attn);
            }
        }
        nt_generate_result_free(&res);
    }
    nt_free(ids), nt_free(src), nt_free(len), nt_free(which);
    if (s != NT_OK) cli_hyps_free(hyps, n);
    return s;
}

/* ---- checkpoints ---------------------------------------------------------------- */

int cli_ckpt_train_state(const char *path, nt_train_state *ts) {
    hid_t f;
    if (nt_ckpt_open(path, &f) != NT_OK) return -1;
    htri_t has = H5Lexists(f, "train", H5P_DEFAULT);
    int r = 0;
    if (has > 0) r = nt_ckpt_read_train(f, path, ts) == NT_OK ? 1 : -1;
    H5Fclose(f);
    return r;
}

/* ---- report -------------------------------------------------------------------- */

static void fmt_seconds(char *buf, size_t n, double s) {
    if (s < 60) snprintf(buf, n, "%.1f s", s);
    else if (s < 3600) snprintf(buf, n, "%d min %02d s", (int)s / 60, (int)s % 60);
    else snprintf(buf, n, "%d h %02d min", (int)(s / 3600), ((int)s % 3600) / 60);
}

nt_status cli_report_write(const char *run_dir, const char *ckpt, const char *samples_tsv, int n_samples,
                           char *written, size_t cap) {
    char report[NT_TRAINER_PATH_MAX + 32], metrics[NT_TRAINER_PATH_MAX + 32];
    snprintf(report, sizeof report, "%s/report.html", run_dir);
    snprintf(metrics, sizeof metrics, "%s/metrics.jsonl", run_dir);
    FILE *mf = fopen(metrics, "rb");
    if (mf) fclose(mf);
    cli_translator tr;
    NT_TRY(cli_translator_open(&tr, ckpt));
    nt_train_state *ts = nt_malloc(sizeof *ts);
    if (!ts) {
        cli_translator_close(&tr);
        return nt_error(NT_ERR_NOMEM, "out of memory");
    }
    int has_train = cli_ckpt_train_state(ckpt, ts);
    nt_trainer_config tc = nt_trainer_config_default();
    if (has_train == 1 && ts->options[0]) nt_trainer_config_from_json(&tc, ts->options);

    /* summary */
    enum { MAXKV = 16 };
    static char vals[MAXKV][NT_TRAINER_PATH_MAX + 64];
    nt_report_kv kv[MAXKV];
    int nk = 0;
    const nt_model_config *mc = &tr.model->cfg;
#define KV(k, ...) (snprintf(vals[nk], sizeof vals[nk], __VA_ARGS__), kv[nk].key = (k), kv[nk].value = vals[nk], nk++)
    KV("model", "%s, d_model %d, %d heads, %d+%d layers, max_len %d", mc->arch == NT_ARCH_ENCDEC ? "encoder-decoder" : "decoder-only",
       mc->d_model, mc->heads, mc->enc_layers, mc->dec_layers, mc->max_len);
    KV("parameters", "%lld", (long long)nt_model_num_params(tr.model));
    KV("vocabulary", "%d tokens (%s)", nt_vocab_size(tr.vocab), nt_tokenizer_kind_name(nt_vocab_kind(tr.vocab)));
    KV("checkpoint", "%s", ckpt);
    if (has_train == 1) {
        char t[64];
        fmt_seconds(t, sizeof t, ts->seconds);
        KV("training", "%lld updates, %lld tokens (source + target), %s", (long long)ts->step, (long long)ts->tokens, t);
        if (isfinite(ts->best_metric))
            KV("best validation", "%s %.6g at step %lld", nt_metric_name(tc.metric),
               tc.metric == NT_METRIC_TOKEN_ACC || tc.metric == NT_METRIC_EXACT_MATCH ? 100 * ts->best_metric : ts->best_metric,
               (long long)ts->best_step);
        if (tc.train_path[0]) KV("training data", "%s", tc.train_path);
        if (tc.valid_path[0]) KV("validation data", "%s", tc.valid_path);
        KV("optimizer", "%s, lr %g, %s schedule, warmup %lld, label smoothing %g, dropout %g",
           nt_optim_kind_name(tc.optim), tc.lr, nt_sched_kind_name(tc.schedule), (long long)tc.warmup,
           (double)tc.label_smoothing, (double)tc.dropout);
    }
    nt_free(ts);

    /* heatmaps of sample translations */
    nt_report_heatmap hm[8];
    char titles[8][512];
    int nh = 0;
    cli_hyp hyps[8];
    int n_hyps = 0;
    nt_status s = NT_OK;
    if (n_samples > 8) n_samples = 8;
    if (samples_tsv && samples_tsv[0] && n_samples > 0 && mc->arch == NT_ARCH_ENCDEC) {
        nt_tsv *tsv = NULL;
        if (nt_tsv_read(&tsv, samples_tsv, NULL) != NT_OK) {
            fprintf(stderr, "nextok-translate: note: no attention heatmaps in the report: %s\n", nt_errmsg());
        } else {
            const char *lines[8] = {0};
            n_hyps = tsv->n < n_samples ? tsv->n : n_samples;
            /* spread the samples over the file: short and long sources alike */
            for (int i = 0; i < n_hyps; i++) lines[i] = tsv->src[(int64_t)i * tsv->n / n_hyps];
            tr.gen.output_attentions = 1;
            s = cli_translate(&tr, lines, n_hyps, hyps, 1, 0);
            if (s != NT_OK) n_hyps = 0;
            for (int i = 0; i < n_hyps; i++) {
                if (hyps[i].n == 0 || !hyps[i].attn) continue;
                snprintf(titles[nh], sizeof titles[nh], "%s \xe2\x86\x92 %s", lines[i], hyps[i].text[0]);
                hm[nh].title = titles[nh];
                hm[nh].src = (const char *const *)hyps[i].src_tokens;
                hm[nh].S = hyps[i].n_src_tokens;
                hm[nh].out = (const char *const *)hyps[i].out_tokens;
                hm[nh].T = hyps[i].n_out_tokens;
                hm[nh].weights = hyps[i].attn;
                nh++;
            }
            nt_tsv_free(tsv);
        }
    }
    if (s == NT_OK) {
        nt_report_info info = {"nextok-translate training report", kv, nk, hm, nh};
        s = nt_report_write(report, mf ? metrics : NULL, &info);
    }
    cli_hyps_free(hyps, n_hyps);
    cli_translator_close(&tr);
    if (s == NT_OK && written) snprintf(written, cap, "%s", report);
    return s;
#undef KV
}
