/* checkpoint.h - HDF5 checkpoints of any model (nn/net.h): everything a run
 * needs to resume exactly, or just the weights to share.
 *
 * Layout (DESIGN.md; h5py and h5dump read it as is):
 *   /                 attrs format = "nextok-checkpoint", version = 1
 *   /config           attrs: arch (the model's kind, nt_net_ops.arch), the
 *                     attributes the model's config() writes, tokenizer
 *                     (when a vocabulary is saved)   (train/weights.h)
 *   /vocab/tokens     UTF-8 strings, index = token id    (data/vocab.h)
 *   /vocab            attr split_digits = 1 when the word tokenizer makes
 *                     every digit a token (an extension of DESIGN.md's word
 *                     rule; absent: digit runs whole)  (train/vocab_h5.h)
 *   /model/<name>     float32 parameters                 (train/weights.h)
 *   /optim/<name>/m, /optim/<name>/v   float32 moments, the parameter's shape
 *   /optim            attrs kind ("sgd"|"adam"|"adamw"), step, lr (last),
 *                     beta1, beta2, eps, weight_decay, momentum, nesterov,
 *                     decay_all
 *   /train            attrs step, epoch, cursor (data position), rng_seed,
 *                     rng_counter (nt_rng state), best_metric (NaN: none),
 *                     best_loss (validation loss of that evaluation, the
 *                     tie-break; NaN: none; optional when reading, files
 *                     written before it load with NaN),
 *                     best_step, bad_evals, tokens (source + target),
 *                     seconds, options (the trainer's options as JSON)
 * A weights-only file (nt_ckpt_export) has no /optim and no /train.
 * Every float32 dataset is chunked with a Fletcher32 checksum (train/h5io.h):
 * a corrupt tensor fails the load with NT_ERR_FORMAT naming the file and the
 * dataset. Files written before the checksums (contiguous datasets) load as
 * before, unchecked.
 *
 * The whole file is checksummed too: a 512-byte HDF5 user block holds its
 * length and a 64-bit hash (train/h5io.h), verified with plain file I/O
 * before libhdf5 parses anything; a flipped byte anywhere or a truncation
 * fails the open with NT_ERR_FORMAT naming the file. Files without it
 * (older nextok, other tools) load unchecked, with a note on stderr once;
 * the environment variable NT_CKPT_REQUIRE_SUM=1 refuses them instead.
 * Trust model: docs/checkpoints.md.
 *
 * Writes are atomic: the file is built in memory, written with plain
 * write(2) calls to "<path>.tmp-<pid>" in the same folder, fsync'ed and
 * renamed over `path`; a full disk fails the save with NT_ERR_IO naming the
 * file and the reason, no HDF5 handle stays open and the old checkpoint is
 * untouched. A crash at any moment
 * leaves either the old or the new checkpoint, never a broken one. A
 * writer killed mid-write leaves its temporary file behind; the next save
 * to the same path removes every "<path>.tmp-<pid>" whose process no
 * longer exists and that no process holds locked (a live writer's file,
 * even of another pid, stays).
 *
 * Loads are strict: format and version are checked first, then every name,
 * shape and dtype; the first mismatch fails with NT_ERR_FORMAT and a message
 * that names the file and the tensor or attribute
 * ("run/ckpt.h5: /optim/embed.weight/m: shape 40x16, expected 44x16").
 *
 *     nt_train_state ts;  nt_train_state_init(&ts);  ts.step = step; ...
 *     NT_TRY(nt_ckpt_save("run/checkpoint-last.h5", net, vocab, opt, &ts));
 *     ...
 *     nt_net *m;  nt_vocab *v;                       // any registered arch
 *     NT_TRY(nt_ckpt_load_net("run/checkpoint-last.h5", &m, &v));
 *     NT_TRY(nt_optim_new(&opt, m->params, &oc));
 *     NT_TRY(nt_ckpt_load_optim("run/checkpoint-last.h5", opt));
 *     NT_TRY(nt_ckpt_load_train("run/checkpoint-last.h5", &ts));
 */
#ifndef NT_CHECKPOINT_H
#define NT_CHECKPOINT_H

#include <hdf5.h>
#include <stdint.h>

#include "core/rng.h"
#include "core/status.h"
#include "data/vocab.h"
#include "nn/model.h"
#include "nn/net.h"
#include "train/optim.h"

#define NT_CKPT_FORMAT "nextok-checkpoint"
#define NT_CKPT_VERSION 1

#define NT_TRAIN_OPTIONS_MAX 8192

/* The trainer's progress: what /train stores. */
typedef struct nt_train_state {
    int64_t step;          /* optimizer updates taken */
    int64_t epoch;         /* data cursor: epoch ... */
    int64_t cursor;        /* ... and position in it (nt_batcher_get_cursor) */
    nt_rng rng;            /* dropout RNG state (seed, counter) */
    double best_metric;    /* best evaluation value so far; NaN if none */
    double best_loss;      /* validation loss of that evaluation (breaks ties); NaN if none */
    int64_t best_step;     /* step of the best evaluation; -1 if none */
    int64_t bad_evals;     /* evaluations since the best (early-stopping patience) */
    int64_t tokens;        /* source + target tokens trained on: every micro-batch's
                              n_src_tokens + n_tgt_tokens (data/batcher.h: each
                              sentence + its <eos> / <bos>), as DESIGN.md counts
                              train_tok_s; metrics.jsonl's tok_s is its rate */
    double seconds;        /* training time so far */
    char options[NT_TRAIN_OPTIONS_MAX]; /* the trainer's options (JSON), "" if none */
} nt_train_state;

/* Zero progress: best_metric and best_loss NaN, best_step -1, options "". */
void nt_train_state_init(nt_train_state *ts);

/* ---- whole files ------------------------------------------------------------ */

/* Writes a checkpoint atomically: /config (the model's attributes, its
 * arch, and the tokenizer of the vocab), /vocab (if vocab is not NULL),
 * /model, then /optim if optim is not NULL and /train if train is not NULL
 * (both NULL: a weights-only file). The vocabulary must have the model's
 * vocab_size (NT_ERR_ARG otherwise). On any error `path` is untouched (the
 * old checkpoint stays) and the temporary file is removed. */
nt_status nt_ckpt_save(const char *path, const nt_net *net, const nt_vocab *vocab,
                       const nt_optim *optim, const nt_train_state *train);

/* A weights-only file for sharing: /config, /vocab, /model. */
nt_status nt_ckpt_export(const char *path, const nt_net *net, const nt_vocab *vocab);

/* Reads /config into *cfg (every attribute, "arch" included). */
nt_status nt_ckpt_read_config(const char *path, nt_attrs *cfg);

/* Builds the model of /config's arch (nt_net_create: the arch must be
 * registered) and loads /model strictly; loads /vocab if vocab is not NULL
 * (*vocab = NULL when the file has none). Works on full and weights-only
 * files. NT_ERR_IO/NT_ERR_FORMAT naming the file and the first bad tensor
 * or attribute; outputs untouched (nothing leaks) on error. */
nt_status nt_ckpt_load_net(const char *path, nt_net **net, nt_vocab **vocab);

/* nt_ckpt_load_net for the transformer (nn/model.h): NT_ERR_FORMAT if the
 * file holds another kind of model ("arch 'bigram' is not a transformer"). */
nt_status nt_ckpt_load(const char *path, nt_model **model, nt_vocab **vocab);

/* Loads /model into an existing model of the same arch and configuration,
 * strictly: another arch or any configuration attribute that differs is
 * NT_ERR_FORMAT naming both ("run/x.h5 holds a 'decoder' model, this is a
 * 'bigram'"; "/config d_model 64, the model's 128"); on error the model is
 * untouched. */
nt_status nt_ckpt_load_weights_into(const char *path, nt_net *net);

/* /optim into an optimizer over the model's parameters (nt_ckpt_read_optim). */
nt_status nt_ckpt_load_optim(const char *path, nt_optim *optim);

/* /train (nt_ckpt_read_train). */
nt_status nt_ckpt_load_train(const char *path, nt_train_state *train);

/* ---- lower level ------------------------------------------------------------- */

/* Verifies the whole-file checksum (nt_h5_file_verify), opens `path`
 * read-only and checks the root attributes format and version.
 * NT_ERR_IO if the file cannot be opened, NT_ERR_FORMAT if the checksum
 * fails, it is not HDF5,
 * is damaged or truncated, or has another format or version (the message
 * says which, and which version this build reads). Close with H5Fclose. */
nt_status nt_ckpt_open(const char *path, hid_t *file);

/* Creates the checkpoint for `path` in memory (named "<path>.tmp-<pid>",
 * the file nt_ckpt_commit writes) and writes the root attributes; first removes the stale temporary files of dead writers
 * of `path` (see above). *tmp receives its name. Finish with nt_ckpt_commit
 * or nt_ckpt_abort. */
nt_status nt_ckpt_create(const char *path, hid_t *file, char *tmp, size_t tmp_len);
/* Writes `file` to tmp with its checksum (nt_h5_mem_write: plain writes,
 * fsync), closes it, renames tmp over path, fsyncs the folder. `file` is
 * closed whatever happens. On failure (NT_ERR_IO naming the file and the
 * reason, e.g. "No space left on device") the temporary file is removed
 * and `path` is untouched. */
nt_status nt_ckpt_commit(hid_t file, const char *tmp, const char *path);
/* Closes and removes the temporary file (error paths). */
void nt_ckpt_abort(hid_t file, const char *tmp);

/* ---- parts (on an open file) ------------------------------------------------ */

/* /optim: attributes and the moments of every parameter of o->params. */
nt_status nt_ckpt_write_optim(hid_t file, const nt_optim *o);
/* Reads /optim into an optimizer over parameters of the same names and
 * shapes: moments into params->m/v, o->step and o->last_lr, and the
 * hyperparameters (o->cfg, kind included, must be the same kind).
 * `where` names the file in messages. NT_ERR_FORMAT if /optim is absent
 * (a weights-only file), a parameter's moments are missing or misshapen,
 * or the kind differs; on error the optimizer may be partly updated. */
nt_status nt_ckpt_read_optim(hid_t file, const char *where, nt_optim *o);

nt_status nt_ckpt_write_train(hid_t file, const nt_train_state *ts);
/* NT_ERR_FORMAT naming the first missing or mistyped attribute; *ts is
 * untouched on error. */
nt_status nt_ckpt_read_train(hid_t file, const char *where, nt_train_state *ts);

#endif
