/* test_generate.c - generation strategies on hand-built next-token
 * distributions: greedy, sampling (seeds, chi-square, top-k, top-p,
 * temperature), beam search (the known best sequence, exhaustive n-best),
 * logits processors, batch independence of the loop, errors. */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "nn/generate.h"
#include "nn/sampling.h"
#include "support/check.h"

enum { TA = 5, TB = 6 }; /* two ordinary tokens after the specials */
#define MAXR 4096

/* ---- test steppers ------------------------------------------------------------------
 * kind TREE: the hand-built distribution where greedy misses the best sequence:
 *   []    -> A .6, B .4          [A] -> <eos> .4, A .3, B .3
 *   [B]   -> <eos> .9, A .05, B .05     longer -> <eos> .8, A .1, B .1
 * so greedy says "A <eos>" (p .24) and beam search "B <eos>" (p .36).
 * kind HASH: logits a hash of (source, prefix, token), every token allowed
 * except <pad>/<bos>; <eos> is boosted by `eos_bias`.
 * kind ONE: only <eos>, A, B are possible (exhaustive enumeration).
 * kind FIXED: the same logits at every step (sampling statistics). */
enum { TREE, HASH, ONE, FIXED };

typedef struct tstep {
    int kind, V, rows;
    int src[MAXR];
    uint64_t salt;
    float eos_bias;
    const float *fixed;
    int steps, fail_at, bad_select;
} tstep;

static uint64_t mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t prefix_hash(uint64_t salt, int source, const int32_t *p, int t) {
    uint64_t h = mix(salt + (uint64_t)source * 1000003u);
    for (int k = 0; k < t; k++) h = mix(h ^ ((uint64_t)p[k] + 0x100));
    return h;
}

static void tree_logits(float *x, int V, const int32_t *p, int t) {
    for (int v = 0; v < V; v++) x[v] = -INFINITY;
    float pe, pa, pb;
    if (t == 0) pe = 0, pa = .6f, pb = .4f;
    else if (t == 1 && p[0] == TA) pe = .4f, pa = .3f, pb = .3f;
    else if (t == 1) pe = .9f, pa = .05f, pb = .05f;
    else pe = .8f, pa = .1f, pb = .1f;
    if (pe > 0) x[NT_GEN_EOS] = logf(pe);
    x[TA] = logf(pa);
    x[TB] = logf(pb);
}

static nt_status tstep_step(void *user, float *logits, float *attn, const int32_t *tokens,
                            int stride, int n, int t) {
    tstep *s = user;
    if (n != s->rows) return nt_error(NT_ERR_STATE, "tstep: %d rows, expected %d", n, s->rows);
    if (s->fail_at >= 0 && t == s->fail_at) return nt_error(NT_ERR_NUMERIC, "tstep: failing on purpose");
    s->steps++;
    for (int r = 0; r < n; r++) {
        float *x = logits + (size_t)r * s->V;
        const int32_t *p = tokens + (size_t)r * stride;
        uint64_t h = prefix_hash(s->salt, s->src[r], p, t);
        switch (s->kind) {
        case TREE: tree_logits(x, s->V, p, t); break;
        case FIXED: memcpy(x, s->fixed, (size_t)s->V * sizeof *x); break;
        default:
            for (int v = 0; v < s->V; v++)
                x[v] = (float)((double)(mix(h + (uint64_t)v) >> 11) / 9007199254740992.0 * 6 - 3);
            x[NT_GEN_PAD] = x[NT_GEN_BOS] = -INFINITY;
            x[NT_GEN_EOS] += s->eos_bias;
            if (s->kind == ONE)
                for (int v = 0; v < s->V; v++)
                    if (v != NT_GEN_EOS && v != TA && v != TB) x[v] = -INFINITY;
        }
        /* attention row: a function of (source, prefix) so the test can tell
         * whether outputs kept the attention of their own prefix */
        if (attn)
            for (int c = 0; c < 3; c++) attn[r * 3 + c] = (float)(h % 1000) + (float)c;
    }
    return NT_OK;
}

static nt_status tstep_select(void *user, const int *src_rows, int n_new) {
    tstep *s = user;
    int old[MAXR];
    memcpy(old, s->src, sizeof(int) * (size_t)s->rows);
    for (int r = 0; r < n_new; r++) {
        if (src_rows[r] < 0 || src_rows[r] >= s->rows) s->bad_select++;
        else s->src[r] = old[src_rows[r]];
    }
    s->rows = n_new;
    return NT_OK;
}

static nt_generate_stepper make_stepper(tstep *s, int kind, int V, int n, uint64_t salt) {
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->V = V;
    s->rows = n;
    s->salt = salt;
    s->fail_at = -1;
    for (int i = 0; i < n; i++) s->src[i] = i;
    return (nt_generate_stepper){s, V, 3, tstep_step, tstep_select, NULL};
}

static int seq_eq(const nt_generate_seq *a, const nt_generate_seq *b) {
    if (a->len != b->len || a->finished != b->finished) return 0;
    return memcmp(a->tokens, b->tokens, (size_t)a->len * sizeof *a->tokens) == 0;
}

static int seq_is(const nt_generate_seq *a, const int32_t *want, int len) {
    return a && a->len == len && memcmp(a->tokens, want, (size_t)len * sizeof *want) == 0;
}

/* ---- beam search vs greedy on the hand-built tree ------------------------------------ */

static void test_tree(void) {
    tstep s;
    nt_generate_stepper st = make_stepper(&s, TREE, 7, 1, 0);
    nt_generate_config g = nt_generate_config_default();
    g.max_new_tokens = 5;
    nt_generate_result r;
    CHECK(nt_generate_run(&st, &r, &g, 1, NULL) == NT_OK, "greedy: %s", nt_errmsg());
    nt_generate_seq *o = nt_generate_result_get(&r, 0, 0);
    CHECK(seq_is(o, (int32_t[]){TA}, 1) && o->finished, "greedy chooses A <eos>");
    CHECK_CLOSE(o->score, log(.24), 1e-5, 0);
    CHECK_CLOSE(o->score_norm, log(.24) / 2, 1e-5, 0);
    nt_generate_result_free(&r);

    st = make_stepper(&s, TREE, 7, 1, 0);
    g.num_beams = 2;
    g.length_penalty = 0;
    CHECK(nt_generate_run(&st, &r, &g, 1, NULL) == NT_OK, "beam: %s", nt_errmsg());
    o = nt_generate_result_get(&r, 0, 0);
    CHECK(seq_is(o, (int32_t[]){TB}, 1) && o->finished, "beam search finds B <eos>");
    CHECK_CLOSE(o->score, log(.36), 1e-5, 0);
    nt_generate_result_free(&r);

    /* n-best with scores: B <eos> .36, A <eos> .24, then A A <eos> / A B <eos> .144 */
    st = make_stepper(&s, TREE, 7, 1, 0);
    g.num_beams = 3;
    g.num_return_sequences = 3;
    CHECK(nt_generate_run(&st, &r, &g, 1, NULL) == NT_OK, "n-best: %s", nt_errmsg());
    CHECK(r.n_per_source == 3, "3 per source");
    CHECK(seq_is(nt_generate_result_get(&r, 0, 0), (int32_t[]){TB}, 1), "1st B");
    CHECK(seq_is(nt_generate_result_get(&r, 0, 1), (int32_t[]){TA}, 1), "2nd A");
    CHECK(seq_is(nt_generate_result_get(&r, 0, 2), (int32_t[]){TA, TA}, 2), "3rd A A (tie with A B: found first)");
    CHECK_CLOSE(nt_generate_result_get(&r, 0, 2)->score, log(.6 * .3 * .8), 1e-5, 0);
    CHECK(nt_generate_result_get(&r, 0, 3) == NULL, "out of range");
    nt_generate_result_free(&r);
    nt_generate_result_free(&r); /* twice is a no-op */
}

/* ---- exhaustive n-best: nothing pruned, so beam search is exact ----------------------- */

typedef struct enum_seq {
    int32_t tok[4];
    int len, finished;
    double score, norm;
} enum_seq;

static void enumerate(tstep *s, int source, int32_t *p, int t, double score, int limit,
                      float alpha, enum_seq *out, int *n) {
    float x[16];
    s->src[0] = source;
    s->rows = 1;
    tstep_step(s, x, NULL, p, 0, 1, t);
    double lse = nt_sampling_logsumexp(x, s->V);
    for (int32_t v = 0; v < s->V; v++) {
        if (x[v] == -INFINITY) continue;
        double sc = score + x[v] - lse;
        if (v == NT_GEN_EOS || t + 1 == limit) {
            enum_seq *e = &out[(*n)++];
            memcpy(e->tok, p, sizeof(int32_t) * (size_t)t);
            e->len = t;
            if (v != NT_GEN_EOS) e->tok[e->len++] = v;
            e->finished = v == NT_GEN_EOS;
            e->score = sc;
            e->norm = sc / pow(t + 1, alpha);
        } else {
            p[t] = v;
            enumerate(s, source, p, t + 1, sc, limit, alpha, out, n);
        }
    }
}

static void test_exhaustive(void) {
    const float alphas[] = {0.0f, 1.0f, -0.5f, 2.0f};
    for (int a = 0; a < 4; a++)
        for (int source = 0; source < 3; source++) {
            tstep s;
            make_stepper(&s, ONE, 9, 1, 77);
            enum_seq all[64];
            int n = 0;
            int32_t p[4];
            enumerate(&s, source, p, 0, 0, 3, alphas[a], all, &n);
            CHECK(n == 15, "15 sequences of at most 3 tokens (%d)", n);
            /* sort finished first, then by norm desc (selection sort; stable
             * enough: no ties expected) */
            for (int i = 0; i < n; i++)
                for (int j = i + 1; j < n; j++)
                    if (all[j].finished > all[i].finished ||
                        (all[j].finished == all[i].finished && all[j].norm > all[i].norm)) {
                        enum_seq tmp = all[i];
                        all[i] = all[j];
                        all[j] = tmp;
                    }
            nt_generate_stepper st = make_stepper(&s, ONE, 9, 3, 77);
            nt_generate_config g = nt_generate_config_default();
            g.max_new_tokens = 3;
            g.num_beams = 16;
            g.num_return_sequences = 6;
            g.length_penalty = alphas[a];
            nt_generate_result r;
            CHECK(nt_generate_run(&st, &r, &g, 3, NULL) == NT_OK, "run: %s", nt_errmsg());
            for (int k = 0; k < 6; k++) {
                nt_generate_seq *o = nt_generate_result_get(&r, source, k);
                CHECK(o && o->len == all[k].len && o->finished == all[k].finished &&
                          !memcmp(o->tokens, all[k].tok, sizeof(int32_t) * (size_t)o->len),
                      "alpha %g source %d: %d-best differs from enumeration", alphas[a], source, k);
                CHECK_CLOSE(o->score, all[k].score, 1e-5, 0);
                CHECK_CLOSE(o->score_norm, all[k].norm, 1e-5, 0);
            }
            CHECK(s.bad_select == 0, "select indices in range");
            nt_generate_result_free(&r);
        }
}

/* ---- n-best: finished hypotheses before unfinished ones -------------------------------
 * Every step: A .9, <eos> .05, B .05. A length-limited "A A A A" has a far
 * better per-token score than any finished hypothesis, yet it is a cut loop,
 * not a translation: it must rank below every finished one, and appear only
 * when fewer than K finished exist. */
static void test_nbest_finished_first(void) {
    const float fixed[9] = {-INFINITY, -INFINITY, logf(.05f), -INFINITY, -INFINITY, logf(.9f), logf(.05f), -INFINITY,
                            -INFINITY};
    for (int K = 2; K <= 6; K += 2) {
        tstep s;
        nt_generate_stepper st = make_stepper(&s, FIXED, 9, 1, 0);
        s.fixed = fixed;
        nt_generate_config g = nt_generate_config_default();
        g.max_new_tokens = K == 6 ? 2 : 4; /* 2 tokens: 3 finished hypotheses exist */
        g.num_beams = K;
        g.num_return_sequences = K;
        nt_generate_result r;
        CHECK(nt_generate_run(&st, &r, &g, 1, NULL) == NT_OK, "run: %s", nt_errmsg());
        int n_fin = 0, seen_unfinished = 0, order_ok = 1;
        for (int k = 0; k < K; k++) {
            nt_generate_seq *o = nt_generate_result_get(&r, 0, k);
            if (!o) continue;
            n_fin += o->finished;
            if (o->finished && seen_unfinished) order_ok = 0;
            seen_unfinished |= !o->finished;
            if (k > 0) {
                nt_generate_seq *p = nt_generate_result_get(&r, 0, k - 1);
                if (p->finished == o->finished && p->score_norm < o->score_norm) order_ok = 0;
            }
        }
        nt_generate_seq *best = nt_generate_result_get(&r, 0, 0);
        CHECK(best && best->finished, "K %d: the best is a finished hypothesis (len %d, finished %d)", K,
              best ? best->len : -1, best ? best->finished : -1);
        CHECK(order_ok, "K %d: finished first, each group by score", K);
        CHECK(n_fin >= 1, "K %d: %d finished", K, n_fin);
        if (K == 6) CHECK(seen_unfinished && n_fin < K, "K 6: fewer finished than K, so unfinished ones fill in");
        nt_generate_result_free(&r);
    }
}

/* ---- strategies that must equal greedy ---------------------------------------------- */

static nt_generate_result run_hash(nt_generate_config g, int n, uint64_t salt, float eos_bias,
                                   tstep *s) {
    nt_generate_stepper st = make_stepper(s, HASH, 12, n, salt);
    s->eos_bias = eos_bias;
    nt_generate_result r;
    nt_status rc = nt_generate_run(&st, &r, &g, n, NULL);
    CHECK(rc == NT_OK, "run: %s", nt_errmsg());
    CHECK(s->bad_select == 0, "select indices in range");
    return r;
}

static void test_equal_greedy(void) {
    tstep s;
    const int n = 40;
    nt_generate_config g = nt_generate_config_default();
    g.max_new_tokens = 12;
    nt_generate_result greedy = run_hash(g, n, 5, 0.5f, &s);
    int total = 0, finished = 0;
    for (int i = 0; i < n; i++) {
        total += greedy.seqs[i].len;
        finished += greedy.seqs[i].finished;
    }
    CHECK(finished > 5 && finished < n, "a mix of finished and cut sequences (%d)", finished);

    nt_generate_config c = g;
    c.do_sample = 1;
    c.top_k = 1;
    c.seed = 9;
    nt_generate_result topk = run_hash(c, n, 5, 0.5f, &s);
    c.top_k = 0;
    c.temperature = 1e-5f;
    nt_generate_result cold = run_hash(c, n, 5, 0.5f, &s);
    c = g;
    c.length_penalty = 0;
    tstep s2;
    nt_generate_stepper st = make_stepper(&s2, HASH, 12, n, 5);
    s2.eos_bias = 0.5f;
    nt_generate_result beam1;
    CHECK(nt_generate_run_beam(&st, &beam1, &c, n, NULL) == NT_OK, "beam 1: %s", nt_errmsg());
    for (int i = 0; i < n; i++) {
        CHECK(seq_eq(&greedy.seqs[i], &topk.seqs[i]), "top_k=1 == greedy (source %d)", i);
        CHECK(seq_eq(&greedy.seqs[i], &cold.seqs[i]), "temperature 1e-5 == greedy (source %d)", i);
        CHECK(seq_eq(&greedy.seqs[i], &beam1.seqs[i]), "beam search, 1 beam == greedy (source %d)", i);
        CHECK_CLOSE(beam1.seqs[i].score, greedy.seqs[i].score, 1e-5, 1e-6);
        /* the score is the summed log-prob of the chosen tokens, not of the warped one */
        CHECK_CLOSE(topk.seqs[i].score, greedy.seqs[i].score, 1e-6, 1e-6);
    }
    printf("equal-greedy: %d sources, %d tokens, %d finished\n", n, total, finished);
    nt_generate_result_free(&greedy);
    nt_generate_result_free(&topk);
    nt_generate_result_free(&cold);
    nt_generate_result_free(&beam1);
}

/* ---- batch independence and row dropping --------------------------------------------- */

static void test_batch_independence(void) {
    const int n = 8;
    for (int mode = 0; mode < 3; mode++) {
        nt_generate_config g = nt_generate_config_default();
        g.max_new_tokens = 10;
        if (mode == 1) g.num_beams = 3, g.num_return_sequences = 2;
        if (mode == 2) g.do_sample = 1, g.top_p = 0.9f, g.num_return_sequences = 3, g.seed = 4;
        g.output_attentions = 1;
        tstep s;
        nt_generate_result all = run_hash(g, n, 11, 0.3f, &s);
        for (int i = 0; i < n; i++) {
            /* source i alone: a stepper whose only row is source i */
            tstep one;
            nt_generate_stepper st = make_stepper(&one, HASH, 12, 1, 11);
            one.eos_bias = 0.3f;
            one.src[0] = i;
            nt_generate_result r;
            CHECK(nt_generate_run(&st, &r, &g, 1, NULL) == NT_OK, "alone: %s", nt_errmsg());
            for (int k = 0; k < g.num_return_sequences; k++) {
                nt_generate_seq *a = nt_generate_result_get(&all, i, k), *b = nt_generate_result_get(&r, 0, k);
                CHECK(seq_eq(a, b), "mode %d source %d seq %d: alone differs from batched", mode, i, k);
                CHECK(a->score == b->score, "mode %d: score alone %g batched %g", mode, (double)b->score,
                      (double)a->score);
                /* attention rows follow the sequence's own prefixes */
                CHECK(a->attn && a->attn_rows == a->len + a->finished && a->attn_cols == 3, "attn shape");
                for (int t = 0; a->attn && t < a->attn_rows; t++) {
                    uint64_t h = prefix_hash(11, i, a->tokens, t);
                    CHECK(a->attn[t * 3 + 1] == (float)(h % 1000) + 1, "mode %d source %d: attention row %d",
                          mode, i, t);
                }
            }
            nt_generate_result_free(&r);
        }
        nt_generate_result_free(&all);
    }
}

/* Rows leave the batch when they finish: the stepper sees fewer rows. */
typedef struct count_step {
    tstep t;
    int rows_seen;
} count_step;

static nt_status count_step_fn(void *user, float *logits, float *attn, const int32_t *tokens,
                               int stride, int n, int t) {
    count_step *c = user;
    c->rows_seen += n;
    return tstep_step(&c->t, logits, attn, tokens, stride, n, t);
}

static nt_status count_select(void *user, const int *src_rows, int n_new) {
    return tstep_select(&((count_step *)user)->t, src_rows, n_new);
}

static void test_rows_drop(void) {
    count_step c;
    nt_generate_stepper st = make_stepper(&c.t, HASH, 12, 16, 3);
    c.t.eos_bias = 1.0f;
    c.rows_seen = 0;
    st.user = &c;
    st.step = count_step_fn;
    st.select = count_select;
    nt_generate_config g = nt_generate_config_default();
    g.max_new_tokens = 20;
    nt_generate_result r;
    CHECK(nt_generate_run(&st, &r, &g, 16, NULL) == NT_OK, "run: %s", nt_errmsg());
    int steps = 0, longest = 0;
    for (int i = 0; i < 16; i++) {
        steps += r.seqs[i].len + r.seqs[i].finished;
        if (r.seqs[i].len + r.seqs[i].finished > longest) longest = r.seqs[i].len + r.seqs[i].finished;
    }
    CHECK(c.rows_seen == steps, "row-steps computed %d == tokens produced %d (finished rows drop)",
          c.rows_seen, steps);
    CHECK(steps < 16 * longest, "some rows finished early (%d < %d)", steps, 16 * longest);
    nt_generate_result_free(&r);

    /* per-source caps (the model's max_len) */
    st = make_stepper(&c.t, HASH, 12, 3, 3);
    c.t.eos_bias = -50; /* never stops by itself */
    CHECK(nt_generate_run(&st, &r, &g, 3, (int[]){2, 7, 100}) == NT_OK, "caps: %s", nt_errmsg());
    CHECK(r.seqs[0].len == 2 && r.seqs[1].len == 7 && r.seqs[2].len == 20, "caps %d %d %d",
          r.seqs[0].len, r.seqs[1].len, r.seqs[2].len);
    CHECK(!r.seqs[0].finished && !r.seqs[2].finished, "cut, not finished");
    nt_generate_result_free(&r);
}

/* ---- sampling --------------------------------------------------------------------------- */

static void test_seeds(void) {
    nt_generate_config g = nt_generate_config_default();
    g.do_sample = 1;
    g.max_new_tokens = 15;
    g.num_return_sequences = 2;
    g.seed = 123;
    tstep s;
    nt_generate_result a = run_hash(g, 6, 8, 0, &s), b = run_hash(g, 6, 8, 0, &s);
    g.seed = 124;
    nt_generate_result c = run_hash(g, 6, 8, 0, &s);
    int same_ab = 1, same_ac = 1, same_draws = 1;
    for (int k = 0; k < 12; k++) {
        same_ab &= seq_eq(&a.seqs[k], &b.seqs[k]);
        same_ac &= seq_eq(&a.seqs[k], &c.seqs[k]);
    }
    for (int i = 0; i < 6; i++) same_draws &= seq_eq(&a.seqs[2 * i], &a.seqs[2 * i + 1]);
    CHECK(same_ab, "same seed, same samples");
    CHECK(!same_ac, "another seed, other samples");
    CHECK(!same_draws, "the draws of one source differ");
    nt_generate_result_free(&a);
    nt_generate_result_free(&b);
    nt_generate_result_free(&c);
}

/* Chi-square of counts against probabilities; df = number of nonzero cells - 1. */
static double chi_square(const int *count, const double *p, int V, int n) {
    double x2 = 0;
    for (int v = 0; v < V; v++) {
        if (p[v] == 0) {
            CHECK(count[v] == 0, "token %d has probability 0 but was drawn %d times", v, count[v]);
            continue;
        }
        double e = n * p[v];
        x2 += (count[v] - e) * (count[v] - e) / e;
    }
    return x2;
}

static void softmax_d(const float *x, double *p, int V) {
    double lse = nt_sampling_logsumexp(x, V);
    for (int v = 0; v < V; v++) p[v] = exp((double)x[v] - lse);
}

static void test_chi_square(void) {
    const float logits[7] = {-INFINITY, -1.0f, 0.5f, 1.2f, -0.3f, 0.0f, 2.0f};
    const int V = 7, N = 20000;
    double p[7];
    int count[7];
    /* 1. the sampler alone, plain softmax; df 5, 99.9% quantile 20.52 */
    softmax_d(logits, p, V);
    nt_rng rng;
    nt_rng_seed(&rng, 2024);
    memset(count, 0, sizeof count);
    for (int k = 0; k < N; k++) count[nt_sampling_draw(logits, V, nt_rng_uniform_double(&rng))]++;
    double x2 = chi_square(count, p, V, N);
    printf("chi-square softmax: %.2f (df 5)\n", x2);
    CHECK(x2 < 20.52, "chi-square %.2f >= 20.52", x2);

    /* 2. through the loop: 20,000 one-token draws with temperature 0.7 and top-k 4
     * (the <eos> token 2 is among the 4 kept, so every draw ends the row) */
    float warped[7];
    memcpy(warped, logits, sizeof warped);
    nt_sampling_temperature(warped, V, 0.7f);
    double scratch[16];
    nt_sampling_top_k(warped, V, 4, scratch);
    softmax_d(warped, p, V);
    int kept = 0;
    for (int v = 0; v < V; v++) kept += p[v] > 0;
    CHECK(kept == 4, "top-k 4 keeps 4 (%d)", kept);
    tstep s;
    nt_generate_stepper st = make_stepper(&s, FIXED, V, 1, 0);
    s.fixed = logits;
    nt_generate_config g = nt_generate_config_default();
    g.do_sample = 1;
    g.temperature = 0.7f;
    g.top_k = 4;
    g.max_new_tokens = 1;
    g.num_return_sequences = N;
    g.seed = 7;
    nt_generate_result r;
    CHECK(nt_generate_run(&st, &r, &g, 1, NULL) == NT_OK, "run: %s", nt_errmsg());
    memset(count, 0, sizeof count);
    for (int k = 0; k < N; k++) {
        nt_generate_seq *o = nt_generate_result_get(&r, 0, k);
        count[o->finished ? NT_GEN_EOS : o->tokens[0]]++;
    }
    x2 = chi_square(count, p, V, N);
    printf("chi-square temperature 0.7, top-k 4: %.2f (df 3)\n", x2);
    CHECK(x2 < 16.27, "chi-square %.2f >= 16.27 (df 3, 99.9%%)", x2);
    CHECK(s.steps == 1, "one step computed for all draws of a source (%d)", s.steps);
    nt_generate_result_free(&r);

    /* 3. top-p 0.8 through the loop: the kept set renormalised */
    memcpy(warped, logits, sizeof warped);
    nt_sampling_top_p(warped, V, 0.8f, scratch);
    softmax_d(warped, p, V);
    g.temperature = 1;
    g.top_k = 0;
    g.top_p = 0.8f;
    st = make_stepper(&s, FIXED, V, 1, 0);
    s.fixed = logits;
    CHECK(nt_generate_run(&st, &r, &g, 1, NULL) == NT_OK, "run: %s", nt_errmsg());
    memset(count, 0, sizeof count);
    for (int k = 0; k < N; k++) {
        nt_generate_seq *o = nt_generate_result_get(&r, 0, k);
        count[o->finished ? NT_GEN_EOS : o->tokens[0]]++;
    }
    kept = 0;
    for (int v = 0; v < V; v++) kept += p[v] > 0;
    x2 = chi_square(count, p, V, N);
    printf("chi-square top-p 0.8: %.2f (df %d)\n", x2, kept - 1);
    CHECK(kept == 3 && x2 < 16.27, "top-p: %d kept, chi-square %.2f", kept, x2);
    nt_generate_result_free(&r);
}

/* ---- processors ------------------------------------------------------------------------ */

static int kept_mask(const float *x, int V) {
    int m = 0;
    for (int v = 0; v < V; v++)
        if (x[v] != -INFINITY) m |= 1 << v;
    return m;
}

static void test_top_p(void) {
    const double probs[5] = {0.1, 0.4, 0.2, 0.3, 0.0};
    float x[5];
    double scratch[16];
    struct { float p; int mask; } cases[] = {
        {0.05f, 1 << 1}, {0.4f, 1 << 1}, {0.41f, 1 << 1 | 1 << 3}, {0.7f, 1 << 1 | 1 << 3},
        {0.71f, 1 << 1 | 1 << 3 | 1 << 2}, {0.9f, 1 << 1 | 1 << 3 | 1 << 2},
        {0.95f, 0xf}, {1.0f, 0x1f},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        for (int v = 0; v < 5; v++) x[v] = probs[v] > 0 ? logf((float)probs[v]) : -INFINITY;
        if (cases[c].p == 1.0f) x[4] = -30; /* p = 1 keeps everything, even the tiny ones */
        nt_sampling_top_p(x, 5, cases[c].p, scratch);
        int want = cases[c].mask;
        if (cases[c].p < 1.0f) want &= 0xf;
        CHECK(kept_mask(x, 5) == want, "top_p %g keeps mask %#x, expected %#x", (double)cases[c].p,
              kept_mask(x, 5), want);
    }
    /* random logits: the kept set is the smallest most-probable set of mass >= p */
    nt_rng rng;
    nt_rng_seed(&rng, 5);
    for (int trial = 0; trial < 200; trial++) {
        float y[20], orig[20];
        double sc[40];
        for (int v = 0; v < 20; v++) orig[v] = y[v] = 2 * nt_rng_normal(&rng);
        float p = 0.05f + 0.9f * nt_rng_uniform(&rng);
        nt_sampling_top_p(y, 20, p, sc);
        double pr[20], kept_mass = 0, min_kept = 1, max_dropped = 0;
        softmax_d(orig, pr, 20);
        int nk = 0;
        for (int v = 0; v < 20; v++) {
            if (y[v] != -INFINITY) {
                CHECK(y[v] == orig[v], "kept logits unchanged");
                kept_mass += pr[v];
                nk++;
                if (pr[v] < min_kept) min_kept = pr[v];
            } else if (pr[v] > max_dropped) {
                max_dropped = pr[v];
            }
        }
        CHECK(min_kept >= max_dropped, "trial %d: the most probable tokens are kept", trial);
        CHECK(kept_mass >= p - 1e-6, "trial %d: kept mass %g reaches p %g", trial, kept_mass, (double)p);
        CHECK(kept_mass - min_kept < p, "trial %d: smallest such set (%d kept)", trial, nk);
    }
}

static void test_processors(void) {
    float x[8] = {1, 2, -1, 4, 0.5f, -2, 3, 0};
    double scratch[16];
    /* top-k: ties go to the lower id */
    float t[8] = {1, 3, 3, 0, 3, -1, 2, 3};
    nt_sampling_top_k(t, 8, 2, scratch);
    CHECK(kept_mask(t, 8) == (1 << 1 | 1 << 2), "top-k ties: %#x", kept_mask(t, 8));
    CHECK(nt_sampling_argmax((float[]){1, 3, 3}, 3) == 1, "argmax: first max");
    CHECK(nt_sampling_argmax((float[]){-INFINITY, -INFINITY}, 2) == -1, "argmax: all -inf");
    CHECK(nt_sampling_draw((float[]){-INFINITY, -INFINITY}, 2, 0.5) == -1, "sample: all -inf");
    CHECK(nt_sampling_draw((float[]){-INFINITY, 0, -INFINITY}, 3, 0.999999) == 1, "sample: only one");
    /* repetition penalty: positive / p, negative * p, each distinct token once */
    nt_sampling_repetition_penalty(x, 8, (int32_t[]){1, 2, 1, 1, 7}, 5, 2.0f);
    CHECK(x[1] == 1.0f && x[2] == -2.0f && x[7] == 0.0f && x[3] == 4.0f, "repetition penalty: %g %g %g",
          (double)x[1], (double)x[2], (double)x[7]);
    /* no-repeat 3-grams: seq 5 6 7 5 6 -> token 7 banned; 2-grams: after 6 -> 7 banned */
    for (int v = 0; v < 8; v++) x[v] = 0;
    int32_t seq[] = {5, 6, 7, 5, 6};
    nt_sampling_no_repeat_ngram(x, 8, seq, 5, 3);
    CHECK(kept_mask(x, 8) == (0xff & ~(1 << 7)), "3-gram ban: %#x", kept_mask(x, 8));
    for (int v = 0; v < 8; v++) x[v] = 0;
    nt_sampling_no_repeat_ngram(x, 8, (int32_t[]){5, 6, 5, 7, 5}, 5, 2);
    CHECK(kept_mask(x, 8) == (0xff & ~(1 << 6 | 1 << 7)), "2-gram ban: %#x", kept_mask(x, 8));
    for (int v = 0; v < 8; v++) x[v] = 0;
    nt_sampling_no_repeat_ngram(x, 8, (int32_t[]){5, 6, 5}, 3, 1);
    CHECK(kept_mask(x, 8) == (0xff & ~(1 << 5 | 1 << 6)), "1-gram ban: %#x", kept_mask(x, 8));

    /* through the loop: no 2-gram repeats, and a repetition penalty changes the output */
    nt_generate_config g = nt_generate_config_default();
    g.max_new_tokens = 30;
    tstep s;
    nt_generate_result plain = run_hash(g, 5, 21, -50, &s);
    g.no_repeat_ngram_size = 2;
    nt_generate_result ban = run_hash(g, 5, 21, -50, &s);
    int repeats_plain = 0;
    for (int i = 0; i < 5; i++) {
        const nt_generate_seq *o = &ban.seqs[i], *q = &plain.seqs[i];
        for (int a = 0; a + 1 < o->len; a++)
            for (int b = a + 1; b + 1 < o->len; b++)
                CHECK(!(o->tokens[a] == o->tokens[b] && o->tokens[a + 1] == o->tokens[b + 1]),
                      "source %d: 2-gram at %d repeated at %d", i, a, b);
        for (int a = 0; a + 1 < q->len; a++)
            for (int b = a + 1; b + 1 < q->len; b++)
                repeats_plain += q->tokens[a] == q->tokens[b] && q->tokens[a + 1] == q->tokens[b + 1];
    }
    CHECK(repeats_plain > 0, "without the ban, greedy repeats itself (%d)", repeats_plain);
    g.no_repeat_ngram_size = 0;
    g.repetition_penalty = 5.0f;
    nt_generate_result pen = run_hash(g, 5, 21, -50, &s);
    int distinct_plain = 0, distinct_pen = 0;
    for (int i = 0; i < 5; i++) {
        int seen_a[16] = {0}, seen_b[16] = {0};
        /* the first 9 tokens (9 are allowed): distinct ones */
        for (int k = 0; k < 9; k++) distinct_plain += !seen_a[plain.seqs[i].tokens[k]]++;
        for (int k = 0; k < 9; k++) distinct_pen += !seen_b[pen.seqs[i].tokens[k]]++;
    }
    CHECK(distinct_pen > distinct_plain, "repetition penalty: %d distinct tokens vs %d", distinct_pen,
          distinct_plain);
    nt_generate_result_free(&plain);
    nt_generate_result_free(&ban);
    nt_generate_result_free(&pen);
}

/* ---- errors ---------------------------------------------------------------------------- */

static void expect_err(nt_generate_config g, const char *needle) {
    tstep s;
    nt_generate_stepper st = make_stepper(&s, HASH, 12, 1, 0);
    nt_generate_result r;
    r.n_sources = 99;
    nt_status rc = nt_generate_run(&st, &r, &g, 1, NULL);
    CHECK(rc == NT_ERR_ARG, "%s: status %s", needle, nt_status_name(rc));
    CHECK(strstr(nt_errmsg(), needle) != NULL, "message \"%s\" lacks \"%s\"", nt_errmsg(), needle);
    CHECK(r.n_sources == 0 && r.seqs == NULL, "result zeroed on error");
}

static void test_errors(void) {
    nt_generate_config d = nt_generate_config_default(), g;
    g = d, g.num_beams = 0, expect_err(g, "num_beams 0");
    g = d, g.num_beams = -3, expect_err(g, "num_beams -3");
    g = d, g.top_p = 0, expect_err(g, "top_p 0 outside (0, 1]");
    g = d, g.top_p = 1.5f, expect_err(g, "top_p 1.5 outside (0, 1]");
    g = d, g.top_p = NAN, expect_err(g, "top_p");
    g = d, g.temperature = 0, expect_err(g, "temperature 0");
    g = d, g.top_k = -1, expect_err(g, "top_k -1");
    g = d, g.max_new_tokens = 0, expect_err(g, "max_new_tokens 0");
    g = d, g.repetition_penalty = 0, expect_err(g, "repetition_penalty 0");
    g = d, g.no_repeat_ngram_size = -1, expect_err(g, "no_repeat_ngram_size -1");
    g = d, g.num_return_sequences = 2, expect_err(g, "num_return_sequences 2 with greedy");
    g = d, g.num_beams = 2, g.num_return_sequences = 3, expect_err(g, "num_return_sequences 3 exceeds num_beams 2");
    g = d, g.num_beams = 2, g.do_sample = 1, expect_err(g, "do_sample with num_beams 2");
    g = d, g.length_penalty = INFINITY, expect_err(g, "length_penalty");
    CHECK(nt_generate_config_check(&d) == NT_OK, "defaults valid");

    /* a failing step: its status comes back, nothing leaks, result zeroed */
    tstep s;
    nt_generate_stepper st = make_stepper(&s, HASH, 12, 4, 0);
    s.fail_at = 3;
    s.eos_bias = -50;
    d.output_attentions = 1;
    nt_generate_result r;
    for (int beams = 1; beams <= 3; beams += 2) {
        d.num_beams = beams;
        st = make_stepper(&s, HASH, 12, 4, 0);
        s.fail_at = 3;
        s.eos_bias = -50;
        nt_status rc = nt_generate_run(&st, &r, &d, 4, NULL);
        CHECK(rc == NT_ERR_NUMERIC, "step failure propagates (%s)", nt_status_name(rc));
        CHECK(strstr(nt_errmsg(), "step 3") && strstr(nt_errmsg(), "on purpose"), "msg: %s", nt_errmsg());
        CHECK(r.seqs == NULL, "no result on error");
    }
    CHECK(nt_generate_run(NULL, &r, &d, 1, NULL) == NT_ERR_ARG, "NULL stepper");
    CHECK(nt_generate_run(&st, &r, &d, 0, NULL) == NT_ERR_ARG, "0 sources");
    CHECK(strstr(nt_errmsg(), "0 sources"), "msg: %s", nt_errmsg());

    /* out of memory: every allocation of the loop fails in turn, cleanly */
    d = nt_generate_config_default();
    d.num_beams = 2;
    d.output_attentions = 1;
    int nomem = 0;
    for (uint64_t k = 1; k < 60; k++) {
        st = make_stepper(&s, HASH, 12, 3, 0);
        nt_alloc_fail_after(k);
        nt_status rc = nt_generate_run(&st, &r, &d, 3, NULL);
        nt_alloc_fail_after(0);
        if (rc == NT_OK) {
            nt_generate_result_free(&r);
            break;
        }
        nomem++;
        CHECK(rc == NT_ERR_NOMEM && r.seqs == NULL, "alloc %llu: %s", (unsigned long long)k, nt_status_name(rc));
    }
    CHECK(nomem > 20, "out-of-memory paths exercised (%d)", nomem);
}

int main(void) {
    test_tree();
    test_exhaustive();
    test_nbest_finished_first();
    test_equal_greedy();
    test_batch_independence();
    test_rows_drop();
    test_seeds();
    test_chi_square();
    test_top_p();
    test_processors();
    test_errors();
    return nt_check_report("test_generate");
}
