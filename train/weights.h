/* weights.h - model weights in HDF5: the /config attributes and /model/<name>
 * float32 datasets of DESIGN.md's checkpoint layout (nothing in nn/ knows
 * about files; checkpoints build on these functions).
 *
 *     NT_TRY(nt_weights_save_file("model.h5", m));          // /config + /model
 *     nt_model *m2;
 *     NT_TRY(nt_weights_load_file("model.h5", &m2));        // builds from /config
 *
 *     hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT); // inside a checkpoint
 *     NT_TRY(nt_weights_load_into(f, m));                   // strict, all-or-nothing
 *
 * A file written by h5py from the PyTorch reference's state_dict (plus the
 * /config attributes) loads as is: names are the state_dict names, values
 * float32 with the state_dict's shapes.
 */
#ifndef NT_WEIGHTS_H
#define NT_WEIGHTS_H

#include <hdf5.h>

#include "nn/model.h"

/* Writes /config (attrs arch "encdec"|"decoder", vocab_size, d_model, heads,
 * enc_layers, dec_layers, max_len, dropout; the caller adds "tokenizer") and
 * /model/<name> for every parameter. NT_ERR_IO (naming the object) if one
 * exists already or HDF5 fails; the file may then hold part of it. */
nt_status nt_weights_save(hid_t file, const nt_model *m);

/* Writes only the /config attributes (used by nt_weights_save). */
nt_status nt_config_write(hid_t file, const nt_model_config *cfg);

/* Reads /config into *cfg (dropout 0 when the attribute is absent) and checks
 * it (nt_model_config_check). NT_ERR_FORMAT naming the attribute if one is
 * missing or of the wrong type, or arch is unknown; *cfg untouched on error. */
nt_status nt_config_read(hid_t file, nt_model_config *cfg);

/* Loads every parameter of m from /model, strictly: the first missing,
 * misshaped ("shape 23x8, expected 23x16") or mistyped ("dtype float64,
 * expected float32") tensor, in parameter order, then the first unexpected
 * name under /model, is NT_ERR_FORMAT naming it. All tensors are staged
 * before any is copied, so on any error m is untouched. */
nt_status nt_weights_load_into(hid_t file, nt_model *m);

/* nt_config_read + nt_model_new + nt_weights_load_into. On error *out is
 * untouched and nothing leaks. */
nt_status nt_weights_load(hid_t file, nt_model **out);

/* Files: save creates (truncates) `path` with root attrs format
 * "nextok-checkpoint", version 1, then nt_weights_save; not atomic (see
 * train/checkpoint.h for that). Load opens read-only, rejects a root
 * "format"/"version" attribute that is present but not ours, then
 * nt_weights_load. NT_ERR_IO naming the path if it cannot be opened/created. */
nt_status nt_weights_save_file(const char *path, const nt_model *m);
nt_status nt_weights_load_file(const char *path, nt_model **out);

#endif
