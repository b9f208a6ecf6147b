/* attention.c - multi-head attention: projections around the fused kernel, and the KV-cached step.
 *
 * B batch, T query length, S source length, L cached prefix length,
 * D model width, H heads, Dh = D / H.
 */
#include "nn/attention.h"

#include <math.h>
#include <string.h>

nt_status nt_attention_forward(const nt_attn_params *p, nt_ctx *ctx, nt_tensor **y, nt_tensor *x,
                               nt_tensor *mem, nt_tensor *key_mask, int heads, int causal,
                               nt_tensor **probs) {
    if (!ctx || !y || !x || !p || heads < 1)
        return nt_error(NT_ERR_ARG, "nt_attention_forward: NULL argument or heads %d", heads);
    nt_tensor *src = mem ? mem : x;
    nt_tensor *q, *k, *v, *a, *out;
    NT_TRY(nt_linear(ctx, &q, x, p->q_w, p->q_b));      // (B, T, D)
    NT_TRY(nt_linear(ctx, &k, src, p->k_w, p->k_b));    // (B, Tk, D)
    NT_TRY(nt_linear(ctx, &v, src, p->v_w, p->v_b));    // (B, Tk, D)
    int D = x->shape[x->ndim - 1];
    float scale = 1.0f / sqrtf((float)(D / heads));
    NT_TRY(nt_attention(ctx, &a, q, k, v, key_mask, heads, causal, scale, probs));  // (B, T, D)
    NT_TRY(nt_linear(ctx, &out, a, p->o_w, p->o_b));
    *y = out;
    return NT_OK;
}

/* Copies rows of a (B, T, D) projection into layer `layer` of a cache buffer
 * [layer][row][cap][D] at position `at`. */
static void cache_put(float *buf, const float *src, int layer, int rows_cap, int cap, int B, int T,
                      int D, int at) {
    for (int b = 0; b < B; b++)
        memcpy(buf + (((size_t)layer * rows_cap + b) * cap + at) * D, src + (size_t)b * T * D,
               (size_t)T * D * sizeof(float));
}

nt_status nt_attention_forward_cached(const nt_attn_params *p, nt_ctx *ctx, nt_tensor **y,
                                      nt_tensor *x, nt_tensor *mem, int heads, int cross,
                                      nt_kv_cache *c, int layer, nt_tensor **probs) {
    static const char *fn = "nt_attention_forward_cached";
    if (!ctx || !y || !x || !p || !c || heads < 1)
        return nt_error(NT_ERR_ARG, "%s: NULL argument or heads %d", fn, heads);
    if (x->ndim != 3 || x->dtype != NT_F32)
        return nt_error(NT_ERR_SHAPE, "%s: x must be F32 (B, T, D), got ndim %d", fn, x->ndim);
    int B = x->shape[0], T = x->shape[1], D = x->shape[2];
    if (B != c->rows || D != c->d_model || layer < 0 || layer >= c->n_layers)
        return nt_error(NT_ERR_ARG, "%s: x (%d, %d, %d) / layer %d do not fit the cache (rows %d, D %d, %d layers)",
                        fn, B, T, D, layer, c->rows, c->d_model, c->n_layers);
    if (nt_ctx_grad_enabled(ctx))
        return nt_error(NT_ERR_STATE, "%s: grad mode must be off with a KV cache", fn);

    nt_tensor *q, *k, *v;
    NT_TRY(nt_linear(ctx, &q, x, p->q_w, p->q_b));      // (B, T, D)
    float *kbuf, *vbuf;
    int32_t *mbuf;
    int L, stride_cap, causal;
    if (!cross) {
        if (c->len + T > c->cap)
            return nt_error(NT_ERR_ARG, "%s: %d cached + %d new positions exceed the cache's %d",
                            fn, c->len, T, c->cap);
        NT_TRY(nt_linear(ctx, &k, x, p->k_w, p->k_b));   // (B, T, D)
        NT_TRY(nt_linear(ctx, &v, x, p->v_w, p->v_b));
        cache_put(c->self_k, nt_f32(k), layer, c->rows_cap, c->cap, B, T, D, c->len);
        cache_put(c->self_v, nt_f32(v), layer, c->rows_cap, c->cap, B, T, D, c->len);
        kbuf = c->self_k, vbuf = c->self_v, mbuf = c->self_mask;
        L = c->len + T, stride_cap = c->cap, causal = 1;
    } else {
        if (!c->cross_k) return nt_error(NT_ERR_STATE, "%s: the cache has no cross-attention K/V", fn);
        if (!c->cross_ready) {
            if (!mem || mem->ndim != 3 || mem->shape[0] != B || mem->shape[1] != c->src_len ||
                mem->shape[2] != D)
                return nt_error(NT_ERR_ARG, "%s: mem must be (%d, %d, %d) to fill the cross K/V",
                                fn, B, c->src_len, D);
            int S = mem->shape[1];
            NT_TRY(nt_linear(ctx, &k, mem, p->k_w, p->k_b));   // (B, S, D)
            NT_TRY(nt_linear(ctx, &v, mem, p->v_w, p->v_b));
            cache_put(c->cross_k, nt_f32(k), layer, c->rows_cap, c->src_cap, B, S, D, 0);
            cache_put(c->cross_v, nt_f32(v), layer, c->rows_cap, c->src_cap, B, S, D, 0);
        }
        kbuf = c->cross_k, vbuf = c->cross_v, mbuf = c->src_mask;
        L = c->src_len, stride_cap = c->src_cap, causal = 0;
    }

    /* One fused-kernel call per row on views of the cache: row b's prefix is
     * contiguous ([layer][row][cap][D]). */
    float scale = 1.0f / sqrtf((float)(D / heads));
    nt_tensor *att = NULL, *pr = NULL;
    if (B > 1) NT_TRY(nt_tensor_new(ctx, &att, NT_F32, 3, (int[]){B, T, D}));
    if (probs && B > 1) NT_TRY(nt_tensor_new(ctx, &pr, NT_F32, 4, (int[]){B, heads, T, L}));
    for (int b = 0; b < B; b++) {
        nt_tensor *qb, *kb, *vb, *mb, *yb, *pb = NULL;
        size_t off = ((size_t)layer * c->rows_cap + b) * stride_cap * D;
        NT_TRY(nt_tensor_wrap(ctx, &qb, NT_F32, 3, (int[]){1, T, D}, nt_f32(q) + (size_t)b * T * D));
        NT_TRY(nt_tensor_wrap(ctx, &kb, NT_F32, 3, (int[]){1, L, D}, kbuf + off));
        NT_TRY(nt_tensor_wrap(ctx, &vb, NT_F32, 3, (int[]){1, L, D}, vbuf + off));
        NT_TRY(nt_tensor_wrap(ctx, &mb, NT_I32, 2, (int[]){1, L}, mbuf + (size_t)b * stride_cap));
        NT_TRY(nt_attention(ctx, &yb, qb, kb, vb, mb, heads, causal, scale, probs ? &pb : NULL));
        if (B == 1) {
            att = yb, pr = pb;
            break;
        }
        memcpy(nt_f32(att) + (size_t)b * T * D, nt_f32(yb), (size_t)T * D * sizeof(float));
        if (pb) memcpy(nt_f32(pr) + (size_t)b * pb->n, nt_f32(pb), (size_t)pb->n * sizeof(float));
    }
    nt_tensor *out;
    NT_TRY(nt_linear(ctx, &out, att, p->o_w, p->o_b));
    if (probs) *probs = pr;
    *y = out;
    return NT_OK;
}
