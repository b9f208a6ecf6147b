/* tsv.c - the parallel-corpus reader (strict UTF-8 TSV, errors name file:line). */
#include "data/tsv.h"

#include <errno.h>
#include <string.h>

#include "core/alloc.h"
#include "data/utf8.h"

static const char *reason_names[NT_TSV_N_REASONS] = {
    "invalid UTF-8", "missing tab", "extra tab", "empty side", "line too long", "empty line",
};

const char *nt_tsv_reason_name(nt_tsv_reason r) {
    return (unsigned)r < NT_TSV_N_REASONS ? reason_names[r] : "unknown";
}

/* Checks one line (without its ending); returns the reason or -1 if good,
 * with a detail message in msg. */
static int check_line(const char *p, size_t len, size_t max_len, char *msg, size_t cap) {
    size_t bad;
    msg[0] = 0;
    if (len == 0) return NT_TSV_EMPTY_LINE;
    if (len > max_len) {
        snprintf(msg, cap, " (%zu bytes, limit %zu)", len, max_len);
        return NT_TSV_TOO_LONG;
    }
    if (!nt_utf8_valid(p, len, &bad)) {
        snprintf(msg, cap, " at byte %zu (0x%02X)", bad + 1, (unsigned char)p[bad]);
        return NT_TSV_BAD_UTF8;
    }
    if (memchr(p, 0, len)) {
        snprintf(msg, cap, " (NUL byte at byte %zu)", (size_t)((const char *)memchr(p, 0, len) - p) + 1);
        return NT_TSV_BAD_UTF8;
    }
    const char *tab = memchr(p, '\t', len);
    if (!tab) {
        snprintf(msg, cap, " (expected source<TAB>target)");
        return NT_TSV_NO_TAB;
    }
    size_t ntab = 0;
    for (size_t i = 0; i < len; i++) ntab += p[i] == '\t';
    if (ntab > 1) {
        snprintf(msg, cap, " (%zu tabs, expected 1)", ntab);
        return NT_TSV_EXTRA_TAB;
    }
    if (tab == p) { snprintf(msg, cap, " (source is empty)"); return NT_TSV_EMPTY_SIDE; }
    if (tab == p + len - 1) { snprintf(msg, cap, " (target is empty)"); return NT_TSV_EMPTY_SIDE; }
    return -1;
}

void nt_tsv_free(nt_tsv *t) {
    if (!t) return;
    nt_free(t->path);
    nt_free(t->src);
    nt_free(t->tgt);
    nt_free(t->line);
    nt_free(t->data);
    nt_free(t);
}

static nt_status oom(nt_tsv *t, const char *name) {
    nt_tsv_free(t);
    return nt_error(NT_ERR_NOMEM, "nt_tsv_read: %s: out of memory", name);
}

/* Takes ownership of data (len bytes, one spare byte allocated after). */
static nt_status parse(nt_tsv **out, const char *name, char *data, size_t len,
                       const nt_tsv_config *cfg) {
    size_t max_len = cfg && cfg->max_line_bytes ? cfg->max_line_bytes : NT_TSV_DEFAULT_MAX_LINE;
    int skip = cfg ? cfg->skip_bad : 0;
    nt_tsv *t = nt_calloc(1, sizeof *t);
    if (!t) { nt_free(data); return nt_error(NT_ERR_NOMEM, "nt_tsv_read: out of memory"); }
    t->data = data;
    size_t nl = strlen(name) + 1;
    if (!(t->path = nt_malloc(nl))) return oom(t, name);
    memcpy(t->path, name, nl);
    /* count lines to size the arrays */
    size_t n_lines = 0;
    for (size_t i = 0; i < len; i++) n_lines += data[i] == '\n';
    if (len > 0 && data[len - 1] != '\n') n_lines++;
    if (n_lines > (size_t)0x7fffffff) {
        nt_tsv_free(t);
        return nt_error(NT_ERR_FORMAT, "nt_tsv_read: %s: too many lines (%zu)", name, n_lines);
    }
    size_t cap = n_lines ? n_lines : 1;
    t->src = nt_malloc(cap * sizeof *t->src);
    t->tgt = nt_malloc(cap * sizeof *t->tgt);
    t->line = nt_malloc(cap * sizeof *t->line);
    if (!t->src || !t->tgt || !t->line) return oom(t, name);

    size_t pos = 0;
    int lineno = 0;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) pos = 3, t->bom = 1;
    while (pos < len) {
        char *p = data + pos;
        char *nlp = memchr(p, '\n', len - pos);
        size_t l = nlp ? (size_t)(nlp - p) : len - pos;
        pos += l + (nlp ? 1 : 0);
        lineno++;
        if (l > 0 && p[l - 1] == '\r') l--; /* CRLF */
        /* spaces around either field: trimmed in place (the line only shrinks) */
        char *tab0 = memchr(p, '\t', l);
        if (tab0) {
            size_t a = 0, b = (size_t)(tab0 - p), c = b + 1, e = l;
            while (a < b && p[a] == ' ') a++;
            while (b > a && p[b - 1] == ' ') b--;
            while (c < e && p[c] == ' ') c++;
            while (e > c && p[e - 1] == ' ') e--;
            if (a > 0 || b < (size_t)(tab0 - p) || c > (size_t)(tab0 - p) + 1 || e < l) {
                t->n_trimmed++;
                if (!t->first_trimmed) t->first_trimmed = lineno;
                size_t ls = b - a, lt = e - c;
                memmove(p, p + a, ls);
                p[ls] = '\t';
                memmove(p + ls + 1, p + c, lt);
                l = ls + 1 + lt;
            }
        }
        char msg[128];
        int r = check_line(p, l, max_len, msg, sizeof msg);
        if (r >= 0) {
            if (!skip) {
                nt_status s = nt_error(NT_ERR_FORMAT, "nt_tsv_read: %s:%d: %s%s", name, lineno,
                                       reason_names[r], msg);
                nt_tsv_free(t);
                return s;
            }
            if (t->n_skipped == 0)
                snprintf(t->first_skipped, sizeof t->first_skipped, "%s:%d: %s%s", name, lineno,
                         reason_names[r], msg);
            t->n_skipped++;
            t->skipped[r]++;
            continue;
        }
        char *tab = memchr(p, '\t', l);
        *tab = 0;
        p[l] = 0; /* overwrites '\r', '\n' or the spare byte after the data */
        t->src[t->n] = p;
        t->tgt[t->n] = tab + 1;
        t->line[t->n] = lineno;
        t->n++;
    }
    t->n_lines = lineno;
    *out = t;
    return NT_OK;
}

nt_status nt_tsv_read_buffer(nt_tsv **out, const char *name, const char *bytes, size_t len,
                             const nt_tsv_config *cfg) {
    if (!out) return nt_error(NT_ERR_ARG, "nt_tsv_read_buffer: NULL out");
    *out = NULL;
    if (!name || (!bytes && len)) return nt_error(NT_ERR_ARG, "nt_tsv_read_buffer: NULL argument");
    char *data = nt_malloc(len + 1);
    if (!data) return nt_error(NT_ERR_NOMEM, "nt_tsv_read: %s: out of memory for %zu bytes", name, len);
    if (len) memcpy(data, bytes, len);
    data[len] = 0;
    return parse(out, name, data, len, cfg);
}

nt_status nt_tsv_read(nt_tsv **out, const char *path, const nt_tsv_config *cfg) {
    if (!out) return nt_error(NT_ERR_ARG, "nt_tsv_read: NULL out");
    *out = NULL;
    if (!path) return nt_error(NT_ERR_ARG, "nt_tsv_read: NULL path");
    FILE *f = fopen(path, "rb");
    if (!f) return nt_error(NT_ERR_IO, "nt_tsv_read: cannot open %s: %s", path, strerror(errno));
    size_t cap = 1 << 16, len = 0;
    char *data = nt_malloc(cap);
    while (data) {
        len += fread(data + len, 1, cap - 1 - len, f);
        if (len < cap - 1) break;
        char *d = nt_realloc(data, cap * 2);
        if (!d) { nt_free(data); data = NULL; break; }
        data = d;
        cap *= 2;
    }
    int err = ferror(f);
    fclose(f);
    if (!data) return nt_error(NT_ERR_NOMEM, "nt_tsv_read: %s: out of memory", path);
    if (err) {
        nt_free(data);
        return nt_error(NT_ERR_IO, "nt_tsv_read: read error on %s", path);
    }
    data[len] = 0;
    return parse(out, path, data, len, cfg);
}

void nt_tsv_skip_summary(const nt_tsv *t, char *buf, size_t cap) {
    if (!buf || cap == 0) return;
    buf[0] = 0;
    if (!t) return;
    size_t k = (size_t)snprintf(buf, cap, "skipped %d line%s", t->n_skipped, t->n_skipped == 1 ? "" : "s");
    const char *sep = ": ";
    for (int r = 0; r < NT_TSV_N_REASONS && k < cap; r++) {
        if (!t->skipped[r]) continue;
        k += (size_t)snprintf(buf + k, cap - k, "%s%d %s", sep, t->skipped[r], reason_names[r]);
        sep = ", ";
    }
}
