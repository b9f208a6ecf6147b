/* test_batcher.c - coverage per epoch, layouts, caps, randomness of buckets,
 * determinism, exact resume from a cursor, no allocation in steady state. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "data/batcher.h"
#include "data/number_corpus.h"
#include "support/check.h"

enum { N = 600, MAXB = 4096 };

static char src_s[N][NT_NUMBER_CORPUS_MAX_TEXT], tgt_s[N][NT_NUMBER_CORPUS_MAX_TEXT];
static nt_corpus *corpus;
static nt_vocab *vocab;

static void make_corpus(void) {
    nt_number_corpus_split_config sc;
    nt_number_corpus_split_config_default(&sc);
    sc.n_train = N; sc.n_valid = 0; sc.n_test = 0; sc.seed = 3;
    int nums[N];
    CHECK(nt_number_corpus_split_numbers(&sc, nums, NULL, NULL) == NT_OK, "numbers");
    const char *s[N], *t[N];
    for (int i = 0; i < N; i++) {
        nt_number_corpus_render(NT_NUMBER_FORM_DIGITS, nums[i], src_s[i], sizeof src_s[i]);
        nt_number_corpus_render(NT_NUMBER_FORM_FR, nums[i], tgt_s[i], sizeof tgt_s[i]);
        s[i] = src_s[i];
        t[i] = tgt_s[i];
    }
    const char *all[2 * N];
    memcpy(all, s, sizeof s);
    memcpy(all + N, t, sizeof t);
    CHECK(nt_vocab_build(&vocab, NT_TOKENIZER_CHAR, all, 2 * N, 1) == NT_OK, "vocab");
    CHECK(nt_corpus_from_pairs(&corpus, s, t, N, vocab) == NT_OK, "corpus: %s", nt_errmsg());
    CHECK(corpus && corpus->n == N && corpus->n_unk == 0 && strcmp(corpus->tgt_text[5], tgt_s[5]) == 0, "corpus");
}

/* Checks one batch's layout against the corpus. */
static void check_batch(const nt_batch *bt, const nt_batcher_config *cfg) {
    const nt_corpus *c = corpus;
    int64_t ns_sum = 0, nt_sum = 0;
    for (int r = 0; r < bt->B; r++) {
        int i = bt->index[r];
        const int32_t *sid = c->ids + c->src_off[i], *tid = c->ids + c->tgt_off[i];
        int ns = c->src_len[i], nt = c->tgt_len[i];
        const int32_t *ti = bt->tgt_in + (size_t)r * bt->T, *lb = bt->labels + (size_t)r * bt->T;
        const int32_t *tm = bt->tgt_mask + (size_t)r * bt->T;
        ns_sum += ns + 1;
        nt_sum += nt + 1;
        int bad = 0;
        if (cfg->layout == NT_BATCHER_LAYOUT_ENCDEC) {
            const int32_t *s = bt->src + (size_t)r * bt->S, *sm = bt->src_mask + (size_t)r * bt->S;
            for (int t = 0; t < bt->S; t++) {
                int32_t want = t < ns ? sid[t] : t == ns ? NT_TOK_EOS : NT_TOK_PAD;
                bad += s[t] != want || sm[t] != (t <= ns);
            }
            for (int t = 0; t < bt->T; t++) {
                int32_t wi = t == 0 ? NT_TOK_BOS : t <= nt ? tid[t - 1] : NT_TOK_PAD;
                int32_t wl = t < nt ? tid[t] : t == nt ? NT_TOK_EOS : NT_TOK_PAD;
                bad += ti[t] != wi || lb[t] != wl || tm[t] != (t <= nt);
            }
        } else {
            int32_t seq[512];
            int L = 0;
            seq[L++] = NT_TOK_BOS;
            for (int k = 0; k < ns; k++) seq[L++] = sid[k];
            seq[L++] = NT_TOK_SEP;
            for (int k = 0; k < nt; k++) seq[L++] = tid[k];
            seq[L++] = NT_TOK_EOS;
            int p = bt->prompt_len[r];
            bad += p != ns + 2;
            for (int t = 0; t < bt->T; t++) {
                int32_t wi = t < L - 1 ? seq[t] : NT_TOK_PAD;
                int32_t wl = t < L - 1 && t >= p - 1 ? seq[t + 1] : NT_TOK_PAD;
                bad += ti[t] != wi || lb[t] != wl || tm[t] != (t < L - 1);
            }
            /* the <sep> position predicts the first target token */
            bad += ti[p - 1] != NT_TOK_SEP || lb[p - 1] != tid[0] || lb[p - 2] != NT_TOK_PAD;
        }
        CHECK(bad == 0, "layout %d row %d (pair %d): %d wrong cells", (int)cfg->layout, r, i, bad);
    }
    CHECK(bt->n_src_tokens == ns_sum && bt->n_tgt_tokens == nt_sum, "token counts");
    if (cfg->layout == NT_BATCHER_LAYOUT_DECODER) CHECK(bt->S == 0 && bt->src == NULL && bt->src_mask == NULL, "decoder: no src");
    else CHECK(bt->prompt_len == NULL, "encdec: no prompt_len");
    int len = bt->S > bt->T ? bt->S : bt->T;
    if (cfg->max_tokens && bt->B > 1) CHECK((int64_t)bt->B * len <= cfg->max_tokens, "token cap: %d x %d", bt->B, len);
    if (cfg->max_sentences) CHECK(bt->B <= cfg->max_sentences, "sentence cap %d", bt->B);
}

/* Runs one epoch: checks coverage, returns the batches' first indices in
 * `firsts` (for comparisons) and the number of batches. */
static int run_epoch(nt_batcher *b, const nt_batcher_config *cfg, int *firsts, int *contiguous, double *fill) {
    static int seen[N];
    memset(seen, 0, sizeof seen);
    nt_batch bt;
    int nb = 0;
    int64_t real = 0, padded = 0;
    int64_t e0, p0;
    nt_batcher_get_cursor(b, &e0, &p0);
    /* ranks in sorted (length, index) order, to spot runs of neighbours */
    static int rank[N];
    {
        static int key[N], ord[N];
        for (int i = 0; i < N; i++) {
            int s = corpus->src_len[i] + 1, t = corpus->tgt_len[i] + 1;
            key[i] = cfg->layout == NT_BATCHER_LAYOUT_ENCDEC ? (s > t ? s : t) : corpus->src_len[i] + corpus->tgt_len[i] + 2;
            ord[i] = i;
        }
        for (int i = 1; i < N; i++) { /* insertion sort by (key, index) */
            int v = ord[i], j = i - 1;
            while (j >= 0 && (key[ord[j]] > key[v] || (key[ord[j]] == key[v] && ord[j] > v))) { ord[j + 1] = ord[j]; j--; }
            ord[j + 1] = v;
        }
        for (int i = 0; i < N; i++) rank[ord[i]] = i;
    }
    *contiguous = 0;
    for (;;) {
        CHECK(nt_batcher_next(b, &bt) == NT_OK, "next");
        if (bt.B == 0) break;
        check_batch(&bt, cfg);
        int lo = N, hi = -1;
        for (int r = 0; r < bt.B; r++) {
            seen[bt.index[r]]++;
            if (rank[bt.index[r]] < lo) lo = rank[bt.index[r]];
            if (rank[bt.index[r]] > hi) hi = rank[bt.index[r]];
        }
        padded += (int64_t)bt.B * bt.T;
        for (int k = 0; k < bt.B * bt.T; k++) real += bt.tgt_mask[k];
        if (bt.B >= 3 && hi - lo + 1 == bt.B) (*contiguous)++;
        if (firsts) firsts[nb] = bt.index[0] * 1000 + bt.B;
        nb++;
        CHECK(nb <= N + 1, "runaway epoch");
        if (nb > N + 1) break;
    }
    int once = 0;
    for (int i = 0; i < N; i++) once += seen[i] == 1;
    CHECK(once == N, "every pair exactly once: %d of %d", once, N);
    int64_t e1, p1;
    nt_batcher_get_cursor(b, &e1, &p1);
    CHECK(e1 == e0 + 1 && p1 == 0, "epoch advanced: %lld,%lld", (long long)e1, (long long)p1);
    if (fill) *fill = (double)real / (double)padded;
    return nb;
}

static void test_epochs(void) {
    for (int layout = 0; layout < 2; layout++)
        for (int shuffle = 1; shuffle >= 0; shuffle--) {
            nt_batcher_config cfg = nt_batcher_config_default();
            cfg.layout = (nt_batcher_layout)layout;
            cfg.shuffle = shuffle;
            cfg.max_tokens = 400;
            cfg.max_sentences = 24;
            cfg.seed = 11;
            nt_batcher *b, *b2;
            CHECK(nt_batcher_new(&b, corpus, &cfg) == NT_OK, "new: %s", nt_errmsg());
            CHECK(nt_batcher_new(&b2, corpus, &cfg) == NT_OK, "new 2");
            int f0[N + 2], f1[N + 2], g0[N + 2], contiguous;
            double fill;
            int n0 = run_epoch(b, &cfg, f0, &contiguous, &fill);
            if (shuffle) {
                /* batches are random draws from buckets, not sorted runs, yet padding stays low */
                CHECK(contiguous == 0, "layout %d: %d batches are runs of sorted neighbours", layout, contiguous);
                CHECK(fill > 0.85, "layout %d: bucketed fill %.3f", layout, fill);
            } else {
                /* evaluation order is corpus order */
                CHECK(f0[0] / 1000 == 0, "eval starts at pair 0");
            }
            int n1 = run_epoch(b, &cfg, f1, &contiguous, NULL);
            int m0 = run_epoch(b2, &cfg, g0, &contiguous, NULL);
            CHECK(n0 == m0 && memcmp(f0, g0, sizeof(int) * (size_t)n0) == 0, "deterministic");
            if (shuffle) CHECK(n0 != n1 || memcmp(f0, f1, sizeof(int) * (size_t)n0) != 0, "epochs differ");
            else CHECK(n0 == n1 && memcmp(f0, f1, sizeof(int) * (size_t)n0) == 0, "eval epochs equal");
            nt_batcher_free(b);
            nt_batcher_free(b2);
            /* another seed, another order */
            if (shuffle) {
                cfg.seed = 12;
                CHECK(nt_batcher_new(&b, corpus, &cfg) == NT_OK, "seed 12");
                int h0[N + 2];
                int nh = run_epoch(b, &cfg, h0, &contiguous, NULL);
                CHECK(nh != n0 || memcmp(f0, h0, sizeof(int) * (size_t)n0) != 0, "seed matters");
                nt_batcher_free(b);
            }
        }
}

/* A run interrupted at (epoch 1, position 7) and resumed in a new batcher
 * gets exactly the batches of the uninterrupted run. */
static void test_resume(void) {
    for (int layout = 0; layout < 2; layout++) {
        nt_batcher_config cfg = nt_batcher_config_default();
        cfg.layout = (nt_batcher_layout)layout;
        cfg.max_tokens = 300;
        cfg.seed = 99;
        nt_batcher *a, *r;
        nt_batch ba, br;
        CHECK(nt_batcher_new(&a, corpus, &cfg) == NT_OK, "new");
        CHECK(nt_batcher_new(&r, corpus, &cfg) == NT_OK, "new r");
        int64_t e = 0, p = 0;
        /* the uninterrupted run: through epoch 0 and 7 batches of epoch 1 */
        for (;;) {
            nt_batcher_next(a, &ba);
            nt_batcher_get_cursor(a, &e, &p);
            if (e == 1 && p == 7) break;
        }
        CHECK(nt_batcher_set_cursor(r, e, p) == NT_OK, "set cursor: %s", nt_errmsg());
        int same = 1, count = 0;
        for (int k = 0; k < 3 * N && same; k++) { /* the rest of epoch 1, all of epoch 2 */
            nt_batcher_next(a, &ba);
            nt_batcher_next(r, &br);
            same = ba.B == br.B && ba.S == br.S && ba.T == br.T &&
                   (ba.B == 0 || (memcmp(ba.index, br.index, sizeof(int) * (size_t)ba.B) == 0 &&
                                  memcmp(ba.tgt_in, br.tgt_in, sizeof(int32_t) * (size_t)(ba.B * ba.T)) == 0 &&
                                  memcmp(ba.labels, br.labels, sizeof(int32_t) * (size_t)(ba.B * ba.T)) == 0));
            count++;
            nt_batcher_get_cursor(a, &e, &p);
            if (e == 3) break;
        }
        CHECK(same && e == 3, "resumed run differs (layout %d, batch %d)", layout, count);
        int64_t er, pr;
        nt_batcher_get_cursor(r, &er, &pr);
        CHECK(er == 3 && pr == 0, "resumed cursor");
        /* bad cursors leave it unchanged */
        CHECK(nt_batcher_set_cursor(r, 0, nt_batcher_n_batches(r) + 5) == NT_ERR_ARG, "position out of range");
        CHECK(strstr(nt_errmsg(), "position") != NULL, "msg: %s", nt_errmsg());
        CHECK(nt_batcher_set_cursor(r, -1, 0) == NT_ERR_ARG, "negative epoch");
        nt_batcher_get_cursor(r, &er, &pr);
        CHECK(er == 3 && pr == 0, "cursor unchanged after a bad set");
        /* no allocation in steady state: two more epochs and a cursor move */
        uint64_t before = nt_alloc_count();
        for (int k = 0; k < 2 * N; k++) nt_batcher_next(r, &br);
        nt_batcher_set_cursor(r, 10, 3);
        nt_batcher_next(r, &br);
        CHECK(nt_alloc_count() == before, "allocations in steady state: %llu",
              (unsigned long long)(nt_alloc_count() - before));
        nt_batcher_free(a);
        nt_batcher_free(r);
    }
}

static void test_config_and_long(void) {
    nt_batcher_config cfg = nt_batcher_config_default();
    nt_batcher *b = (nt_batcher *)1;
    cfg.max_tokens = 0;
    cfg.max_sentences = 0;
    CHECK(nt_batcher_new(&b, corpus, &cfg) == NT_ERR_ARG && b == NULL, "no caps");
    CHECK(strstr(nt_errmsg(), "both 0") != NULL, "msg: %s", nt_errmsg());
    cfg = nt_batcher_config_default();
    cfg.layout = (nt_batcher_layout)7;
    CHECK(nt_batcher_new(&b, corpus, &cfg) == NT_ERR_ARG, "layout");
    cfg = nt_batcher_config_default();
    cfg.max_len = -1;
    CHECK(nt_batcher_new(&b, corpus, &cfg) == NT_ERR_ARG, "max_len");
    /* long pairs: error naming the line, or skipped and counted */
    const char *s[] = {"12", "123456", "3"};
    const char *t[] = {"douze", "cent vingt-trois mille quatre cent cinquante-six", "trois"};
    nt_corpus *c;
    CHECK(nt_corpus_from_pairs(&c, s, t, 3, vocab) == NT_OK, "small corpus");
    cfg = nt_batcher_config_default();
    cfg.max_len = 20;
    CHECK(nt_batcher_new(&b, c, &cfg) == NT_ERR_FORMAT && strstr(nt_errmsg(), "<memory>:2: pair too long"),
          "long: %s", nt_errmsg());
    cfg.skip_long = 1;
    CHECK(nt_batcher_new(&b, c, &cfg) == NT_OK && nt_batcher_n_skipped(b) == 1 && nt_batcher_n_sentences(b) == 2,
          "skip long");
    nt_batch bt;
    int rows = 0;
    for (;;) {
        nt_batcher_next(b, &bt);
        if (!bt.B) break;
        for (int r = 0; r < bt.B; r++) CHECK(bt.index[r] != 1, "skipped pair served");
        rows += bt.B;
    }
    CHECK(rows == 2, "rows %d", rows);
    nt_batcher_free(b);
    /* a pair longer than max_tokens is a batch of its own */
    cfg = nt_batcher_config_default();
    cfg.max_tokens = 10;
    CHECK(nt_batcher_new(&b, c, &cfg) == NT_OK, "tiny cap");
    rows = 0;
    for (;;) {
        nt_batcher_next(b, &bt);
        if (!bt.B) break;
        if (bt.index[0] == 1) CHECK(bt.B == 1, "oversized pair alone");
        rows += bt.B;
    }
    CHECK(rows == 3, "rows %d", rows);
    nt_batcher_free(b);
    nt_corpus_free(c);
    /* an empty corpus: every call ends an epoch */
    CHECK(nt_corpus_from_pairs(&c, NULL, NULL, 0, vocab) == NT_OK, "empty corpus");
    CHECK(nt_batcher_new(&b, c, &cfg) == NT_OK, "empty batcher");
    CHECK(nt_batcher_next(b, &bt) == NT_OK && bt.B == 0, "empty epoch");
    nt_batcher_free(b);
    nt_corpus_free(c);
    /* corpus from a TSV result names the file and line */
    nt_tsv *tsv;
    const char text[] = "1\tun\n2\tdeux\n77777\tsoixante-dix-sept mille sept cent soixante-dix-sept\n";
    CHECK(nt_tsv_read_buffer(&tsv, "dev.tsv", text, sizeof text - 1, NULL) == NT_OK, "tsv");
    CHECK(nt_corpus_from_tsv(&c, tsv, vocab) == NT_OK && c->line[2] == 3 && strcmp(c->path, "dev.tsv") == 0, "from tsv");
    cfg.max_len = 30;
    CHECK(nt_batcher_new(&b, c, &cfg) == NT_ERR_FORMAT && strstr(nt_errmsg(), "dev.tsv:3:"), "msg: %s", nt_errmsg());
    nt_corpus_free(c);
    nt_tsv_free(tsv);
    nt_batcher_free(NULL);
}

int main(void) {
    make_corpus();
    if (corpus) {
        test_epochs();
        test_resume();
        test_config_and_long();
    }
    nt_corpus_free(corpus);
    nt_vocab_free(vocab);
    return nt_check_report("test_batcher");
}
