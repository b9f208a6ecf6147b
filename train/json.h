/* json.h - the one JSON reader and writer of nextok: flat objects (string,
 * number and literal values), as metrics.jsonl lines, the trainer's stored
 * options and the benchmark's output use them.
 *
 *     char buf[256];
 *     nt_json w = nt_json_buffer(buf, sizeof buf);     // or nt_json_file(stdout)
 *     nt_json_begin(&w);
 *     nt_json_str(&w, "type", "eval");
 *     nt_json_int(&w, "step", 250);
 *     nt_json_num(&w, "loss", 1.25);                    // NaN/Inf as NaN, Infinity
 *     nt_json_end(&w);                                  // {"type":"eval","step":250,"loss":1.25}
 *     if (w.len >= sizeof buf) ... too small ...
 *
 *     nt_json_field f[16];  int nf;  long col;
 *     const char *err = nt_json_parse_flat(line, f, 16, &nf, &col);  // line modified in place
 *     const nt_json_field *loss = nt_json_find(f, nf, "loss");       // loss->num
 *
 * Numbers are written with 17 significant digits for doubles (they read
 * back bitwise), 9 for floats; the reader keeps each number's text, so 64-bit
 * integers read back exactly (nt_json_get_i64 / _u64).
 */
#ifndef NT_TRAIN_JSON_H
#define NT_TRAIN_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- writing ------------------------------------------------------------------ */

typedef struct nt_json {
    char *buf;      /* buffer target (NULL when writing to a FILE) */
    size_t cap;
    size_t len;     /* bytes the object needs (may exceed cap: then buf holds a prefix) */
    FILE *file;     /* FILE target */
    int n;          /* fields written in the current object */
} nt_json;

nt_json nt_json_buffer(char *buf, size_t cap); /* NUL-terminated while len < cap */
nt_json nt_json_file(FILE *f);

void nt_json_begin(nt_json *w);                                /* "{" */
void nt_json_end(nt_json *w);                                  /* "}" */
void nt_json_str(nt_json *w, const char *key, const char *v);  /* escaped */
void nt_json_int(nt_json *w, const char *key, int64_t v);
void nt_json_u64(nt_json *w, const char *key, uint64_t v);
void nt_json_num(nt_json *w, const char *key, double v);       /* %.17g; NaN, Infinity, -Infinity */
void nt_json_flt(nt_json *w, const char *key, double v);       /* %.9g: a float exactly; metrics lines */
void nt_json_bool(nt_json *w, const char *key, int v);

/* ---- reading ------------------------------------------------------------------ */

typedef struct nt_json_field {
    const char *key;
    const char *str;   /* decoded string value, or NULL */
    const char *raw;   /* a number's text (not NUL-terminated: raw_len bytes), or NULL */
    size_t raw_len;
    double num;        /* a number's value (NaN / Infinity accepted) */
    int is_num;
    int literal;       /* 1 true, 0 false, -1 null, -2 not a literal */
} nt_json_field;

/* Parses one flat JSON object in `text` (modified in place: strings are
 * decoded where they stand). Returns NULL and the fields (at most cap), or
 * an error message ("expected ':' after key", "nested objects and arrays are
 * not supported", "more than 64 keys") with the 1-based column in *col. */
const char *nt_json_parse_flat(char *text, nt_json_field *f, int cap, int *nf, long *col);

/* The field named key (a repeated key: the last one), or NULL. */
const nt_json_field *nt_json_find(const nt_json_field *f, int nf, const char *key);

/* An integer field's exact value: 0 if it is a number without fraction or
 * exponent that fits, else -1. */
int nt_json_get_i64(const nt_json_field *x, int64_t *v);
int nt_json_get_u64(const nt_json_field *x, uint64_t *v);

#endif
