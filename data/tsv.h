/* tsv.h - the parallel-corpus reader: UTF-8 TSV, "source<TAB>target" per line.
 *
 *     nt_tsv *t;
 *     if (nt_tsv_read(&t, "train.tsv", NULL) != NT_OK)
 *         fprintf(stderr, "%s\n", nt_errmsg());
 *         // "nt_tsv_read: train.tsv:17: missing tab (expected source<TAB>target)"
 *     for (int i = 0; i < t->n; i++) use(t->src[i], t->tgt[i]);
 *     nt_tsv_free(t);
 *
 * Every line must be valid UTF-8 with exactly one tab, neither side empty,
 * and at most max_line_bytes bytes (without its line ending). CRLF endings
 * and a last line without a newline are accepted. A bad line is an error
 * that names file and line, unless skip_bad is set: then bad lines are
 * dropped and counted per reason (nothing is dropped silently).
 *
 * Two things are repaired rather than refused, and counted so the caller can
 * say so (the CLI prints one note per file): a UTF-8 byte-order mark at the
 * start of the file is dropped (bom = 1; else it would become part of the
 * first source), and spaces around a field ("seven \t sept") are trimmed
 * (n_trimmed lines, first_trimmed names the first): a pair whose target
 * carries a trailing space would otherwise never match a translation. A
 * field that is empty once trimmed is an empty side.
 */
#ifndef NT_DATA_TSV_H
#define NT_DATA_TSV_H

#include <stddef.h>

#include "core/status.h"
#include "data/utf8.h" /* nt_utf8_valid, which the readers of nt_tsv lines use too */

typedef enum nt_tsv_reason {
    NT_TSV_BAD_UTF8 = 0, /* invalid UTF-8 (or a NUL byte) */
    NT_TSV_NO_TAB,       /* no tab on the line */
    NT_TSV_EXTRA_TAB,    /* more than one tab */
    NT_TSV_EMPTY_SIDE,   /* source or target is empty */
    NT_TSV_TOO_LONG,     /* longer than max_line_bytes */
    NT_TSV_EMPTY_LINE,   /* a blank line */
    NT_TSV_N_REASONS
} nt_tsv_reason;

/* "invalid UTF-8", "missing tab", ... */
const char *nt_tsv_reason_name(nt_tsv_reason r);

typedef struct nt_tsv_config {
    size_t max_line_bytes; /* 0: NT_TSV_DEFAULT_MAX_LINE */
    int skip_bad;          /* 1: drop bad lines and count them instead of failing */
} nt_tsv_config;

#define NT_TSV_DEFAULT_MAX_LINE 4096

typedef struct nt_tsv {
    char *path;                            /* the file read (owned) */
    int n;                                 /* number of pairs kept */
    char **src, **tgt;                     /* (n) NUL-terminated, point into `data` */
    int *line;                             /* (n) 1-based line number of each pair */
    int n_lines;                           /* lines seen in the file */
    int n_skipped;                         /* lines dropped (skip_bad only) */
    int skipped[NT_TSV_N_REASONS];         /* ... per reason */
    char first_skipped[256];               /* message of the first dropped line, "" if none */
    int bom;                               /* 1 if a byte-order mark was dropped */
    int n_trimmed;                         /* lines with spaces trimmed around a field */
    int first_trimmed;                     /* the first such line (1-based), 0 if none */
    char *data;                            /* the file's bytes (owned) */
} nt_tsv;

/* Reads a TSV file. cfg NULL means defaults. On error returns NT_ERR_IO
 * (cannot open/read), NT_ERR_FORMAT ("nt_tsv_read: <file>:<line>: <reason>
 * ..."), NT_ERR_ARG (NULL out/path) or NT_ERR_NOMEM, and sets *out = NULL. */
nt_status nt_tsv_read(nt_tsv **out, const char *path, const nt_tsv_config *cfg);

/* The same over bytes in memory; `name` stands for the file in messages.
 * The bytes are copied. */
nt_status nt_tsv_read_buffer(nt_tsv **out, const char *name, const char *bytes, size_t len,
                             const nt_tsv_config *cfg);

/* "skipped 3 lines: 2 missing tab, 1 invalid UTF-8" into buf (always
 * NUL-terminated); "skipped 0 lines" when none. */
void nt_tsv_skip_summary(const nt_tsv *t, char *buf, size_t cap);

void nt_tsv_free(nt_tsv *t); /* NULL is a no-op */

#endif
