/* test_weights.c - HDF5 weights: round trip, h5py/PyTorch files, strict load errors by name. */
#include <hdf5.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "nn/model.h"
#include "support/check.h"
#include "support/fixtures.h"
#include "support/models.h"
#include "train/h5io.h"
#include "train/weights.h"

/* nt_weights_load_file for a transformer file: *out untouched on error. */
static char tmp_path[256];

static nt_model *small_model(nt_arch arch, uint64_t seed) {
    nt_rng r;
    nt_rng_seed(&r, seed);
    nt_model *m = nt_test_model(arch, 11, 8, 2, arch == NT_ARCH_ENCDEC ? 1 : 0, 2, 8, &r);
    if (!m) return NULL;
    /* non-trivial biases and gains too */
    for (int64_t i = 0; i < m->params->total; i++) m->params->values[i] += 0.001f * (float)(i % 7);
    return m;
}

static int same_values(const nt_model *a, const nt_model *b) {
    if (a->params->count != b->params->count) return 0;
    for (int i = 0; i < a->params->count; i++) {
        const nt_tensor *x = &a->params->tensors[i], *y = &b->params->tensors[i];
        if (strcmp(a->params->names[i], b->params->names[i]) || x->n != y->n ||
            memcmp(x->data, y->data, (size_t)x->n * sizeof(float)))
            return 0;
    }
    return 1;
}

static void test_round_trip(nt_arch arch) {
    nt_model *m = small_model(arch, 7), *back = NULL;
    nt_status st = nt_weights_save_file(tmp_path, &m->net);
    CHECK(st == NT_OK, "save: %s", nt_errmsg());
    st = nt_test_model_load(tmp_path, &back);
    CHECK(st == NT_OK, "load: %s", nt_errmsg());
    if (back) {
        CHECK(memcmp(&back->cfg, &m->cfg, sizeof m->cfg) == 0, "config round trip");
        CHECK(same_values(m, back), "values round trip bitwise");
    }
    /* the layout DESIGN.md fixes */
    hid_t f = H5Fopen(tmp_path, H5F_ACC_RDONLY, H5P_DEFAULT);
    char s[32];
    int64_t v;
    CHECK(nt_h5_attr_read_str(f, "/", "format", s, sizeof s) == NT_OK && !strcmp(s, "nextok-checkpoint"), "format");
    CHECK(nt_h5_attr_read_int(f, "/", "version", &v) == NT_OK && v == 1, "version");
    CHECK(nt_h5_attr_read_str(f, "/config", "arch", s, sizeof s) == NT_OK &&
              !strcmp(s, arch == NT_ARCH_ENCDEC ? "encdec" : "decoder"), "arch %s", s);
    CHECK(nt_h5_attr_read_int(f, "/config", "d_model", &v) == NT_OK && v == 8, "d_model");
    CHECK(nt_h5_check_f32(f, "/model/decoder.layers.1.mlp.fc.weight", 2, (int[]){32, 8}) == NT_OK, "%s", nt_errmsg());
    CHECK(nt_h5_exists(f, "/model/encoder.pos.weight") == (arch == NT_ARCH_ENCDEC), "encoder.* iff encdec");
    H5Fclose(f);
    nt_model_free(back);
    nt_model_free(m);
}

/* Saves m, then lets `edit` change the file with the HDF5 C API. */
typedef void (*edit_fn)(hid_t f);
static void write_edited(const nt_model *m, edit_fn edit) {
    CHECK(nt_weights_save_file(tmp_path, &m->net) == NT_OK, "save: %s", nt_errmsg());
    hid_t f = H5Fopen(tmp_path, H5F_ACC_RDWR, H5P_DEFAULT);
    edit(f);
    H5Fclose(f);
}

static void put(hid_t f, const char *path, hid_t type, int ndim, const hsize_t *dims) {
    if (H5Lexists(f, path, H5P_DEFAULT) > 0) H5Ldelete(f, path, H5P_DEFAULT);
    hid_t sp = H5Screate_simple(ndim, dims, NULL);
    hid_t ds = H5Dcreate2(f, path, type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    size_t n = 1;
    for (int i = 0; i < ndim; i++) n *= dims[i];
    double *zero = calloc(n, sizeof(double));
    H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, zero);
    free(zero);
    H5Dclose(ds);
    H5Sclose(sp);
}

static void e_missing(hid_t f) { H5Ldelete(f, "/model/decoder.layers.1.cross_attn.v.bias", H5P_DEFAULT); }
static void e_misshaped(hid_t f) { put(f, "/model/decoder.ln.weight", H5T_IEEE_F32LE, 1, (hsize_t[]){7}); }
static void e_mistyped(hid_t f) { put(f, "/model/decoder.ln.bias", H5T_IEEE_F64LE, 1, (hsize_t[]){8}); }
static void e_int(hid_t f) { put(f, "/model/embed.weight", H5T_STD_I32LE, 2, (hsize_t[]){11, 8}); }
static void e_unexpected(hid_t f) { put(f, "/model/decoder.layers.2.ln_self.bias", H5T_IEEE_F32LE, 1, (hsize_t[]){8}); }
static void e_no_heads(hid_t f) { H5Adelete_by_name(f, "/config", "heads", H5P_DEFAULT); }
static void e_bad_arch(hid_t f) { nt_h5_attr_write_str(f, "/config", "arch", "rnn"); }
static void e_heads3(hid_t f) { nt_h5_attr_write_int(f, "/config", "heads", 3); }
static void e_format(hid_t f) { nt_h5_attr_write_str(f, "/", "format", "something-else"); }
static void e_str_heads(hid_t f) { nt_h5_attr_write_str(f, "/config", "heads", "two"); }

static void expect_load_error(const nt_model *src, edit_fn edit, nt_status want, const char *needle) {
    write_edited(src, edit);
    /* strict load into an existing model leaves it untouched */
    nt_model *m = small_model(NT_ARCH_ENCDEC, 99), *copy = small_model(NT_ARCH_ENCDEC, 99);
    hid_t f = H5Fopen(tmp_path, H5F_ACC_RDONLY, H5P_DEFAULT);
    nt_status st = nt_weights_load_into(f, &m->net);
    H5Fclose(f);
    if (edit != e_no_heads && edit != e_bad_arch && edit != e_heads3 && edit != e_format &&
        edit != e_str_heads) {
        CHECK(st == want, "load_into (%s): got %s", needle, nt_status_name(st));
        CHECK(strstr(nt_errmsg(), needle) != NULL, "message '%s' lacks '%s'", nt_errmsg(), needle);
        CHECK(same_values(m, copy), "model untouched after a failed load (%s)", needle);
    }
    nt_model *out = (nt_model *)0x1;
    st = nt_test_model_load(tmp_path, &out);
    CHECK(st == want, "load_file (%s): got %s: %s", needle, nt_status_name(st), nt_errmsg());
    CHECK(strstr(nt_errmsg(), needle) != NULL, "message '%s' lacks '%s'", nt_errmsg(), needle);
    CHECK(out == (nt_model *)0x1, "out untouched on error");
    nt_model_free(m);
    nt_model_free(copy);
}

static void test_errors(void) {
    nt_model *m = small_model(NT_ARCH_ENCDEC, 3);
    expect_load_error(m, e_missing, NT_ERR_FORMAT, "/model/decoder.layers.1.cross_attn.v.bias: missing");
    expect_load_error(m, e_misshaped, NT_ERR_FORMAT, "/model/decoder.ln.weight: shape 7, expected 8");
    expect_load_error(m, e_mistyped, NT_ERR_FORMAT, "/model/decoder.ln.bias: dtype float64, expected float32");
    expect_load_error(m, e_int, NT_ERR_FORMAT, "/model/embed.weight: dtype int32, expected float32");
    expect_load_error(m, e_unexpected, NT_ERR_FORMAT, "/model/decoder.layers.2.ln_self.bias: unexpected");
    expect_load_error(m, e_no_heads, NT_ERR_FORMAT, "attribute 'heads' missing");
    expect_load_error(m, e_bad_arch, NT_ERR_FORMAT, "arch 'rnn'");
    expect_load_error(m, e_heads3, NT_ERR_FORMAT, "heads 3 does not divide d_model 8");
    expect_load_error(m, e_format, NT_ERR_FORMAT, "format 'something-else'");
    expect_load_error(m, e_str_heads, NT_ERR_FORMAT, "'heads' is not an integer");

    /* a decoder-only file into an encdec model: the first missing name */
    nt_model *d = small_model(NT_ARCH_DECODER, 4);
    CHECK(nt_weights_save_file(tmp_path, &d->net) == NT_OK, "save");
    hid_t f = H5Fopen(tmp_path, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(nt_weights_load_into(f, &m->net) == NT_ERR_FORMAT && strstr(nt_errmsg(), "/model/encoder.pos.weight: missing"),
          "msg: %s", nt_errmsg());
    H5Fclose(f);
    /* and the other way round: an unexpected encoder tensor */
    CHECK(nt_weights_save_file(tmp_path, &m->net) == NT_OK, "save");
    f = H5Fopen(tmp_path, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(nt_weights_load_into(f, &d->net) == NT_ERR_FORMAT && strstr(nt_errmsg(), "decoder.layers.0.ln_cross.bias") ==
              NULL && strstr(nt_errmsg(), "unexpected"), "msg: %s", nt_errmsg());
    H5Fclose(f);

    nt_model *out;
    CHECK(nt_test_model_load("/nonexistent/dir/x.h5", &out) == NT_ERR_IO &&
              strstr(nt_errmsg(), "/nonexistent/dir/x.h5"), "msg: %s", nt_errmsg());
    CHECK(nt_weights_save_file("/nonexistent/dir/x.h5", &m->net) == NT_ERR_IO, "save to a bad path");
    nt_model_free(d);
    nt_model_free(m);
}

/* The golden fixture is written by h5py from the PyTorch reference's
 * state_dict plus /config: it loads as is. */
static void test_pytorch_file(void) {
    char path[1024];
    nt_fixture_path_to(path, sizeof path, "golden_encdec.h5");
    nt_model *m = NULL;
    CHECK(nt_test_model_load(path, &m) == NT_OK, "h5py file: %s", nt_errmsg());
    if (!m) return;
    CHECK(m->cfg.arch == NT_ARCH_ENCDEC && m->cfg.vocab_size == 23 && m->cfg.d_model == 16 &&
              m->cfg.heads == 2 && m->cfg.enc_layers == 2 && m->cfg.dec_layers == 2 && m->cfg.max_len == 16,
          "config from h5py attrs");
    float w[16];
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(nt_h5_read_f32(f, "/model/decoder.ln.weight", 1, (int[]){16}, w) == NT_OK, "%s", nt_errmsg());
    CHECK(memcmp(w, m->decoder.ln_w->data, sizeof w) == 0, "values as stored");
    H5Fclose(f);
    nt_model_free(m);
}

int main(void) {
    snprintf(tmp_path, sizeof tmp_path, "test_weights_%d.h5", (int)getpid());
    test_round_trip(NT_ARCH_ENCDEC);
    test_round_trip(NT_ARCH_DECODER);
    test_errors();
    test_pytorch_file();
    unlink(tmp_path);
    return nt_check_report("test_weights");
}
