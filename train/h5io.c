/* h5io.c - HDF5 helpers: float32 datasets and scalar attributes with named errors. */
#include "train/h5io.h"

#include <string.h>

#include "core/alloc.h"

nt_h5_quiet nt_h5_quiet_begin(void) {
    nt_h5_quiet q = {0};
    H5Eget_auto2(H5E_DEFAULT, &q.fn, &q.data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    return q;
}

void nt_h5_quiet_end(nt_h5_quiet q) { H5Eset_auto2(H5E_DEFAULT, q.fn, q.data); }

hid_t nt_h5_file_create(const char *path, hid_t fapl) {
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    if (fcpl < 0) return -1;
    hid_t f = H5Pset_istore_k(fcpl, 1) < 0 ? -1 : H5Fcreate(path, H5F_ACC_TRUNC, fcpl, fapl);
    H5Pclose(fcpl);
    return f;
}

int nt_h5_exists(hid_t loc, const char *path) {
    if (!path || !*path) return 0;
    if (strcmp(path, ".") == 0 || strcmp(path, "/") == 0) return 1;
    char buf[512];
    size_t n = strlen(path);
    if (n >= sizeof buf) return 0;
    memcpy(buf, path, n + 1);
    nt_h5_quiet q = nt_h5_quiet_begin();
    int ok = 1;
    /* H5Lexists needs every parent to exist: check each prefix in turn. */
    for (size_t i = 1; i <= n && ok; i++) {
        if (buf[i] == '/' || buf[i] == 0) {
            char c = buf[i];
            buf[i] = 0;
            if (H5Lexists(loc, buf, H5P_DEFAULT) <= 0) ok = 0;
            buf[i] = c;
        }
    }
    nt_h5_quiet_end(q);
    return ok;
}

static const char *type_name(hid_t t, char *buf, size_t cap) {
    size_t bits = H5Tget_size(t) * 8;
    switch (H5Tget_class(t)) {
    case H5T_FLOAT: snprintf(buf, cap, "float%zu", bits); break;
    case H5T_INTEGER: snprintf(buf, cap, "%sint%zu", H5Tget_sign(t) == H5T_SGN_NONE ? "u" : "", bits); break;
    case H5T_STRING: snprintf(buf, cap, "string"); break;
    default: snprintf(buf, cap, "HDF5 class %d", (int)H5Tget_class(t)); break;
    }
    return buf;
}

static const char *dims_str(int ndim, const hsize_t *d, char *buf, size_t cap) {
    size_t k = 0;
    if (ndim == 0) snprintf(buf, cap, "scalar");
    for (int i = 0; i < ndim && k < cap; i++)
        k += (size_t)snprintf(buf + k, cap - k, i ? "x%llu" : "%llu", (unsigned long long)d[i]);
    return buf;
}

/* The bytes a chunk may hold. A checkpoint tensor is usually one chunk (one
 * checksum, one read); a larger one is cut along its leading dims, and no
 * chunk reaches HDF5's 4 GiB limit. */
#define CHUNK_BYTES ((hsize_t)64 << 20)

/* Chunked layout with the Fletcher32 checksum filter (needs chunks; a
 * scalar cannot be chunked and stays contiguous, unchecked). Readers need
 * nothing special: the filter is built into every HDF5 (h5py included). */
static hid_t checked_dcpl(int ndim, const hsize_t *dims) {
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (dcpl < 0 || ndim == 0) return dcpl;
    hsize_t chunk[4], bytes = sizeof(float);
    for (int i = 0; i < ndim; i++) chunk[i] = dims[i], bytes *= dims[i];
    for (int i = 0; i < ndim && bytes > CHUNK_BYTES; i++) {
        hsize_t slice = bytes / chunk[i]; /* bytes of one index along dim i */
        chunk[i] = CHUNK_BYTES / slice ? CHUNK_BYTES / slice : 1;
        bytes = slice * chunk[i];
    }
    if (H5Pset_chunk(dcpl, ndim, chunk) < 0 || H5Pset_fletcher32(dcpl) < 0) {
        H5Pclose(dcpl);
        return -1;
    }
    return dcpl;
}

nt_status nt_h5_write_f32(hid_t loc, const char *path, int ndim, const int *shape, const float *data) {
    if (!path || !data || ndim < 0 || ndim > 4 || (ndim && !shape))
        return nt_error(NT_ERR_ARG, "nt_h5_write_f32: bad arguments for '%s'", path ? path : "(null)");
    hsize_t dims[4];
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 1)
            return nt_error(NT_ERR_ARG, "nt_h5_write_f32: '%s': dim %d is %d, expected >= 1", path, i, shape[i]);
        dims[i] = (hsize_t)shape[i];
    }
    nt_h5_quiet q = nt_h5_quiet_begin();
    nt_status st = NT_OK;
    hid_t sp = ndim ? H5Screate_simple(ndim, dims, NULL) : H5Screate(H5S_SCALAR);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t dcpl = checked_dcpl(ndim, dims);
    hid_t ds = sp >= 0 && dcpl >= 0 ? H5Dcreate2(loc, path, H5T_IEEE_F32LE, sp, lcpl, dcpl, H5P_DEFAULT) : -1;
    if (ds < 0 || H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
        st = nt_error(NT_ERR_IO, "%s: cannot write the dataset (exists already, or the file is read-only?)", path);
    if (ds >= 0) H5Dclose(ds);
    if (dcpl >= 0) H5Pclose(dcpl);
    H5Pclose(lcpl);
    if (sp >= 0) H5Sclose(sp);
    nt_h5_quiet_end(q);
    return st;
}

/* Opens a float32 dataset of the expected shape; *ds_out to close by the caller. */
static nt_status open_f32(hid_t loc, const char *path, int ndim, const int *shape, hid_t *ds_out) {
    if (!nt_h5_exists(loc, path)) return nt_error(NT_ERR_FORMAT, "%s: missing", path);
    H5O_info_t info;
    if (H5Oget_info_by_name(loc, path, &info, H5P_DEFAULT) < 0 || info.type != H5O_TYPE_DATASET)
        return nt_error(NT_ERR_FORMAT, "%s: not a dataset", path);
    hid_t ds = H5Dopen2(loc, path, H5P_DEFAULT);
    if (ds < 0) return nt_error(NT_ERR_IO, "%s: cannot open the dataset", path);
    hid_t t = H5Dget_type(ds), sp = H5Dget_space(ds);
    nt_status st = NT_OK;
    char a[48], b[48];
    if (t < 0 || sp < 0) {
        st = nt_error(NT_ERR_IO, "%s: cannot read type or shape", path);
    } else if (H5Tget_class(t) != H5T_FLOAT || H5Tget_size(t) != 4) {
        st = nt_error(NT_ERR_FORMAT, "%s: dtype %s, expected float32", path, type_name(t, a, sizeof a));
    } else {
        int nd = H5Sget_simple_extent_ndims(sp);
        hsize_t dims[32], want[4];
        for (int i = 0; i < ndim; i++) want[i] = (hsize_t)shape[i];
        int same = nd == ndim;
        if (nd >= 0 && nd <= 32) H5Sget_simple_extent_dims(sp, dims, NULL);
        else nd = 0, same = 0;
        for (int i = 0; same && i < nd; i++) same = dims[i] == want[i];
        if (!same)
            st = nt_error(NT_ERR_FORMAT, "%s: shape %s, expected %s", path, dims_str(nd, dims, a, sizeof a),
                          dims_str(ndim, want, b, sizeof b));
    }
    if (t >= 0) H5Tclose(t);
    if (sp >= 0) H5Sclose(sp);
    if (st != NT_OK) {
        H5Dclose(ds);
        return st;
    }
    *ds_out = ds;
    return NT_OK;
}

nt_status nt_h5_check_f32(hid_t loc, const char *path, int ndim, const int *shape) {
    if (!path || ndim < 0 || ndim > 4 || (ndim && !shape))
        return nt_error(NT_ERR_ARG, "nt_h5_check_f32: bad arguments");
    nt_h5_quiet q = nt_h5_quiet_begin();
    hid_t ds;
    nt_status st = open_f32(loc, path, ndim, shape, &ds);
    if (st == NT_OK) H5Dclose(ds);
    nt_h5_quiet_end(q);
    return st;
}

static herr_t checksum_cb(unsigned n, const H5E_error2_t *err, void *data) {
    (void)n;
    if (err->desc && strstr(err->desc, "letcher32")) *(int *)data = 1; /* [Ff]letcher32 */
    return 0;
}

/* 1 if HDF5's current error stack holds the Fletcher32 filter's complaint
 * ("data error detected by Fletcher32 checksum"): a read whose checksum
 * does not match, as opposed to one that failed for another reason. */
static int checksum_failed(void) {
    int found = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, checksum_cb, &found);
    return found;
}

nt_status nt_h5_read_f32(hid_t loc, const char *path, int ndim, const int *shape, float *data) {
    if (!path || !data || ndim < 0 || ndim > 4 || (ndim && !shape))
        return nt_error(NT_ERR_ARG, "nt_h5_read_f32: bad arguments");
    nt_h5_quiet q = nt_h5_quiet_begin();
    hid_t ds;
    nt_status st = open_f32(loc, path, ndim, shape, &ds);
    if (st == NT_OK) {
        if (H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
            if (checksum_failed())
                st = nt_error(NT_ERR_FORMAT, "%s: checksum mismatch (Fletcher32): the stored data is corrupt", path);
            else
                st = nt_error(NT_ERR_IO, "%s: read failed", path);
        }
        H5Dclose(ds);
    }
    nt_h5_quiet_end(q);
    return st;
}

/* ---- attributes ------------------------------------------------------------------ */

int nt_h5_attr_exists(hid_t loc, const char *obj, const char *name) {
    if (!nt_h5_exists(loc, obj)) return 0;
    nt_h5_quiet q = nt_h5_quiet_begin();
    htri_t r = H5Aexists_by_name(loc, obj, name, H5P_DEFAULT);
    nt_h5_quiet_end(q);
    return r > 0;
}

/* Creates the object at obj as a group if missing. */
static nt_status ensure_group(hid_t loc, const char *obj) {
    if (nt_h5_exists(loc, obj)) return NT_OK;
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t g = H5Gcreate2(loc, obj, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Pclose(lcpl);
    if (g < 0) return nt_error(NT_ERR_IO, "%s: cannot create the group", obj);
    H5Gclose(g);
    return NT_OK;
}

static nt_status attr_write(hid_t loc, const char *obj, const char *name, hid_t ftype, hid_t mtype,
                            const void *v) {
    if (!obj || !name) return nt_error(NT_ERR_ARG, "nt_h5_attr_write: NULL object or name");
    nt_h5_quiet q = nt_h5_quiet_begin();
    nt_status st = ensure_group(loc, obj);
    if (st == NT_OK) {
        if (H5Aexists_by_name(loc, obj, name, H5P_DEFAULT) > 0)
            H5Adelete_by_name(loc, obj, name, H5P_DEFAULT);
        hid_t sp = H5Screate(H5S_SCALAR);
        hid_t a = H5Acreate_by_name(loc, obj, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (a < 0 || H5Awrite(a, mtype, v) < 0)
            st = nt_error(NT_ERR_IO, "%s: cannot write attribute '%s'", obj, name);
        if (a >= 0) H5Aclose(a);
        H5Sclose(sp);
    }
    nt_h5_quiet_end(q);
    return st;
}

nt_status nt_h5_attr_write_int(hid_t loc, const char *obj, const char *name, int64_t v) {
    if (v >= INT32_MIN && v <= INT32_MAX) {
        int32_t x = (int32_t)v;
        return attr_write(loc, obj, name, H5T_STD_I32LE, H5T_NATIVE_INT32, &x);
    }
    return attr_write(loc, obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &v);
}

nt_status nt_h5_attr_write_double(hid_t loc, const char *obj, const char *name, double v) {
    return attr_write(loc, obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v);
}

nt_status nt_h5_attr_write_str(hid_t loc, const char *obj, const char *name, const char *v) {
    if (!v) return nt_error(NT_ERR_ARG, "nt_h5_attr_write_str: NULL value for '%s'", name ? name : "");
    /* Variable-length UTF-8, what h5py writes for a Python str. */
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    nt_status st = attr_write(loc, obj, name, t, t, &v);
    H5Tclose(t);
    return st;
}

/* Opens a scalar (or one-element) attribute; returns its id and file type. */
static nt_status attr_open(hid_t loc, const char *obj, const char *name, hid_t *a, hid_t *t) {
    if (!obj || !name) return nt_error(NT_ERR_ARG, "nt_h5_attr_read: NULL object or name");
    if (!nt_h5_exists(loc, obj)) return nt_error(NT_ERR_FORMAT, "%s: missing", obj);
    if (H5Aexists_by_name(loc, obj, name, H5P_DEFAULT) <= 0)
        return nt_error(NT_ERR_FORMAT, "%s: attribute '%s' missing", obj, name);
    *a = H5Aopen_by_name(loc, obj, name, H5P_DEFAULT, H5P_DEFAULT);
    if (*a < 0) return nt_error(NT_ERR_IO, "%s: cannot open attribute '%s'", obj, name);
    hid_t sp = H5Aget_space(*a);
    hssize_t n = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    if (sp >= 0) H5Sclose(sp);
    if (n != 1) {
        H5Aclose(*a);
        return nt_error(NT_ERR_FORMAT, "%s: attribute '%s' has %lld values, expected one", obj, name,
                        (long long)n);
    }
    *t = H5Aget_type(*a);
    return NT_OK;
}

static nt_status attr_read_num(hid_t loc, const char *obj, const char *name, hid_t mtype, int allow_float,
                               void *v, const char *want) {
    nt_h5_quiet q = nt_h5_quiet_begin();
    hid_t a = -1, t = -1;
    nt_status st = attr_open(loc, obj, name, &a, &t);
    if (st == NT_OK) {
        H5T_class_t c = H5Tget_class(t);
        char tn[48];
        if (c != H5T_INTEGER && !(allow_float && c == H5T_FLOAT))
            st = nt_error(NT_ERR_FORMAT, "%s: attribute '%s' is %s, expected %s", obj, name,
                          type_name(t, tn, sizeof tn), want);
        else if (H5Aread(a, mtype, v) < 0)
            st = nt_error(NT_ERR_IO, "%s: cannot read attribute '%s'", obj, name);
        H5Tclose(t);
        H5Aclose(a);
    }
    nt_h5_quiet_end(q);
    return st;
}

nt_status nt_h5_attr_read_int(hid_t loc, const char *obj, const char *name, int64_t *v) {
    if (!v) return nt_error(NT_ERR_ARG, "nt_h5_attr_read_int: NULL output");
    int64_t x;
    NT_TRY(attr_read_num(loc, obj, name, H5T_NATIVE_INT64, 0, &x, "an integer"));
    *v = x;
    return NT_OK;
}

nt_status nt_h5_attr_read_double(hid_t loc, const char *obj, const char *name, double *v) {
    if (!v) return nt_error(NT_ERR_ARG, "nt_h5_attr_read_double: NULL output");
    double x;
    NT_TRY(attr_read_num(loc, obj, name, H5T_NATIVE_DOUBLE, 1, &x, "a number"));
    *v = x;
    return NT_OK;
}

nt_status nt_h5_attr_read_str(hid_t loc, const char *obj, const char *name, char *buf, size_t cap) {
    if (!buf || cap == 0) return nt_error(NT_ERR_ARG, "nt_h5_attr_read_str: NULL buffer");
    nt_h5_quiet q = nt_h5_quiet_begin();
    hid_t a = -1, t = -1;
    nt_status st = attr_open(loc, obj, name, &a, &t);
    if (st != NT_OK) {
        nt_h5_quiet_end(q);
        return st;
    }
    char tn[48];
    if (H5Tget_class(t) != H5T_STRING) {
        st = nt_error(NT_ERR_FORMAT, "%s: attribute '%s' is %s, expected a string", obj, name,
                      type_name(t, tn, sizeof tn));
    } else if (H5Tis_variable_str(t) > 0) {
        hid_t m = H5Tcopy(H5T_C_S1);
        H5Tset_size(m, H5T_VARIABLE);
        H5Tset_cset(m, H5Tget_cset(t));
        char *s = NULL;
        if (H5Aread(a, m, &s) < 0 || !s) {
            st = nt_error(NT_ERR_IO, "%s: cannot read attribute '%s'", obj, name);
        } else {
            size_t n = strlen(s);
            if (n >= cap)
                st = nt_error(NT_ERR_FORMAT, "%s: attribute '%s' longer than %zu bytes", obj, name, cap - 1);
            else
                memcpy(buf, s, n + 1);
            H5free_memory(s);
        }
        H5Tclose(m);
    } else {
        size_t n = H5Tget_size(t);
        char *s = nt_malloc(n + 1);
        hid_t m = H5Tcopy(H5T_C_S1);
        H5Tset_size(m, n + 1);   /* room for the NUL the conversion adds */
        H5Tset_cset(m, H5Tget_cset(t));
        if (!s) {
            st = nt_error(NT_ERR_NOMEM, "nt_h5_attr_read_str: out of memory");
        } else if (H5Aread(a, m, s) < 0) {
            st = nt_error(NT_ERR_IO, "%s: cannot read attribute '%s'", obj, name);
        } else {
            s[n] = 0;
            size_t len = strlen(s);
            while (len > 0 && s[len - 1] == ' ' && H5Tget_strpad(t) == H5T_STR_SPACEPAD) s[--len] = 0;
            if (len >= cap)
                st = nt_error(NT_ERR_FORMAT, "%s: attribute '%s' longer than %zu bytes", obj, name, cap - 1);
            else
                memcpy(buf, s, len + 1);
        }
        H5Tclose(m);
        nt_free(s);
    }
    H5Tclose(t);
    H5Aclose(a);
    nt_h5_quiet_end(q);
    return st;
}
