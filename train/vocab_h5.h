/* vocab_h5.h - the vocabulary (data/vocab.h) in HDF5: /vocab in a checkpoint
 * (DESIGN.md), beside the model's weights (train/weights.h).
 *
 *     hid_t f = H5Fcreate("run/vocab.h5", H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
 *     NT_TRY(nt_vocab_save_h5(v, f));                 // /vocab/tokens (+ /vocab/spm_model)
 *     nt_vocab *w;
 *     NT_TRY(nt_vocab_load_h5(&w, f));
 *
 * Layout:
 *     /vocab/tokens     1-D variable-length UTF-8 strings, index = id; string
 *                       attribute "tokenizer": "char" | "word" | "spm"
 *     /vocab            int attribute "split_digits" = 1 when the word
 *                       tokenizer makes every digit a token (data/tokenizer.h;
 *                       an extension of DESIGN.md's word rule: absent means
 *                       digit runs are part of their word, as before)
 *     /vocab/spm_model  spm only: the serialized SentencePiece model, 1-D
 *                       uint8 (the bytes of a .model file)
 */
#ifndef NT_TRAIN_VOCAB_H5_H
#define NT_TRAIN_VOCAB_H5_H

#include <hdf5.h>

#include "data/vocab.h"

/* Writes dataset "vocab/tokens" under loc (a file or group id), creating
 * group "vocab" if missing: 1-D variable-length UTF-8 strings, index = id,
 * with a string attribute "tokenizer" ("char" | "word" | "spm"). For spm
 * also "vocab/spm_model": the serialized SentencePiece model, 1-D uint8
 * (the bytes of a .model file), and for separate models "vocab/spm_model_src"
 * (the source model; vocab/spm_model is then the target's). A vocabulary
 * that splits digits (nt_vocab_split_digits) gets the int attribute
 * "split_digits" = 1 on group "vocab". NT_ERR_IO if a dataset exists already or
 * HDF5 fails. */
nt_status nt_vocab_save_h5(const nt_vocab *v, hid_t loc);

/* Reads "vocab/tokens" under loc. Checks that tokens 0..4 are <pad> <bos>
 * <eos> <unk> <sep> (NT_ERR_FORMAT naming the first wrong one) and that the
 * rest are distinct. The kind comes from the "tokenizer" attribute if
 * present, else NT_TOKENIZER_CHAR (the caller may set it from /config with
 * nt_vocab_set_kind). The digit rule comes from the "split_digits" attribute
 * of group "vocab" (0 or 1, else NT_ERR_FORMAT); without it digit runs stay
 * whole, DESIGN.md's rule. For spm, loads vocab/spm_model (and vocab/spm_model_src
 * if present: separate models) and checks that
 * vocab/tokens are its pieces in the mapped order (NT_ERR_FORMAT naming
 * the first difference). *out = NULL on error. */
nt_status nt_vocab_load_h5(nt_vocab **out, hid_t loc);

#endif
