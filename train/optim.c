/* optim.c - SGD, Adam, AdamW as fused loops over the parameter block; clipping.
 *
 * P is the parameter block (values, grads, m, v: (P) floats each). The block
 * is cut once into ranges: maximal runs of consecutive non-frozen parameters
 * that share the weight-decay rule (the 64-byte padding between parameters
 * rides along: its values, gradients and moments are zero and stay zero).
 * A step is one OpenMP region that walks the ranges with static schedules.
 */
#include "train/optim.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/bf16.h"

/* Elements per chunk of the gradient-norm sum. Fixed (not per thread), so
 * the sum's rounding does not depend on the thread count. */
#define NT_NORM_CHUNK 16384

nt_optim_config nt_optim_config_default(nt_optim_kind kind) {
    nt_optim_config c;
    memset(&c, 0, sizeof c);
    c.kind = kind;
    c.lr = kind == NT_OPTIM_SGD ? 1e-2 : 1e-3;
    c.momentum = 0.0;
    c.nesterov = 0;
    c.beta1 = 0.9;
    c.beta2 = 0.999;
    c.eps = 1e-8;
    c.weight_decay = kind == NT_OPTIM_ADAMW ? 0.01 : 0.0;
    c.decay_all = 0;
    return c;
}

const char *nt_optim_kind_name(nt_optim_kind kind) {
    switch (kind) {
    case NT_OPTIM_SGD: return "sgd";
    case NT_OPTIM_ADAM: return "adam";
    case NT_OPTIM_ADAMW: return "adamw";
    }
    return "?";
}

nt_status nt_optim_kind_parse(const char *name, nt_optim_kind *out) {
    if (!name || !out) return nt_error(NT_ERR_ARG, "nt_optim_kind_parse: NULL argument");
    for (int k = NT_OPTIM_SGD; k <= NT_OPTIM_ADAMW; k++)
        if (strcmp(name, nt_optim_kind_name((nt_optim_kind)k)) == 0) {
            *out = (nt_optim_kind)k;
            return NT_OK;
        }
    return nt_error(NT_ERR_ARG, "unknown optimizer '%s' (expected sgd, adam or adamw)", name);
}

nt_status nt_optim_config_check(const nt_optim_config *c) {
    const char *fn = "nt_optim_config_check";
    if (!c) return nt_error(NT_ERR_ARG, "%s: config is NULL", fn);
    if (c->kind < NT_OPTIM_SGD || c->kind > NT_OPTIM_ADAMW)
        return nt_error(NT_ERR_ARG, "%s: unknown optimizer kind %d", fn, (int)c->kind);
    if (!(c->lr >= 0.0) || !isfinite(c->lr))
        return nt_error(NT_ERR_ARG, "%s: lr %g must be finite and >= 0", fn, c->lr);
    if (!(c->weight_decay >= 0.0) || !isfinite(c->weight_decay))
        return nt_error(NT_ERR_ARG, "%s: weight_decay %g must be finite and >= 0", fn,
                        c->weight_decay);
    if (c->kind == NT_OPTIM_SGD) {
        if (!(c->momentum >= 0.0 && c->momentum < 1.0))
            return nt_error(NT_ERR_ARG, "%s: momentum %g not in [0, 1)", fn, c->momentum);
        if (c->nesterov && c->momentum == 0.0)
            return nt_error(NT_ERR_ARG, "%s: nesterov needs momentum > 0 (got 0)", fn);
    } else {
        if (!(c->beta1 >= 0.0 && c->beta1 < 1.0))
            return nt_error(NT_ERR_ARG, "%s: beta1 %g not in [0, 1)", fn, c->beta1);
        if (!(c->beta2 >= 0.0 && c->beta2 < 1.0))
            return nt_error(NT_ERR_ARG, "%s: beta2 %g not in [0, 1)", fn, c->beta2);
        if (!(c->eps > 0.0) || !isfinite(c->eps))
            return nt_error(NT_ERR_ARG, "%s: eps %g must be finite and > 0", fn, c->eps);
    }
    return NT_OK;
}

/* ---- ranges and chunks ------------------------------------------------------ */

int nt_optim_decays(const nt_optim *o, int i) {
    return o->cfg.decay_all || (o->params->flags[i] & NT_PARAM_DECAY);
}

static int is_frozen(const nt_params *p, int i) {
    return (p->frozen && p->frozen[i]) || (p->flags[i] & NT_PARAM_FROZEN);
}

/* End of parameter i's slot in the block (its padding included). */
static int64_t slot_end(const nt_params *p, int i) {
    return i + 1 < p->count ? p->offsets[i + 1] : p->total;
}

nt_status nt_optim_refresh(nt_optim *o) {
    if (!o) return nt_error(NT_ERR_ARG, "nt_optim_refresh: optimizer is NULL");
    const nt_params *p = o->params;
    /* Upper bounds: one range per parameter; chunking merged ranges never
     * takes more chunks than chunking each parameter's slot on its own. */
    int64_t max_chunks = 1;
    for (int i = 0; i < p->count; i++)
        max_chunks += (slot_end(p, i) - p->offsets[i] + NT_NORM_CHUNK - 1) / NT_NORM_CHUNK;
    nt_optim_range *ranges = nt_malloc((size_t)(p->count + 1) * sizeof *ranges);
    int64_t *cb = nt_malloc((size_t)max_chunks * sizeof *cb);
    int64_t *ce = nt_malloc((size_t)max_chunks * sizeof *ce);
    double *partial = nt_malloc((size_t)max_chunks * sizeof *partial);
    if (!ranges || !cb || !ce || !partial) {
        nt_free(ranges), nt_free(cb), nt_free(ce), nt_free(partial);
        return nt_error(NT_ERR_NOMEM, "nt_optim_refresh: out of memory (%d parameters)", p->count);
    }
    int nr = 0;
    for (int i = 0; i < p->count; i++) {
        if (is_frozen(p, i)) continue;
        int64_t b = p->offsets[i], e = slot_end(p, i);
        int d = nt_optim_decays(o, i);
        if (nr > 0 && ranges[nr - 1].end == b && ranges[nr - 1].decay == d) {
            ranges[nr - 1].end = e;
        } else {
            ranges[nr].begin = b, ranges[nr].end = e, ranges[nr].decay = d;
            nr++;
        }
    }
    int64_t nc = 0;
    for (int r = 0; r < nr; r++)
        for (int64_t b = ranges[r].begin; b < ranges[r].end; b += NT_NORM_CHUNK) {
            int64_t e = b + NT_NORM_CHUNK;
            cb[nc] = b;
            ce[nc] = e < ranges[r].end ? e : ranges[r].end;
            nc++;
        }
    NT_ASSERT(nc <= max_chunks);
    nt_free(o->ranges), nt_free(o->chunk_begin), nt_free(o->chunk_end), nt_free(o->partial);
    o->ranges = ranges, o->n_ranges = nr;
    o->chunk_begin = cb, o->chunk_end = ce, o->partial = partial, o->n_chunks = nc;
    return NT_OK;
}

nt_status nt_optim_new(nt_optim **out, nt_params *params, const nt_optim_config *cfg) {
    if (!out) return nt_error(NT_ERR_ARG, "nt_optim_new: out is NULL");
    if (!params || !params->values)
        return nt_error(NT_ERR_ARG, "nt_optim_new: parameter block is NULL or not allocated");
    nt_status cs = nt_optim_config_check(cfg);
    if (cs != NT_OK) return nt_error_wrap(cs, "nt_optim_new");
    NT_TRY(nt_params_alloc_moments(params));
    nt_optim *o = nt_calloc(1, sizeof *o);
    if (!o) return nt_error(NT_ERR_NOMEM, "nt_optim_new: out of memory");
    o->cfg = *cfg;
    o->params = params;
    nt_status s = nt_optim_refresh(o);
    if (s != NT_OK) {
        nt_free(o);
        return s;
    }
    *out = o;
    return NT_OK;
}

void nt_optim_free(nt_optim *o) {
    if (!o) return;
    nt_free(o->ranges);
    nt_free(o->chunk_begin);
    nt_free(o->chunk_end);
    nt_free(o->partial);
    nt_free(o);
}

nt_status nt_optim_freeze(nt_optim *o, const char *prefix, int *n_frozen) {
    if (!o) return nt_error(NT_ERR_ARG, "nt_optim_freeze: optimizer is NULL");
    if (!prefix || !*prefix) return nt_error(NT_ERR_ARG, "nt_optim_freeze: empty prefix");
    nt_params *p = o->params;
    size_t len = strlen(prefix);
    int n = 0;
    for (int i = 0; i < p->count; i++) n += strncmp(p->names[i], prefix, len) == 0;
    if (n == 0)
        return nt_error(NT_ERR_ARG, "nt_optim_freeze: prefix '%s' matches no parameter", prefix);
    if (!p->frozen) {
        p->frozen = nt_calloc((size_t)p->count, 1);
        if (!p->frozen) return nt_error(NT_ERR_NOMEM, "nt_optim_freeze: out of memory");
    }
    uint8_t *was = nt_malloc((size_t)p->count);
    if (!was) return nt_error(NT_ERR_NOMEM, "nt_optim_freeze: out of memory");
    memcpy(was, p->frozen, (size_t)p->count);
    for (int i = 0; i < p->count; i++)
        if (strncmp(p->names[i], prefix, len) == 0) p->frozen[i] = 1;
    nt_status s = nt_optim_refresh(o);
    if (s != NT_OK) {
        memcpy(p->frozen, was, (size_t)p->count);
    } else {
        p->frozen_any = 1;
        if (n_frozen) *n_frozen = n;
    }
    nt_free(was);
    return s;
}

/* ---- the updates ------------------------------------------------------------ */

static void step_sgd(nt_optim *o, double lr) {
    const nt_params *P = o->params;
    float *restrict pv = P->values, *restrict pg = P->grads, *restrict pm = P->m;
    const float mu = (float)o->cfg.momentum, neg_lr = (float)-lr;
    const int nesterov = o->cfg.nesterov;
#pragma omp parallel
    for (int r = 0; r < o->n_ranges; r++) {
        const int64_t b = o->ranges[r].begin, e = o->ranges[r].end;
        const float wd = o->ranges[r].decay ? (float)o->cfg.weight_decay : 0.0f;
        if (mu == 0.0f) {
#pragma omp for simd schedule(static) nowait
            for (int64_t i = b; i < e; i++) pv[i] = pv[i] + neg_lr * (pg[i] + wd * pv[i]);
        } else {
#pragma omp for simd schedule(static) nowait
            for (int64_t i = b; i < e; i++) {
                float g = pg[i] + wd * pv[i];
                float buf = pm[i] * mu + g;
                pm[i] = buf;
                float d = nesterov ? g + mu * buf : buf;
                pv[i] = pv[i] + neg_lr * d;
            }
        }
    }
}

/* The loop vectorises only because the build passes -fno-math-errno: with
 * errno semantics GCC keeps sqrtf scalar and the update runs 4-5x slower
 * (measured: 36 ms vs 8 ms per 10M parameters on 2 threads, the latter at
 * the speed of a plain stream over the four arrays). */
/* Elements per chunk of the Adam update: the chunk's new values are
 * converted to the bf16 copy while they are still in L1. */
#define ADAM_CHUNK 2048

/* The parameters' bf16 copy when it is current (converted from the values
 * as they are now), else NULL: then the optimizer may keep it current by
 * converting what it writes; a stale or absent copy is left to
 * nt_params_bf16_of, which converts the whole block at its next use. */
static nt_bf16 *current_bf16(const nt_params *P) {
    return P->values_bf16 && P->bf16_version == P->version ? P->values_bf16 : NULL;
}

/* Returns 1 if it kept the bf16 copy current (wrote bf16 of every value it
 * changed; frozen parameters keep their values and their copy). */
static int step_adam(nt_optim *o, double lr, int decoupled) {
    const nt_params *P = o->params;
    float *restrict pv = P->values, *restrict pg = P->grads, *restrict pm = P->m,
                    *restrict pvv = P->v;
    nt_bf16 *restrict pb = current_bf16(P);
    const double t = (double)(o->step + 1);
    const double b1d = o->cfg.beta1, b2d = o->cfg.beta2;
    const float b1 = (float)b1d, b2 = (float)b2d, eps = (float)o->cfg.eps;
    const float omb1 = (float)(1.0 - b1d), omb2 = (float)(1.0 - b2d);
    const float neg_step = (float)(-lr / (1.0 - pow(b1d, t)));
    const float bc2_sqrt = (float)sqrt(1.0 - pow(b2d, t));
    const float shrink = (float)(1.0 - lr * o->cfg.weight_decay);
#pragma omp parallel
    for (int r = 0; r < o->n_ranges; r++) {
        const int64_t b = o->ranges[r].begin, e = o->ranges[r].end;
        const int decay = o->ranges[r].decay && o->cfg.weight_decay != 0.0;
        const float l2 = decay && !decoupled ? (float)o->cfg.weight_decay : 0.0f;
        const float keep = decay && decoupled ? shrink : 1.0f;
        const int64_t chunks = (e - b + ADAM_CHUNK - 1) / ADAM_CHUNK;
#pragma omp for schedule(static) nowait
        for (int64_t c = 0; c < chunks; c++) {
            const int64_t i0 = b + c * ADAM_CHUNK, i1 = e - i0 < ADAM_CHUNK ? e : i0 + ADAM_CHUNK;
            for (int64_t i = i0; i < i1; i++) {
                float p = pv[i] * keep;
                float g = pg[i] + l2 * p;
                float m = pm[i] * b1 + omb1 * g;
                float v = pvv[i] * b2 + omb2 * g * g;
                pm[i] = m;
                pvv[i] = v;
                pv[i] = p + neg_step * (m / (sqrtf(v) / bc2_sqrt + eps));
            }
            /* the weights' bf16 copy in the same pass (one read of the
             * values instead of a second sweep over the block) */
            if (pb) nt_bf16_from_f32_n(pb + i0, pv + i0, i1 - i0);
        }
    }
    return pb != NULL;
}

nt_status nt_optim_step(nt_optim *o, double lr) {
    if (!o) return nt_error(NT_ERR_ARG, "nt_optim_step: optimizer is NULL");
    if (!(lr >= 0.0) || !isfinite(lr))
        return nt_error(NT_ERR_ARG, "nt_optim_step: lr %g must be finite and >= 0", lr);
    int copied = 0; /* 1: the update kept the bf16 copy of the weights current */
    switch (o->cfg.kind) {
    case NT_OPTIM_SGD: step_sgd(o, lr); break;
    case NT_OPTIM_ADAM: copied = step_adam(o, lr, 0); break;
    case NT_OPTIM_ADAMW: copied = step_adam(o, lr, 1); break;
    }
    o->step++;
    o->last_lr = lr;
    nt_params_touch(o->params); /* the values changed */
    if (copied)
        o->params->bf16_version = o->params->version; /* ... and so did their copy */
    return NT_OK;
}

/* ---- norm and clipping ---------------------------------------------------------- */

void nt_optim_scale_grads(nt_optim *o, float s) {
    if (!o) return;
    float *restrict g = o->params->grads;
#pragma omp parallel
    for (int r = 0; r < o->n_ranges; r++) {
        const int64_t b = o->ranges[r].begin, e = o->ranges[r].end;
#pragma omp for schedule(static) nowait
        for (int64_t i = b; i < e; i++) g[i] *= s;
    }
}

double nt_optim_grad_norm(nt_optim *o) {
    if (!o) return 0.0;
    const float *restrict g = o->params->grads;
    double *partial = o->partial;
    const int64_t *cb = o->chunk_begin, *ce = o->chunk_end;
#pragma omp parallel for schedule(static)
    for (int64_t k = 0; k < o->n_chunks; k++) {
        /* 8 running sums (independent chains that vectorise), combined in a fixed order */
        double acc[8] = {0};
        int64_t i = cb[k];
        for (; i + 8 <= ce[k]; i += 8)
            for (int l = 0; l < 8; l++) acc[l] += (double)g[i + l] * (double)g[i + l];
        for (; i < ce[k]; i++) acc[0] += (double)g[i] * (double)g[i];
        partial[k] = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    }
    double total = 0.0;
    for (int64_t k = 0; k < o->n_chunks; k++) total += partial[k];
    return sqrt(total);
}

nt_status nt_optim_clip(nt_optim *o, float max_norm, float *norm) {
    if (!o) return nt_error(NT_ERR_ARG, "nt_optim_clip: optimizer is NULL");
    double n = nt_optim_grad_norm(o);
    if (norm) *norm = (float)n;
    if (!isfinite(n)) {
        const nt_params *p = o->params;
        for (int i = 0; i < p->count; i++) {
            if (is_frozen(p, i)) continue;
            const float *g = p->grads + p->offsets[i];
            for (int64_t j = 0; j < p->tensors[i].n; j++)
                if (!isfinite(g[j]))
                    return nt_error(NT_ERR_NUMERIC,
                                    "nt_optim_clip: gradient norm is %g; first non-finite "
                                    "gradient in '%s' at element %lld",
                                    n, p->names[i], (long long)j);
        }
        return nt_error(NT_ERR_NUMERIC, "nt_optim_clip: gradient norm is %g", n);
    }
    if (max_norm > 0.0f && n > (double)max_norm) {
        nt_optim_scale_grads(o, (float)((double)max_norm / (n + 1e-6)));
    }
    return NT_OK;
}
