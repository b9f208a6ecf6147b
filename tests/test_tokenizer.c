/* test_tokenizer.c - char and word tokenizers: splitting, vocabulary, round
 * trips over all five number forms, unknowns, HDF5 save/load and its errors;
 * the word tokenizer's digit rule (split_digits) and vocabularies without it. */
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "data/number_corpus.h"
#include "data/numbers.h"
#include "data/tokenizer.h"
#include "train/h5io.h"
#include "train/vocab_h5.h"
#include "support/check.h"

typedef struct pieces { char s[1024]; int n; } pieces;

static void join_piece(const char *p, size_t len, void *user) {
    pieces *ps = user;
    size_t l = strlen(ps->s);
    if (ps->n++) ps->s[l++] = '|';
    memcpy(ps->s + l, p, len);
    ps->s[l + len] = 0;
}

static void check_split(nt_tokenizer_kind k, const char *text, const char *want, int want_n) {
    pieces ps = {{0}, 0};
    CHECK(nt_tokenizer_split(k, text, join_piece, &ps) == NT_OK, "split %s: %s", text, nt_errmsg());
    CHECK(strcmp(ps.s, want) == 0 && ps.n == want_n, "split \"%s\" -> \"%s\" (%d), want \"%s\" (%d)", text, ps.s,
          ps.n, want, want_n);
}

static void test_split(void) {
    /* DESIGN.md's example */
    check_split(NT_TOKENIZER_WORD, "one thousand, twenty-one", "▁one|▁thousand|,|▁twenty|-|one", 6);
    check_split(NT_TOKENIZER_WORD, "quatre-vingts", "▁quatre|-|vingts", 3);
    check_split(NT_TOKENIZER_WORD, "einundzwanzig", "▁einundzwanzig", 1);
    check_split(NT_TOKENIZER_WORD, "a  b ", "▁a|▁|▁b|▁", 4);
    check_split(NT_TOKENIZER_WORD, " a", "▁|▁a", 2);
    check_split(NT_TOKENIZER_WORD, "a,-b", "▁a|,|-|b", 4);
    check_split(NT_TOKENIZER_WORD, "", "", 0);
    check_split(NT_TOKENIZER_CHAR, "é ß٣", "é| |ß|٣", 4);
    check_split(NT_TOKENIZER_CHAR, "\xF0\x9F\x98\x80x", "\xF0\x9F\x98\x80|x", 2);
    pieces ps = {{0}, 0};
    CHECK(nt_tokenizer_split(NT_TOKENIZER_CHAR, "a\xC3", join_piece, &ps) == NT_ERR_FORMAT, "bad utf8");
    CHECK(strstr(nt_errmsg(), "byte 2") != NULL, "msg: %s", nt_errmsg());
    CHECK(nt_tokenizer_split(NT_TOKENIZER_WORD, "a ▁b", join_piece, &ps) == NT_ERR_FORMAT, "mark in text");
    CHECK(strstr(nt_errmsg(), "U+2581") != NULL, "msg: %s", nt_errmsg());
    nt_tokenizer_kind k;
    CHECK(nt_tokenizer_kind_parse("word", &k) == NT_OK && k == NT_TOKENIZER_WORD, "parse word");
    CHECK(nt_tokenizer_kind_parse("bpe", &k) == NT_ERR_ARG && strstr(nt_errmsg(), "\"bpe\""), "parse bpe");
    CHECK(strcmp(nt_tokenizer_kind_name(NT_TOKENIZER_CHAR), "char") == 0, "name");
}

/* Round trip of every number 0..999999 step 37 (and the sample's edge
 * cases) in all five forms, for both tokenizers, vocabulary built from them. */
static void test_round_trip(void) {
    enum { N = 1000000 / 37 + 1 };
    static char text[NT_NUMBER_FORM_COUNT][N][NT_NUMBER_CORPUS_MAX_TEXT / 2];
    const char **all = malloc(sizeof(char *) * N * NT_NUMBER_FORM_COUNT);
    for (int f = 0; f < NT_NUMBER_FORM_COUNT; f++)
        for (int i = 0; i < N; i++) {
            CHECK(nt_number_corpus_render((nt_number_form)f, i * 37, text[f][i], sizeof text[f][i]) == NT_OK, "render");
            all[f * N + i] = text[f][i];
        }
    int32_t ids[256];
    char back[512];
    for (int k = 0; k < 2; k++) {
        nt_vocab *v;
        CHECK(nt_vocab_build(&v, (nt_tokenizer_kind)k, all, N * NT_NUMBER_FORM_COUNT, 1) == NT_OK, "build: %s", nt_errmsg());
        if (!v) continue;
        int bad = 0, unk = 0;
        for (int f = 0; f < NT_NUMBER_FORM_COUNT; f++)
            for (int i = 0; i < N; i++) {
                int n;
                if (nt_vocab_encode(v, text[f][i], ids, 256, &n) != NT_OK) { bad++; continue; }
                for (int j = 0; j < n; j++) unk += ids[j] < NT_TOK_N_SPECIAL;
                if (nt_vocab_decode(v, ids, n, back, sizeof back) != NT_OK || strcmp(back, text[f][i]) != 0) {
                    if (bad++ < 3) fprintf(stderr, "%s: \"%s\" -> \"%s\"\n", nt_tokenizer_kind_name(nt_vocab_kind(v)), text[f][i], back);
                }
            }
        CHECK(bad == 0 && unk == 0, "%s: %d round trips failed, %d specials", k ? "word" : "char", bad, unk);
        /* one token each for é, ß, ٣ in char mode */
        if (k == NT_TOKENIZER_CHAR) {
            int n;
            CHECK(nt_vocab_encode(v, "zéro", ids, 256, &n) == NT_OK && n == 4, "zéro is 4 tokens, got %d", n);
            CHECK(nt_vocab_encode(v, "dreißig", ids, 256, &n) == NT_OK && n == 7, "dreißig is 7 tokens");
            CHECK(nt_vocab_encode(v, "٣", ids, 256, &n) == NT_OK && n == 1 && strcmp(nt_vocab_token(v, ids[0]), "٣") == 0,
                  "٣ is one token");
            CHECK(nt_vocab_size(v) < 80, "char vocab size %d", nt_vocab_size(v));
        } else {
            int n;
            CHECK(nt_vocab_encode(v, "one thousand, twenty-one", ids, 256, &n) == NT_OK && n == 6, "word count %d", n);
            CHECK(nt_vocab_id(v, "▁thousand") == ids[1] && nt_vocab_id(v, ",") == ids[2], "word ids");
            /* German numbers are one word each: a big vocabulary (digits are split) */
            CHECK(nt_vocab_size(v) > 20000, "word vocab size %d", nt_vocab_size(v));
            /* digits and arabic: every digit a token, with or without ▁ */
            nt_vocab *da;
            CHECK(nt_vocab_build(&da, NT_TOKENIZER_WORD, all, 2 * N, 1) == NT_OK && nt_vocab_size(da) == 5 + 40,
                  "digits+arabic word vocab size %d, want 45", nt_vocab_size(da));
            nt_vocab_free(da);
            nt_vocab *ef;
            CHECK(nt_vocab_build(&ef, NT_TOKENIZER_WORD, all + 2 * N, 2 * N, 1) == NT_OK, "en+fr");
            CHECK(nt_vocab_size(ef) < 100, "en+fr word vocab size %d", nt_vocab_size(ef));
            nt_vocab_free(ef);
        }
        nt_vocab_free(v);
    }
    free(all);
}

static void test_vocab(void) {
    const char *texts[] = {"aab", "ab", "c"};
    nt_vocab *v;
    CHECK(nt_vocab_build(&v, NT_TOKENIZER_CHAR, texts, 3, 1) == NT_OK, "build");
    /* specials, then by frequency: a (3), b (2), c (1) */
    const char *want[] = {"<pad>", "<bos>", "<eos>", "<unk>", "<sep>", "a", "b", "c"};
    CHECK(nt_vocab_size(v) == 8, "size %d", nt_vocab_size(v));
    for (int i = 0; i < 8 && i < nt_vocab_size(v); i++) CHECK(strcmp(nt_vocab_token(v, i), want[i]) == 0, "token %d", i);
    CHECK(nt_vocab_token(v, 8) == NULL && nt_vocab_token(v, -1) == NULL, "out of range");
    CHECK(nt_vocab_id(v, "c") == 7 && nt_vocab_id(v, "z") == -1, "id");
    int32_t ids[8];
    int n;
    CHECK(nt_vocab_encode(v, "azc", ids, 8, &n) == NT_OK && n == 3 && ids[1] == NT_TOK_UNK, "unk");
    CHECK(nt_vocab_encode(v, "abcabc", ids, 4, &n) == NT_ERR_ARG && n == 6, "cap");
    CHECK(nt_vocab_encode(v, "abcabc", NULL, 0, &n) == NT_OK && n == 6, "count only");
    char out[8];
    int32_t seq[] = {NT_TOK_BOS, 5, NT_TOK_UNK, 6, NT_TOK_SEP, 7, NT_TOK_EOS, NT_TOK_PAD};
    CHECK(nt_vocab_decode(v, seq, 8, out, sizeof out) == NT_OK && strcmp(out, "abc") == 0, "decode skips specials: %s", out);
    CHECK(nt_vocab_decode(v, seq, 8, out, 3) == NT_ERR_ARG && strstr(nt_errmsg(), "needs 4"), "small: %s", nt_errmsg());
    int32_t badid[] = {5, 99};
    CHECK(nt_vocab_decode(v, badid, 2, out, sizeof out) == NT_ERR_ARG && strstr(nt_errmsg(), "id 99"), "bad id");
    nt_vocab_free(v);
    /* min_freq */
    CHECK(nt_vocab_build(&v, NT_TOKENIZER_CHAR, texts, 3, 2) == NT_OK && nt_vocab_size(v) == 7, "min_freq 2");
    nt_vocab_free(v);
    CHECK(nt_vocab_build(&v, NT_TOKENIZER_CHAR, texts, 3, 0) == NT_ERR_ARG && v == NULL, "min_freq 0");
    const char *badt[] = {"ok", "x\xFF"};
    CHECK(nt_vocab_build(&v, NT_TOKENIZER_CHAR, badt, 2, 1) == NT_ERR_FORMAT && strstr(nt_errmsg(), "text 1"),
          "bad text: %s", nt_errmsg());
    /* text equal to a special's name is not the special */
    const char *sp[] = {"x-<pad>"};
    CHECK(nt_vocab_build(&v, NT_TOKENIZER_WORD, sp, 1, 1) == NT_OK, "special text");
    CHECK(nt_vocab_encode(v, "x-<pad>", ids, 8, &n) == NT_OK && n == 3 && ids[2] == NT_TOK_UNK, "<pad> text is unk");
    nt_vocab_free(v);
    /* from_tokens checks */
    const char *t1[] = {"<pad>", "<bos>", "<eos>", "<unk>", "<sep>", "a", "a"};
    CHECK(nt_vocab_from_tokens(&v, NT_TOKENIZER_CHAR, t1, 7) == NT_ERR_FORMAT && strstr(nt_errmsg(), "repeats"), "dup");
    const char *t2[] = {"<pad>", "<bos>", "<unk>", "<eos>", "<sep>"};
    CHECK(nt_vocab_from_tokens(&v, NT_TOKENIZER_CHAR, t2, 5) == NT_ERR_FORMAT &&
              strstr(nt_errmsg(), "token 2 is \"<unk>\", expected \"<eos>\""), "order: %s", nt_errmsg());
    /* allocation failures are clean: the build makes N allocations; failing
     * each one in turn must be reported as NT_ERR_NOMEM with nothing returned
     * (a loop that accepted NT_OK for every k proved nothing: the injection
     * must actually happen, so N > 0 and every k <= N fails) */
    uint64_t a0 = nt_alloc_count();
    CHECK(nt_vocab_build(&v, NT_TOKENIZER_WORD, texts, 3, 1) == NT_OK, "build: %s", nt_errmsg());
    uint64_t n_alloc = nt_alloc_count() - a0;
    nt_vocab_free(v);
    CHECK(n_alloc > 0 && n_alloc < 100000, "the build allocates through nt_malloc (%llu allocations)",
          (unsigned long long)n_alloc);
    int injected = 0;
    for (uint64_t k = 1; k <= n_alloc + 1 && k < 100000; k++) {
        v = (nt_vocab *)&v;
        nt_alloc_fail_after(k);
        nt_status s = nt_vocab_build(&v, NT_TOKENIZER_WORD, texts, 3, 1);
        nt_alloc_fail_after(0);
        if (k <= n_alloc) {
            injected += s == NT_ERR_NOMEM;
            CHECK(s == NT_ERR_NOMEM && v == NULL, "allocation %llu of %llu failed: %s, *out %s",
                  (unsigned long long)k, (unsigned long long)n_alloc, nt_status_name(s), v ? "set" : "NULL");
        } else {
            CHECK(s == NT_OK, "allocation %llu (past the last) is not reached: %s", (unsigned long long)k,
                  nt_status_name(s));
        }
        if (s == NT_OK) nt_vocab_free(v);
    }
    CHECK(injected == (int)n_alloc, "%d of %llu injected failures reported", injected, (unsigned long long)n_alloc);
}

/* writes a raw tokens dataset (for the load error cases) */
static void write_raw(hid_t f, const char **tok, int n) {
    hid_t g = H5Gcreate2(f, "vocab", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    hsize_t d = (hsize_t)n;
    hid_t sp = H5Screate_simple(1, &d, NULL);
    hid_t ds = H5Dcreate2(g, "tokens", t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, tok);
    H5Dclose(ds); H5Sclose(sp); H5Tclose(t); H5Gclose(g);
}

static void test_h5(void) {
    char path[] = "/tmp/nt_vocab_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    const char *texts[] = {"vingt et un", "quatre-vingts", "zwölf", "٣٤"};
    for (int k = 0; k < 2; k++) {
        nt_vocab *v, *w = NULL;
        CHECK(nt_vocab_build(&v, (nt_tokenizer_kind)k, texts, 4, 1) == NT_OK, "build");
        hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        CHECK(nt_vocab_save_h5(v, f) == NT_OK, "save: %s", nt_errmsg());
        CHECK(nt_vocab_save_h5(v, f) == NT_ERR_IO && strstr(nt_errmsg(), "exists"), "save twice");
        H5Fclose(f);
        f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
        CHECK(nt_vocab_load_h5(&w, f) == NT_OK, "load: %s", nt_errmsg());
        H5Fclose(f);
        if (w) {
            CHECK(nt_vocab_size(w) == nt_vocab_size(v) && nt_vocab_kind(w) == (nt_tokenizer_kind)k, "size/kind");
            for (int i = 0; i < nt_vocab_size(v); i++)
                CHECK(strcmp(nt_vocab_token(v, i), nt_vocab_token(w, i)) == 0, "token %d", i);
            int32_t ids[64];
            int n;
            char back[128];
            CHECK(nt_vocab_encode(w, "quatre-vingts", ids, 64, &n) == NT_OK &&
                      nt_vocab_decode(w, ids, n, back, sizeof back) == NT_OK && strcmp(back, "quatre-vingts") == 0,
                  "round trip after load");
        }
        nt_vocab_free(v);
        nt_vocab_free(w);
    }
    /* a group as the location */
    nt_vocab *v, *w = NULL;
    nt_vocab_build(&v, NT_TOKENIZER_CHAR, texts, 4, 1);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t g = H5Gcreate2(f, "ckpt", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(nt_vocab_save_h5(v, g) == NT_OK && nt_vocab_load_h5(&w, g) == NT_OK && nt_vocab_size(w) == nt_vocab_size(v),
          "group location");
    nt_vocab_free(w);
    /* missing dataset */
    CHECK(nt_vocab_load_h5(&w, f) == NT_ERR_FORMAT && w == NULL && strstr(nt_errmsg(), "no dataset vocab/tokens"),
          "missing: %s", nt_errmsg());
    H5Gclose(g);
    H5Fclose(f);
    nt_vocab_free(v);
    /* wrong specials, by name */
    const char *bad1[] = {"<pad>", "<bos>", "<eos>", "<sep>", "<unk>", "a"};
    f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    write_raw(f, bad1, 6);
    CHECK(nt_vocab_load_h5(&w, f) == NT_ERR_FORMAT && w == NULL, "bad specials");
    CHECK(strstr(nt_errmsg(), "token 3 is \"<sep>\", expected \"<unk>\"") != NULL, "msg: %s", nt_errmsg());
    H5Fclose(f);
    const char *bad2[] = {"<pad>", "<bos>", "<eos>"};
    f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    write_raw(f, bad2, 3);
    CHECK(nt_vocab_load_h5(&w, f) == NT_ERR_FORMAT && strstr(nt_errmsg(), "3 tokens"), "too few: %s", nt_errmsg());
    H5Fclose(f);
    /* without the attribute: char, and the caller may set the kind */
    const char *good[] = {"<pad>", "<bos>", "<eos>", "<unk>", "<sep>", "▁a", "b"};
    f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    write_raw(f, good, 7);
    CHECK(nt_vocab_load_h5(&w, f) == NT_OK && nt_vocab_kind(w) == NT_TOKENIZER_CHAR, "no attr");
    nt_vocab_set_kind(w, NT_TOKENIZER_WORD);
    int32_t ids[4];
    int n;
    CHECK(nt_vocab_encode(w, "a", ids, 4, &n) == NT_OK && n == 1 && ids[0] == 5, "set kind");
    nt_vocab_free(w);
    H5Fclose(f);
    unlink(path);
}

/* The word tokenizer's digit rule: every ASCII and Arabic-Indic digit a token
 * (SentencePiece's split_digits), what nt_vocab_build records; a vocabulary
 * without the rule (nt_vocab_from_tokens, a checkpoint from before it)
 * keeps digit runs whole, DESIGN.md's rule. */
static void test_split_digits(void) {
    check_split(NT_TOKENIZER_WORD, "123,456", "▁1|2|3|,|4|5|6", 7);
    check_split(NT_TOKENIZER_WORD, "80 000", "▁8|0|▁0|0|0", 5);
    check_split(NT_TOKENIZER_WORD, "٨٠ ٠٠٠", "▁٨|٠|▁٠|٠|٠", 5); /* U+0660..U+0669 */
    check_split(NT_TOKENIZER_WORD, "١٢٬٣", "▁١|٢|٬|٣", 4);    /* U+066C between digits is a word */
    check_split(NT_TOKENIZER_WORD, "abc12def 7x", "▁abc|1|2|def|▁7|x", 6);
    check_split(NT_TOKENIZER_WORD, "vingt-1 ", "▁vingt|-|1|▁", 4);
    check_split(NT_TOKENIZER_WORD, "۱۲", "▁۱۲", 1); /* Extended Arabic-Indic (Persian) digits: not the number task's */
    check_split(NT_TOKENIZER_WORD, "Ùª" "5", "▁Ùª|5", 2); /* U+066A (D9 AA) is not a digit */
    check_split(NT_TOKENIZER_CHAR, "12٣", "1|2|٣", 3);

    /* built vocabularies record the rule; char and token lists do not split */
    const char *texts[] = {"123,456", "٧٨", "twenty-1", "6 3 ٨"};
    nt_vocab *v, *c, *old;
    CHECK(nt_vocab_build(&v, NT_TOKENIZER_WORD, texts, 4, 1) == NT_OK && nt_vocab_split_digits(v) == 1,
          "a built word vocabulary splits digits");
    CHECK(nt_vocab_build(&c, NT_TOKENIZER_CHAR, texts, 4, 1) == NT_OK && nt_vocab_split_digits(c) == 0, "char: 0");
    CHECK(nt_vocab_id(v, "▁1") >= 5 && nt_vocab_id(v, "2") >= 5 && nt_vocab_id(v, "▁٧") >= 5 &&
              nt_vocab_id(v, "٨") >= 5 && nt_vocab_id(v, "1") >= 5 && nt_vocab_id(v, "▁123") < 0,
          "digit tokens in the built vocabulary");
    int32_t ids[32];
    int n;
    char back[64];
    const char *rt[] = {"123,456", "٧٨", "twenty-1", "654 321", "٨٨"};
    for (int i = 0; i < 5; i++) {
        CHECK(nt_vocab_encode(v, rt[i], ids, 32, &n) == NT_OK && nt_vocab_decode(v, ids, n, back, sizeof back) == NT_OK &&
                  strcmp(back, rt[i]) == 0,
              "round trip \"%s\" -> \"%s\"", rt[i], back);
        for (int j = 0; j < n; j++) CHECK(ids[j] >= NT_TOK_N_SPECIAL, "\"%s\": token %d unknown", rt[i], j);
    }
    CHECK(nt_vocab_encode(v, "654 321", ids, 32, &n) == NT_OK && n == 6, "654 321: %d tokens, want 6", n);
    nt_strset set = {0};
    CHECK(nt_vocab_collect(v, "12 x", &set) == NT_OK && set.n == 3 && strcmp(set.items[0], "▁1") == 0 &&
              strcmp(set.items[1], "2") == 0,
          "nt_vocab_collect splits digits (%d tokens)", set.n);
    nt_strset_free(&set);

    /* the old rule: a token list as a checkpoint without the attribute holds it */
    const char *toks[] = {"<pad>", "<bos>", "<eos>", "<unk>", "<sep>", "▁123", "▁1", "2", "3", "▁45"};
    CHECK(nt_vocab_from_tokens(&old, NT_TOKENIZER_WORD, toks, 10) == NT_OK && nt_vocab_split_digits(old) == 0,
          "from_tokens: DESIGN.md's rule");
    CHECK(nt_vocab_encode(old, "123 45", ids, 32, &n) == NT_OK && n == 2 && ids[0] == 5 && ids[1] == 9,
          "old rule: digit runs whole (%d tokens)", n);
    CHECK(nt_vocab_collect_unknown(old, "12", &set) == NT_OK && set.n == 1 && strcmp(set.items[0], "▁12") == 0,
          "old rule: the unknown is the run");
    nt_strset_free(&set);
    pieces ps = {{0}, 0};
    CHECK(nt_vocab_split(old, "x123", join_piece, &ps) == NT_OK && strcmp(ps.s, "▁x123") == 0, "old split: %s", ps.s);
    nt_vocab_set_split_digits(old, 1);
    CHECK(nt_vocab_encode(old, "123", ids, 32, &n) == NT_OK && n == 3 && ids[0] == 6 && ids[1] == 7 && ids[2] == 8,
          "set_split_digits(1): %d tokens", n);
    nt_vocab_set_kind(old, NT_TOKENIZER_CHAR);
    CHECK(nt_vocab_split_digits(old) == 0, "char never reports the word rule");
    nt_vocab_set_kind(old, NT_TOKENIZER_WORD);
    CHECK(nt_vocab_split_digits(old) == 1, "the rule is kept across set_kind");
    nt_vocab_free(old);
    nt_vocab_free(c);
    nt_vocab_free(v);

    /* the number task's vocabulary check sees the rule: a digits-en word
     * vocabulary is a number model's (normalisation on) */
    enum { M = 2000 };
    static char text[2][M][NT_NUMBER_CORPUS_MAX_TEXT];
    const char *pair[2 * M];
    for (int i = 0; i < M; i++) {
        int x = i < 1000 ? i : (i - 1000) * 997 + 1000;
        nt_number_corpus_render(NT_NUMBER_FORM_DIGITS, x, text[0][i], sizeof text[0][i]);
        nt_number_corpus_render(NT_NUMBER_FORM_EN, x, text[1][i], sizeof text[1][i]);
        pair[2 * i] = text[0][i], pair[2 * i + 1] = text[1][i];
    }
    CHECK(nt_vocab_build(&v, NT_TOKENIZER_WORD, pair, 2 * M, 1) == NT_OK && nt_numbers_vocab(v) == 1,
          "a digits-en word vocabulary (%d tokens) is a number model's", nt_vocab_size(v));
    nt_vocab_free(v);
}

/* /vocab's split_digits attribute in a real HDF5 file: written by a vocabulary
 * that splits digits, read back; absent (a file from before the extension):
 * digit runs whole; a bad value is refused by name. */
static void test_h5_split_digits(void) {
    char path[] = "/tmp/nt_vocab_digits_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    const char *texts[] = {"123,456", "one hundred 654"};
    nt_vocab *v, *w = NULL;
    CHECK(nt_vocab_build(&v, NT_TOKENIZER_WORD, texts, 2, 1) == NT_OK, "build");
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(nt_vocab_save_h5(v, f) == NT_OK, "save: %s", nt_errmsg());
    int64_t sd = -1;
    CHECK(nt_h5_attr_read_int(f, "vocab", "split_digits", &sd) == NT_OK && sd == 1, "attribute /vocab.split_digits = %lld",
          (long long)sd);
    H5Fclose(f);
    f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(nt_vocab_load_h5(&w, f) == NT_OK && nt_vocab_split_digits(w) == 1, "loaded: split_digits %d",
          nt_vocab_split_digits(w));
    H5Fclose(f);
    int32_t ids[16];
    int n;
    CHECK(w && nt_vocab_encode(w, "654", ids, 16, &n) == NT_OK && n == 3 && ids[0] == nt_vocab_id(w, "▁6"),
          "after load 654 is 3 tokens");
    nt_vocab_free(w), w = NULL;
    nt_vocab_free(v);

    /* a vocabulary without the rule writes no attribute and loads without it */
    const char *toks[] = {"<pad>", "<bos>", "<eos>", "<unk>", "<sep>", "▁123", "▁1", "2", "3"};
    CHECK(nt_vocab_from_tokens(&v, NT_TOKENIZER_WORD, toks, 9) == NT_OK, "from_tokens");
    f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(nt_vocab_save_h5(v, f) == NT_OK && !nt_h5_attr_exists(f, "vocab", "split_digits"), "no attribute: %s",
          nt_errmsg());
    CHECK(nt_vocab_load_h5(&w, f) == NT_OK && nt_vocab_split_digits(w) == 0, "old rule after load");
    CHECK(w && nt_vocab_encode(w, "123", ids, 16, &n) == NT_OK && n == 1 && ids[0] == 5, "old: 123 is one token (%d)", n);
    nt_vocab_free(w), w = NULL;
    /* a bad value */
    CHECK(nt_h5_attr_write_int(f, "vocab", "split_digits", 2) == NT_OK, "write 2");
    CHECK(nt_vocab_load_h5(&w, f) == NT_ERR_FORMAT && w == NULL && strstr(nt_errmsg(), "split_digits is 2"),
          "split_digits 2 refused: %s", nt_errmsg());
    H5Fclose(f);
    nt_vocab_free(v);
    unlink(path);
}

/* nt_tokenizer_collect: the distinct tokens of texts in order; nt_vocab_collect_unknown: those a
 * vocabulary lacks (what fine-tuning adds, what nextok-translate names). */
static void test_collect(void) {
    nt_strset set = {0};
    CHECK(nt_tokenizer_collect(NT_TOKENIZER_WORD, "one two, one", &set) == NT_OK &&
              nt_tokenizer_collect(NT_TOKENIZER_WORD, "two three", &set) == NT_OK,
          "collect: %s", nt_errmsg());
    const char *want[] = {"\xE2\x96\x81one", "\xE2\x96\x81two", ",", "\xE2\x96\x81three"};
    CHECK(set.n == 4, "4 distinct words, got %d", set.n);
    for (int i = 0; i < 4 && i < set.n; i++) CHECK(strcmp(set.items[i], want[i]) == 0, "word %d: %s", i, set.items[i]);
    CHECK(nt_tokenizer_collect(NT_TOKENIZER_WORD, "bad\xFF", &set) == NT_ERR_FORMAT && set.n == 4, "bad UTF-8");
    nt_strset_free(&set);

    const char *texts[] = {"abc"};
    nt_vocab *v;
    CHECK(nt_vocab_build(&v, NT_TOKENIZER_CHAR, texts, 1, 1) == NT_OK, "build");
    CHECK(nt_vocab_collect_unknown(v, "cabbage", &set) == NT_OK && nt_vocab_collect_unknown(v, "xa", &set) == NT_OK,
          "unknown: %s", nt_errmsg());
    CHECK(set.n == 3 && strcmp(set.items[0], "g") == 0 && strcmp(set.items[1], "e") == 0 &&
              strcmp(set.items[2], "x") == 0,
          "unknown: %d tokens", set.n);
    CHECK(nt_vocab_collect_unknown(NULL, "x", &set) == NT_ERR_ARG && nt_vocab_collect_unknown(v, "x", NULL) == NT_ERR_ARG,
          "NULL arguments");
    nt_strset_free(&set);
    nt_vocab_free(v);
}

int main(void) {
    test_split();
    test_round_trip();
    test_vocab();
    test_collect();
    test_h5();
    test_split_digits();
    test_h5_split_digits();
    return nt_check_report("test_tokenizer");
}
