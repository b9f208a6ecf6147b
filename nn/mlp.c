/* mlp.c - the feed-forward module: proj(gelu_tanh(fc(x))), hidden width 4D. */
#include "nn/mlp.h"

nt_status nt_mlp_forward(const nt_block_params *p, nt_ctx *ctx, nt_tensor **y, nt_tensor *x) {
    if (!ctx || !y || !x || !p) return nt_error(NT_ERR_ARG, "nt_mlp_forward: NULL argument");
    nt_tensor *h, *out;
    NT_TRY(nt_linear(ctx, &h, x, p->fc_w, p->fc_b));       // (.., 4D)
    NT_TRY(nt_gelu_linear(ctx, &out, h, p->proj_w, p->proj_b)); // (.., D), gelu(h) not kept
    *y = out;
    return NT_OK;
}
