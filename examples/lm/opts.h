/* opts.h - a small table-driven option parser for nextok-lm: one table per
 * command gives every flag, its kind, where its value goes, its range and
 * its help line; the same table parses argv, reports range errors and
 * prints --help.
 *
 *     long steps = 100;  const char *out = NULL;
 *     lm_opt t[] = {
 *         LM_OPT("--steps", OPT_I64, &steps, 1, 1e9, "N", "updates (default 100)"),
 *         LM_OPT("--out", OPT_STR, &out, 0, 0, "DIR", "run folder"),
 *     };
 *     lm_opt_table tab = {t, 2, NULL};
 *     int rc = lm_opts_parse("train", &tab, 1, argc, argv);   // 0 ok, 1 --help, 2 usage error
 *
 * (Local to examples/lm until the CLIs share one parser: issue 18.)
 */
#ifndef NT_LM_OPTS_H
#define NT_LM_OPTS_H

#include <stdint.h>
#include <stdio.h>

typedef enum lm_opt_kind {
    OPT_FLAG,   /* int, set to 1, no value */
    OPT_INT,    /* int in [min, max] */
    OPT_I64,    /* int64_t in [min, max] */
    OPT_U64,    /* uint64_t, any non-negative integer */
    OPT_DOUBLE, /* double in [min, max] */
    OPT_FLOAT,  /* float in [min, max] */
    OPT_STR,    /* const char * pointing into argv */
    OPT_PARSE,  /* parse(value, dest) returns 0 and prints why on a bad value */
} lm_opt_kind;

typedef struct lm_opt {
    const char *flag;        /* "--steps" */
    lm_opt_kind kind;
    void *dest;
    double min, max;         /* numeric kinds */
    const char *arg;         /* value name in the help ("N", "X", "FILE"); NULL for flags */
    const char *help;        /* one line; "" hides the option from --help */
    int (*parse)(const char *value, void *dest); /* OPT_PARSE */
    int given;               /* set by the parser: how many times it was given */
} lm_opt;

/* Table entries: LM_OPT(flag, kind, dest, min, max, arg, help) and, for
 * OPT_PARSE, LM_OPT_PARSE(flag, dest, arg, help, parse). */
#define LM_OPT(flag, kind, dest, min, max, arg, help) {flag, kind, dest, min, max, arg, help, NULL, 0}
#define LM_OPT_PARSE(flag, dest, arg, help, parse) {flag, OPT_PARSE, dest, 0, 0, arg, help, parse, 0}

/* A table with a heading printed above it in --help (NULL: none). */
typedef struct lm_opt_table {
    lm_opt *opts;
    int n;
    const char *heading;
} lm_opt_table;

/* Parses argv[1 ..] against the tables (argv[0] is the command name).
 * Returns 0 on success, 1 if --help / -h was given (nothing else is
 * checked), 2 on a usage error: an unknown flag, a missing or bad value
 * (printed as "nextok-lm CMD: --lr: ..." with a pointer to --help). */
int lm_opts_parse(const char *cmd, lm_opt_table *tables, int n_tables, int argc, char **argv);

/* Prints the options of the tables, one per line, in table order. */
void lm_opts_usage(FILE *out, const lm_opt_table *tables, int n_tables);

/* A usage error: "nextok-lm CMD: <message>" and the --help pointer; returns 2. */
int lm_usage_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
