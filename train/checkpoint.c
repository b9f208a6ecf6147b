/* checkpoint.c - HDF5 checkpoints: atomic writes, strict loads, named errors. */
#include "train/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "train/h5io.h"
#include "train/weights.h"

/* ---- HDF5 helpers ----------------------------------------------------------------
 * All HDF5 calls run with the library's automatic error printing off; when a
 * call fails we append the innermost HDF5 message to ours. */

typedef struct h5_reason {
    char text[256];
} h5_reason;

static herr_t h5_walk_cb(unsigned n, const H5E_error2_t *err, void *data) {
    h5_reason *r = data;
    if (n == 0 && err->desc) snprintf(r->text, sizeof r->text, "%s", err->desc);
    return 0;
}

/* The innermost message of HDF5's current error stack ("" if none). */
static const char *h5_why(h5_reason *r) {
    r->text[0] = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, h5_walk_cb, r);
    return r->text;
}

/* Turns HDF5's printing off for the life of the process's calls into this
 * file: we report every failure ourselves. */
static void h5_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

static int h5_exists(hid_t loc, const char *path) {
    /* H5Lexists checks one link at a time: walk the path's prefixes. */
    char buf[1024];
    size_t n = strlen(path);
    if (n >= sizeof buf) return 0;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == 0) {
            char c = buf[i];
            buf[i] = 0;
            htri_t e = H5Lexists(loc, buf, H5P_DEFAULT);
            buf[i] = c;
            if (e <= 0) return 0;
        }
    }
    return 1;
}

static hid_t h5_str_type(void) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

static nt_status attr_write(hid_t obj, const char *name, hid_t type, const void *value) {
    h5_reason r;
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, type, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t e = a >= 0 ? H5Awrite(a, type, value) : -1;
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    if (e < 0) return nt_error(NT_ERR_IO, "cannot write attribute '%s' (%s)", name, h5_why(&r));
    return NT_OK;
}

static nt_status attr_write_str(hid_t obj, const char *name, const char *value) {
    hid_t t = h5_str_type();
    nt_status s = attr_write(obj, name, t, &value);
    H5Tclose(t);
    return s;
}
static nt_status attr_write_i64(hid_t obj, const char *name, int64_t v) {
    return attr_write(obj, name, H5T_NATIVE_INT64, &v);
}
static nt_status attr_write_u64(hid_t obj, const char *name, uint64_t v) {
    return attr_write(obj, name, H5T_NATIVE_UINT64, &v);
}
static nt_status attr_write_f64(hid_t obj, const char *name, double v) {
    return attr_write(obj, name, H5T_NATIVE_DOUBLE, &v);
}

/* Opens attribute `name` and checks it is a scalar of class `cls` (for
 * H5T_FLOAT an integer is accepted too). */
static nt_status attr_open(hid_t obj, const char *where, const char *name, H5T_class_t cls,
                           hid_t *attr, hid_t *ftype) {
    if (H5Aexists(obj, name) <= 0)
        return nt_error(NT_ERR_FORMAT, "%s: attribute '%s' is missing", where, name);
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) return nt_error(NT_ERR_FORMAT, "%s: attribute '%s' cannot be opened", where, name);
    hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
    H5T_class_t c = H5Tget_class(t);
    hssize_t npts = H5Sget_simple_extent_npoints(sp);
    H5Sclose(sp);
    int ok = c == cls || (cls == H5T_FLOAT && c == H5T_INTEGER);
    if (!ok || npts != 1) {
        H5Tclose(t), H5Aclose(a);
        const char *want = cls == H5T_STRING ? "a string" : cls == H5T_FLOAT ? "a number" : "an integer";
        if (!ok) return nt_error(NT_ERR_FORMAT, "%s: attribute '%s' is not %s", where, name, want);
        return nt_error(NT_ERR_FORMAT, "%s: attribute '%s' has %lld values, expected 1", where, name,
                        (long long)npts);
    }
    *attr = a, *ftype = t;
    return NT_OK;
}

static nt_status attr_read_num(hid_t obj, const char *where, const char *name, H5T_class_t cls,
                               hid_t mem, void *out) {
    hid_t a = -1, t = -1;
    NT_TRY(attr_open(obj, where, name, cls, &a, &t));
    herr_t e = H5Aread(a, mem, out);
    H5Tclose(t), H5Aclose(a);
    if (e < 0) {
        h5_reason r;
        return nt_error(NT_ERR_FORMAT, "%s: attribute '%s' cannot be read (%s)", where, name,
                        h5_why(&r));
    }
    return NT_OK;
}
static nt_status attr_read_i64(hid_t obj, const char *where, const char *name, int64_t *v) {
    return attr_read_num(obj, where, name, H5T_INTEGER, H5T_NATIVE_INT64, v);
}
static nt_status attr_read_u64(hid_t obj, const char *where, const char *name, uint64_t *v) {
    return attr_read_num(obj, where, name, H5T_INTEGER, H5T_NATIVE_UINT64, v);
}
static nt_status attr_read_f64(hid_t obj, const char *where, const char *name, double *v) {
    return attr_read_num(obj, where, name, H5T_FLOAT, H5T_NATIVE_DOUBLE, v);
}

static nt_status attr_read_str(hid_t obj, const char *where, const char *name, char *buf,
                               size_t len) {
    hid_t a = -1, t = -1;
    NT_TRY(attr_open(obj, where, name, H5T_STRING, &a, &t));
    nt_status s = NT_OK;
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_cset(mt, H5Tget_cset(t));
    if (H5Tis_variable_str(t) > 0) {
        H5Tset_size(mt, H5T_VARIABLE);
        char *v = NULL;
        if (H5Aread(a, mt, &v) < 0 || !v)
            s = nt_error(NT_ERR_FORMAT, "%s: attribute '%s' cannot be read", where, name);
        else if (strlen(v) >= len)
            s = nt_error(NT_ERR_FORMAT, "%s: attribute '%s' is longer than %zu bytes", where, name,
                         len - 1);
        else
            memcpy(buf, v, strlen(v) + 1);
        if (v) H5free_memory(v);
    } else {
        size_t n = H5Tget_size(t);
        if (n >= len) {
            s = nt_error(NT_ERR_FORMAT, "%s: attribute '%s' is longer than %zu bytes", where, name,
                         len - 1);
        } else {
            H5Tset_size(mt, n + 1);
            H5Tset_strpad(mt, H5T_STR_NULLTERM);
            if (H5Aread(a, mt, buf) < 0)
                s = nt_error(NT_ERR_FORMAT, "%s: attribute '%s' cannot be read", where, name);
            else
                buf[n] = 0;
        }
    }
    H5Tclose(mt), H5Tclose(t), H5Aclose(a);
    return s;
}

static const char *shape_text(char *buf, size_t len, int ndim, const hsize_t *dims) {
    size_t k = 0;
    buf[0] = 0;
    for (int d = 0; d < ndim && k < len; d++)
        k += (size_t)snprintf(buf + k, len - k, d ? "x%llu" : "%llu", (unsigned long long)dims[d]);
    if (ndim == 0) snprintf(buf, len, "scalar");
    return buf;
}

/* Float32 dataset at `path` (intermediate groups created). */
static nt_status dset_write_f32(hid_t loc, const char *path, const nt_tensor *shape_of,
                                const float *data) {
    hsize_t dims[NT_MAX_DIMS];
    for (int d = 0; d < shape_of->ndim; d++) dims[d] = (hsize_t)shape_of->shape[d];
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t sp = shape_of->ndim ? H5Screate_simple(shape_of->ndim, dims, NULL) : H5Screate(H5S_SCALAR);
    hid_t ds = H5Dcreate2(loc, path, H5T_IEEE_F32LE, sp, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    herr_t e = ds >= 0 ? H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) : -1;
    if (ds >= 0) H5Dclose(ds);
    H5Sclose(sp), H5Pclose(lcpl);
    if (e < 0) {
        h5_reason r;
        return nt_error(NT_ERR_IO, "cannot write dataset %s (%s)", path, h5_why(&r));
    }
    return NT_OK;
}

/* Reads float dataset `path` after checking it is float32 of t's shape. */
static nt_status dset_read_f32(hid_t loc, const char *where, const char *path, const nt_tensor *t,
                               float *data) {
    if (!h5_exists(loc, path)) return nt_error(NT_ERR_FORMAT, "%s: %s is missing", where, path);
    hid_t ds = H5Dopen2(loc, path, H5P_DEFAULT);
    if (ds < 0) return nt_error(NT_ERR_FORMAT, "%s: %s is not a dataset", where, path);
    hid_t ty = H5Dget_type(ds), sp = H5Dget_space(ds);
    int nd = H5Sget_simple_extent_ndims(sp);
    hsize_t dims[8] = {0}, want[NT_MAX_DIMS];
    for (int d = 0; d < t->ndim; d++) want[d] = (hsize_t)t->shape[d];
    if (nd >= 0 && nd <= 8) H5Sget_simple_extent_dims(sp, dims, NULL);
    nt_status s = NT_OK;
    char a[96], b[96];
    if (H5Tget_class(ty) != H5T_FLOAT || H5Tget_size(ty) != 4) {
        s = nt_error(NT_ERR_FORMAT, "%s: %s is not float32", where, path);
    } else if (nd != t->ndim || memcmp(dims, want, (size_t)nd * sizeof *dims) != 0) {
        s = nt_error(NT_ERR_FORMAT, "%s: %s has shape %s, expected %s", where, path,
                     shape_text(a, sizeof a, nd < 0 || nd > 8 ? 0 : nd, dims),
                     shape_text(b, sizeof b, t->ndim, want));
    } else if (H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
        h5_reason r;
        s = nt_error(NT_ERR_FORMAT, "%s: %s cannot be read (file damaged? %s)", where, path,
                     h5_why(&r));
    }
    H5Tclose(ty), H5Sclose(sp), H5Dclose(ds);
    return s;
}

/* ---- files -------------------------------------------------------------------------- */

nt_status nt_ckpt_open(const char *path, hid_t *file) {
    if (!path || !file) return nt_error(NT_ERR_ARG, "nt_ckpt_open: NULL argument");
    h5_quiet();
    FILE *f = fopen(path, "rb");
    if (!f) return nt_error(NT_ERR_IO, "%s: cannot open checkpoint (%s)", path, strerror(errno));
    fclose(f);
    hid_t h = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (h < 0) {
        h5_reason r;
        return nt_error(NT_ERR_FORMAT, "%s: not a readable HDF5 checkpoint (damaged or truncated? %s)",
                        path, h5_why(&r));
    }
    char fmt[64];
    int64_t version = 0;
    nt_status s = attr_read_str(h, path, "format", fmt, sizeof fmt);
    if (s == NT_OK && strcmp(fmt, NT_CKPT_FORMAT) != 0)
        s = nt_error(NT_ERR_FORMAT, "%s: attribute 'format' is '%s', expected '%s'", path, fmt,
                     NT_CKPT_FORMAT);
    if (s == NT_OK) s = attr_read_i64(h, path, "version", &version);
    if (s == NT_OK && version != NT_CKPT_VERSION)
        s = nt_error(NT_ERR_FORMAT,
                     "%s: checkpoint version %lld is not supported (this build reads version %d)",
                     path, (long long)version, NT_CKPT_VERSION);
    if (s != NT_OK) {
        H5Fclose(h);
        return s;
    }
    *file = h;
    return NT_OK;
}

nt_status nt_ckpt_create(const char *path, hid_t *file, char *tmp, size_t tmp_len) {
    if (!path || !file || !tmp) return nt_error(NT_ERR_ARG, "nt_ckpt_create: NULL argument");
    h5_quiet();
    if ((size_t)snprintf(tmp, tmp_len, "%s.tmp-%ld", path, (long)getpid()) >= tmp_len)
        return nt_error(NT_ERR_ARG, "nt_ckpt_create: path too long: %s", path);
    /* Close strongly: an object left open by mistake cannot keep the file
     * from being complete on disk before the rename. */
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
    hid_t h = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (h < 0) {
        h5_reason r;
        return nt_error(NT_ERR_IO, "%s: cannot create (%s)", tmp, h5_why(&r));
    }
    nt_status s = attr_write_str(h, "format", NT_CKPT_FORMAT);
    if (s == NT_OK) s = attr_write_i64(h, "version", NT_CKPT_VERSION);
    if (s != NT_OK) {
        nt_ckpt_abort(h, tmp);
        return nt_error_wrap(s, "%s", path);
    }
    *file = h;
    return NT_OK;
}

void nt_ckpt_abort(hid_t file, const char *tmp) {
    if (file >= 0) H5Fclose(file);
    if (tmp) remove(tmp);
}

static nt_status fsync_path(const char *path, int dir) {
    int fd = open(path, O_RDONLY | (dir ? O_DIRECTORY : 0));
    if (fd < 0) return nt_error(NT_ERR_IO, "%s: cannot open to sync (%s)", path, strerror(errno));
    int e = fsync(fd);
    int err = errno;
    close(fd);
    /* Some file systems cannot fsync a folder (EINVAL); the rename stands. */
    if (e != 0 && !(dir && (err == EINVAL || err == EBADF)))
        return nt_error(NT_ERR_IO, "%s: fsync failed (%s)", path, strerror(err));
    return NT_OK;
}

nt_status nt_ckpt_commit(hid_t file, const char *tmp, const char *path) {
    if (!tmp || !path) return nt_error(NT_ERR_ARG, "nt_ckpt_commit: NULL argument");
    h5_reason r;
    if (H5Fflush(file, H5F_SCOPE_GLOBAL) < 0) {
        nt_error(NT_ERR_IO, "%s: flush failed (%s)", tmp, h5_why(&r));
        nt_ckpt_abort(file, tmp);
        return NT_ERR_IO;
    }
    if (H5Fclose(file) < 0) {
        nt_error(NT_ERR_IO, "%s: close failed (%s)", tmp, h5_why(&r));
        remove(tmp);
        return NT_ERR_IO;
    }
    nt_status s = fsync_path(tmp, 0);
    if (s != NT_OK) {
        remove(tmp);
        return s;
    }
    if (rename(tmp, path) != 0) {
        int err = errno;
        remove(tmp);
        return nt_error(NT_ERR_IO, "cannot rename %s to %s (%s)", tmp, path, strerror(err));
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir) slash[1] = 0;
    else if (slash) *slash = 0;
    else snprintf(dir, sizeof dir, ".");
    return fsync_path(dir, 1);
}

/* ---- /optim ---------------------------------------------------------------------------- */

static nt_status optim_moment_path(char *buf, size_t len, const char *name, const char *which) {
    if ((size_t)snprintf(buf, len, "/optim/%s/%s", name, which) >= len)
        return nt_error(NT_ERR_ARG, "parameter name too long: %s", name);
    return NT_OK;
}

nt_status nt_ckpt_write_optim(hid_t file, const nt_optim *o) {
    if (!o) return nt_error(NT_ERR_ARG, "nt_ckpt_write_optim: optimizer is NULL");
    const nt_params *p = o->params;
    if (!p->m || !p->v) return nt_error(NT_ERR_STATE, "nt_ckpt_write_optim: moments not allocated");
    hid_t g = H5Gcreate2(file, "/optim", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) {
        h5_reason r;
        return nt_error(NT_ERR_IO, "nt_ckpt_write_optim: cannot create /optim (%s)", h5_why(&r));
    }
    const nt_optim_config *c = &o->cfg;
    nt_status s = attr_write_str(g, "kind", nt_optim_kind_name(c->kind));
    if (s == NT_OK) s = attr_write_i64(g, "step", o->step);
    if (s == NT_OK) s = attr_write_f64(g, "lr", o->last_lr);
    if (s == NT_OK) s = attr_write_f64(g, "beta1", c->beta1);
    if (s == NT_OK) s = attr_write_f64(g, "beta2", c->beta2);
    if (s == NT_OK) s = attr_write_f64(g, "eps", c->eps);
    if (s == NT_OK) s = attr_write_f64(g, "weight_decay", c->weight_decay);
    if (s == NT_OK) s = attr_write_f64(g, "momentum", c->momentum);
    if (s == NT_OK) s = attr_write_i64(g, "nesterov", c->nesterov);
    if (s == NT_OK) s = attr_write_i64(g, "decay_all", c->decay_all);
    H5Gclose(g);
    char path[1100];
    for (int i = 0; s == NT_OK && i < p->count; i++) {
        const nt_tensor *t = &p->tensors[i];
        s = optim_moment_path(path, sizeof path, p->names[i], "m");
        if (s == NT_OK) s = dset_write_f32(file, path, t, p->m + p->offsets[i]);
        if (s == NT_OK) s = optim_moment_path(path, sizeof path, p->names[i], "v");
        if (s == NT_OK) s = dset_write_f32(file, path, t, p->v + p->offsets[i]);
    }
    return s == NT_OK ? NT_OK : nt_error_wrap(s, "nt_ckpt_write_optim");
}

nt_status nt_ckpt_read_optim(hid_t file, const char *where, nt_optim *o) {
    if (!o || !where) return nt_error(NT_ERR_ARG, "nt_ckpt_read_optim: NULL argument");
    nt_params *p = o->params;
    if (!h5_exists(file, "/optim"))
        return nt_error(NT_ERR_FORMAT,
                        "%s: /optim is missing (a weights-only file cannot resume training)",
                        where);
    char w[1200];
    snprintf(w, sizeof w, "%s: /optim", where);
    hid_t g = H5Gopen2(file, "/optim", H5P_DEFAULT);
    if (g < 0) return nt_error(NT_ERR_FORMAT, "%s is not a group", w);
    char kind[32];
    nt_optim_config c = o->cfg;
    nt_optim_kind k = c.kind;
    int64_t step = 0, nesterov = 0, decay_all = 0;
    double lr = 0;
    nt_status s = attr_read_str(g, w, "kind", kind, sizeof kind);
    if (s == NT_OK && nt_optim_kind_parse(kind, &k) != NT_OK)
        s = nt_error(NT_ERR_FORMAT, "%s: attribute 'kind' is '%s' (expected sgd, adam or adamw)", w,
                     kind);
    if (s == NT_OK && k != c.kind)
        s = nt_error(NT_ERR_FORMAT, "%s: optimizer kind '%s' differs from this run's '%s'", w, kind,
                     nt_optim_kind_name(c.kind));
    if (s == NT_OK) s = attr_read_i64(g, w, "step", &step);
    if (s == NT_OK && step < 0) s = nt_error(NT_ERR_FORMAT, "%s: step %lld < 0", w, (long long)step);
    if (s == NT_OK) s = attr_read_f64(g, w, "lr", &lr);
    if (s == NT_OK) s = attr_read_f64(g, w, "beta1", &c.beta1);
    if (s == NT_OK) s = attr_read_f64(g, w, "beta2", &c.beta2);
    if (s == NT_OK) s = attr_read_f64(g, w, "eps", &c.eps);
    if (s == NT_OK) s = attr_read_f64(g, w, "weight_decay", &c.weight_decay);
    if (s == NT_OK) s = attr_read_f64(g, w, "momentum", &c.momentum);
    if (s == NT_OK) s = attr_read_i64(g, w, "nesterov", &nesterov);
    if (s == NT_OK) s = attr_read_i64(g, w, "decay_all", &decay_all);
    H5Gclose(g);
    if (s != NT_OK) return s;
    c.nesterov = (int)nesterov, c.decay_all = (int)decay_all;
    if (nt_optim_config_check(&c) != NT_OK)
        return nt_error_wrap(NT_ERR_FORMAT, "%s: stored hyperparameters", where);
    NT_TRY(nt_params_alloc_moments(p));
    char path[1100];
    for (int i = 0; i < p->count; i++) {
        const nt_tensor *t = &p->tensors[i];
        NT_TRY(optim_moment_path(path, sizeof path, p->names[i], "m"));
        NT_TRY(dset_read_f32(file, where, path, t, p->m + p->offsets[i]));
        NT_TRY(optim_moment_path(path, sizeof path, p->names[i], "v"));
        NT_TRY(dset_read_f32(file, where, path, t, p->v + p->offsets[i]));
    }
    /* A moment stored for a parameter this model lacks is a mismatch too. */
    H5G_info_t info;
    memset(&info, 0, sizeof info);
    g = H5Gopen2(file, "/optim", H5P_DEFAULT);
    H5Gget_info(g, &info);
    H5Gclose(g);
    if ((int64_t)info.nlinks != p->count)
        return nt_error(NT_ERR_FORMAT, "%s: /optim holds moments of %llu parameters, the model has %d",
                        where, (unsigned long long)info.nlinks, p->count);
    int decay_all_changed = c.decay_all != o->cfg.decay_all;
    o->cfg = c;
    o->step = step;
    o->last_lr = lr;
    if (decay_all_changed) NT_TRY(nt_optim_refresh(o));
    return NT_OK;
}

/* ---- /train ---------------------------------------------------------------------------- */

void nt_train_state_init(nt_train_state *ts) {
    if (!ts) return;
    memset(ts, 0, sizeof *ts);
    ts->best_metric = NAN;
    ts->best_step = -1;
}

nt_status nt_ckpt_write_train(hid_t file, const nt_train_state *ts) {
    if (!ts) return nt_error(NT_ERR_ARG, "nt_ckpt_write_train: state is NULL");
    hid_t g = H5Gcreate2(file, "/train", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) {
        h5_reason r;
        return nt_error(NT_ERR_IO, "nt_ckpt_write_train: cannot create /train (%s)", h5_why(&r));
    }
    nt_status s = attr_write_i64(g, "step", ts->step);
    if (s == NT_OK) s = attr_write_i64(g, "epoch", ts->epoch);
    if (s == NT_OK) s = attr_write_i64(g, "cursor", ts->cursor);
    if (s == NT_OK) s = attr_write_u64(g, "rng_seed", ts->rng.seed);
    if (s == NT_OK) s = attr_write_u64(g, "rng_counter", ts->rng.counter);
    if (s == NT_OK) s = attr_write_f64(g, "best_metric", ts->best_metric);
    if (s == NT_OK) s = attr_write_i64(g, "best_step", ts->best_step);
    if (s == NT_OK) s = attr_write_i64(g, "bad_evals", ts->bad_evals);
    if (s == NT_OK) s = attr_write_i64(g, "tokens", ts->tokens);
    if (s == NT_OK) s = attr_write_f64(g, "seconds", ts->seconds);
    if (s == NT_OK) s = attr_write_str(g, "options", ts->options);
    H5Gclose(g);
    return s == NT_OK ? NT_OK : nt_error_wrap(s, "nt_ckpt_write_train");
}

nt_status nt_ckpt_read_train(hid_t file, const char *where, nt_train_state *out) {
    if (!out || !where) return nt_error(NT_ERR_ARG, "nt_ckpt_read_train: NULL argument");
    if (!h5_exists(file, "/train"))
        return nt_error(NT_ERR_FORMAT,
                        "%s: /train is missing (a weights-only file cannot resume training)", where);
    char w[1200];
    snprintf(w, sizeof w, "%s: /train", where);
    hid_t g = H5Gopen2(file, "/train", H5P_DEFAULT);
    if (g < 0) return nt_error(NT_ERR_FORMAT, "%s is not a group", w);
    nt_train_state *ts = nt_malloc(sizeof *ts);
    if (!ts) {
        H5Gclose(g);
        return nt_error(NT_ERR_NOMEM, "nt_ckpt_read_train: out of memory");
    }
    nt_train_state_init(ts);
    nt_status s = attr_read_i64(g, w, "step", &ts->step);
    if (s == NT_OK) s = attr_read_i64(g, w, "epoch", &ts->epoch);
    if (s == NT_OK) s = attr_read_i64(g, w, "cursor", &ts->cursor);
    if (s == NT_OK) s = attr_read_u64(g, w, "rng_seed", &ts->rng.seed);
    if (s == NT_OK) s = attr_read_u64(g, w, "rng_counter", &ts->rng.counter);
    if (s == NT_OK) s = attr_read_f64(g, w, "best_metric", &ts->best_metric);
    if (s == NT_OK) s = attr_read_i64(g, w, "best_step", &ts->best_step);
    if (s == NT_OK) s = attr_read_i64(g, w, "bad_evals", &ts->bad_evals);
    if (s == NT_OK) s = attr_read_i64(g, w, "tokens", &ts->tokens);
    if (s == NT_OK) s = attr_read_f64(g, w, "seconds", &ts->seconds);
    if (s == NT_OK) s = attr_read_str(g, w, "options", ts->options, sizeof ts->options);
    if (s == NT_OK && (ts->step < 0 || ts->epoch < 0 || ts->cursor < 0))
        s = nt_error(NT_ERR_FORMAT, "%s: negative step, epoch or cursor (%lld, %lld, %lld)", w,
                     (long long)ts->step, (long long)ts->epoch, (long long)ts->cursor);
    H5Gclose(g);
    if (s == NT_OK) memcpy(out, ts, sizeof *ts);
    nt_free(ts);
    return s;
}

/* ---- whole files ------------------------------------------------------------------------ */

nt_status nt_ckpt_save(const char *path, const nt_model *m, const nt_vocab *vocab,
                       const nt_optim *optim, const nt_train_state *train) {
    const char *fn = "nt_ckpt_save";
    if (!path || !m || !vocab)
        return nt_error(NT_ERR_ARG, "%s: path, model and vocab must not be NULL", fn);
    if (nt_vocab_size(vocab) != m->cfg.vocab_size)
        return nt_error(NT_ERR_ARG, "%s: %s: vocabulary has %d tokens, the model's vocab_size is %d",
                        fn, path, nt_vocab_size(vocab), m->cfg.vocab_size);
    if (optim && optim->params != m->params)
        return nt_error(NT_ERR_ARG, "%s: the optimizer is not over this model's parameters", fn);
    hid_t f;
    char tmp[4200];
    NT_TRY(nt_ckpt_create(path, &f, tmp, sizeof tmp));
    nt_status s = nt_weights_save(f, m);
    if (s == NT_OK)
        s = nt_h5_attr_write_str(f, "/config", "tokenizer", nt_tokenizer_kind_name(nt_vocab_kind(vocab)));
    if (s == NT_OK) s = nt_vocab_save_h5(vocab, f);
    if (s == NT_OK && optim) s = nt_ckpt_write_optim(f, optim);
    if (s == NT_OK && train) s = nt_ckpt_write_train(f, train);
    if (s != NT_OK) {
        nt_ckpt_abort(f, tmp);
        return nt_error_wrap(s, "%s: %s", fn, path);
    }
    return nt_ckpt_commit(f, tmp, path);
}

nt_status nt_ckpt_export(const char *path, const nt_model *m, const nt_vocab *vocab) {
    return nt_ckpt_save(path, m, vocab, NULL, NULL);
}

nt_status nt_ckpt_load(const char *path, nt_model **model, nt_vocab **vocab) {
    if (!path || !model) return nt_error(NT_ERR_ARG, "nt_ckpt_load: path and model must not be NULL");
    hid_t f;
    NT_TRY(nt_ckpt_open(path, &f));
    nt_model *m = NULL;
    nt_vocab *v = NULL;
    nt_status s = nt_weights_load(f, &m);
    if (s == NT_OK && vocab) {
        char tok[32];
        nt_tokenizer_kind kind = NT_TOKENIZER_CHAR;
        s = nt_h5_attr_read_str(f, "/config", "tokenizer", tok, sizeof tok);
        if (s == NT_OK) s = nt_tokenizer_kind_parse(tok, &kind) == NT_OK
                                ? NT_OK
                                : nt_error(NT_ERR_FORMAT, "/config: tokenizer '%s' is unknown", tok);
        if (s == NT_OK) s = nt_vocab_load_h5(&v, f);
        if (s == NT_OK) {
            nt_vocab_set_kind(v, kind);
            if (nt_vocab_size(v) != m->cfg.vocab_size)
                s = nt_error(NT_ERR_FORMAT, "/vocab/tokens has %d tokens, /config vocab_size is %d",
                             nt_vocab_size(v), m->cfg.vocab_size);
        }
    }
    H5Fclose(f);
    if (s != NT_OK) {
        nt_model_free(m);
        nt_vocab_free(v);
        return nt_error_wrap(s, "%s", path);
    }
    *model = m;
    if (vocab) *vocab = v;
    return NT_OK;
}

nt_status nt_ckpt_load_weights_into(const char *path, nt_model *model) {
    if (!path || !model) return nt_error(NT_ERR_ARG, "nt_ckpt_load_weights_into: NULL argument");
    hid_t f;
    NT_TRY(nt_ckpt_open(path, &f));
    nt_model_config c;
    nt_status s = nt_config_read(f, &c);
    if (s == NT_OK && (c.arch != model->cfg.arch || c.vocab_size != model->cfg.vocab_size ||
                       c.d_model != model->cfg.d_model || c.heads != model->cfg.heads ||
                       c.enc_layers != model->cfg.enc_layers || c.dec_layers != model->cfg.dec_layers ||
                       c.max_len != model->cfg.max_len))
        s = nt_error(NT_ERR_FORMAT,
                     "/config (V %d, D %d, H %d, layers %d+%d, max_len %d) differs from the model "
                     "(V %d, D %d, H %d, layers %d+%d, max_len %d)",
                     c.vocab_size, c.d_model, c.heads, c.enc_layers, c.dec_layers, c.max_len,
                     model->cfg.vocab_size, model->cfg.d_model, model->cfg.heads,
                     model->cfg.enc_layers, model->cfg.dec_layers, model->cfg.max_len);
    if (s == NT_OK) s = nt_weights_load_into(f, model);
    H5Fclose(f);
    return s == NT_OK ? NT_OK : nt_error_wrap(s, "%s", path);
}

nt_status nt_ckpt_load_optim(const char *path, nt_optim *optim) {
    if (!path || !optim) return nt_error(NT_ERR_ARG, "nt_ckpt_load_optim: NULL argument");
    hid_t f;
    NT_TRY(nt_ckpt_open(path, &f));
    nt_status s = nt_ckpt_read_optim(f, path, optim);
    H5Fclose(f);
    return s;
}

nt_status nt_ckpt_load_train(const char *path, nt_train_state *train) {
    if (!path || !train) return nt_error(NT_ERR_ARG, "nt_ckpt_load_train: NULL argument");
    hid_t f;
    NT_TRY(nt_ckpt_open(path, &f));
    nt_status s = nt_ckpt_read_train(f, path, train);
    H5Fclose(f);
    return s;
}
