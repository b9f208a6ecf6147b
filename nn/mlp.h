/* mlp.h - the position-wise feed-forward module: proj(gelu_tanh(fc(x))).
 *
 *     NT_TRY(nt_mlp_forward(p, ctx, &y, h));   // (B, T, D) -> (B, T, D), hidden 4D
 */
#ifndef NT_MLP_H
#define NT_MLP_H

#include "nn/model.h"

/* x (.., D) -> (.., D) through fc (4D, D) and proj (D, 4D) of the block's
 * parameters p (the object first, then ctx, the output, the input); GELU in its tanh form (Hendrycks & Gimpel 2016), as GPT-2 and
 * PyTorch's gelu(approximate="tanh"). On error *y is untouched. */
nt_status nt_mlp_forward(const nt_block_params *p, nt_ctx *ctx, nt_tensor **y, nt_tensor *x);

#endif
