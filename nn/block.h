/* block.h - one pre-LayerNorm transformer block:
 *     x = x + drop(self_attn(ln_self(x)))
 *     x = x + drop(cross_attn(ln_cross(x), mem))      (decoder of an encdec model)
 *     x = x + drop(mlp(ln_mlp(x)))
 * (pre-LN as GPT-2 and Xiong et al. 2020; LayerNorm eps 1e-5 as PyTorch).
 *
 *     nt_block_args a = {.heads = H, .causal = 1, .mem = mem, .mem_mask = src_mask};
 *     NT_TRY(nt_block_forward(&m->decoder.layers[i], ctx, &x, x, &a));
 */
#ifndef NT_BLOCK_H
#define NT_BLOCK_H

#include "nn/model.h"

#define NT_LN_EPS 1e-5f

typedef struct nt_block_args {
    int heads;
    int causal;              /* self-attention causal (decoder) */
    float dropout;           /* on the attention and MLP outputs; 0 = off */
    nt_tensor *self_mask;    /* (B, T) I32 key-padding mask or NULL (no cache) */
    nt_tensor *mem;          /* (B, S, D) encoder output, or NULL */
    nt_tensor *mem_mask;     /* (B, S) I32 or NULL */
    nt_kv_cache *cache;      /* NULL: full forward */
    int layer;               /* index of this block in the cache */
    nt_tensor **cross_probs; /* if not NULL: cross-attention weights (B, H, T, S) */
} nt_block_args;

/* x (B, T, D) -> y (B, T, D) through block p (the object first, then ctx,
 * the output, the inputs). Blocks with cross-attention parameters run it
 * (mem or a ready cache required). On error *y is untouched. */
nt_status nt_block_forward(const nt_block_params *p, nt_ctx *ctx, nt_tensor **y, nt_tensor *x,
                           const nt_block_args *a);

#endif
