/* opts.c - the table-driven option parser of nextok-lm. */
#include "opts.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int lm_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "nextok-lm %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see 'nextok-lm %s --help')\n", cmd);
    return 2;
}

static lm_opt *find(lm_opt_table *tables, int n_tables, const char *flag) {
    for (int t = 0; t < n_tables; t++)
        for (int i = 0; i < tables[t].n; i++)
            if (tables[t].opts[i].flag && strcmp(tables[t].opts[i].flag, flag) == 0) return &tables[t].opts[i];
    return NULL;
}

static int parse_number(const char *cmd, const lm_opt *o, const char *v, double *out) {
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(d))
        return lm_usage_error(cmd, "%s: \"%s\" is not a number", o->flag, v), 0;
    if (d < o->min || d > o->max)
        return lm_usage_error(cmd, "%s: %s outside [%g, %g]", o->flag, v, o->min, o->max), 0;
    if ((o->kind == OPT_INT || o->kind == OPT_I64) && d != floor(d))
        return lm_usage_error(cmd, "%s: \"%s\" is not an integer", o->flag, v), 0;
    *out = d;
    return 1;
}

static int apply(const char *cmd, lm_opt *o, const char *v) {
    double d;
    switch (o->kind) {
    case OPT_FLAG: *(int *)o->dest = 1; return 1;
    case OPT_INT:
        if (!parse_number(cmd, o, v, &d)) return 0;
        *(int *)o->dest = (int)d;
        return 1;
    case OPT_I64:
        if (!parse_number(cmd, o, v, &d)) return 0;
        *(int64_t *)o->dest = (int64_t)d;
        return 1;
    case OPT_DOUBLE:
        if (!parse_number(cmd, o, v, &d)) return 0;
        *(double *)o->dest = d;
        return 1;
    case OPT_FLOAT:
        if (!parse_number(cmd, o, v, &d)) return 0;
        *(float *)o->dest = (float)d;
        return 1;
    case OPT_U64: {
        char *end;
        errno = 0;
        unsigned long long u = strtoull(v, &end, 10);
        if (errno || end == v || *end || v[0] == '-' || v[0] == '+')
            return lm_usage_error(cmd, "%s: \"%s\" is not a non-negative integer", o->flag, v), 0;
        *(uint64_t *)o->dest = u;
        return 1;
    }
    case OPT_STR: *(const char **)o->dest = v; return 1;
    case OPT_PARSE:
        if (o->parse(v, o->dest)) return 1;
        fprintf(stderr, "(see 'nextok-lm %s --help')\n", cmd);
        return 0;
    }
    return 0;
}

int lm_opts_parse(const char *cmd, lm_opt_table *tables, int n_tables, int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        lm_opt *o = find(tables, n_tables, a);
        if (!o) return lm_usage_error(cmd, "unknown option \"%s\"", a);
        const char *v = NULL;
        if (o->kind != OPT_FLAG) {
            if (i + 1 >= argc) return lm_usage_error(cmd, "%s needs a value (%s)", a, o->arg ? o->arg : "");
            v = argv[++i];
        }
        if (!apply(cmd, o, v)) return 2;
        o->given++;
    }
    return 0;
}

void lm_opts_usage(FILE *out, const lm_opt_table *tables, int n_tables) {
    for (int t = 0; t < n_tables; t++) {
        if (tables[t].heading) fprintf(out, "%s\n", tables[t].heading);
        for (int i = 0; i < tables[t].n; i++) {
            const lm_opt *o = &tables[t].opts[i];
            if (!o->flag || !o->help || !o->help[0]) continue; /* unused slot or hidden */
            char left[64];
            snprintf(left, sizeof left, "%s%s%s", o->flag, o->arg ? " " : "", o->arg ? o->arg : "");
            if (strlen(left) > 22) fprintf(out, "  %s\n  %-22s ", left, "");
            else fprintf(out, "  %-22s ", left);
            /* a help text may hold several lines: indent the rest under the first */
            for (const char *h = o->help; *h; h++) {
                fputc(*h, out);
                if (*h == '\n') fprintf(out, "%25s", "");
            }
            fputc('\n', out);
        }
    }
}
