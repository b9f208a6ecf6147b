/* number_corpus.h - the toy number corpora: numbers in five forms, 20
 * tasks, seeded disjoint train/valid/test splits written as TSV files (read
 * back into an in-memory corpus with data/corpus.h).
 *
 * Numbers 0..999,999 are written in five forms, in exactly the conventions of
 * shared/data/numbers-sample.tsv:
 *   digits  "1234"
 *   arabic  "١٢٣٤"  (Eastern Arabic-Indic digits U+0660..U+0669)
 *   en      "one thousand, two hundred and thirty-four" (British "and",
 *           a comma between the thousands and a remainder >= 100)
 *   fr      "mille deux cent trente-quatre" (traditional spelling: "vingt et
 *           un", "quatre-vingts" but "quatre-vingt mille", "deux cents" but
 *           "deux cent un", "mille" alone for 1000)
 *   de      "eintausendzweihundertvierunddreißig" (one compound word)
 * A task is an ordered pair of distinct forms, named "src-tgt" ("en-fr").
 *
 *     char buf[NT_NUMBER_CORPUS_MAX_TEXT];
 *     nt_number_corpus_render(NT_NUMBER_FORM_FR, 80, buf, sizeof buf);     // "quatre-vingts"
 *
 *     nt_number_form src, tgt;
 *     nt_number_corpus_task_parse("en-fr", &src, &tgt);
 *     nt_number_corpus_split_config sc;
 *     nt_number_corpus_split_config_default(&sc);                    // 20000/500/1000
 *     nt_number_corpus_write_splits("runs/en-fr", src, tgt, &sc);    // train/valid/test.tsv
 */
#ifndef NT_DATA_NUMBER_CORPUS_H
#define NT_DATA_NUMBER_CORPUS_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

/* ---- number forms ---------------------------------------------------------- */

typedef enum nt_number_form {
    NT_NUMBER_FORM_DIGITS = 0, /* "1234" */
    NT_NUMBER_FORM_ARABIC,     /* "١٢٣٤" */
    NT_NUMBER_FORM_EN,         /* British English words */
    NT_NUMBER_FORM_FR,         /* traditional French spelling */
    NT_NUMBER_FORM_DE,         /* German compound */
    NT_NUMBER_FORM_COUNT
} nt_number_form;

#define NT_NUMBER_CORPUS_MAX_NUMBER 999999
/* A buffer of this many bytes holds any rendered number (longest: de/en of
 * 777,777-like numbers, under 100 bytes) plus its terminating NUL. */
#define NT_NUMBER_CORPUS_MAX_TEXT 256

/* "digits", "arabic", "en", "fr", "de"; NULL for an out-of-range value. */
const char *nt_number_corpus_form_name(nt_number_form f);

/* Parses a form name. NT_ERR_ARG naming the bad name and the valid ones;
 * *out unchanged on error. */
nt_status nt_number_corpus_form_parse(const char *name, nt_number_form *out);

/* Parses a task "src-tgt" ("en-fr", "digits-de"). NT_ERR_ARG if the name is
 * not two known forms joined by '-', or if both are the same form; outputs
 * unchanged on error. */
nt_status nt_number_corpus_task_parse(const char *task, nt_number_form *src, nt_number_form *tgt);

/* Writes number n (0..999999) in form f into buf (NUL-terminated UTF-8).
 * NT_ERR_ARG for a bad form, n out of range, NULL buf, or cap too small
 * (the message gives the bytes needed); buf[0] = 0 then if cap > 0. */
nt_status nt_number_corpus_render(nt_number_form f, int n, char *buf, size_t cap);

/* ---- splits ------------------------------------------------------------------ */

typedef enum nt_number_corpus_sampling {
    NT_NUMBER_CORPUS_SAMPLING_UNIFORM = 0, /* every number in 0..max equally likely */
    NT_NUMBER_CORPUS_SAMPLING_LENGTH,      /* equal share per digit length (1..6 digits), so
                                small numbers are not rare; a length with fewer
                                numbers than its share gives all it has and the
                                rest is spread over the other lengths */
} nt_number_corpus_sampling;

const char *nt_number_corpus_sampling_name(nt_number_corpus_sampling s); /* "uniform" | "length" */
nt_status nt_number_corpus_sampling_parse(const char *name, nt_number_corpus_sampling *out);

typedef struct nt_number_corpus_split_config {
    int n_train, n_valid, n_test; /* pairs per split (>= 0) */
    int max_number;               /* numbers are drawn from 0..max_number */
    uint64_t seed;
    nt_number_corpus_sampling sampling;
} nt_number_corpus_split_config;

/* train 20000, valid 500, test 1000, max 999999, seed 1, length sampling. */
void nt_number_corpus_split_config_default(nt_number_corpus_split_config *cfg);

/* Draws n_train + n_valid + n_test distinct numbers (so the splits never
 * share a number) and writes them, in random order, to the caller's arrays
 * (sized n_train, n_valid, n_test; NULL allowed for a size-0 split). The
 * result is a pure function of the config. NT_ERR_ARG for negative sizes,
 * max_number outside 0..999999, or more numbers asked than 0..max holds;
 * NT_ERR_NOMEM. Arrays unspecified on error. */
nt_status nt_number_corpus_split_numbers(const nt_number_corpus_split_config *cfg, int *train, int *valid,
                                  int *test);

/* Writes dir/train.tsv, dir/valid.tsv, dir/test.tsv ("source\ttarget\n" per
 * number) for task (src, tgt), creating dir (and missing parents) if needed.
 * Errors as nt_number_corpus_split_numbers, plus NT_ERR_IO naming the path. */
nt_status nt_number_corpus_write_splits(const char *dir, nt_number_form src, nt_number_form tgt,
                                 const nt_number_corpus_split_config *cfg);

#endif
