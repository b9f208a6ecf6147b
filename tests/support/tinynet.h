/* tinynet.h - a small network built only from the core kernels, for tests of
 * determinism and steady-state memory:
 *
 *   ids (B, T) -> embedding (V, D) -> linear (D, D) -> layernorm
 *     -> q, k, v linears -> attention (H heads, causal, key mask)
 *     -> linear (V, D) -> cross-entropy (ignore index 0, smoothing 0.1)
 *
 *     tinynet net;
 *     tinynet_init(&net, 4, 16, 64, 4, 50, 7);   // B, T, D, H, V, seed
 *     nt_tensor *loss;
 *     tinynet_forward(&net, ctx, &loss);
 *     nt_backward(ctx, loss);                      // grads in net.params->grads
 *     tinynet_free(&net);
 */
#ifndef NT_TEST_TINYNET_H
#define NT_TEST_TINYNET_H

#include "core/ops.h"

typedef struct tinynet {
    int B, T, D, H, V;
    nt_params *params;
    int32_t *ids, *targets, *mask; /* (B, T) each, owned */
} tinynet;

nt_status tinynet_init(tinynet *net, int B, int T, int D, int H, int V, uint64_t seed);
nt_status tinynet_forward(tinynet *net, nt_ctx *ctx, nt_tensor **loss);
void tinynet_free(tinynet *net);

#endif
