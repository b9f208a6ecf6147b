/* infer.c - the no-grad decode path (see infer.h).
 *
 * Letters: D width, H heads, Dh = D / H, F = 4 D MLP width, V vocabulary,
 * L decoder layers, Q items (tokens) of a pass, P positions of a row so far,
 * S a source's length, Re the encoder rows of a pass (sources concatenated).
 *
 * A pass is a fixed list of chunks in phases; a chunk writes outputs no other
 * chunk of its phase touches and reads only what earlier phases wrote:
 *
 *   per layer:
 *     self    per head: q, k, v of every item (k, v into the rows' caches),
 *             then each item's attention over its row's P keys -> att  H chunks
 *     o       f_j = W_o att + b_o, by output blocks                    n chunks
 *     cross   per head: q, attention over the row's source keys       H chunks (encdec)
 *     o       f_j+1 = W_o att + b_o                                    n chunks (encdec)
 *     fc      u = gelu(W_fc h + b_fc), by output blocks                n chunks
 *     proj    f_j+2 = W_proj u + b_proj, by output blocks              n chunks
 *   logits    logits = embed h of the items that want logits          n chunks
 *
 * No phase is serial: each thread keeps its own residual stream x (Q, D)
 * and, when a chunk needs h, catches x up from the sublayer outputs f_1 ..
 * f_j of the pass (each in place for the whole pass), then takes the
 * LayerNorm itself (and the embedding at the start). The encoder pass is
 * another chunk list over the Re source rows: embedding + LN and residual +
 * LN by row blocks, q/k/v, o, fc, proj and the cross K/V of every decoder
 * layer by output columns, attention by heads (each row over its own
 * source's keys).
 *
 * One parallel region runs a list. Thread t runs its own chunks of a phase
 * (every T-th), then waits until the phase is done (per-thread counters on
 * their own cache lines), taking over the chunks of a thread that has not
 * entered the phase after ~1 us and anything untaken after ~5 us, so a
 * descheduled thread (2 cores shared with other work) holds up at most the
 * chunk it is in; there is no barrier.
 *
 * Which thread runs a chunk, and which rows share a pass, change nothing in
 * a row's result: every kernel computes a row alone (nt_linear_rows' per-row
 * order, nt_attention_row, the LayerNorm row).
 */
#include "nn/infer.h"

#include <math.h>
#include <omp.h>
#include <sched.h>
#include <string.h>

#include "core/alloc.h"
#include "core/bf16.h"
#include "core/decode_pool.h"
#include "core/gemm.h"
#include "core/kernels.h"
#include "core/vecmath.h"
#include "nn/block.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
static inline void cpu_relax(void) { _mm_pause(); }
#else
static inline void cpu_relax(void) {}
#endif

typedef enum chunk_kind {
    CH_SELF, CH_CROSS, CH_O_SELF, CH_O_CROSS, CH_FC, CH_PROJ, CH_LOGITS,
    /* the encoder pass */
    EN_EMBED, EN_QKV, EN_ATT, EN_O, EN_RES, EN_FC, EN_PROJ, EN_CROSS_KV
} chunk_kind;

typedef struct chunk {
    chunk_kind kind;
    int layer;
    int lo, hi;           /* head (self/cross/att: lo), output columns or rows [lo, hi) */
    int wait;             /* index of the first chunk of its phase */
    const nt_tensor *ln_w, *ln_b; /* EN_EMBED / EN_RES: the LayerNorm that makes h */
    int pt;               /* decoder: residual point whose h it reads or whose f it writes */
} chunk;

typedef struct tstate {
    _Alignas(64) int fresh; /* 1 once x holds this pass's embedding */
    int xpt, hpt;           /* x = x_0 + f_1 + ... + f_xpt; h = LN_hpt(x) (-1: none) */
} tstate;

typedef struct slot {
    _Alignas(64) int64_t v;
} slot;

struct nt_infer {
    nt_model *m;
    int D, H, Dh, F, V, L, encdec, bf16, enc_gemm;
    int rows_cap, cap, n_src, src_cap, items, enc_items, T;
    float scale;
    /* caches */
    float *k_self, *v_self;   /* [L][rows_cap][cap][D] */
    float *k_cross, *v_cross; /* [L][n_src][src_cap][D] */
    int *src_len;             /* (n_src) S of each slot, 0 = not encoded */
    int rows, started;
    int *len, *slot_of, *tmp; /* (rows_cap) */
    int *phys;                /* (rows_cap) the cache slot of each row */
    int *uses, *spare;        /* (rows_cap) select's scratch: uses of old rows, free slots */
    /* the decoder pass */
    int Q, n_out;
    int *it_row, *it_pos, *out_it;  /* (items) */
    int32_t *it_tok;
    float *logits;            /* the caller's, (n_out, V) or NULL */
    float *att, *kt, *vt, *u; /* (items, D) x3, (items, F) */
    float *fs;                /* [J + 1][items][D] */
    const nt_tensor **ln_pt;  /* [2 (J + 1)] */
    int J;
    float *priv;              /* [T][3][items][D]: x, h, gathered h */
    tstate *ts;
    float *probs;             /* [T][probs_stride] */
    size_t probs_stride;
    chunk *sched, *enc_sched;
    int n_chunks, n_enc_chunks;
    /* the encoder pass */
    int Re, n_seg;
    int32_t *e_tok;           /* (items) */
    int *e_pos, *e_lo, *e_hi; /* (items) position, its source's rows [lo, hi) */
    int *seg_lo, *seg_slot;   /* (items) segment starts (n_seg + 1) and slots */
    float *ex, *eh, *eq, *ek, *ev, *ea, *ef, *eu;
    /* run state */
    slot *taken, *done, *entered;
    int64_t gen;
};

void nt_infer_free(nt_infer *d) {
    if (!d) return;
    void *al[] = {d->k_self, d->v_self, d->k_cross, d->v_cross, d->att, d->kt, d->vt, d->u, d->fs,
                  d->priv, d->ts, d->probs, d->ex, d->eh, d->eq, d->ek, d->ev, d->ea, d->ef, d->eu,
                  d->taken, d->done, d->entered};
    for (size_t i = 0; i < sizeof al / sizeof *al; i++) nt_free_aligned(al[i]);
    void *pl[] = {d->src_len, d->len, d->slot_of, d->tmp, d->phys, d->uses, d->spare, d->it_row, d->it_pos, d->out_it,
                  d->it_tok, (void *)d->ln_pt, d->sched, d->enc_sched, d->e_tok, d->e_pos, d->e_lo,
                  d->e_hi, d->seg_lo, d->seg_slot};
    for (size_t i = 0; i < sizeof pl / sizeof *pl; i++) nt_free(pl[i]);
    nt_free(d);
}

/* Floats rounded up to whole 64-byte lines. */
static size_t lines(size_t n) { return (n + 15) / 16 * 16; }

/* Multiply-adds per chunk (for one row), about. */
#define CHUNK_MACS 32768
/* Rows per call of the few-row kernel: the weights of a chunk are read once
 * per tile (the kernel runs its rows over each L1-sized piece of them). */
#define ROW_TILE 64

static int add_rows(chunk *c, int n, chunk_kind kind, int layer, int Out, int64_t In, int wait, int T) {
    int64_t work = (int64_t)Out * In;
    int blocks = (Out + 7) / 8;
    int64_t k = (work + CHUNK_MACS - 1) / CHUNK_MACS;
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

static void set_pt(chunk *c, int from, int n, int pt) {
    for (int i = from; c && i < n; i++) c[i].pt = pt;
}

/* The decoder pass's list (c NULL: count only); ln receives each residual
 * point's LayerNorm, *J the points after the embedding. */
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

/* Chunks over rows [0, R) in up to T blocks. */
static int add_row_blocks(chunk *c, int n, chunk_kind kind, int layer, int R, int wait, int T,
                          const nt_tensor *w, const nt_tensor *b) {
    int k = T < R ? T : R;
    for (int i = 0; i < k; i++) {
        if (c) c[n] = (chunk){kind, layer, (int)((int64_t)R * i / k), (int)((int64_t)R * (i + 1) / k), wait, w, b, 0};
        n++;
    }
    return n;
}

/* Chunks of a product over all the encoder's rows, by output columns: 2 T
 * strips, multiples of 32 (nt_sgemm's tile width). */
static int add_cols(chunk *c, int n, chunk_kind kind, int layer, int Out, int wait, int T) {
    int tiles = (Out + 31) / 32, k = 2 * T < tiles ? 2 * T : tiles;
    for (int i = 0; i < k; i++) {
        int lo = 32 * (int)((int64_t)tiles * i / k), hi = 32 * (int)((int64_t)tiles * (i + 1) / k);
        if (c) c[n] = (chunk){kind, layer, lo, hi < Out ? hi : Out, wait, NULL, NULL, 0};
        n++;
    }
    return n;
}

/* The encoder pass's list, planned for R rows (the rows of a pass). */
static int build_enc_schedule(chunk *c, const nt_model *m, int T, int R) {
    int D = m->cfg.d_model, H = m->cfg.heads, F = 4 * D;
    int Le = m->encoder.n_layers, Ld = m->decoder.n_layers, n = 0, wait;
    n = add_row_blocks(c, n, EN_EMBED, 0, R, 0, T, m->encoder.layers[0].ln_self_w,
                       m->encoder.layers[0].ln_self_b);
    for (int l = 0; l < Le; l++) {
        const nt_block_params *b = &m->encoder.layers[l];
        n = add_cols(c, n, EN_QKV, l, 3 * D, n, T);
        wait = n;
        for (int hd = 0; hd < H; hd++, n++)
            if (c) c[n] = (chunk){EN_ATT, l, hd, hd + 1, wait, NULL, NULL, 0};
        n = add_cols(c, n, EN_O, l, D, n, T);
        n = add_row_blocks(c, n, EN_RES, l, R, n, T, b->ln_mlp_w, b->ln_mlp_b);
        n = add_cols(c, n, EN_FC, l, F, n, T);
        n = add_cols(c, n, EN_PROJ, l, D, n, T);
        if (l + 1 < Le)
            n = add_row_blocks(c, n, EN_RES, l, R, n, T, m->encoder.layers[l + 1].ln_self_w,
                               m->encoder.layers[l + 1].ln_self_b);
        else
            n = add_row_blocks(c, n, EN_RES, l, R, n, T, m->encoder.ln_w, m->encoder.ln_b);
    }
    n = add_cols(c, n, EN_CROSS_KV, 0, 2 * Ld * D, n, T);
    return n;
}

nt_status nt_infer_new(nt_infer **out, nt_model *m, const nt_infer_config *cfg) {
    static const char *fn = "nt_infer_new";
    if (!out || !m || !cfg) return nt_error(NT_ERR_ARG, "%s: out, model or config is NULL", fn);
    const nt_model_config *c = &m->cfg;
    int encdec = c->arch == NT_ARCH_ENCDEC;
    if (cfg->rows < 1) return nt_error(NT_ERR_ARG, "%s: rows %d, expected >= 1", fn, cfg->rows);
    if (cfg->cap < 1 || cfg->cap > c->max_len)
        return nt_error(NT_ERR_ARG, "%s: cap %d outside [1, max_len %d]", fn, cfg->cap, c->max_len);
    if (encdec && (cfg->src_cap < 1 || cfg->src_cap > c->max_len))
        return nt_error(NT_ERR_ARG, "%s: src_cap %d outside [1, max_len %d]", fn, cfg->src_cap, c->max_len);
    if (encdec && cfg->sources < 1)
        return nt_error(NT_ERR_ARG, "%s: sources %d, expected >= 1", fn, cfg->sources);
    if (cfg->items < 0 || cfg->enc_items < 0)
        return nt_error(NT_ERR_ARG, "%s: items %d / enc_items %d, expected >= 0", fn, cfg->items, cfg->enc_items);
    nt_infer *d = nt_calloc(1, sizeof *d);
    if (!d) return nt_error(NT_ERR_NOMEM, "%s: out of memory", fn);
    d->m = m;
    d->D = c->d_model;
    d->H = c->heads;
    d->Dh = c->d_model / c->heads;
    d->F = 4 * c->d_model;
    d->V = c->vocab_size;
    d->L = m->decoder.n_layers;
    d->encdec = encdec;
    d->bf16 = cfg->bf16 != 0;
    d->enc_gemm = strcmp(nt_sgemm_backend(), "openblas") != 0;
    d->rows_cap = cfg->rows;
    d->cap = cfg->cap;
    d->n_src = encdec ? cfg->sources : 0;
    d->src_cap = encdec ? cfg->src_cap : 0;
    d->items = cfg->items ? cfg->items : (cfg->rows > 256 ? cfg->rows : 256);
    if (d->items < cfg->rows) d->items = cfg->rows;
    d->enc_items = cfg->enc_items > d->items ? cfg->enc_items : d->items;
    if (d->enc_items < d->src_cap) d->enc_items = d->src_cap;
    d->scale = 1.0f / sqrtf((float)d->Dh);
    d->T = omp_get_max_threads();
    size_t D = (size_t)d->D, L = (size_t)d->L, Q = (size_t)d->items, R = (size_t)d->rows_cap;
    size_t widest = (size_t)(d->cap > d->src_cap ? d->cap : d->src_cap);
    d->probs_stride = lines(widest);
    d->n_chunks = build_schedule(NULL, NULL, &d->J, m, d->T);
    int ok = 1;
#define AL(p, n) ok &= ((p) = nt_malloc_aligned((size_t)(n) * sizeof *(p))) != NULL
#define PL(p, n) ok &= ((p) = nt_calloc((size_t)(n) > 0 ? (size_t)(n) : 1, sizeof *(p))) != NULL
    AL(d->k_self, L * R * d->cap * D);
    AL(d->v_self, L * R * d->cap * D);
    PL(d->phys, R);
    PL(d->uses, R);
    PL(d->spare, R);
    PL(d->len, R);
    PL(d->slot_of, R);
    PL(d->tmp, R);
    PL(d->it_row, Q);
    PL(d->it_pos, Q);
    PL(d->out_it, Q);
    PL(d->it_tok, Q);
    AL(d->att, Q * D);
    AL(d->kt, Q * D);
    AL(d->vt, Q * D);
    AL(d->u, Q * d->F);
    AL(d->fs, (size_t)(d->J + 1) * Q * D);
    AL(d->priv, (size_t)d->T * 3 * Q * D);
    AL(d->ts, d->T);
    AL(d->probs, (size_t)d->T * d->probs_stride);
    PL(d->sched, d->n_chunks);
    PL(d->ln_pt, 2 * (d->J + 1));
    if (encdec) {
        AL(d->k_cross, L * d->n_src * d->src_cap * D);
        AL(d->v_cross, L * d->n_src * d->src_cap * D);
        PL(d->src_len, d->n_src);
        size_t E = (size_t)d->enc_items;
        PL(d->e_tok, E);
        PL(d->e_pos, E);
        PL(d->e_lo, E);
        PL(d->e_hi, E);
        PL(d->seg_lo, E + 1);
        PL(d->seg_slot, E);
        AL(d->ex, E * D);
        AL(d->eh, E * D);
        AL(d->eq, E * D);
        AL(d->ek, E * D);
        AL(d->ev, E * D);
        AL(d->ea, E * D);
        AL(d->ef, E * D);
        AL(d->eu, E * d->F);
        d->n_enc_chunks = build_enc_schedule(NULL, m, d->T, d->enc_items);
        PL(d->enc_sched, d->n_enc_chunks);
    }
    int most = d->n_chunks > d->n_enc_chunks ? d->n_chunks : d->n_enc_chunks;
    AL(d->taken, most);
    AL(d->done, d->T);
    AL(d->entered, d->T);
#undef AL
#undef PL
    if (!ok) {
        nt_infer_free(d);
        return nt_error(NT_ERR_NOMEM, "%s: out of memory (%d rows of %d positions)", fn, cfg->rows, cfg->cap);
    }
    build_schedule(d->sched, d->ln_pt, &d->J, m, d->T);
    if (encdec) build_enc_schedule(d->enc_sched, m, d->T, d->enc_items);
    memset(d->taken, 0, (size_t)most * sizeof *d->taken);
    memset(d->entered, 0, (size_t)d->T * sizeof *d->entered);
    *out = d;
    return NT_OK;
}

int nt_infer_rows(const nt_infer *d) { return d && d->started ? d->rows : 0; }

int nt_infer_len(const nt_infer *d, int r) {
    return d && d->started && r >= 0 && r < d->rows ? d->len[r] : 0;
}

/* ---- kernels ------------------------------------------------------------------ */

/* Y[r, o0..o1) = X[r] W^T + b for r < R, in tiles of rows; bf16 copies of W
 * when the decoder runs in bf16. */
static void lin(const nt_infer *d, float *Y, const float *X, const nt_tensor *w, const nt_tensor *b, int R,
                int In, int Out, int o0, int o1) {
    const float *bias = b ? nt_f32(b) : NULL;
    const nt_bf16 *wh = d->bf16 ? nt_params_bf16_of(w) : NULL;
    for (int r0 = 0; r0 < R; r0 += ROW_TILE) {
        int n = R - r0 < ROW_TILE ? R - r0 : ROW_TILE;
        if (wh)
            nt_linear_rows_bf16(Y + (size_t)r0 * Out, X + (size_t)r0 * In, wh, bias, n, In, Out, o0, o1);
        else
            nt_linear_rows(Y + (size_t)r0 * Out, X + (size_t)r0 * In, nt_f32(w), bias, n, In, Out, o0, o1);
    }
}

/* The encoder's products for a source of S tokens: nt_sgemm when S >
 * ENC_FEW_ROWS (its every element is the same FMA chain wherever it sits
 * in the matrix, core/gemm.h; bias first, as nt_linear), else the few-row
 * kernel (as nt_linear for up to 16 rows). The choice depends on the
 * source's own length only, so a source encodes the same in any pass.
 * Always the few-row kernel in bf16, or when nt_sgemm is OpenBLAS (the
 * portable level, NT_GEMM=openblas), which promises no such invariance. */
#define ENC_FEW_ROWS 16

static int enc_gemm(const nt_infer *d, int S) { return !d->bf16 && d->enc_gemm && S > ENC_FEW_ROWS; }

static void lin_enc_rows(const nt_infer *d, float *Y, const float *X, const nt_tensor *w, const nt_tensor *b, int R,
                         int In, int Out, int o0, int o1, int gemm) {
    if (!gemm || R < 1) {
        lin(d, Y, X, w, b, R, In, Out, o0, o1);
        return;
    }
    if (b)
        for (int r = 0; r < R; r++) memcpy(Y + (size_t)r * Out + o0, nt_f32(b) + o0, (size_t)(o1 - o0) * sizeof(float));
    nt_sgemm(0, 1, R, o1 - o0, In, 1.0f, X, In, nt_f32(w) + (size_t)o0 * In, In, b ? 1.0f : 0.0f, Y + o0, Out);
}

/* Over every row of the pass: runs of consecutive sources on the same kernel. */
static void lin_enc(const nt_infer *d, float *Y, const float *X, const nt_tensor *w, const nt_tensor *b, int R,
                    int In, int Out, int o0, int o1) {
    (void)R;
    for (int s0 = 0, s1; s0 < d->n_seg; s0 = s1) {
        int g = enc_gemm(d, d->seg_lo[s0 + 1] - d->seg_lo[s0]);
        for (s1 = s0 + 1; s1 < d->n_seg && enc_gemm(d, d->seg_lo[s1 + 1] - d->seg_lo[s1]) == g;) s1++;
        int r0 = d->seg_lo[s0];
        lin_enc_rows(d, Y + (size_t)r0 * Out, X + (size_t)r0 * In, w, b, d->seg_lo[s1] - r0, In, Out, o0, o1, g);
    }
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

/* Thread t's x (Q, D), h (Q, D) and gather buffer. */
static float *priv(const nt_infer *d, int t, int which) {
    return d->priv + ((size_t)t * 3 + which) * d->items * d->D;
}

/* Thread t's h at residual point pt for every item: x caught up from f_1 ..
 * f_pt (f + x, nt_add_residual's order), then the point's LayerNorm. */
static const float *ensure_h(nt_infer *d, int t, int pt) {
    const int D = d->D, Q = d->Q;
    tstate *ts = &d->ts[t];
    float *x = priv(d, t, 0), *h = priv(d, t, 1);
    if (!ts->fresh) {
        for (int i = 0; i < Q; i++) {
            const float *e = nt_f32(d->m->embed) + (size_t)d->it_tok[i] * D;
            const float *pe = nt_f32(d->m->decoder.pos) + (size_t)d->it_pos[i] * D;
            float *xi = x + (size_t)i * D;
            for (int j = 0; j < D; j++) xi[j] = e[j] + pe[j];
        }
        ts->fresh = 1, ts->xpt = 0, ts->hpt = -1;
    }
    while (ts->xpt < pt) {
        const float *f = d->fs + (size_t)++ts->xpt * d->items * D;
        for (size_t j = 0; j < (size_t)Q * D; j++) x[j] = f[j] + x[j];
    }
    if (ts->hpt != pt) {
        for (int i = 0; i < Q; i++) ln_row(h + (size_t)i * D, x + (size_t)i * D, d->ln_pt[2 * pt], d->ln_pt[2 * pt + 1], D);
        ts->hpt = pt;
    }
    return h;
}

static void run_chunk(nt_infer *d, const chunk *ch, float *s, int t) {
    nt_model *m = d->m;
    const int D = d->D, Dh = d->Dh, F = d->F, V = d->V, l = ch->layer, Q = d->Q, Re = d->Re;
    const nt_block_params *b = ch->kind < EN_EMBED ? &m->decoder.layers[l] : &m->encoder.layers[l];
    float *fout = d->fs + (size_t)ch->pt * d->items * D;
    switch (ch->kind) {
    case CH_SELF: {
        /* q, k, v of the head for every item, k and v into the caches (all
         * of them before any attention: a prompt's items see each other) */
        const float *h = ensure_h(d, t, ch->pt);
        const nt_attn_params *a = &b->self_attn;
        int c0 = ch->lo * Dh, c1 = c0 + Dh;
        lin(d, d->att, h, a->q_w, a->q_b, Q, D, D, c0, c1);
        lin(d, d->kt, h, a->k_w, a->k_b, Q, D, D, c0, c1);
        lin(d, d->vt, h, a->v_w, a->v_b, Q, D, D, c0, c1);
        for (int i = 0; i < Q; i++) {
            size_t o = (((size_t)l * d->rows_cap + d->phys[d->it_row[i]]) * d->cap + d->it_pos[i]) * D + c0;
            memcpy(d->k_self + o, d->kt + (size_t)i * D + c0, (size_t)Dh * sizeof(float));
            memcpy(d->v_self + o, d->vt + (size_t)i * D + c0, (size_t)Dh * sizeof(float));
        }
        for (int i = 0; i < Q; i++) {
            size_t o = ((size_t)l * d->rows_cap + d->phys[d->it_row[i]]) * d->cap * D + c0;
            float *q = d->att + (size_t)i * D + c0;
            nt_attention_row(q, q, d->k_self + o, d->v_self + o, d->it_pos[i] + 1, Dh, D, d->scale, s);
        }
        break;
    }
    case CH_CROSS: {
        const float *h = ensure_h(d, t, ch->pt);
        const nt_attn_params *a = &b->cross_attn;
        int c0 = ch->lo * Dh, c1 = c0 + Dh;
        lin(d, d->att, h, a->q_w, a->q_b, Q, D, D, c0, c1);
        for (int i = 0; i < Q; i++) {
            int sl = d->slot_of[d->it_row[i]];
            size_t o = ((size_t)l * d->n_src + sl) * d->src_cap * D + c0;
            float *q = d->att + (size_t)i * D + c0;
            nt_attention_row(q, q, d->k_cross + o, d->v_cross + o, d->src_len[sl], Dh, D, d->scale, s);
        }
        break;
    }
    case CH_O_SELF:
    case CH_O_CROSS: {
        const nt_attn_params *a = ch->kind == CH_O_SELF ? &b->self_attn : &b->cross_attn;
        lin(d, fout, d->att, a->o_w, a->o_b, Q, D, D, ch->lo, ch->hi);
        break;
    }
    case CH_FC: {
        const float *h = ensure_h(d, t, ch->pt);
        lin(d, d->u, h, b->fc_w, b->fc_b, Q, D, F, ch->lo, ch->hi);
        for (int i = 0; i < Q; i++) nt_vgelu(d->u + (size_t)i * F + ch->lo, d->u + (size_t)i * F + ch->lo, ch->hi - ch->lo);
        break;
    }
    case CH_PROJ:
        lin(d, fout, d->u, b->proj_w, b->proj_b, Q, F, D, ch->lo, ch->hi);
        break;
    case CH_LOGITS: {
        const float *h = ensure_h(d, t, ch->pt);
        if (d->n_out < Q) { /* gather the rows that want logits */
            float *g = priv(d, t, 2);
            for (int k = 0; k < d->n_out; k++)
                memcpy(g + (size_t)k * D, h + (size_t)d->out_it[k] * D, (size_t)D * sizeof(float));
            h = g;
        }
        lin(d, d->logits, h, m->embed, NULL, d->n_out, D, V, ch->lo, ch->hi);
        break;
    }
    case EN_EMBED:
        for (int r = ch->lo; r < ch->hi && r < Re; r++) {
            float *x = d->ex + (size_t)r * D;
            const float *e = nt_f32(m->embed) + (size_t)d->e_tok[r] * D;
            const float *pe = nt_f32(m->encoder.pos) + (size_t)d->e_pos[r] * D;
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
            if (o0 < o1) lin_enc(d, Y[k], d->eh, W[k], B[k], Re, D, D, o0, o1);
        }
        break;
    }
    case EN_ATT: {
        int c0 = ch->lo * Dh;
        for (int i = 0; i < Re; i++) {
            size_t k0 = (size_t)d->e_lo[i] * D + c0;
            nt_attention_row(d->ea + (size_t)i * D + c0, d->eq + (size_t)i * D + c0, d->ek + k0, d->ev + k0,
                             d->e_hi[i] - d->e_lo[i], Dh, D, d->scale, s);
        }
        break;
    }
    case EN_O:
        lin_enc(d, d->ef, d->ea, b->self_attn.o_w, b->self_attn.o_b, Re, D, D, ch->lo, ch->hi);
        break;
    case EN_RES:
        for (int r = ch->lo; r < ch->hi && r < Re; r++) {
            float *x = d->ex + (size_t)r * D;
            const float *f = d->ef + (size_t)r * D;
            for (int j = 0; j < D; j++) x[j] = f[j] + x[j];
            ln_row(d->eh + (size_t)r * D, x, ch->ln_w, ch->ln_b, D);
        }
        break;
    case EN_FC:
        lin_enc(d, d->eu, d->eh, b->fc_w, b->fc_b, Re, D, F, ch->lo, ch->hi);
        for (int r = 0; r < Re; r++) nt_vgelu(d->eu + (size_t)r * F + ch->lo, d->eu + (size_t)r * F + ch->lo, ch->hi - ch->lo);
        break;
    case EN_PROJ:
        lin_enc(d, d->ef, d->eu, b->proj_w, b->proj_b, Re, F, D, ch->lo, ch->hi);
        break;
    case EN_CROSS_KV:
        /* columns of [layer][k, v][D], each source's rows into its slot */
        for (int g = ch->lo / D; g * D < ch->hi; g++) {
            int o0 = ch->lo - g * D, o1 = ch->hi - g * D;
            o0 = o0 < 0 ? 0 : o0;
            o1 = o1 > D ? D : o1;
            if (o0 >= o1) continue;
            const nt_attn_params *a = &m->decoder.layers[g / 2].cross_attn;
            for (int sg = 0; sg < d->n_seg; sg++) {
                int r0 = d->seg_lo[sg], n = d->seg_lo[sg + 1] - r0;
                float *Y = (g % 2 ? d->v_cross : d->k_cross) + ((size_t)(g / 2) * d->n_src + d->seg_slot[sg]) * d->src_cap * D;
                lin_enc_rows(d, Y, d->eh + (size_t)r0 * D, g % 2 ? a->v_w : a->k_w, g % 2 ? a->v_b : a->k_b, n, D, D,
                             o0, o1, enc_gemm(d, n));
            }
        }
        break;
    }
}

/* ---- the parallel region --------------------------------------------------------- */

#define ABSENT_SPINS 50
#define STEAL_SPINS 250
#define YIELD_SPINS 2000

static int claim(nt_infer *d, int k, int64_t g) {
    int64_t v = __atomic_load_n(&d->taken[k].v, __ATOMIC_RELAXED);
    return v < g && __atomic_compare_exchange_n(&d->taken[k].v, &v, g, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

static void exec(nt_infer *d, const chunk *ch, float *s, int t) {
    run_chunk(d, ch, s, t);
    __atomic_store_n(&d->done[t].v, d->done[t].v + 1, __ATOMIC_RELEASE);
}

static int64_t done_count(const nt_infer *d, int T) {
    int64_t n = 0;
    for (int i = 0; i < T; i++) n += __atomic_load_n(&d->done[i].v, __ATOMIC_ACQUIRE);
    return n;
}

/* Thread t's part of one run of the list sched (C chunks). */
static void run_chunks(nt_infer *d, const chunk *sched, int C, int t, int T) {
    float *s = d->probs + (size_t)t * d->probs_stride;
    int64_t g = d->gen + 1;
    for (int k0 = 0, k1; k0 < C; k0 = k1) {
        for (k1 = k0 + 1; k1 < C && sched[k1].wait == sched[k0].wait;) k1++;
        int64_t seq = g << 16 | k0;
        __atomic_store_n(&d->entered[t].v, seq, __ATOMIC_RELAXED);
        for (int k = k0 + t; k < k1; k += T)
            if (claim(d, k, g)) exec(d, &sched[k], s, t);
        for (int spins = 0; done_count(d, T) < k1; spins++) {
            if (spins == ABSENT_SPINS)
                for (int u = 0; u < T; u++)
                    if (u != t && __atomic_load_n(&d->entered[u].v, __ATOMIC_RELAXED) < seq)
                        for (int k = k0 + u; k < k1; k += T)
                            if (claim(d, k, g)) exec(d, &sched[k], s, t);
            if (spins == STEAL_SPINS)
                for (int k = k0; k < k1; k++)
                    if (claim(d, k, g)) exec(d, &sched[k], s, t);
            if (spins < YIELD_SPINS)
                cpu_relax();
            else
                sched_yield();
        }
    }
}

typedef struct run_job {
    nt_infer *d;
    const chunk *sched;
    int C;
} run_job;

static void run_pool(void *arg, int t, int T) {
    run_job *j = arg;
    run_chunks(j->d, j->sched, j->C, t, T);
}

/* Decoder passes (pool 1) on the decode pool (core/decode_pool.h: no OS
 * wake-up per pass), else an OpenMP region. Either way a thread that never
 * starts is covered: its chunks are taken over. The encoder pass stays in
 * an OpenMP region: its nt_sgemm calls see they are inside one and run on
 * their caller's thread alone (on a pool thread they would start a team). */
static void run(nt_infer *d, const chunk *sched, int C, int pool) {
    int T = omp_get_max_threads();
    if (T > d->T) T = d->T;
    for (int i = 0; i < T; i++) d->done[i].v = 0, d->ts[i].fresh = 0;
    run_job job = {d, sched, C};
    if (T > 1 && (!pool || nt_decode_pool_run(run_pool, &job, T) != 0)) {
#pragma omp parallel num_threads(T)
        run_chunks(d, sched, C, omp_get_thread_num(), omp_get_num_threads());
    } else if (T == 1) {
        run_chunks(d, sched, C, 0, 1);
    }
    d->gen++;
}

/* The bf16 copies are (re)made by the first call after a change, which must
 * not race: take them on this thread before a region. */
static void warm_bf16(nt_infer *d) {
    if (d->bf16) (void)nt_params_bf16_of(d->m->embed);
}

/* ---- the API ------------------------------------------------------------------------ */

nt_status nt_infer_encode(nt_infer *d, int n, const int *slots, const int32_t *const *src, const int *len) {
    static const char *fn = "nt_infer_encode";
    if (!d || (n > 0 && (!slots || !src || !len))) return nt_error(NT_ERR_ARG, "%s: NULL argument", fn);
    if (!d->encdec) return nt_error(NT_ERR_STATE, "%s: a decoder-only model has no encoder", fn);
    for (int i = 0; i < n; i++) {
        if (slots[i] < 0 || slots[i] >= d->n_src)
            return nt_error(NT_ERR_ARG, "%s: source %d: slot %d outside [0, %d)", fn, i, slots[i], d->n_src);
        if (len[i] < 1 || len[i] > d->src_cap || !src[i])
            return nt_error(NT_ERR_ARG, "%s: source %d: length %d outside [1, src_cap %d]", fn, i, len[i],
                            d->src_cap);
        for (int k = 0; k < len[i]; k++)
            if (src[i][k] < 0 || src[i][k] >= d->V)
                return nt_error(NT_ERR_ARG, "%s: source %d token %d: id %d outside [0, %d)", fn, i, k,
                                (int)src[i][k], d->V);
    }
    warm_bf16(d);
    for (int i0 = 0; i0 < n;) {
        /* as many whole sources as fit one pass */
        int Re = 0, ns = 0;
        while (i0 + ns < n && Re + len[i0 + ns] <= d->enc_items) {
            int i = i0 + ns, S = len[i];
            d->seg_lo[ns] = Re;
            d->seg_slot[ns] = slots[i];
            for (int k = 0; k < S; k++) {
                d->e_tok[Re + k] = src[i][k];
                d->e_pos[Re + k] = k;
                d->e_lo[Re + k] = Re;
                d->e_hi[Re + k] = Re + S;
            }
            Re += S;
            ns++;
        }
        d->seg_lo[ns] = Re;
        d->Re = Re;
        d->n_seg = ns;
        run(d, d->enc_sched, d->n_enc_chunks, 0);
        for (int k = 0; k < ns; k++) d->src_len[slots[i0 + k]] = len[i0 + k];
        i0 += ns;
    }
    return NT_OK;
}

nt_status nt_infer_start(nt_infer *d, int rows, const int *slots) {
    static const char *fn = "nt_infer_start";
    if (!d) return nt_error(NT_ERR_ARG, "%s: NULL argument", fn);
    if (rows < 1 || rows > d->rows_cap)
        return nt_error(NT_ERR_ARG, "%s: rows %d outside [1, %d]", fn, rows, d->rows_cap);
    if (d->encdec) {
        if (!slots) return nt_error(NT_ERR_ARG, "%s: an encoder-decoder model needs source slots", fn);
        for (int r = 0; r < rows; r++)
            if (slots[r] < 0 || slots[r] >= d->n_src || d->src_len[slots[r]] == 0)
                return nt_error(NT_ERR_ARG, "%s: row %d: slot %d outside [0, %d) or not encoded", fn, r,
                                slots[r], d->n_src);
    }
    d->rows = rows;
    for (int r = 0; r < d->rows_cap; r++) d->phys[r] = r;
    for (int r = 0; r < rows; r++) {
        d->len[r] = 0;
        d->slot_of[r] = d->encdec ? slots[r] : 0;
    }
    d->started = 1;
    return NT_OK;
}

nt_status nt_infer_feed(nt_infer *d, int n, const int *rows, const int32_t *tokens, float *logits) {
    static const char *fn = "nt_infer_feed";
    if (!d || (n > 0 && (!rows || !tokens))) return nt_error(NT_ERR_ARG, "%s: NULL argument", fn);
    if (!d->started) return nt_error(NT_ERR_STATE, "%s: no rows started (nt_infer_start)", fn);
    int *add = d->tmp;
    for (int r = 0; r < d->rows; r++) add[r] = 0;
    for (int i = 0; i < n; i++) {
        if (rows[i] < 0 || rows[i] >= d->rows)
            return nt_error(NT_ERR_ARG, "%s: item %d: row %d outside [0, %d)", fn, i, rows[i], d->rows);
        if (tokens[i] < 0 || tokens[i] >= d->V)
            return nt_error(NT_ERR_ARG, "%s: item %d: token %d outside [0, %d)", fn, i, (int)tokens[i], d->V);
        if (d->len[rows[i]] + ++add[rows[i]] > d->cap)
            return nt_error(NT_ERR_ARG, "%s: row %d: %d positions fed + %d new exceed the cap %d", fn, rows[i],
                            d->len[rows[i]], add[rows[i]], d->cap);
    }
    warm_bf16(d);
    /* add[r] now counts items left for row r: an item is "last" when it hits 0 */
    int n_out = 0;
    for (int i0 = 0; i0 < n;) {
        int Q = n - i0 < d->items ? n - i0 : d->items;
        d->Q = Q;
        d->n_out = 0;
        for (int k = 0; k < Q; k++) {
            int r = rows[i0 + k];
            d->it_row[k] = r;
            d->it_pos[k] = d->len[r]++;
            d->it_tok[k] = tokens[i0 + k];
            if (--add[r] == 0 && logits) d->out_it[d->n_out++] = k;
        }
        d->logits = logits ? logits + (size_t)n_out * d->V : NULL;
        /* nothing wants logits: the last phase still runs, on zero rows */
        run(d, d->sched, d->n_chunks, 1);
        n_out += d->n_out;
        i0 += Q;
    }
    return NT_OK;
}

nt_status nt_infer_select(nt_infer *d, const int *src_rows, int n_new) {
    static const char *fn = "nt_infer_select";
    if (!d || !src_rows) return nt_error(NT_ERR_ARG, "%s: NULL argument", fn);
    if (!d->started) return nt_error(NT_ERR_STATE, "%s: no rows started", fn);
    if (n_new < 1 || n_new > d->rows_cap)
        return nt_error(NT_ERR_ARG, "%s: %d rows outside [1, %d]", fn, n_new, d->rows_cap);
    for (int r = 0; r < n_new; r++)
        if (src_rows[r] < 0 || src_rows[r] >= d->rows)
            return nt_error(NT_ERR_ARG, "%s: src_rows[%d] = %d outside [0, %d)", fn, r, src_rows[r], d->rows);
    /* Rows name cache slots (phys): the first row that keeps an old row
     * takes its slot, uncopied; a fork copies the prefix into a slot no row
     * keeps. Dropping and reordering rows copies nothing. */
    size_t D = (size_t)d->D, row = (size_t)d->cap * D;
    int R = d->rows, n_spare = 0, *next = d->tmp;
    for (int r = 0; r < R; r++) d->uses[r] = 0;
    for (int r = 0; r < n_new; r++) d->uses[src_rows[r]]++;
    /* free slots: those of dropped rows and those never used by a live row */
    for (int r = 0; r < R; r++)
        if (!d->uses[r]) d->spare[n_spare++] = d->phys[r];
    for (int p = 0; p < d->rows_cap; p++) next[p] = 0;
    for (int r = 0; r < R; r++) next[d->phys[r]] = 1;
    for (int p = 0; p < d->rows_cap; p++)
        if (!next[p]) d->spare[n_spare++] = p;
    /* new slots (into next), forks copied from their parent's slot */
    for (int r = 0; r < R; r++) d->uses[r] = 0;
    for (int r = 0; r < n_new; r++) {
        int from = src_rows[r];
        if (d->uses[from]++ == 0) {
            next[r] = d->phys[from];
            continue;
        }
        int p = d->spare[--n_spare];
        for (int l = 0; l < d->L; l++) {
            size_t base = (size_t)l * d->rows_cap * row;
            memcpy(d->k_self + base + p * row, d->k_self + base + d->phys[from] * row, (size_t)d->len[from] * D * sizeof(float));
            memcpy(d->v_self + base + p * row, d->v_self + base + d->phys[from] * row, (size_t)d->len[from] * D * sizeof(float));
        }
        next[r] = p;
    }
    for (int r = 0; r < n_new; r++) d->phys[r] = next[r];
    for (int r = 0; r < n_new; r++) d->tmp[r] = d->len[src_rows[r]];
    for (int r = 0; r < n_new; r++) d->len[r] = d->tmp[r];
    for (int r = 0; r < n_new; r++) d->tmp[r] = d->slot_of[src_rows[r]];
    for (int r = 0; r < n_new; r++) d->slot_of[r] = d->tmp[r];
    d->rows = n_new;
    return NT_OK;
}
