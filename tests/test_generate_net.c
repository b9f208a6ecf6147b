/* test_generate_net.c - nt_generate is the same for every model: a tiny
 * model that is not the transformer (a bigram table with next_logits and a
 * context of its own) streams its tokens (on_token, in order, with the
 * logits they were chosen from), never emits suppressed ids, follows its
 * decode_plan (batches, errors named by the caller's index, outputs
 * independent of the split), slides its window past max_len
 * (context_keep: exactly the last tokens, cropped and recomputed), and
 * numbers sampled draws so that one call of K samples equals K calls
 * (first_sequence). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/generate.h"
#include "support/check.h"

enum { V = 12, CTX = 6 };

/* next token = table[last token]: logits peaked at (last + 1) mod V, and a
 * high logit for id 7 after every token (what suppress_tokens must stop). */
typedef struct bigram {
    nt_net net;
    float table[V][V];
    int plan_take;          /* decode_plan: sources per stepper (0: no decode_plan) */
    int plan_calls, max_seen, longest_prompt_ok;
    int32_t last_seq[64];   /* the last sequence next_logits saw for row 0 */
    int last_len;
} bigram;

static nt_status bigram_next(nt_net *net, nt_ctx *ctx, const int32_t *const *seq, const int *len, int n,
                             float *logits) {
    bigram *b = (bigram *)net;
    for (int r = 0; r < n; r++) {
        if (len[r] > b->max_seen) b->max_seen = len[r];
        int32_t last = seq[r][len[r] - 1];
        memcpy(logits + (size_t)r * V, b->table[last], sizeof b->table[last]);
        /* a context effect: the sum of the window shifts the peak, so the
         * window's content shows in the output */
        int sum = 0;
        for (int k = 0; k < len[r]; k++) sum += seq[r][k];
        logits[(size_t)r * V + 5 + sum % 4] += 1.5f;
    }
    b->last_len = len[0] < 64 ? len[0] : 64;
    memcpy(b->last_seq, seq[0], (size_t)b->last_len * sizeof *seq[0]);
    return NT_OK;
}

static nt_status bigram_plan(nt_net *net, const nt_generate_config *cfg, const int32_t *const *src,
                             const int *src_len, int n, int *take) {
    bigram *b = (bigram *)net;
    b->plan_calls++;
    for (int i = 0; i < n; i++)
        if (src_len[i] > 9) return nt_error(NT_ERR_ARG, "bigram: source %d: %d tokens, at most 9", i, src_len[i]);
    *take = n < b->plan_take ? n : b->plan_take;
    return NT_OK;
}

static nt_status bigram_config(const nt_net *net, nt_attrs *a) { return NT_OK; }
static void bigram_free(nt_net *net) {}

static const nt_net_ops BIGRAM = {.arch = "bigram", .config = bigram_config, .free = bigram_free,
                                  .next_logits = bigram_next};
static const nt_net_ops BIGRAM_PLAN = {.arch = "bigram", .config = bigram_config, .free = bigram_free,
                                       .next_logits = bigram_next, .decode_plan = bigram_plan};

static void bigram_init(bigram *b, int max_len, int plan_take) {
    memset(b, 0, sizeof *b);
    b->net = (nt_net){.ops = plan_take ? &BIGRAM_PLAN : &BIGRAM, .vocab_size = V, .max_len = max_len};
    b->plan_take = plan_take;
    for (int a = 0; a < V; a++)
        for (int c = 0; c < V; c++) b->table[a][c] = c == (a + 1) % V ? 3.0f : c == 7 ? 4.0f : 0.1f * (float)((a * 7 + c * 3) % 5);
    b->table[3][NT_GEN_EOS] = 6.0f; /* after 3: <eos> */
}

/* ---- streaming ------------------------------------------------------------------- */

typedef struct heard {
    int n, source[256], seq[256];
    int32_t tok[256];
    int argmax_ok;
    int stop_after; /* > 0: fail at this call */
} heard;

static nt_status listen(void *user, int source, int sequence, int32_t token, const float *logits) {
    heard *h = user;
    if (h->n < 256) h->source[h->n] = source, h->seq[h->n] = sequence, h->tok[h->n] = token;
    h->n++;
    int best = 0;
    for (int v = 1; v < V; v++)
        if (logits[v] > logits[best]) best = v;
    h->argmax_ok &= best == token;
    if (h->stop_after && h->n == h->stop_after) return nt_error(NT_ERR_IO, "listener: disk full");
    return NT_OK;
}

static void test_stream_and_suppress(void) {
    bigram b;
    bigram_init(&b, 0, 0);
    nt_ctx *ctx;
    CHECK(nt_ctx_new(&ctx, 0) == NT_OK, "ctx");
    int32_t s0[] = {5, 6}, s1[] = {9};
    const int32_t *src[] = {s0, s1};
    int len[] = {2, 1};
    nt_generate_config g = nt_generate_config_default();
    g.max_new_tokens = 10;
    nt_generate_result r;
    /* unsuppressed: id 7 wins everywhere it is not the peak */
    CHECK(nt_generate(&b.net, ctx, &r, &g, src, len, 2) == NT_OK, "generate: %s", nt_errmsg());
    int sevens = 0;
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < r.seqs[i].len; k++) sevens += r.seqs[i].tokens[k] == 7;
    CHECK(sevens > 0, "without suppression the table emits 7");
    nt_generate_result_free(&r);

    int32_t ban[] = {7, 3};
    heard h = {.argmax_ok = 1};
    g.suppress_tokens = ban, g.n_suppress_tokens = 2;
    g.on_token = listen, g.on_token_user = &h;
    CHECK(nt_generate(&b.net, ctx, &r, &g, src, len, 2) == NT_OK, "generate: %s", nt_errmsg());
    int banned = 0, total = 0;
    for (int i = 0; i < 2; i++) {
        total += r.seqs[i].len;
        for (int k = 0; k < r.seqs[i].len; k++) banned += r.seqs[i].tokens[k] == 7 || r.seqs[i].tokens[k] == 3;
    }
    CHECK(banned == 0, "%d suppressed ids emitted", banned);
    /* the stream is the outputs, token by token in step order (row 0, row 1, ...) */
    CHECK(h.n == total, "streamed %d tokens of %d", h.n, total);
    int pos[2] = {0, 0}, in_order = 1;
    for (int k = 0; k < h.n && k < 256; k++) {
        int i = h.source[k];
        in_order &= h.seq[k] == 0 && i >= 0 && i < 2 && pos[i] < r.seqs[i].len && r.seqs[i].tokens[pos[i]] == h.tok[k];
        if (i >= 0 && i < 2) pos[i]++;
    }
    CHECK(in_order, "the stream is not the outputs in order");
    CHECK(h.argmax_ok, "greedy: each streamed token is the argmax of the logits handed with it");
    nt_generate_result_free(&r);

    /* a listener's error stops generation and comes back, wrapped */
    heard h2 = {.argmax_ok = 1, .stop_after = 3};
    g.on_token_user = &h2;
    CHECK(nt_generate(&b.net, ctx, &r, &g, src, len, 2) == NT_ERR_IO && strstr(nt_errmsg(), "disk full") &&
              h2.n == 3 && r.seqs == NULL,
          "listener error: %s (%d calls)", nt_errmsg(), h2.n);
    /* streaming beam search is refused; a suppressed id out of range too */
    g.num_beams = 2;
    CHECK(nt_generate(&b.net, ctx, &r, &g, src, len, 2) == NT_ERR_ARG && strstr(nt_errmsg(), "on_token"),
          "beam + on_token: %s", nt_errmsg());
    g.num_beams = 1, g.on_token = NULL;
    int32_t bad[] = {V};
    g.suppress_tokens = bad, g.n_suppress_tokens = 1;
    CHECK(nt_generate(&b.net, ctx, &r, &g, src, len, 2) == NT_ERR_ARG && strstr(nt_errmsg(), "suppress_tokens[0]"),
          "suppress id V: %s", nt_errmsg());
    nt_ctx_free(ctx);
}

/* ---- decode_plan ------------------------------------------------------------------ */

static void test_plan(void) {
    bigram all, one;
    bigram_init(&all, 0, 0);
    bigram_init(&one, 0, 2); /* two sources per stepper */
    nt_ctx *ctx;
    CHECK(nt_ctx_new(&ctx, 0) == NT_OK, "ctx");
    int32_t ids[5][3] = {{5, 6, 1}, {9, 2, 2}, {4}, {8, 8, 8}, {10, 11}};
    int len[5] = {3, 3, 1, 3, 2};
    const int32_t *src[5] = {ids[0], ids[1], ids[2], ids[3], ids[4]};
    nt_generate_config g = nt_generate_config_default();
    g.do_sample = 1, g.num_return_sequences = 2, g.seed = 3, g.max_new_tokens = 8;
    heard h = {.argmax_ok = 1};
    g.on_token = listen, g.on_token_user = &h;
    nt_generate_result a, b;
    CHECK(nt_generate(&all.net, ctx, &a, &g, src, len, 5) == NT_OK, "all: %s", nt_errmsg());
    int streamed_all = h.n;
    h.n = 0;
    CHECK(nt_generate(&one.net, ctx, &b, &g, src, len, 5) == NT_OK, "planned: %s", nt_errmsg());
    CHECK(one.plan_calls == 3, "decode_plan asked %d times for 5 sources in batches of 2", one.plan_calls);
    int same = a.seqs && b.seqs;
    for (int k = 0; same && k < 10; k++)
        same = a.seqs[k].len == b.seqs[k].len && a.seqs[k].score == b.seqs[k].score &&
               memcmp(a.seqs[k].tokens, b.seqs[k].tokens, (size_t)a.seqs[k].len * 4) == 0;
    CHECK(same, "outputs depend on the batches");
    /* the stream names sources by the caller's index, batches or not */
    int max_src = 0;
    for (int k = 0; k < h.n && k < 256; k++) max_src = h.source[k] > max_src ? h.source[k] : max_src;
    CHECK(h.n == streamed_all && max_src == 4, "streamed %d of %d, last source %d", h.n, streamed_all, max_src);
    nt_generate_result_free(&a), nt_generate_result_free(&b);
    /* the plan's error names the source by the caller's index */
    int32_t long_src[10] = {5, 5, 5, 5, 5, 5, 5, 5, 5, 5};
    src[3] = long_src, len[3] = 10;
    CHECK(nt_generate(&one.net, ctx, &b, &g, src, len, 5) == NT_ERR_ARG && strstr(nt_errmsg(), "source 3"),
          "plan error: %s", nt_errmsg());
    nt_ctx_free(ctx);
}

/* ---- sliding window --------------------------------------------------------------- */

static void test_window(void) {
    bigram b;
    bigram_init(&b, CTX, 0);
    nt_ctx *ctx;
    CHECK(nt_ctx_new(&ctx, 0) == NT_OK, "ctx");
    int32_t p[] = {5, 6, 8, 9, 10, 11, 5, 6, 8}; /* 9 tokens: longer than the context */
    const int32_t *src[] = {p};
    int len[] = {9};
    nt_generate_config g = nt_generate_config_default();
    g.max_new_tokens = 20, g.raw_prompt = 1;
    int32_t ban[] = {NT_GEN_EOS, 7};
    g.suppress_tokens = ban, g.n_suppress_tokens = 2;
    nt_generate_result r;
    /* without a window: the prompt does not fit */
    CHECK(nt_generate(&b.net, ctx, &r, &g, src, len, 1) == NT_ERR_ARG && strstr(nt_errmsg(), "max_len"),
          "no window: %s", nt_errmsg());
    g.context_keep = CTX + 1;
    CHECK(nt_generate(&b.net, ctx, &r, &g, src, len, 1) == NT_ERR_ARG && strstr(nt_errmsg(), "context_keep"),
          "keep > max_len: %s", nt_errmsg());
    for (int keep = 1; keep <= CTX; keep++) {
        g.context_keep = keep;
        b.max_seen = 0;
        CHECK(nt_generate(&b.net, ctx, &r, &g, src, len, 1) == NT_OK, "keep %d: %s", keep, nt_errmsg());
        CHECK(r.seqs[0].len == 20, "keep %d: %d tokens, the window slides to max_new_tokens", keep, r.seqs[0].len);
        CHECK(b.max_seen <= CTX, "keep %d: the model saw %d tokens, its context is %d", keep, b.max_seen, CTX);
        /* the reference: the window by hand, the same table */
        int32_t full[64];
        memcpy(full, p, sizeof p);
        int n = 9, start = 0, ok = 1;
        for (int k = 0; k < 20; k++) {
            if (n - start > CTX) start = n - (n > keep ? keep : n);
            const int32_t *w = full + start;
            int wl = n - start;
            float lg[V];
            nt_status s = bigram_next(&b.net, ctx, &w, &wl, 1, lg);
            lg[NT_GEN_EOS] = lg[7] = -INFINITY;
            int best = 0;
            for (int v = 1; v < V; v++)
                if (lg[v] > lg[best]) best = v;
            ok &= s == NT_OK && r.seqs[0].tokens[k] == best;
            full[n++] = best;
        }
        CHECK(ok, "keep %d: the output is not the hand-made window's", keep);
        nt_generate_result_free(&r);
    }
    CHECK(nt_generate_window_start(7, 0, 6, 6) == 1 && nt_generate_window_start(7, 0, 6, 2) == 5 &&
              nt_generate_window_start(8, 5, 6, 2) == 5 && nt_generate_window_start(12, 5, 6, 2) == 10 &&
              nt_generate_window_start(100, 0, 6, 0) == 0,
          "nt_generate_window_start");
    nt_ctx_free(ctx);
}

/* ---- samples one call at a time ------------------------------------------------------ */

static void test_first_sequence(void) {
    bigram b;
    bigram_init(&b, 0, 0);
    nt_ctx *ctx;
    CHECK(nt_ctx_new(&ctx, 0) == NT_OK, "ctx");
    int32_t p[] = {5, 6};
    const int32_t *src[] = {p};
    int len[] = {2};
    nt_generate_config g = nt_generate_config_default();
    g.do_sample = 1, g.temperature = 2.0f, g.seed = 11, g.max_new_tokens = 12, g.num_return_sequences = 3;
    nt_generate_result all, one;
    CHECK(nt_generate(&b.net, ctx, &all, &g, src, len, 1) == NT_OK, "3 draws: %s", nt_errmsg());
    g.num_return_sequences = 1;
    int same = 1, differ = 0;
    for (int j = 0; j < 3; j++) {
        g.first_sequence = j;
        CHECK(nt_generate(&b.net, ctx, &one, &g, src, len, 1) == NT_OK, "draw %d: %s", j, nt_errmsg());
        same &= one.seqs[0].len == all.seqs[j].len &&
                memcmp(one.seqs[0].tokens, all.seqs[j].tokens, (size_t)one.seqs[0].len * 4) == 0;
        differ += j > 0 && (all.seqs[j].len != all.seqs[0].len ||
                            memcmp(all.seqs[j].tokens, all.seqs[0].tokens, (size_t)all.seqs[0].len * 4) != 0);
        nt_generate_result_free(&one);
    }
    CHECK(same, "draw j of one call != the call with first_sequence j");
    CHECK(differ > 0, "the draws are all the same");
    nt_generate_result_free(&all);
    nt_ctx_free(ctx);
}

int main(void) {
    test_stream_and_suppress();
    test_plan();
    test_window();
    test_first_sequence();
    return nt_check_report("test_generate_net");
}
