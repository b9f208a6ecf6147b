/* test_core.c - arena, tape bookkeeping (one backward per tape), parameter block, RNG, errors, BLAS build. */
#include <string.h>

#include "core/alloc.h"
#include "core/ops.h"
#include "core/parallel.h"
#include "core/tensor.h"
#include "support/check.h"

static void test_arena(void) {
    nt_ctx *ctx;
    CHECK(nt_ctx_new(&ctx, 1 << 16) == NT_OK, "ctx");
    nt_tensor *t;
    CHECK(nt_tensor_zeros(ctx, &t, NT_F32, 2, (int[]){3, 5}) == NT_OK, "zeros");
    CHECK(t->n == 15 && t->ndim == 2 && t->shape[1] == 5, "shape");
    CHECK(((uintptr_t)t->data & 63) == 0, "aligned");
    /* larger than one chunk: grows */
    CHECK(nt_tensor_new(ctx, &t, NT_F32, 1, (int[]){100000}) == NT_OK, "grow: %s", nt_errmsg());
    size_t peak = nt_ctx_peak(ctx);
    nt_ctx_reset(ctx);
    CHECK(nt_ctx_used(ctx) == 0, "reset");
    uint64_t before = nt_alloc_count();
    for (int i = 0; i < 10; i++) {
        CHECK(nt_tensor_new(ctx, &t, NT_F32, 1, (int[]){100000}) == NT_OK, "reuse");
        nt_ctx_reset(ctx);
    }
    CHECK(nt_alloc_count() == before, "no allocation on reuse (%llu)",
          (unsigned long long)(nt_alloc_count() - before));
    CHECK(nt_ctx_peak(ctx) == peak, "peak stable");
    /* bad shapes */
    CHECK(nt_tensor_new(ctx, &t, NT_F32, 5, (int[]){1, 1, 1, 1, 1}) == NT_ERR_ARG, "ndim");
    CHECK(strstr(nt_errmsg(), "ndim 5") != NULL, "msg: %s", nt_errmsg());
    CHECK(nt_tensor_new(ctx, &t, NT_F32, 2, (int[]){3, 0}) == NT_ERR_ARG, "zero dim");
    CHECK(strstr(nt_errmsg(), "dim 1 is 0") != NULL, "msg: %s", nt_errmsg());
    nt_ctx_free(ctx);
    nt_ctx_free(NULL);
}

static void test_params(void) {
    nt_params *p;
    CHECK(nt_params_new(&p) == NT_OK, "new");
    int a = nt_params_add(p, "a.weight", 2, (int[]){3, 4});
    int b = nt_params_add(p, "a.bias", 1, (int[]){3});
    CHECK(a == 0 && b == 1, "indices");
    CHECK(nt_params_add(p, "a.bias", 1, (int[]){3}) == -1, "duplicate");
    CHECK(strstr(nt_errmsg(), "duplicate") != NULL, "msg: %s", nt_errmsg());
    CHECK(nt_params_alloc(p) == NT_OK, "alloc");
    nt_tensor *w = nt_params_get(p, a), *bb = nt_params_get(p, b);
    CHECK(w->is_param && w->requires_grad && w->grad, "param tensor");
    CHECK(nt_f32(bb) - nt_f32(w) == 16, "contiguous, 64-byte aligned offsets");
    CHECK(nt_params_find(p, "a.bias") == 1 && nt_params_find(p, "nope") == -1, "find");
    CHECK(nt_params_add(p, "late", 1, (int[]){2}) == -1, "add after alloc");
    CHECK(nt_params_alloc_moments(p) == NT_OK && p->m && p->v, "moments");
    nt_params_free(p);
    nt_params_free(NULL);
}

/* One backward per tape: a second nt_backward before nt_ctx_reset used to
 * replay the tape and add every gradient again (w->grad doubled silently). */
static void test_backward_once(void) {
    nt_ctx *ctx;
    nt_params *p;
    NT_ASSERT(nt_ctx_new(&ctx, 1 << 16) == NT_OK && nt_params_new(&p) == NT_OK);
    int iw = nt_params_add(p, "w", 1, (int[]){3});
    NT_ASSERT(iw == 0 && nt_params_alloc(p) == NT_OK);
    nt_tensor *w = nt_params_get(p, iw), *x, *h, *loss, *loss2;
    const float xv[3] = {1, -2, 3};
    for (int i = 0; i < 3; i++) nt_f32(w)[i] = 0.5f * (float)(i + 1);
    nt_params_zero_grad(p);
    for (int pass = 1; pass <= 2; pass++) {
        /* loss = sum(x * w * w): d loss / dw = 2 x w, through an intermediate */
        NT_ASSERT(nt_tensor_from(ctx, &x, NT_F32, 1, (int[]){3}, xv) == NT_OK);
        NT_ASSERT(nt_mul(ctx, &h, x, w) == NT_OK && nt_mul(ctx, &h, h, w) == NT_OK);
        NT_ASSERT(nt_sum(ctx, &loss, h) == NT_OK);
        CHECK(nt_backward(ctx, loss) == NT_OK, "pass %d: %s", pass, nt_errmsg());
        for (int i = 0; i < 3; i++) CHECK_CLOSE(w->grad[i], pass * 2 * xv[i] * nt_f32(w)[i], 1e-6, 1e-6);
        /* the same loss again: refused, gradients unchanged */
        CHECK(nt_backward(ctx, loss) == NT_ERR_STATE, "second backward on one tape must fail");
        CHECK(strstr(nt_errmsg(), "nt_backward") && strstr(nt_errmsg(), "already backpropagated") &&
                  strstr(nt_errmsg(), "nt_ctx_reset"),
              "msg: %s", nt_errmsg());
        /* a new loss recorded on the same, unreset tape: refused too (its
         * walk would pass through the first graph again) */
        NT_ASSERT(nt_sum(ctx, &loss2, h) == NT_OK);
        CHECK(nt_backward_seeded(ctx, loss2, (const float[]){1}) == NT_ERR_STATE, "seeded, same tape");
        for (int i = 0; i < 3; i++)
            CHECK_CLOSE(w->grad[i], pass * 2 * xv[i] * nt_f32(w)[i], 1e-6, 1e-6); /* += after reset only */
        nt_ctx_reset(ctx); /* a fresh tape: the next pass accumulates once more */
    }
    nt_params_free(p);
    nt_ctx_free(ctx);
}

static void test_rng(void) {
    nt_rng r, s;
    nt_rng_seed(&r, 7);
    nt_rng_seed(&s, 7);
    for (int i = 0; i < 100; i++) CHECK(nt_rng_u64(&r) == nt_rng_u64(&s), "same seed");
    nt_rng saved = r;
    uint64_t x = nt_rng_u64(&r);
    r = saved;
    CHECK(nt_rng_u64(&r) == x, "state restore");
    nt_rng_seed(&s, 8);
    CHECK(nt_rng_u64(&s) != nt_rng_u64(&r), "other seed");
    double sum = 0, sq = 0;
    for (int i = 0; i < 100000; i++) {
        float u = nt_rng_uniform(&r);
        CHECK(u >= 0.0f && u < 1.0f, "uniform range %g", u);
        sum += u;
        float z = nt_rng_normal(&r);
        sq += (double)z * z;
    }
    CHECK(fabs(sum / 100000 - 0.5) < 0.01, "uniform mean %g", sum / 100000);
    CHECK(fabs(sq / 100000 - 1.0) < 0.02, "normal variance %g", sq / 100000);
    int counts[3] = {0};
    for (int i = 0; i < 30000; i++) counts[nt_rng_below(&r, 3)]++;
    for (int i = 0; i < 3; i++) CHECK(abs(counts[i] - 10000) < 400, "below: %d", counts[i]);
}

static void test_errors_and_blas(void) {
    CHECK(nt_error(NT_ERR_SHAPE, "op: %d", 3) == NT_ERR_SHAPE, "returns status");
    CHECK(strcmp(nt_errmsg(), "op: 3") == 0, "message");
    nt_error_wrap(NT_ERR_SHAPE, "outer");
    CHECK(strcmp(nt_errmsg(), "outer: op: 3") == 0, "wrap: %s", nt_errmsg());
    CHECK(strcmp(nt_status_name(NT_ERR_IO), "NT_ERR_IO") == 0, "name");
    CHECK(nt_blas_check() == NT_OK, "OpenMP OpenBLAS loaded: %s", nt_errmsg());
    CHECK(nt_threads_set(0) == NT_ERR_ARG, "threads 0");
    CHECK(nt_threads_set(2) == NT_OK && nt_threads_get() == 2, "threads 2");
}

static void test_alloc_failure(void) {
    nt_ctx *ctx = NULL;
    nt_alloc_fail_after(1);
    CHECK(nt_ctx_new(&ctx, 1 << 16) == NT_ERR_NOMEM, "injected failure");
    CHECK(ctx == NULL, "out untouched");
    nt_alloc_fail_after(0);
}

int main(void) {
    test_arena();
    test_params();
    test_backward_once();
    test_rng();
    test_errors_and_blas();
    test_alloc_failure();
    return nt_check_report("test_core");
}
