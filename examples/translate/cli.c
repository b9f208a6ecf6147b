/* cli.c - shared parts of the nextok-translate subcommands: options, presets,
 * corpora, batched translation of untrusted lines, the run report. */
#include "cli.h"

#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/omp_policy.h"
#include "commands.h"
#include "core/alloc.h"
#include "core/parallel.h"
#include "core/strset.h"
#include "data/numbers.h"
#include "data/tsv.h"
#include "train/checkpoint.h"
#include "eval/report.h"

/* ---- options ------------------------------------------------------------------ */

#define G(f) ((void *)&g->f)
void cli_generate_opts(nt_opt out[CLI_GENERATE_NOPTS], nt_generate_config *g) {
    const nt_opt t[] = {
        {"--num-beams", NT_OPT_INT, G(num_beams), 1, 1024, .small = 1, .arg = "K", .help = "beam search with K beams, 1 = greedy"},
        {"--length-penalty", NT_OPT_FLOAT, G(length_penalty), -100, 100, .arg = "A",
         .help = "beam ranking: log-probability / length^A"},
        {"--max-new-tokens", NT_OPT_INT, G(max_new_tokens), 1, 1 << 20, .small = 1, .def = "the model's max_len",
         .help = "output length limit in tokens"},
        {"--do-sample", NT_OPT_FLAG, G(do_sample), .help = "draw tokens from the distribution instead"},
        {"--temperature", NT_OPT_FLOAT, G(temperature), 1e-6, 1e6, .arg = "T", .help = "sampling temperature"},
        {"--top-k", NT_OPT_INT, G(top_k), 0, 1 << 30, .small = 1, .arg = "K",
         .help = "sample among the K most likely tokens, 0 = all"},
        {"--top-p", NT_OPT_FLOAT, G(top_p), 1e-9, 1, .arg = "P", .help = "nucleus sampling, 1 = off"},
        {"--seed", NT_OPT_U64, G(seed), .help = "sampling seed"},
        {"--repetition-penalty", NT_OPT_FLOAT, G(repetition_penalty), 1e-6, 1e6, .arg = "R", .help = "1 = off"},
        {"--no-repeat-ngram-size", NT_OPT_INT, G(no_repeat_ngram_size), 0, 1 << 20, .small = 1, .help = "0 = off"},
        {0}};
    _Static_assert(sizeof t / sizeof *t == CLI_GENERATE_NOPTS, "CLI_GENERATE_NOPTS");
    memcpy(out, t, sizeof t);
}
#undef G

int cli_generate_check(const nt_opts *cmd, const nt_generate_config *g) {
    nt_generate_config probe = *g;
    if (!nt_opts_given(cmd, "--max-new-tokens")) probe.max_new_tokens = 1;
    if (nt_generate_config_check(&probe) != NT_OK) return nt_opts_usage_error(cmd, "%s", cli_errmsg());
    return -1;
}

static const char *const PRESETS = "tiny|small|base";
const char *cli_preset_choices(void) { return PRESETS; }

void cli_preset(int which, nt_model_config *mc) {
    nt_model_config c = nt_model_config_default();
    c.arch = NT_ARCH_ENCDEC;
    c.max_len = 64;
    if (which == CLI_PRESET_TINY) {
        c.d_model = 32, c.heads = 2, c.enc_layers = 1, c.dec_layers = 1;
    } else if (which == CLI_PRESET_SMALL) {
        c.d_model = 128, c.heads = 4, c.enc_layers = 2, c.dec_layers = 2;
    } else {
        c.d_model = 256, c.heads = 8, c.enc_layers = 3, c.dec_layers = 3;
        c.max_len = 128;
    }
    *mc = c;
}

void cli_threads(long n) {
    if (n > 0) nt_threads_set((int)n);
}

const char *cli_omp_policy_help(void) { return ex_omp_policy_help("nextok-translate"); }

const char *cli_errmsg(void) {
    /* "nt_trainer_new: nt_batcher_new: batch_tokens 3 ..." -> "batch_tokens 3 ...": the
     * library's messages start with the functions they passed through; a user
     * of the CLI knows none of them. */
    const char *m = nt_errmsg();
    for (;;) {
        const char *c = strstr(m, ": ");
        if (strncmp(m, "nt_", 3) != 0 || !c) break;
        int word = 1;
        for (const char *p = m; p < c; p++) word &= (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
        if (!word) break;
        m = c + 2;
    }
    return m;
}

/* ---- corpora ------------------------------------------------------------------ */

void cli_tsv_notes(const nt_tsv *t) {
    if (t->bom) fprintf(stderr, "nextok-translate: note: %s: the UTF-8 byte-order mark at its start was dropped\n", t->path);
    if (t->n_trimmed)
        fprintf(stderr, "nextok-translate: note: %s: spaces around a field trimmed on %d line%s (the first: line %d)\n",
                t->path, t->n_trimmed, t->n_trimmed == 1 ? "" : "s", t->first_trimmed);
}

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
            cli_tsv_notes(out->tables[out->n_tables]);
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

nt_status cli_tokenizer_choose(const char *name, const cli_pairs *p, nt_tokenizer_kind *out) {
    if (strcmp(name, "auto") != 0) return nt_tokenizer_kind_parse(name, out);
    nt_strset words = {0};
    nt_status s = NT_OK;
    int chars = 0;
    for (int i = 0; i < p->n && s == NT_OK && !chars; i++) {
        s = nt_tokenizer_collect(NT_TOKENIZER_WORD, p->src[i], &words);
        if (s == NT_OK) s = nt_tokenizer_collect(NT_TOKENIZER_WORD, p->tgt[i], &words);
        if (s != NT_OK && s != NT_ERR_NOMEM) s = NT_OK, chars = 1; /* not word-tokenizable */
        chars |= words.n > CLI_AUTO_WORD_MAX;
    }
    if (s == NT_ERR_NOMEM) s = nt_error(NT_ERR_NOMEM, "out of memory");
    *out = chars ? NT_TOKENIZER_CHAR : NT_TOKENIZER_WORD;
    nt_strset_free(&words);
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
    t->numbers = nt_numbers_vocab(t->vocab);
    t->normalize = t->numbers;
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
        nt_free(h->text), nt_free(h->score), nt_free(h->finished), nt_free(h->src_tokens), nt_free(h->out_tokens), nt_free(h->attn);
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

/* The normalised text of a number-model input (data/numbers.h) in buf, or
 * the line itself when it is too long to be a number; NULL on failure. */
static const char *normalized(const char *line, char *buf, size_t cap) {
    if (strlen(line) >= cap) return line;
    return nt_numbers_normalize(line, buf, cap, NULL) == NT_OK ? buf : NULL;
}

/* The tokens of text that v lacks (the first six), quoted and comma-separated, into out. */
static void unknown_tokens(const nt_vocab *v, const char *text, char *out, size_t cap) {
    nt_strset unk = {0};
    size_t len = 0;
    out[0] = 0;
    nt_vocab_collect_unknown(v, text, &unk);
    for (int i = 0; i < unk.n && i <= 6 && len < cap; i++) {
        /* show the word as typed: the word tokenizer's ▁ (U+2581) is a space */
        const char *tok = unk.items[i];
        const char *shown = strncmp(tok, "\xE2\x96\x81", 3) == 0 ? (tok[3] ? tok + 3 : "(a space)") : tok;
        int k = i < 6 ? snprintf(out + len, cap - len, "%s\"%.60s\"", i ? ", " : "", shown)
                      : snprintf(out + len, cap - len, ", ...");
        len += k > 0 ? (size_t)k : 0;
    }
    if (len >= cap && cap > 4) memcpy(out + cap - 4, "...", 4);
    nt_strset_free(&unk);
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
            char norm[1024];
            size_t bytes = strlen(line), bad;
            int cnt = 0;
            if (bytes == 0) continue;
            if (!nt_utf8_valid(line, bytes, &bad)) {
                snprintf(h->error, sizeof h->error, "invalid UTF-8 at byte %zu", bad + 1);
            } else if (bytes > (size_t)64 * (size_t)mc->max_len) {
                snprintf(h->error, sizeof h->error, "too long (%zu bytes; this model reads at most %d tokens)", bytes,
                         max_src);
            } else if (t->normalize && (line = normalized(line, norm, sizeof norm)) == NULL) {
                snprintf(h->error, sizeof h->error, "cannot be normalised: %s", cli_errmsg());
            } else if (nt_vocab_encode_src(t->vocab, line, NULL, 0, &cnt) != NT_OK) {
                snprintf(h->error, sizeof h->error, "cannot be tokenized: %s", cli_errmsg());
            } else if (cnt > max_src) {
                snprintf(h->error, sizeof h->error, "too long (%d tokens; this model reads at most %d)", cnt, max_src);
            } else {
                int32_t *dst = ids + (size_t)m * (size_t)max_src;
                s = nt_vocab_encode_src(t->vocab, line, dst, max_src, &cnt);
                if (s != NT_OK) break;
                int unk = 0;
                for (int k = 0; k < cnt; k++) unk += dst[k] == NT_TOK_UNK;
                if (unk) {
                    char names[160];
                    unknown_tokens(t->vocab, line, names, sizeof names);
                    if (t->numbers) { /* a number model would translate <unk> confidently: refuse */
                        snprintf(h->error, sizeof h->error, "not in the vocabulary: %s", names);
                        if (verbose)
                            fprintf(stderr, "nextok-translate: line %d: %s; output left empty\n", line0 + i0, h->error);
                        continue;
                    }
                    if (verbose)
                        fprintf(stderr, "nextok-translate: line %d: not in the vocabulary (read as <unk>): %s\n",
                                line0 + i0, names);
                }
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
        s = nt_generate(&t->model->net, t->ctx, &res, &g, src, len, m);
        if (s != NT_OK) break;
        for (int j = 0; j < m && s == NT_OK; j++) {
            cli_hyp *h = &hyps[which[j]];
            h->text = nt_calloc((size_t)K, sizeof *h->text);
            h->score = nt_calloc((size_t)K, sizeof *h->score);
            h->finished = nt_calloc((size_t)K, sizeof *h->finished);
            if (!h->text || !h->score || !h->finished) {
                s = nt_error(NT_ERR_NOMEM, "out of memory");
                break;
            }
            for (int k = 0; k < K && s == NT_OK; k++) {
                const nt_generate_seq *q = nt_generate_result_get(&res, j, k);
                s = decode_text(t->vocab, q->tokens, q->len, &h->text[k]);
                if (s == NT_OK) h->score[k] = q->score_norm, h->finished[k] = q->finished, h->n = k + 1;
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
            KV("best validation", "%s %.6g%s at step %lld (the checkpoint the samples below come from)",
               nt_trainer_metric_name(tc.metric),
               tc.metric == NT_TRAINER_METRIC_TOKEN_ACC || tc.metric == NT_TRAINER_METRIC_EXACT_MATCH ? 100 * ts->best_metric : ts->best_metric,
               tc.metric == NT_TRAINER_METRIC_TOKEN_ACC || tc.metric == NT_TRAINER_METRIC_EXACT_MATCH ? "%" : "",
               (long long)ts->best_step);
        if (tc.train_path[0]) KV("training data", "%s", tc.train_path);
        if (tc.valid_path[0]) KV("validation data", "%s", tc.valid_path);
        KV("optimizer", "%s, lr %g, %s schedule, warmup %lld, label smoothing %g, dropout %g",
           nt_optim_kind_name(tc.optim), tc.lr, nt_schedule_kind_name(tc.schedule), (long long)tc.warmup,
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
            fprintf(stderr, "nextok-translate: note: no attention heatmaps in the report: %s\n", cli_errmsg());
        } else {
            const char *lines[8] = {0}, *refs[8] = {0};
            n_hyps = tsv->n < n_samples ? tsv->n : n_samples;
            /* spread the samples over the file: short and long sources alike */
            for (int i = 0; i < n_hyps; i++)
                lines[i] = tsv->src[(int64_t)i * tsv->n / n_hyps], refs[i] = tsv->tgt[(int64_t)i * tsv->n / n_hyps];
            tr.gen.output_attentions = 1;
            s = cli_translate(&tr, lines, n_hyps, hyps, 1, 0);
            if (s != NT_OK) n_hyps = 0;
            for (int i = 0; i < n_hyps; i++) {
                if (hyps[i].n == 0 || !hyps[i].attn) continue;
                int same = strcmp(hyps[i].text[0], refs[i]) == 0;
                snprintf(titles[nh], sizeof titles[nh], "%s \xe2\x86\x92 %s    (reference: %s %s)", lines[i],
                         hyps[i].text[0], refs[i], same ? "\xe2\x9c\x93 same" : "\xe2\x9c\x97 differs");
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
