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

/* ---- in-memory files and the whole-file checksum ----------------------------------
 * A checkpoint is built in memory (HDF5's core driver, no backing store) and
 * written to disk with plain write(2) calls: libhdf5 never writes to disk, so
 * a full disk is one failed write() that we report and clean up, never a
 * half-flushed HDF5 file that cannot be closed. The file starts with a
 * 512-byte HDF5 user block (HDF5 skips it; h5py and h5dump read the file as
 * is) holding a text header
 *
 *     nextok-checksum 1\nhash xh64\nbytes <n>\nsum <16 hex digits>\n
 *
 * then zeros: the length and a 64-bit hash of everything after the user
 * block. nt_h5_file_verify checks it with plain file I/O before libhdf5
 * parses a byte. See docs/checkpoints.md for the trust model. */

#define NT_H5_USERBLOCK 512

/* Creates an in-memory HDF5 file named `name` (nothing touches the disk)
 * with the user block above and the layout of nt_h5_file_create. Returns the
 * file id, or a negative value with the reason on HDF5's error stack. */
hid_t nt_h5_mem_create(const char *name);

/* Writes the in-memory file `file` to `path` (created or truncated, mode
 * 0644, flock'ed while written) with its checksum header, then fsyncs it.
 * Always closes `file` (no HDF5 handle survives, whatever fails). On error
 * returns NT_ERR_IO (NT_ERR_NOMEM) naming `path` and the reason ("No space
 * left on device"); `path` may then hold a partial file: the caller removes it. */
nt_status nt_h5_mem_write(hid_t file, const char *path);

/* Checks the whole-file checksum of `path` with plain file I/O. *sealed = 1
 * if the file carries the header and it matches; *sealed = 0 for an HDF5
 * file that starts with the HDF5 signature (no user block: a checkpoint
 * written before the checksum, or by another tool), which is not checked.
 * NT_ERR_IO if unreadable; NT_ERR_FORMAT naming the file if the header is
 * damaged, the file is truncated or longer than recorded, the hash differs,
 * or the file is neither. */
nt_status nt_h5_file_verify(const char *path, int *sealed);

/* Rewrites the checksum header of `path` (which must have a 512-byte user
 * block: a file written by nt_h5_mem_write) after an edit in place, e.g. by
 * H5Fopen(H5F_ACC_RDWR) or h5py. NT_ERR_FORMAT if it has no user block. */
nt_status nt_h5_file_seal(const char *path);

/* The hash of the header: a 64-bit multiply-rotate hash over 32-byte
 * stripes in 4 lanes (fast enough to be free next to the disk). */
uint64_t nt_h5_hash64(const void *data, size_t n);

/* Fault injection for tests: the nth write(2) of nt_h5_mem_write from now
 * (n >= 1; 0 disarms) fails with errno `err` (e.g. ENOSPC). The environment
 * variable NT_FAIL_WRITE=<n> arms the same with ENOSPC at the first
 * nt_h5_mem_write of a process (for end-to-end tests of a command). Writes
 * go out in pieces of at most 1 MiB. */
void nt_h5_fail_write_after(int64_t n, int err);

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
