/* opts.h - command-line options from a table: one table per command drives
 * the parsing, the range and value errors, and the --help text.
 *
 *     long beams = 1; double lp = 1; const char *ckpt = NULL; int json = 0;
 *     nt_opt opts[] = {
 *         {"--checkpoint", NT_OPT_STRING, &ckpt, .arg = "C", .help = "model checkpoint", .required = 1},
 *         {"--num-beams", NT_OPT_INT, &beams, 1, 1024, .arg = "K", .help = "beam width"},
 *         {"--length-penalty", NT_OPT_DOUBLE, &lp, -100, 100, .help = "score / length^A"},
 *         {"--json", NT_OPT_FLAG, &json, .help = "one JSON line"},
 *         {0}};
 *     nt_opts cmd = {"nextok-translate eval", "usage: nextok-translate eval --checkpoint C ...",
 *                    "Scores a checkpoint's translations.", opts};
 *     int rc = nt_opts_parse(&cmd, argc, argv);   // argv[0] is the command's name
 *     if (rc >= 0) return rc;                      // 0 after --help, 2 after a usage error
 *
 * A table ends with an entry whose flag and kind are 0. An NT_OPT_GROUP entry
 * is a heading in the help (.help) and, when .dest is set, includes another
 * table there (shared options: the trainer's, the decoder's). The default
 * shown in the help is the destination's value before parsing, unless .def
 * gives the text ("" shows none).
 *
 * Usage errors print "PROG: MESSAGE" and "Try 'PROG --help'." on stderr and
 * make nt_opts_parse return 2; the message names the user's flag and value,
 * what was expected and what was given.
 */
#ifndef NT_CORE_OPTS_H
#define NT_CORE_OPTS_H

#include <stdint.h>
#include <stdio.h>

typedef enum nt_opt_kind {
    NT_OPT_END = 0,
    NT_OPT_FLAG,    /* no value; dest int, set to 1 */
    NT_OPT_INT,     /* dest long (or, with .small, int), integer in [min, max] */
    NT_OPT_INT64,   /* dest int64_t, integer in [min, max] */
    NT_OPT_U64,     /* dest uint64_t, any non-negative integer */
    NT_OPT_DOUBLE,  /* dest double, finite number in [min, max] */
    NT_OPT_FLOAT,   /* dest float, finite number in [min, max] */
    NT_OPT_STRING,  /* dest const char * (points into argv) */
    NT_OPT_CHARS,   /* dest char[(size_t)max]: the value copied (too long: an error) */
    NT_OPT_LIST,    /* repeatable: dest const char *[(int)max], .count receives how many */
    NT_OPT_ENUM,    /* dest int: the index of the value in .choices ("a|b|c"), or
                       .values[index] when .values is set */
    NT_OPT_GROUP,   /* a heading (.help); .dest: a table included here */
} nt_opt_kind;

typedef struct nt_opt {
    const char *flag;     /* "--num-beams" */
    nt_opt_kind kind;
    void *dest;
    double min, max;      /* numeric range (INT, INT64, DOUBLE, FLOAT); size for CHARS, LIST */
    const char *arg;      /* the value's name in the help ("N", "F"); NULL: from the kind */
    const char *help;     /* one sentence; wrapped to the help's width (NULL: a hidden option) */
    const char *def;      /* the default as shown; NULL: the destination's value; "": none */
    const char *choices;  /* ENUM: "auto|bar|lines|off" */
    const int *values;    /* ENUM: the value stored for each choice (NULL: its index) */
    const char *word;     /* INT, INT64: a word accepted instead of a number ("all") ... */
    long word_value;      /* ... stored as this */
    int *count;           /* LIST: values given so far */
    int small;            /* INT: dest is an int, not a long */
    int required;         /* a usage error when absent */
    int given;            /* set by the parser: the flag appeared */
} nt_opt;

typedef struct nt_opts {
    const char *prog;        /* "nextok-translate eval": prefixes every message */
    const char *usage;       /* the usage line(s), without a trailing newline */
    const char *about;       /* what the command does (may be NULL) */
    nt_opt *opts;            /* the table */
    /* arguments that are not options (inspect C, report RUN); 0: none accepted */
    const char *positional;  /* their name in the help and in "which RUN?" */
    const char **args;       /* (max_args) receives them */
    int max_args, n_args;
    int min_args;            /* fewer: a usage error */
    const char *epilog;      /* printed after the options (may be NULL) */
} nt_opts;

/* Parses argv[1..argc) (argv[0] is the command) into the table's
 * destinations. Returns -1 when the command should go on, 0 after printing
 * the help on stdout (--help or -h anywhere), 2 after a usage error. "--"
 * ends the options (what follows is positional). */
int nt_opts_parse(nt_opts *cmd, int argc, char **argv);

/* Writes the help: usage, about, then each option with its value name, help
 * and default, wrapped to `width` columns (0: 80). Defaults are read from the
 * destinations, so call it before parsing changes them (nt_opts_parse does). */
void nt_opts_help(const nt_opts *cmd, FILE *out, int width);

/* Prints "PROG: <message>" and the line pointing to --help on stderr;
 * returns 2 (the exit status of a usage error). */
int nt_opts_usage_error(const nt_opts *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* User input shown in a message: the `len` bytes at `text` when they are
 * at most NT_OPTS_EXCERPT, else their first bytes (cut at a character
 * boundary) and "... (N bytes)", in buf (cap >= NT_OPTS_EXCERPT_CAP).
 * Returns buf. A usage error never echoes more of a value than this (a list
 * of 10,000 numbers is not printed back). */
#define NT_OPTS_EXCERPT 48
#define NT_OPTS_EXCERPT_CAP (NT_OPTS_EXCERPT + 40)
const char *nt_opts_excerpt(const char *text, size_t len, char *buf, size_t cap);

/* The entry of `flag` in cmd's table (included tables searched too), or NULL. */
nt_opt *nt_opts_find(const nt_opts *cmd, const char *flag);
/* 1 if `flag` appeared on the command line. */
int nt_opts_given(const nt_opts *cmd, const char *flag);

/* Bytes an entry writes at its destination (0 for GROUP and LIST). */
size_t nt_opt_size(const nt_opt *o);

#endif
