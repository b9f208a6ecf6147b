/* generate_fast.c - the batch-1 decoder (see generate_fast.h).
 *
 * Letters: D width, H heads, Dh = D / H, F = 4 D MLP width, V vocabulary,
 * L decoder layers, P positions so far (the new one included), S source length,
 * T threads.
 *
 * A step runs in one parallel region. Every thread keeps its own copy of the
 * residual stream x (D floats) and computes each LayerNorm itself (D floats of
 * work, cheaper than a barrier); the matrix-vector products are split by
 * output rows, attention by heads:
 *
 *   x = embed[tok] + pos[P - 1]                              every thread
 *   per layer:
 *     h = LN_self(x); q, k, v rows of my heads; k, v -> cache;
 *       attention of my heads over P keys -> att              | barrier
 *     f[my rows] = W_o att + b_o                             | barrier
 *     x += f; h = LN_cross(x); q rows of my heads;
 *       attention of my heads over the S cross keys -> att     | barrier  (encdec)
 *     f[my rows] = W_o att + b_o                             | barrier  (encdec)
 *     x += f; h = LN_mlp(x); u[my rows] = gelu(W_fc h + b_fc) | barrier
 *     f[my rows] = W_proj u + b_proj                         | barrier
 *     x += f
 *   h = LN(x); logits[my rows] = embed h                     | barrier
 *   next token = argmax(logits)                               every thread
 *
 * Each shared buffer (att, f, u, logits) is written in one phase and read in
 * the next; a barrier always separates a read from the next write, so two
 * barriers per sublayer suffice. The kernels and their summation orders are
 * those of the generic path, which makes the logits bitwise equal to
 * nt_model_decode's with a cache.
 */
#include "nn/generate_fast.h"

#include <math.h>
#include <omp.h>
#include <string.h>

#include "core/alloc.h"
#include "core/linear_rows.h"
#include "core/vecmath.h"
#include "nn/block.h"
#include "nn/sampling.h"

struct nt_decoder {
    nt_model *m;
    int D, H, Dh, F, V, L, cap, src_cap, encdec;
    int S;          /* source length of the current sequence (encdec) */
    int len;        /* positions fed */
    int started;
    int T;          /* threads the per-thread buffers were sized for */
    float scale;    /* 1 / sqrt(Dh) */
    float *k_self, *v_self;   /* [L][cap][D] */
    float *k_cross, *v_cross; /* [L][src_cap][D] (encdec) */
    float *att, *f, *u;       /* (D), (D), (F) shared */
    float *logits;            /* (V) */
    float *priv;              /* [T][priv_stride]: x (D), h (D), probs (max(cap, src_cap)) */
    size_t priv_stride;
};

void nt_decoder_free(nt_decoder *d) {
    if (!d) return;
    void *bufs[] = {d->k_self, d->v_self, d->k_cross, d->v_cross, d->att, d->f, d->u, d->logits, d->priv};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) nt_free_aligned(bufs[i]);
    nt_free(d);
}

/* Floats rounded up to a whole number of 64-byte lines. */
static size_t lines(size_t n) { return (n + 15) / 16 * 16; }

nt_status nt_decoder_new(nt_decoder **out, nt_model *m, int cap, int src_cap) {
    static const char *fn = "nt_decoder_new";
    if (!out || !m) return nt_error(NT_ERR_ARG, "%s: out or model is NULL", fn);
    const nt_model_config *c = &m->cfg;
    int encdec = c->arch == NT_ARCH_ENCDEC;
    if (cap < 1 || cap > c->max_len)
        return nt_error(NT_ERR_ARG, "%s: cap %d outside [1, max_len %d]", fn, cap, c->max_len);
    if (encdec && (src_cap < 1 || src_cap > c->max_len))
        return nt_error(NT_ERR_ARG, "%s: src_cap %d outside [1, max_len %d]", fn, src_cap, c->max_len);
    nt_decoder *d = nt_calloc(1, sizeof *d);
    if (!d) return nt_error(NT_ERR_NOMEM, "%s: out of memory", fn);
    d->m = m;
    d->D = c->d_model;
    d->H = c->heads;
    d->Dh = c->d_model / c->heads;
    d->F = 4 * c->d_model;
    d->V = c->vocab_size;
    d->L = m->decoder.n_layers;
    d->cap = cap;
    d->src_cap = encdec ? src_cap : 0;
    d->encdec = encdec;
    d->scale = 1.0f / sqrtf((float)d->Dh);
    d->T = omp_get_max_threads();
    size_t D = (size_t)d->D, L = (size_t)d->L;
    size_t widest = (size_t)(cap > d->src_cap ? cap : d->src_cap);
    d->priv_stride = 2 * lines(D) + lines(widest);
    d->k_self = nt_malloc_aligned(L * cap * D * sizeof(float));
    d->v_self = nt_malloc_aligned(L * cap * D * sizeof(float));
    if (encdec) {
        d->k_cross = nt_malloc_aligned(L * d->src_cap * D * sizeof(float));
        d->v_cross = nt_malloc_aligned(L * d->src_cap * D * sizeof(float));
    }
    d->att = nt_malloc_aligned(lines(D) * sizeof(float));
    d->f = nt_malloc_aligned(lines(D) * sizeof(float));
    d->u = nt_malloc_aligned(lines((size_t)d->F) * sizeof(float));
    d->logits = nt_malloc_aligned(lines((size_t)d->V) * sizeof(float));
    d->priv = nt_malloc_aligned((size_t)d->T * d->priv_stride * sizeof(float));
    if (!d->k_self || !d->v_self || (encdec && (!d->k_cross || !d->v_cross)) || !d->att || !d->f ||
        !d->u || !d->logits || !d->priv) {
        nt_decoder_free(d);
        return nt_error(NT_ERR_NOMEM, "%s: out of memory (cache of %d positions)", fn, cap);
    }
    *out = d;
    return NT_OK;
}

int nt_decoder_len(const nt_decoder *d) { return d ? d->len : 0; }

nt_status nt_decoder_start(nt_decoder *d, nt_ctx *ctx, const int32_t *src, int S) {
    static const char *fn = "nt_decoder_start";
    if (!d) return nt_error(NT_ERR_ARG, "%s: decoder is NULL", fn);
    d->started = 0;
    d->len = 0;
    if (!d->encdec) {
        if (src || S != 0)
            return nt_error(NT_ERR_ARG, "%s: a decoder-only model takes no source (got %d ids)", fn, S);
        d->S = 0;
        d->started = 1;
        return NT_OK;
    }
    if (!ctx || !src) return nt_error(NT_ERR_ARG, "%s: ctx or src is NULL", fn);
    if (S < 1 || S > d->src_cap)
        return nt_error(NT_ERR_ARG, "%s: source length %d outside [1, src_cap %d]", fn, S, d->src_cap);
    for (int i = 0; i < S; i++)
        if (src[i] < 0 || src[i] >= d->V)
            return nt_error(NT_ERR_ARG, "%s: src[%d] = %d outside [0, %d)", fn, i, (int)src[i], d->V);
    nt_ctx_reset(ctx);
    int grad = nt_ctx_set_grad(ctx, 0);
    nt_model *m = d->m;
    size_t SD = (size_t)S * d->D;
    nt_tensor *ids, *mem = NULL, *k, *v;
    nt_status st = nt_tensor_wrap(ctx, &ids, NT_I32, 2, (int[]){1, S}, (void *)src);
    if (st == NT_OK) st = nt_model_encode(m, ctx, &mem, ids, NULL); // (1, S, D)
    /* The cross K/V of every layer, once per source: what the generic
     * cached path computes on its first step, by the same nt_linear calls. */
    for (int l = 0; l < d->L && st == NT_OK; l++) {
        const nt_attn_params *p = &m->decoder.layers[l].cross_attn;
        st = nt_linear(ctx, &k, mem, p->k_w, p->k_b); // (1, S, D)
        if (st == NT_OK) st = nt_linear(ctx, &v, mem, p->v_w, p->v_b);
        if (st == NT_OK) {
            memcpy(d->k_cross + (size_t)l * d->src_cap * d->D, nt_f32(k), SD * sizeof(float));
            memcpy(d->v_cross + (size_t)l * d->src_cap * d->D, nt_f32(v), SD * sizeof(float));
        }
    }
    nt_ctx_set_grad(ctx, grad);
    if (st != NT_OK) return nt_error_wrap(st, "%s", fn);
    d->S = S;
    d->started = 1;
    return NT_OK;
}

/* ---- the step ---------------------------------------------------------------- */

/* [lo, hi) of n items for thread t of T, in whole blocks of `blk`. */
static void share(int n, int blk, int t, int T, int *lo, int *hi) {
    int nb = (n + blk - 1) / blk;
    int b0 = (int)((int64_t)nb * t / T), b1 = (int)((int64_t)nb * (t + 1) / T);
    *lo = b0 * blk < n ? b0 * blk : n;
    *hi = b1 * blk < n ? b1 * blk : n;
}

/* y (D) = LayerNorm(x) w + b: nt_layernorm's row, same operations. */
static void ln_row(float *restrict y, const float *restrict x, const nt_tensor *w, const nt_tensor *b, int D) {
    const float *W = nt_f32(w), *Bv = nt_f32(b);
    float invD = 1.0f / (float)D;
    float mu = nt_vsum(x, D) * invD;
    for (int j = 0; j < D; j++) y[j] = x[j] - mu;
    float var = nt_vdot(y, y, D) * invD;
    float rs = 1.0f / sqrtf(var + NT_LN_EPS);
    for (int j = 0; j < D; j++) y[j] = y[j] * rs * W[j] + Bv[j];
}

/* att[head slice] = softmax(scale q K^T) V over n keys of K, V [n][D] for
 * head hd: nt_attention's single-query path (all keys visible). */
static void attend(float *restrict att, const float *q, const float *K, const float *Vv, int n,
                   int hd, int Dh, int D, float scale, float *restrict s) {
    size_t off = (size_t)hd * Dh;
    for (int j = 0; j < n; j++) s[j] = scale * nt_vdot(q + off, K + (size_t)j * D + off, Dh);
    float mx = nt_vmax(s, n);
    for (int j = 0; j < n; j++) s[j] = nt_expf(s[j] - mx);
    float inv = 1.0f / nt_vsum(s, n);
    for (int j = 0; j < n; j++) s[j] *= inv;
    float *o = att + off;
    for (int d = 0; d < Dh; d++) o[d] = 0.0f;
    for (int j = 0; j < n; j++) {
        const float *v = Vv + (size_t)j * D + off;
        float p = s[j];
        for (int d = 0; d < Dh; d++) o[d] += p * v[d];
    }
}

static inline void add_into(float *restrict x, const float *restrict f, int D) {
    for (int j = 0; j < D; j++) x[j] = f[j] + x[j];
}

/* One step of thread t (of T) for `token` at position `pos`; leaves the logits
 * in d->logits (complete after the final barrier). */
static void step_thread(nt_decoder *d, int t, int T, int32_t token, int pos) {
    nt_model *m = d->m;
    const int D = d->D, H = d->H, Dh = d->Dh, F = d->F, V = d->V;
    float *x = d->priv + (size_t)t * d->priv_stride;
    float *h = x + lines((size_t)D);
    float *s = h + lines((size_t)D);
    float *q = d->att; /* q rows of my heads; att overwrites them head by head */
    int h0, h1, r0, r1, f0, f1, v0, v1;
    share(H, 1, t, T, &h0, &h1);
    share(D, 8, t, T, &r0, &r1);
    share(F, 8, t, T, &f0, &f1);
    share(V, 8, t, T, &v0, &v1);
    int c0 = h0 * Dh, c1 = h1 * Dh; /* my heads' columns */

    const float *e = nt_f32(m->embed) + (size_t)token * D;
    const float *pe = nt_f32(m->decoder.pos) + (size_t)pos * D;
    for (int j = 0; j < D; j++) x[j] = e[j] + pe[j];

    for (int l = 0; l < d->L; l++) {
        const nt_block_params *b = &m->decoder.layers[l];
        const nt_attn_params *a = &b->self_attn;
        float *Kc = d->k_self + (size_t)l * d->cap * D, *Vc = d->v_self + (size_t)l * d->cap * D;
        /* self-attention: q, k, v of my heads, k, v straight into the cache */
        ln_row(h, x, b->ln_self_w, b->ln_self_b, D);
        if (c1 > c0) {
            nt_linear_rows(q, h, nt_f32(a->q_w), nt_f32(a->q_b), 1, D, D, c0, c1);
            nt_linear_rows(Kc + (size_t)pos * D, h, nt_f32(a->k_w), nt_f32(a->k_b), 1, D, D, c0, c1);
            nt_linear_rows(Vc + (size_t)pos * D, h, nt_f32(a->v_w), nt_f32(a->v_b), 1, D, D, c0, c1);
            for (int hd = h0; hd < h1; hd++) attend(d->att, q, Kc, Vc, pos + 1, hd, Dh, D, d->scale, s);
        }
#pragma omp barrier
        nt_linear_rows(d->f, d->att, nt_f32(a->o_w), nt_f32(a->o_b), 1, D, D, r0, r1);
#pragma omp barrier
        add_into(x, d->f, D);
        if (d->encdec) {
            const nt_attn_params *ca = &b->cross_attn;
            size_t co = (size_t)l * d->src_cap * D;
            ln_row(h, x, b->ln_cross_w, b->ln_cross_b, D);
            if (c1 > c0) {
                nt_linear_rows(q, h, nt_f32(ca->q_w), nt_f32(ca->q_b), 1, D, D, c0, c1);
                for (int hd = h0; hd < h1; hd++)
                    attend(d->att, q, d->k_cross + co, d->v_cross + co, d->S, hd, Dh, D, d->scale, s);
            }
#pragma omp barrier
            nt_linear_rows(d->f, d->att, nt_f32(ca->o_w), nt_f32(ca->o_b), 1, D, D, r0, r1);
#pragma omp barrier
            add_into(x, d->f, D);
        }
        /* MLP */
        ln_row(h, x, b->ln_mlp_w, b->ln_mlp_b, D);
        nt_linear_rows(d->u, h, nt_f32(b->fc_w), nt_f32(b->fc_b), 1, D, F, f0, f1);
        for (int j = f0; j < f1; j++) d->u[j] = nt_gelu_f(d->u[j]);
#pragma omp barrier
        nt_linear_rows(d->f, d->u, nt_f32(b->proj_w), nt_f32(b->proj_b), 1, F, D, r0, r1);
#pragma omp barrier
        add_into(x, d->f, D);
    }
    ln_row(h, x, m->decoder.ln_w, m->decoder.ln_b, D);
    nt_linear_rows(d->logits, h, nt_f32(m->embed), NULL, 1, D, V, v0, v1);
#pragma omp barrier
}

static nt_status step_check(nt_decoder *d, const char *fn, int32_t first, int n) {
    if (!d) return nt_error(NT_ERR_ARG, "%s: decoder is NULL", fn);
    if (!d->started) return nt_error(NT_ERR_STATE, "%s: no sequence started (nt_decoder_start)", fn);
    if (first < 0 || first >= d->V)
        return nt_error(NT_ERR_ARG, "%s: token %d outside [0, %d)", fn, (int)first, d->V);
    int lim = d->cap < d->m->cfg.max_len ? d->cap : d->m->cfg.max_len;
    if (d->len + n > lim)
        return nt_error(NT_ERR_ARG, "%s: %d positions fed + %d new exceed the cache's %d", fn, d->len, n, lim);
    return NT_OK;
}

static int threads_for(const nt_decoder *d) {
    int T = omp_get_max_threads();
    return T < d->T ? T : d->T;
}

nt_status nt_decoder_step(nt_decoder *d, int32_t token, const float **logits) {
    NT_TRY(step_check(d, "nt_decoder_step", token, 1));
    if (!logits) return nt_error(NT_ERR_ARG, "nt_decoder_step: logits is NULL");
    int pos = d->len;
#pragma omp parallel num_threads(threads_for(d))
    step_thread(d, omp_get_thread_num(), omp_get_num_threads(), token, pos);
    d->len++;
    *logits = d->logits;
    return NT_OK;
}

nt_status nt_decoder_greedy(nt_decoder *d, int32_t first, int n, int32_t *out) {
    if (n < 0 || (n > 0 && !out)) return nt_error(NT_ERR_ARG, "nt_decoder_greedy: n %d or out NULL", n);
    NT_TRY(step_check(d, "nt_decoder_greedy", first, n));
    int pos0 = d->len;
#pragma omp parallel num_threads(threads_for(d))
    {
        int t = omp_get_thread_num(), T = omp_get_num_threads();
        int32_t tok = first;
        for (int i = 0; i < n; i++) {
            step_thread(d, t, T, tok, pos0 + i);
            /* every thread takes the argmax itself: no barrier for the token */
            int best = nt_logits_argmax(d->logits, d->V);
            tok = best < 0 ? 0 : best;
            if (t == 0) out[i] = tok;
            /* the next step's first write to a shared buffer (att) comes
             * after its own q rows; logits are rewritten only after several
             * barriers, so the argmax reads above are safe. */
        }
    }
    d->len += n;
    return NT_OK;
}
