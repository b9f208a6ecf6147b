/* weights.h - a model's weights in HDF5: the /config attributes and the
 * /model/<name> float32 datasets of DESIGN.md's checkpoint layout, for any
 * model of the model interface (nn/net.h; nothing in nn/ knows about files,
 * checkpoints build on these functions).
 *
 *     NT_TRY(nt_weights_save_file("model.h5", net));        // /config + /model
 *     nt_net *m2;
 *     NT_TRY(nt_weights_load_file("model.h5", &m2));        // builds from /config
 *
 *     hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT); // inside a checkpoint
 *     NT_TRY(nt_weights_load_into(f, net));                 // strict, all-or-nothing
 *
 * A file written by h5py from the PyTorch reference's state_dict (plus the
 * /config attributes) loads as is: names are the state_dict names, values
 * float32 with the state_dict's shapes.
 */
#ifndef NT_WEIGHTS_H
#define NT_WEIGHTS_H

#include <hdf5.h>

#include "nn/net.h"

/* The model's configuration attributes, "arch" included (ops->arch unless
 * its config() set one). */
nt_status nt_weights_config(const nt_net *net, nt_attrs *out);

/* Writes /config (nt_weights_config) and /model/<name> for every parameter.
 * NT_ERR_IO (naming the object) if one exists already or HDF5 fails; the file
 * may then hold part of it. */
nt_status nt_weights_save(hid_t file, const nt_net *net);

/* Writes each attribute of a under /config (replacing ones of the same name). */
nt_status nt_weights_config_write(hid_t file, const nt_attrs *a);

/* Reads every /config attribute into *a: integers (any width) as
 * NT_ATTR_INT, floats as NT_ATTR_DOUBLE, strings as NT_ATTR_STR.
 * NT_ERR_FORMAT naming the attribute for another type, a non-scalar, a name
 * or string too long, or more than NT_ATTRS_MAX of them; *a untouched on
 * error. */
nt_status nt_weights_config_read(hid_t file, nt_attrs *a);

/* Checks that the file's /config describes `net`: the same arch, and every
 * integer and string attribute of the model's configuration equal (its
 * structure; floating ones such as dropout may differ). NT_ERR_FORMAT naming
 * both ("holds a 'decoder' model, this one is a 'bigram'"; "/config d_model
 * 64, the model's 128"). */
nt_status nt_weights_check_config(hid_t file, const nt_net *net);

/* Loads every parameter of net from /model, strictly: the first missing,
 * misshaped ("shape 23x8, expected 23x16") or mistyped ("dtype float64,
 * expected float32") tensor, in parameter order, then the first unexpected
 * name under /model, is NT_ERR_FORMAT naming it. All tensors are staged
 * before any is copied, so on any error net is untouched. */
nt_status nt_weights_load_into(hid_t file, nt_net *net);

/* nt_weights_config_read + nt_net_create + nt_weights_load_into. On error *out is
 * untouched and nothing leaks. */
nt_status nt_weights_load(hid_t file, nt_net **out);

/* Files: save creates (truncates) `path` with root attrs format
 * "nextok-checkpoint", version 1, then nt_weights_save; not atomic (see
 * train/checkpoint.h for that). Load opens read-only, rejects a root
 * "format"/"version" attribute that is present but not ours, then
 * nt_weights_load. NT_ERR_IO naming the path if it cannot be opened/created. */
nt_status nt_weights_save_file(const char *path, const nt_net *net);
nt_status nt_weights_load_file(const char *path, nt_net **out);

#endif
