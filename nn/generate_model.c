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
    int *start;              /* (rows_cap) decoder-only: each row's window start (cfg.context_keep) */
    int keep;                /* cfg.context_keep (decoder-only) */
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
    void *bufs[] = {s->row_src, s->tmp, s->start, s->limits, s->src, s->src_mask, s->mem,
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
        /* each row's window (all of its sequence without a sliding window),
         * left-padded to the longest: W = P + t without a window */
        int P = s->P, W = P + t;
        if (s->keep) {
            W = 1;
            for (int r = 0; r < R; r++) {
                int n = s->plen[s->row_src[r]] + t;
                s->start[r] = nt_generate_window_start(n, s->start[r], m->cfg.max_len, s->keep);
                if (n - s->start[r] > W) W = n - s->start[r];
            }
        }
        NT_TRY(nt_tensor_new(ctx, &tgt, NT_I32, 2, (int[]){R, W}));
        NT_TRY(nt_tensor_new(ctx, &pos, NT_I32, 2, (int[]){R, W}));
        NT_TRY(nt_tensor_new(ctx, &mask, NT_I32, 2, (int[]){R, W}));
        memset(nt_i32(tgt), 0, (size_t)R * W * sizeof(int32_t));
        memset(nt_i32(pos), 0, (size_t)R * W * sizeof(int32_t));
        memset(nt_i32(mask), 0, (size_t)R * W * sizeof(int32_t));
        for (int r = 0; r < R; r++) {
            int i = s->row_src[r], pl = s->plen[i], len = pl + t - s->start[r];
            const int32_t *prompt = s->prompt + (size_t)i * P + (P - pl); /* left-padded */
            size_t o = (size_t)r * W + (W - len);
            for (int k = 0; k < len; k++) {
                int j = s->start[r] + k; /* position in the row's sequence */
                nt_i32(tgt)[o + k] = j < pl ? prompt[j] : tokens[(size_t)r * stride + j - pl];
                nt_i32(pos)[o + k] = k;
                nt_i32(mask)[o + k] = 1;
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
    if (s->start) {
        for (int r = 0; r < n_new; r++) s->tmp[r] = s->start[src_rows[r]];
        memcpy(s->start, s->tmp, (size_t)n_new * sizeof *s->tmp);
    }
    s->R = n_new;
    return NT_OK;
}

#define MS_ALLOC(p, count) NT_CALLOC_OR_RETURN(p, count, "nt_generate", mstep_free(&s->pub))

/* Validates the sources against the model: ids in range, lengths within max_len. */
static nt_status check_sources(const nt_model *m, const nt_generate_config *cfg,
                               const int32_t *const *src, const int *src_len, int n) {
    const char *f = "nt_generate";
    int max_len = m->cfg.max_len;
    NT_TRY(nt_generate_check_sources(m->cfg.vocab_size, src, src_len, n));
    if (cfg->context_keep > 0 && m->cfg.arch != NT_ARCH_DECODER)
        return nt_error(NT_ERR_ARG, "%s: context_keep (a sliding window) needs a decoder-only model", f);
    if (cfg->context_keep > max_len)
        return nt_error(NT_ERR_ARG, "%s: context_keep %d exceeds the model's context (max_len %d)", f,
                        cfg->context_keep, max_len);
    for (int i = 0; i < n; i++) {
        if (m->cfg.arch == NT_ARCH_ENCDEC && src_len[i] + 1 > max_len)
            return nt_error(NT_ERR_ARG, "%s: source %d: %d tokens + <eos> exceed max_len %d", f, i,
                            src_len[i], max_len);
        if (m->cfg.arch == NT_ARCH_DECODER && cfg->raw_prompt && src_len[i] < 1)
            return nt_error(NT_ERR_ARG, "%s: source %d: an empty raw prompt (give at least <bos>)", f, i);
        if (cfg->context_keep > 0) continue; /* a sliding window crops long prompts */
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
    if (cfg->context_keep > 0) return cfg->max_new_tokens; /* the window slides */
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
    int cap = m->cfg.arch == NT_ARCH_ENCDEC ? L : P + L - 1;
    return cfg->context_keep > 0 && cap > m->cfg.max_len ? m->cfg.max_len : cap; /* windows fit */
}

/* Positions the longest row needs when every row has its own positions. */
static int row_cap(const nt_model *m, const nt_generate_config *cfg, const int *src_len, int n) {
    int cap = 1;
    for (int i = 0; i < n; i++) {
        int c = source_limit(m, cfg, src_len[i]);
        if (m->cfg.arch == NT_ARCH_DECODER) c += prompt_len(cfg, src_len[i]) - 1;
        if (c > cap) cap = c;
    }
    return cfg->context_keep > 0 && cap > m->cfg.max_len ? m->cfg.max_len : cap; /* windows fit */
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
    int T, keep;             /* decoder-only sliding window: context, tokens kept (keep 0: off) */
    int *limits;             /* (N) */
    int *rows;               /* (n_items) item rows */
    int32_t *items;          /* (n_items) item tokens */
    /* decoder-only */
    int P;                   /* longest prompt */
    int32_t *prompt;         /* (N, P) each source's prompt, left-aligned */
    int *plen;               /* (N) */
    int *row_src, *start, *tmp; /* (rows_cap) each row's source and window start */
} istep;

static void istep_free(nt_generate_stepper *st) {
    istep *s = (istep *)st;
    nt_infer_free(s->inf);
    void *bufs[] = {s->limits, s->rows, s->items, s->prompt, s->plen, s->row_src, s->start, s->tmp};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) nt_free(bufs[i]);
    nt_free(s);
}

/* Token k of row r's sequence: its source's prompt, then what it generated. */
static int32_t istep_token(const istep *s, int r, int k, const int32_t *tokens, int stride) {
    int i = s->row_src[r], pl = s->plen[i];
    return k < pl ? s->prompt[(size_t)i * s->P + k] : tokens[(size_t)r * stride + k - pl];
}

/* Decoder-only: restarts every row and feeds it its window (all of it
 * without a sliding window). A row's logits do not depend on how its tokens
 * were split into feeds (nn/infer.h), so rows fed again are unchanged. */
static nt_status istep_refeed(istep *s, float *logits, const int32_t *tokens, int stride, int R, int t) {
    NT_TRY(nt_infer_start(s->inf, R, NULL));
    int k = 0;
    for (int r = 0; r < R; r++) {
        int n = s->plen[s->row_src[r]] + t;
        s->start[r] = nt_generate_window_start(n, s->start[r], s->T, s->keep);
        for (int j = s->start[r]; j < n; j++) s->rows[k] = r, s->items[k++] = istep_token(s, r, j, tokens, stride);
    }
    return nt_infer_feed(s->inf, k, s->rows, s->items, logits);
}

static nt_status istep_step(void *user, float *logits, float *attn, const int32_t *tokens, int stride,
                            int R, int t) {
    istep *s = user;
    if (attn) return nt_error(NT_ERR_STATE, "nt_generate: attention was not requested");
    if (R != s->R) return nt_error(NT_ERR_STATE, "nt_generate: %d rows, the stepper has %d", R, s->R);
    if (t == 0 && R != s->N) return nt_error(NT_ERR_STATE, "nt_generate: step 0 must see one row per source");
    if (t == 0 && s->encdec) {
        for (int r = 0; r < R; r++) s->rows[r] = r, s->items[r] = NT_GEN_BOS;
        return nt_infer_feed(s->inf, R, s->rows, s->items, logits);
    }
    if (t == 0) return istep_refeed(s, logits, tokens, stride, R, t);
    for (int r = 0; s->keep && r < R; r++)
        if (s->plen[s->row_src[r]] + t - s->start[r] > s->T) return istep_refeed(s, logits, tokens, stride, R, t);
    for (int r = 0; r < R; r++) s->rows[r] = r, s->items[r] = tokens[(size_t)r * stride + t - 1];
    return nt_infer_feed(s->inf, R, s->rows, s->items, logits);
}

static nt_status istep_select(void *user, const int *src_rows, int n_new) {
    istep *s = user;
    NT_TRY(nt_infer_select(s->inf, src_rows, n_new));
    if (!s->encdec) {
        for (int r = 0; r < n_new; r++) s->tmp[r] = s->row_src[src_rows[r]];
        for (int r = 0; r < n_new; r++) s->row_src[r] = s->tmp[r], s->tmp[r] = s->start[src_rows[r]];
        memcpy(s->start, s->tmp, (size_t)n_new * sizeof *s->start);
    }
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
    s->T = m->cfg.max_len;
    s->keep = s->encdec ? 0 : cfg->context_keep;
    int fan = cfg->num_beams > cfg->num_return_sequences ? cfg->num_beams : cfg->num_return_sequences;
    s->rows_cap = n * fan;
    int S = 1, n_prompt = 0;
    for (int i = 0; i < n; i++) {
        if (src_len[i] + 1 > S) S = src_len[i] + 1;
        if (!s->encdec) {
            int pl = prompt_len(cfg, src_len[i]);
            n_prompt += s->keep && pl > s->T ? s->keep : pl;
            if (pl > s->P) s->P = pl;
        }
    }
    /* a pass takes every row's token, step 0 every prompt (window), a
     * sliding window's restart every row's window */
    int items = s->rows_cap > n_prompt ? s->rows_cap : n_prompt;
    int64_t refeed = s->keep ? (int64_t)s->rows_cap * s->T : 0;
    int n_items = refeed > items ? (int)refeed : items;
    if (refeed > items) items = refeed < 4096 ? (int)refeed : (items > 4096 ? items : 4096);
    s->limits = nt_calloc((size_t)n, sizeof *s->limits);
    s->rows = nt_calloc((size_t)n_items, sizeof *s->rows);
    s->items = nt_calloc((size_t)n_items, sizeof *s->items);
    int ok = s->limits && s->rows && s->items;
    if (ok && !s->encdec) {
        s->prompt = nt_calloc((size_t)n * (s->P ? s->P : 1), sizeof *s->prompt);
        s->plen = nt_calloc((size_t)n, sizeof *s->plen);
        s->row_src = nt_calloc((size_t)s->rows_cap, sizeof *s->row_src);
        s->start = nt_calloc((size_t)s->rows_cap, sizeof *s->start);
        s->tmp = nt_calloc((size_t)s->rows_cap, sizeof *s->tmp);
        ok = s->prompt && s->plen && s->row_src && s->start && s->tmp;
    }
    if (!ok) {
        istep_free(&s->pub);
        return nt_error(NT_ERR_NOMEM, "%s: out of memory", f);
    }
    /* passes as large as this call needs (buffers sized to it); the encoder
     * takes up to 4096 source tokens at once */
    int64_t src_tokens = 0;
    for (int i = 0; i < n; i++) src_tokens += src_len[i] + 1;
    nt_infer_config ic = {.rows = s->rows_cap, .cap = cap, .sources = n, .src_cap = S, .items = items,
                          .enc_items = src_tokens < 4096 ? (int)src_tokens : 4096,
                          .bf16 = nt_ctx_precision(ctx) == NT_PREC_BF16};
    nt_status st = nt_infer_new(&s->inf, m, &ic);
    if (st == NT_OK && s->encdec) {
        /* source + <eos>, encoded once, slot i */
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
        /* the prompts, fed at step 0 (istep_refeed) */
        for (int i = 0; i < n; i++) {
            int32_t *p = s->prompt + (size_t)i * s->P;
            int k = 0;
            if (!cfg->raw_prompt) p[k++] = NT_GEN_BOS;
            if (src_len[i]) memcpy(p + k, src[i], (size_t)src_len[i] * sizeof *p);
            k += src_len[i];
            if (!cfg->raw_prompt) p[k++] = NT_GEN_SEP;
            s->plen[i] = k;
            s->row_src[i] = i;
        }
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
    if (!encdec) {
        MS_ALLOC(s->start, s->rows_cap);
        s->keep = cfg->context_keep;
    }
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

/* ---- what one stepper takes (nt_net_ops.decode_plan) ------------------------------
 * The no-grad decoder gives every row its own positions: any sources fit
 * together. The graph path pads a batch's rows to a common length: only
 * sources whose padded prompts and outputs fit max_len together. */
nt_status nt_generate_plan_model(nt_model *m, const nt_generate_config *cfg, const int32_t *const *src,
                                 const int *src_len, int n, int *take) {
    const char *f = "nt_generate";
    if (!m || !take) return nt_error(NT_ERR_ARG, "%s: model or take is NULL", f);
    NT_TRY(nt_generate_config_check(cfg));
    NT_TRY(check_sources(m, cfg, src, src_len, n));
    if (cfg->output_attentions && m->cfg.arch != NT_ARCH_ENCDEC)
        return nt_error(NT_ERR_ARG, "%s: output_attentions needs an encoder-decoder model "
                        "(a decoder-only model has no cross-attention)", f);
    int own_pos = cfg->use_cache && !cfg->output_attentions;
    int k = 1;
    while (k < n && (own_pos || batch_cap(m, cfg, src_len, k + 1) <= m->cfg.max_len)) k++;
    *take = k;
    return NT_OK;
}
