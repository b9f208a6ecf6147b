/* test_generate_fast.c - the batch-1 decoder (nn/generate_fast.h) computes
 * what the generic cached path computes: for an encoder-decoder and a
 * decoder-only model, every step's logits match nt_model_encode +
 * nt_model_decode with a one-row nt_kv_cache (decoder-only: bitwise;
 * encdec: to rounding, the encoder pass runs its own kernel instead of
 * sgemm) and are bitwise the same with 1 and 2 threads; greedy runs choose
 * the generic path's tokens; bad arguments are refused with a status, never
 * an abort. All of it at each ISA level the CPU has (nt_isa_set), and the
 * logits at AVX-512 and AVX2 are bitwise the same (core/kernels.h). */
#include <math.h>
#include <string.h>

#include "core/isa.h"
#include "core/parallel.h"
#include "nn/generate_fast.h"
#include "nn/sampling.h"
#include "support/check.h"
#include "support/models.h"

enum { STEPS = 12, S_LEN = 9, V = 37 };

static nt_model *make_model(nt_arch arch, int D, int H, int layers, uint64_t seed) {
    nt_rng rng;
    nt_rng_seed(&rng, seed);
    nt_model *m = nt_test_model(arch, V, D, H, arch == NT_ARCH_ENCDEC ? layers : 0, layers, 32, &rng);
    if (!m) return NULL;
    /* non-trivial LayerNorm gains and biases, so that every term matters */
    nt_params *P = m->params;
    for (int i = 0; i < P->count; i++) {
        nt_tensor *t = &P->tensors[i];
        if (t->ndim == 1)
            for (int64_t j = 0; j < t->n; j++) nt_f32(t)[j] += 0.1f * nt_rng_normal(&rng);
    }
    return m;
}

/* The generic path: logits (STEPS, V) of feeding toks[0..STEPS) one by one. */
static void generic_logits(nt_model *m, nt_ctx *ctx, const int32_t *src, const int32_t *toks,
                           float *out) {
    int encdec = m->cfg.arch == NT_ARCH_ENCDEC;
    nt_kv_cache *cache = NULL;
    CHECK(nt_kv_cache_new(&cache, m, 1, STEPS, S_LEN) == NT_OK, "cache: %s", nt_errmsg());
    if (!cache) return;
    nt_ctx_reset(ctx);
    nt_ctx_set_grad(ctx, 0);
    nt_tensor *mem = NULL, *ids, *tok, *lg;
    if (encdec) {
        CHECK(nt_tensor_from(ctx, &ids, NT_I32, 2, (int[]){1, S_LEN}, src) == NT_OK, "src");
        CHECK(nt_model_encode(m, ctx, &mem, ids, NULL) == NT_OK, "encode: %s", nt_errmsg());
    }
    for (int i = 0; i < STEPS; i++) {
        CHECK(nt_tensor_from(ctx, &tok, NT_I32, 2, (int[]){1, 1}, &toks[i]) == NT_OK, "tok");
        nt_status st = nt_model_decode(m, ctx, &lg, tok, NULL, NULL, i == 0 ? mem : NULL, NULL, cache, 0);
        CHECK(st == NT_OK, "decode step %d: %s", i, nt_errmsg());
        if (st != NT_OK) break;
        memcpy(out + (size_t)i * V, nt_f32(lg), V * sizeof(float));
    }
    nt_kv_cache_free(cache);
}

/* keep (STEPS * V): the decoder's logits at 1 thread */
static void check_model(const char *name, nt_model *m, nt_ctx *ctx, float *keep) {
    if (!m) return;
    int encdec = m->cfg.arch == NT_ARCH_ENCDEC;
    int32_t src[S_LEN], toks[STEPS];
    for (int i = 0; i < S_LEN; i++) src[i] = 5 + (i * 11) % (V - 5);
    for (int i = 0; i < STEPS; i++) toks[i] = (i * 7 + 1) % V;
    static float want[STEPS * V], got[STEPS * V], first[STEPS * V];
    nt_threads_set(2);
    generic_logits(m, ctx, src, toks, want);

    nt_decoder *d = NULL;
    CHECK(nt_decoder_new(&d, m, STEPS, S_LEN) == NT_OK, "%s: new: %s", name, nt_errmsg());
    if (!d) return;
    for (int threads = 1; threads <= 2; threads++) {
        nt_threads_set(threads);
        nt_status st = nt_decoder_start(d, encdec ? src : NULL, encdec ? S_LEN : 0);
        CHECK(st == NT_OK, "%s: start: %s", name, nt_errmsg());
        for (int i = 0; i < STEPS && st == NT_OK; i++) {
            const float *lg = NULL;
            st = nt_decoder_step(d, toks[i], &lg);
            CHECK(st == NT_OK && lg, "%s: step %d: %s", name, i, nt_errmsg());
            if (lg) memcpy(got + (size_t)i * V, lg, V * sizeof(float));
        }
        CHECK(nt_decoder_len(d) == STEPS, "%s: len %d", name, nt_decoder_len(d));
        int same = 0, close = 0;
        for (int i = 0; i < STEPS * V; i++) {
            same += got[i] == want[i];
            close += fabsf(got[i] - want[i]) <= 1e-5f + 1e-4f * fabsf(want[i]);
        }
        if (!encdec)
            CHECK(same == STEPS * V, "%s, %d threads: %d of %d logits differ from the generic path "
                  "(first: %.9g vs %.9g)", name, threads, STEPS * V - same, STEPS * V, (double)got[0],
                  (double)want[0]);
        else
            CHECK(close == STEPS * V, "%s, %d threads: %d of %d logits off the generic path", name,
                  threads, STEPS * V - close, STEPS * V);
        if (threads == 1) memcpy(first, got, sizeof got), memcpy(keep, got, sizeof got);
        else CHECK(memcmp(first, got, sizeof got) == 0, "%s: 1 and 2 threads differ", name);
        /* tokens: the generic path's argmax at every step */
        for (int i = 0; i < STEPS; i++) {
            int a = 0, b = 0;
            for (int j = 1; j < V; j++) {
                if (got[i * V + j] > got[i * V + a]) a = j;
                if (want[i * V + j] > want[i * V + b]) b = j;
            }
            CHECK(a == b, "%s, %d threads: step %d argmax %d, generic %d", name, threads, i, a, b);
        }

        /* greedy: the generic path's argmax chain */
        int32_t g[STEPS], ref[STEPS];
        CHECK(nt_decoder_start(d, encdec ? src : NULL, encdec ? S_LEN : 0) == NT_OK, "restart");
        CHECK(nt_decoder_greedy(d, 1, STEPS, g) == NT_OK, "%s: greedy: %s", name, nt_errmsg());
        CHECK(nt_decoder_start(d, encdec ? src : NULL, encdec ? S_LEN : 0) == NT_OK, "restart");
        int32_t cur = 1;
        for (int i = 0; i < STEPS; i++) {
            const float *lg = NULL;
            if (nt_decoder_step(d, cur, &lg) != NT_OK) break;
            int best = 0;
            for (int j = 1; j < V; j++)
                if (lg[j] > lg[best]) best = j;
            ref[i] = cur = best;
        }
        CHECK(memcmp(g, ref, sizeof g) == 0, "%s, %d threads: greedy tokens differ from stepping", name,
              threads);
    }

    /* errors: a status, the state unchanged */
    const float *lg;
    CHECK(nt_decoder_step(d, V, &lg) == NT_ERR_ARG, "%s: token V accepted", name);
    CHECK(nt_decoder_step(d, -1, &lg) == NT_ERR_ARG, "%s: token -1 accepted", name);
    CHECK(nt_decoder_step(d, 3, NULL) == NT_ERR_ARG, "%s: NULL logits accepted", name);
    CHECK(nt_decoder_step(d, 3, &lg) == NT_ERR_ARG, "%s: a full cache accepted a step", name);
    CHECK(strstr(nt_errmsg(), "exceed") != NULL, "%s: message '%s'", name, nt_errmsg());
    int32_t g2[STEPS + 1];
    CHECK(nt_decoder_start(d, encdec ? src : NULL, encdec ? S_LEN : 0) == NT_OK, "restart");
    CHECK(nt_decoder_greedy(d, 1, STEPS + 1, g2) == NT_ERR_ARG, "%s: greedy past cap accepted", name);
    CHECK(nt_decoder_len(d) == 0, "%s: a refused greedy run fed positions", name);
    CHECK(nt_decoder_greedy(d, 1, 2, NULL) == NT_ERR_ARG, "%s: NULL out accepted", name);
    if (encdec) {
        CHECK(nt_decoder_start(d, src, S_LEN + 1) == NT_ERR_ARG, "%s: source past src_cap", name);
        CHECK(nt_decoder_step(d, 1, &lg) == NT_ERR_STATE, "%s: step after a failed start", name);
        int32_t bad[S_LEN];
        memcpy(bad, src, sizeof bad);
        bad[4] = V;
        CHECK(nt_decoder_start(d, bad, S_LEN) == NT_ERR_ARG, "%s: source id V accepted", name);
        CHECK(strstr(nt_errmsg(), "src[4]") != NULL, "%s: message '%s'", name, nt_errmsg());
        CHECK(nt_decoder_start(d, NULL, S_LEN) == NT_ERR_ARG, "%s: NULL source accepted", name);
    } else {
        CHECK(nt_decoder_start(d, src, S_LEN) == NT_ERR_ARG, "%s: a source accepted", name);
    }
    nt_decoder_free(d);
    nt_decoder *d2 = NULL;
    CHECK(nt_decoder_new(&d2, m, 33, 4) == NT_ERR_ARG && !d2, "%s: cap past max_len accepted", name);
    CHECK(nt_decoder_new(&d2, m, 0, 4) == NT_ERR_ARG && !d2, "%s: cap 0 accepted", name);
    CHECK(nt_decoder_new(NULL, m, 4, 4) == NT_ERR_ARG, "%s: NULL out accepted", name);
    CHECK(nt_decoder_step(NULL, 1, &lg) == NT_ERR_ARG, "%s: NULL decoder accepted", name);
    nt_decoder_free(NULL);
}

/* nt_logits_argmax (vectorised): the first largest, NaN never, -1 for all -inf. */
static void check_argmax(void) {
    float x[53];
    for (int n = 1; n <= 53; n++) {
        for (int i = 0; i < n; i++) x[i] = (float)((i * 17) % 11) - 5.0f; /* ties: 5 at i = 10, 21, 32 .. */
        int want = -1;
        float bv = -INFINITY;
        for (int i = 0; i < n; i++)
            if (x[i] > bv) bv = x[i], want = i;
        CHECK(nt_logits_argmax(x, n) == want, "argmax n %d: %d, want %d", n, nt_logits_argmax(x, n), want);
        x[n - 1] = NAN;
        want = -1, bv = -INFINITY;
        for (int i = 0; i < n; i++)
            if (x[i] > bv) bv = x[i], want = i;
        CHECK(nt_logits_argmax(x, n) == want, "argmax n %d with NaN last", n);
        x[n - 1] = 100.0f; /* the max in the tail or the last block */
        CHECK(nt_logits_argmax(x, n) == n - 1, "argmax n %d: max last", n);
        for (int i = 0; i < n; i++) x[i] = -INFINITY;
        CHECK(nt_logits_argmax(x, n) == -1, "argmax n %d: all -inf", n);
        x[n / 2] = NAN;
        CHECK(nt_logits_argmax(x, n) == -1, "argmax n %d: -inf and NaN", n);
    }
}

static void run_level(float keep[4][STEPS * V]) {
    check_argmax();
    nt_ctx *ctx = NULL;
    CHECK(nt_ctx_new(&ctx, 1 << 20) == NT_OK, "ctx");
    if (!ctx) return;
    /* D 48, H 4: head width 12 (a masked tail in every head's dot products);
     * D 40: widths that are not multiples of 8 or 16; 12 steps: a full block of
     * 8 keys and a partial one */
    nt_model *ed = make_model(NT_ARCH_ENCDEC, 48, 4, 2, 1);
    check_model("encdec D48 H4", ed, ctx, keep[0]);
    nt_model_free(ed);
    nt_model *dec = make_model(NT_ARCH_DECODER, 40, 5, 3, 2);
    check_model("decoder D40 H5", dec, ctx, keep[1]);
    nt_model_free(dec);
    /* head widths 32 and 16: the register paths of nt_attention_row */
    dec = make_model(NT_ARCH_DECODER, 64, 2, 2, 3);
    check_model("decoder D64 H2", dec, ctx, keep[2]);
    nt_model_free(dec);
    ed = make_model(NT_ARCH_ENCDEC, 64, 4, 1, 4);
    check_model("encdec D64 H4", ed, ctx, keep[3]);
    nt_model_free(ed);
    nt_ctx_free(ctx);
}

int main(void) {
    static float keep[3][4][STEPS * V];
    nt_isa_level top = nt_isa();
    for (int l = (int)top; l >= NT_ISA_PORTABLE; l--) {
        nt_isa_set((nt_isa_level)l);
        int before = nt_check_failures;
        run_level(keep[l]);
        printf("level %s: %s\n", nt_isa_name((nt_isa_level)l), nt_check_failures == before ? "ok" : "FAILED");
    }
    if (top == NT_ISA_AVX512)
        for (int k = 0; k < 4; k++)
            CHECK(memcmp(keep[NT_ISA_AVX512][k], keep[NT_ISA_AVX2][k], sizeof keep[0][0]) == 0,
                  "model %d: decoder logits differ between AVX-512 and AVX2", k);
    nt_isa_set(top);
    return nt_check_report("test_generate_fast");
}
