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

/* 1 if the object at `path` exists (every component checked), else 0. */
int nt_h5_exists(hid_t loc, const char *path);

/* Writes a float32 dataset of the given shape (ndim 0..4). NT_ERR_IO if it
 * exists already or HDF5 fails. */
nt_status nt_h5_write_f32(hid_t loc, const char *path, int ndim, const int *shape, const float *data);

/* Reads a dataset that must be float32 of exactly this shape into data.
 * NT_ERR_FORMAT naming the path if missing, not a dataset, of another dtype
 * ("float64, expected float32") or another shape. On failure `data` may be
 * partly written only if HDF5 fails mid-read (NT_ERR_IO). */
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
