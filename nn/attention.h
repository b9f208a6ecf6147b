/* attention.h - the multi-head attention module: q/k/v/o projections around
 * the fused kernel (core/ops.h nt_attention), with or without a KV cache.
 *
 *     // self-attention of a pre-LN block, causal, key-padding mask (B, T):
 *     NT_TRY(nt_attention_forward(&p->self_attn, ctx, &y, h, NULL, tgt_mask, H, 1, NULL));
 *     // cross-attention onto the encoder output mem (B, S, D):
 *     NT_TRY(nt_attention_forward(&p->cross_attn, ctx, &y, h, mem, src_mask, H, 0, NULL));
 *     // one generation step, K/V appended to / read from the cache:
 *     NT_TRY(nt_attention_forward_cached(&p->self_attn, ctx, &y, h, NULL, H, 0, cache, layer, NULL));
 *
 * The module's parameters come first, then ctx, the output, the inputs.
 * Shapes: x (B, T, D), mem (B, S, D), key_mask I32 (B, Tk) with 0 = padding.
 * scores = q k^T / sqrt(D / H), per head (Vaswani et al. 2017, eq. 1).
 */
#ifndef NT_ATTENTION_H
#define NT_ATTENTION_H

#include "nn/model.h"

/* y = o(attention(q(x), k(src), v(src))) with src = mem if mem != NULL, else x.
 *   key_mask: (B, Tk) I32 key-padding mask of src, or NULL (all real).
 *   causal: query i sees key j <= i + (Tk - T).
 *   probs: if not NULL, receives the weights (B, H, T, Tk) (not differentiable).
 * On error returns the status of the failing op (shapes named) and leaves *y untouched. */
nt_status nt_attention_forward(const nt_attn_params *p, nt_ctx *ctx, nt_tensor **y, nt_tensor *x,
                               nt_tensor *mem, nt_tensor *key_mask, int heads, int causal,
                               nt_tensor **probs);

/* The same through a KV cache (grad mode must be off; nothing is recorded).
 *   cross = 0: self-attention, causal. K/V of x are written at positions
 *     cache->len .. cache->len+T-1 of layer `layer`; the queries see that
 *     prefix under the row's cache->self_mask (the caller has filled the mask
 *     of the new positions; it also advances cache->len after the last layer).
 *   cross = 1: cross-attention. If !cache->cross_ready, K/V of mem (B, S, D)
 *     are computed and stored for `layer` (cache->src_len and cache->src_mask
 *     are the caller's to set); else mem is not read (may be NULL).
 * Rows are attended one at a time on (1, L, D) views of the cache, so the
 * fused kernel serves without copies of K/V.
 * probs (optional): (B, H, T, Tk) weights. NT_ERR_ARG on rows or sizes that do
 * not fit the cache; *y untouched on error. */
nt_status nt_attention_forward_cached(const nt_attn_params *p, nt_ctx *ctx, nt_tensor **y,
                                      nt_tensor *x, nt_tensor *mem, int heads, int cross,
                                      nt_kv_cache *cache, int layer, nt_tensor **probs);

#endif
