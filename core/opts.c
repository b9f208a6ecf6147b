/* opts.c - command-line options from a table (see opts.h). */
#include "opts.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- walking the table (included tables depth-first) ------------------------------ */

typedef int (*opt_visit)(nt_opt *o, void *user);

/* Calls fn on every entry (headings too); stops at the first non-zero return. */
static int walk(nt_opt *t, opt_visit fn, void *user, int depth) {
    if (!t || depth > 8) return 0;
    for (; t->flag || t->kind; t++) {
        int r = fn(t, user);
        if (r) return r;
        if (t->kind == NT_OPT_GROUP && t->dest && (r = walk((nt_opt *)t->dest, fn, user, depth + 1))) return r;
    }
    return 0;
}

typedef struct find_ctx {
    const char *flag;
    size_t len; /* of flag; the rest of the argument may be "=value" */
    nt_opt *found;
} find_ctx;

static int find_visit(nt_opt *o, void *user) {
    find_ctx *f = user;
    if (o->kind == NT_OPT_GROUP || !o->flag) return 0;
    if (strlen(o->flag) == f->len && strncmp(o->flag, f->flag, f->len) == 0) {
        f->found = o;
        return 1;
    }
    return 0;
}

static nt_opt *find_n(const nt_opts *cmd, const char *flag, size_t len) {
    find_ctx f = {flag, len, NULL};
    walk(cmd->opts, find_visit, &f, 0);
    return f.found;
}

nt_opt *nt_opts_find(const nt_opts *cmd, const char *flag) { return find_n(cmd, flag, strlen(flag)); }

int nt_opts_given(const nt_opts *cmd, const char *flag) {
    const nt_opt *o = nt_opts_find(cmd, flag);
    return o && o->given;
}

size_t nt_opt_size(const nt_opt *o) {
    switch (o->kind) {
    case NT_OPT_FLAG: return sizeof(int);
    case NT_OPT_INT: return o->small ? sizeof(int) : sizeof(long);
    case NT_OPT_INT64: return sizeof(int64_t);
    case NT_OPT_U64: return sizeof(uint64_t);
    case NT_OPT_DOUBLE: return sizeof(double);
    case NT_OPT_FLOAT: return sizeof(float);
    case NT_OPT_STRING: return sizeof(const char *);
    case NT_OPT_CHARS: return (size_t)o->max;
    case NT_OPT_ENUM: return sizeof(int);
    default: return 0;
    }
}

/* ---- messages ------------------------------------------------------------------------- */

static void vusage(const nt_opts *cmd, const char *fmt, va_list ap) {
    fprintf(stderr, "%s: ", cmd->prog);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry '%s --help'.\n", cmd->prog);
}

int nt_opts_usage_error(const nt_opts *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vusage(cmd, fmt, ap);
    va_end(ap);
    return 2;
}

const char *nt_opts_excerpt(const char *text, size_t len, char *buf, size_t cap) {
    if (!buf || cap == 0) return "";
    if (!text) len = 0;
    if (len <= NT_OPTS_EXCERPT) {
        snprintf(buf, cap, "%.*s", (int)len, text ? text : "");
        return buf;
    }
    size_t k = NT_OPTS_EXCERPT - 3;
    while (k > 0 && ((unsigned char)text[k] & 0xC0) == 0x80) k--; /* not inside a UTF-8 character */
    snprintf(buf, cap, "%.*s... (%zu bytes)", (int)k, text, len);
    return buf;
}

/* "an integer in 1..1024", "one of auto, bar, lines, off", ... */
static void expected(const nt_opt *o, char *buf, size_t cap) {
    switch (o->kind) {
    case NT_OPT_INT:
    case NT_OPT_INT64:
        snprintf(buf, cap, "an integer in %.0f..%.0f%s%s", o->min, o->max, o->word ? " or " : "", o->word ? o->word : "");
        break;
    case NT_OPT_U64: snprintf(buf, cap, "a non-negative integer"); break;
    case NT_OPT_DOUBLE:
    case NT_OPT_FLOAT: snprintf(buf, cap, "a number in %g..%g", o->min, o->max); break;
    case NT_OPT_ENUM: {
        size_t n = (size_t)snprintf(buf, cap, "one of ");
        for (const char *c = o->choices; *c && n + 3 < cap; c++) {
            if (*c == '|') buf[n++] = ',', buf[n++] = ' ';
            else buf[n++] = *c;
        }
        buf[n < cap ? n : cap - 1] = 0;
        break;
    }
    case NT_OPT_CHARS: snprintf(buf, cap, "a value of at most %.0f bytes", o->max - 1); break;
    default: snprintf(buf, cap, "a value"); break;
    }
}

/* ---- values ---------------------------------------------------------------------------- */

/* A decimal number: digits with an optional sign, fraction and exponent (no
 * hex, inf or nan, which strtod would take). */
static int parse_number(const char *v, double *out) {
    for (const char *c = v; *c; c++)
        if (!strchr("0123456789+-.eE", *c)) return 0;
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(d)) return 0;
    *out = d;
    return 1;
}

/* Stores v in o's destination; 0 and a message on a bad value. */
static int set_value(const nt_opts *cmd, nt_opt *o, const char *v) {
    char want[256];
    double d = 0;
    switch (o->kind) {
    case NT_OPT_INT:
    case NT_OPT_INT64:
        if (o->word && strcmp(v, o->word) == 0) d = (double)o->word_value;
        else if (!parse_number(v, &d) || d != floor(d) || d < o->min || d > o->max) goto bad;
        if (o->kind == NT_OPT_INT64) *(int64_t *)o->dest = (int64_t)d;
        else if (o->small) *(int *)o->dest = (int)d;
        else *(long *)o->dest = (long)d;
        return 1;
    case NT_OPT_U64: {
        char *end;
        errno = 0;
        if (v[0] < '0' || v[0] > '9') goto bad;
        unsigned long long u = strtoull(v, &end, 10);
        if (errno || *end) goto bad;
        *(uint64_t *)o->dest = u;
        return 1;
    }
    case NT_OPT_DOUBLE:
    case NT_OPT_FLOAT:
        if (!parse_number(v, &d) || d < o->min || d > o->max) goto bad;
        if (o->kind == NT_OPT_DOUBLE) *(double *)o->dest = d;
        else *(float *)o->dest = (float)d;
        return 1;
    case NT_OPT_STRING: *(const char **)o->dest = v; return 1;
    case NT_OPT_CHARS:
        if (strlen(v) + 1 > (size_t)o->max) goto bad;
        memcpy(o->dest, v, strlen(v) + 1);
        return 1;
    case NT_OPT_LIST:
        if (*o->count >= (int)o->max) {
            nt_opts_usage_error(cmd, "%s: at most %.0f values", o->flag, o->max);
            return 0;
        }
        ((const char **)o->dest)[(*o->count)++] = v;
        return 1;
    case NT_OPT_ENUM: {
        size_t n = strlen(v);
        int idx = 0;
        for (const char *c = o->choices; c && *c; idx++) {
            const char *bar = strchr(c, '|');
            size_t len = bar ? (size_t)(bar - c) : strlen(c);
            if (len == n && strncmp(c, v, n) == 0) {
                *(int *)o->dest = o->values ? o->values[idx] : idx;
                return 1;
            }
            c += len + (bar ? 1 : 0);
        }
        goto bad;
    }
    default: return 0;
    }
bad:
    expected(o, want, sizeof want);
    char shown[NT_OPTS_EXCERPT_CAP];
    nt_opts_usage_error(cmd, "%s \"%s\": expected %s", o->flag, nt_opts_excerpt(v, strlen(v), shown, sizeof shown), want);
    return 0;
}

/* ---- help ------------------------------------------------------------------------------- */

static const char *value_name(const nt_opt *o) {
    if (o->arg) return o->arg;
    switch (o->kind) {
    case NT_OPT_FLAG: return "";
    case NT_OPT_DOUBLE:
    case NT_OPT_FLOAT: return "X";
    case NT_OPT_ENUM: return o->choices;
    case NT_OPT_STRING:
    case NT_OPT_CHARS:
    case NT_OPT_LIST: return "S";
    default: return "N";
    }
}

/* The default of o as text ("" when there is none to show). */
static void default_text(const nt_opt *o, char *buf, size_t cap) {
    buf[0] = 0;
    if (o->def) {
        snprintf(buf, cap, "%s", o->def);
        return;
    }
    if (!o->dest) return;
    switch (o->kind) {
    case NT_OPT_INT:
    case NT_OPT_INT64: {
        long long v = o->kind == NT_OPT_INT64 ? (long long)*(int64_t *)o->dest
                      : o->small               ? (long long)*(int *)o->dest
                                               : (long long)*(long *)o->dest;
        if (o->word && v == o->word_value) snprintf(buf, cap, "%s", o->word);
        else snprintf(buf, cap, "%lld", v);
        break;
    }
    case NT_OPT_U64: snprintf(buf, cap, "%llu", (unsigned long long)*(uint64_t *)o->dest); break;
    case NT_OPT_DOUBLE: snprintf(buf, cap, "%g", *(double *)o->dest); break;
    case NT_OPT_FLOAT: snprintf(buf, cap, "%g", (double)*(float *)o->dest); break;
    case NT_OPT_STRING:
        if (*(const char **)o->dest) snprintf(buf, cap, "%s", *(const char **)o->dest);
        break;
    case NT_OPT_CHARS: snprintf(buf, cap, "%s", (const char *)o->dest); break;
    case NT_OPT_ENUM: {
        int cur = *(int *)o->dest, idx = 0;
        for (const char *c = o->choices; c && *c; idx++) {
            const char *bar = strchr(c, '|');
            size_t len = bar ? (size_t)(bar - c) : strlen(c);
            if ((o->values ? o->values[idx] : idx) == cur) {
                snprintf(buf, cap, "%.*s", (int)len, c);
                break;
            }
            c += len + (bar ? 1 : 0);
        }
        break;
    }
    default: break;
    }
}

/* Writes `text` word-wrapped into columns [indent, width), the first line
 * starting at column `col`. */
static void wrap(FILE *out, const char *text, int col, int indent, int width) {
    const char *p = text;
    while (*p) {
        while (*p == ' ') p++;
        const char *w = p;
        while (*p && *p != ' ' && *p != '\n') p++;
        int len = (int)(p - w);
        if (len == 0) {
            if (*p == '\n') {
                fprintf(out, "\n%*s", indent, "");
                col = indent, p++;
            }
            continue;
        }
        if (col > indent && col + 1 + len > width) fprintf(out, "\n%*s", indent, ""), col = indent;
        else if (col > indent) fputc(' ', out), col++;
        fprintf(out, "%.*s", len, w);
        col += len;
    }
    fputc('\n', out);
}

typedef struct help_ctx {
    FILE *out;
    int width;
} help_ctx;

enum { HELP_COL = 26 };

static int help_visit(nt_opt *o, void *user) {
    help_ctx *h = user;
    if (o->kind == NT_OPT_GROUP) {
        if (o->help) fprintf(h->out, "\n%s\n", o->help);
        return 0;
    }
    if (!o->help) return 0; /* hidden */
    char head[256], def[256], text[1024];
    const char *vn = value_name(o);
    int n = snprintf(head, sizeof head, "  %s%s%s%s", o->flag, vn[0] ? " " : "", vn,
                     o->kind == NT_OPT_LIST ? " (repeatable)" : "");
    default_text(o, def, sizeof def);
    snprintf(text, sizeof text, "%s%s%s%s%s", o->help ? o->help : "", o->required ? " (required)" : "",
             def[0] ? " (default " : "", def, def[0] ? ")" : "");
    fputs(head, h->out);
    if (n + 1 >= HELP_COL) fprintf(h->out, "\n%*s", HELP_COL, "");
    else fprintf(h->out, "%*s", HELP_COL - n, "");
    wrap(h->out, text, HELP_COL, HELP_COL, h->width);
    return 0;
}

void nt_opts_help(const nt_opts *cmd, FILE *out, int width) {
    if (width <= 0) width = 80;
    if (width < HELP_COL + 20) width = HELP_COL + 20;
    fprintf(out, "%s\n", cmd->usage);
    if (cmd->about) {
        fputc('\n', out);
        wrap(out, cmd->about, 0, 0, width);
    }
    if (!(cmd->opts[0].kind == NT_OPT_GROUP && cmd->opts[0].help)) fprintf(out, "\noptions:\n");
    help_ctx h = {out, width};
    walk(cmd->opts, help_visit, &h, 0);
    fprintf(out, "  -h, --help%*sthis text\n", HELP_COL - 12, "");
    if (cmd->epilog) {
        fputc('\n', out);
        wrap(out, cmd->epilog, 0, 0, width);
    }
}

/* ---- parsing ----------------------------------------------------------------------------- */

/* Edit distance of a and b, capped (for "did you mean"). */
static int distance(const char *a, const char *b) {
    int la = (int)strlen(a), lb = (int)strlen(b);
    if (la > 63 || lb > 63) return 99;
    int d[64][64];
    for (int i = 0; i <= la; i++) d[i][0] = i;
    for (int j = 0; j <= lb; j++) d[0][j] = j;
    for (int i = 1; i <= la; i++)
        for (int j = 1; j <= lb; j++) {
            int c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < c) c = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < c) c = d[i][j - 1] + 1;
            d[i][j] = c;
        }
    return d[la][lb];
}

typedef struct near_ctx {
    const char *flag;
    const char *best;
    int best_d;
} near_ctx;

static int near_visit(nt_opt *o, void *user) {
    near_ctx *c = user;
    if (o->kind == NT_OPT_GROUP || !o->flag) return 0;
    int d = distance(c->flag, o->flag);
    if (d < c->best_d) c->best_d = d, c->best = o->flag;
    return 0;
}

typedef struct required_ctx {
    const nt_opt *missing;
} required_ctx;

static int required_visit(nt_opt *o, void *user) {
    required_ctx *r = user;
    if (o->kind != NT_OPT_GROUP && o->required && !o->given) {
        r->missing = o;
        return 1;
    }
    return 0;
}

int nt_opts_parse(nt_opts *cmd, int argc, char **argv) {
    cmd->n_args = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) break;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            nt_opts_help(cmd, stdout, 0);
            return 0;
        }
    }
    int only_args = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        char shown[NT_OPTS_EXCERPT_CAP];
        if (only_args || a[0] != '-' || a[1] == 0) {
            if (cmd->n_args >= cmd->max_args)
                return nt_opts_usage_error(cmd, cmd->max_args ? "unexpected argument \"%s\" (one %s only)"
                                                              : "unexpected argument \"%s\"%s",
                                           nt_opts_excerpt(a, strlen(a), shown, sizeof shown), cmd->max_args ? cmd->positional : "");
            cmd->args[cmd->n_args++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_args = 1;
            continue;
        }
        const char *eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
        nt_opt *o = find_n(cmd, a, eq ? (size_t)(eq - a) : strlen(a));
        if (!o) {
            near_ctx nc = {a, NULL, 3};
            walk(cmd->opts, near_visit, &nc, 0);
            nt_opts_excerpt(a, strlen(a), shown, sizeof shown);
            if (nc.best) return nt_opts_usage_error(cmd, "unknown option \"%s\" (did you mean %s?)", shown, nc.best);
            return nt_opts_usage_error(cmd, "unknown option \"%s\"", shown);
        }
        if (o->kind == NT_OPT_FLAG) {
            if (eq)
                return nt_opts_usage_error(cmd, "%s takes no value (given \"%s\")", o->flag,
                                           nt_opts_excerpt(eq + 1, strlen(eq + 1), shown, sizeof shown));
            *(int *)o->dest = 1;
            o->given = 1;
            continue;
        }
        const char *v;
        if (eq) {
            v = eq + 1;
        } else if (i + 1 >= argc || (strncmp(argv[i + 1], "--", 2) == 0 && argv[i + 1][2])) {
            char want[256];
            expected(o, want, sizeof want);
            return nt_opts_usage_error(cmd, "%s needs a value (%s)", o->flag, want);
        } else {
            v = argv[++i];
        }
        if (!set_value(cmd, o, v)) return 2;
        o->given = 1;
    }
    required_ctx rc = {NULL};
    walk(cmd->opts, required_visit, &rc, 0);
    if (rc.missing) return nt_opts_usage_error(cmd, "%s is required", rc.missing->flag);
    if (cmd->n_args < cmd->min_args) return nt_opts_usage_error(cmd, "missing the argument %s", cmd->positional ? cmd->positional : "");
    return -1;
}
