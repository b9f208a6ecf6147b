/* test_limits.c - untrusted sizes: every /config value is bounded and the
 * memory a model needs is computed (64-bit) and compared with the limit
 * before anything is allocated; parameter lookup by name is a hash. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/tensor.h"
#include "data/tokenizer.h"
#include "nn/model.h"
#include "support/check.h"
#include "train/checkpoint.h"
#include "train/h5io.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void test_param_count(void) {
    nt_model_config c = nt_model_config_default();
    c.vocab_size = 37, c.d_model = 24, c.heads = 3, c.max_len = 20;
    for (int arch = 0; arch < 2; arch++) {
        c.arch = arch ? NT_ARCH_DECODER : NT_ARCH_ENCDEC;
        c.enc_layers = arch ? 0 : 2, c.dec_layers = 3;
        nt_model *m = NULL;
        CHECK(nt_model_new(&m, &c) == NT_OK, "new: %s", nt_errmsg());
        CHECK(m && nt_model_config_params(&c) == nt_model_num_params(m), "arch %d: predicted %lld, built %lld",
              arch, (long long)nt_model_config_params(&c), m ? (long long)nt_model_num_params(m) : -1LL);
        nt_model_free(m);
    }
    /* bounds: each field named */
    struct { int V, D, H, E, L, T; const char *what; } bad[] = {
        {40000000, 16, 2, 1, 1, 32, "vocab_size"}, {40, 1 << 30, 2, 1, 1, 32, "d_model"},
        {40, 65536, 2, 4096, 4096, 32, "layers"},  {40, 16, 2, 1, 1, 1 << 30, "max_len"},
        {40, 16, 32, 1, 1, 32, "heads"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        nt_model_config b = c;
        b.arch = NT_ARCH_ENCDEC;
        b.vocab_size = bad[i].V, b.d_model = bad[i].D, b.heads = bad[i].H;
        b.enc_layers = bad[i].E, b.dec_layers = bad[i].L, b.max_len = bad[i].T;
        CHECK(nt_model_config_check(&b) == NT_ERR_ARG && strstr(nt_errmsg(), bad[i].what), "%s: %s", bad[i].what,
              nt_errmsg());
        CHECK(nt_model_config_params(&b) == -1, "no count for a bad config");
    }
    /* within bounds but too big for memory: refused before allocating */
    nt_model_config big = c;
    big.arch = NT_ARCH_ENCDEC, big.d_model = 65536, big.heads = 8, big.enc_layers = 1024, big.dec_layers = 1024;
    CHECK(nt_model_config_params(&big) > ((int64_t)1 << 44), "the count does not overflow: %lld",
          (long long)nt_model_config_params(&big));
    nt_model *m = (nt_model *)&m;
    double t0 = now();
    CHECK(nt_model_new(&m, &big) == NT_ERR_NOMEM && strstr(nt_errmsg(), "GiB") && m == (nt_model *)&m,
          "too big: %s", nt_errmsg());
    setenv("NT_MEM_LIMIT", "1M", 1);
    c.arch = NT_ARCH_ENCDEC, c.enc_layers = 2, c.d_model = 256, c.heads = 4; /* ~ 3.4 M floats: 27 MB */
    CHECK(nt_model_new(&m, &c) == NT_ERR_NOMEM && strstr(nt_errmsg(), "NT_MEM_LIMIT"), "limit: %s", nt_errmsg());
    unsetenv("NT_MEM_LIMIT");
    CHECK(now() - t0 < 5.0, "refusals are immediate (%.2f s)", now() - t0);
}

/* A checkpoint with /config attribute `name` set to `value`, resealed: what a
 * deliberate edit looks like (a random one fails the whole-file checksum). */
static void edited(const char *src, const char *dst, const char *name, int64_t value) {
    size_t n;
    char cmd[2200];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", src, dst);
    NT_ASSERT(system(cmd) == 0);
    (void)n;
    hid_t f = H5Fopen(dst, H5F_ACC_RDWR, H5P_DEFAULT);
    NT_ASSERT(f >= 0 && nt_h5_attr_write_int(f, "/config", name, value) == NT_OK);
    H5Fclose(f);
    NT_ASSERT(nt_h5_file_seal(dst) == NT_OK);
}

static void test_edited_config(void) {
    char dir[] = "/tmp/nt_test_limits_XXXXXX", good[600], bad[600];
    NT_ASSERT(mkdtemp(dir));
    snprintf(good, sizeof good, "%s/good.h5", dir);
    snprintf(bad, sizeof bad, "%s/bad.h5", dir);
    const char *texts[] = {"one two", "three"};
    nt_vocab *v;
    NT_ASSERT(nt_vocab_build(&v, NT_TOKENIZER_CHAR, texts, 2, 1) == NT_OK);
    nt_model_config c = nt_model_config_default();
    c.vocab_size = nt_vocab_size(v), c.d_model = 16, c.heads = 2, c.enc_layers = 1, c.dec_layers = 1, c.max_len = 16;
    nt_model *m;
    NT_ASSERT(nt_model_new(&m, &c) == NT_OK);
    NT_ASSERT(nt_ckpt_save(good, &m->net, v, NULL, NULL) == NT_OK);
    struct { const char *attr; int64_t value; nt_status want; const char *msg; } cases[] = {
        {"vocab_size", 40000000, NT_ERR_FORMAT, "vocab_size"},
        {"d_model", (int64_t)1 << 30, NT_ERR_FORMAT, "d_model"},
        {"dec_layers", 4096, NT_ERR_FORMAT, "layers"},
        {"max_len", (int64_t)1 << 30, NT_ERR_FORMAT, "max_len"},
        {"vocab_size", 16000000, NT_ERR_NOMEM, "GiB"},  /* in bounds: 16 M x 16 floats, over the 1 GiB limit */
        {"vocab_size", 5, NT_ERR_FORMAT, "embed.weight"}, /* fits, but the stored tensor does not */
    };
    setenv("NT_MEM_LIMIT", "1G", 1);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        edited(good, bad, cases[i].attr, cases[i].value);
        nt_model *m2 = NULL;
        nt_vocab *v2 = NULL;
        double t0 = now();
        nt_status s = nt_ckpt_load(bad, &m2, &v2);
        double dt = now() - t0;
        CHECK(s == cases[i].want && strstr(nt_errmsg(), "bad.h5") && strstr(nt_errmsg(), cases[i].msg),
              "%s = %lld: %s %s", cases[i].attr, (long long)cases[i].value, nt_status_name(s), nt_errmsg());
        CHECK(dt < 5.0, "%s = %lld: refused in %.2f s", cases[i].attr, (long long)cases[i].value, dt);
        nt_model_free(m2);
        nt_vocab_free(v2);
    }
    unsetenv("NT_MEM_LIMIT");
    nt_model_free(m);
    nt_vocab_free(v);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    NT_ASSERT(system(cmd) == 0);
}

/* Declaring N parameters is linear: 200,000 names in well under a second on a quiet machine
 * (the linear scan took minutes), every one found again. */
static void test_params_hash(void) {
    nt_params *p;
    NT_ASSERT(nt_params_new(&p) == NT_OK);
    const int N = 200000;
    char name[64];
    double t0 = now();
    int ok = 1;
    for (int i = 0; i < N && ok; i++) {
        snprintf(name, sizeof name, "decoder.layers.%d.mlp.fc.weight", i);
        ok = nt_params_add(p, name, 1, (int[]){1}) == i;
    }
    for (int i = 0; i < N && ok; i++) {
        snprintf(name, sizeof name, "decoder.layers.%d.mlp.fc.weight", i);
        ok = nt_params_find(p, name) == i;
    }
    double dt = now() - t0;
    CHECK(ok, "every name added and found at its index");
    CHECK(nt_params_find(p, "decoder.layers.200000.mlp.fc.weight") == -1 && nt_params_find(p, "") == -1 &&
              nt_params_find(p, NULL) == -1,
          "absent names");
    CHECK(nt_params_add(p, "decoder.layers.7.mlp.fc.weight", 1, (int[]){1}) == -1 &&
              strstr(nt_errmsg(), "duplicate"),
          "duplicate refused: %s", nt_errmsg());
    CHECK(dt < (getenv("NT_SANITIZED") ? 30.0 : 10.0), "200k adds + finds in %.2f s", dt);
    nt_params_free(p);
    nt_params *e;
    NT_ASSERT(nt_params_new(&e) == NT_OK);
    CHECK(nt_params_find(e, "x") == -1, "empty block");
    nt_params_free(e);
}

int main(void) {
    test_param_count();
    test_edited_config();
    test_params_hash();
    return nt_check_report("test_limits");
}
