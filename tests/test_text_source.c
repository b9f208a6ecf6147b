/* test_text_source.c - the contiguous-text data source: windows are the text,
 * batches are deterministic in the seed, the cursor resumes exactly, and an
 * evaluation pass covers what it promises and then ends. */
#include <string.h>

#include "core/alloc.h"
#include "data/text_source.h"
#include "support/check.h"

enum { N = 1000 };
static int32_t ids[N];

/* Row r of b is the window of the text at offs[r]. */
static int window_ok(const nt_batch *b, const int64_t *offs, int r, int64_t n) {
    int T = b->T;
    for (int t = 0; t < T; t++) {
        int64_t i = offs[r] + t;
        int real = i + 1 < n;
        const int32_t *in = b->tgt_in + (size_t)r * T, *lab = b->labels + (size_t)r * T,
                      *mask = b->tgt_mask + (size_t)r * T;
        if (real && (in[t] != ids[i] || lab[t] != ids[i + 1] || mask[t] != 1)) return 0;
        if (!real && (in[t] != 0 || lab[t] != 0 || mask[t] != 0)) return 0;
    }
    return 1;
}

static nt_data_source *make(nt_text_source_mode mode, int B, int T, uint64_t seed, int batches, int64_t n) {
    nt_text_source_config c = {.mode = mode, .batch_size = B, .block_size = T, .seed = seed, .batches = batches};
    nt_data_source *ds = NULL;
    nt_status s = nt_text_source_new(&ds, ids, n, &c);
    CHECK(s == NT_OK, "nt_text_source_new: %s", nt_errmsg());
    return ds;
}

static void test_random(void) {
    const int B = 5, T = 16;
    nt_data_source *a = make(NT_TEXT_SOURCE_RANDOM, B, T, 7, 0, N), *b = make(NT_TEXT_SOURCE_RANDOM, B, T, 7, 0, N),
                   *c = make(NT_TEXT_SOURCE_RANDOM, B, T, 8, 0, N);
    if (!a || !b || !c) return;
    int64_t lo = N, hi = -1;
    int differ = 0;
    for (int k = 0; k < 200; k++) {
        nt_batch x, y, z;
        CHECK(nt_data_source_next(a, &x) == NT_OK, "next: %s", nt_errmsg());
        const int64_t *offs = nt_text_source_offsets(a);
        CHECK(x.B == B && x.T == T && x.src == NULL, "batch %d: B %d T %d", k, x.B, x.T);
        CHECK(x.n_src_tokens == 0 && x.n_tgt_tokens == B * T, "batch %d: tokens %lld + %lld", k,
              (long long)x.n_src_tokens, (long long)x.n_tgt_tokens);
        for (int r = 0; r < B; r++) {
            CHECK(offs[r] >= 0 && offs[r] + T < N, "offset %lld outside [0, %d)", (long long)offs[r], N - T);
            CHECK(window_ok(&x, offs, r, N), "batch %d row %d is not the text at %lld", k, r, (long long)offs[r]);
            if (offs[r] < lo) lo = offs[r];
            if (offs[r] > hi) hi = offs[r];
        }
        int32_t keep[5 * 16];
        memcpy(keep, x.tgt_in, sizeof keep);
        CHECK(nt_data_source_next(b, &y) == NT_OK, "next");
        CHECK(memcmp(keep, y.tgt_in, sizeof keep) == 0, "batch %d differs between two sources of seed 7", k);
        CHECK(nt_data_source_next(c, &z) == NT_OK, "next");
        differ += memcmp(keep, z.tgt_in, sizeof keep) != 0;
    }
    /* 1000 uniform draws over [0, 984): both ends are reached */
    CHECK(lo < 20 && hi > N - T - 21, "offsets span [%lld, %lld] of [0, %d)", (long long)lo, (long long)hi, N - T);
    CHECK(differ > 190, "seed 8 gave the same batch as seed 7 %d times of 200", 200 - differ);
    nt_data_source_free(a), nt_data_source_free(b), nt_data_source_free(c);
}

static void test_random_resume(void) {
    const int B = 3, T = 8;
    nt_data_source *a = make(NT_TEXT_SOURCE_RANDOM, B, T, 3, 0, N), *b = make(NT_TEXT_SOURCE_RANDOM, B, T, 3, 0, N);
    if (!a || !b) return;
    nt_batch x;
    for (int k = 0; k < 500; k++) nt_data_source_next(a, &x);
    nt_cursor cur;
    nt_data_source_get_cursor(a, &cur);
    CHECK(cur.position == 500 * B, "cursor position %lld, expected %d windows", (long long)cur.position, 500 * B);
    CHECK(cur.epoch == 500 * B * T / (N - 1), "cursor epoch %lld, expected %d passes", (long long)cur.epoch,
          500 * B * T / (N - 1));
    int32_t want[4][3 * 8];
    for (int k = 0; k < 4; k++) {
        nt_data_source_next(a, &x);
        memcpy(want[k], x.labels, sizeof want[k]);
    }
    CHECK(nt_data_source_set_cursor(b, &cur) == NT_OK, "set_cursor: %s", nt_errmsg());
    for (int k = 0; k < 4; k++) {
        nt_data_source_next(b, &x);
        CHECK(memcmp(want[k], x.labels, sizeof want[k]) == 0, "resumed batch %d differs", k);
    }
    /* cursors this text cannot have */
    nt_cursor bad = {cur.epoch + 1, cur.position};
    CHECK(nt_data_source_set_cursor(b, &bad) == NT_ERR_ARG, "epoch of other data accepted");
    CHECK(strstr(nt_errmsg(), "other data") != NULL, "message: %s", nt_errmsg());
    bad = (nt_cursor){0, 1};
    CHECK(nt_data_source_set_cursor(b, &bad) == NT_ERR_ARG, "a part of a batch accepted");
    bad = (nt_cursor){0, -3};
    CHECK(nt_data_source_set_cursor(b, &bad) == NT_ERR_ARG, "negative position accepted");
    nt_data_source_free(a), nt_data_source_free(b);
}

static void test_fixed(void) {
    const int B = 4, T = 10, E = 3;
    nt_data_source *a = make(NT_TEXT_SOURCE_FIXED, B, T, 5, E, N);
    if (!a) return;
    CHECK(nt_text_source_pass_windows(a) == B * E, "pass windows %lld", (long long)nt_text_source_pass_windows(a));
    int64_t first[3][4];
    nt_batch x;
    for (int pass = 0; pass < 2; pass++) {
        for (int k = 0; k < E; k++) {
            CHECK(nt_data_source_next(a, &x) == NT_OK && x.B == B, "pass %d batch %d: B %d", pass, k, x.B);
            const int64_t *offs = nt_text_source_offsets(a);
            for (int r = 0; r < B; r++) {
                CHECK(window_ok(&x, offs, r, N), "fixed batch %d row %d", k, r);
                if (pass == 0) first[k][r] = offs[r];
                else CHECK(offs[r] == first[k][r], "pass 2 batch %d row %d at %lld, pass 1 at %lld", k, r,
                           (long long)offs[r], (long long)first[k][r]);
            }
        }
        CHECK(nt_data_source_next(a, &x) == NT_OK && x.B == 0 && x.tgt_in == NULL, "pass %d did not end: B %d", pass, x.B);
        nt_cursor c;
        nt_data_source_get_cursor(a, &c);
        CHECK(c.epoch == pass + 1 && c.position == 0, "cursor after pass %d: {%lld, %lld}", pass,
              (long long)c.epoch, (long long)c.position);
    }
    /* rewind mid-pass */
    nt_data_source_next(a, &x);
    nt_data_source_next(a, &x);
    CHECK(nt_data_source_set_cursor(a, &(nt_cursor){0, 0}) == NT_OK, "rewind: %s", nt_errmsg());
    nt_data_source_next(a, &x);
    CHECK(nt_text_source_offsets(a)[0] == first[0][0], "rewind did not restart the pass");
    CHECK(nt_data_source_set_cursor(a, &(nt_cursor){0, E + 1}) == NT_ERR_ARG, "cursor past the pass accepted");
    nt_data_source_free(a);
}

static void test_sequential(void) {
    const int B = 4, T = 7;
    const int64_t n = 100; /* 99 labels: 14 full windows and one of 1 */
    nt_data_source *a = make(NT_TEXT_SOURCE_SEQUENTIAL, B, T, 0, 0, n);
    if (!a) return;
    CHECK(nt_text_source_pass_windows(a) == 15, "windows %lld, expected 15", (long long)nt_text_source_pass_windows(a));
    int seen[100] = {0};
    int64_t labels = 0;
    int batches = 0;
    nt_batch x;
    for (;;) {
        CHECK(nt_data_source_next(a, &x) == NT_OK, "next: %s", nt_errmsg());
        if (x.B == 0 || batches > 10) break;
        const int64_t *offs = nt_text_source_offsets(a);
        CHECK(x.B == (batches < 3 ? B : 3), "batch %d has %d rows", batches, x.B);
        int64_t cnt = 0;
        for (int r = 0; r < x.B; r++) {
            CHECK(offs[r] == (int64_t)(batches * B + r) * T, "batch %d row %d at %lld", batches, r, (long long)offs[r]);
            CHECK(window_ok(&x, offs, r, n), "sequential batch %d row %d", batches, r);
            for (int t = 0; t < T; t++)
                if (x.labels[r * T + t]) seen[offs[r] + t + 1]++, cnt++;
        }
        CHECK(cnt == x.n_tgt_tokens, "batch %d counts %lld labels, has %lld", batches, (long long)x.n_tgt_tokens,
              (long long)cnt);
        labels += cnt;
        batches++;
    }
    CHECK(batches == 4 && labels == n - 1, "%d batches, %lld labels; expected 4 and %lld", batches,
          (long long)labels, (long long)(n - 1));
    for (int i = 1; i < n; i++) CHECK(seen[i] == 1, "token %d predicted %d times", i, seen[i]);
    nt_data_source_free(a);
}

static void test_errors(void) {
    nt_data_source *ds = (nt_data_source *)0x1;
    nt_text_source_config c = {.mode = NT_TEXT_SOURCE_RANDOM, .batch_size = 2, .block_size = 64, .seed = 1};
    CHECK(nt_text_source_new(&ds, ids, 64, &c) == NT_ERR_ARG, "64 tokens for a window of 65 accepted");
    CHECK(strstr(nt_errmsg(), "shorter than one window of 65") != NULL, "message: %s", nt_errmsg());
    CHECK(ds == (nt_data_source *)0x1, "*out changed on error");
    CHECK(nt_text_source_new(&ds, ids, 65, &c) == NT_OK, "65 tokens: %s", nt_errmsg());
    nt_data_source_free(ds);
    c.batch_size = 0;
    CHECK(nt_text_source_new(&ds, ids, N, &c) == NT_ERR_ARG && strstr(nt_errmsg(), "batch size"), "batch 0: %s",
          nt_errmsg());
    c.batch_size = 2, c.mode = NT_TEXT_SOURCE_FIXED, c.batches = 0;
    CHECK(nt_text_source_new(&ds, ids, N, &c) == NT_ERR_ARG && strstr(nt_errmsg(), "batches"), "0 batches: %s",
          nt_errmsg());
    c.mode = NT_TEXT_SOURCE_SEQUENTIAL;
    CHECK(nt_text_source_new(&ds, ids, 1, &c) == NT_ERR_ARG, "1 token accepted sequentially");
    int32_t bad[80];
    for (int i = 0; i < 80; i++) bad[i] = 9;
    bad[41] = 0;
    c.mode = NT_TEXT_SOURCE_RANDOM;
    CHECK(nt_text_source_new(&ds, bad, 80, &c) == NT_ERR_ARG && strstr(nt_errmsg(), "token 41"), "id 0: %s",
          nt_errmsg());
    CHECK(nt_text_source_offsets(NULL) == NULL && nt_text_source_pass_windows(NULL) == 0, "NULL source");
}

int main(void) {
    for (int i = 0; i < N; i++) ids[i] = 5 + (int32_t)((i * 7919u + (unsigned)(i >> 3)) % 60u);
    test_random();
    test_random_resume();
    test_fixed();
    test_sequential();
    test_errors();
    return nt_check_report("test_text_source");
}
