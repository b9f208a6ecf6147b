/* weights.c - model weights in HDF5 (/config attributes, /model/<name> float32 datasets). */
#include "train/weights.h"

#include <string.h>

#include "core/alloc.h"
#include "train/h5io.h"

#define NT_CKPT_FORMAT "nextok-checkpoint"
#define NT_CKPT_VERSION 1

nt_status nt_config_write(hid_t file, const nt_model_config *c) {
    if (!c) return nt_error(NT_ERR_ARG, "nt_config_write: config is NULL");
    NT_TRY(nt_h5_attr_write_str(file, "/config", "arch", c->arch == NT_ARCH_DECODER ? "decoder" : "encdec"));
    NT_TRY(nt_h5_attr_write_int(file, "/config", "vocab_size", c->vocab_size));
    NT_TRY(nt_h5_attr_write_int(file, "/config", "d_model", c->d_model));
    NT_TRY(nt_h5_attr_write_int(file, "/config", "heads", c->heads));
    NT_TRY(nt_h5_attr_write_int(file, "/config", "enc_layers", c->enc_layers));
    NT_TRY(nt_h5_attr_write_int(file, "/config", "dec_layers", c->dec_layers));
    NT_TRY(nt_h5_attr_write_int(file, "/config", "max_len", c->max_len));
    NT_TRY(nt_h5_attr_write_double(file, "/config", "dropout", c->dropout));
    return NT_OK;
}

nt_status nt_weights_save(hid_t file, const nt_model *m) {
    if (!m) return nt_error(NT_ERR_ARG, "nt_weights_save: model is NULL");
    NT_TRY(nt_config_write(file, &m->cfg));
    const nt_params *P = m->params;
    char path[256];
    for (int i = 0; i < P->count; i++) {
        const nt_tensor *t = &P->tensors[i];
        snprintf(path, sizeof path, "/model/%s", P->names[i]);
        NT_TRY(nt_h5_write_f32(file, path, t->ndim, t->shape, nt_f32(t)));
    }
    return NT_OK;
}

static nt_status read_int_attr(hid_t file, const char *name, int *v) {
    int64_t x;
    NT_TRY(nt_h5_attr_read_int(file, "/config", name, &x));
    if (x < 0 || x > (1 << 30))
        return nt_error(NT_ERR_FORMAT, "/config: attribute '%s' = %lld out of range", name, (long long)x);
    *v = (int)x;
    return NT_OK;
}

nt_status nt_config_read(hid_t file, nt_model_config *out) {
    if (!out) return nt_error(NT_ERR_ARG, "nt_config_read: config is NULL");
    nt_model_config c = nt_model_config_default();
    char arch[32];
    NT_TRY(nt_h5_attr_read_str(file, "/config", "arch", arch, sizeof arch));
    if (strcmp(arch, "encdec") == 0)
        c.arch = NT_ARCH_ENCDEC;
    else if (strcmp(arch, "decoder") == 0)
        c.arch = NT_ARCH_DECODER;
    else
        return nt_error(NT_ERR_FORMAT, "/config: arch '%s' is neither \"encdec\" nor \"decoder\"", arch);
    NT_TRY(read_int_attr(file, "vocab_size", &c.vocab_size));
    NT_TRY(read_int_attr(file, "d_model", &c.d_model));
    NT_TRY(read_int_attr(file, "heads", &c.heads));
    NT_TRY(read_int_attr(file, "enc_layers", &c.enc_layers));
    NT_TRY(read_int_attr(file, "dec_layers", &c.dec_layers));
    NT_TRY(read_int_attr(file, "max_len", &c.max_len));
    c.dropout = 0;
    if (nt_h5_attr_exists(file, "/config", "dropout")) {
        double d;
        NT_TRY(nt_h5_attr_read_double(file, "/config", "dropout", &d));
        c.dropout = (float)d;
    }
    nt_status st = nt_model_config_check(&c);
    if (st != NT_OK) return nt_error_wrap(NT_ERR_FORMAT, "/config");
    *out = c;
    return NT_OK;
}

/* H5Literate callback: stops at the first name under /model that is not a parameter. */
typedef struct unexpected_ctx {
    const nt_params *P;
    char name[256];
} unexpected_ctx;

static herr_t find_unexpected(hid_t g, const char *name, const H5L_info_t *info, void *arg) {
    unexpected_ctx *u = arg;
    if (nt_params_find(u->P, name) >= 0) return 0;
    snprintf(u->name, sizeof u->name, "%s", name);
    return 1;
}

nt_status nt_weights_load_into(hid_t file, nt_model *m) {
    static const char *fn = "nt_weights_load_into";
    if (!m) return nt_error(NT_ERR_ARG, "%s: model is NULL", fn);
    const nt_params *P = m->params;
    if (!nt_h5_exists(file, "/model")) return nt_error(NT_ERR_FORMAT, "/model: missing");
    size_t bytes = (size_t)P->total * sizeof(float);
    float *stage = nt_malloc_aligned(bytes ? bytes : 64);
    if (!stage) return nt_error(NT_ERR_NOMEM, "%s: cannot stage %zu bytes", fn, bytes);
    memcpy(stage, P->values, bytes);   /* keeps the alignment padding as it was */
    nt_status st = NT_OK;
    char path[256];
    for (int i = 0; i < P->count && st == NT_OK; i++) {
        const nt_tensor *t = &P->tensors[i];
        snprintf(path, sizeof path, "/model/%s", P->names[i]);
        st = nt_h5_read_f32(file, path, t->ndim, t->shape, stage + P->offsets[i]);
    }
    if (st == NT_OK) {
        nt_h5_quiet q = nt_h5_quiet_begin();
        hid_t g = H5Gopen2(file, "/model", H5P_DEFAULT);
        unexpected_ctx u = {.P = P};
        hsize_t idx = 0;
        herr_t r = g >= 0 ? H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &idx, find_unexpected, &u) : -1;
        if (g >= 0) H5Gclose(g);
        nt_h5_quiet_end(q);
        if (r < 0)
            st = nt_error(NT_ERR_IO, "/model: cannot list the group");
        else if (r > 0)
            st = nt_error(NT_ERR_FORMAT, "/model/%s: unexpected tensor (not a parameter of this %s model)",
                          u.name, m->cfg.arch == NT_ARCH_DECODER ? "decoder-only" : "encdec");
    }
    if (st == NT_OK) {
        memcpy(P->values, stage, bytes);
        nt_params_touch(m->params);
    }
    nt_free_aligned(stage);
    return st;
}

nt_status nt_weights_load(hid_t file, nt_model **out) {
    if (!out) return nt_error(NT_ERR_ARG, "nt_weights_load: out is NULL");
    nt_model_config cfg;
    NT_TRY(nt_config_read(file, &cfg));
    nt_model *m;
    NT_TRY(nt_model_new(&m, &cfg));
    nt_status st = nt_weights_load_into(file, m);
    if (st != NT_OK) {
        nt_model_free(m);
        return st;
    }
    *out = m;
    return NT_OK;
}

nt_status nt_weights_save_file(const char *path, const nt_model *m) {
    if (!path || !m) return nt_error(NT_ERR_ARG, "nt_weights_save_file: NULL path or model");
    nt_h5_quiet q = nt_h5_quiet_begin();
    hid_t f = nt_h5_file_create(path, H5P_DEFAULT);
    nt_h5_quiet_end(q);
    if (f < 0) return nt_error(NT_ERR_IO, "nt_weights_save_file: cannot create '%s'", path);
    nt_status st = nt_h5_attr_write_str(f, "/", "format", NT_CKPT_FORMAT);
    if (st == NT_OK) st = nt_h5_attr_write_int(f, "/", "version", NT_CKPT_VERSION);
    if (st == NT_OK) st = nt_weights_save(f, m);
    if (H5Fclose(f) < 0 && st == NT_OK) st = nt_error(NT_ERR_IO, "nt_weights_save_file: closing '%s' failed", path);
    return st == NT_OK ? st : nt_error_wrap(st, "%s", path);
}

nt_status nt_weights_load_file(const char *path, nt_model **out) {
    if (!path || !out) return nt_error(NT_ERR_ARG, "nt_weights_load_file: NULL path or out");
    nt_h5_quiet q = nt_h5_quiet_begin();
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    nt_h5_quiet_end(q);
    if (f < 0) return nt_error(NT_ERR_IO, "nt_weights_load_file: cannot open '%s' as HDF5", path);
    nt_status st = NT_OK;
    if (nt_h5_attr_exists(f, "/", "format")) {
        char fmt[64];
        st = nt_h5_attr_read_str(f, "/", "format", fmt, sizeof fmt);
        if (st == NT_OK && strcmp(fmt, NT_CKPT_FORMAT) != 0)
            st = nt_error(NT_ERR_FORMAT, "/: format '%s', expected '%s'", fmt, NT_CKPT_FORMAT);
    }
    if (st == NT_OK && nt_h5_attr_exists(f, "/", "version")) {
        int64_t v;
        st = nt_h5_attr_read_int(f, "/", "version", &v);
        if (st == NT_OK && v != NT_CKPT_VERSION)
            st = nt_error(NT_ERR_FORMAT, "/: version %lld, this build reads %d", (long long)v, NT_CKPT_VERSION);
    }
    if (st == NT_OK) st = nt_weights_load(f, out);
    H5Fclose(f);
    return st == NT_OK ? st : nt_error_wrap(st, "%s", path);
}
