/* generate_model.c - the model as a generation stepper (KV cache or full
 * recompute, padded batches) and nt_generate.
 *
 * Letters: N sources, R live rows, S padded encoder input (source + <eos>),
 * P padded decoder-only prompt (<bos> source <sep>), D width, V vocab.
 *
 * Cached step t: t = 0 feeds <bos> (encdec; the cross K/V are computed from
 * the encoder output once) or the whole left-padded prompt (decoder-only,
 * per-row positions, pads masked); t > 0 feeds only token t-1 of every row.
 * Uncached step t: the full decoder forward over <bos>/prompt + the t tokens.
 */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "nn/generate.h"
#include "nn/infer.h"

typedef struct mstep {
    nt_generate_stepper pub;
    nt_model *m;
    nt_ctx *ctx;
    int encdec, use_cache, record, grad_was, training_was;
    int N, R, rows_cap, L;   /* L: most tokens any source may generate */
    int *row_src, *tmp;      /* (rows_cap) source of each row */
    int *limits;             /* (N) */
    nt_kv_cache *cache;
    /* encdec */
    int S;
    int32_t *src, *src_mask; /* (N, S) padded ids and key mask */
    nt_tensor *mem_t;        /* cached path: the encoder output in ctx, until step 0 */
    float *mem;              /* uncached path: (N, S, D) kept across ctx resets */
    /* decoder-only */
    int P;
    int32_t *prompt, *prompt_mask, *prompt_pos; /* (N, P) left-padded */
    int *plen;               /* (N) */
} mstep;

void nt_generate_stepper_free(nt_generate_stepper *st) {
    if (st && st->free) st->free(st);
}

static void mstep_free(nt_generate_stepper *st) {
    mstep *s = (mstep *)st;
    if (s->ctx) {
        nt_ctx_set_grad(s->ctx, s->grad_was);
        nt_ctx_set_training(s->ctx, s->training_was);
    }
    if (s->m && s->record) nt_model_set_record_attention(s->m, 0);
    nt_kv_cache_free(s->cache);
    void *bufs[] = {s->row_src, s->tmp, s->limits, s->src, s->src_mask, s->mem,
                    s->prompt, s->prompt_mask, s->prompt_pos, s->plen};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) nt_free(bufs[i]);
    nt_free(s);
}

/* Copies the last position of logits (R, T, V) into out (R, V). */
static void last_logits(float *out, const nt_tensor *lg) {
    int R = lg->shape[0], T = lg->shape[1], V = lg->shape[2];
    for (int r = 0; r < R; r++)
        memcpy(out + (size_t)r * V, nt_f32(lg) + ((size_t)r * T + T - 1) * V, (size_t)V * sizeof *out);
}

static nt_status last_attention(mstep *s, float *attn, int R) {
    nt_tensor *w;
    NT_TRY(nt_model_cross_attention(s->m, s->ctx, &w, -1));   // (R, T, S)
    int T = w->shape[1], S = w->shape[2];
    if (S != s->S) return nt_error(NT_ERR_STATE, "nt_generate: attention over %d keys, expected %d", S, s->S);
    for (int r = 0; r < R; r++)
        memcpy(attn + (size_t)r * S, nt_f32(w) + ((size_t)r * T + T - 1) * S, (size_t)S * sizeof *attn);
    return NT_OK;
}

static nt_status step_cached(mstep *s, float *logits, float *attn, const int32_t *tokens,
                             int stride, int R, int t) {
    nt_ctx *ctx = s->ctx;
    nt_model *m = s->m;
    nt_kv_cache *c = s->cache;
    nt_tensor *tgt, *pos = NULL, *mask = NULL, *lg;
    if (t == 0) {
        /* the ctx still holds the encoder output: no reset */
        for (int r = 0; r < R; r++)
            if (s->row_src[r] != r || R != s->N)
                return nt_error(NT_ERR_STATE, "nt_generate: step 0 must see one row per source");
        nt_kv_cache_clear(c);
        for (int r = 0; r < R; r++) s->tmp[r] = r;
        if (R < c->rows) NT_TRY(nt_kv_cache_select(c, s->tmp, R));
        if (s->encdec) {
            NT_TRY(nt_tensor_new(ctx, &tgt, NT_I32, 2, (int[]){R, 1}));
            for (int r = 0; r < R; r++) nt_i32(tgt)[r] = NT_GEN_BOS;
            NT_TRY(nt_tensor_wrap(ctx, &mask, NT_I32, 2, (int[]){R, s->S}, s->src_mask));
            NT_TRY(nt_model_decode(m, ctx, &lg, tgt, NULL, NULL, s->mem_t, mask, c, 0));
            s->mem_t = NULL;
        } else {
            int shape[2] = {R, s->P};
            NT_TRY(nt_tensor_wrap(ctx, &tgt, NT_I32, 2, shape, s->prompt));
            NT_TRY(nt_tensor_wrap(ctx, &pos, NT_I32, 2, shape, s->prompt_pos));
            NT_TRY(nt_tensor_wrap(ctx, &mask, NT_I32, 2, shape, s->prompt_mask));
            NT_TRY(nt_model_decode(m, ctx, &lg, tgt, pos, mask, NULL, NULL, c, 0));
        }
    } else {
        nt_ctx_reset(ctx);
        NT_TRY(nt_tensor_new(ctx, &tgt, NT_I32, 2, (int[]){R, 1}));
        for (int r = 0; r < R; r++) nt_i32(tgt)[r] = tokens[(size_t)r * stride + t - 1];
        if (!s->encdec) {
            NT_TRY(nt_tensor_new(ctx, &pos, NT_I32, 2, (int[]){R, 1}));
            for (int r = 0; r < R; r++) nt_i32(pos)[r] = s->plen[s->row_src[r]] + t - 1;
        }
        NT_TRY(nt_model_decode(m, ctx, &lg, tgt, pos, NULL, NULL, NULL, c, c->len));
    }
    last_logits(logits, lg);
    if (attn) NT_TRY(last_attention(s, attn, R));
    return NT_OK;
}

static nt_status step_full(mstep *s, float *logits, float *attn, const int32_t *tokens,
                           int stride, int R, int t) {
    nt_ctx *ctx = s->ctx;
    nt_model *m = s->m;
    nt_ctx_reset(ctx);
    nt_tensor *tgt, *pos = NULL, *mask = NULL, *mem = NULL, *mem_mask = NULL, *lg;
    if (s->encdec) {
        int T = 1 + t, S = s->S, D = m->cfg.d_model;
        NT_TRY(nt_tensor_new(ctx, &tgt, NT_I32, 2, (int[]){R, T}));
        NT_TRY(nt_tensor_new(ctx, &mem, NT_F32, 3, (int[]){R, S, D}));
        NT_TRY(nt_tensor_new(ctx, &mem_mask, NT_I32, 2, (int[]){R, S}));
        for (int r = 0; r < R; r++) {
            int i = s->row_src[r];
            int32_t *row = nt_i32(tgt) + (size_t)r * T;
            row[0] = NT_GEN_BOS;
            memcpy(row + 1, tokens + (size_t)r * stride, (size_t)t * sizeof *row);
            memcpy(nt_f32(mem) + (size_t)r * S * D, s->mem + (size_t)i * S * D, (size_t)S * D * sizeof(float));
            memcpy(nt_i32(mem_mask) + (size_t)r * S, s->src_mask + (size_t)i * S, (size_t)S * sizeof(int32_t));
        }
    } else {
        int P = s->P, T = P + t;
        NT_TRY(nt_tensor_new(ctx, &tgt, NT_I32, 2, (int[]){R, T}));
        NT_TRY(nt_tensor_new(ctx, &pos, NT_I32, 2, (int[]){R, T}));
        NT_TRY(nt_tensor_new(ctx, &mask, NT_I32, 2, (int[]){R, T}));
        for (int r = 0; r < R; r++) {
            int i = s->row_src[r];
            size_t o = (size_t)r * T;
            memcpy(nt_i32(tgt) + o, s->prompt + (size_t)i * P, (size_t)P * sizeof(int32_t));
            memcpy(nt_i32(pos) + o, s->prompt_pos + (size_t)i * P, (size_t)P * sizeof(int32_t));
            memcpy(nt_i32(mask) + o, s->prompt_mask + (size_t)i * P, (size_t)P * sizeof(int32_t));
            for (int k = 0; k < t; k++) {
                nt_i32(tgt)[o + P + k] = tokens[(size_t)r * stride + k];
                nt_i32(pos)[o + P + k] = s->plen[i] + k;
                nt_i32(mask)[o + P + k] = 1;
            }
        }
    }
    NT_TRY(nt_model_decode(m, ctx, &lg, tgt, pos, mask, mem, mem_mask, NULL, 0));
    last_logits(logits, lg);
    if (attn) NT_TRY(last_attention(s, attn, R));
    return NT_OK;
}

static nt_status mstep_step(void *user, float *logits, float *attn, const int32_t *tokens,
                            int stride, int n, int t) {
    mstep *s = user;
    if (n != s->R) return nt_error(NT_ERR_STATE, "nt_generate: %d rows, the stepper has %d", n, s->R);
    if (attn && !s->record) return nt_error(NT_ERR_STATE, "nt_generate: attention was not requested");
    return s->use_cache ? step_cached(s, logits, attn, tokens, stride, n, t)
                        : step_full(s, logits, attn, tokens, stride, n, t);
}

static nt_status mstep_select(void *user, const int *src_rows, int n_new) {
    mstep *s = user;
    if (n_new < 1 || n_new > s->rows_cap)
        return nt_error(NT_ERR_ARG, "nt_generate: select of %d rows outside [1, %d]", n_new, s->rows_cap);
    for (int r = 0; r < n_new; r++) {
        if (src_rows[r] < 0 || src_rows[r] >= s->R)
            return nt_error(NT_ERR_ARG, "nt_generate: select row %d from %d outside [0, %d)", r,
                            src_rows[r], s->R);
        s->tmp[r] = s->row_src[src_rows[r]];
    }
    if (s->cache) NT_TRY(nt_kv_cache_select(s->cache, src_rows, n_new));
    memcpy(s->row_src, s->tmp, (size_t)n_new * sizeof *s->tmp);
    s->R = n_new;
    return NT_OK;
}

#define MS_ALLOC(p, count)                                                          \
    do {                                                                            \
        size_t ms_n_ = (size_t)(count);                                             \
        (p) = nt_calloc(ms_n_ > 0 ? ms_n_ : 1, sizeof *(p));                        \
        if (!(p)) {                                                                 \
            mstep_free(&s->pub);                                      \
            return nt_error(NT_ERR_NOMEM, "nt_generate: out of memory (%s)", #p);   \
        }                                                                           \
    } while (0)

/* Validates the sources against the model: ids in range, lengths within max_len. */
static nt_status check_sources(const nt_model *m, const nt_generate_config *cfg,
                               const int32_t *const *src, const int *src_len, int n) {
    const char *f = "nt_generate";
    int V = m->cfg.vocab_size, max_len = m->cfg.max_len;
    if (!src || !src_len) return nt_error(NT_ERR_ARG, "%s: src or src_len is NULL", f);
    if (n < 1) return nt_error(NT_ERR_ARG, "%s: %d sources, expected >= 1", f, n);
    for (int i = 0; i < n; i++) {
        if (src_len[i] < 0) return nt_error(NT_ERR_ARG, "%s: source %d: length %d < 0", f, i, src_len[i]);
        if (src_len[i] > 0 && !src[i]) return nt_error(NT_ERR_ARG, "%s: source %d is NULL", f, i);
        for (int k = 0; k < src_len[i]; k++)
            if (src[i][k] < 0 || src[i][k] >= V)
                return nt_error(NT_ERR_ARG, "%s: source %d token %d: id %d outside [0, %d)", f, i, k,
                                (int)src[i][k], V);
        if (m->cfg.arch == NT_ARCH_ENCDEC && src_len[i] + 1 > max_len)
            return nt_error(NT_ERR_ARG, "%s: source %d: %d tokens + <eos> exceed max_len %d", f, i,
                            src_len[i], max_len);
        if (m->cfg.arch == NT_ARCH_DECODER && cfg->raw_prompt && src_len[i] < 1)
            return nt_error(NT_ERR_ARG, "%s: source %d: an empty raw prompt (give at least <bos>)", f, i);
        if (m->cfg.arch == NT_ARCH_DECODER && !cfg->raw_prompt && src_len[i] + 2 > max_len)
            return nt_error(NT_ERR_ARG,
                            "%s: source %d: prompt of %d tokens (<bos> source <sep>) exceeds max_len %d",
                            f, i, src_len[i] + 2, max_len);
        if (m->cfg.arch == NT_ARCH_DECODER && cfg->raw_prompt && src_len[i] > max_len)
            return nt_error(NT_ERR_ARG, "%s: source %d: raw prompt of %d tokens exceeds max_len %d", f,
                            i, src_len[i], max_len);
    }
    return NT_OK;
}

/* The prompt a decoder-only model reads for a source: <bos> source <sep>,
 * or the source as given (cfg->raw_prompt). */
static int prompt_len(const nt_generate_config *cfg, int src_len) {
    return cfg->raw_prompt ? src_len : src_len + 2;
}

/* Generated tokens at most for a source (the positions the model has). */
static int source_limit(const nt_model *m, const nt_generate_config *cfg, int len) {
    int lim = m->cfg.arch == NT_ARCH_ENCDEC ? m->cfg.max_len : m->cfg.max_len - prompt_len(cfg, len) + 1;
    return lim < cfg->max_new_tokens ? lim : cfg->max_new_tokens;
}

/* Positions a batch's cache needs: decoder inputs of the longest run plus,
 * for decoder-only, the padded prompt. */
static int batch_cap(const nt_model *m, const nt_generate_config *cfg, const int *src_len, int n) {
    int P = 0, L = 1;
    for (int i = 0; i < n; i++) {
        if (prompt_len(cfg, src_len[i]) > P) P = prompt_len(cfg, src_len[i]);
        int l = source_limit(m, cfg, src_len[i]);
        if (l > L) L = l;
    }
    return m->cfg.arch == NT_ARCH_ENCDEC ? L : P + L - 1;
}

/* Positions the longest row needs when every row has its own positions. */
static int row_cap(const nt_model *m, const nt_generate_config *cfg, const int *src_len, int n) {
    int cap = 1;
    for (int i = 0; i < n; i++) {
        int c = source_limit(m, cfg, src_len[i]);
        if (m->cfg.arch == NT_ARCH_DECODER) c += prompt_len(cfg, src_len[i]) - 1;
        if (c > cap) cap = c;
    }
    return cap;
}

/* ---- the no-grad decode path (nn/infer.h): what nt_generate runs ------------------
 * Sources are encoded once (cross K/V per source), rows fork from their
 * source for beams and samples, each row has its own positions (a
 * decoder-only prompt is fed unpadded, at positions 0..), and every step
 * feeds one token per live row. */
typedef struct istep {
    nt_generate_stepper pub;
    nt_infer *inf;
    int N, R, rows_cap, encdec;
    int *limits;             /* (N) */
    int *rows;               /* (max(rows_cap, prompt tokens)) item rows */
    int32_t *items;          /* (same) item tokens */
    int n_prompt;            /* decoder-only: prompt tokens of all sources */
} istep;

static void istep_free(nt_generate_stepper *st) {
    istep *s = (istep *)st;
    nt_infer_free(s->inf);
    nt_free(s->limits);
    nt_free(s->rows);
    nt_free(s->items);
    nt_free(s);
}

static nt_status istep_step(void *user, float *logits, float *attn, const int32_t *tokens, int stride,
                            int R, int t) {
    istep *s = user;
    if (attn) return nt_error(NT_ERR_STATE, "nt_generate: attention was not requested");
    if (R != s->R) return nt_error(NT_ERR_STATE, "nt_generate: %d rows, the stepper has %d", R, s->R);
    if (t == 0) {
        if (R != s->N) return nt_error(NT_ERR_STATE, "nt_generate: step 0 must see one row per source");
        if (s->encdec) {
            for (int r = 0; r < R; r++) s->rows[r] = r, s->items[r] = NT_GEN_BOS;
            return nt_infer_feed(s->inf, R, s->rows, s->items, logits);
        }
        return nt_infer_feed(s->inf, s->n_prompt, s->rows, s->items, logits);
    }
    for (int r = 0; r < R; r++) s->rows[r] = r, s->items[r] = tokens[(size_t)r * stride + t - 1];
    return nt_infer_feed(s->inf, R, s->rows, s->items, logits);
}

static nt_status istep_select(void *user, const int *src_rows, int n_new) {
    istep *s = user;
    NT_TRY(nt_infer_select(s->inf, src_rows, n_new));
    s->R = n_new;
    return NT_OK;
}

static nt_status stepper_infer(nt_generate_stepper **out, int **limits, nt_model *m, nt_ctx *ctx,
                               const nt_generate_config *cfg, const int32_t *const *src,
                               const int *src_len, int n, int cap) {
    const char *f = "nt_generate";
    istep *s = nt_calloc(1, sizeof *s);
    if (!s) return nt_error(NT_ERR_NOMEM, "%s: out of memory", f);
    s->pub.user = s;
    s->pub.vocab_size = m->cfg.vocab_size;
    s->pub.step = istep_step;
    s->pub.select = istep_select;
    s->pub.free = istep_free;
    s->encdec = m->cfg.arch == NT_ARCH_ENCDEC;
    s->N = s->R = n;
    int fan = cfg->num_beams > cfg->num_return_sequences ? cfg->num_beams : cfg->num_return_sequences;
    s->rows_cap = n * fan;
    int S = 1, items = s->rows_cap;
    for (int i = 0; i < n; i++) {
        if (src_len[i] + 1 > S) S = src_len[i] + 1;
        if (!s->encdec) s->n_prompt += prompt_len(cfg, src_len[i]);
    }
    if (s->n_prompt > items) items = s->n_prompt;
    s->limits = nt_calloc((size_t)n, sizeof *s->limits);
    s->rows = nt_calloc((size_t)items, sizeof *s->rows);
    s->items = nt_calloc((size_t)items, sizeof *s->items);
    if (!s->limits || !s->rows || !s->items) {
        istep_free(&s->pub);
        return nt_error(NT_ERR_NOMEM, "%s: out of memory", f);
    }
    /* passes as large as this call needs (buffers sized to it): a step feeds
     * every row, step 0 of a decoder-only model every prompt token; the
     * encoder takes up to 4096 source tokens at once */
    int64_t src_tokens = 0;
    for (int i = 0; i < n; i++) src_tokens += src_len[i] + 1;
    nt_infer_config ic = {.rows = s->rows_cap, .cap = cap, .sources = n, .src_cap = S, .items = items,
                          .enc_items = src_tokens < 4096 ? (int)src_tokens : 4096,
                          .bf16 = nt_ctx_precision(ctx) == NT_PREC_BF16};
    nt_status st = nt_infer_new(&s->inf, m, &ic);
    if (st == NT_OK && s->encdec) {
        /* source + <eos>, encoded once, slot i; s->rows / s->items as scratch */
        int32_t *buf = nt_malloc((size_t)n * S * sizeof *buf);
        const int32_t **ptr = nt_malloc((size_t)n * sizeof *ptr);
        int *lens = nt_malloc((size_t)n * sizeof *lens), *slots = nt_malloc((size_t)n * sizeof *slots);
        if (!buf || !ptr || !lens || !slots) st = nt_error(NT_ERR_NOMEM, "%s: out of memory", f);
        for (int i = 0; st == NT_OK && i < n; i++) {
            int32_t *row = buf + (size_t)i * S;
            if (src_len[i]) memcpy(row, src[i], (size_t)src_len[i] * sizeof *row);
            row[src_len[i]] = NT_GEN_EOS;
            ptr[i] = row, lens[i] = src_len[i] + 1, slots[i] = i;
        }
        if (st == NT_OK) st = nt_infer_encode(s->inf, n, slots, ptr, lens);
        if (st == NT_OK) st = nt_infer_start(s->inf, n, slots);
        nt_free(buf), nt_free(ptr), nt_free(lens), nt_free(slots);
    } else if (st == NT_OK) {
        int k = 0;
        for (int i = 0; i < n; i++) {
            if (!cfg->raw_prompt) s->rows[k] = i, s->items[k++] = NT_GEN_BOS;
            for (int j = 0; j < src_len[i]; j++) s->rows[k] = i, s->items[k++] = src[i][j];
            if (!cfg->raw_prompt) s->rows[k] = i, s->items[k++] = NT_GEN_SEP;
        }
        st = nt_infer_start(s->inf, n, NULL);
    }
    if (st != NT_OK) {
        istep_free(&s->pub);
        return nt_error_wrap(st, "%s", f);
    }
    for (int i = 0; i < n; i++) s->limits[i] = source_limit(m, cfg, src_len[i]);
    if (limits) *limits = s->limits;
    *out = &s->pub;
    return NT_OK;
}

nt_status nt_generate_stepper_model(nt_model *m, nt_ctx *ctx, nt_generate_stepper **out,
                                    int **limits, const nt_generate_config *cfg,
                                    const int32_t *const *src, const int *src_len, int n) {
    const char *f = "nt_generate";
    if (!out || !m || !ctx) return nt_error(NT_ERR_ARG, "%s: out, model or ctx is NULL", f);
    NT_TRY(nt_generate_config_check(cfg));
    NT_TRY(check_sources(m, cfg, src, src_len, n));
    int encdec = m->cfg.arch == NT_ARCH_ENCDEC;
    if (cfg->output_attentions && !encdec)
        return nt_error(NT_ERR_ARG, "%s: output_attentions needs an encoder-decoder model "
                        "(a decoder-only model has no cross-attention)", f);
    /* the fast path unless attention weights are asked for (the graph path records them) */
    if (cfg->use_cache && !cfg->output_attentions)
        return stepper_infer(out, limits, m, ctx, cfg, src, src_len, n, row_cap(m, cfg, src_len, n));
    int cap = batch_cap(m, cfg, src_len, n);
    if (cap > m->cfg.max_len)
        return nt_error(NT_ERR_ARG, "%s: the batch needs %d cache positions, max_len is %d "
                        "(split the batch)", f, cap, m->cfg.max_len);

    mstep *s = nt_calloc(1, sizeof *s);
    if (!s) return nt_error(NT_ERR_NOMEM, "%s: out of memory", f);
    s->m = m;
    s->encdec = encdec;
    s->use_cache = cfg->use_cache;
    s->N = s->R = n;
    int fan = cfg->num_beams > cfg->num_return_sequences ? cfg->num_beams : cfg->num_return_sequences;
    s->rows_cap = n * fan;
    MS_ALLOC(s->row_src, s->rows_cap);
    MS_ALLOC(s->tmp, s->rows_cap);
    MS_ALLOC(s->limits, n);
    for (int i = 0; i < n; i++) {
        s->row_src[i] = i;
        s->limits[i] = source_limit(m, cfg, src_len[i]);
    }
    /* grad off, dropout off while generating; restored by the free */
    s->ctx = ctx;
    s->grad_was = nt_ctx_set_grad(ctx, 0);
    s->training_was = nt_ctx_training(ctx);
    nt_ctx_set_training(ctx, 0);
    nt_ctx_reset(ctx);
    s->record = cfg->output_attentions != 0;
    nt_model_set_record_attention(m, s->record);

    int D = m->cfg.d_model;
    if (encdec) {
        int S = 1;
        for (int i = 0; i < n; i++)
            if (src_len[i] + 1 > S) S = src_len[i] + 1;
        s->S = S;
        MS_ALLOC(s->src, (size_t)n * S);
        MS_ALLOC(s->src_mask, (size_t)n * S);
        for (int i = 0; i < n; i++) {
            int32_t *row = s->src + (size_t)i * S;
            if (src_len[i]) memcpy(row, src[i], (size_t)src_len[i] * sizeof *row);
            row[src_len[i]] = NT_GEN_EOS;
            for (int k = 0; k <= src_len[i]; k++) s->src_mask[(size_t)i * S + k] = 1;
        }
        nt_tensor *ids, *mask, *mem;
        nt_status st = nt_tensor_wrap(ctx, &ids, NT_I32, 2, (int[]){n, S}, s->src);
        if (st == NT_OK) st = nt_tensor_wrap(ctx, &mask, NT_I32, 2, (int[]){n, S}, s->src_mask);
        if (st == NT_OK) st = nt_model_encode(m, ctx, &mem, ids, mask);   // (N, S, D)
        if (st != NT_OK) {
            mstep_free(&s->pub);
            return nt_error_wrap(st, "%s: encoder", f);
        }
        if (s->use_cache) {
            s->mem_t = mem;
        } else {
            MS_ALLOC(s->mem, (size_t)n * S * D);
            memcpy(s->mem, nt_f32(mem), (size_t)n * S * D * sizeof(float));
        }
    } else {
        int P = 0;
        for (int i = 0; i < n; i++)
            if (prompt_len(cfg, src_len[i]) > P) P = prompt_len(cfg, src_len[i]);
        s->P = P;
        MS_ALLOC(s->prompt, (size_t)n * P);
        MS_ALLOC(s->prompt_mask, (size_t)n * P);
        MS_ALLOC(s->prompt_pos, (size_t)n * P);
        MS_ALLOC(s->plen, n);
        for (int i = 0; i < n; i++) {
            int len = prompt_len(cfg, src_len[i]), pad = P - len, raw = cfg->raw_prompt != 0;
            int32_t *row = s->prompt + (size_t)i * P;   /* calloc: pads are <pad> (0), pos 0 */
            if (!raw) row[pad] = NT_GEN_BOS;
            if (src_len[i]) memcpy(row + pad + !raw, src[i], (size_t)src_len[i] * sizeof *row);
            if (!raw) row[P - 1] = NT_GEN_SEP;
            for (int k = 0; k < len; k++) {
                s->prompt_mask[(size_t)i * P + pad + k] = 1;
                s->prompt_pos[(size_t)i * P + pad + k] = k;
            }
            s->plen[i] = len;
        }
    }
    if (s->use_cache) {
        nt_status st = nt_kv_cache_new(&s->cache, m, s->rows_cap, cap, encdec ? s->S : 1);
        if (st != NT_OK) {
            mstep_free(&s->pub);
            return st;
        }
    }
    s->pub.user = s;
    s->pub.vocab_size = m->cfg.vocab_size;
    s->pub.attn_cols = s->record ? s->S : 0;
    s->pub.step = mstep_step;
    s->pub.select = mstep_select;
    s->pub.free = mstep_free;
    if (limits) *limits = s->limits;
    *out = &s->pub;
    return NT_OK;
}

/* ---- nt_generate: sub-batches run one after another -------------------------------
 * A sub-batch holds at most NT_GEN_MAX_ROWS rows (sources x beams) so that the
 * cache stays small, and only sources whose padded prompts fit max_len
 * together. Outputs do not depend on the split. */
#define NT_GEN_MAX_ROWS 256

static nt_status generate_transformer(nt_model *m, nt_ctx *ctx, const nt_generate_config *cfg,
                                     const int32_t *const *src, const int *src_len, int n,
                                     nt_generate_result *res) {
    const char *f = "nt_generate";
    if (!res) return nt_error(NT_ERR_ARG, "%s: result is NULL", f);
    memset(res, 0, sizeof *res);
    if (!m || !ctx) return nt_error(NT_ERR_ARG, "%s: model or ctx is NULL", f);
    NT_TRY(nt_generate_config_check(cfg));
    NT_TRY(check_sources(m, cfg, src, src_len, n));
    if (cfg->output_attentions && m->cfg.arch != NT_ARCH_ENCDEC)
        return nt_error(NT_ERR_ARG, "%s: output_attentions needs an encoder-decoder model "
                        "(a decoder-only model has no cross-attention)", f);
    int nrs = cfg->num_return_sequences;
    int fan = cfg->num_beams > nrs ? cfg->num_beams : nrs;
    int per = NT_GEN_MAX_ROWS / fan;
    if (per < 1) per = 1;
    res->seqs = nt_calloc((size_t)n * nrs, sizeof *res->seqs);
    if (!res->seqs) return nt_error(NT_ERR_NOMEM, "%s: out of memory (results)", f);
    res->n_sources = n;
    res->n_per_source = nrs;
    nt_status st = NT_OK;
    for (int i0 = 0; i0 < n && st == NT_OK;) {
        int k = 1;
        int own_pos = cfg->use_cache && !cfg->output_attentions; /* rows need not share positions */
        while (i0 + k < n && k < per && (own_pos || batch_cap(m, cfg, src_len + i0, k + 1) <= m->cfg.max_len))
            k++;
        nt_generate_stepper *stp = NULL;
        int *limits = NULL;
        nt_generate_result part;
        memset(&part, 0, sizeof part);
        st = nt_generate_stepper_model(m, ctx, &stp, &limits, cfg, src + i0, src_len + i0, k);
        if (st == NT_OK) st = nt_generate_run(stp, &part, cfg, k, limits);
        nt_generate_stepper_free(stp);
        if (st == NT_OK) {
            /* move the sequences over; trim attention to each source's columns */
            for (int i = 0; i < k; i++)
                for (int j = 0; j < nrs; j++) {
                    nt_generate_seq *o = &res->seqs[(size_t)(i0 + i) * nrs + j];
                    *o = part.seqs[(size_t)i * nrs + j];
                    if (o->attn) {
                        int cols = src_len[i0 + i] + 1;
                        for (int r = 0; r < o->attn_rows; r++)
                            memmove(o->attn + (size_t)r * cols, o->attn + (size_t)r * o->attn_cols,
                                    (size_t)cols * sizeof *o->attn);
                        o->attn_cols = cols;
                    }
                }
            nt_free(part.seqs);
        }
        i0 += k;
    }
    if (st != NT_OK) nt_generate_result_free(res);
    return st;
}

nt_status nt_generate(nt_net *net, nt_ctx *ctx, nt_generate_result *res,
                      const nt_generate_config *cfg, const int32_t *const *src, const int *src_len,
                      int n) {
    const char *f = "nt_generate";
    if (!res) return nt_error(NT_ERR_ARG, "%s: result is NULL", f);
    memset(res, 0, sizeof *res);
    if (!net || !ctx) return nt_error(NT_ERR_ARG, "%s: model or ctx is NULL", f);
    /* The transformer packs sources into sub-batches that fit its positions. */
    nt_model *m = nt_model_from_net(net);
    if (m) return generate_transformer(m, ctx, cfg, src, src_len, n, res);
    NT_TRY(nt_generate_config_check(cfg));
    nt_generate_stepper *stp = NULL;
    int *limits = NULL;
    nt_status st;
    if (net->ops->stepper)
        st = net->ops->stepper(net, ctx, cfg, src, src_len, n, &stp, &limits);
    else
        st = nt_generate_stepper_net(net, ctx, &stp, &limits, cfg, src, src_len, n);
    if (st == NT_OK) st = nt_generate_run(stp, res, cfg, n, limits);
    nt_generate_stepper_free(stp);
    return st;
}
