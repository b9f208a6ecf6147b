/* test_checkpoint.c - checkpoint round trips (optimizer, train state), atomic
 * writes, and named errors for corrupt, truncated, wrong-version and
 * mismatched files. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/check.h"
#include "support/fixtures.h"
#include "support/models.h"
#include "support/scratch.h"
#include "support/proc.h"
#include "train/checkpoint.h"
#include "train/h5io.h"

static nt_params *toy_params(int v, uint64_t seed) {
    nt_params *p;
    NT_ASSERT(nt_params_new(&p) == NT_OK);
    nt_params_add(p, "embed.weight", 2, (int[]){v, 4});
    nt_params_add(p, "lin.weight", 2, (int[]){3, 4});
    nt_params_add(p, "lin.bias", 1, (int[]){3});
    NT_ASSERT(nt_params_alloc(p) == NT_OK);
    nt_rng r;
    nt_rng_seed(&r, seed);
    for (int i = 0; i < p->count; i++)
        for (int64_t j = 0; j < p->tensors[i].n; j++)
            nt_f32(&p->tensors[i])[j] = nt_rng_normal(&r), p->tensors[i].grad[j] = nt_rng_normal(&r);
    return p;
}

/* Writes optimizer + train state to path. */
static nt_status save_state(const char *path, const nt_optim *o, const nt_train_state *ts) {
    hid_t f;
    char tmp[1024];
    NT_TRY(nt_ckpt_create(path, &f, tmp, sizeof tmp));
    nt_status s = nt_ckpt_write_optim(f, o);
    if (s == NT_OK) s = nt_ckpt_write_train(f, ts);
    if (s != NT_OK) {
        nt_ckpt_abort(f, tmp);
        return s;
    }
    return nt_ckpt_commit(f, tmp, path);
}

static void test_state_round_trip(void) {
    nt_params *p = toy_params(6, 1);
    nt_optim_config oc = nt_optim_config_default(NT_OPTIM_ADAMW);
    oc.beta2 = 0.98, oc.weight_decay = 0.05;
    nt_optim *o;
    CHECK(nt_optim_new(&o, p, &oc) == NT_OK, "%s", nt_errmsg());
    for (int i = 0; i < 3; i++) nt_optim_step(o, 0.01 * (i + 1));
    nt_train_state ts;
    nt_train_state_init(&ts);
    ts.step = 3, ts.epoch = 2, ts.cursor = 17, ts.best_metric = 0.25, ts.best_loss = 0.75, ts.best_step = 2;
    ts.bad_evals = 1, ts.tokens = 1234, ts.seconds = 1.5;
    nt_rng_seed(&ts.rng, 99);
    nt_rng_skip(&ts.rng, 1000);
    snprintf(ts.options, sizeof ts.options, "{\"lr\": 0.001, \"name\": \"é\"}");
    const char *path = nt_scratch_path("state.h5");
    CHECK(save_state(path, o, &ts) == NT_OK, "save: %s", nt_errmsg());
    char tmpname[600];
    snprintf(tmpname, sizeof tmpname, "%s.tmp-%ld", path, (long)getpid());
    CHECK(access(tmpname, F_OK) != 0, "temporary file renamed away");

    nt_params *q = toy_params(6, 2);
    nt_optim_config oc2 = nt_optim_config_default(NT_OPTIM_ADAMW);
    nt_optim *o2;
    CHECK(nt_optim_new(&o2, q, &oc2) == NT_OK, "%s", nt_errmsg());
    hid_t f;
    CHECK(nt_ckpt_open(path, &f) == NT_OK, "open: %s", nt_errmsg());
    CHECK(nt_ckpt_read_optim(f, path, o2) == NT_OK, "read optim: %s", nt_errmsg());
    nt_train_state t2;
    CHECK(nt_ckpt_read_train(f, path, &t2) == NT_OK, "read train: %s", nt_errmsg());
    H5Fclose(f);
    CHECK(memcmp(p->m, q->m, (size_t)p->total * 4) == 0, "m bitwise");
    CHECK(memcmp(p->v, q->v, (size_t)p->total * 4) == 0, "v bitwise");
    CHECK(o2->step == 3 && o2->last_lr == 0.03 && o2->cfg.beta2 == 0.98 &&
              o2->cfg.weight_decay == 0.05, "optim attrs");
    CHECK(t2.step == 3 && t2.epoch == 2 && t2.cursor == 17 && t2.best_metric == 0.25 &&
              t2.best_loss == 0.75 && t2.best_step == 2 && t2.bad_evals == 1 && t2.tokens == 1234 && t2.seconds == 1.5,
          "train attrs");
    CHECK(t2.rng.seed == ts.rng.seed && t2.rng.counter == 1000, "rng state");
    CHECK(strcmp(t2.options, ts.options) == 0, "options '%s'", t2.options);
    /* continuing from either gives bitwise the same next update */
    memcpy(q->values, p->values, (size_t)p->total * 4);
    memcpy(q->grads, p->grads, (size_t)p->total * 4);
    nt_optim_step(o, 0.02), nt_optim_step(o2, 0.02);
    CHECK(memcmp(p->values, q->values, (size_t)p->total * 4) == 0, "same next step");

    /* a NaN best metric survives */
    nt_train_state_init(&ts);
    CHECK(save_state(path, o, &ts) == NT_OK, "save 2");
    CHECK(nt_ckpt_open(path, &f) == NT_OK && nt_ckpt_read_train(f, path, &t2) == NT_OK, "read 2");
    H5Fclose(f);
    CHECK(isnan(t2.best_metric) && isnan(t2.best_loss) && t2.best_step == -1, "nan best");

    /* another model's shapes: named error */
    nt_params *r = toy_params(7, 3);
    nt_optim *o3;
    nt_optim_new(&o3, r, &oc2);
    CHECK(nt_ckpt_open(path, &f) == NT_OK, "open");
    CHECK(nt_ckpt_read_optim(f, path, o3) == NT_ERR_FORMAT, "shape mismatch");
    CHECK(strstr(nt_errmsg(), "state.h5: /optim/embed.weight/m: shape 6x4, expected 7x4") != NULL, "msg: %s",
          nt_errmsg());
    H5Fclose(f);
    /* another kind */
    nt_optim_config sgd = nt_optim_config_default(NT_OPTIM_SGD);
    nt_optim *o4;
    nt_optim_new(&o4, q, &sgd);
    CHECK(nt_ckpt_open(path, &f) == NT_OK, "open");
    CHECK(nt_ckpt_read_optim(f, path, o4) == NT_ERR_FORMAT, "kind mismatch");
    CHECK(strstr(nt_errmsg(), "'adamw' differs from this run's 'sgd'") != NULL, "msg: %s",
          nt_errmsg());
    H5Fclose(f);
    nt_optim_free(o4);
    nt_optim_free(o3);
    nt_params_free(r);
    nt_optim_free(o2);
    nt_params_free(q);
    nt_optim_free(o);
    nt_params_free(p);
}

static void test_bad_files(void) {
    hid_t f;
    /* missing */
    CHECK(nt_ckpt_open(nt_scratch_path("nope.h5"), &f) == NT_ERR_IO, "missing");
    CHECK(strstr(nt_errmsg(), "nope.h5") != NULL, "msg: %s", nt_errmsg());
    /* not HDF5 at all */
    const char *junk = nt_scratch_path("junk.h5");
    CHECK(nt_proc_write_file(junk, "this is not a checkpoint\n", 25) == 0, "write junk");
    CHECK(nt_ckpt_open(junk, &f) == NT_ERR_FORMAT, "junk");
    CHECK(strstr(nt_errmsg(), "junk.h5: not a") != NULL, "msg: %s", nt_errmsg());

    /* a good file, then damaged copies of it */
    nt_params *p = toy_params(50, 4);
    nt_optim_config oc = nt_optim_config_default(NT_OPTIM_ADAM);
    nt_optim *o;
    nt_optim_new(&o, p, &oc);
    nt_train_state ts;
    nt_train_state_init(&ts);
    const char *good = nt_scratch_path("good.h5");
    CHECK(save_state(good, o, &ts) == NT_OK, "save: %s", nt_errmsg());
    size_t n;
    char *data = nt_proc_read_file(good, &n);
    NT_ASSERT(data);
    /* truncated to half */
    const char *trunc = nt_scratch_path("trunc.h5");
    CHECK(nt_proc_write_file(trunc, data, n / 2) == 0, "write trunc");
    CHECK(nt_ckpt_open(trunc, &f) == NT_ERR_FORMAT, "truncated");
    CHECK(strstr(nt_errmsg(), "trunc.h5") && strstr(nt_errmsg(), "truncated"), "msg: %s",
          nt_errmsg());
    /* corrupt: the superblock signature overwritten */
    const char *bad = nt_scratch_path("corrupt.h5");
    char *copy = malloc(n);
    memcpy(copy, data, n);
    memset(copy, 0x5a, 64);
    CHECK(nt_proc_write_file(bad, copy, n) == 0, "write corrupt");
    CHECK(nt_ckpt_open(bad, &f) == NT_ERR_FORMAT, "corrupt");
    CHECK(strstr(nt_errmsg(), "corrupt.h5: not a nextok checkpoint") != NULL, "msg: %s", nt_errmsg());
    free(copy);
    free(data);

    /* wrong version and wrong format */
    const char *ver = nt_scratch_path("v2.h5");
    char tmp[1024];
    CHECK(nt_ckpt_create(ver, &f, tmp, sizeof tmp) == NT_OK, "create");
    H5Adelete(f, "version");
    int64_t two = 2;
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(f, "version", H5T_NATIVE_INT64, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_INT64, &two);
    H5Aclose(a);
    H5Sclose(sp);
    CHECK(nt_ckpt_commit(f, tmp, ver) == NT_OK, "commit");
    CHECK(nt_ckpt_open(ver, &f) == NT_ERR_FORMAT, "version 2");
    CHECK(strstr(nt_errmsg(), "v2.h5: checkpoint version 2 is not supported (this build reads version 1)"),
          "msg: %s", nt_errmsg());
    const char *nofmt = nt_scratch_path("nofmt.h5");
    CHECK(nt_ckpt_create(nofmt, &f, tmp, sizeof tmp) == NT_OK, "create");
    H5Adelete(f, "format");
    CHECK(nt_ckpt_commit(f, tmp, nofmt) == NT_OK, "commit");
    CHECK(nt_ckpt_open(nofmt, &f) == NT_ERR_FORMAT, "no format");
    CHECK(strstr(nt_errmsg(), "nofmt.h5: /: attribute 'format' missing"), "msg: %s", nt_errmsg());

    /* a file with the root attributes only: /optim and /train are missing */
    const char *empty = nt_scratch_path("empty.h5");
    CHECK(nt_ckpt_create(empty, &f, tmp, sizeof tmp) == NT_OK, "create");
    CHECK(nt_ckpt_commit(f, tmp, empty) == NT_OK, "commit");
    CHECK(nt_ckpt_open(empty, &f) == NT_OK, "open empty: %s", nt_errmsg());
    CHECK(nt_ckpt_read_optim(f, empty, o) == NT_ERR_FORMAT && strstr(nt_errmsg(), "/optim is missing"),
          "msg: %s", nt_errmsg());
    CHECK(nt_ckpt_read_train(f, empty, &ts) == NT_ERR_FORMAT && strstr(nt_errmsg(), "/train is missing"),
          "msg: %s", nt_errmsg());
    H5Fclose(f);

    /* a /train attribute missing: named */
    const char *miss = nt_scratch_path("miss.h5");
    CHECK(nt_ckpt_create(miss, &f, tmp, sizeof tmp) == NT_OK, "create");
    nt_ckpt_write_train(f, &ts);
    H5Adelete_by_name(f, "/train", "rng_counter", H5P_DEFAULT);
    CHECK(nt_ckpt_commit(f, tmp, miss) == NT_OK, "commit");
    CHECK(nt_ckpt_open(miss, &f) == NT_OK, "open");
    nt_train_state t2;
    t2.step = 77;
    CHECK(nt_ckpt_read_train(f, miss, &t2) == NT_ERR_FORMAT && t2.step == 77, "missing attr");
    CHECK(strstr(nt_errmsg(), "miss.h5: /train: attribute 'rng_counter' missing"), "msg: %s", nt_errmsg());
    H5Fclose(f);

    /* atomicity: a failed write leaves the old file intact */
    data = nt_proc_read_file(good, &n);
    CHECK(nt_ckpt_create(good, &f, tmp, sizeof tmp) == NT_OK, "create over good");
    nt_ckpt_abort(f, tmp);
    CHECK(access(tmp, F_OK) != 0, "aborted temporary removed");
    size_t n2;
    char *after = nt_proc_read_file(good, &n2);
    CHECK(data && after && n == n2 && memcmp(data, after, n) == 0, "old checkpoint untouched");
    free(data), free(after);
    nt_optim_free(o);
    nt_params_free(p);
}

/* ---- the whole-file checksum and a full disk ------------------------------------------ */

/* A copy of `src` at `dst` with byte `at` xor'ed with `x` (at < 0: from the end),
 * then cut to `len` bytes (len < 0: the whole length, + extra bytes appended). */
static void damaged_copy(const char *src, const char *dst, long at, int x, long len) {
    size_t n;
    char *d = nt_proc_read_file(src, &n);
    NT_ASSERT(d);
    d = realloc(d, n + 16);
    NT_ASSERT(d);
    memset(d + n, 0, 16);
    if (x) d[at >= 0 ? (size_t)at : n + (size_t)at] ^= (char)x;
    size_t m = len >= 0 ? (size_t)len : n + (size_t)(-len - 1);
    CHECK(nt_proc_write_file(dst, d, m) == 0, "write %s", dst);
    free(d);
}

static void test_whole_file(void) {
    nt_params *p = toy_params(70000, 5); /* moments: 2.2 MB, three 1 MiB writes */
    nt_optim_config oc = nt_optim_config_default(NT_OPTIM_ADAM);
    nt_optim *o;
    NT_ASSERT(nt_optim_new(&o, p, &oc) == NT_OK && nt_params_alloc_moments(p) == NT_OK);
    nt_train_state ts;
    nt_train_state_init(&ts);
    const char *good = nt_scratch_path("whole.h5"), *bad = nt_scratch_path("whole-bad.h5");
    CHECK(save_state(good, o, &ts) == NT_OK, "save: %s", nt_errmsg());
    int sealed = -1;
    CHECK(nt_h5_file_verify(good, &sealed) == NT_OK && sealed == 1, "sealed: %s", nt_errmsg());
    size_t n;
    char *data = nt_proc_read_file(good, &n);
    CHECK(data && strncmp(data, "nextok-checksum 1\nhash xh64\nbytes ", 34) == 0, "the header is text");
    free(data);
    hid_t f;
    struct { long at; int x; long len; const char *why; } cases[] = {
        {600, 0x01, -1, "whole-file checksum mismatch"},       /* the superblock area */
        {-100, 0x80, -1, "whole-file checksum mismatch"},      /* the last bytes */
        {36, 0x01, -1, "bytes after the header"},              /* a digit of the stored length */
        {300, 0x20, -1, "the checksum header is damaged"},     /* the user block's padding */
        {0, 0, (long)n - 1, "truncated"},                      /* one byte short */
        {0, 0, -2, "longer than written"},                     /* one byte appended */
        {0, 0, 100, "too short"},                              /* cut inside the header */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        damaged_copy(good, bad, cases[i].at, cases[i].x, cases[i].len);
        nt_status st = nt_ckpt_open(bad, &f);
        CHECK(st == NT_ERR_FORMAT && strstr(nt_errmsg(), "whole-bad.h5") && strstr(nt_errmsg(), cases[i].why),
              "case %zu (%s): %s %s", i, cases[i].why, nt_status_name(st), nt_errmsg());
        if (st == NT_OK) H5Fclose(f);
    }

    /* a full disk during the write: the Nth write(2) fails with ENOSPC */
    data = nt_proc_read_file(good, &n);
    for (int nth = 1; nth <= 2; nth++) {
        nt_h5_fail_write_after(nth, ENOSPC);
        nt_status st = save_state(good, o, &ts);
        nt_h5_fail_write_after(0, 0);
        CHECK(st == NT_ERR_IO && strstr(nt_errmsg(), "whole.h5") && strstr(nt_errmsg(), "No space left on device"),
              "disk full at write %d: %s %s", nth, nt_status_name(st), nt_errmsg());
        CHECK(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) == 0, "no HDF5 object left open after write %d", nth);
        char tmp[1100];
        snprintf(tmp, sizeof tmp, "%s.tmp-%ld", good, (long)getpid());
        CHECK(access(tmp, F_OK) != 0, "the temporary file is removed");
        size_t n2;
        char *after = nt_proc_read_file(good, &n2);
        CHECK(data && after && n == n2 && memcmp(data, after, n) == 0, "the previous checkpoint is untouched");
        free(after);
    }
    CHECK(nt_ckpt_open(good, &f) == NT_OK, "the previous checkpoint opens: %s", nt_errmsg());
    H5Fclose(f);
    /* disarmed: the next save works */
    CHECK(save_state(good, o, &ts) == NT_OK, "save after: %s", nt_errmsg());
    free(data);
    nt_optim_free(o);
    nt_params_free(p);
}

/* ---- whole checkpoints: model + vocabulary + optimizer + train state ------------------ */

static nt_vocab *toy_vocab(void) {
    const char *texts[] = {"one hundred", "deux cents", "vier"};
    nt_vocab *v;
    NT_ASSERT(nt_vocab_build(&v, NT_TOKENIZER_WORD, texts, 3, 1) == NT_OK);
    return v;
}

static nt_model *toy_model(int vocab_size, nt_arch arch, uint64_t seed) {
    nt_rng r;
    nt_rng_seed(&r, seed);
    return nt_test_model(arch, vocab_size, 16, 2, arch == NT_ARCH_ENCDEC ? 1 : 0, 2, 32, &r);
}

static void test_full_round_trip(void) {
    nt_vocab *v = toy_vocab();
    int V = nt_vocab_size(v);
    nt_model *m = toy_model(V, NT_ARCH_ENCDEC, 1);
    nt_optim_config oc = nt_optim_config_default(NT_OPTIM_ADAMW);
    nt_optim *o;
    CHECK(nt_optim_new(&o, m->params, &oc) == NT_OK, "%s", nt_errmsg());
    nt_rng r;
    nt_rng_seed(&r, 5);
    for (int i = 0; i < m->params->count; i++)
        for (int64_t j = 0; j < m->params->tensors[i].n; j++) m->params->tensors[i].grad[j] = nt_rng_normal(&r);
    nt_optim_step(o, 1e-3);
    nt_train_state ts;
    nt_train_state_init(&ts);
    ts.step = 1, ts.cursor = 3;
    const char *full = nt_scratch_path("full.h5"), *light = nt_scratch_path("weights.h5");
    CHECK(nt_ckpt_save(full, &m->net, v, o, &ts) == NT_OK, "save: %s", nt_errmsg());
    CHECK(nt_ckpt_export(light, &m->net, v) == NT_OK, "export: %s", nt_errmsg());

    nt_model *m2 = NULL;
    nt_vocab *v2 = NULL;
    CHECK(nt_ckpt_load(full, &m2, &v2) == NT_OK, "load: %s", nt_errmsg());
    if (m2 && v2) {
        CHECK(memcmp(&m2->cfg, &m->cfg, sizeof m->cfg) == 0, "config");
        CHECK(m2->params->total == m->params->total &&
                  memcmp(m2->params->values, m->params->values, (size_t)m->params->total * 4) == 0,
              "weights bitwise");
        CHECK(nt_vocab_size(v2) == V && nt_vocab_kind(v2) == NT_TOKENIZER_WORD, "vocab kind/size");
        CHECK(nt_vocab_split_digits(v2) == 1, "the word tokenizer's digit rule (/vocab split_digits) survives");
        int same = 1;
        for (int i = 0; i < V; i++) same &= strcmp(nt_vocab_token(v, i), nt_vocab_token(v2, i)) == 0;
        CHECK(same, "vocab tokens");
        nt_optim *o2;
        nt_optim_new(&o2, m2->params, &oc);
        CHECK(nt_ckpt_load_optim(full, o2) == NT_OK, "%s", nt_errmsg());
        CHECK(memcmp(m2->params->m, m->params->m, (size_t)m->params->total * 4) == 0 && o2->step == 1,
              "moments");
        nt_train_state t2;
        CHECK(nt_ckpt_load_train(full, &t2) == NT_OK && t2.cursor == 3, "train state");
        /* the weights-only file: same weights, no optimizer, no train state */
        CHECK(nt_ckpt_load_optim(light, o2) == NT_ERR_FORMAT, "weights-only has no /optim");
        CHECK(strstr(nt_errmsg(), "weights.h5: /optim is missing"), "msg: %s", nt_errmsg());
        CHECK(nt_ckpt_load_train(light, &t2) == NT_ERR_FORMAT, "weights-only has no /train");
        nt_optim_free(o2);
        nt_model_free(m2);
        nt_vocab_free(v2);
        m2 = NULL, v2 = NULL;
        CHECK(nt_ckpt_load(light, &m2, &v2) == NT_OK, "load weights-only: %s", nt_errmsg());
        CHECK(m2 && memcmp(m2->params->values, m->params->values, (size_t)m->params->total * 4) == 0,
              "weights-only weights");
        nt_model_free(m2);
        nt_vocab_free(v2);
    }
    /* into an existing model: strict config check */
    nt_model *other = toy_model(V, NT_ARCH_DECODER, 2);
    CHECK(nt_ckpt_load_weights_into(full, &other->net) == NT_ERR_FORMAT, "arch differs");
    CHECK(strstr(nt_errmsg(), "full.h5") && strstr(nt_errmsg(), "holds a 'encdec' model, this one is a 'decoder'"), "msg: %s",
          nt_errmsg());
    nt_model *same = toy_model(V, NT_ARCH_ENCDEC, 3);
    CHECK(nt_ckpt_load_weights_into(full, &same->net) == NT_OK, "%s", nt_errmsg());
    CHECK(memcmp(same->params->values, m->params->values, (size_t)m->params->total * 4) == 0, "into");

    /* a vocabulary that does not fit the model is refused at save */
    nt_model *small = toy_model(V - 1, NT_ARCH_ENCDEC, 1);
    CHECK(nt_ckpt_save(nt_scratch_path("x.h5"), &small->net, v, NULL, NULL) == NT_ERR_ARG, "vocab size");
    CHECK(strstr(nt_errmsg(), "vocabulary has"), "msg: %s", nt_errmsg());

    /* a tensor rewritten with another shape: the load names it */
    hid_t f = H5Fopen(full, H5F_ACC_RDWR, H5P_DEFAULT);
    H5Ldelete(f, "/model/decoder.layers.1.mlp.fc.bias", H5P_DEFAULT);
    hsize_t d = 7;
    hid_t sp = H5Screate_simple(1, &d, NULL);
    hid_t ds = H5Dcreate2(f, "/model/decoder.layers.1.mlp.fc.bias", H5T_IEEE_F32LE, sp, H5P_DEFAULT,
                          H5P_DEFAULT, H5P_DEFAULT);
    H5Dclose(ds), H5Sclose(sp), H5Fclose(f);
    /* edited in place: the whole-file checksum refuses it until resealed */
    CHECK(nt_ckpt_load(full, &m2, &v2) == NT_ERR_FORMAT && strstr(nt_errmsg(), "whole-file checksum mismatch"),
          "edited file: %s", nt_errmsg());
    CHECK(nt_h5_file_seal(full) == NT_OK, "reseal: %s", nt_errmsg());
    m2 = (nt_model *)&m2;
    CHECK(nt_ckpt_load(full, &m2, &v2) == NT_ERR_FORMAT, "misshapen tensor");
    CHECK(m2 == (nt_model *)&m2, "output untouched on error");
    CHECK(strstr(nt_errmsg(), "full.h5") && strstr(nt_errmsg(), "decoder.layers.1.mlp.fc.bias") &&
              strstr(nt_errmsg(), "shape 7, expected 64"),
          "msg: %s", nt_errmsg());
    nt_model_free(small);
    nt_model_free(same);
    nt_model_free(other);
    nt_optim_free(o);
    nt_model_free(m);
    nt_vocab_free(v);
}

/* ---- checksums: a flipped bit in a tensor fails the load ----------------------------- */

/* The offset of the only occurrence of `needle` in `hay`, -1 if none or several. */
static long find_once(const char *hay, size_t n, const void *needle, size_t k) {
    long at = -1;
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(hay + i, needle, k) == 0) {
            if (at >= 0) return -1;
            at = (long)i;
        }
    return at;
}

/* A copy of `src` at `dst` with one bit flipped inside the stored bytes of
 * `values` (found by content: a tensor's float32 little-endian data). */
static int flip_bit_in(const char *src, const char *dst, const float *values) {
    size_t n;
    char *data = nt_proc_read_file(src, &n);
    long at = data ? find_once(data, n, values, 8 * sizeof(float)) : -1;
    CHECK(at >= 0, "%s: the tensor's bytes occur exactly once", src);
    if (at >= 0) data[at + 3 * sizeof(float) + 1] ^= 0x10; /* inside the 4th value */
    int ok = at >= 0 && nt_proc_write_file(dst, data, n) == 0;
    free(data);
    /* the whole-file checksum catches it first ... */
    hid_t f;
    CHECK(!ok || (nt_ckpt_open(dst, &f) == NT_ERR_FORMAT && strstr(nt_errmsg(), "whole-file checksum mismatch")),
          "whole-file checksum: %s", nt_errmsg());
    /* ... resealed, the flip reaches the tensor's own checksum (a flip made
     * in memory before the file was written) */
    ok = ok && nt_h5_file_seal(dst) == NT_OK;
    return ok;
}

/* 1 if the dataset at `path` is chunked with the Fletcher32 filter. */
static int has_fletcher32(const char *file, const char *path) {
    nt_h5_quiet q = nt_h5_quiet_begin();
    hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t ds = f >= 0 ? H5Dopen2(f, path, H5P_DEFAULT) : -1;
    hid_t dcpl = ds >= 0 ? H5Dget_create_plist(ds) : -1;
    int yes = dcpl >= 0 && H5Pget_layout(dcpl) == H5D_CHUNKED;
    if (yes) {
        unsigned flags;
        size_t nelm = 0;
        yes = H5Pget_filter_by_id2(dcpl, H5Z_FILTER_FLETCHER32, &flags, &nelm, NULL, 0, NULL, NULL) >= 0;
    }
    if (dcpl >= 0) H5Pclose(dcpl);
    if (ds >= 0) H5Dclose(ds);
    if (f >= 0) H5Fclose(f);
    nt_h5_quiet_end(q);
    return yes;
}

static void test_checksums(void) {
    nt_vocab *v = toy_vocab();
    nt_model *m = toy_model(nt_vocab_size(v), NT_ARCH_ENCDEC, 7);
    nt_optim_config oc = nt_optim_config_default(NT_OPTIM_ADAMW);
    nt_optim *o;
    NT_ASSERT(nt_optim_new(&o, m->params, &oc) == NT_OK);
    nt_rng r;
    nt_rng_seed(&r, 8);
    for (int64_t j = 0; j < m->params->total; j++) m->params->grads[j] = nt_rng_normal(&r);
    NT_ASSERT(nt_optim_step(o, 1e-3) == NT_OK);
    nt_train_state ts;
    nt_train_state_init(&ts);
    const char *good = nt_scratch_path("sum-good.h5");
    CHECK(nt_ckpt_save(good, &m->net, v, o, &ts) == NT_OK, "save: %s", nt_errmsg());
    /* the layout the checksum needs; names, shapes, dtypes as before */
    CHECK(has_fletcher32(good, "/model/embed.weight") && has_fletcher32(good, "/optim/embed.weight/m"),
          "datasets are chunked with Fletcher32");
    hid_t f;
    CHECK(nt_ckpt_open(good, &f) == NT_OK, "open: %s", nt_errmsg());
    int V = nt_vocab_size(v);
    CHECK(nt_h5_check_f32(f, "/model/embed.weight", 2, (int[]){V, 16}) == NT_OK, "shape/dtype: %s", nt_errmsg());
    H5Fclose(f);

    /* a bit flipped inside /model/embed.weight: the load fails and says where */
    int ie = nt_params_find(m->params, "embed.weight");
    NT_ASSERT(ie >= 0);
    const char *bad = nt_scratch_path("sum-bad-model.h5");
    if (flip_bit_in(good, bad, nt_f32(&m->params->tensors[ie]))) {
        nt_model *m2 = (nt_model *)&m2;
        nt_vocab *v2 = NULL;
        nt_status s = nt_ckpt_load(bad, &m2, &v2);
        CHECK(s == NT_ERR_FORMAT, "corrupt weights load: %s", nt_status_name(s));
        CHECK(strstr(nt_errmsg(), "sum-bad-model.h5") && strstr(nt_errmsg(), "/model/embed.weight") &&
                  strstr(nt_errmsg(), "checksum mismatch"),
              "msg: %s", nt_errmsg());
        CHECK(m2 == (nt_model *)&m2, "output untouched on error");
        nt_model *into = toy_model(V, NT_ARCH_ENCDEC, 7);
        CHECK(nt_ckpt_load_weights_into(bad, &into->net) == NT_ERR_FORMAT && strstr(nt_errmsg(), "checksum mismatch"),
              "load_weights_into: %s", nt_errmsg());
        nt_model_free(into);
    }
    /* ... and inside an optimizer moment */
    bad = nt_scratch_path("sum-bad-optim.h5");
    if (flip_bit_in(good, bad, m->params->m + m->params->offsets[ie])) {
        nt_model *m2 = NULL;
        CHECK(nt_ckpt_load(bad, &m2, NULL) == NT_OK, "the weights are intact: %s", nt_errmsg());
        nt_optim *o2 = NULL;
        if (m2) NT_ASSERT(nt_optim_new(&o2, m2->params, &oc) == NT_OK);
        CHECK(o2 && nt_ckpt_load_optim(bad, o2) == NT_ERR_FORMAT, "corrupt moment load");
        CHECK(strstr(nt_errmsg(), "sum-bad-optim.h5") && strstr(nt_errmsg(), "/optim/embed.weight/m") &&
                  strstr(nt_errmsg(), "checksum mismatch"),
              "msg: %s", nt_errmsg());
        nt_optim_free(o2);
        nt_model_free(m2);
    }

    /* a checkpoint written before the checksums (tests/fixtures/checkpoint-unfiltered.h5:
     * written by nt_ckpt_save with train/h5io.c as of 09c7ee5: contiguous datasets, no filter)
     * still loads, unchecked, and re-saves with checksums */
    char old[1024];
    nt_fixture_path_to(old, sizeof old, "checkpoint-unfiltered.h5");
    CHECK(!has_fletcher32(old, "/model/embed.weight"), "the fixture has no checksums");
    nt_model *mo = NULL;
    nt_vocab *vo = NULL;
    CHECK(nt_ckpt_load(old, &mo, &vo) == NT_OK, "old checkpoint: %s", nt_errmsg());
    if (mo && vo) {
        nt_optim *oo;
        NT_ASSERT(nt_optim_new(&oo, mo->params, &oc) == NT_OK);
        nt_train_state to;
        CHECK(nt_ckpt_load_optim(old, oo) == NT_OK && oo->step == 12, "old optim: %s", nt_errmsg());
        CHECK(nt_ckpt_load_train(old, &to) == NT_OK && to.step == 12 && to.tokens == 345 && isnan(to.best_loss),
              "old train (no best_loss attribute: NaN): %s",
              nt_errmsg());
        CHECK(nt_vocab_size(vo) == 9 && mo->params->total == 2512, "old sizes");
        const char *again = nt_scratch_path("sum-resaved.h5");
        CHECK(nt_ckpt_save(again, &mo->net, vo, oo, &to) == NT_OK, "re-save: %s", nt_errmsg());
        CHECK(has_fletcher32(again, "/model/embed.weight"), "re-saved with checksums");
        nt_model *m3 = NULL;
        CHECK(nt_ckpt_load(again, &m3, NULL) == NT_OK && m3 &&
                  memcmp(m3->params->values, mo->params->values, (size_t)mo->params->total * 4) == 0,
              "re-saved weights bitwise: %s", nt_errmsg());
        nt_model_free(m3);
        nt_optim_free(oo);
    }
    nt_model_free(mo);
    nt_vocab_free(vo);
    nt_optim_free(o);
    nt_model_free(m);
    nt_vocab_free(v);
}

/* ---- leftovers of killed writers ------------------------------------------------------ */

/* The pid of a process that has exited and been reaped. */
static pid_t dead_pid(void) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    NT_ASSERT(pid > 0 && waitpid(pid, NULL, 0) == pid);
    return pid;
}

/* Eight rotating buffers: test_stale_tmps holds five names at once (with
 * four, the fifth overwrote the first, and the "stale" file got the name of
 * pid dead2 + 1: removed or kept depending on whether that pid was in use). */
static const char *tmp_named(const char *base, long pid) {
    static char buf[8][1200];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s.tmp-%ld", nt_scratch, base, pid);
    return buf[k];
}

static void test_stale_tmps(void) {
    nt_vocab *v = toy_vocab();
    nt_model *m = toy_model(nt_vocab_size(v), NT_ARCH_DECODER, 3);
    const char *path = nt_scratch_path("last.h5");
    pid_t dead = dead_pid(), dead2 = dead_pid(), alive = getppid();
    const char *stale = tmp_named("last.h5", dead);        /* a SIGKILLed writer's: removed */
    const char *live = tmp_named("last.h5", alive);        /* a running process's: kept */
    const char *locked = tmp_named("last.h5", dead2);      /* dead pid, but a writer holds it locked: kept */
    const char *other = tmp_named("other.h5", dead);       /* another checkpoint's: kept */
    const char *not_pid = nt_scratch_path("last.h5.tmp-12ab");    /* not a pid: kept */
    const char *dir_like = tmp_named("last.h5", dead2 + 1); /* a folder, whatever its name: kept */
    const char *files[] = {stale, live, locked, other, not_pid};
    for (int i = 0; i < 5; i++) CHECK(nt_proc_write_file(files[i], "half a checkpoint", 17) == 0, "%s", files[i]);
    int lock_fd = open(locked, O_RDONLY);
    CHECK(lock_fd >= 0 && flock(lock_fd, LOCK_EX | LOCK_NB) == 0, "lock %s", locked);
    int dir_made = kill(dead2 + 1, 0) != 0 && errno == ESRCH && mkdir(dir_like, 0755) == 0;

    CHECK(nt_ckpt_save(path, &m->net, v, NULL, NULL) == NT_OK, "save: %s", nt_errmsg());
    CHECK(access(stale, F_OK) != 0, "the dead writer's %s is removed", stale);
    CHECK(access(live, F_OK) == 0, "a live process's temporary file stays");
    CHECK(access(locked, F_OK) == 0, "a locked temporary file stays");
    CHECK(access(other, F_OK) == 0 && access(not_pid, F_OK) == 0, "other files stay");
    if (dir_made) CHECK(access(dir_like, F_OK) == 0, "a folder stays");
    CHECK(access(tmp_named("last.h5", getpid()), F_OK) != 0, "our own temporary file is renamed");
    nt_model *m2 = NULL;
    CHECK(nt_ckpt_load(path, &m2, NULL) == NT_OK, "the checkpoint loads: %s", nt_errmsg());
    nt_model_free(m2);
    /* the lock released: the next save removes that one too */
    if (lock_fd >= 0) close(lock_fd);
    CHECK(nt_ckpt_save(path, &m->net, v, NULL, NULL) == NT_OK, "save again: %s", nt_errmsg());
    CHECK(access(locked, F_OK) != 0, "unlocked, dead: removed");
    const char *keep[] = {live, other, not_pid};
    for (int i = 0; i < 3; i++) unlink(keep[i]);
    if (dir_made) rmdir(dir_like);
    nt_model_free(m);
    nt_vocab_free(v);
}

int main(void) {
    CHECK(nt_scratch_begin("nt_test_ckpt"), "mkdtemp");
    test_state_round_trip();
    test_bad_files();
    test_whole_file();
    test_full_round_trip();
    test_checksums();
    test_stale_tmps();
    nt_scratch_end();
    return nt_check_report("test_checkpoint");
}
