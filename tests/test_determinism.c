/* test_determinism.c - the gradients of a small network (embedding, linear,
 * layernorm, attention, linear, cross-entropy) are bitwise identical across
 * runs for a fixed thread count (1 and 2 threads). */
#include <string.h>

#include "core/alloc.h"
#include "core/parallel.h"
#include "support/check.h"
#include "support/tinynet.h"

/* One forward + backward from zeroed gradients; copies grads into `dst`. */
static float run(tinynet *net, nt_ctx *ctx, float *dst, float *loss_out) {
    nt_params_zero_grad(net->params);
    nt_tensor *loss;
    nt_status st = tinynet_forward(net, ctx, &loss);
    CHECK(st == NT_OK, "forward: %s", nt_errmsg());
    if (st) return 0;
    CHECK(nt_backward(ctx, loss) == NT_OK, "backward: %s", nt_errmsg());
    memcpy(dst, net->params->grads, (size_t)net->params->total * sizeof(float));
    *loss_out = nt_f32(loss)[0];
    nt_ctx_reset(ctx);
    return 1;
}

int main(void) {
    tinynet net;
    /* big enough that every kernel takes its parallel path */
    CHECK(tinynet_init(&net, 8, 32, 64, 4, 97, 11) == NT_OK, "init: %s", nt_errmsg());
    nt_ctx *ctx;
    if (nt_ctx_new(&ctx, 0) != NT_OK) return 1;
    size_t bytes = (size_t)net.params->total * sizeof(float);
    float *g1 = nt_malloc(bytes), *g2 = nt_malloc(bytes);
    for (int threads = 1; threads <= 2; threads++) {
        CHECK(nt_threads_set(threads) == NT_OK, "threads");
        float l1 = 0, l2 = 0;
        run(&net, ctx, g1, &l1);
        run(&net, ctx, g2, &l2);
        CHECK(memcmp(&l1, &l2, sizeof l1) == 0, "%d threads: loss %.9g vs %.9g", threads, l1, l2);
        CHECK(memcmp(g1, g2, bytes) == 0, "%d threads: gradients differ between runs", threads);
        int nonzero = 0;
        for (int64_t i = 0; i < net.params->total; i++) nonzero += g1[i] != 0.0f;
        CHECK(nonzero > net.params->total / 2, "%d threads: gradients mostly zero (%d)", threads, nonzero);
        printf("%d thread(s): loss %.6f, %d nonzero gradient entries\n", threads, l1, nonzero);
    }
    nt_free(g1);
    nt_free(g2);
    nt_ctx_free(ctx);
    tinynet_free(&net);
    return nt_check_report("test_determinism");
}
