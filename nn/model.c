/* model.c - the transformer: parameters, init, encoder, decoder and the training loss.
 *
 * B batch, S source length, T target length, D model width, H heads,
 * V vocabulary, L decoder layers.
 */
#include "nn/model.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "nn/block.h"

extern const nt_net_ops nt_transformer_ops; /* nn/model_net.c */

/* The public model plus what the header does not publish. */
typedef struct model_impl {
    nt_model pub;
    int record_attn;
    float *attn;       /* [L][B][T][S] head-averaged cross-attention of the last decode */
    size_t attn_cap;   /* floats allocated */
    int attn_B, attn_T, attn_S, attn_valid;
} model_impl;

nt_model_config nt_model_config_default(void) {
    nt_model_config c = {.arch = NT_ARCH_ENCDEC, .vocab_size = 0, .d_model = 128, .heads = 4,
                         .enc_layers = 2, .dec_layers = 2, .max_len = 256, .dropout = 0.0f};
    return c;
}

/* Sane upper bounds for a config (a checkpoint's /config is untrusted
 * input): far above any model this framework trains on a CPU, low enough
 * that every size derived from them fits in 64 bits and every tensor
 * dimension (4 * d_model, max_len) in an int. */
#define MAX_VOCAB (1 << 24)
#define MAX_D_MODEL (1 << 16)
#define MAX_LAYERS 1024
#define MAX_LEN (1 << 20)

nt_status nt_model_config_check(const nt_model_config *c) {
    static const char *fn = "nt_model_config_check";
    if (!c) return nt_error(NT_ERR_ARG, "%s: config is NULL", fn);
    if (c->vocab_size > MAX_VOCAB) return nt_error(NT_ERR_ARG, "%s: vocab_size %d > %d", fn, c->vocab_size, MAX_VOCAB);
    if (c->d_model > MAX_D_MODEL) return nt_error(NT_ERR_ARG, "%s: d_model %d > %d", fn, c->d_model, MAX_D_MODEL);
    if (c->heads > c->d_model && c->d_model >= 1)
        return nt_error(NT_ERR_ARG, "%s: heads %d > d_model %d", fn, c->heads, c->d_model);
    if (c->enc_layers > MAX_LAYERS || c->dec_layers > MAX_LAYERS)
        return nt_error(NT_ERR_ARG, "%s: layers %d+%d, at most %d each", fn, c->enc_layers, c->dec_layers, MAX_LAYERS);
    if (c->max_len > MAX_LEN) return nt_error(NT_ERR_ARG, "%s: max_len %d > %d", fn, c->max_len, MAX_LEN);
    if (c->arch != NT_ARCH_ENCDEC && c->arch != NT_ARCH_DECODER)
        return nt_error(NT_ERR_ARG, "%s: arch %d is neither encdec (0) nor decoder (1)", fn, (int)c->arch);
    if (c->vocab_size < 1) return nt_error(NT_ERR_ARG, "%s: vocab_size %d must be >= 1", fn, c->vocab_size);
    if (c->d_model < 1) return nt_error(NT_ERR_ARG, "%s: d_model %d must be >= 1", fn, c->d_model);
    if (c->heads < 1) return nt_error(NT_ERR_ARG, "%s: heads %d must be >= 1", fn, c->heads);
    if (c->d_model % c->heads)
        return nt_error(NT_ERR_ARG, "%s: heads %d does not divide d_model %d", fn, c->heads, c->d_model);
    if (c->arch == NT_ARCH_ENCDEC && c->enc_layers < 1)
        return nt_error(NT_ERR_ARG, "%s: enc_layers %d must be >= 1 for encdec", fn, c->enc_layers);
    if (c->arch == NT_ARCH_DECODER && c->enc_layers != 0)
        return nt_error(NT_ERR_ARG, "%s: enc_layers %d must be 0 for a decoder-only model", fn,
                        c->enc_layers);
    if (c->dec_layers < 1) return nt_error(NT_ERR_ARG, "%s: dec_layers %d must be >= 1", fn, c->dec_layers);
    if (c->max_len < 1) return nt_error(NT_ERR_ARG, "%s: max_len %d must be >= 1", fn, c->max_len);
    if (!(c->dropout >= 0.0f && c->dropout < 1.0f))
        return nt_error(NT_ERR_ARG, "%s: dropout %g outside [0, 1)", fn, (double)c->dropout);
    return NT_OK;
}

/* ---- parameters ----------------------------------------------------------------
 * One walk over the module tree in the reference's named_parameters() order,
 * run twice: to declare every parameter, then (after the block is allocated)
 * to bind the struct's pointers to them. */
typedef struct walker {
    nt_params *p;
    int bind, next;
    nt_status st;
} walker;

/* Weight decay: the matrices of the attention and MLP projections only; not
 * the biases, LayerNorms, token embedding or positions (the reference's
 * optimizer groups). */
enum { DECAY = NT_PARAM_DECAY, KEEP = 0 };

static void wp(walker *w, nt_tensor **slot, unsigned flags, int ndim, int64_t d0, int64_t d1,
               const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* Dims arrive as int64 (4 * D computed without overflow) and must fit an int. */
static void wp(walker *w, nt_tensor **slot, unsigned flags, int ndim, int64_t d0, int64_t d1,
               const char *fmt, ...) {
    if (w->st != NT_OK) return;
    if (d0 > INT32_MAX || d1 > INT32_MAX) {
        w->st = nt_error(NT_ERR_ARG, "nt_model_new: a parameter dimension (%lld x %lld) exceeds %d",
                         (long long)d0, (long long)d1, INT32_MAX);
        return;
    }
    if (w->bind) {
        *slot = nt_params_get(w->p, w->next++);
        return;
    }
    char name[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    if (nt_params_declare(w->p, name, ndim, (int[]){(int)d0, (int)d1}, flags) < 0)
        w->st = strstr(nt_errmsg(), "memory") ? NT_ERR_NOMEM : NT_ERR_ARG;
}

static void walk_attn(walker *w, nt_attn_params *a, const char *pre, int64_t D) {
    wp(w, &a->q_w, DECAY, 2, D, D, "%s.q.weight", pre);
    wp(w, &a->q_b, KEEP, 1, D, 1, "%s.q.bias", pre);
    wp(w, &a->k_w, DECAY, 2, D, D, "%s.k.weight", pre);
    wp(w, &a->k_b, KEEP, 1, D, 1, "%s.k.bias", pre);
    wp(w, &a->v_w, DECAY, 2, D, D, "%s.v.weight", pre);
    wp(w, &a->v_b, KEEP, 1, D, 1, "%s.v.bias", pre);
    wp(w, &a->o_w, DECAY, 2, D, D, "%s.o.weight", pre);
    wp(w, &a->o_b, KEEP, 1, D, 1, "%s.o.bias", pre);
}

static void walk_stack(walker *w, nt_stack_params *s, const char *pre, int cross, int64_t D, int max_len) {
    char p[96];
    wp(w, &s->pos, KEEP, 2, max_len, D, "%s.pos.weight", pre);
    for (int i = 0; i < s->n_layers; i++) {
        nt_block_params *b = &s->layers[i];
        wp(w, &b->ln_self_w, KEEP, 1, D, 1, "%s.layers.%d.ln_self.weight", pre, i);
        wp(w, &b->ln_self_b, KEEP, 1, D, 1, "%s.layers.%d.ln_self.bias", pre, i);
        snprintf(p, sizeof p, "%s.layers.%d.self_attn", pre, i);
        walk_attn(w, &b->self_attn, p, D);
        if (cross) {
            wp(w, &b->ln_cross_w, KEEP, 1, D, 1, "%s.layers.%d.ln_cross.weight", pre, i);
            wp(w, &b->ln_cross_b, KEEP, 1, D, 1, "%s.layers.%d.ln_cross.bias", pre, i);
            snprintf(p, sizeof p, "%s.layers.%d.cross_attn", pre, i);
            walk_attn(w, &b->cross_attn, p, D);
        }
        wp(w, &b->ln_mlp_w, KEEP, 1, D, 1, "%s.layers.%d.ln_mlp.weight", pre, i);
        wp(w, &b->ln_mlp_b, KEEP, 1, D, 1, "%s.layers.%d.ln_mlp.bias", pre, i);
        wp(w, &b->fc_w, DECAY, 2, 4 * D, D, "%s.layers.%d.mlp.fc.weight", pre, i);
        wp(w, &b->fc_b, KEEP, 1, 4 * D, 1, "%s.layers.%d.mlp.fc.bias", pre, i);
        wp(w, &b->proj_w, DECAY, 2, D, 4 * D, "%s.layers.%d.mlp.proj.weight", pre, i);
        wp(w, &b->proj_b, KEEP, 1, D, 1, "%s.layers.%d.mlp.proj.bias", pre, i);
    }
    wp(w, &s->ln_w, KEEP, 1, D, 1, "%s.ln.weight", pre);
    wp(w, &s->ln_b, KEEP, 1, D, 1, "%s.ln.bias", pre);
}

static void walk_model(walker *w, nt_model *m) {
    const nt_model_config *c = &m->cfg;
    wp(w, &m->embed, KEEP, 2, c->vocab_size, c->d_model, "embed.weight");
    if (c->arch == NT_ARCH_ENCDEC) walk_stack(w, &m->encoder, "encoder", 0, c->d_model, c->max_len);
    walk_stack(w, &m->decoder, "decoder", c->arch == NT_ARCH_ENCDEC, c->d_model, c->max_len);
}

int64_t nt_model_config_params(const nt_model_config *c) {
    if (!c || nt_model_config_check(c) != NT_OK) return -1;
    /* Bounded by the checks above: V D <= 2^40, a layer < 2^37, all < 2^52. */
    int64_t D = c->d_model, attn = 4 * (D * D + D), ln = 2 * D;
    int64_t mlp = 4 * D * D + 4 * D + D * 4 * D + D;
    int64_t enc_layer = ln + attn + ln + mlp, dec_layer = enc_layer + (c->arch == NT_ARCH_ENCDEC ? ln + attn : 0);
    int64_t n = (int64_t)c->vocab_size * D + (int64_t)c->max_len * D + dec_layer * c->dec_layers + ln;
    if (c->arch == NT_ARCH_ENCDEC) n += (int64_t)c->max_len * D + enc_layer * c->enc_layers + ln;
    return n;
}

/* Bytes a new model may take: NT_MEM_LIMIT (bytes, or with a K/M/G suffix)
 * if set, else the memory the system has available now (MemAvailable of
 * /proc/meminfo, else free pages); -1 if unknown (no limit). */
static int64_t mem_limit(void) {
    const char *e = getenv("NT_MEM_LIMIT");
    if (e && *e) {
        char *end;
        double v = strtod(e, &end);
        double k = *end == 'K' || *end == 'k' ? 1024.0 : *end == 'M' || *end == 'm' ? 1048576.0
                 : *end == 'G' || *end == 'g' ? 1073741824.0 : 1.0;
        if (v > 0 && v * k < 9.2e18) return (int64_t)(v * k);
    }
    FILE *f = fopen("/proc/meminfo", "r");
    if (f) {
        char line[256];
        long long kb = -1;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "MemAvailable: %lld kB", &kb) == 1) break;
        fclose(f);
        if (kb > 0) return (int64_t)kb * 1024;
    }
    long pages = sysconf(_SC_AVPHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    return pages > 0 && size > 0 ? (int64_t)pages * size : -1;
}

void nt_model_free(nt_model *m) {
    if (!m) return;
    model_impl *mi = (model_impl *)m;
    nt_params_free(m->params);
    nt_free(m->encoder.layers);
    nt_free(m->decoder.layers);
    nt_free(mi->attn);
    nt_free(mi);
}

nt_status nt_model_new(nt_model **out, const nt_model_config *cfg) {
    if (!out) return nt_error(NT_ERR_ARG, "nt_model_new: out is NULL");
    NT_TRY(nt_model_config_check(cfg));
    /* Values and gradients (+ 64 bytes of alignment each), before anything is allocated. */
    int64_t n = nt_model_config_params(cfg), layers = (int64_t)cfg->enc_layers + cfg->dec_layers + 3;
    int64_t bytes = 2 * (n * (int64_t)sizeof(float) + layers * 16 * 64), limit = mem_limit();
    if (limit > 0 && bytes > limit)
        return nt_error(NT_ERR_NOMEM,
                        "nt_model_new: the model (V %d, D %d, layers %d+%d, max_len %d: %lld parameters) needs "
                        "%.2f GiB for values and gradients, more than the %.2f GiB available (NT_MEM_LIMIT "
                        "sets the limit)",
                        cfg->vocab_size, cfg->d_model, cfg->enc_layers, cfg->dec_layers, cfg->max_len,
                        (long long)n, (double)bytes / 1073741824.0, (double)limit / 1073741824.0);
    model_impl *mi = nt_calloc(1, sizeof *mi);
    if (!mi) return nt_error(NT_ERR_NOMEM, "nt_model_new: out of memory");
    nt_model *m = &mi->pub;
    m->cfg = *cfg;
    m->encoder.n_layers = cfg->arch == NT_ARCH_ENCDEC ? cfg->enc_layers : 0;
    m->decoder.n_layers = cfg->dec_layers;
    if (m->encoder.n_layers)
        m->encoder.layers = nt_calloc((size_t)m->encoder.n_layers, sizeof(nt_block_params));
    m->decoder.layers = nt_calloc((size_t)m->decoder.n_layers, sizeof(nt_block_params));
    nt_status st = NT_OK;
    if (!m->decoder.layers || (m->encoder.n_layers && !m->encoder.layers))
        st = nt_error(NT_ERR_NOMEM, "nt_model_new: out of memory");
    if (st == NT_OK) st = nt_params_new(&m->params);
    if (st == NT_OK) {
        walker w = {.p = m->params};
        walk_model(&w, m);
        st = w.st != NT_OK ? nt_error_wrap(w.st, "nt_model_new") : NT_OK;
    }
    if (st == NT_OK) st = nt_params_alloc(m->params);
    if (st == NT_OK) {
        walker w = {.p = m->params, .bind = 1};
        walk_model(&w, m);
        m->net.ops = &nt_transformer_ops;
        m->net.params = m->params;
        m->net.vocab_size = cfg->vocab_size;
        m->net.max_len = cfg->max_len;
        m->net.encdec = cfg->arch == NT_ARCH_ENCDEC;
    }
    if (st != NT_OK) {
        nt_model_free(m);
        return st;
    }
    *out = m;
    return NT_OK;
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

void nt_model_init(nt_model *m, nt_rng *rng) {
    if (!m || !rng) return;
    nt_params *P = m->params;
    for (int i = 0; i < P->count; i++) {
        nt_tensor *t = &P->tensors[i];
        float *x = nt_f32(t);
        if (ends_with(P->names[i], "weight") && t->ndim == 2)
            for (int64_t j = 0; j < t->n; j++) x[j] = 0.02f * nt_rng_normal(rng);
        else if (ends_with(P->names[i], "weight"))   /* LayerNorm gain */
            for (int64_t j = 0; j < t->n; j++) x[j] = 1.0f;
        else
            memset(x, 0, (size_t)t->n * sizeof(float));
    }
}

int64_t nt_model_num_params(const nt_model *m) {
    if (!m) return 0;
    int64_t n = 0;
    for (int i = 0; i < m->params->count; i++) n += m->params->tensors[i].n;
    return n;
}

/* ---- argument checks --------------------------------------------------------------- */

/* t must be I32 (B, T) (B < 0: any). */
static nt_status check_ids2(const char *fn, const char *what, const nt_tensor *t, int B, int T) {
    char s[48];
    if (t->dtype != NT_I32 || t->ndim != 2 || (B >= 0 && t->shape[0] != B) ||
        (T >= 0 && t->shape[1] != T)) {
        if (B >= 0)
            return nt_error(NT_ERR_SHAPE, "%s: %s must be I32 (%d, %d), got %s %s", fn, what, B, T,
                            t->dtype == NT_I32 ? "I32" : "F32", nt_shape_str(t, s, sizeof s));
        return nt_error(NT_ERR_SHAPE, "%s: %s must be I32 (B, T), got %s %s", fn, what,
                        t->dtype == NT_I32 ? "I32" : "F32", nt_shape_str(t, s, sizeof s));
    }
    return NT_OK;
}

static nt_status check_range(const char *fn, const char *what, const nt_tensor *t, int lo, int hi) {
    const int32_t *x = nt_i32(t);
    int T = t->shape[1];
    for (int64_t i = 0; i < t->n; i++)
        if (x[i] < lo || x[i] >= hi)
            return nt_error(NT_ERR_ARG, "%s: %s[%lld][%lld] = %d outside [%d, %d)", fn, what,
                            (long long)(i / T), (long long)(i % T), (int)x[i], lo, hi);
    return NT_OK;
}

/* embed(ids) + pos: positions start..start+T-1 (pos_ids NULL) or pos_ids (B, T). */
static nt_status embed_positions(nt_ctx *ctx, nt_tensor **x, nt_model *m, nt_stack_params *s,
                                 nt_tensor *ids, nt_tensor *pos_ids, int start) {
    nt_tensor *e, *p;
    NT_TRY(nt_embedding(ctx, &e, m->embed, ids));                 // (B, T, D)
    if (pos_ids)
        NT_TRY(nt_embedding(ctx, &p, s->pos, pos_ids));          // (B, T, D)
    else
        NT_TRY(nt_slice(ctx, &p, s->pos, 0, start, ids->shape[1])); // (T, D), broadcast
    NT_TRY(nt_add(ctx, &e, e, p));
    if (m->cfg.dropout > 0) NT_TRY(nt_dropout(ctx, &e, e, m->cfg.dropout));
    *x = e;
    return NT_OK;
}

/* ---- forward ------------------------------------------------------------------------ */

nt_status nt_model_encode(nt_model *m, nt_ctx *ctx, nt_tensor **mem, nt_tensor *src,
                          nt_tensor *src_mask) {
    static const char *fn = "nt_model_encode";
    if (!m || !ctx || !mem || !src) return nt_error(NT_ERR_ARG, "%s: NULL argument", fn);
    if (m->cfg.arch != NT_ARCH_ENCDEC)
        return nt_error(NT_ERR_STATE, "%s: a decoder-only model has no encoder", fn);
    NT_TRY(check_ids2(fn, "src", src, -1, -1));
    int B = src->shape[0], S = src->shape[1];
    if (src_mask) NT_TRY(check_ids2(fn, "src_mask", src_mask, B, S));
    if (S > m->cfg.max_len)
        return nt_error(NT_ERR_ARG, "%s: source length %d exceeds max_len %d", fn, S, m->cfg.max_len);
    NT_TRY(check_range(fn, "src", src, 0, m->cfg.vocab_size));

    nt_tensor *x;
    NT_TRY(embed_positions(ctx, &x, m, &m->encoder, src, NULL, 0));   // (B, S, D)
    nt_block_args a = {.heads = m->cfg.heads, .dropout = m->cfg.dropout, .self_mask = src_mask};
    for (int i = 0; i < m->encoder.n_layers; i++) {
        nt_status st = nt_block_forward(&m->encoder.layers[i], ctx, &x, x, &a);
        if (st != NT_OK) return nt_error_wrap(st, "%s: encoder layer %d", fn, i);
    }
    NT_TRY(nt_layernorm(ctx, mem, x, m->encoder.ln_w, m->encoder.ln_b, NT_LN_EPS));
    return NT_OK;
}

/* Stores the head-averaged cross-attention weights of every layer. */
static nt_status record_attention(model_impl *mi, nt_tensor **probs, int L) {
    nt_tensor *p0 = probs[0];                  // (B, H, T, S)
    int B = p0->shape[0], H = p0->shape[1], T = p0->shape[2], S = p0->shape[3];
    size_t per = (size_t)B * T * S, need = per * L;
    if (need > mi->attn_cap) {
        float *a = nt_realloc(mi->attn, need * sizeof(float));
        if (!a) return nt_error(NT_ERR_NOMEM, "nt_model_decode: cannot record attention (%zu floats)", need);
        mi->attn = a;
        mi->attn_cap = need;
    }
    for (int l = 0; l < L; l++) {
        const float *p = nt_f32(probs[l]);
        float *o = mi->attn + l * per;
        for (int b = 0; b < B; b++)
            for (size_t i = 0; i < (size_t)T * S; i++) {
                float s = 0;
                for (int h = 0; h < H; h++) s += p[((size_t)b * H + h) * T * S + i];
                o[(size_t)b * T * S + i] = s / (float)H;
            }
    }
    mi->attn_B = B, mi->attn_T = T, mi->attn_S = S, mi->attn_valid = 1;
    return NT_OK;
}

static nt_status decode_impl(nt_model *m, nt_ctx *ctx, nt_tensor **logits, nt_tensor *tgt,
                             nt_tensor *pos, nt_tensor *tgt_mask, nt_tensor *mem,
                             nt_tensor *mem_mask, nt_kv_cache *c, int start) {
    static const char *fn = "nt_model_decode";
    model_impl *mi = (model_impl *)m;
    const nt_model_config *cfg = &m->cfg;
    int encdec = cfg->arch == NT_ARCH_ENCDEC;
    NT_TRY(check_ids2(fn, "tgt", tgt, -1, -1));
    int B = tgt->shape[0], T = tgt->shape[1], D = cfg->d_model;
    if (pos) NT_TRY(check_ids2(fn, "pos", pos, B, T));
    if (tgt_mask) NT_TRY(check_ids2(fn, "tgt_mask", tgt_mask, B, T));
    NT_TRY(check_range(fn, "tgt", tgt, 0, cfg->vocab_size));
    if (c) {
        if (c->rows != B || c->n_layers != m->decoder.n_layers || c->d_model != D)
            return nt_error(NT_ERR_ARG, "%s: tgt has %d rows, the cache %d (or the cache is another model's)",
                            fn, B, c->rows);
        if (c->len + T > c->cap)
            return nt_error(NT_ERR_ARG, "%s: %d cached + %d new positions exceed the cache's %d", fn,
                            c->len, T, c->cap);
        start = c->len;
    }
    if (pos)
        NT_TRY(check_range(fn, "pos", pos, 0, cfg->max_len));
    else if (start < 0 || start + T > cfg->max_len)
        return nt_error(NT_ERR_ARG, "%s: positions %d..%d exceed max_len %d", fn, start, start + T - 1,
                        cfg->max_len);
    int need_mem = encdec && !(c && c->cross_ready);
    if (!encdec && (mem || mem_mask))
        return nt_error(NT_ERR_ARG, "%s: mem given to a decoder-only model", fn);
    if (need_mem && !mem) return nt_error(NT_ERR_ARG, "%s: an encdec model needs mem", fn);
    if (mem && need_mem) {
        char s[48];
        if (mem->dtype != NT_F32 || mem->ndim != 3 || mem->shape[0] != B || mem->shape[2] != D)
            return nt_error(NT_ERR_SHAPE, "%s: mem must be F32 (%d, S, %d), got %s", fn, B, D,
                            nt_shape_str(mem, s, sizeof s));
        if (mem_mask) NT_TRY(check_ids2(fn, "mem_mask", mem_mask, B, mem->shape[1]));
        if (c && mem->shape[1] > c->src_cap)
            return nt_error(NT_ERR_ARG, "%s: source length %d exceeds the cache's src_cap %d", fn,
                            mem->shape[1], c->src_cap);
    }

    if (c) {
        /* Key masks of the new positions and, once per source, of mem. */
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++)
                c->self_mask[(size_t)b * c->cap + c->len + t] =
                    tgt_mask ? (nt_i32(tgt_mask)[(size_t)b * T + t] != 0) : 1;
        if (need_mem) {
            int S = mem->shape[1];
            c->src_len = S;
            for (int b = 0; b < B; b++)
                for (int s = 0; s < S; s++)
                    c->src_mask[(size_t)b * c->src_cap + s] =
                        mem_mask ? (nt_i32(mem_mask)[(size_t)b * S + s] != 0) : 1;
        }
    }

    nt_tensor *x;
    NT_TRY(embed_positions(ctx, &x, m, &m->decoder, tgt, pos, start));   // (B, T, D)
    int L = m->decoder.n_layers;
    nt_tensor **probs = NULL;
    if (mi->record_attn && encdec) {
        probs = nt_ctx_alloc(ctx, (size_t)L * sizeof *probs);
        if (!probs) return nt_error_wrap(NT_ERR_NOMEM, "%s", fn);
    }
    mi->attn_valid = 0;
    nt_block_args a = {.heads = cfg->heads, .causal = 1, .dropout = cfg->dropout,
                       .self_mask = tgt_mask, .mem = mem, .mem_mask = mem_mask, .cache = c};
    for (int i = 0; i < L; i++) {
        a.layer = i;
        a.cross_probs = probs ? &probs[i] : NULL;
        nt_status st = nt_block_forward(&m->decoder.layers[i], ctx, &x, x, &a);
        if (st != NT_OK) return nt_error_wrap(st, "%s: decoder layer %d", fn, i);
    }
    NT_TRY(nt_layernorm(ctx, &x, x, m->decoder.ln_w, m->decoder.ln_b, NT_LN_EPS));
    NT_TRY(nt_linear(ctx, logits, x, m->embed, NULL));       // (B, T, V), tied embedding
    if (c) {
        c->len += T;
        if (encdec) c->cross_ready = 1;
    }
    if (probs) NT_TRY(record_attention(mi, probs, L));
    return NT_OK;
}

nt_status nt_model_decode(nt_model *m, nt_ctx *ctx, nt_tensor **logits, nt_tensor *tgt,
                          nt_tensor *pos, nt_tensor *tgt_mask, nt_tensor *mem, nt_tensor *mem_mask,
                          nt_kv_cache *cache, int start) {
    if (!m || !ctx || !logits || !tgt)
        return nt_error(NT_ERR_ARG, "nt_model_decode: NULL argument");
    /* No gradients through a cache: its K/V are copies outside the tape. */
    int grad = cache ? nt_ctx_set_grad(ctx, 0) : 0;
    nt_status st = decode_impl(m, ctx, logits, tgt, pos, tgt_mask, mem, mem_mask, cache, start);
    if (cache) nt_ctx_set_grad(ctx, grad);
    return st;
}

void nt_model_set_record_attention(nt_model *m, int on) {
    if (!m) return;
    model_impl *mi = (model_impl *)m;
    mi->record_attn = on != 0;
    if (!on) mi->attn_valid = 0;
}

nt_status nt_model_cross_attention(nt_model *m, nt_ctx *ctx, nt_tensor **weights, int layer) {
    static const char *fn = "nt_model_cross_attention";
    if (!m || !ctx || !weights) return nt_error(NT_ERR_ARG, "%s: NULL argument", fn);
    model_impl *mi = (model_impl *)m;
    if (!mi->attn_valid)
        return nt_error(NT_ERR_STATE, "%s: nothing recorded (record off, decoder-only, or no decode since)", fn);
    int L = m->decoder.n_layers;
    if (layer < 0) layer += L;
    if (layer < 0 || layer >= L)
        return nt_error(NT_ERR_ARG, "%s: layer %d outside [-%d, %d)", fn, layer, L, L);
    size_t per = (size_t)mi->attn_B * mi->attn_T * mi->attn_S;
    return nt_tensor_from(ctx, weights, NT_F32, 3, (int[]){mi->attn_B, mi->attn_T, mi->attn_S},
                          mi->attn + layer * per);
}

nt_status nt_model_loss(nt_model *m, nt_ctx *ctx, nt_tensor **loss, nt_tensor **logits,
                        nt_tensor *src, nt_tensor *src_mask, nt_tensor *tgt_in, nt_tensor *labels,
                        float label_smoothing, int64_t *n_tokens) {
    static const char *fn = "nt_model_loss";
    if (!m || !ctx || !loss || !tgt_in || !labels)
        return nt_error(NT_ERR_ARG, "%s: NULL argument", fn);
    NT_TRY(check_ids2(fn, "tgt_in", tgt_in, -1, -1));
    NT_TRY(check_ids2(fn, "labels", labels, tgt_in->shape[0], tgt_in->shape[1]));
    nt_tensor *mem = NULL, *lg;
    if (m->cfg.arch == NT_ARCH_ENCDEC) {
        if (!src) return nt_error(NT_ERR_ARG, "%s: an encdec model needs src", fn);
        if (src->ndim >= 1 && src->shape[0] != tgt_in->shape[0])
            return nt_error(NT_ERR_SHAPE, "%s: src has %d rows, tgt_in %d", fn, src->shape[0],
                            tgt_in->shape[0]);
        NT_TRY(nt_model_encode(m, ctx, &mem, src, src_mask));
    } else if (src || src_mask) {
        return nt_error(NT_ERR_ARG, "%s: a decoder-only model takes no src", fn);
    }
    /* The decoder's self-attention is causal only: batches are right-padded,
     * so a real query never sees a padded key, and padded queries take no loss. */
    NT_TRY(nt_model_decode(m, ctx, &lg, tgt_in, NULL, NULL, mem, src_mask, NULL, 0));
    NT_TRY(nt_cross_entropy(ctx, loss, lg, labels, 0, label_smoothing, n_tokens));
    if (logits) *logits = lg;
    return NT_OK;
}
