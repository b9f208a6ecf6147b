/* spm.h - SentencePiece (Debian's libsentencepiece) behind a C interface.
 *
 * A thin shim over the C++ library (data/spm.cc, compiled as C++): train a
 * model from sentences in memory or from text files, load it from its
 * serialized bytes (the .model file a Python user has), serialize it back,
 * encode text to SentencePiece ids or pieces, decode ids to text. Nothing
 * here is C++: every failure is an nt_status with a message, no exception
 * crosses this boundary.
 *
 *     nt_spm_options o;
 *     nt_spm_options_default(&o);                 // unigram, 8000, byte fallback
 *     o.vocab_size = 500;
 *     nt_spm *m;
 *     nt_spm_train(&m, &o, sentences, n);         // deterministic for fixed input
 *     int32_t ids[256]; int k;
 *     nt_spm_encode(m, "Ein Hund läuft.", ids, 256, &k);
 *     char out[256];
 *     nt_spm_decode(m, ids, k, out, sizeof out);  // "Ein Hund läuft."
 *     nt_spm_free(m);
 *
 * Ids here are SentencePiece's own. A model trained by nt_spm_train puts
 * its special pieces at nextok's special ids (DESIGN.md): <pad> 0, <bos> 1,
 * <eos> 2, <unk> 3, <sep> 4 (a control symbol), then the 256 byte pieces
 * <0x00>..<0xFF> (byte fallback: a character outside the learned pieces is
 * spelled as its UTF-8 bytes, never <unk>), then the learned pieces. The
 * same options in Python:
 *
 *     spm.SentencePieceTrainer.train(..., pad_id=0, bos_id=1, eos_id=2,
 *         unk_id=3, bos_piece="<bos>", eos_piece="<eos>",
 *         control_symbols="<sep>", byte_fallback=True,
 *         character_coverage=1.0, num_threads=1)
 *
 * Text is normalized by SentencePiece's default rule (nmt_nfkc: NFKC,
 * runs of spaces collapsed, leading/trailing spaces dropped), so decode
 * (encode(x)) is x for text that is already in that form.
 */
#ifndef NT_DATA_SPM_H
#define NT_DATA_SPM_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nt_spm nt_spm; /* opaque: a loaded SentencePiece model */

typedef enum nt_spm_type {
    NT_SPM_UNIGRAM = 0, /* the unigram language model (SentencePiece's default) */
    NT_SPM_BPE = 1,     /* byte-pair encoding */
} nt_spm_type;

/* "unigram" | "bpe"; NULL for an out-of-range value. */
const char *nt_spm_type_name(nt_spm_type t);
/* NT_ERR_ARG naming the bad name; *out unchanged on error. */
nt_status nt_spm_type_parse(const char *name, nt_spm_type *out);

typedef struct nt_spm_options {
    nt_spm_type type;
    int vocab_size;            /* pieces in the model, specials and 256 bytes included */
    double character_coverage; /* 1.0: every character seen becomes a piece */
    unsigned seed;             /* SentencePiece's random generator (sentence sampling) */
    int threads;               /* trainer threads; 1 (the default) for reproducibility */
    int max_sentence_length;   /* bytes; longer training sentences are skipped */
    /* 1: raw text, kept byte for byte (what a language model reads):
     * identity normalization (no NFKC), runs of spaces and leading or
     * trailing spaces kept, no dummy "▁" prefix, whitespace-only pieces
     * allowed, and "\n" a user-defined piece, so that text with newlines
     * encodes and decodes back exactly (decode(encode(x)) == x for any
     * UTF-8 x, with byte fallback). Training sentences should then be the
     * lines of the text without their newlines. 0 (the default): the
     * translator's normalized sentences, as described above. */
    int raw_text;
} nt_spm_options;

/* unigram, vocab_size 8000, character_coverage 1.0, seed 1, threads 1,
 * max_sentence_length 4192 (SentencePiece's default), raw_text 0. */
void nt_spm_options_default(nt_spm_options *o);

/* Trains a model on n sentences (NUL-terminated UTF-8; they are not
 * modified). Deterministic: the same sentences and options give the same
 * model bytes. NT_ERR_ARG for bad options (naming the option and its
 * range) or a NULL sentence; NT_ERR_FORMAT for invalid UTF-8 naming the
 * sentence; NT_ERR_STATE with SentencePiece's own message when training
 * fails (e.g. the vocabulary is larger than the text allows: the message
 * says so). *out = NULL on error. */
nt_status nt_spm_train(nt_spm **out, const nt_spm_options *o, const char *const *sentences, int n);

/* As nt_spm_train, one sentence per line of each of the n_paths text files
 * (NT_ERR_IO naming a file that cannot be read). */
nt_status nt_spm_train_files(nt_spm **out, const nt_spm_options *o, const char *const *paths,
                             int n_paths);

/* Loads a model from its serialized bytes (the contents of a .model file).
 * NT_ERR_FORMAT if the bytes are not a SentencePiece model. */
nt_status nt_spm_load(nt_spm **out, const void *bytes, size_t n);

/* Reads a .model file (NT_ERR_IO naming it if it cannot be read). */
nt_status nt_spm_load_file(nt_spm **out, const char *path);

void nt_spm_free(nt_spm *m); /* NULL is a no-op */

/* The serialized model: *bytes is owned by m (valid until nt_spm_free),
 * *n its length. */
void nt_spm_bytes(const nt_spm *m, const uint8_t **bytes, size_t *n);

/* Writes the serialized model to path (a .model file for Python's
 * sentencepiece). NT_ERR_IO naming the path. */
nt_status nt_spm_save_file(const nt_spm *m, const char *path);

int nt_spm_size(const nt_spm *m); /* pieces */

typedef enum nt_spm_piece_kind {
    NT_SPM_NORMAL = 1,
    NT_SPM_UNKNOWN = 2,
    NT_SPM_CONTROL = 3,
    NT_SPM_USER_DEFINED = 4,
    NT_SPM_UNUSED = 5,
    NT_SPM_BYTE = 6,
} nt_spm_piece_kind;

/* The piece of id (NUL-terminated, owned by m), NULL out of range. */
const char *nt_spm_piece(const nt_spm *m, int id);
/* The kind of piece id (0 if out of range). */
nt_spm_piece_kind nt_spm_piece_kind_of(const nt_spm *m, int id);
/* The id of a piece string, or -1. */
int nt_spm_piece_id(const nt_spm *m, const char *piece);
/* SentencePiece's special ids (-1 when the model has none). */
int nt_spm_unk_id(const nt_spm *m);
int nt_spm_bos_id(const nt_spm *m);
int nt_spm_eos_id(const nt_spm *m);
int nt_spm_pad_id(const nt_spm *m);

/* What the model says about how it was trained (parsed from the model's
 * own trainer_spec; fields absent from the file read as -1 / ""). */
typedef struct nt_spm_info {
    char type[16];         /* "unigram" "bpe" "word" "char" */
    int vocab_size;        /* trainer_spec.vocab_size */
    int byte_fallback;     /* 0 or 1 */
    double character_coverage;
    char normalization[32]; /* normalizer_spec.name, e.g. "nmt_nfkc" */
} nt_spm_info;
void nt_spm_get_info(const nt_spm *m, nt_spm_info *info);

/* Encodes NUL-terminated UTF-8 text to ids. *n = the count; ids == NULL
 * only counts. NT_ERR_ARG if the count exceeds cap, NT_ERR_FORMAT for
 * invalid UTF-8 (naming the byte). */
nt_status nt_spm_encode(const nt_spm *m, const char *text, int32_t *ids, int cap, int *n);

/* Encodes text to pieces: fn(piece, len, user) per piece in order. */
nt_status nt_spm_encode_pieces(const nt_spm *m, const char *text,
                               void (*fn)(const char *piece, size_t len, void *user), void *user);

/* Decodes ids to text in buf (always NUL-terminated when cap > 0).
 * NT_ERR_ARG for an id out of range or a buffer too small (the message
 * gives the bytes needed). Control pieces decode to nothing. */
nt_status nt_spm_decode(const nt_spm *m, const int32_t *ids, int n, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif

#endif
