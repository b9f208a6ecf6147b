/* test_generate_model.c - generation with the real model: cached vs full
 * forward logits at every step (both architectures, beams reordered), batch
 * independence (greedy, beam), strategies equal to greedy, cross-attention
 * output, a hand-built model where beam search beats greedy, named errors,
 * no allocation per token, and a rough batch-1 greedy tokens/s figure. */
#include <math.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "nn/generate.h"
#include "nn/sampling.h"
#include "support/check.h"
#include "support/models.h"

enum { V_SMALL = 24, MAXLEN = 48 };

/* A random small model with weights large enough for peaked distributions. */
static nt_model *random_model(nt_arch arch, uint64_t seed) {
    nt_rng rng;
    nt_rng_seed(&rng, seed);
    nt_model *m = nt_test_model(arch, V_SMALL, 32, 4, arch == NT_ARCH_ENCDEC ? 2 : 0, 2, MAXLEN, &rng);
    if (!m) return NULL;
    nt_params *P = m->params;
    for (int i = 0; i < P->count; i++) {
        nt_tensor *t = &P->tensors[i];
        float *x = nt_f32(t);
        for (int64_t j = 0; j < t->n; j++)
            x[j] = t->ndim == 2 ? 12 * x[j] : x[j] + 0.1f * nt_rng_normal(&rng);
    }
    /* a smaller <eos> embedding: outputs of several tokens before <eos> */
    for (int d = 0; d < m->cfg.d_model; d++) nt_f32(m->embed)[NT_GEN_EOS * m->cfg.d_model + d] *= 0.8f;
    return m;
}

/* Sources of different lengths with ids in [5, V). */
typedef struct sources {
    int n;
    int len[8];
    int32_t ids[8][16];
    const int32_t *ptr[8];
} sources;

static void make_sources(sources *s, int n, const int *lens, uint64_t seed) {
    nt_rng rng;
    nt_rng_seed(&rng, seed);
    s->n = n;
    for (int i = 0; i < n; i++) {
        s->len[i] = lens[i];
        for (int k = 0; k < lens[i]; k++) s->ids[i][k] = 5 + (int32_t)nt_rng_below(&rng, V_SMALL - 5);
        s->ptr[i] = s->ids[i];
    }
}

/* ---- cached vs full forward, every step, with beam-style reordering ------------- */

static void test_cache_matches_full(nt_arch arch) {
    nt_model *m = random_model(arch, arch == NT_ARCH_ENCDEC ? 3 : 4);
    if (!m) return;
    nt_ctx *c1, *c2;
    nt_ctx_new(&c1, 0);
    nt_ctx_new(&c2, 0);
    sources src;
    make_sources(&src, 5, (int[]){3, 7, 1, 0, 5}, 17);
    nt_generate_config g = nt_generate_config_default();
    g.num_beams = 3;
    g.max_new_tokens = 14;
    g.output_attentions = arch == NT_ARCH_ENCDEC;
    nt_generate_stepper *a = NULL, *b = NULL;
    g.use_cache = 1;
    CHECK(nt_generate_stepper_model(m, c1, &a, NULL, &g, src.ptr, src.len, 5) == NT_OK,
                                    "cached: %s", nt_errmsg());
    g.use_cache = 0;
    CHECK(nt_generate_stepper_model(m, c2, &b, NULL, &g, src.ptr, src.len, 5) == NT_OK, "full: %s",
                                    nt_errmsg());
    if (!a || !b) goto done;
    enum { CAP = 15, L = 14 };
    int32_t tok[CAP * L], tok2[CAP * L];
    float la[CAP * V_SMALL], lb[CAP * V_SMALL], aa[CAP * 8], ab[CAP * 8];
    CHECK(!g.output_attentions || a->attn_cols == 8, "attention columns = longest source + <eos> (%d)", a->attn_cols);
    nt_rng rng;
    nt_rng_seed(&rng, 99);
    int R = 5;
    double worst = 0, worst_attn = 0;
    for (int t = 0; t < L; t++) {
        nt_status s1 = a->step(a->user, la, g.output_attentions ? aa : NULL, tok, L, R, t);
        nt_status s2 = b->step(b->user, lb, g.output_attentions ? ab : NULL, tok, L, R, t);
        CHECK(s1 == NT_OK && s2 == NT_OK, "step %d: %s", t, nt_errmsg());
        if (s1 != NT_OK || s2 != NT_OK) break;
        for (int k = 0; k < R * V_SMALL; k++) worst = fmax(worst, fabs((double)la[k] - lb[k]));
        for (int k = 0; g.output_attentions && k < R * 8; k++)
            worst_attn = fmax(worst_attn, fabs((double)aa[k] - ab[k]));
        /* next tokens: random ids (teacher forcing), rows reordered like beams */
        for (int r = 0; r < R; r++) tok[r * L + t] = 5 + (int32_t)nt_rng_below(&rng, V_SMALL - 5);
        int sel[CAP], n_new = R;
        for (int r = 0; r < R; r++) sel[r] = r;
        if (t == 0) { /* fork: 5 rows -> 12 */
            int fork[] = {0, 0, 0, 1, 2, 2, 3, 3, 3, 4, 4, 1};
            n_new = 12;
            memcpy(sel, fork, sizeof fork);
        } else if (t == 3) { /* parents reordered, some rows repeated, some dropped */
            int re[] = {2, 0, 0, 5, 11, 10, 7, 7, 3, 1};
            n_new = 10;
            memcpy(sel, re, sizeof re);
        } else if (t == 6) { /* finished rows drop out */
            int drop[] = {1, 4, 5, 8};
            n_new = 4;
            memcpy(sel, drop, sizeof drop);
        }
        if (n_new != R || t == 0 || t == 3 || t == 6) {
            for (int r = 0; r < n_new; r++) memcpy(tok2 + r * L, tok + sel[r] * L, sizeof(int32_t) * (size_t)(t + 1));
            memcpy(tok, tok2, sizeof(int32_t) * (size_t)n_new * L);
            CHECK(a->select(a->user, sel, n_new) == NT_OK, "select: %s", nt_errmsg());
            CHECK(b->select(b->user, sel, n_new) == NT_OK, "select: %s", nt_errmsg());
            R = n_new;
        }
    }
    printf("%s: cached vs full forward, 14 steps: max |logit diff| %.2e, max |attn diff| %.2e\n",
           arch == NT_ARCH_ENCDEC ? "encdec" : "decoder", worst, worst_attn);
    CHECK(worst <= 1e-5, "cached and full logits differ by %g", worst);
    CHECK(worst_attn <= 1e-5, "cached and full attention differ by %g", worst_attn);
done:
    nt_generate_stepper_free(a);
    nt_generate_stepper_free(b);
    nt_ctx_free(c1);
    nt_ctx_free(c2);
    nt_model_free(m);
}

/* ---- batch independence, cached == uncached tokens -------------------------------- */

static int seq_eq(const nt_generate_seq *a, const nt_generate_seq *b) {
    return a && b && a->len == b->len && a->finished == b->finished &&
           memcmp(a->tokens, b->tokens, sizeof(int32_t) * (size_t)a->len) == 0;
}

static void test_batch_independence(nt_arch arch) {
    nt_model *m = random_model(arch, 7);
    if (!m) return;
    nt_ctx *ctx;
    nt_ctx_new(&ctx, 0);
    sources src;
    make_sources(&src, 8, (int[]){2, 9, 5, 1, 12, 4, 7, 3}, 5);
    for (int mode = 0; mode < 2; mode++) {
        nt_generate_config g = nt_generate_config_default();
        g.max_new_tokens = 12;
        if (mode == 1) g.num_beams = 3, g.num_return_sequences = 2;
        nt_generate_result all, full;
        CHECK(nt_generate(&m->net, ctx, &all, &g, src.ptr, src.len, 8) == NT_OK, "batch: %s",
                          nt_errmsg());
        g.use_cache = 0;
        CHECK(nt_generate(&m->net, ctx, &full, &g, src.ptr, src.len, 8) == NT_OK, "full: %s",
                          nt_errmsg());
        g.use_cache = 1;
        int finished = 0, lens = 0;
        for (int i = 0; i < 8; i++) {
            nt_generate_result one;
            CHECK(nt_generate(&m->net, ctx, &one, &g, &src.ptr[i], &src.len[i], 1) == NT_OK,
                              "alone: %s", nt_errmsg());
            for (int k = 0; k < g.num_return_sequences; k++) {
                nt_generate_seq *a = nt_generate_result_get(&all, i, k), *b = nt_generate_result_get(&one, 0, k),
                                *f = nt_generate_result_get(&full, i, k);
                CHECK(seq_eq(a, b), "%s %s: source %d seq %d alone differs from in a batch of 8",
                      arch ? "decoder" : "encdec", mode ? "beam" : "greedy", i, k);
                CHECK(seq_eq(a, f), "%s %s: source %d seq %d cached differs from uncached",
                      arch ? "decoder" : "encdec", mode ? "beam" : "greedy", i, k);
                CHECK_CLOSE(a->score, b->score, 1e-4, 1e-5);
                CHECK_CLOSE(a->score, f->score, 1e-4, 1e-5);
                finished += a->finished;
                lens += a->len;
            }
            nt_generate_result_free(&one);
        }
        printf("%s %s: 8 sources, %d tokens, %d finished with <eos>\n", arch ? "decoder" : "encdec",
               mode ? "beam 3" : "greedy", lens, finished);
        nt_generate_result_free(&all);
        nt_generate_result_free(&full);
    }
    nt_ctx_free(ctx);
    nt_model_free(m);
}

/* ---- the sliding window (context_keep) on the transformer ---------------------------
 * A decoder-only model continues past its context of MAXLEN positions: every
 * step's logits (handed to on_token) are those of the full forward over the
 * window by hand (the last keep tokens once the sequence outgrew the
 * context), the outputs of a batch are bitwise those of each source alone,
 * and the cached and uncached paths agree. */

typedef struct window_ref {
    nt_model *m;
    nt_ctx *ctx;
    int keep, n, start, steps;
    int32_t seq[256];
    double worst;
} window_ref;

static nt_status window_check(void *user, int source, int sequence, int32_t token, const float *logits) {
    window_ref *w = user;
    if (w->n - w->start > MAXLEN) w->start = w->n - (w->n > w->keep ? w->keep : w->n);
    int L = w->n - w->start, V = w->m->cfg.vocab_size;
    nt_ctx_reset(w->ctx);
    nt_tensor *tgt, *lg;
    NT_TRY(nt_tensor_wrap(w->ctx, &tgt, NT_I32, 2, (int[]){1, L}, w->seq + w->start));
    NT_TRY(nt_model_decode(w->m, w->ctx, &lg, tgt, NULL, NULL, NULL, NULL, NULL, 0));
    const float *ref = nt_f32(lg) + (size_t)(L - 1) * V;
    for (int v = 0; v < V; v++) {
        if (v == NT_GEN_EOS) continue; /* suppressed: -inf */
        double d = fabs((double)logits[v] - ref[v]) / (1 + fabs((double)ref[v]));
        if (!(d <= w->worst)) w->worst = d;
    }
    w->seq[w->n++] = token;
    w->steps++;
    return NT_OK;
}

static void test_window(void) {
    nt_model *m = random_model(NT_ARCH_DECODER, 12);
    if (!m) return;
    nt_ctx *ctx, *ref_ctx;
    nt_ctx_new(&ctx, 0);
    nt_ctx_new(&ref_ctx, 0);
    nt_ctx_set_grad(ref_ctx, 0);
    sources src;
    make_sources(&src, 3, (int[]){5, 11, 3}, 9);
    int32_t ban[] = {NT_GEN_EOS};
    nt_generate_config g = nt_generate_config_default();
    g.max_new_tokens = 70, g.raw_prompt = 1, g.suppress_tokens = ban, g.n_suppress_tokens = 1;
    nt_generate_result r;
    int32_t long_src[60];
    for (int k = 0; k < 60; k++) long_src[k] = 5 + (k * 7) % (V_SMALL - 5);
    src.ptr[2] = long_src, src.len[2] = 60; /* longer than the context */
    CHECK(nt_generate(&m->net, ctx, &r, &g, src.ptr, src.len, 3) == NT_ERR_ARG && strstr(nt_errmsg(), "source 2"),
          "a prompt past the context without a window: %s", nt_errmsg());
    for (int keep = MAXLEN; keep >= 20; keep -= 28) {
        g.context_keep = keep;
        /* every step of source 0 against the forward over its window by hand */
        window_ref w = {.m = m, .ctx = ref_ctx, .keep = keep, .n = src.len[0]};
        memcpy(w.seq, src.ptr[0], (size_t)src.len[0] * sizeof *w.seq);
        g.on_token = window_check, g.on_token_user = &w;
        CHECK(nt_generate(&m->net, ctx, &r, &g, src.ptr, src.len, 1) == NT_OK, "keep %d: %s", keep, nt_errmsg());
        CHECK(w.steps == 70 && r.seqs[0].len == 70 && w.worst < 1e-4,
              "keep %d: %d steps, logits off the window's forward by %.3g", keep, w.steps, w.worst);
        nt_generate_result_free(&r);
        g.on_token = NULL;
        /* a batch == each alone (bitwise), cached == uncached */
        nt_generate_result all, full;
        CHECK(nt_generate(&m->net, ctx, &all, &g, src.ptr, src.len, 3) == NT_OK, "keep %d batch: %s", keep, nt_errmsg());
        g.use_cache = 0;
        CHECK(nt_generate(&m->net, ctx, &full, &g, src.ptr, src.len, 3) == NT_OK, "keep %d full: %s", keep, nt_errmsg());
        g.use_cache = 1;
        for (int i = 0; i < 3; i++) {
            nt_generate_result one;
            CHECK(nt_generate(&m->net, ctx, &one, &g, &src.ptr[i], &src.len[i], 1) == NT_OK, "alone: %s", nt_errmsg());
            CHECK(seq_eq(&all.seqs[i], &one.seqs[0]) && all.seqs[i].score == one.seqs[0].score,
                  "keep %d: source %d alone differs from in the batch", keep, i);
            CHECK(seq_eq(&all.seqs[i], &full.seqs[i]), "keep %d: source %d cached differs from uncached", keep, i);
            CHECK(all.seqs[i].len == 70, "keep %d: source %d: %d tokens", keep, i, all.seqs[i].len);
            nt_generate_result_free(&one);
        }
        nt_generate_result_free(&all), nt_generate_result_free(&full);
    }
    /* encoder-decoder models have no such window; nor is keep > max_len a window */
    g.context_keep = MAXLEN + 1;
    CHECK(nt_generate(&m->net, ctx, &r, &g, src.ptr, src.len, 3) == NT_ERR_ARG && strstr(nt_errmsg(), "context_keep"),
          "keep > max_len: %s", nt_errmsg());
    nt_ctx_free(ctx), nt_ctx_free(ref_ctx);
    nt_model_free(m);
}

/* ---- num_beams=1, top_k=1, temperature -> 0 all equal greedy ------------------------ */

static void test_equal_greedy(nt_arch arch) {
    nt_model *m = random_model(arch, 11);
    if (!m) return;
    nt_ctx *ctx;
    nt_ctx_new(&ctx, 0);
    sources src;
    make_sources(&src, 6, (int[]){4, 1, 8, 3, 6, 2}, 8);
    nt_generate_config g = nt_generate_config_default();
    g.max_new_tokens = 10;
    nt_generate_result greedy, beam1, beam1_path, topk, cold;
    CHECK(nt_generate(&m->net, ctx, &greedy, &g, src.ptr, src.len, 6) == NT_OK, "greedy: %s",
                      nt_errmsg());
    nt_generate_config c = g;
    c.num_beams = 1;
    CHECK(nt_generate(&m->net, ctx, &beam1, &c, src.ptr, src.len, 6) == NT_OK, "beams 1: %s",
                      nt_errmsg());
    /* the beam-search code itself with one beam (no length penalty) */
    c.length_penalty = 0;
    nt_generate_stepper *st = NULL;
    int *limits = NULL;
    CHECK(nt_generate_stepper_model(m, ctx, &st, &limits, &c, src.ptr, src.len, 6) == NT_OK,
                                    "stepper: %s",
          nt_errmsg());
    CHECK(nt_generate_run_beam(st, &beam1_path, &c, 6, limits) == NT_OK, "beam path: %s", nt_errmsg());
    nt_generate_stepper_free(st);
    c = g;
    c.do_sample = 1;
    c.top_k = 1;
    c.seed = 3;
    CHECK(nt_generate(&m->net, ctx, &topk, &c, src.ptr, src.len, 6) == NT_OK, "top_k 1: %s",
                      nt_errmsg());
    c.top_k = 0;
    c.temperature = 1e-5f;
    CHECK(nt_generate(&m->net, ctx, &cold, &c, src.ptr, src.len, 6) == NT_OK, "cold: %s", nt_errmsg());
    for (int i = 0; i < 6; i++) {
        CHECK(seq_eq(&greedy.seqs[i], &beam1.seqs[i]), "num_beams=1 == greedy (source %d)", i);
        CHECK(seq_eq(&greedy.seqs[i], &beam1_path.seqs[i]), "1-beam search == greedy (source %d)", i);
        CHECK(seq_eq(&greedy.seqs[i], &topk.seqs[i]), "top_k=1 == greedy (source %d)", i);
        CHECK(seq_eq(&greedy.seqs[i], &cold.seqs[i]), "temperature 1e-5 == greedy (source %d)", i);
    }
    /* sampling at temperature 1 differs from greedy somewhere, and a seed repeats */
    c.temperature = 1;
    c.num_return_sequences = 2;
    nt_generate_result s1, s2;
    CHECK(nt_generate(&m->net, ctx, &s1, &c, src.ptr, src.len, 6) == NT_OK, "sample: %s", nt_errmsg());
    CHECK(nt_generate(&m->net, ctx, &s2, &c, src.ptr, src.len, 6) == NT_OK, "sample: %s", nt_errmsg());
    int differs = 0, same = 1;
    for (int i = 0; i < 6; i++)
        for (int k = 0; k < 2; k++) {
            differs += !seq_eq(&greedy.seqs[i], nt_generate_result_get(&s1, i, k));
            same &= seq_eq(nt_generate_result_get(&s1, i, k), nt_generate_result_get(&s2, i, k));
        }
    CHECK(differs > 0 && same, "sampling: %d differ from greedy; same seed same samples: %d", differs, same);
    nt_generate_result *rs[] = {&greedy, &beam1, &beam1_path, &topk, &cold, &s1, &s2};
    for (size_t k = 0; k < sizeof rs / sizeof *rs; k++) nt_generate_result_free(rs[k]);
    nt_ctx_free(ctx);
    nt_model_free(m);
}

/* ---- cross-attention output ------------------------------------------------------------ */

static void test_attention(void) {
    nt_model *m = random_model(NT_ARCH_ENCDEC, 21);
    if (!m) return;
    nt_ctx *ctx;
    nt_ctx_new(&ctx, 0);
    sources src;
    make_sources(&src, 3, (int[]){5, 2, 9}, 2);
    nt_generate_config g = nt_generate_config_default();
    g.max_new_tokens = 8;
    g.num_beams = 2;
    g.num_return_sequences = 2;
    g.output_attentions = 1;
    nt_generate_result r, plain;
    CHECK(nt_generate(&m->net, ctx, &r, &g, src.ptr, src.len, 3) == NT_OK, "attn: %s", nt_errmsg());
    g.output_attentions = 0;
    CHECK(nt_generate(&m->net, ctx, &plain, &g, src.ptr, src.len, 3) == NT_OK, "plain: %s",
                      nt_errmsg());
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 2; k++) {
            nt_generate_seq *o = nt_generate_result_get(&r, i, k);
            CHECK(seq_eq(o, nt_generate_result_get(&plain, i, k)), "attention recording changes nothing");
            CHECK(nt_generate_result_get(&plain, i, k)->attn == NULL, "no attention unless asked");
            CHECK(o->attn && o->attn_rows == o->len + o->finished && o->attn_cols == src.len[i] + 1,
                  "source %d: attention %dx%d for %d tokens", i, o->attn_rows, o->attn_cols, o->len);
            for (int t = 0; o->attn && t < o->attn_rows; t++) {
                double sum = 0;
                for (int s = 0; s < o->attn_cols; s++) sum += o->attn[t * o->attn_cols + s];
                CHECK_CLOSE(sum, 1.0, 1e-5, 0);
            }
        }
    nt_generate_result_free(&r);
    nt_generate_result_free(&plain);
    /* decoder-only models have none: a named error */
    nt_model *d = random_model(NT_ARCH_DECODER, 1);
    g.output_attentions = 1;
    nt_status st = nt_generate(&d->net, ctx, &r, &g, src.ptr, src.len, 3);
    CHECK(st == NT_ERR_ARG && strstr(nt_errmsg(), "output_attentions"), "decoder attn: %s", nt_errmsg());
    nt_model_free(d);
    nt_ctx_free(ctx);
    nt_model_free(m);
}

/* ---- a hand-built model where beam search beats greedy ---------------------------------
 * Every weight is zero except the embedding, the decoder positions and the
 * final LayerNorm, so blocks add nothing and the logits are a function of the
 * last token and its position: logits = E . LN(E[tok] + pos[p]) (D = 8).
 *   coords 0, 1, 2: the output directions of <eos>, A, B (E[v] = 2 e_v)
 *   coords 3, 4:    +-100 in every position row: LN's std is ~50 everywhere,
 *                   so with LN gain 25 on coords 0..2 logit_v ~ x_v - mean
 *   coord 5:        a constant 1 after LN (bias); other tokens' E = -30 e5
 * Designed next-token distributions over (<eos>, A, B):
 *   after <bos> (pos 0): x = (-10, ln .57, ln .43)     -> A .57, B .43
 *   after A (pos 1):     x = (0, -2.1 + 2, -6)         -> <eos> .52, A .47
 *   after B (pos 1):     x = (0, -2.1, -6 + 2)         -> <eos> .88
 * Greedy: A <eos> (p .30); beam search: B <eos> (p .38). */
static void test_hand_built(void) {
    nt_model_config c = nt_model_config_default();
    c.vocab_size = 7;
    c.d_model = 8;
    c.heads = 2;
    c.enc_layers = 1;
    c.dec_layers = 1;
    c.max_len = 8;
    nt_model *m = NULL;
    CHECK(nt_model_new(&m, &c) == NT_OK, "model: %s", nt_errmsg());
    if (!m) return;
    memset(m->params->values, 0, sizeof(float) * (size_t)m->params->total);
    float *E = nt_f32(m->embed), *pos = nt_f32(m->decoder.pos);
    enum { A = 5, B = 6, D = 8 };
    for (int v = 0; v < 7; v++) E[v * D + 5] = -30;
    E[NT_GEN_EOS * D + 5] = E[A * D + 5] = E[B * D + 5] = 0;
    E[NT_GEN_EOS * D + 0] = 2;
    E[A * D + 1] = 2;
    E[B * D + 2] = 2;
    for (int p = 0; p < 8; p++) pos[p * D + 3] = 100, pos[p * D + 4] = -100;
    pos[0 * D + 0] = -10, pos[0 * D + 1] = logf(.57f), pos[0 * D + 2] = logf(.43f);
    pos[0 * D + 5] = 30; /* cancels <bos>'s -30 */
    pos[1 * D + 0] = 0, pos[1 * D + 1] = -2.1f, pos[1 * D + 2] = -6;
    float *lnw = nt_f32(m->decoder.ln_w), *lnb = nt_f32(m->decoder.ln_b);
    lnw[0] = lnw[1] = lnw[2] = 25;
    lnb[5] = 1;
    nt_ctx *ctx;
    nt_ctx_new(&ctx, 1 << 20);
    const int32_t s0[] = {A};
    const int32_t *srcs[] = {s0};
    int len[] = {1};

    /* the distributions are what the comment says */
    nt_generate_config g = nt_generate_config_default();
    g.max_new_tokens = 4;
    g.num_beams = 2;
    nt_generate_stepper *st = NULL;
    CHECK(nt_generate_stepper_model(m, ctx, &st, NULL, &g, srcs, len, 1) == NT_OK, "stepper: %s",
                                    nt_errmsg());
    if (st) {
        float lg[3][7];
        int32_t tok[2 * 4] = {0};
        st->step(st->user, lg[0], NULL, tok, 4, 1, 0);
        st->select(st->user, (int[]){0, 0}, 2);
        tok[0] = A, tok[4] = B;
        st->step(st->user, lg[1], NULL, tok, 4, 2, 1);
        double p[3][7];
        for (int k = 0; k < 3; k++) {
            double lse = nt_sampling_logsumexp(lg[k], 7);
            for (int v = 0; v < 7; v++) p[k][v] = exp(lg[k][v] - lse);
        }
        CHECK(fabs(p[0][A] - .57) < .01 && fabs(p[0][B] - .43) < .01, "after <bos>: A %.3f B %.3f", p[0][A], p[0][B]);
        CHECK(fabs(p[1][NT_GEN_EOS] - .524) < .01 && fabs(p[1][A] - .474) < .01, "after A: <eos> %.3f A %.3f",
              p[1][NT_GEN_EOS], p[1][A]);
        CHECK(fabs(p[2][NT_GEN_EOS] - .877) < .01, "after B: <eos> %.3f", p[2][NT_GEN_EOS]);
    }
    nt_generate_stepper_free(st);

    nt_generate_result r;
    g.num_beams = 1;
    CHECK(nt_generate(&m->net, ctx, &r, &g, srcs, len, 1) == NT_OK, "greedy: %s", nt_errmsg());
    CHECK(r.seqs[0].len == 1 && r.seqs[0].tokens[0] == A && r.seqs[0].finished, "greedy: A <eos>");
    double greedy_score = r.seqs[0].score;
    nt_generate_result_free(&r);
    g.num_beams = 2;
    g.length_penalty = 0;
    CHECK(nt_generate(&m->net, ctx, &r, &g, srcs, len, 1) == NT_OK, "beam: %s", nt_errmsg());
    CHECK(r.seqs[0].len == 1 && r.seqs[0].tokens[0] == B && r.seqs[0].finished, "beam search: B <eos>");
    CHECK(r.seqs[0].score > greedy_score + 0.1, "beam score %g > greedy %g", (double)r.seqs[0].score, greedy_score);
    CHECK_CLOSE(r.seqs[0].score, log(.43 * .877), 0.03, 0);
    nt_generate_result_free(&r);
    nt_ctx_free(ctx);
    nt_model_free(m);
}

/* ---- errors ------------------------------------------------------------------------------ */

static void test_errors(void) {
    nt_model *e = random_model(NT_ARCH_ENCDEC, 1), *d = random_model(NT_ARCH_DECODER, 1);
    if (!e || !d) return;
    nt_ctx *ctx;
    nt_ctx_new(&ctx, 0);
    int32_t ids[MAXLEN + 2];
    for (int k = 0; k < MAXLEN + 2; k++) ids[k] = 5 + k % 10;
    const int32_t *p[2] = {ids, ids};
    nt_generate_config g = nt_generate_config_default();
    nt_generate_result r;
    /* encdec: source + <eos> must fit max_len */
    nt_status st = nt_generate(&e->net, ctx, &r, &g, p, (int[]){3, MAXLEN}, 2);
    CHECK(st == NT_ERR_ARG && strstr(nt_errmsg(), "source 1: 48 tokens + <eos> exceed max_len 48"), "%s", nt_errmsg());
    CHECK(r.seqs == NULL, "zeroed");
    CHECK(nt_generate(&e->net, ctx, &r, &g, p, (int[]){MAXLEN - 1}, 1) == NT_OK,
                      "a source that just fits: %s", nt_errmsg());
    nt_generate_result_free(&r);
    /* decoder-only: <bos> source <sep> must fit */
    st = nt_generate(&d->net, ctx, &r, &g, p, (int[]){MAXLEN - 1}, 1);
    CHECK(st == NT_ERR_ARG && strstr(nt_errmsg(), "prompt of 49 tokens (<bos> source <sep>) exceeds max_len 48"), "%s",
          nt_errmsg());
    /* a prompt that fills max_len leaves room for exactly one token */
    CHECK(nt_generate(&d->net, ctx, &r, &g, p, (int[]){MAXLEN - 2}, 1) == NT_OK, "full prompt: %s",
                      nt_errmsg());
    CHECK(r.seqs[0].len + r.seqs[0].finished == 1, "one token generated (%d)", r.seqs[0].len);
    nt_generate_result_free(&r);
    /* a long and a short prompt together need more cache than max_len: split, same output */
    g.max_new_tokens = 40;
    nt_generate_result both, alone;
    CHECK(nt_generate(&d->net, ctx, &both, &g, p, (int[]){2, 40}, 2) == NT_OK, "split: %s",
                      nt_errmsg());
    CHECK(nt_generate(&d->net, ctx, &alone, &g, p, (int[]){2}, 1) == NT_OK, "alone: %s", nt_errmsg());
    CHECK(seq_eq(&both.seqs[0], &alone.seqs[0]), "split batch: same output");
    nt_generate_result_free(&both);
    nt_generate_result_free(&alone);
    g.max_new_tokens = 64;
    /* ids, config */
    ids[1] = V_SMALL;
    st = nt_generate(&e->net, ctx, &r, &g, p, (int[]){3}, 1);
    CHECK(st == NT_ERR_ARG && strstr(nt_errmsg(), "source 0 token 1: id 24 outside [0, 24)"), "%s", nt_errmsg());
    ids[1] = 5;
    g.num_beams = 0;
    st = nt_generate(&e->net, ctx, &r, &g, p, (int[]){3}, 1);
    CHECK(st == NT_ERR_ARG && strstr(nt_errmsg(), "num_beams 0"), "%s", nt_errmsg());
    g.num_beams = 1;
    g.top_p = 1.5f;
    st = nt_generate(&d->net, ctx, &r, &g, p, (int[]){3}, 1);
    CHECK(st == NT_ERR_ARG && strstr(nt_errmsg(), "top_p 1.5 outside (0, 1]"), "%s", nt_errmsg());
    g.top_p = 1;
    CHECK(nt_generate(&e->net, ctx, &r, &g, p, (int[]){-1}, 1) == NT_ERR_ARG, "negative length");
    CHECK(nt_generate(&e->net, ctx, &r, &g, NULL, (int[]){1}, 1) == NT_ERR_ARG, "NULL sources");
    CHECK(nt_generate(NULL, ctx, &r, &g, p, (int[]){1}, 1) == NT_ERR_ARG, "NULL model");
    /* the ctx comes back with grad and training mode as they were */
    CHECK(nt_ctx_grad_enabled(ctx) && nt_ctx_training(ctx), "ctx modes restored");
    nt_ctx_free(ctx);
    nt_model_free(e);
    nt_model_free(d);
}

/* ---- no allocation per token; tokens/s ------------------------------------------------ */

static void test_steady_state_and_speed(void) {
    /* the benchmark's shape: D 128, 4 heads, 2 + 2 layers */
    nt_model_config c = nt_model_config_default();
    c.vocab_size = 40;
    nt_model *m = NULL;
    CHECK(nt_model_new(&m, &c) == NT_OK, "model: %s", nt_errmsg());
    if (!m) return;
    nt_rng rng;
    nt_rng_seed(&rng, 1);
    nt_model_init(m, &rng);
    nt_ctx *ctx;
    nt_ctx_new(&ctx, 0);
    const int32_t s0[] = {7, 8, 9, 10, 11, 12, 13, 14};
    const int32_t *srcs[] = {s0};
    int len[] = {8};
    nt_generate_config g = nt_generate_config_default();
    g.max_new_tokens = 200;
    nt_generate_stepper *st = NULL;
    CHECK(nt_generate_stepper_model(m, ctx, &st, NULL, &g, srcs, len, 1) == NT_OK, "stepper: %s",
                                    nt_errmsg());
    if (st) {
        int32_t tok[200];
        float lg[40];
        uint64_t before = 0;
        for (int t = 0; t < 100; t++) {
            if (t == 5) before = nt_alloc_count();
            CHECK(st->step(st->user, lg, NULL, tok, 200, 1, t) == NT_OK, "step: %s", nt_errmsg());
            tok[t] = 5 + t % 30;
        }
        CHECK(nt_alloc_count() == before, "%llu heap allocations in 95 cached steps",
              (unsigned long long)(nt_alloc_count() - before));
    }
    nt_generate_stepper_free(st);

    /* rough batch-1 greedy tokens/s (printed, never asserted) */
    float *E = nt_f32(m->embed);
    for (int d = 0; d < c.d_model; d++) E[NT_GEN_EOS * c.d_model + d] = 0; /* <eos> rarely wins */
    struct timespec t0, t1;
    nt_generate_result r;
    int tokens = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int rep = 0; rep < 2; rep++) {
        CHECK(nt_generate(&m->net, ctx, &r, &g, srcs, len, 1) == NT_OK, "gen: %s", nt_errmsg());
        tokens += r.seqs[0].len + r.seqs[0].finished;
        nt_generate_result_free(&r);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double sec = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    printf("batch-1 greedy, D 128, 2+2 layers, KV cache: %d tokens in %.3f s = %.0f tokens/s\n", tokens, sec,
           tokens / sec);
    g.use_cache = 0;
    g.max_new_tokens = 10;
    tokens = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK(nt_generate(&m->net, ctx, &r, &g, srcs, len, 1) == NT_OK, "gen: %s", nt_errmsg());
    tokens += r.seqs[0].len + r.seqs[0].finished;
    nt_generate_result_free(&r);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    sec = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    printf("batch-1 greedy, same, no cache: %d tokens in %.3f s = %.0f tokens/s\n", tokens, sec, tokens / sec);
    nt_ctx_free(ctx);
    nt_model_free(m);
}

int main(void) {
    test_cache_matches_full(NT_ARCH_ENCDEC);
    test_cache_matches_full(NT_ARCH_DECODER);
    test_batch_independence(NT_ARCH_ENCDEC);
    test_batch_independence(NT_ARCH_DECODER);
    test_window();
    test_equal_greedy(NT_ARCH_ENCDEC);
    test_equal_greedy(NT_ARCH_DECODER);
    test_attention();
    test_hand_built();
    test_errors();
    test_steady_state_and_speed();
    return nt_check_report("test_generate_model");
}
