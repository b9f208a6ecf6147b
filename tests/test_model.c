/* test_model.c - the transformer: config and input errors, parameter names and init,
 * key-padding masks, causality, KV-cache equivalence and beam row selection. */
#include <string.h>

#include "core/alloc.h"
#include "nn/model.h"
#include "support/check.h"
#include "support/models.h"

static nt_ctx *ctx;

/* A model with values large enough (std 0.3) that every term matters. */
static nt_model *make(nt_arch arch, int V, int D, int H, int enc, int dec, int max_len, uint64_t seed) {
    nt_rng r;
    nt_rng_seed(&r, seed);
    nt_model *m = nt_test_model(arch, V, D, H, enc, dec, max_len, &r);
    if (!m) exit(1);
    /* every weight drawn here (LayerNorm gains near 1), not nt_model_init's */
    nt_rng_seed(&r, seed);
    nt_params *P = m->params;
    for (int i = 0; i < P->count; i++) {
        nt_tensor *t = &P->tensors[i];
        int ln = t->ndim == 1 && strstr(P->names[i], ".weight");
        for (int64_t j = 0; j < t->n; j++)
            nt_f32(t)[j] = ln ? 1.0f + 0.1f * nt_rng_normal(&r) : 0.3f * nt_rng_normal(&r);
    }
    return m;
}

static nt_tensor *ids_in(nt_ctx *c, int B, int T, const int32_t *v) {
    nt_tensor *t;
    CHECK(nt_tensor_from(c, &t, NT_I32, 2, (int[]){B, T}, v) == NT_OK, "ids: %s", nt_errmsg());
    return t;
}
static nt_tensor *ids(int B, int T, const int32_t *v) { return ids_in(ctx, B, T, v); }

/* Largest |a - b| / max(|b|, 0.1 max|b|) over n floats (a, b with strides). */
static double rel_err(const float *a, const float *b, int64_t n) {
    double S = 0, worst = 0;
    for (int64_t i = 0; i < n; i++) S = fmax(S, fabs(b[i]));
    for (int64_t i = 0; i < n; i++) worst = fmax(worst, fabs((double)a[i] - b[i]) / fmax(fabs(b[i]), 0.1 * S + 1e-30));
    return worst;
}

/* ---- config, parameters, init ------------------------------------------------ */

static void test_config(void) {
    nt_model_config c = nt_model_config_default();
    CHECK(c.d_model == 128 && c.heads == 4 && c.enc_layers == 2 && c.dec_layers == 2 &&
              c.max_len == 256 && c.dropout == 0 && c.arch == NT_ARCH_ENCDEC, "defaults");
    nt_model *m = (nt_model *)0x1;
    c.vocab_size = 0;
    CHECK(nt_model_new(&m, &c) == NT_ERR_ARG && strstr(nt_errmsg(), "vocab_size 0"), "V 0: %s", nt_errmsg());
    c.vocab_size = 20, c.d_model = 16, c.heads = 3;
    CHECK(nt_model_new(&m, &c) == NT_ERR_ARG && strstr(nt_errmsg(), "heads 3 does not divide d_model 16"),
          "heads: %s", nt_errmsg());
    c.heads = 4, c.arch = NT_ARCH_DECODER;
    CHECK(nt_model_new(&m, &c) == NT_ERR_ARG && strstr(nt_errmsg(), "enc_layers 2"), "dec enc_layers: %s",
          nt_errmsg());
    c.enc_layers = 0, c.dropout = 1.0f;
    CHECK(nt_model_new(&m, &c) == NT_ERR_ARG && strstr(nt_errmsg(), "dropout"), "dropout: %s", nt_errmsg());
    CHECK(m == (nt_model *)0x1, "out untouched on error");
    CHECK(nt_model_config_check(NULL) == NT_ERR_ARG, "NULL config");
    nt_model_free(NULL);
}

static void test_params(void) {
    int V = 11, D = 8, Lmax = 9;
    nt_model *m = make(NT_ARCH_ENCDEC, V, D, 2, 1, 2, Lmax, 1);
    nt_params *P = m->params;
    struct { const char *name; int ndim, d0, d1; } want[] = {
        {"embed.weight", 2, V, D},
        {"encoder.pos.weight", 2, Lmax, D},
        {"encoder.layers.0.ln_self.weight", 1, D, 1},
        {"encoder.layers.0.self_attn.q.weight", 2, D, D},
        {"encoder.layers.0.self_attn.o.bias", 1, D, 1},
        {"encoder.layers.0.mlp.fc.weight", 2, 4 * D, D},
        {"encoder.layers.0.mlp.fc.bias", 1, 4 * D, 1},
        {"encoder.layers.0.mlp.proj.weight", 2, D, 4 * D},
        {"encoder.ln.bias", 1, D, 1},
        {"decoder.pos.weight", 2, Lmax, D},
        {"decoder.layers.1.ln_cross.weight", 1, D, 1},
        {"decoder.layers.1.cross_attn.v.weight", 2, D, D},
        {"decoder.layers.1.ln_mlp.bias", 1, D, 1},
        {"decoder.ln.weight", 1, D, 1},
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        int k = nt_params_find(P, want[i].name);
        CHECK(k >= 0, "parameter %s missing", want[i].name);
        if (k < 0) continue;
        nt_tensor *t = &P->tensors[k];
        CHECK(t->ndim == want[i].ndim && t->shape[0] == want[i].d0 && (t->ndim == 1 || t->shape[1] == want[i].d1),
              "%s shape", want[i].name);
    }
    CHECK(P->tensors == m->embed || &P->tensors[0] == m->embed, "embed is parameter 0");
    CHECK(m->decoder.layers[1].cross_attn.v_w == &P->tensors[nt_params_find(P, "decoder.layers.1.cross_attn.v.weight")],
          "struct bound to the named parameter");
    int64_t blk = 4 * D + 4 * (D * D + D) + (4 * D * D + 4 * D) + (4 * D * D + D);
    int64_t xblk = blk + 2 * D + 4 * (D * D + D);
    int64_t n = (int64_t)V * D + (Lmax * D + blk + 2 * D) + (Lmax * D + 2 * xblk + 2 * D);
    CHECK(nt_model_num_params(m) == n, "num_params %lld, want %lld", (long long)nt_model_num_params(m), (long long)n);
    CHECK(P->count == 1 + (1 + 16 + 2) + (1 + 2 * 26 + 2), "count %d", P->count);
    nt_model_free(m);

    nt_model *d = make(NT_ARCH_DECODER, V, D, 2, 0, 1, Lmax, 1);
    for (int i = 0; i < d->params->count; i++)
        CHECK(strncmp(d->params->names[i], "encoder.", 8) && !strstr(d->params->names[i], "cross"),
              "decoder-only has %s", d->params->names[i]);
    CHECK(d->encoder.n_layers == 0 && d->decoder.layers[0].ln_cross_w == NULL, "no cross params");
    nt_model_free(d);

    /* init as the reference: N(0, 0.02) matrices, zero biases, unit LayerNorm gains */
    nt_model_config c = nt_model_config_default();
    c.vocab_size = 100, c.d_model = 64;
    nt_model *big;
    CHECK(nt_model_new(&big, &c) == NT_OK, "new");
    nt_rng r;
    nt_rng_seed(&r, 5);
    nt_model_init(big, &r);
    double s = 0, s2 = 0;
    for (int64_t i = 0; i < big->embed->n; i++) s += nt_f32(big->embed)[i], s2 += nt_f32(big->embed)[i] * nt_f32(big->embed)[i];
    double sd = sqrt(s2 / big->embed->n - (s / big->embed->n) * (s / big->embed->n));
    CHECK(sd > 0.019 && sd < 0.021, "embed std %g", sd);
    CHECK(nt_f32(big->decoder.ln_w)[3] == 1.0f && nt_f32(big->decoder.ln_b)[3] == 0.0f &&
              nt_f32(big->encoder.layers[1].fc_b)[7] == 0.0f && nt_f32(big->encoder.layers[1].ln_mlp_w)[0] == 1.0f,
          "LayerNorm ones, biases zeros");
    nt_model_free(big);
}

/* ---- input errors ----------------------------------------------------------------- */

static void test_errors(void) {
    nt_model *m = make(NT_ARCH_ENCDEC, 11, 8, 2, 1, 1, 8, 2);
    nt_tensor *mem = NULL, *lg = (nt_tensor *)0x1;
    int32_t v9[9] = {5, 5, 5, 5, 5, 5, 5, 5, 5};
    CHECK(nt_model_encode(m, ctx, &mem, ids(1, 9, v9), NULL) == NT_ERR_ARG &&
              strstr(nt_errmsg(), "source length 9 exceeds max_len 8"), "long src: %s", nt_errmsg());
    int32_t bad[6] = {1, 2, 3, 4, 5, 11};
    CHECK(nt_model_encode(m, ctx, &mem, ids(2, 3, bad), NULL) == NT_ERR_ARG &&
              strstr(nt_errmsg(), "src[1][2] = 11 outside [0, 11)"), "id: %s", nt_errmsg());
    bad[5] = 3, bad[0] = -1;
    CHECK(nt_model_encode(m, ctx, &mem, ids(2, 3, bad), NULL) == NT_ERR_ARG &&
              strstr(nt_errmsg(), "src[0][0] = -1"), "negative id: %s", nt_errmsg());
    bad[0] = 1;
    CHECK(nt_model_encode(m, ctx, &mem, ids(2, 3, bad), ids(3, 2, bad)) == NT_ERR_SHAPE &&
              strstr(nt_errmsg(), "src_mask"), "mask shape: %s", nt_errmsg());
    CHECK(mem == NULL, "mem untouched");
    CHECK(nt_model_encode(m, ctx, &mem, ids(2, 3, bad), NULL) == NT_OK, "encode: %s", nt_errmsg());
    CHECK(nt_model_decode(m, ctx, &lg, ids(1, 9, v9), NULL, NULL, mem, NULL, NULL, 0) == NT_ERR_ARG &&
              strstr(nt_errmsg(), "exceed max_len 8"), "long tgt: %s", nt_errmsg());
    CHECK(nt_model_decode(m, ctx, &lg, ids(2, 3, bad), NULL, NULL, mem, NULL, NULL, 6) == NT_ERR_ARG &&
              strstr(nt_errmsg(), "positions 6..8 exceed max_len 8"), "start: %s", nt_errmsg());
    int32_t tg[6] = {1, 2, 3, 1, 12, 3};
    CHECK(nt_model_decode(m, ctx, &lg, ids(2, 3, tg), NULL, NULL, mem, NULL, NULL, 0) == NT_ERR_ARG &&
              strstr(nt_errmsg(), "tgt[1][1] = 12 outside [0, 11)"), "tgt id: %s", nt_errmsg());
    tg[4] = 2;
    CHECK(nt_model_decode(m, ctx, &lg, ids(2, 3, tg), NULL, NULL, NULL, NULL, NULL, 0) == NT_ERR_ARG &&
              strstr(nt_errmsg(), "needs mem"), "no mem: %s", nt_errmsg());
    int32_t ps[6] = {0, 1, 2, 0, 1, 8};
    CHECK(nt_model_decode(m, ctx, &lg, ids(2, 3, tg), ids(2, 3, ps), NULL, mem, NULL, NULL, 0) == NT_ERR_ARG &&
              strstr(nt_errmsg(), "pos[1][2] = 8"), "pos: %s", nt_errmsg());
    nt_tensor *f;
    nt_tensor_zeros(ctx, &f, NT_F32, 2, (int[]){2, 3});
    CHECK(nt_model_decode(m, ctx, &lg, f, NULL, NULL, mem, NULL, NULL, 0) == NT_ERR_SHAPE &&
              strstr(nt_errmsg(), "tgt must be I32"), "F32 ids: %s", nt_errmsg());
    CHECK(nt_model_decode(m, ctx, &lg, ids(3, 2, tg), NULL, NULL, mem, NULL, NULL, 0) == NT_ERR_SHAPE &&
              strstr(nt_errmsg(), "mem must be F32 (3, S, 8)"), "mem rows: %s", nt_errmsg());
    CHECK(lg == (nt_tensor *)0x1, "logits untouched on error");
    nt_tensor *loss;
    CHECK(nt_model_loss(m, ctx, &loss, NULL, NULL, NULL, ids(2, 3, tg), ids(2, 3, tg), 0, NULL) == NT_ERR_ARG,
          "loss without src");
    CHECK(nt_model_loss(m, ctx, &loss, NULL, ids(2, 3, bad), NULL, ids(2, 3, tg), ids(3, 2, tg), 0, NULL) ==
              NT_ERR_SHAPE && strstr(nt_errmsg(), "labels"), "labels shape: %s", nt_errmsg());
    nt_model_free(m);

    nt_model *d = make(NT_ARCH_DECODER, 11, 8, 2, 0, 1, 8, 2);
    CHECK(nt_model_encode(d, ctx, &mem, ids(2, 3, bad), NULL) == NT_ERR_STATE, "encode on decoder-only");
    CHECK(nt_model_decode(d, ctx, &lg, ids(2, 3, tg), NULL, NULL, mem, NULL, NULL, 0) == NT_ERR_ARG,
          "mem to decoder-only");
    CHECK(nt_model_cross_attention(d, ctx, &lg, -1) == NT_ERR_STATE, "nothing recorded");
    int32_t zero[6] = {0};
    int64_t nt = -1;
    CHECK(nt_model_loss(d, ctx, &loss, NULL, NULL, NULL, ids(2, 3, tg), ids(2, 3, zero), 0, &nt) == NT_OK &&
              nt == 0 && nt_f32(loss)[0] == 0.0f, "all-pad labels: loss 0, 0 tokens");
    nt_model_free(d);
    nt_ctx_reset(ctx);
}

/* ---- masks and causality ---------------------------------------------------------- */

/* A padded batch gives, for the real tokens, what each row gives alone. */
static void test_padding(void) {
    nt_ctx_set_grad(ctx, 0);
    nt_model *m = make(NT_ARCH_ENCDEC, 13, 16, 2, 2, 2, 12, 3);
    int32_t src[12] = {5, 9, 7, 12, 6, 2, /**/ 8, 4, 11, 2, 0, 0};
    int32_t smask[12] = {1, 1, 1, 1, 1, 1, /**/ 1, 1, 1, 1, 0, 0};
    int32_t tgt[10] = {1, 7, 7, 3, 10, /**/ 1, 9, 5, 0, 0};
    nt_tensor *mem, *lg, *mem1, *lg1;
    CHECK(nt_model_encode(m, ctx, &mem, ids(2, 6, src), ids(2, 6, smask)) == NT_OK, "%s", nt_errmsg());
    CHECK(nt_model_decode(m, ctx, &lg, ids(2, 5, tgt), NULL, NULL, mem, ids(2, 6, smask), NULL, 0) == NT_OK,
          "%s", nt_errmsg());
    int V = 13;
    /* row 1 alone: src 4 tokens, tgt 3 tokens, no masks */
    CHECK(nt_model_encode(m, ctx, &mem1, ids(1, 4, src + 6), NULL) == NT_OK, "%s", nt_errmsg());
    CHECK(nt_model_decode(m, ctx, &lg1, ids(1, 3, tgt + 5), NULL, NULL, mem1, NULL, NULL, 0) == NT_OK, "%s",
          nt_errmsg());
    double e = rel_err(nt_f32(lg) + 5 * V, nt_f32(lg1), 3 * V);
    CHECK(e <= 1e-5, "encdec padded row vs alone: %g", e);
    double em = rel_err(nt_f32(mem) + 6 * 16, nt_f32(mem1), 4 * 16);
    CHECK(em <= 1e-5, "encoder output of real tokens: %g", em);
    /* without the mask the padded row would differ: the test can fail */
    CHECK(nt_model_encode(m, ctx, &mem, ids(2, 6, src), NULL) == NT_OK, "%s", nt_errmsg());
    CHECK(rel_err(nt_f32(mem) + 6 * 16, nt_f32(mem1), 4 * 16) > 1e-3, "mask matters");
    nt_model_free(m);

    /* decoder-only, left-padded prompt with per-row positions and tgt_mask */
    nt_model *d = make(NT_ARCH_DECODER, 13, 16, 2, 0, 2, 12, 4);
    int32_t seq[10] = {1, 6, 9, 4, 11, /**/ 0, 0, 1, 8, 4};
    int32_t tm[10] = {1, 1, 1, 1, 1, /**/ 0, 0, 1, 1, 1};
    int32_t pos[10] = {0, 1, 2, 3, 4, /**/ 0, 0, 0, 1, 2};
    CHECK(nt_model_decode(d, ctx, &lg, ids(2, 5, seq), ids(2, 5, pos), ids(2, 5, tm), NULL, NULL, NULL, 0) == NT_OK,
          "%s", nt_errmsg());
    CHECK(nt_model_decode(d, ctx, &lg1, ids(1, 3, seq + 7), NULL, NULL, NULL, NULL, NULL, 0) == NT_OK, "%s",
          nt_errmsg());
    e = rel_err(nt_f32(lg) + 7 * V, nt_f32(lg1), 3 * V);
    CHECK(e <= 1e-5, "left-padded row vs alone: %g", e);
    CHECK(nt_model_decode(d, ctx, &lg1, ids(1, 5, seq), NULL, NULL, NULL, NULL, NULL, 0) == NT_OK, "%s", nt_errmsg());
    e = rel_err(nt_f32(lg), nt_f32(lg1), 5 * V);
    CHECK(e <= 1e-5, "unpadded row vs alone: %g", e);
    nt_model_free(d);
    nt_ctx_reset(ctx);
    nt_ctx_set_grad(ctx, 1);
}

/* The output at t does not change when tokens after t change. */
static void test_causal(nt_arch arch) {
    nt_ctx_set_grad(ctx, 0);
    int V = 17, T = 7;
    nt_model *m = make(arch, V, 16, 4, arch == NT_ARCH_ENCDEC ? 1 : 0, 2, 10, 5);
    int32_t src[5] = {3, 8, 14, 6, 2}, a[7] = {1, 5, 9, 12, 4, 7, 16}, b[7];
    nt_tensor *mem = NULL, *la, *lb;
    if (arch == NT_ARCH_ENCDEC) NT_ASSERT(nt_model_encode(m, ctx, &mem, ids(1, 5, src), NULL) == NT_OK);
    CHECK(nt_model_decode(m, ctx, &la, ids(1, T, a), NULL, NULL, mem, NULL, NULL, 0) == NT_OK, "%s", nt_errmsg());
    for (int t = 0; t < T - 1; t++) {
        memcpy(b, a, sizeof a);
        for (int u = t + 1; u < T; u++) b[u] = (a[u] + 3 + u) % V;
        CHECK(nt_model_decode(m, ctx, &lb, ids(1, T, b), NULL, NULL, mem, NULL, NULL, 0) == NT_OK, "%s", nt_errmsg());
        double before = rel_err(nt_f32(lb), nt_f32(la), (int64_t)(t + 1) * V);
        double after = rel_err(nt_f32(lb) + (t + 1) * V, nt_f32(la) + (t + 1) * V, (int64_t)(T - t - 1) * V);
        CHECK(before <= 1e-6, "%s: positions <= %d changed by later tokens (%g)",
              arch == NT_ARCH_ENCDEC ? "encdec" : "decoder", t, before);
        CHECK(after > 1e-3, "positions > %d did change (%g)", t, after);
    }
    nt_model_free(m);
    nt_ctx_reset(ctx);
    nt_ctx_set_grad(ctx, 1);
}

/* ---- KV cache ------------------------------------------------------------------------ */

/* Cached decoding, one token at a time, against the full forward at every step. */
static void test_cache(nt_arch arch) {
    int encdec = arch == NT_ARCH_ENCDEC, V = 19, D = 16, B = 2, T = 7, S = 6;
    nt_model *m = make(arch, V, D, 2, encdec ? 2 : 0, 2, 12, 6);
    int32_t src[12] = {5, 9, 7, 12, 6, 2, /**/ 8, 4, 2, 0, 0, 0};
    int32_t smask[12] = {1, 1, 1, 1, 1, 1, /**/ 1, 1, 1, 0, 0, 0};
    int32_t tgt[14] = {1, 7, 7, 3, 10, 18, 4, /**/ 1, 9, 5, 15, 2, 11, 6};
    nt_ctx *step;
    nt_ctx_new(&step, 1 << 20);
    nt_ctx_set_grad(ctx, 0);
    nt_tensor *mem = NULL, *mmask = encdec ? ids(B, S, smask) : NULL, *full, *lg;
    if (encdec) CHECK(nt_model_encode(m, ctx, &mem, ids(B, S, src), mmask) == NT_OK, "%s", nt_errmsg());
    nt_kv_cache *c;
    CHECK(nt_kv_cache_new(&c, m, B, T, S) == NT_OK, "%s", nt_errmsg());
    double worst = 0;
    uint64_t allocs = 0;
    for (int t = 0; t < T; t++) {
        nt_ctx_reset(step);
        int32_t col[2] = {tgt[t], tgt[T + t]};
        if (t == 1) allocs = nt_alloc_count();
        /* after the first step the cross K/V are cached: mem may be NULL */
        nt_status st = nt_model_decode(m, step, &lg, ids_in(step, B, 1, col), NULL, NULL, t ? NULL : mem,
                                       mmask, c, 0);
        CHECK(st == NT_OK, "cached step %d: %s", t, nt_errmsg());
        if (st) break;
        CHECK(c->len == t + 1 && c->cross_ready == encdec, "cache state after step %d", t);
        int32_t pre[14];
        for (int b = 0; b < B; b++) memcpy(pre + b * (t + 1), tgt + b * T, (size_t)(t + 1) * sizeof(int32_t));
        CHECK(nt_model_decode(m, ctx, &full, ids(B, t + 1, pre), NULL, NULL, mem, mmask, NULL, 0) == NT_OK, "%s",
              nt_errmsg());
        for (int b = 0; b < B; b++) {
            double e = rel_err(nt_f32(lg) + b * V, nt_f32(full) + ((size_t)b * (t + 1) + t) * V, V);
            worst = fmax(worst, e);
            CHECK(e <= 1e-5, "%s step %d row %d: cached vs full %g", encdec ? "encdec" : "decoder", t, b, e);
        }
    }
    CHECK(nt_alloc_count() == allocs, "cached steps allocate nothing on the heap (%llu allocations)",
          (unsigned long long)(nt_alloc_count() - allocs));
    printf("cache %s: largest relative error cached vs full %.2e\n", encdec ? "encdec" : "decoder", worst);
    /* overflow */
    int32_t col[2] = {3, 3};
    CHECK(nt_model_decode(m, step, &lg, ids_in(step, B, 1, col), NULL, NULL, NULL, mmask, c, 0) == NT_ERR_ARG &&
              strstr(nt_errmsg(), "exceed the cache"), "overflow: %s", nt_errmsg());
    /* clear and prefill the whole prefix at once: same last logits */
    nt_kv_cache_clear(c);
    CHECK(c->len == 0 && c->cross_ready == 0, "clear");
    CHECK(nt_model_decode(m, step, &lg, ids_in(step, B, T, tgt), NULL, NULL, mem, mmask, c, 0) == NT_OK, "%s",
          nt_errmsg());
    CHECK(rel_err(nt_f32(lg), nt_f32(full), (int64_t)B * T * V) <= 1e-5, "prefill = full forward");
    nt_kv_cache_free(c);
    nt_kv_cache *bad = (nt_kv_cache *)0x1;
    CHECK(nt_kv_cache_new(&bad, m, B, 13, S) == NT_ERR_ARG && strstr(nt_errmsg(), "max_len 12"), "cap: %s",
          nt_errmsg());
    CHECK(nt_kv_cache_new(&bad, m, 0, 4, S) == NT_ERR_ARG && bad == (nt_kv_cache *)0x1, "rows 0");
    nt_kv_cache_free(NULL);
    nt_ctx_free(step);
    nt_model_free(m);
    nt_ctx_reset(ctx);
    nt_ctx_set_grad(ctx, 1);
}

/* Left-padded prompts of different lengths share a batch: prefill with per-row
 * positions and tgt_mask, then step; each row matches its own unpadded run. */
static void test_cache_left_padded(void) {
    int V = 19, D = 16, B = 2, P = 5, steps = 4;
    nt_model *m = make(NT_ARCH_DECODER, V, D, 4, 0, 2, 12, 7);
    nt_ctx_set_grad(ctx, 0);
    int32_t prompt[10] = {1, 6, 9, 4, 11, /**/ 0, 0, 1, 8, 4};
    int32_t mask[10] = {1, 1, 1, 1, 1, /**/ 0, 0, 1, 1, 1};
    int32_t pos[10] = {0, 1, 2, 3, 4, /**/ 0, 0, 0, 1, 2};
    int len[2] = {5, 3};
    int32_t next[2][4] = {{13, 2, 7, 18}, {3, 17, 5, 9}};
    nt_kv_cache *c;
    CHECK(nt_kv_cache_new(&c, m, B, P + steps, 0) == NT_OK, "%s", nt_errmsg());
    nt_tensor *lg, *ref;
    CHECK(nt_model_decode(m, ctx, &lg, ids(B, P, prompt), ids(B, P, pos), ids(B, P, mask), NULL, NULL, c, 0) ==
              NT_OK, "prefill: %s", nt_errmsg());
    /* each row's own sequence, to compare with */
    int32_t own[2][12];
    for (int b = 0; b < B; b++) memcpy(own[b], prompt + b * P + (P - len[b]), (size_t)len[b] * sizeof(int32_t));
    double worst = 0;
    for (int s = 0; s <= steps; s++) {
        for (int b = 0; b < B; b++) {
            int n = len[b] + s;
            CHECK(nt_model_decode(m, ctx, &ref, ids(1, n, own[b]), NULL, NULL, NULL, NULL, NULL, 0) == NT_OK, "%s",
                  nt_errmsg());
            int T = lg->shape[1];
            double e = rel_err(nt_f32(lg) + ((size_t)b * T + T - 1) * V, nt_f32(ref) + (size_t)(n - 1) * V, V);
            worst = fmax(worst, e);
            CHECK(e <= 1e-5, "left-padded step %d row %d: %g", s, b, e);
        }
        if (s == steps) break;
        int32_t tok[2] = {next[0][s], next[1][s]}, p2[2] = {len[0] + s, len[1] + s};
        for (int b = 0; b < B; b++) own[b][len[b] + s] = tok[b];
        CHECK(nt_model_decode(m, ctx, &lg, ids(B, 1, tok), ids(B, 1, p2), NULL, NULL, NULL, c, 0) == NT_OK, "%s",
              nt_errmsg());
    }
    printf("cache left-padded: largest relative error %.2e\n", worst);
    nt_kv_cache_free(c);
    nt_model_free(m);
    nt_ctx_reset(ctx);
    nt_ctx_set_grad(ctx, 1);
}

/* Beam reordering: rows permuted (a cycle, so sources must be stashed),
 * dropped and grown; decoding on matches the full forward of the new rows. */
static void test_cache_select(nt_arch arch) {
    int encdec = arch == NT_ARCH_ENCDEC, V = 19, D = 8, B = 3, S = 4;
    nt_model *m = make(arch, V, D, 2, encdec ? 1 : 0, 2, 12, 8);
    nt_ctx_set_grad(ctx, 0);
    int32_t src[12] = {5, 9, 7, 2, /**/ 8, 4, 2, 0, /**/ 11, 3, 6, 2};
    int32_t smask[12] = {1, 1, 1, 1, /**/ 1, 1, 1, 0, /**/ 1, 1, 1, 1};
    /* seq[row] = tokens decoded so far in that row */
    int32_t seq[3][12] = {{1, 4, 9}, {1, 12, 3}, {1, 7, 16}};
    int n = 3;
    nt_tensor *mem = NULL, *mm = encdec ? ids(B, S, smask) : NULL, *lg, *ref;
    int32_t rsrc[3][4], rmask[3][4];   /* the source behind each current row */
    memcpy(rsrc, src, sizeof rsrc);
    memcpy(rmask, smask, sizeof rmask);
    if (encdec) NT_ASSERT(nt_model_encode(m, ctx, &mem, ids(B, S, src), mm) == NT_OK);
    nt_kv_cache *c;
    CHECK(nt_kv_cache_new(&c, m, B, 10, S) == NT_OK, "%s", nt_errmsg());
    int32_t first[9];
    for (int b = 0; b < B; b++) memcpy(first + b * n, seq[b], (size_t)n * sizeof(int32_t));
    CHECK(nt_model_decode(m, ctx, &lg, ids(B, n, first), NULL, NULL, mem, mm, c, 0) == NT_OK, "%s", nt_errmsg());

    struct { int rows; int src[3]; int32_t tok[3]; } plan[] = {
        {3, {1, 2, 0}, {5, 6, 7}},     /* cycle */
        {3, {2, 2, 0}, {8, 9, 10}},    /* duplicate + move */
        {1, {1}, {11}},                /* drop to one row */
        {3, {0, 0, 0}, {12, 13, 14}},  /* grow to three beams */
    };
    int rows = B;
    for (size_t k = 0; k < sizeof plan / sizeof *plan; k++) {
        int nr = plan[k].rows;
        CHECK(nt_kv_cache_select(c, plan[k].src, nr) == NT_OK, "select %zu: %s", k, nt_errmsg());
        CHECK(c->rows == nr, "rows %d", c->rows);
        int32_t ns[3][12] = {{0}}, nsrc[3][4] = {{0}}, nmask[3][4] = {{0}};
        for (int r = 0; r < nr; r++) {
            memcpy(ns[r], seq[plan[k].src[r]], sizeof ns[r]);
            memcpy(nsrc[r], rsrc[plan[k].src[r]], sizeof nsrc[r]);
            memcpy(nmask[r], rmask[plan[k].src[r]], sizeof nmask[r]);
        }
        memcpy(seq, ns, sizeof ns);
        memcpy(rsrc, nsrc, sizeof nsrc);
        memcpy(rmask, nmask, sizeof nmask);
        rows = nr;
        for (int r = 0; r < rows; r++) seq[r][n] = plan[k].tok[r];
        n++;
        CHECK(nt_model_decode(m, ctx, &lg, ids(rows, 1, plan[k].tok), NULL, NULL, NULL, NULL, c, 0) == NT_OK,
              "step after select %zu: %s", k, nt_errmsg());
        /* reference: full forward of the new rows on their own sources */
        nt_tensor *rm = NULL, *rmm = NULL;
        if (encdec) {
            rmm = ids(rows, S, &rmask[0][0]);
            NT_ASSERT(nt_model_encode(m, ctx, &rm, ids(rows, S, &rsrc[0][0]), rmm) == NT_OK);
        }
        int32_t flat[36];
        for (int r = 0; r < rows; r++) memcpy(flat + r * n, seq[r], (size_t)n * sizeof(int32_t));
        CHECK(nt_model_decode(m, ctx, &ref, ids(rows, n, flat), NULL, NULL, rm, rmm, NULL, 0) == NT_OK, "%s",
              nt_errmsg());
        for (int r = 0; r < rows; r++) {
            double e = rel_err(nt_f32(lg) + (size_t)r * V, nt_f32(ref) + ((size_t)r * n + n - 1) * V, V);
            CHECK(e <= 1e-5, "%s select %zu row %d: %g", encdec ? "encdec" : "decoder", k, r, e);
        }
    }
    CHECK(nt_kv_cache_select(c, (int[]){0, 3}, 2) == NT_ERR_ARG && strstr(nt_errmsg(), "src_rows[1] = 3"),
          "bad source: %s", nt_errmsg());
    CHECK(nt_kv_cache_select(c, (int[]){0, 0, 0, 0}, 4) == NT_ERR_ARG && strstr(nt_errmsg(), "new_rows 4"),
          "too many rows: %s", nt_errmsg());
    CHECK(c->rows == 3, "failed select leaves the cache");
    nt_kv_cache_free(c);
    nt_model_free(m);
    nt_ctx_reset(ctx);
    nt_ctx_set_grad(ctx, 1);
}

/* Cross-attention weights, recorded in a cached batched step: a distribution
 * over the real source tokens of each row. */
static void test_record_attention(void) {
    int V = 13, B = 2, S = 5;
    nt_model *m = make(NT_ARCH_ENCDEC, V, 8, 2, 1, 2, 8, 9);
    nt_ctx_set_grad(ctx, 0);
    int32_t src[10] = {5, 9, 7, 12, 2, /**/ 8, 2, 0, 0, 0}, sm[10] = {1, 1, 1, 1, 1, 1, 1, 0, 0, 0};
    nt_tensor *mem, *lg, *w;
    NT_ASSERT(nt_model_encode(m, ctx, &mem, ids(B, S, src), ids(B, S, sm)) == NT_OK);
    nt_kv_cache *c;
    NT_ASSERT(nt_kv_cache_new(&c, m, B, 4, S) == NT_OK);
    nt_model_set_record_attention(m, 1);
    CHECK(nt_model_decode(m, ctx, &lg, ids(B, 1, (int32_t[]){1, 1}), NULL, NULL, mem, ids(B, S, sm), c, 0) == NT_OK,
          "%s", nt_errmsg());
    CHECK(nt_model_cross_attention(m, ctx, &w, 0) == NT_OK && w->shape[0] == B && w->shape[1] == 1 &&
              w->shape[2] == S, "weights (B, 1, S): %s", nt_errmsg());
    for (int b = 0; b < B; b++) {
        double sum = 0;
        for (int s = 0; s < S; s++) sum += nt_f32(w)[b * S + s];
        CHECK(fabs(sum - 1) < 1e-5, "row %d sums to %g", b, sum);
    }
    CHECK(nt_f32(w)[S + 2] == 0 && nt_f32(w)[S + 4] == 0, "no weight on padded keys");
    CHECK(nt_model_cross_attention(m, ctx, &w, 2) == NT_ERR_ARG, "layer out of range");
    nt_model_set_record_attention(m, 0);
    CHECK(nt_model_cross_attention(m, ctx, &w, -1) == NT_ERR_STATE, "off: nothing recorded");
    nt_kv_cache_free(c);
    nt_model_free(m);
    nt_ctx_reset(ctx);
    nt_ctx_set_grad(ctx, 1);
}

/* Dropout acts in training mode only; in eval the model equals its dropout-0 self. */
static void test_dropout(void) {
    nt_model *m = make(NT_ARCH_DECODER, 13, 16, 2, 0, 2, 8, 10);
    nt_rng r;
    nt_rng_seed(&r, 1);
    nt_ctx_set_rng(ctx, &r);
    int32_t x[6] = {1, 5, 9, 4, 7, 2}, y[6] = {5, 9, 4, 7, 2, 0};
    nt_tensor *l0, *l1, *l2;
    NT_ASSERT(nt_model_loss(m, ctx, &l0, NULL, NULL, NULL, ids(1, 6, x), ids(1, 6, y), 0, NULL) == NT_OK);
    m->cfg.dropout = 0.3f;
    NT_ASSERT(nt_model_loss(m, ctx, &l1, NULL, NULL, NULL, ids(1, 6, x), ids(1, 6, y), 0, NULL) == NT_OK);
    nt_ctx_set_training(ctx, 0);
    NT_ASSERT(nt_model_loss(m, ctx, &l2, NULL, NULL, NULL, ids(1, 6, x), ids(1, 6, y), 0, NULL) == NT_OK);
    nt_ctx_set_training(ctx, 1);
    CHECK(nt_f32(l1)[0] != nt_f32(l0)[0], "dropout changes the training loss");
    CHECK(nt_f32(l2)[0] == nt_f32(l0)[0], "eval mode: no dropout");
    CHECK(nt_backward(ctx, l1) == NT_OK, "backward through dropout: %s", nt_errmsg());
    nt_ctx_set_rng(ctx, NULL);
    nt_model_free(m);
    nt_ctx_reset(ctx);
}

int main(void) {
    NT_ASSERT(nt_ctx_new(&ctx, 0) == NT_OK);
    test_config();
    test_params();
    test_errors();
    test_padding();
    test_causal(NT_ARCH_ENCDEC);
    test_causal(NT_ARCH_DECODER);
    test_cache(NT_ARCH_ENCDEC);
    test_cache(NT_ARCH_DECODER);
    test_cache_left_padded();
    test_cache_select(NT_ARCH_DECODER);
    test_cache_select(NT_ARCH_ENCDEC);
    test_record_attention();
    test_dropout();
    nt_ctx_free(ctx);
    return nt_check_report("test_model");
}
