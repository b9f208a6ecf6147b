/* generate_fast.c - the batch-1 decoder (see generate_fast.h).
 *
 * Letters: D width, H heads, Dh = D / H, F = 4 D MLP width, V vocabulary,
 * L decoder layers, P positions so far (the new one included), S source length.
 *
 * A step is a fixed list of chunks in phases; a chunk writes outputs no other
 * chunk of its phase touches and reads only what earlier phases wrote:
 *
 *   per layer:
 *     self    per head: q, k, v rows of the head (k, v into the cache),
 *             attention over P keys -> att                              H chunks
 *     o       f_j = W_o att + b_o, by row blocks                        n chunks
 *     cross   per head: q rows, attention over the S cross keys -> att  H chunks (encdec)
 *     o       f_j+1 = W_o att + b_o                                     n chunks (encdec)
 *     fc      u = gelu(W_fc h + b_fc), by row blocks                    n chunks
 *     proj    f_j+2 = W_proj u + b_proj, by row blocks                  n chunks
 *   logits    logits = embed h, by row blocks                           n chunks
 *
 * No phase is serial: each thread keeps its own residual stream x and, when
 * a chunk needs h, catches x up from the sublayer outputs f_1 .. f_j of the
 * step (kept apart, each in place for the whole step), then takes the
 * LayerNorm itself; at the start of a step it takes the previous step's
 * argmax (logits double-buffered) and the embedding itself too. The encoder
 * pass (encdec, once per source) is another chunk list over all S rows:
 * embedding + LN and residual + LN by row blocks, q/k/v, o, fc, proj and the
 * cross K/V of every decoder layer by output columns, attention by heads.
 *
 * One parallel region runs a list (per step, per greedy run, per encoder
 * pass). Thread t runs its own chunks of a phase (every T-th: the same
 * weights every step, so each core keeps its half in its cache when it
 * fits), then waits until the phase is done (per-thread counters on their own
 * cache lines), taking over the chunks of a thread that has not entered the
 * phase after ~1 us and anything untaken after ~5 us. So a thread the OS has
 * descheduled (2 cores shared with other work) holds up at most the chunk it
 * is in; there is no barrier.
 *
 * Which thread runs a chunk changes nothing in its result, and the kernels
 * and their summation orders are the generic path's (nt_linear's few-row dot
 * products, nt_attention's single-query path, nt_layernorm's row,
 * nt_add_residual's f + x): a step's logits are bitwise those of
 * nt_model_decode with a cache for the same cross K/V, for any thread count.
 */
#include "nn/generate_fast.h"

#include <math.h>
#include <omp.h>
#include <sched.h>
#include <string.h>

#include "core/alloc.h"
#include "core/kernels.h"
#include "core/vecmath.h"
#include "nn/block.h"
#include "nn/sampling.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
static inline void cpu_relax(void) { _mm_pause(); }
#else
static inline void cpu_relax(void) {}
#endif

/* One chunk of a step. */
typedef enum chunk_kind {
    CH_SELF, CH_CROSS, CH_O_SELF, CH_O_CROSS, CH_FC, CH_PROJ, CH_LOGITS,
    /* the encoder pass over the S source rows (encdec) */
    EN_EMBED, EN_QKV, EN_ATT, EN_O, EN_RES, EN_FC, EN_PROJ, EN_CROSS_KV
} chunk_kind;

typedef struct chunk {
    chunk_kind kind;
    int layer;
    int lo, hi;           /* head (self/cross: lo), or output rows [lo, hi) */
    int wait;             /* chunks of the step that must be done first (its phase's start) */
    const nt_tensor *ln_w, *ln_b; /* EN_EMBED / EN_RES: the LayerNorm that makes h */
    int pt;               /* decoder: the residual point whose h it reads (self, cross, fc,
                             logits) or whose f it writes (o, proj) */
} chunk;

/* What a thread knows of the residual stream of the current run. */
typedef struct tstate {
    _Alignas(64) int step; /* step whose x the thread holds (-1: none) */
    int xpt, hpt;          /* x = x_0 + f_1 + ... + f_xpt; h = LN_hpt(x) (-1: none) */
} tstate;

/* A counter alone on its cache line: the two cores write different ones. */
typedef struct slot {
    _Alignas(64) int64_t v;
} slot;

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
    float *att, *u;           /* (D), (F): the step's shared vectors */
    float *fs;                /* [J + 1][D] sublayer outputs f_1 .. f_J of the step */
    const nt_tensor **ln_pt;  /* [2 (J + 1)] LayerNorm (w, b) applied at each residual point */
    int J;                    /* residual points after the embedding (sublayers) */
    float *logit_buf;         /* [2][V] the logits of even and odd steps */
    float *logits;            /* the last step's */
    float *priv;              /* [T][2 D] each thread's x and h */
    tstate *ts;               /* [T] */
    float *probs;             /* [T][probs_stride] attention probabilities, per thread */
    size_t probs_stride;
    chunk *sched;             /* [n_chunks] one step */
    chunk *enc_sched;         /* [n_enc_chunks] the encoder pass (encdec) */
    int n_enc_chunks;
    /* encoder pass: (S, D) x, h (h = the output, mem, at the end), q, k, v, att, f; (S, F) u */
    int32_t *src;             /* (src_cap) */
    float *ex, *eh, *eq, *ek, *ev, *ea, *ef, *eu;
    int n_chunks;
    /* run state (one parallel region) */
    int pos0;                 /* position of the run's first step */
    int32_t tok;              /* token fed by the current step */
    int32_t *out;             /* greedy: token chosen after each step, or NULL */
    slot *taken;              /* [max chunks] step generation that took each chunk */
    int64_t gen;              /* steps run so far (both lists): generations are unique */
    slot *done;               /* [T] chunks each thread finished in this run */
    slot *entered;            /* [T] the last phase each thread entered (generation << 16 | chunk) */
};

void nt_decoder_free(nt_decoder *d) {
    if (!d) return;
    void *bufs[] = {d->k_self, d->v_self, d->k_cross, d->v_cross, d->att, d->u, d->fs, d->logit_buf, d->priv, d->ts, d->probs,
                    d->ex, d->eh, d->eq, d->ek, d->ev, d->ea, d->ef, d->eu};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) nt_free_aligned(bufs[i]);
    nt_free(d->sched);
    nt_free(d->enc_sched);
    nt_free((void *)d->ln_pt);
    nt_free_aligned(d->taken);
    nt_free_aligned(d->done);
    nt_free_aligned(d->entered);
    nt_free(d->src);
    nt_free(d);
}

/* Floats rounded up to a whole number of 64-byte lines. */
static size_t lines(size_t n) { return (n + 15) / 16 * 16; }

/* Multiply-adds per chunk of a matrix-vector product, about: large enough
 * that taking a chunk costs little against it, small enough that two
 * threads share every matrix. */
#define CHUNK_MACS 32768

/* Appends the chunks of one row-split product (Out, In) to the schedule. */
static int add_rows(chunk *c, int n, chunk_kind kind, int layer, int Out, int In, int wait, int T) {
    int64_t work = (int64_t)Out * In;
    int blocks = (Out + 7) / 8;
    int k = (int)((work + CHUNK_MACS - 1) / CHUNK_MACS);
    if (k < T && work >= CHUNK_MACS / 4) k = T;
    if (k > blocks) k = blocks;
    if (k < 1) k = 1;
    for (int i = 0; i < k; i++) {
        int b0 = (int)((int64_t)blocks * i / k), b1 = (int)((int64_t)blocks * (i + 1) / k);
        int lo = 8 * b0, hi = 8 * b1 < Out ? 8 * b1 : Out;
        if (c) c[n] = (chunk){kind, layer, lo, hi, wait, NULL, NULL, 0};
        n++;
    }
    return n;
}

/* Sets the residual point of chunks [from, n). */
static void set_pt(chunk *c, int from, int n, int pt) {
    for (int i = from; c && i < n; i++) c[i].pt = pt;
}

/* Builds one step's chunk list into c (NULL: counts only); returns its
 * length. ln (or NULL) receives the LayerNorm of each residual point and *J
 * the number of points after the embedding. */
static int build_schedule(chunk *c, const nt_tensor **ln, int *J, const nt_model *m, int T) {
    int D = m->cfg.d_model, H = m->cfg.heads, L = m->decoder.n_layers, F = 4 * D, V = m->cfg.vocab_size;
    int encdec = m->cfg.arch == NT_ARCH_ENCDEC, n = 0, wait, pt = 0, k;
#define LN_AT(P, W, B)                                                                             \
    do {                                                                                           \
        if (ln) ln[2 * (P)] = (W), ln[2 * (P) + 1] = (B);                                          \
    } while (0)
    LN_AT(0, m->decoder.layers[0].ln_self_w, m->decoder.layers[0].ln_self_b);
    for (int l = 0; l < L; l++) {
        const nt_block_params *b = &m->decoder.layers[l];
        wait = n;
        for (int hd = 0; hd < H; hd++, n++)
            if (c) c[n] = (chunk){CH_SELF, l, hd, hd + 1, wait, NULL, NULL, pt};
        k = n, n = add_rows(c, n, CH_O_SELF, l, D, D, n, T), set_pt(c, k, n, ++pt);
        if (encdec) {
            LN_AT(pt, b->ln_cross_w, b->ln_cross_b);
            wait = n;
            for (int hd = 0; hd < H; hd++, n++)
                if (c) c[n] = (chunk){CH_CROSS, l, hd, hd + 1, wait, NULL, NULL, pt};
            k = n, n = add_rows(c, n, CH_O_CROSS, l, D, D, n, T), set_pt(c, k, n, ++pt);
        }
        LN_AT(pt, b->ln_mlp_w, b->ln_mlp_b);
        k = n, n = add_rows(c, n, CH_FC, l, F, D, n, T), set_pt(c, k, n, pt);
        k = n, n = add_rows(c, n, CH_PROJ, l, D, F, n, T), set_pt(c, k, n, ++pt);
        if (l + 1 < L)
            LN_AT(pt, m->decoder.layers[l + 1].ln_self_w, m->decoder.layers[l + 1].ln_self_b);
        else
            LN_AT(pt, m->decoder.ln_w, m->decoder.ln_b);
    }
    k = n, n = add_rows(c, n, CH_LOGITS, 0, V, D, n, T), set_pt(c, k, n, pt);
#undef LN_AT
    *J = pt;
    return n;
}

/* Appends chunks over rows [0, R) in up to T blocks (row-wise work). */
static int add_row_blocks(chunk *c, int n, chunk_kind kind, int layer, int R, int wait, int T,
                          const nt_tensor *w, const nt_tensor *b) {
    int k = T < R ? T : R;
    for (int i = 0; i < k; i++) {
        if (c) c[n] = (chunk){kind, layer, (int)((int64_t)R * i / k), (int)((int64_t)R * (i + 1) / k), wait, w, b, 0};
        n++;
    }
    return n;
}

/* The encoder pass's chunk list (R: rows to plan the split for, src_cap).
 * Row-split phases (EN_EMBED, EN_RES) take rows [lo, hi); the products take
 * output columns [lo, hi) for all S rows; EN_ATT takes a head. */
static int build_enc_schedule(chunk *c, const nt_model *m, int T, int R) {
    int D = m->cfg.d_model, H = m->cfg.heads, F = 4 * D;
    int Le = m->encoder.n_layers, Ld = m->decoder.n_layers, n = 0, wait;
    n = add_row_blocks(c, n, EN_EMBED, 0, R, 0, T, m->encoder.layers[0].ln_self_w,
                       m->encoder.layers[0].ln_self_b);
    for (int l = 0; l < Le; l++) {
        const nt_block_params *b = &m->encoder.layers[l];
        n = add_rows(c, n, EN_QKV, l, 3 * D, D * R, n, T);
        wait = n;
        for (int hd = 0; hd < H; hd++, n++)
            if (c) c[n] = (chunk){EN_ATT, l, hd, hd + 1, wait, NULL, NULL, 0};
        n = add_rows(c, n, EN_O, l, D, D * R, n, T);
        n = add_row_blocks(c, n, EN_RES, l, R, n, T, b->ln_mlp_w, b->ln_mlp_b);
        n = add_rows(c, n, EN_FC, l, F, D * R, n, T);
        n = add_rows(c, n, EN_PROJ, l, D, F * R, n, T);
        if (l + 1 < Le)
            n = add_row_blocks(c, n, EN_RES, l, R, n, T, m->encoder.layers[l + 1].ln_self_w,
                               m->encoder.layers[l + 1].ln_self_b);
        else
            n = add_row_blocks(c, n, EN_RES, l, R, n, T, m->encoder.ln_w, m->encoder.ln_b);
    }
    /* cross K/V of every decoder layer from the encoder output: 2 Ld matrices */
    n = add_rows(c, n, EN_CROSS_KV, 0, 2 * Ld * D, D * R, n, T);
    return n;
}

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
    d->probs_stride = lines(widest);
    d->k_self = nt_malloc_aligned(L * cap * D * sizeof(float));
    d->v_self = nt_malloc_aligned(L * cap * D * sizeof(float));
    if (encdec) {
        d->k_cross = nt_malloc_aligned(L * d->src_cap * D * sizeof(float));
        d->v_cross = nt_malloc_aligned(L * d->src_cap * D * sizeof(float));
    }
    d->n_chunks = build_schedule(NULL, NULL, &d->J, m, d->T);
    d->att = nt_malloc_aligned(lines(D) * sizeof(float));
    d->u = nt_malloc_aligned(lines((size_t)d->F) * sizeof(float));
    d->fs = nt_malloc_aligned((size_t)(d->J + 1) * lines(D) * sizeof(float));
    d->logit_buf = nt_malloc_aligned(2 * lines((size_t)d->V) * sizeof(float));
    d->priv = nt_malloc_aligned((size_t)d->T * 2 * lines(D) * sizeof(float));
    d->ts = nt_malloc_aligned((size_t)d->T * sizeof *d->ts);
    d->probs = nt_malloc_aligned((size_t)d->T * d->probs_stride * sizeof(float));
    d->sched = nt_malloc((size_t)d->n_chunks * sizeof *d->sched);
    d->ln_pt = nt_malloc((size_t)2 * (d->J + 1) * sizeof *d->ln_pt);
    if (!d->k_self || !d->v_self || (encdec && (!d->k_cross || !d->v_cross)) || !d->att || !d->u ||
        !d->fs || !d->logit_buf || !d->priv || !d->ts || !d->probs || !d->sched || !d->ln_pt) {
        nt_decoder_free(d);
        return nt_error(NT_ERR_NOMEM, "%s: out of memory (cache of %d positions)", fn, cap);
    }
    build_schedule(d->sched, d->ln_pt, &d->J, m, d->T);
    d->logits = d->logit_buf;
    if (encdec) {
        size_t SD = (size_t)d->src_cap * D, SF = (size_t)d->src_cap * d->F;
        d->n_enc_chunks = build_enc_schedule(NULL, m, d->T, d->src_cap);
        d->enc_sched = nt_malloc((size_t)d->n_enc_chunks * sizeof *d->enc_sched);
        d->src = nt_malloc((size_t)d->src_cap * sizeof *d->src);
        float **bufs[] = {&d->ex, &d->eh, &d->eq, &d->ek, &d->ev, &d->ea, &d->ef};
        int ok = d->enc_sched && d->src;
        for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) ok &= (*bufs[i] = nt_malloc_aligned(SD * sizeof(float))) != NULL;
        ok &= (d->eu = nt_malloc_aligned(SF * sizeof(float))) != NULL;
        if (!ok) {
            nt_decoder_free(d);
            return nt_error(NT_ERR_NOMEM, "%s: out of memory (encoder of %d rows)", fn, src_cap);
        }
        build_enc_schedule(d->enc_sched, m, d->T, d->src_cap);
    }
    int most = d->n_chunks > d->n_enc_chunks ? d->n_chunks : d->n_enc_chunks;
    d->taken = nt_malloc_aligned((size_t)most * sizeof *d->taken);
    d->done = nt_malloc_aligned((size_t)d->T * sizeof *d->done);
    d->entered = nt_malloc_aligned((size_t)d->T * sizeof *d->entered);
    if (!d->taken || !d->done || !d->entered) {
        nt_decoder_free(d);
        return nt_error(NT_ERR_NOMEM, "%s: out of memory", fn);
    }
    memset(d->taken, 0, (size_t)most * sizeof *d->taken);
    memset(d->entered, 0, (size_t)d->T * sizeof *d->entered);
    *out = d;
    return NT_OK;
}

static void run(nt_decoder *d, const chunk *sched, int C, int n);

int nt_decoder_len(const nt_decoder *d) { return d ? d->len : 0; }

nt_status nt_decoder_start(nt_decoder *d, const int32_t *src, int S) {
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
    if (!src) return nt_error(NT_ERR_ARG, "%s: src is NULL", fn);
    if (S < 1 || S > d->src_cap)
        return nt_error(NT_ERR_ARG, "%s: source length %d outside [1, src_cap %d]", fn, S, d->src_cap);
    for (int i = 0; i < S; i++)
        if (src[i] < 0 || src[i] >= d->V)
            return nt_error(NT_ERR_ARG, "%s: src[%d] = %d outside [0, %d)", fn, i, (int)src[i], d->V);
    memcpy(d->src, src, (size_t)S * sizeof *src);
    d->S = S;
    run(d, d->enc_sched, d->n_enc_chunks, 1);
    d->S = S;
    d->started = 1;
    return NT_OK;
}

/* ---- the step ---------------------------------------------------------------- */

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

/* The greedy token after step `step` of this run (its logits), which it
 * also records in out. Every thread that needs it computes it: no chunk, no
 * wait; the logits of a step stay in their buffer until step + 2. */
static int32_t token_after(nt_decoder *d, int step) {
    int best = nt_logits_argmax(d->logit_buf + (size_t)(step & 1) * lines((size_t)d->V), d->V);
    int32_t tok = best < 0 ? 0 : best;
    if (d->out) __atomic_store_n(&d->out[step], tok, __ATOMIC_RELAXED);
    return tok;
}

/* Thread t's h at residual point pt of the step: x caught up from the
 * sublayer outputs f_1 .. f_pt (each f + x, nt_add_residual's order), then
 * the point's LayerNorm. Each thread keeps its own x and h, so no chunk of
 * the step is serial; f_k stays in place for the whole step. */
static const float *ensure_h(nt_decoder *d, int t, int step, int pos, int pt) {
    const int D = d->D;
    tstate *ts = &d->ts[t];
    float *x = d->priv + (size_t)t * 2 * lines((size_t)D), *h = x + lines((size_t)D);
    if (ts->step != step) {
        int32_t tok = step == 0 ? d->tok : token_after(d, step - 1);
        const float *e = nt_f32(d->m->embed) + (size_t)tok * D;
        const float *pe = nt_f32(d->m->decoder.pos) + (size_t)pos * D;
        for (int j = 0; j < D; j++) x[j] = e[j] + pe[j];
        ts->step = step, ts->xpt = 0, ts->hpt = -1;
    }
    while (ts->xpt < pt) {
        const float *f = d->fs + (size_t)++ts->xpt * lines((size_t)D);
        for (int j = 0; j < D; j++) x[j] = f[j] + x[j];
    }
    if (ts->hpt != pt) {
        ln_row(h, x, d->ln_pt[2 * pt], d->ln_pt[2 * pt + 1], D);
        ts->hpt = pt;
    }
    return h;
}

/* Runs chunk ch of the step at position pos on thread t; s is its scratch. */
static void run_chunk(nt_decoder *d, const chunk *ch, int step, int pos, float *s, int t) {
    nt_model *m = d->m;
    const int D = d->D, Dh = d->Dh, F = d->F, V = d->V, l = ch->layer, S = d->S;
    const nt_block_params *b = ch->kind < EN_EMBED ? &m->decoder.layers[l] : &m->encoder.layers[l];
    float *fout = d->fs + (size_t)ch->pt * lines((size_t)D); /* o, proj: f of their point */
    switch (ch->kind) {
    case CH_SELF: {
        /* q, k, v of the head (k, v straight into the cache), then its attention;
         * q sits in att's head slice until the attention output replaces it */
        const float *h = ensure_h(d, t, step, pos, ch->pt);
        const nt_attn_params *a = &b->self_attn;
        float *Kc = d->k_self + (size_t)l * d->cap * D, *Vc = d->v_self + (size_t)l * d->cap * D;
        int c0 = ch->lo * Dh, c1 = c0 + Dh;
        nt_linear_rows(d->att, h, nt_f32(a->q_w), nt_f32(a->q_b), 1, D, D, c0, c1);
        nt_linear_rows(Kc + (size_t)pos * D, h, nt_f32(a->k_w), nt_f32(a->k_b), 1, D, D, c0, c1);
        nt_linear_rows(Vc + (size_t)pos * D, h, nt_f32(a->v_w), nt_f32(a->v_b), 1, D, D, c0, c1);
        nt_attention_row(d->att + c0, d->att + c0, Kc + c0, Vc + c0, pos + 1, Dh, D, d->scale, s);
        break;
    }
    case CH_CROSS: {
        const float *h = ensure_h(d, t, step, pos, ch->pt);
        const nt_attn_params *a = &b->cross_attn;
        size_t co = (size_t)l * d->src_cap * D;
        int c0 = ch->lo * Dh, c1 = c0 + Dh;
        nt_linear_rows(d->att, h, nt_f32(a->q_w), nt_f32(a->q_b), 1, D, D, c0, c1);
        nt_attention_row(d->att + c0, d->att + c0, d->k_cross + co + c0, d->v_cross + co + c0, S, Dh, D,
                         d->scale, s);
        break;
    }
    case CH_O_SELF:
    case CH_O_CROSS: {
        const nt_attn_params *a = ch->kind == CH_O_SELF ? &b->self_attn : &b->cross_attn;
        nt_linear_rows(fout, d->att, nt_f32(a->o_w), nt_f32(a->o_b), 1, D, D, ch->lo, ch->hi);
        break;
    }
    case CH_FC: {
        const float *h = ensure_h(d, t, step, pos, ch->pt);
        nt_linear_rows(d->u, h, nt_f32(b->fc_w), nt_f32(b->fc_b), 1, D, F, ch->lo, ch->hi);
        for (int j = ch->lo; j < ch->hi; j++) d->u[j] = nt_gelu_f(d->u[j]);
        break;
    }
    case CH_PROJ:
        nt_linear_rows(fout, d->u, nt_f32(b->proj_w), nt_f32(b->proj_b), 1, F, D, ch->lo, ch->hi);
        break;
    case CH_LOGITS: {
        const float *h = ensure_h(d, t, step, pos, ch->pt);
        float *lg = d->logit_buf + (size_t)(step & 1) * lines((size_t)V);
        nt_linear_rows(lg, h, nt_f32(m->embed), NULL, 1, D, V, ch->lo, ch->hi);
        break;
    }
    case EN_EMBED:
        for (int r = ch->lo; r < ch->hi; r++) {
            float *x = d->ex + (size_t)r * D;
            const float *e = nt_f32(m->embed) + (size_t)d->src[r] * D;
            const float *pe = nt_f32(m->encoder.pos) + (size_t)r * D;
            for (int j = 0; j < D; j++) x[j] = e[j] + pe[j];
            ln_row(d->eh + (size_t)r * D, x, ch->ln_w, ch->ln_b, D);
        }
        break;
    case EN_QKV: {
        const nt_attn_params *a = &b->self_attn;
        const nt_tensor *W[3] = {a->q_w, a->k_w, a->v_w}, *B[3] = {a->q_b, a->k_b, a->v_b};
        float *Y[3] = {d->eq, d->ek, d->ev};
        for (int k = 0; k < 3; k++) {
            int o0 = ch->lo - k * D, o1 = ch->hi - k * D;
            o0 = o0 < 0 ? 0 : o0;
            o1 = o1 > D ? D : o1;
            if (o0 < o1) nt_linear_rows(Y[k], d->eh, nt_f32(W[k]), nt_f32(B[k]), S, D, D, o0, o1);
        }
        break;
    }
    case EN_ATT: {
        int c0 = ch->lo * Dh;
        for (int i = 0; i < S; i++)
            nt_attention_row(d->ea + (size_t)i * D + c0, d->eq + (size_t)i * D + c0, d->ek + c0, d->ev + c0, S,
                             Dh, D, d->scale, s);
        break;
    }
    case EN_O:
        nt_linear_rows(d->ef, d->ea, nt_f32(b->self_attn.o_w), nt_f32(b->self_attn.o_b), S, D, D, ch->lo, ch->hi);
        break;
    case EN_RES:
        for (int r = ch->lo; r < ch->hi; r++) {
            float *x = d->ex + (size_t)r * D;
            const float *f = d->ef + (size_t)r * D;
            for (int j = 0; j < D; j++) x[j] = f[j] + x[j];
            ln_row(d->eh + (size_t)r * D, x, ch->ln_w, ch->ln_b, D);
        }
        break;
    case EN_FC:
        nt_linear_rows(d->eu, d->eh, nt_f32(b->fc_w), nt_f32(b->fc_b), S, D, F, ch->lo, ch->hi);
        for (int r = 0; r < S; r++) {
            float *u = d->eu + (size_t)r * F;
            for (int j = ch->lo; j < ch->hi; j++) u[j] = nt_gelu_f(u[j]);
        }
        break;
    case EN_PROJ:
        nt_linear_rows(d->ef, d->eu, nt_f32(b->proj_w), nt_f32(b->proj_b), S, F, D, ch->lo, ch->hi);
        break;
    case EN_CROSS_KV:
        /* columns of [layer][k, v][D] */
        for (int g = ch->lo / D; g * D < ch->hi; g++) {
            int o0 = ch->lo - g * D, o1 = ch->hi - g * D;
            o0 = o0 < 0 ? 0 : o0;
            o1 = o1 > D ? D : o1;
            const nt_attn_params *a = &m->decoder.layers[g / 2].cross_attn;
            float *Y = (g % 2 ? d->v_cross : d->k_cross) + (size_t)(g / 2) * d->src_cap * D;
            if (o0 < o1)
                nt_linear_rows(Y, d->eh, nt_f32(g % 2 ? a->v_w : a->k_w), nt_f32(g % 2 ? a->v_b : a->k_b), S, D, D, o0, o1);
        }
        break;
    }
}

/* Spins (a pause is ~20 ns here) before a waiting thread takes the chunks
 * of a thread that has not entered the phase (~1 us: it is descheduled, or
 * its core is busy elsewhere), before it takes whatever is still untaken
 * (~5 us: the owner stalled inside the phase), and before it starts yielding
 * the core. */
#define ABSENT_SPINS 50
#define STEAL_SPINS 250
#define YIELD_SPINS 2000

/* Takes chunk k for step generation g; 0 if another thread has it. */
static int claim(nt_decoder *d, int k, int64_t g) {
    int64_t v = __atomic_load_n(&d->taken[k].v, __ATOMIC_RELAXED);
    return v < g && __atomic_compare_exchange_n(&d->taken[k].v, &v, g, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

/* Runs chunk ch and counts it in thread t's counter (written by t only). */
static void exec(nt_decoder *d, const chunk *ch, int step, float *s, int t) {
    run_chunk(d, ch, step, d->pos0 + step, s, t);
    __atomic_store_n(&d->done[t].v, d->done[t].v + 1, __ATOMIC_RELEASE);
}

/* Chunks finished by all T threads. */
static int64_t done_count(const nt_decoder *d, int T) {
    int64_t n = 0;
    for (int i = 0; i < T; i++) n += __atomic_load_n(&d->done[i].v, __ATOMIC_ACQUIRE);
    return n;
}

/* The body of the parallel region: n runs of the chunk list sched (C
 * chunks), phase after phase. Thread t first runs its own chunks of a phase
 * (every T-th, starting at t: the same weights every step, so they stay in
 * its core's cache when they fit), then waits for the phase to finish; a
 * wait that lasts STEAL_SPINS takes whatever chunks are still untaken (their
 * owner is late, e.g. descheduled), and a long wait yields the core. */
static void run_chunks(nt_decoder *d, const chunk *sched, int C, int n, int t, int T) {
    float *s = d->probs + (size_t)t * d->probs_stride;
    for (int step = 0; step < n; step++) {
        int64_t g = d->gen + step + 1;
        for (int k0 = 0, k1; k0 < C; k0 = k1) {
            for (k1 = k0 + 1; k1 < C && sched[k1].wait == sched[k0].wait;) k1++;
            int64_t seq = g << 16 | k0; /* this phase, unique and increasing */
            __atomic_store_n(&d->entered[t].v, seq, __ATOMIC_RELAXED);
            for (int k = k0 + t; k < k1; k += T)
                if (claim(d, k, g)) exec(d, &sched[k], step, s, t);
            int64_t need = (int64_t)step * C + k1;
            for (int spins = 0; done_count(d, T) < need; spins++) {
                if (spins == ABSENT_SPINS)
                    for (int u = 0; u < T; u++)
                        if (u != t && __atomic_load_n(&d->entered[u].v, __ATOMIC_RELAXED) < seq)
                            for (int k = k0 + u; k < k1; k += T)
                                if (claim(d, k, g)) exec(d, &sched[k], step, s, t);
                if (spins == STEAL_SPINS)
                    for (int k = k0; k < k1; k++)
                        if (claim(d, k, g)) exec(d, &sched[k], step, s, t);
                if (spins < YIELD_SPINS)
                    cpu_relax();
                else
                    sched_yield();
            }
        }
    }
}

/* Runs sched n times in one parallel region (or on this thread alone). */
static void run(nt_decoder *d, const chunk *sched, int C, int n) {
    int T = omp_get_max_threads();
    if (T > d->T) T = d->T;
    for (int i = 0; i < T; i++) d->done[i].v = 0, d->ts[i].step = -1;
    if (T > 1) {
#pragma omp parallel num_threads(T)
        run_chunks(d, sched, C, n, omp_get_thread_num(), omp_get_num_threads());
    } else {
        run_chunks(d, sched, C, n, 0, 1);
    }
    d->gen += n;
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

/* n steps from token `first` at the next position; out as in d->out. */
static void run_decode(nt_decoder *d, int32_t first, int n, int32_t *out) {
    d->pos0 = d->len;
    d->tok = first;
    d->out = out;
    run(d, d->sched, d->n_chunks, n);
    d->len += n;
    d->logits = d->logit_buf + (size_t)((n - 1) & 1) * lines((size_t)d->V);
    if (out) token_after(d, n - 1);
}

nt_status nt_decoder_step(nt_decoder *d, int32_t token, const float **logits) {
    NT_TRY(step_check(d, "nt_decoder_step", token, 1));
    if (!logits) return nt_error(NT_ERR_ARG, "nt_decoder_step: logits is NULL");
    run_decode(d, token, 1, NULL);
    *logits = d->logits;
    return NT_OK;
}

nt_status nt_decoder_greedy(nt_decoder *d, int32_t first, int n, int32_t *out) {
    if (n < 0 || (n > 0 && !out)) return nt_error(NT_ERR_ARG, "nt_decoder_greedy: n %d or out NULL", n);
    NT_TRY(step_check(d, "nt_decoder_greedy", first, n));
    if (n > 0) run_decode(d, first, n, out);
    return NT_OK;
}
