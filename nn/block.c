/* block.c - one pre-LayerNorm transformer block (self-attention, cross-attention, MLP). */
#include "nn/block.h"

#include "nn/attention.h"
#include "nn/mlp.h"

/* x + dropout(f), over f's buffer (the sublayer output f is not read again) */
static nt_status residual(nt_ctx *ctx, nt_tensor **x, nt_tensor *f, float p) {
    if (p > 0) NT_TRY(nt_dropout(ctx, &f, f, p));
    return nt_add_residual(ctx, x, *x, f);
}

nt_status nt_block_forward(const nt_block_params *p, nt_ctx *ctx, nt_tensor **y, nt_tensor *x,
                           const nt_block_args *a) {
    if (!ctx || !y || !x || !p || !a) return nt_error(NT_ERR_ARG, "nt_block_forward: NULL argument");
    nt_tensor *h, *f;
    NT_TRY(nt_layernorm(ctx, &h, x, p->ln_self_w, p->ln_self_b, NT_LN_EPS));   // (B, T, D)
    if (a->cache)
        NT_TRY(nt_attention_forward_cached(&p->self_attn, ctx, &f, h, NULL, a->heads, 0, a->cache,
                                           a->layer, NULL));
    else
        NT_TRY(nt_attention_forward(&p->self_attn, ctx, &f, h, NULL, a->self_mask, a->heads,
                                    a->causal, NULL));
    NT_TRY(residual(ctx, &x, f, a->dropout));

    if (p->ln_cross_w) {
        NT_TRY(nt_layernorm(ctx, &h, x, p->ln_cross_w, p->ln_cross_b, NT_LN_EPS));
        if (a->cache)
            NT_TRY(nt_attention_forward_cached(&p->cross_attn, ctx, &f, h, a->mem, a->heads, 1,
                                               a->cache, a->layer, a->cross_probs));
        else {
            if (!a->mem) return nt_error(NT_ERR_ARG, "nt_block_forward: cross-attention needs mem");
            NT_TRY(nt_attention_forward(&p->cross_attn, ctx, &f, h, a->mem, a->mem_mask, a->heads,
                                        0, a->cross_probs));
        }
        NT_TRY(residual(ctx, &x, f, a->dropout));
    }

    NT_TRY(nt_layernorm(ctx, &h, x, p->ln_mlp_w, p->ln_mlp_b, NT_LN_EPS));
    NT_TRY(nt_mlp_forward(p, ctx, &f, h));
    NT_TRY(residual(ctx, &x, f, a->dropout));
    *y = x;
    return NT_OK;
}
