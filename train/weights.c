/* weights.c - a model's weights in HDF5 (/config attributes, /model/<name> float32 datasets). */
#include "train/weights.h"

#include <string.h>

#include "core/alloc.h"
#include "train/h5io.h"

#define NT_CKPT_FORMAT "nextok-checkpoint"
#define NT_CKPT_VERSION 1

nt_status nt_weights_config(const nt_net *net, nt_attrs *out) {
    if (!net || !net->ops || !net->ops->config || !out)
        return nt_error(NT_ERR_ARG, "nt_weights_config: model without ops->config");
    nt_attrs_init(out);
    NT_TRY(net->ops->config(net, out));
    if (!nt_attrs_find(out, "arch")) NT_TRY(nt_attrs_set_str(out, "arch", net->ops->arch));
    return NT_OK;
}

nt_status nt_weights_config_write(hid_t file, const nt_attrs *a) {
    if (!a) return nt_error(NT_ERR_ARG, "nt_weights_config_write: attributes are NULL");
    for (int i = 0; i < a->n; i++) {
        const nt_attr *at = &a->a[i];
        if (at->type == NT_ATTR_INT) NT_TRY(nt_h5_attr_write_int(file, "/config", at->name, at->i));
        else if (at->type == NT_ATTR_DOUBLE) NT_TRY(nt_h5_attr_write_double(file, "/config", at->name, at->d));
        else NT_TRY(nt_h5_attr_write_str(file, "/config", at->name, at->s));
    }
    return NT_OK;
}

nt_status nt_weights_save(hid_t file, const nt_net *net) {
    if (!net) return nt_error(NT_ERR_ARG, "nt_weights_save: model is NULL");
    nt_attrs *a = nt_malloc(sizeof *a);
    if (!a) return nt_error(NT_ERR_NOMEM, "nt_weights_save: out of memory");
    nt_status st = nt_weights_config(net, a);
    if (st == NT_OK) st = nt_weights_config_write(file, a);
    nt_free(a);
    NT_TRY(st);
    const nt_params *P = net->params;
    char path[256];
    for (int i = 0; i < P->count; i++) {
        const nt_tensor *t = &P->tensors[i];
        snprintf(path, sizeof path, "/model/%s", P->names[i]);
        NT_TRY(nt_h5_write_f32(file, path, t->ndim, t->shape, nt_f32(t)));
    }
    return NT_OK;
}

/* H5Aiterate callback: one /config attribute into the set. */
typedef struct read_ctx {
    nt_attrs *a;
    hid_t file;
    nt_status st;
} read_ctx;

static herr_t read_attr(hid_t loc, const char *name, const H5A_info_t *info, void *data) {
    read_ctx *r = data;
    if (strlen(name) >= NT_ATTR_NAME_MAX) {
        r->st = nt_error(NT_ERR_FORMAT, "/config: attribute name '%.40s...' too long", name);
        return 1;
    }
    if (r->a->n == NT_ATTRS_MAX) {
        r->st = nt_error(NT_ERR_FORMAT, "/config: more than %d attributes", NT_ATTRS_MAX);
        return 1;
    }
    hid_t at = H5Aopen(loc, name, H5P_DEFAULT);
    hid_t t = at >= 0 ? H5Aget_type(at) : -1;
    H5T_class_t cls = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
    if (t >= 0) H5Tclose(t);
    if (at >= 0) H5Aclose(at);
    if (cls == H5T_INTEGER) {
        int64_t v;
        r->st = nt_h5_attr_read_int(r->file, "/config", name, &v);
        if (r->st == NT_OK) r->st = nt_attrs_set_int(r->a, name, v);
    } else if (cls == H5T_FLOAT) {
        double v;
        r->st = nt_h5_attr_read_double(r->file, "/config", name, &v);
        if (r->st == NT_OK) r->st = nt_attrs_set_double(r->a, name, v);
    } else if (cls == H5T_STRING) {
        char v[NT_ATTR_STR_MAX];
        r->st = nt_h5_attr_read_str(r->file, "/config", name, v, sizeof v);
        if (r->st == NT_OK) r->st = nt_attrs_set_str(r->a, name, v);
    } else {
        r->st = nt_error(NT_ERR_FORMAT, "/config: attribute '%s' is neither an integer, a float nor a string",
                         name);
    }
    if (r->st != NT_OK) r->st = NT_ERR_FORMAT;
    return r->st == NT_OK ? 0 : 1;
}

nt_status nt_weights_config_read(hid_t file, nt_attrs *out) {
    if (!out) return nt_error(NT_ERR_ARG, "nt_weights_config_read: attributes are NULL");
    if (!nt_h5_exists(file, "/config")) return nt_error(NT_ERR_FORMAT, "/config: missing");
    nt_attrs *a = nt_malloc(sizeof *a);
    if (!a) return nt_error(NT_ERR_NOMEM, "nt_weights_config_read: out of memory");
    nt_attrs_init(a);
    read_ctx r = {.a = a, .file = file, .st = NT_OK};
    nt_h5_quiet q = nt_h5_quiet_begin();
    hid_t g = H5Gopen2(file, "/config", H5P_DEFAULT);
    hsize_t idx = 0;
    herr_t e = g >= 0 ? H5Aiterate2(g, H5_INDEX_NAME, H5_ITER_INC, &idx, read_attr, &r) : -1;
    if (g >= 0) H5Gclose(g);
    nt_h5_quiet_end(q);
    nt_status st = r.st != NT_OK ? r.st : e < 0 ? nt_error(NT_ERR_FORMAT, "/config: cannot list its attributes") : NT_OK;
    if (st == NT_OK) *out = *a;
    nt_free(a);
    return st;
}

nt_status nt_weights_check_config(hid_t file, const nt_net *net) {
    nt_attrs *a = nt_malloc(2 * sizeof *a);
    if (!a) return nt_error(NT_ERR_NOMEM, "nt_weights_check_config: out of memory");
    nt_attrs *mine = a + 1;
    nt_status st = nt_weights_config_read(file, a);
    if (st == NT_OK) st = nt_weights_config(net, mine);
    if (st == NT_OK) {
        const nt_attr *fa = nt_attrs_find(a, "arch"), *ma = nt_attrs_find(mine, "arch");
        if (!fa || fa->type != NT_ATTR_STR)
            st = nt_error(NT_ERR_FORMAT, "/config: attribute 'arch' missing or not a string");
        else if (strcmp(fa->s, ma->s) != 0)
            st = nt_error(NT_ERR_FORMAT, "holds a '%s' model, this one is a '%s'", fa->s, ma->s);
    }
    for (int i = 0; st == NT_OK && i < mine->n; i++) {
        const nt_attr *m = &mine->a[i];
        if (m->type == NT_ATTR_DOUBLE) continue;
        const nt_attr *f = nt_attrs_find(a, m->name);
        if (!f)
            st = nt_error(NT_ERR_FORMAT, "/config: attribute '%s' missing (the model's is %s%lld%s)", m->name,
                          m->type == NT_ATTR_STR ? "'" : "", m->type == NT_ATTR_STR ? 0LL : (long long)m->i,
                          m->type == NT_ATTR_STR ? "'" : "");
        else if (m->type == NT_ATTR_INT && (f->type != NT_ATTR_INT || f->i != m->i))
            st = nt_error(NT_ERR_FORMAT, "/config %s %lld, the model's %lld", m->name,
                          f->type == NT_ATTR_INT ? (long long)f->i : -1LL, (long long)m->i);
        else if (m->type == NT_ATTR_STR && (f->type != NT_ATTR_STR || strcmp(f->s, m->s) != 0))
            st = nt_error(NT_ERR_FORMAT, "/config %s '%s', the model's '%s'", m->name,
                          f->type == NT_ATTR_STR ? f->s : "?", m->s);
    }
    nt_free(a);
    return st;
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

nt_status nt_weights_load_into(hid_t file, nt_net *m) {
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
                          u.name, m->ops->arch);
    }
    if (st == NT_OK) {
        memcpy(P->values, stage, bytes);
        nt_params_touch(m->params);
    }
    nt_free_aligned(stage);
    return st;
}

nt_status nt_weights_load(hid_t file, nt_net **out) {
    if (!out) return nt_error(NT_ERR_ARG, "nt_weights_load: out is NULL");
    nt_attrs *cfg = nt_malloc(sizeof *cfg);
    if (!cfg) return nt_error(NT_ERR_NOMEM, "nt_weights_load: out of memory");
    nt_net *m = NULL;
    nt_status st = nt_weights_config_read(file, cfg);
    if (st == NT_OK) st = nt_net_create(&m, cfg);
    nt_free(cfg);
    if (st == NT_OK) st = nt_weights_load_into(file, m);
    if (st != NT_OK) {
        nt_net_free(m);
        return st;
    }
    *out = m;
    return NT_OK;
}

nt_status nt_weights_save_file(const char *path, const nt_net *m) {
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

nt_status nt_weights_load_file(const char *path, nt_net **out) {
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
