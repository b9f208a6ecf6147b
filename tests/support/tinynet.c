/* tinynet.c - the small test network of tinynet.h. */
#include "support/tinynet.h"

#include <math.h>

#include "core/alloc.h"

static const char *names[] = {"embed", "fc.w", "fc.b", "ln.w", "ln.b", "q.w", "q.b", "k.w",
                              "k.b",   "v.w",  "v.b",  "out.w", "out.b"};
enum { EMB, FCW, FCB, LNW, LNB, QW, QB, KW, KB, VW, VB, OW, OB, NPARAM };

nt_status tinynet_init(tinynet *net, int B, int T, int D, int H, int V, uint64_t seed) {
    net->B = B, net->T = T, net->D = D, net->H = H, net->V = V;
    NT_TRY(nt_params_new(&net->params));
    for (int i = 0; i < NPARAM; i++) {
        int is_w = i == FCW || i == QW || i == KW || i == VW;
        int shape[2] = {i == EMB || i == OW ? V : D, D};
        if (i == OB) shape[0] = V;
        int nd = i == EMB || i == OW || is_w ? 2 : 1;
        if (nt_params_add(net->params, names[i], nd, shape) < 0) return NT_ERR_ARG;
    }
    NT_TRY(nt_params_alloc(net->params));
    nt_rng rng;
    nt_rng_seed(&rng, seed);
    for (int i = 0; i < NPARAM; i++) {
        nt_tensor *t = nt_params_get(net->params, i);
        float sd = t->ndim == 2 ? 1.0f / sqrtf((float)D) : 0.1f;
        for (int64_t j = 0; j < t->n; j++)
            nt_f32(t)[j] = (i == LNW ? 1.0f : 0.0f) + sd * nt_rng_normal(&rng);
    }
    int n = B * T;
    net->ids = nt_malloc((size_t)n * sizeof(int32_t));
    net->targets = nt_malloc((size_t)n * sizeof(int32_t));
    net->mask = nt_malloc((size_t)n * sizeof(int32_t));
    if (!net->ids || !net->targets || !net->mask) return NT_ERR_NOMEM;
    for (int b = 0; b < B; b++) {
        int len = T - (b % 3); /* some rows padded at the end */
        for (int t = 0; t < T; t++) {
            int i = b * T + t;
            net->ids[i] = t < len ? 1 + (int)nt_rng_below(&rng, (uint64_t)V - 1) : 0;
            net->targets[i] = t < len ? 1 + (int)nt_rng_below(&rng, (uint64_t)V - 1) : 0;
            net->mask[i] = t < len;
        }
    }
    return NT_OK;
}

nt_status tinynet_forward(tinynet *net, nt_ctx *ctx, nt_tensor **loss) {
    int B = net->B, T = net->T;
    nt_tensor *P[NPARAM];
    for (int i = 0; i < NPARAM; i++) P[i] = nt_params_get(net->params, i);
    nt_tensor *ids, *tg, *mask, *x, *h, *q, *k, *v, *a, *logits;
    NT_TRY(nt_tensor_wrap(ctx, &ids, NT_I32, 2, (int[]){B, T}, net->ids));
    NT_TRY(nt_tensor_wrap(ctx, &tg, NT_I32, 2, (int[]){B, T}, net->targets));
    NT_TRY(nt_tensor_wrap(ctx, &mask, NT_I32, 2, (int[]){B, T}, net->mask));
    NT_TRY(nt_embedding(ctx, &x, P[EMB], ids));                       // (B, T, D)
    NT_TRY(nt_linear(ctx, &h, x, P[FCW], P[FCB]));                    // (B, T, D)
    NT_TRY(nt_layernorm(ctx, &h, h, P[LNW], P[LNB], 1e-5f));          // (B, T, D)
    NT_TRY(nt_linear(ctx, &q, h, P[QW], P[QB]));
    NT_TRY(nt_linear(ctx, &k, h, P[KW], P[KB]));
    NT_TRY(nt_linear(ctx, &v, h, P[VW], P[VB]));
    float scale = 1.0f / sqrtf((float)(net->D / net->H));
    NT_TRY(nt_attention(ctx, &a, q, k, v, mask, net->H, 1, scale, NULL)); // (B, T, D)
    NT_TRY(nt_linear(ctx, &logits, a, P[OW], P[OB]));                  // (B, T, V)
    return nt_cross_entropy(ctx, loss, logits, tg, 0, 0.1f, NULL);
}

void tinynet_free(tinynet *net) {
    nt_params_free(net->params);
    nt_free(net->ids);
    nt_free(net->targets);
    nt_free(net->mask);
    net->params = NULL;
    net->ids = net->targets = net->mask = NULL;
}
