/* h5io.h - small HDF5 helpers with named errors: float32 datasets and scalar
 * attributes (int, double, UTF-8 string). The pieces checkpoints are made of.
 *
 *     nt_h5_quiet q = nt_h5_quiet_begin();           // no HDF5 stack dumps on stderr
 *     NT_TRY(nt_h5_write_f32(file, "/optim/embed.weight/m", 2, (int[]){V, D}, m));
 *     NT_TRY(nt_h5_read_f32(file, "/optim/embed.weight/m", 2, (int[]){V, D}, m));
 *     NT_TRY(nt_h5_attr_write_int(file, "/train", "step", 1200));
 *     nt_h5_quiet_end(q);
 *
 * Paths are absolute or relative to `loc` (a file or group id); writers
 * create missing intermediate groups. Every failure returns a status whose
 * message names the object ("/model/embed.weight: shape 23x8, expected 23x16"):
 * NT_ERR_FORMAT for a missing, misshaped or mistyped object, NT_ERR_IO when
 * HDF5 itself fails. A failed read leaves the destination untouched unless
 * said otherwise.
 */
#ifndef NT_H5IO_H
#define NT_H5IO_H

#include <hdf5.h>
#include <stdint.h>

#include "core/status.h"

/* Silences HDF5's automatic error printing until nt_h5_quiet_end (restores
 * the previous handler). Our own messages say what went wrong. */
typedef struct nt_h5_quiet {
    H5E_auto2_t fn;
    void *data;
} nt_h5_quiet;
nt_h5_quiet nt_h5_quiet_begin(void);
void nt_h5_quiet_end(nt_h5_quiet q);

/* Creates (truncates) the HDF5 file at `path` for datasets as
 * nt_h5_write_f32 writes them: H5Fcreate(path, H5F_ACC_TRUNC, ., fapl) with
 * chunk-index B-tree nodes sized for one-chunk datasets (H5Pset_istore_k 1;
 * HDF5's default node takes 2 KiB a dataset and would triple a small
 * checkpoint). Returns the file id, or a negative value with the reason on
 * HDF5's error stack. */
hid_t nt_h5_file_create(const char *path, hid_t fapl);

/* 1 if the object at `path` exists (every component checked), else 0. */
int nt_h5_exists(hid_t loc, const char *path);

/* Writes a float32 dataset of the given shape (ndim 0..4, dims >= 1,
 * NT_ERR_ARG otherwise), chunked (one chunk up to 64 MiB) with HDF5's
 * Fletcher32 checksum filter, so that a flipped bit is caught on read; a
 * scalar (ndim 0) cannot be chunked and is stored contiguous, unchecked.
 * Name, shape and dtype are as without the filter: h5py and h5dump read it
 * as is. NT_ERR_IO if it exists already or HDF5 fails. */
nt_status nt_h5_write_f32(hid_t loc, const char *path, int ndim, const int *shape, const float *data);

/* Reads a dataset that must be float32 of exactly this shape into data.
 * NT_ERR_FORMAT naming the path if missing, not a dataset, of another dtype
 * ("float64, expected float32") or another shape, or if its Fletcher32
 * checksum does not match ("/model/embed.weight: checksum mismatch
 * (Fletcher32): the stored data is corrupt"). A dataset written without the
 * filter (older nextok checkpoints, h5py's default) reads unchecked. On
 * failure `data` may be partly written only if the read itself failed
 * (NT_ERR_IO, or a checksum mismatch). */
nt_status nt_h5_read_f32(hid_t loc, const char *path, int ndim, const int *shape, float *data);

/* Checks a dataset's dtype and shape as nt_h5_read_f32 would, without reading. */
nt_status nt_h5_check_f32(hid_t loc, const char *path, int ndim, const int *shape);

/* Scalar attributes of the object at obj_path ("." for loc itself). Writers
 * replace an existing attribute. Readers: NT_ERR_FORMAT if missing or of the
 * wrong class (an integer attribute of any width reads as int64; a string may
 * be fixed or variable length). */
nt_status nt_h5_attr_write_int(hid_t loc, const char *obj_path, const char *name, int64_t v);
nt_status nt_h5_attr_write_double(hid_t loc, const char *obj_path, const char *name, double v);
nt_status nt_h5_attr_write_str(hid_t loc, const char *obj_path, const char *name, const char *v);
nt_status nt_h5_attr_read_int(hid_t loc, const char *obj_path, const char *name, int64_t *v);
nt_status nt_h5_attr_read_double(hid_t loc, const char *obj_path, const char *name, double *v);
/* Copies at most cap-1 bytes and a NUL; NT_ERR_FORMAT if the value is longer. */
nt_status nt_h5_attr_read_str(hid_t loc, const char *obj_path, const char *name, char *buf, size_t cap);
/* 1 if the attribute exists. */
int nt_h5_attr_exists(hid_t loc, const char *obj_path, const char *name);

#endif
