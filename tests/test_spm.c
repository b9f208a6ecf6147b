/* test_spm.c - SentencePiece: the C shim against Python's sentencepiece on
 * committed models (tests/make_spm_fixture.py), training here (same pieces
 * as Python's trainer, deterministic), the spm vocabulary and its id mapping,
 * round trips, HDF5 save/load and its errors, bad input; and the real
 * nextok-translate ($NT_BIN): data --from-parallel, train --tokenizer spm,
 * inspect, export-spm, resume, translate with bad lines. */
#include <hdf5.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "data/spm.h"
#include "data/tsv.h"
#include "train/checkpoint.h"
#include "data/tokenizer.h"
#include "train/vocab_h5.h"
#include "support/check.h"
#include "support/cli_run.h"
#include "support/fixtures.h"
#include "support/proc.h"
#include "support/scratch.h"

/* ---- the fixture sentences: spm_pairs.tsv, English column then German ---- */

static char *pairs_text;
static const char **lines;
static int n_lines;

static int load_pairs(void) {
    pairs_text = nt_proc_read_file(nt_fixture_path("spm_pairs.tsv"), NULL);
    if (!pairs_text) return 0;
    int rows = 0;
    for (char *p = pairs_text; *p; p++) rows += *p == '\n';
    const char **en = calloc((size_t)rows, sizeof *en), **de = calloc((size_t)rows, sizeof *de);
    lines = calloc((size_t)rows * 2, sizeof *lines);
    int r = 0;
    for (char *p = pairs_text; *p && r < rows;) {
        char *nl = strchr(p, '\n'), *tab = strchr(p, '\t');
        *nl = 0;
        *tab = 0;
        en[r] = p;
        de[r] = tab + 1;
        r++;
        p = nl + 1;
    }
    for (int i = 0; i < r; i++) lines[i] = en[i], lines[r + i] = de[i];
    n_lines = 2 * r;
    free(en);
    free(de);
    return r == 400;
}

/* ---- spm_cases.txt ---- */

#define MAX_CASES 32
typedef struct spm_case {
    char text[512];
    char ids[3][2048], pieces[3][4096], decoded[3][512];
} spm_case;
static const char *model_names[3] = {"spm_py", "spm_py_bpe", "spm_py_default"};

static void unescape_tab(char *s) {
    char *w = s;
    for (char *r = s; *r; r++) {
        if (r[0] == '\\' && r[1] == 't') { *w++ = '\t'; r++; }
        else *w++ = *r;
    }
    *w = 0;
}

static int load_cases(spm_case *cs) {
    FILE *f = fopen(nt_fixture_path("spm_cases.txt"), "r");
    if (!f) return 0;
    static char line[8192];
    int n = -1;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char *tab = strchr(line, '\t');
        if (line[0] == '#' || !tab) continue;
        *tab = 0;
        const char *val = tab + 1;
        if (strcmp(line, "text") == 0) {
            if (++n >= MAX_CASES) break;
            snprintf(cs[n].text, sizeof cs[n].text, "%s", val);
            unescape_tab(cs[n].text);
            continue;
        }
        if (n < 0) continue;
        for (int m = 0; m < 3; m++) {
            char key[64];
            snprintf(key, sizeof key, "ids %s", model_names[m]);
            if (strcmp(line, key) == 0) snprintf(cs[n].ids[m], sizeof cs[n].ids[m], "%s", val);
            snprintf(key, sizeof key, "pieces %s", model_names[m]);
            if (strcmp(line, key) == 0) snprintf(cs[n].pieces[m], sizeof cs[n].pieces[m], "%s", val);
            snprintf(key, sizeof key, "decoded %s", model_names[m]);
            if (strcmp(line, key) == 0) {
                snprintf(cs[n].decoded[m], sizeof cs[n].decoded[m], "%s", val);
                unescape_tab(cs[n].decoded[m]);
            }
        }
    }
    fclose(f);
    return n + 1;
}

static void ids_str(const int32_t *ids, int n, char *buf, size_t cap) {
    size_t k = 0;
    buf[0] = 0;
    for (int i = 0; i < n && k < cap; i++) k += (size_t)snprintf(buf + k, cap - k, "%s%d", i ? " " : "", ids[i]);
}

typedef struct joined { char s[4096]; size_t k; int n; } joined;
static void join_piece(const char *p, size_t len, void *user) {
    joined *j = user;
    if (j->n++ && j->k + 1 < sizeof j->s) j->s[j->k++] = ' ';
    if (j->k + len < sizeof j->s) { memcpy(j->s + j->k, p, len); j->k += len; }
    j->s[j->k] = 0;
}

/* ---- tests ---- */

static spm_case cases[MAX_CASES];
static int n_cases;

/* The committed Python models: the same ids, pieces and decoded text here. */
static void test_python_ids(void) {
    for (int m = 0; m < 3; m++) {
        nt_spm *sp = NULL;
        char name[64];
        snprintf(name, sizeof name, "%s.model", model_names[m]);
        CHECK(nt_spm_load_file(&sp, nt_fixture_path(name)) == NT_OK, "load %s: %s", name, nt_errmsg());
        if (!sp) continue;
        for (int c = 0; c < n_cases; c++) {
            int32_t ids[1024];
            int n = -1;
            CHECK(nt_spm_encode(sp, cases[c].text, ids, 1024, &n) == NT_OK, "encode: %s", nt_errmsg());
            char got[2048];
            ids_str(ids, n, got, sizeof got);
            CHECK(strcmp(got, cases[c].ids[m]) == 0, "%s \"%s\": ids\n  got  %s\n  want %s", model_names[m],
                  cases[c].text, got, cases[c].ids[m]);
            joined j = {{0}, 0, 0};
            CHECK(nt_spm_encode_pieces(sp, cases[c].text, join_piece, &j) == NT_OK, "pieces: %s", nt_errmsg());
            CHECK(strcmp(j.s, cases[c].pieces[m]) == 0, "%s \"%s\": pieces\n  got  %s\n  want %s", model_names[m],
                  cases[c].text, j.s, cases[c].pieces[m]);
            char out[1024];
            CHECK(nt_spm_decode(sp, ids, n, out, sizeof out) == NT_OK, "decode: %s", nt_errmsg());
            CHECK(strcmp(out, cases[c].decoded[m]) == 0, "%s: decoded \"%s\", want \"%s\"", model_names[m], out,
                  cases[c].decoded[m]);
        }
        nt_spm_info info;
        nt_spm_get_info(sp, &info);
        CHECK(strcmp(info.type, m == 1 ? "bpe" : "unigram") == 0, "%s: type %s", name, info.type);
        CHECK(info.vocab_size == (m == 2 ? 150 : 400) && nt_spm_size(sp) == info.vocab_size,
              "%s: vocab_size %d, %d pieces", name, info.vocab_size, nt_spm_size(sp));
        CHECK(info.byte_fallback == (m != 2), "%s: byte_fallback %d", name, info.byte_fallback);
        CHECK(strcmp(info.normalization, m == 2 ? "identity" : "nmt_nfkc") == 0, "%s: normalization %s", name,
              info.normalization);
        nt_spm_free(sp);
    }
}

static int same_model_bytes(const nt_spm *a, const nt_spm *b) {
    const uint8_t *x, *y;
    size_t nx, ny;
    nt_spm_bytes(a, &x, &nx);
    nt_spm_bytes(b, &y, &ny);
    return nx == ny && memcmp(x, y, nx) == 0;
}

/* Training here on the fixture sentences with Python's options gives
 * Python's pieces (and scores: the same bytes), twice the same. */
static void test_train_matches_python(void) {
    for (int m = 0; m < 2; m++) {
        nt_spm_options o;
        nt_spm_options_default(&o);
        o.vocab_size = 400;
        o.type = m ? NT_SPM_BPE : NT_SPM_UNIGRAM;
        nt_spm *a = NULL, *b = NULL, *py = NULL;
        CHECK(nt_spm_train(&a, &o, lines, n_lines) == NT_OK, "train %s: %s", nt_spm_type_name(o.type),
              nt_errmsg());
        CHECK(nt_spm_train(&b, &o, lines, n_lines) == NT_OK, "train again: %s", nt_errmsg());
        char name[64];
        snprintf(name, sizeof name, "%s.model", model_names[m]);
        CHECK(nt_spm_load_file(&py, nt_fixture_path(name)) == NT_OK, "load: %s", nt_errmsg());
        if (!a || !b || !py) goto done;
        CHECK(same_model_bytes(a, b), "%s: two trainings differ", nt_spm_type_name(o.type));
        CHECK(nt_spm_size(a) == nt_spm_size(py), "%d pieces, Python %d", nt_spm_size(a), nt_spm_size(py));
        int diff = -1;
        for (int i = 0; i < nt_spm_size(a) && diff < 0; i++)
            if (strcmp(nt_spm_piece(a, i), nt_spm_piece(py, i)) != 0 ||
                nt_spm_piece_kind_of(a, i) != nt_spm_piece_kind_of(py, i))
                diff = i;
        CHECK(diff < 0, "%s: piece %d is \"%s\", Python's \"%s\"", nt_spm_type_name(o.type), diff,
              diff >= 0 ? nt_spm_piece(a, diff) : "", diff >= 0 ? nt_spm_piece(py, diff) : "");
        CHECK(same_model_bytes(a, py), "%s: model bytes differ from Python's", nt_spm_type_name(o.type));
        const char *want[5] = {"<pad>", "<bos>", "<eos>", "<unk>", "<sep>"};
        for (int i = 0; i < 5; i++)
            CHECK(strcmp(nt_spm_piece(a, i), want[i]) == 0, "piece %d is %s", i, nt_spm_piece(a, i));
        CHECK(nt_spm_pad_id(a) == 0 && nt_spm_bos_id(a) == 1 && nt_spm_eos_id(a) == 2 && nt_spm_unk_id(a) == 3,
              "special ids %d %d %d %d", nt_spm_pad_id(a), nt_spm_bos_id(a), nt_spm_eos_id(a), nt_spm_unk_id(a));
        CHECK(nt_spm_piece_kind_of(a, 4) == NT_SPM_CONTROL && nt_spm_piece_kind_of(a, 5) == NT_SPM_BYTE,
              "kinds %d %d", nt_spm_piece_kind_of(a, 4), nt_spm_piece_kind_of(a, 5));
    done:
        nt_spm_free(a);
        nt_spm_free(b);
        nt_spm_free(py);
    }
}

/* The spm vocabulary: identity map for our layout, round trips, never <unk>. */
static void test_vocab_identity(void) {
    nt_spm_options o;
    nt_spm_options_default(&o);
    o.vocab_size = 440;
    nt_vocab *v = NULL;
    CHECK(nt_vocab_build_spm(&v, &o, lines, n_lines) == NT_OK, "build: %s", nt_errmsg());
    if (!v) return;
    CHECK(nt_vocab_kind(v) == NT_TOKENIZER_SPM && nt_vocab_size(v) == 440, "kind %d size %d", nt_vocab_kind(v),
          nt_vocab_size(v));
    const nt_spm *sp = nt_vocab_spm(v);
    for (int i = 0; i < nt_vocab_size(v); i++)
        if (strcmp(nt_vocab_token(v, i), nt_spm_piece(sp, i)) != 0) {
            CHECK(0, "token %d \"%s\" is not piece \"%s\"", i, nt_vocab_token(v, i), nt_spm_piece(sp, i));
            break;
        }
    const char *extra[] = {"Ein Hund läuft über die Brücke 🐕 — 犬!", "<pad> <unk> as text", "x"};
    int bad_rt = 0, unk = 0;
    for (int i = 0; i < n_lines + 3; i++) {
        const char *t = i < n_lines ? lines[i] : extra[i - n_lines];
        int32_t ids[512], sids[512];
        int n = 0, ns = 0;
        CHECK(nt_vocab_encode(v, t, ids, 512, &n) == NT_OK, "encode %s: %s", t, nt_errmsg());
        CHECK(nt_spm_encode(sp, t, sids, 512, &ns) == NT_OK && ns == n && memcmp(ids, sids, (size_t)n * 4) == 0,
              "vocab ids differ from SentencePiece ids for \"%s\"", t);
        int cnt = -1;
        CHECK(nt_vocab_encode(v, t, NULL, 0, &cnt) == NT_OK && cnt == n, "count %d vs %d", cnt, n);
        for (int k = 0; k < n; k++) unk += ids[k] < NT_TOK_N_SPECIAL;
        char out[2048];
        CHECK(nt_vocab_decode(v, ids, n, out, sizeof out) == NT_OK, "decode: %s", nt_errmsg());
        bad_rt += strcmp(out, t) != 0;
        if (strcmp(out, t) != 0) fprintf(stderr, "round trip: \"%s\" -> \"%s\"\n", t, out);
    }
    CHECK(bad_rt == 0, "%d texts do not round-trip", bad_rt);
    CHECK(unk == 0, "%d special ids (<unk>) in encodings", unk);
    /* specials are dropped by decode; a small buffer is an error with the size */
    int32_t ids[8] = {NT_TOK_BOS, 0, 0, NT_TOK_EOS};
    int n;
    CHECK(nt_vocab_encode(v, "ein", ids + 1, 2, &n) == NT_OK && n <= 2, "encode ein: n %d", n);
    char out[64], tiny[2];
    CHECK(nt_vocab_decode(v, ids, 4, out, sizeof out) == NT_OK && strcmp(out, "ein") == 0, "decode \"%s\"", out);
    CHECK(nt_vocab_decode(v, ids, 4, tiny, sizeof tiny) == NT_ERR_ARG && strstr(nt_errmsg(), "needs 4"),
          "tiny buffer: %s", nt_errmsg());
    int32_t oob = 440;
    CHECK(nt_vocab_decode(v, &oob, 1, out, sizeof out) == NT_ERR_ARG, "id out of range accepted");
    /* bad input */
    CHECK(nt_vocab_encode(v, "caf\xC3", ids, 8, &n) == NT_ERR_FORMAT && strstr(nt_errmsg(), "invalid UTF-8"),
          "invalid UTF-8: %s", nt_errmsg());
    CHECK(nt_vocab_encode(v, "a long sentence about dogs", ids, 2, &n) == NT_ERR_ARG, "cap not enforced");
    CHECK(nt_vocab_encode(v, "", ids, 8, &n) == NT_OK && n == 0, "empty text: n %d", n);
    size_t big = 100 * 1024;
    char *line = malloc(big + 1);
    for (size_t i = 0; i < big; i++) line[i] = "ab cd"[i % 5];
    line[big] = 0;
    CHECK(nt_vocab_encode(v, line, NULL, 0, &n) == NT_OK && n > 1000, "100 KB line: n %d %s", n, nt_errmsg());
    free(line);
    joined j = {{0}, 0, 0};
    CHECK(nt_vocab_split(v, "Ein Hund", join_piece, &j) == NT_OK && j.n >= 2, "split: %s", j.s);
    CHECK(nt_tokenizer_split(NT_TOKENIZER_SPM, "x", join_piece, &j) == NT_ERR_ARG, "split without model");
    nt_vocab_set_kind(v, NT_TOKENIZER_CHAR);
    CHECK(nt_vocab_kind(v) == NT_TOKENIZER_SPM, "set_kind changed an spm vocabulary");
    nt_vocab_free(v);
}

/* A model with SentencePiece's default layout (unk 0, <s> 1, </s> 2, no
 * pad, no byte fallback): its ids are mapped around nextok's specials. */
static void test_vocab_mapping(void) {
    nt_spm *sp = NULL;
    CHECK(nt_spm_load_file(&sp, nt_fixture_path("spm_py_default.model")) == NT_OK, "load: %s", nt_errmsg());
    if (!sp) return;
    CHECK(nt_spm_unk_id(sp) == 0 && nt_spm_bos_id(sp) == 1 && nt_spm_eos_id(sp) == 2 && nt_spm_pad_id(sp) < 0,
          "default layout %d %d %d %d", nt_spm_unk_id(sp), nt_spm_bos_id(sp), nt_spm_eos_id(sp), nt_spm_pad_id(sp));
    int npieces = nt_spm_size(sp);
    char piece3[64];
    snprintf(piece3, sizeof piece3, "%s", nt_spm_piece(sp, 3));
    nt_vocab *v = NULL;
    CHECK(nt_vocab_from_spm(&v, sp) == NT_OK, "from_spm: %s", nt_errmsg());
    if (!v) return;
    /* 5 specials + the 147 ordinary pieces (ids 3..149 -> 5..151) */
    CHECK(nt_vocab_size(v) == npieces + 2, "size %d, pieces %d", nt_vocab_size(v), npieces);
    CHECK(strcmp(nt_vocab_token(v, 5), piece3) == 0, "token 5 \"%s\", want spm piece 3 \"%s\"",
          nt_vocab_token(v, 5), piece3);
    for (int c = 0; c < n_cases; c++) {
        int32_t ids[1024];
        int n = 0;
        CHECK(nt_vocab_encode(v, cases[c].text, ids, 1024, &n) == NT_OK, "encode: %s", nt_errmsg());
        /* Python's ids, mapped: 0 (unk) -> 3, 1/2 -> 1/2, i >= 3 -> i + 2 */
        int32_t want[1024];
        int nw = 0;
        for (char *p = cases[c].ids[2]; *p;) {
            int id = (int)strtol(p, &p, 10);
            want[nw++] = id == 0 ? NT_TOK_UNK : id < 3 ? id : id + 2;
            while (*p == ' ') p++;
        }
        char got_s[2048], want_s[2048];
        ids_str(ids, n, got_s, sizeof got_s);
        ids_str(want, nw, want_s, sizeof want_s);
        CHECK(strcmp(got_s, want_s) == 0, "\"%s\": mapped ids\n  got  %s\n  want %s", cases[c].text, got_s, want_s);
        char out[1024];
        CHECK(nt_vocab_decode(v, ids, n, out, sizeof out) == NT_OK, "decode: %s", nt_errmsg());
    }
    int32_t ids[64];
    int n = 0;
    CHECK(nt_vocab_encode(v, "犬", ids, 64, &n) == NT_OK && n >= 1 && ids[n - 1] == NT_TOK_UNK,
          "no byte fallback: unknown char -> <unk> (n %d, last %d)", n, n ? ids[n - 1] : -1);
    nt_vocab_free(v);
}

/* 1 if the vocabulary of the HDF5 file at path fails to load with
 * NT_ERR_FORMAT and a message that holds `want` (printed otherwise). */
static int load_fails(const char *path, const char *want) {
    nt_vocab *w = NULL;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    nt_status s = nt_vocab_load_h5(&w, f);
    H5Fclose(f);
    int ok = s == NT_ERR_FORMAT && w == NULL && strstr(nt_errmsg(), want) != NULL;
    if (!ok) fprintf(stderr, "%s: status %s, message: %s\n", path, nt_status_name(s), nt_errmsg());
    nt_vocab_free(w);
    return ok;
}

static void test_hdf5(void) {
    nt_spm_options o;
    nt_spm_options_default(&o);
    o.vocab_size = 450;
    o.type = NT_SPM_BPE;
    nt_vocab *v = NULL, *w = NULL;
    CHECK(nt_vocab_build_spm(&v, &o, lines, n_lines) == NT_OK, "build: %s", nt_errmsg());
    if (!v) return;
    char path[64];
    snprintf(path, sizeof path, "test_spm_%d.h5", (int)getpid());
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(nt_vocab_save_h5(v, f) == NT_OK, "save: %s", nt_errmsg());
    CHECK(nt_vocab_save_h5(v, f) == NT_ERR_IO, "second save accepted");
    H5Fclose(f);
    f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(nt_vocab_load_h5(&w, f) == NT_OK, "load: %s", nt_errmsg());
    H5Fclose(f);
    if (w) {
        CHECK(nt_vocab_kind(w) == NT_TOKENIZER_SPM && nt_vocab_size(w) == 450, "kind %d size %d", nt_vocab_kind(w),
              nt_vocab_size(w));
        CHECK(same_model_bytes(nt_vocab_spm(v), nt_vocab_spm(w)), "model bytes changed in HDF5");
        nt_spm_info info;
        nt_spm_get_info(nt_vocab_spm(w), &info);
        CHECK(strcmp(info.type, "bpe") == 0 && info.vocab_size == 450 && info.byte_fallback == 1,
              "info %s %d %d", info.type, info.vocab_size, info.byte_fallback);
        int32_t a[256], b[256];
        int na, nb;
        nt_vocab_encode(v, lines[7], a, 256, &na);
        nt_vocab_encode(w, lines[7], b, 256, &nb);
        CHECK(na == nb && memcmp(a, b, (size_t)na * 4) == 0, "encodings differ after load");
    }
    nt_vocab_free(w);
    w = NULL;

    /* corrupted: the model bytes overwritten, then the model dataset gone */
    f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t ds = H5Dopen2(f, "vocab/spm_model", H5P_DEFAULT);
    uint8_t junk[4] = {0xFF, 0xFF, 0xFF, 0xFF};
    hsize_t start = 0, count = 4;
    hid_t fs = H5Dget_space(ds), ms = H5Screate_simple(1, &count, NULL);
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count, NULL);
    H5Dwrite(ds, H5T_NATIVE_UINT8, ms, fs, H5P_DEFAULT, junk);
    H5Sclose(ms);
    H5Sclose(fs);
    H5Dclose(ds);
    H5Fclose(f);
    CHECK(load_fails(path, "spm_model"), "junk model");
    f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    H5Ldelete(f, "vocab/spm_model", H5P_DEFAULT);
    H5Fclose(f);
    CHECK(load_fails(path, "no dataset vocab/spm_model"), "missing model");
    remove(path);

    /* tokens that are not the model's pieces */
    nt_vocab *u = NULL;
    nt_spm_options_default(&o);
    o.vocab_size = 420;
    CHECK(nt_vocab_build_spm(&u, &o, lines, n_lines) == NT_OK, "build: %s", nt_errmsg());
    f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    nt_vocab_save_h5(u, f);
    hid_t g = H5Gopen2(f, "vocab", H5P_DEFAULT);
    H5Ldelete(g, "spm_model", H5P_DEFAULT);
    const uint8_t *bytes;
    size_t nbytes;
    nt_spm_bytes(nt_vocab_spm(v), &bytes, &nbytes); /* the other (450-piece) model */
    hsize_t dim = nbytes;
    hid_t sp = H5Screate_simple(1, &dim, NULL);
    ds = H5Dcreate2(g, "spm_model", H5T_STD_U8LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ds, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes);
    H5Dclose(ds);
    H5Sclose(sp);
    H5Gclose(g);
    H5Fclose(f);
    CHECK(load_fails(path, "420 tokens"), "tokens vs model");
    remove(path);
    nt_vocab_free(u);
    nt_vocab_free(v);
}

/* ---- separate source and target models: spm_sep_cases.txt ---- */

static char sep_hash[2][32];
static size_t sep_bytes[2];
static char sep_text[MAX_CASES][512], sep_ids[MAX_CASES][2][2048];
static int n_sep;

static int load_sep_cases(void) {
    FILE *f = fopen(nt_fixture_path("spm_sep_cases.txt"), "r");
    if (!f) return 0;
    char line[8192];
    int n = -1;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char side[8], hash[32];
        size_t bytes;
        if (sscanf(line, "model %7s %31s %zu", side, hash, &bytes) == 3) {
            int k = strcmp(side, "tgt") == 0;
            snprintf(sep_hash[k], sizeof sep_hash[k], "%s", hash);
            sep_bytes[k] = bytes;
            continue;
        }
        char *tab = strchr(line, '\t');
        if (!tab) continue;
        *tab = 0;
        const char *val = tab + 1;
        if (strcmp(line, "text") == 0 && n + 1 < MAX_CASES) {
            n++;
            snprintf(sep_text[n], sizeof sep_text[n], "%s", val);
            unescape_tab(sep_text[n]);
        } else if (n >= 0 && strcmp(line, "ids src") == 0) snprintf(sep_ids[n][0], sizeof sep_ids[n][0], "%s", val);
        else if (n >= 0 && strcmp(line, "ids tgt") == 0) snprintf(sep_ids[n][1], sizeof sep_ids[n][1], "%s", val);
    }
    fclose(f);
    return n + 1;
}

static void model_hash(const nt_spm *m, char *out, size_t cap, size_t *bytes) {
    const uint8_t *b;
    size_t nb;
    nt_spm_bytes(m, &b, &nb);
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < nb; i++) h = (h ^ b[i]) * 0x100000001b3ULL;
    snprintf(out, cap, "%016llx", (unsigned long long)h);
    *bytes = nb;
}

/* Python's ids of a side, in the checkpoint's id space: the target model's
 * ids as they are, a source id i >= 5 at T - 5 + i. */
static int expected_ids(const char *list, int side, int n_tgt, int32_t *ids) {
    int n = 0;
    for (const char *p = list; *p;) {
        char *end;
        long id = strtol(p, &end, 10);
        if (end == p) break;
        ids[n++] = (int32_t)(side == 0 && id >= NT_TOK_N_SPECIAL ? n_tgt - NT_TOK_N_SPECIAL + id : id);
        p = end;
    }
    return n;
}

/* --spm-separate: each model trained here is Python's (same bytes), the ids
 * of both sides are Python's in the documented id space, HDF5 round trip. */
static void test_separate(void) {
    n_sep = load_sep_cases();
    CHECK(n_sep == 11 && sep_bytes[0] && sep_bytes[1], "spm_sep_cases.txt: %d cases", n_sep);
    nt_spm_options o;
    nt_spm_options_default(&o);
    o.vocab_size = 350;
    int half = n_lines / 2; /* lines: the English (source) column, then the German (target) one */
    nt_vocab *v = NULL, *w = NULL;
    CHECK(nt_vocab_build_spm_pair(&v, &o, lines, half, lines + half, half) == NT_OK, "build: %s", nt_errmsg());
    if (!v) return;
    const nt_spm *src = nt_vocab_spm_src(v), *tgt = nt_vocab_spm(v);
    CHECK(src && tgt && src != tgt, "two models");
    if (!src || !tgt) goto done;
    for (int k = 0; k < 2; k++) {
        char h[32];
        size_t nb;
        model_hash(k ? tgt : src, h, sizeof h, &nb);
        CHECK(strcmp(h, sep_hash[k]) == 0 && nb == sep_bytes[k], "%s model: hash %s, %zu bytes; Python's %s, %zu",
              k ? "target" : "source", h, nb, sep_hash[k], sep_bytes[k]);
    }
    int T = nt_vocab_target_size(v);
    CHECK(T == 350 && nt_vocab_size(v) == 350 + 350 - NT_TOK_N_SPECIAL, "sizes: target %d, all %d", T,
          nt_vocab_size(v));
    CHECK(strcmp(nt_vocab_token(v, T), nt_spm_piece(src, NT_TOK_N_SPECIAL)) == 0, "id T is \"%s\", source piece 5 \"%s\"",
          nt_vocab_token(v, T), nt_spm_piece(src, NT_TOK_N_SPECIAL));
    for (int c = 0; c < n_sep; c++) {
        int32_t got[512], want[512];
        int n = 0;
        for (int side = 0; side < 2; side++) {
            int nw = expected_ids(sep_ids[c][side], side, T, want);
            nt_status s = side ? nt_vocab_encode(v, sep_text[c], got, 512, &n)
                               : nt_vocab_encode_src(v, sep_text[c], got, 512, &n);
            char a[2048], b[2048];
            ids_str(got, n, a, sizeof a);
            ids_str(want, nw, b, sizeof b);
            CHECK(s == NT_OK && n == nw && strcmp(a, b) == 0, "case %d %s: ids %s, want %s", c,
                  side ? "target" : "source", a, b);
            if (side == 0)
                for (int i = 0; i < n; i++)
                    CHECK(got[i] < NT_TOK_N_SPECIAL || got[i] >= T, "case %d: source id %d inside the target's", c,
                          got[i]);
        }
        /* target side round trip (German text) */
        char out[1024];
        if (c == 1) {
            nt_vocab_encode(v, sep_text[c], got, 512, &n);
            CHECK(nt_vocab_decode(v, got, n, out, sizeof out) == NT_OK && strcmp(out, sep_text[c]) == 0,
                  "decode: \"%s\"", out);
        }
    }
    /* source pieces in a target sequence are dropped like specials */
    int32_t mixed[3] = {T, NT_TOK_EOS, nt_vocab_size(v) - 1};
    char out[64];
    CHECK(nt_vocab_decode(v, mixed, 3, out, sizeof out) == NT_OK && out[0] == 0, "source pieces decoded: \"%s\"", out);

    /* HDF5: /vocab/spm_model (target) + /vocab/spm_model_src */
    char path[64];
    snprintf(path, sizeof path, "test_spm_sep_%d.h5", (int)getpid());
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(nt_vocab_save_h5(v, f) == NT_OK, "save: %s", nt_errmsg());
    H5Fclose(f);
    f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    CHECK(nt_vocab_load_h5(&w, f) == NT_OK, "load: %s", nt_errmsg());
    if (w) {
        CHECK(nt_vocab_spm_src(w) && same_model_bytes(nt_vocab_spm_src(w), src) && same_model_bytes(nt_vocab_spm(w), tgt),
              "models changed in HDF5");
        CHECK(nt_vocab_size(w) == nt_vocab_size(v) && nt_vocab_target_size(w) == T, "sizes after load");
        int32_t a[128], b[128];
        int na = 0, nb = 0;
        nt_vocab_encode_src(v, sep_text[0], a, 128, &na);
        nt_vocab_encode_src(w, sep_text[0], b, 128, &nb);
        CHECK(na > 0 && na == nb && memcmp(a, b, (size_t)na * 4) == 0, "source ids after load");
    }
    nt_vocab_free(w);
    w = NULL;
    /* without the source model the stored tokens do not match: a clear error */
    H5Ldelete(f, "vocab/spm_model_src", H5P_DEFAULT);
    CHECK(nt_vocab_load_h5(&w, f) == NT_ERR_FORMAT && w == NULL && strstr(nt_errmsg(), "695 tokens") &&
              strstr(nt_errmsg(), "350 pieces"),
          "no source model: %s", nt_errmsg());
    H5Fclose(f);
    remove(path);
    CHECK(nt_vocab_from_spm_pair(&w, NULL, NULL) == NT_ERR_ARG && w == NULL, "NULL models");
done:
    nt_vocab_free(v);
}

static void test_errors(void) {
    nt_spm *m = (nt_spm *)1;
    nt_spm_options o;
    nt_spm_options_default(&o);
    o.vocab_size = 100;
    CHECK(nt_spm_train(&m, &o, lines, n_lines) == NT_ERR_ARG && m == NULL && strstr(nt_errmsg(), "vocab_size 100"),
          "small vocab: %s", nt_errmsg());
    o.vocab_size = 5000; /* more than 400 short sentences allow */
    CHECK(nt_spm_train(&m, &o, lines, n_lines) == NT_ERR_STATE && strstr(nt_errmsg(), "Vocabulary size"),
          "large vocab: %s", nt_errmsg());
    o.vocab_size = 400;
    o.threads = 0;
    CHECK(nt_spm_train(&m, &o, lines, n_lines) == NT_ERR_ARG && strstr(nt_errmsg(), "threads 0"), "threads: %s",
          nt_errmsg());
    o.threads = 1;
    const char *bad[] = {"fine", "caf\xC3"};
    CHECK(nt_spm_train(&m, &o, bad, 2) == NT_ERR_FORMAT && strstr(nt_errmsg(), "sentence 1"), "bad utf-8: %s",
          nt_errmsg());
    CHECK(nt_spm_train(&m, &o, bad, 0) == NT_ERR_ARG, "no sentences accepted");
    const char *files[] = {"/nonexistent/x.txt"};
    CHECK(nt_spm_train_files(&m, &o, files, 1) == NT_ERR_IO && strstr(nt_errmsg(), "/nonexistent/x.txt"),
          "missing file: %s", nt_errmsg());
    CHECK(nt_spm_load(&m, "not a model", 11) == NT_ERR_FORMAT && m == NULL, "junk bytes: %s", nt_errmsg());
    CHECK(nt_spm_load(&m, "", 0) == NT_ERR_FORMAT, "empty model accepted");
    CHECK(nt_spm_load_file(&m, "/nonexistent.model") == NT_ERR_IO, "missing model file: %s", nt_errmsg());
    nt_spm_type t;
    CHECK(nt_spm_type_parse("bpe", &t) == NT_OK && t == NT_SPM_BPE, "parse bpe");
    CHECK(nt_spm_type_parse("word", &t) == NT_ERR_ARG && strstr(nt_errmsg(), "word"), "parse word");
    nt_tokenizer_kind k;
    CHECK(nt_tokenizer_kind_parse("spm", &k) == NT_OK && k == NT_TOKENIZER_SPM, "parse spm");
    nt_vocab *v = NULL;
    CHECK(nt_vocab_build(&v, NT_TOKENIZER_SPM, lines, 2, 1) == NT_ERR_ARG, "nt_vocab_build spm accepted");

    /* training from files = training from the same lines */
    char path[64];
    snprintf(path, sizeof path, "test_spm_%d.txt", (int)getpid());
    FILE *f = fopen(path, "w");
    for (int i = 0; i < n_lines; i++) fprintf(f, "%s\n", lines[i]);
    fclose(f);
    nt_spm *a = NULL, *b = NULL;
    const char *p1[] = {path};
    CHECK(nt_spm_train_files(&a, &o, p1, 1) == NT_OK, "train_files: %s", nt_errmsg());
    CHECK(nt_spm_train(&b, &o, lines, n_lines) == NT_OK, "train: %s", nt_errmsg());
    if (a && b) CHECK(same_model_bytes(a, b), "files and memory give different models");
    char mpath[64];
    snprintf(mpath, sizeof mpath, "test_spm_%d.model", (int)getpid());
    nt_spm *c = NULL;
    CHECK(a && nt_spm_save_file(a, mpath) == NT_OK && nt_spm_load_file(&c, mpath) == NT_OK && same_model_bytes(a, c),
          "save/load file: %s", nt_errmsg());
    f = fopen(path, "w");
    fprintf(f, "good line\nbad \xFF line\n");
    fclose(f);
    nt_spm *d = NULL;
    CHECK(nt_spm_train_files(&d, &o, p1, 1) == NT_ERR_FORMAT && strstr(nt_errmsg(), ":2: invalid UTF-8"),
          "bad line in a file: %s", nt_errmsg());
    nt_spm_free(a);
    nt_spm_free(b);
    nt_spm_free(c);
    remove(path);
    remove(mpath);
}

/* ---- the command line ---- */

static void write_text(const char *name, const char *text) {
    nt_proc_write_file(nt_scratch_path(name), text, strlen(text));
}

/* Whether the scratch folder holds a file whose name starts with `prefix`
 * (the output or its temporary "<name>.tmp-<pid>"). */
static int left_behind(const char *prefix) {
    DIR *d = opendir(nt_scratch);
    int found = 0;
    for (struct dirent *e; d && (e = readdir(d));) found |= strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    if (d) closedir(d);
    return found;
}

static void test_cli_from_parallel(void) {
    write_text("a.de", "Ein Hund\tläuft.\r\nZwei Katzen.\nDrei Vögel\n");
    write_text("a.en", "A dog runs.\nTwo cats.\nThree birds");
    const char *a1[] = {"data", "--from-parallel", nt_scratch_path("a.de"), nt_scratch_path("a.en"), "--out", nt_scratch_path("d"), NULL};
    CHECK(nt_cli_run(a1) == 0 && strstr(nt_cli_out, "3 pairs") && strstr(nt_cli_out, "1 tab "), "from-parallel: %s%s", nt_cli_out,
          nt_cli_err);
    char *t = nt_proc_read_file(nt_scratch_path("d/a.tsv"), NULL);
    CHECK(t && strcmp(t, "Ein Hund läuft.\tA dog runs.\nZwei Katzen.\tTwo cats.\nDrei Vögel\tThree birds\n") == 0,
          "a.tsv: \"%s\"", t ? t : "(missing)");
    free(t);
    const char *a2[] = {"data", "--from-parallel", nt_scratch_path("a.de"), nt_scratch_path("a.en"), "--out", nt_scratch_path("x.tsv"),
                        NULL};
    CHECK(nt_cli_run(a2) == 0 && access(nt_scratch_path("x.tsv"), F_OK) == 0, "--out FILE.tsv: %s", nt_cli_err);
    /* bad input: each an error naming file and line, no output file */
    write_text("short.en", "A dog runs.\nTwo cats.\n");
    const char *a3[] = {"data", "--from-parallel", nt_scratch_path("a.de"), nt_scratch_path("short.en"), "--out", nt_scratch_path("y.tsv"),
                        NULL};
    CHECK(nt_cli_run(a3) == 1 && strstr(nt_cli_err, "short.en ends after line 2") && strstr(nt_cli_err, "a.de has a line 3"),
          "count mismatch: %s", nt_cli_err);
    CHECK(access(nt_scratch_path("y.tsv"), F_OK) != 0 && !left_behind("y.tsv"), "file left behind");
    write_text("bad.en", "A dog runs.\nTwo \xC3 cats.\nThree birds\n");
    const char *a4[] = {"data", "--from-parallel", nt_scratch_path("a.de"), nt_scratch_path("bad.en"), "--out", nt_scratch_path("y.tsv"),
                        NULL};
    CHECK(nt_cli_run(a4) == 1 && strstr(nt_cli_err, "bad.en:2: invalid UTF-8 at byte 5"), "bad UTF-8: %s", nt_cli_err);
    write_text("empty.en", "A dog runs.\n \t \nThree birds\n");
    const char *a5[] = {"data", "--from-parallel", nt_scratch_path("a.de"), nt_scratch_path("empty.en"), "--out", nt_scratch_path("y.tsv"),
                        NULL};
    CHECK(nt_cli_run(a5) == 1 && strstr(nt_cli_err, "empty.en:2: empty line"), "empty line: %s", nt_cli_err);
    const char *a6[] = {"data", "--from-parallel", nt_scratch_path("a.de"), NULL};
    CHECK(nt_cli_run(a6) == 2, "missing TGT_FILE: %d %s", 0, nt_cli_err);
    const char *a7[] = {"data", "--from-parallel", nt_scratch_path("nope.de"), nt_scratch_path("a.en"), "--out", nt_scratch_path("y.tsv"),
                        NULL};
    CHECK(nt_cli_run(a7) == 1 && strstr(nt_cli_err, "nope.de"), "missing file: %s", nt_cli_err);
}

/* train --tokenizer spm on the 400 fixture pairs (the last 50 again as
 * validation), a few updates of the tiny preset; inspect, export-spm,
 * resume, translate. */
static void test_cli_train(void) {
    char *all = nt_proc_read_file(nt_fixture_path("spm_pairs.tsv"), NULL);
    if (!all) { CHECK(0, "no fixture"); return; }
    char *cut = all;
    for (int i = 0; i < 350; i++) cut = strchr(cut, '\n') + 1;
    nt_proc_write_file(nt_scratch_path("valid.tsv"), cut, strlen(cut));
    nt_proc_write_file(nt_scratch_path("train.tsv"), all, strlen(all));
    free(all);
    const char *run_dir = nt_scratch_path("run");
    const char *a1[] = {"train", "--train", nt_scratch_path("train.tsv"), "--valid", nt_scratch_path("valid.tsv"), "--out", run_dir,
                        "--tokenizer", "spm", "--vocab-size", "400", "--spm-type", "unigram", "--spm-joint",
                        "--preset", "tiny", "--steps", "6", "--eval-every", "3", "--eval-exact-max", "8",
                        "--progress", "off", "--threads", "2", NULL};
    int rc = nt_cli_run(a1);
    CHECK(rc == 0, "train: %d %s", rc, nt_cli_err);
    if (rc != 0) return;
    CHECK(strstr(nt_cli_err, "vocabulary 400 (spm)"), "train log: %s", nt_cli_err);
    char ckpt[1200], last[1200];
    snprintf(ckpt, sizeof ckpt, "%s/checkpoint-best.h5", run_dir);
    snprintf(last, sizeof last, "%s/checkpoint-last.h5", run_dir);

    /* the same sentences in the same order (sources, then targets) and the
     * same options as tests/make_spm_fixture.py: export-spm writes Python's
     * model file byte for byte */
    const char *a2[] = {"export-spm", ckpt, nt_scratch_path("out.model"), NULL};
    CHECK(nt_cli_run(a2) == 0 && strstr(nt_cli_out, "400 pieces"), "export-spm: %s%s", nt_cli_out, nt_cli_err);
    nt_spm *py = NULL, *ex = NULL;
    nt_spm_load_file(&py, nt_fixture_path("spm_py.model"));
    nt_spm_load_file(&ex, nt_scratch_path("out.model"));
    CHECK(py && ex && nt_spm_size(ex) == 400, "exported model: %s", nt_errmsg());
    nt_model *m = NULL;
    nt_vocab *v = NULL;
    CHECK(nt_ckpt_load(ckpt, &m, &v) == NT_OK && nt_vocab_kind(v) == NT_TOKENIZER_SPM, "load: %s", nt_errmsg());
    if (v && ex) {
        CHECK(same_model_bytes(nt_vocab_spm(v), ex), "export-spm changed the bytes");
        CHECK(py && same_model_bytes(py, ex), "the CLI's model is not Python's spm_py.model");
        int32_t a[256], b[256];
        int na = 0, nb = 0;
        nt_vocab_encode(v, cases[0].text, a, 256, &na);
        nt_spm_encode(ex, cases[0].text, b, 256, &nb);
        CHECK(na > 0 && na == nb && memcmp(a, b, (size_t)na * 4) == 0, "checkpoint ids != exported model's ids");
    }
    nt_model_free(m);
    nt_vocab_free(v);
    nt_spm_free(py);
    nt_spm_free(ex);
    const char *a3[] = {"export-spm", ckpt, "/nonexistent/dir/x.model", NULL};
    CHECK(nt_cli_run(a3) == 1 && strstr(nt_cli_err, "/nonexistent/dir/x.model"), "export to a bad path: %s", nt_cli_err);

    const char *a4[] = {"inspect", ckpt, NULL};
    CHECK(nt_cli_run(a4) == 0 && strstr(nt_cli_out, "400 tokens (spm tokenizer") &&
              strstr(nt_cli_out, "sentencepiece: unigram, 400 pieces") && strstr(nt_cli_out, "byte fallback on") && strstr(nt_cli_out, "checkpoint ids = SentencePiece ids"),
          "inspect: %s%s", nt_cli_out, nt_cli_err);

    /* resume to 9 updates */
    const char *a5[] = {"train", "--resume", run_dir, "--steps", "9", "--progress", "off", "--threads", "2", NULL};
    CHECK(nt_cli_run(a5) == 0, "resume: %s", nt_cli_err);
    nt_train_state *ts = nt_malloc(sizeof *ts);
    CHECK(ts && nt_ckpt_load_train(last, ts) == NT_OK && ts->step == 9, "resumed to step %lld",
          ts ? (long long)ts->step : -1LL);
    nt_free(ts);
    const char *a5b[] = {"train", "--resume", run_dir, "--steps", "12", "--vocab-size", "300", NULL};
    CHECK(nt_cli_run(a5b) == 2 && strstr(nt_cli_err, "cannot change on --resume"), "--vocab-size on resume: %s", nt_cli_err);

    /* finetune from it on text with characters the pieces lack: byte fallback, no vocabulary mismatch */
    write_text("ft.tsv", "Ein Hund 🐕 läuft.\tA dog 🐕 runs.\nZwei Katzen 猫.\tTwo cats 猫.\n");
    const char *a5c[] = {"finetune", "--checkpoint", last, "--train", nt_scratch_path("ft.tsv"), "--valid", nt_scratch_path("ft.tsv"),
                         "--out", nt_scratch_path("ft"), "--steps", "2", "--eval-every", "2", "--progress", "off",
                         "--threads", "2", NULL};
    CHECK(nt_cli_run(a5c) == 0, "finetune: %s", nt_cli_err);
    char ft[1200];
    snprintf(ft, sizeof ft, "%s/checkpoint-last.h5", nt_scratch_path("ft"));
    m = NULL;
    v = NULL;
    CHECK(nt_ckpt_load(ft, &m, &v) == NT_OK && nt_vocab_size(v) == 400 && nt_vocab_spm(v), "finetuned: %s",
          nt_errmsg());
    nt_model_free(m);
    nt_vocab_free(v);

    /* translate: good lines, and the translator's usual per-line messages for bad ones */
    static char input[120000];
    size_t k = (size_t)snprintf(input, sizeof input, "Ein Mann spielt im Park.\nbad \xFF byte\n\n");
    memset(input + k, 'a', 100 * 1024);
    k += 100 * 1024;
    snprintf(input + k, sizeof input - k, "\nZwei Hunde 🐕 laufen.\n");
    const char *a6[] = {"translate", "--checkpoint", last, "--max-new-tokens", "6", "--threads", "2", NULL};
    rc = nt_cli_run_in(input, a6);
    int nout = 0;
    for (char *p = nt_cli_out; *p; p++) nout += *p == '\n';
    /* every line gets its output line; failed lines make the exit status 1 at the end */
    CHECK(rc == 1 && nout == 5, "translate: rc %d, %d output lines, %s", rc, nout, nt_cli_err);
    CHECK(strstr(nt_cli_err, "line 2: invalid UTF-8 at byte 5"), "invalid UTF-8 message: %s", nt_cli_err);
    CHECK(strstr(nt_cli_err, "line 4: too long (102400 bytes"), "100 KB line message: %s", nt_cli_err);
    CHECK(!strstr(nt_cli_err, "line 1:") && !strstr(nt_cli_err, "line 5:"), "good lines got messages: %s", nt_cli_err);

    /* --spm-separate: trains, saves both models, exports either, resumes, translates */
    char run3[1000];
    snprintf(run3, sizeof run3, "%s", nt_scratch_path("run3"));
    const char *b1[] = {"train", "--train", nt_scratch_path("train.tsv"), "--valid", nt_scratch_path("valid.tsv"), "--out", run3,
                        "--tokenizer", "spm", "--vocab-size", "350", "--spm-separate", "--preset", "tiny", "--steps",
                        "3", "--eval-every", "3", "--eval-exact-max", "4", "--progress", "off", "--threads", "2", NULL};
    rc = nt_cli_run(b1);
    CHECK(rc == 0 && strstr(nt_cli_err, "vocabulary 695 (spm)") && strstr(nt_cli_err, "one per side"), "train separate: %d %s",
          rc, nt_cli_err);
    char last3[1200];
    snprintf(last3, sizeof last3, "%s/checkpoint-last.h5", run3);
    const char *b2[] = {"export-spm", last3, nt_scratch_path("sep.model"), NULL};
    CHECK(nt_cli_run(b2) == 2 && strstr(nt_cli_err, "--side source or --side target"), "export without --side: %s", nt_cli_err);
    const char *b3[] = {"export-spm", ckpt, nt_scratch_path("joint.model"), "--side", "source", NULL};
    CHECK(nt_cli_run(b3) == 2 && strstr(nt_cli_err, "one joint SentencePiece model"), "--side on a joint model: %s", nt_cli_err);
    for (int side = 0; side < 2; side++) {
        const char *b4[] = {"export-spm", last3, nt_scratch_path(side ? "tgt.model" : "src.model"), "--side", side ? "target" : "source",
                            NULL};
        CHECK(nt_cli_run(b4) == 0 && strstr(nt_cli_out, side ? "target model, 350 pieces" : "source model, 350 pieces"),
              "export --side: %s%s", nt_cli_out, nt_cli_err);
        nt_spm *e = NULL;
        char h[32];
        size_t nb = 0;
        CHECK(nt_spm_load_file(&e, nt_scratch_path(side ? "tgt.model" : "src.model")) == NT_OK, "exported: %s", nt_errmsg());
        if (e) model_hash(e, h, sizeof h, &nb);
        CHECK(e && strcmp(h, sep_hash[side]) == 0 && nb == sep_bytes[side], "exported %s model is not Python's",
              side ? "target" : "source");
        nt_spm_free(e);
    }
    const char *b5[] = {"inspect", last3, NULL};
    CHECK(nt_cli_run(b5) == 0 && strstr(nt_cli_out, "source model: SentencePiece, 350 pieces") && strstr(nt_cli_out, "ids 350..694"),
          "inspect separate: %s%s", nt_cli_out, nt_cli_err);
    const char *b6[] = {"train", "--resume", run3, "--steps", "5", "--progress", "off", "--threads", "2", NULL};
    CHECK(nt_cli_run(b6) == 0, "resume separate: %s", nt_cli_err);
    ts = nt_malloc(sizeof *ts);
    CHECK(ts && nt_ckpt_load_train(last3, ts) == NT_OK && ts->step == 5, "resumed separate to step %lld",
          ts ? (long long)ts->step : -1LL);
    nt_free(ts);
    m = NULL;
    v = NULL;
    CHECK(nt_ckpt_load(last3, &m, &v) == NT_OK && nt_vocab_spm_src(v) && nt_vocab_size(v) == 695, "load separate: %s",
          nt_errmsg());
    nt_model_free(m);
    nt_vocab_free(v);
    const char *b7[] = {"translate", "--checkpoint", last3, "--max-new-tokens", "4", "--threads", "2", NULL};
    rc = nt_cli_run_in("A man is walking on the street.\nbad \xFF byte\n", b7);
    CHECK(rc == 1 && strstr(nt_cli_err, "line 2: invalid UTF-8") && !strstr(nt_cli_err, "line 1:"), "translate separate: %d %s",
          rc, nt_cli_err);
    const char *b8[] = {"train", "--train", nt_scratch_path("train.tsv"), "--valid", nt_scratch_path("valid.tsv"), "--out",
                        nt_scratch_path("run4"), "--tokenizer", "spm", "--spm-joint", "--spm-separate", NULL};
    CHECK(nt_cli_run(b8) == 2 && strstr(nt_cli_err, "exclude each other"), "joint and separate: %s", nt_cli_err);

    /* train: bad spm options */
    const char *a7[] = {"train", "--train", nt_scratch_path("train.tsv"), "--valid", nt_scratch_path("valid.tsv"), "--out",
                        nt_scratch_path("run2"), "--tokenizer", "spm", "--spm-type", "word", NULL};
    CHECK(nt_cli_run(a7) == 2 && strstr(nt_cli_err, "--spm-type") && strstr(nt_cli_err, "unigram or bpe"), "bad type: %s", nt_cli_err);
    const char *a8[] = {"train", "--train", nt_scratch_path("train.tsv"), "--valid", nt_scratch_path("valid.tsv"), "--out",
                        nt_scratch_path("run2"), "--tokenizer", "spm", "--vocab-size", "9000", "--steps", "1", NULL};
    CHECK(nt_cli_run(a8) == 1 && strstr(nt_cli_err, "Vocabulary size too high") && strstr(nt_cli_err, "--vocab-size sets"),
          "vocab too large: %s", nt_cli_err);
    const char *a9[] = {"train", "--train", nt_scratch_path("train.tsv"), "--valid", nt_scratch_path("valid.tsv"), "--out",
                        nt_scratch_path("run2"), "--tokenizer", "char", "--vocab-size", "400", NULL};
    CHECK(nt_cli_run(a9) == 2 && strstr(nt_cli_err, "need --tokenizer spm"), "vocab-size without spm: %s", nt_cli_err);
}

int main(void) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (!load_pairs()) {
        fprintf(stderr, "test_spm: cannot read %s (400 rows)\n", nt_fixture_path("spm_pairs.tsv"));
        return 1;
    }
    n_cases = load_cases(cases);
    CHECK(n_cases == 11, "spm_cases.txt: %d cases", n_cases);
    test_python_ids();
    test_train_matches_python();
    test_vocab_identity();
    test_vocab_mapping();
    test_hdf5();
    test_errors();
    test_separate();
    nt_cli_use("nextok-translate");
    if (!nt_scratch_begin("nt_spm")) {
        CHECK(0, "mkdtemp failed");
    } else {
        test_cli_from_parallel();
        test_cli_train();
        nt_scratch_end();
    }
    free(lines);
    free(pairs_text);
    return nt_check_report("test_spm");
}
