/* report.c - the self-contained HTML training report (curves, summary, heatmaps).
 *
 * The page is built in memory (a growing string), then written atomically
 * (train/atomic_file.h). Numbers are printed with the
 * C library in the "C" locale (nextok never calls setlocale).
 */
#include "eval/report.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "data/utf8.h"
#include "train/atomic_file.h"
#include "train/json.h"

/* ---- a growing string ------------------------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_reserve(sbuf *b, size_t extra) {
    if (b->oom || b->n + extra + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + extra + 1) cap *= 2;
    char *p = nt_realloc(b->p, cap);
    if (!p) { b->oom = 1; return; }
    b->p = p;
    b->cap = cap;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void sb_printf(sbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len < 0) { b->oom = 1; return; }
    sb_reserve(b, (size_t)len);
    if (b->oom) return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)len + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)len;
}

static void sb_puts(sbuf *b, const char *s) { sb_printf(b, "%s", s); }

/* Appends `s` escaped for HTML text and attribute values: & < > " ' become
 * entities, control characters a space, invalid UTF-8 U+FFFD. At most
 * `max_cp` code points (0 = no limit), then an ellipsis. */
static void sb_esc(sbuf *b, const char *s, int max_cp) {
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t left = strlen((const char *)p);
    for (int cp = 0; *p; cp++) {
        if (max_cp && cp == max_cp) { sb_puts(b, "\xE2\x80\xA6"); return; }
        uint32_t unused;
        int len = (int)nt_utf8_decode((const char *)p, left, &unused);
        switch (*p) {
        case '&': sb_puts(b, "&amp;"); break;
        case '<': sb_puts(b, "&lt;"); break;
        case '>': sb_puts(b, "&gt;"); break;
        case '"': sb_puts(b, "&quot;"); break;
        case '\'': sb_puts(b, "&#39;"); break;
        default:
            if (len == 0) { sb_puts(b, "\xEF\xBF\xBD"); len = 1; }
            else if (*p < 0x20 || *p == 0x7F) sb_puts(b, " ");
            else sb_printf(b, "%.*s", len, (const char *)p);
        }
        p += len;
        left -= (size_t)len;
    }
}

/* ---- the metrics JSON-lines file -------------------------------------------------- */

enum { TR_STEP, TR_LOSS, TR_LR, TR_TOKS, TR_GNORM, TR_ELAPSED, TR_N };
enum { EV_STEP, EV_LOSS, EV_PPL, EV_TACC, EV_EXACT, EV_BLEU, EV_CHRF, EV_N };
static const char *const TR_KEYS[TR_N] = {"step", "loss", "lr", "tok_s", "grad_norm", "elapsed_s"};
static const char *const EV_KEYS[EV_N] = {"step", "loss", "ppl", "token_acc", "exact_match", "bleu", "chrf"};

#define MAX_BAD_SHOWN 20
#define MAX_FIELDS 64

typedef struct metrics {
    double *train, *eval;                /* (n_train, TR_N), (n_eval, EV_N); NAN = absent */
    int64_t n_train, n_eval, cap_train, cap_eval;
    int64_t n_lines, n_other, n_bad;
    int64_t bad_line[MAX_BAD_SHOWN];
    char bad_msg[MAX_BAD_SHOWN][96];
} metrics;

static void note_bad(metrics *m, int64_t lineno, const char *msg, long col) {
    if (m->n_bad < MAX_BAD_SHOWN) {
        m->bad_line[m->n_bad] = lineno;
        if (col > 0) snprintf(m->bad_msg[m->n_bad], sizeof m->bad_msg[0], "%s (column %ld)", msg, col);
        else snprintf(m->bad_msg[m->n_bad], sizeof m->bad_msg[0], "%s", msg);
    }
    m->n_bad++;
}


/* Appends a record of `nk` fields named `keys` to (*rows, *n, *cap). */
static nt_status add_row(double **rows, int64_t *n, int64_t *cap, const char *const *keys, int nk,
                         const nt_json_field *f, int nf) {
    if (*n == *cap) {
        int64_t c = *cap ? 2 * *cap : 256;
        double *r = nt_realloc(*rows, (size_t)(c * nk) * sizeof *r);
        if (!r) return nt_error(NT_ERR_NOMEM, "nt_report_write: out of memory reading metrics");
        *rows = r;
        *cap = c;
    }
    double *r = *rows + *n * nk;
    for (int k = 0; k < nk; k++) {
        const nt_json_field *x = nt_json_find(f, nf, keys[k]);
        r[k] = x && x->is_num ? x->num : NAN;
    }
    (*n)++;
    return NT_OK;
}

static nt_status parse_line(metrics *m, char *line, int64_t lineno) {
    nt_json_field f[MAX_FIELDS];
    int nf;
    long col = 0;
    const char *err = nt_json_parse_flat(line, f, MAX_FIELDS, &nf, &col);
    if (err) { note_bad(m, lineno, err, col); return NT_OK; }
    const nt_json_field *type = nt_json_find(f, nf, "type"), *step = nt_json_find(f, nf, "step");
    if (!type || !type->str) { note_bad(m, lineno, "no \"type\" string", 0); return NT_OK; }
    int is_train = strcmp(type->str, "train") == 0, is_eval = strcmp(type->str, "eval") == 0;
    if (!is_train && !is_eval) { m->n_other++; return NT_OK; }
    if (!step || !step->is_num || !isfinite(step->num)) {
        note_bad(m, lineno, "no numeric \"step\"", 0);
        return NT_OK;
    }
    if (is_train) return add_row(&m->train, &m->n_train, &m->cap_train, TR_KEYS, TR_N, f, nf);
    return add_row(&m->eval, &m->n_eval, &m->cap_eval, EV_KEYS, EV_N, f, nf);
}

static nt_status read_metrics(metrics *m, const char *path) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return nt_error(NT_ERR_IO, "nt_report_write: cannot open metrics file %s: %s", path, strerror(errno));
    char *buf = NULL;
    size_t n = 0, cap = 0;
    nt_status s = NT_OK;
    for (;;) {
        if (n + 65536 + 1 > cap) {
            size_t c = cap ? 2 * cap : 65536 * 2;
            char *b = nt_realloc(buf, c);
            if (!b) { s = nt_error(NT_ERR_NOMEM, "nt_report_write: out of memory reading %s", path); goto done; }
            buf = b;
            cap = c;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, fp);
        n += got;
        if (got == 0) break;
    }
    if (ferror(fp)) { s = nt_error(NT_ERR_IO, "nt_report_write: error reading metrics file %s", path); goto done; }
    buf[n] = 0;
    int64_t lineno = 0;
    for (char *p = buf; p < buf + n && s == NT_OK;) {
        char *e = memchr(p, '\n', (size_t)(buf + n - p));
        char *next = e ? e + 1 : buf + n;
        if (!e) e = buf + n;
        *e = 0;
        lineno++;
        if (strlen(p) != (size_t)(e - p)) note_bad(m, lineno, "NUL byte in line", 0);
        else if (p[strspn(p, " \t\r")]) s = parse_line(m, p, lineno);
        p = next;
    }
    m->n_lines = lineno;
done:
    nt_free(buf);
    fclose(fp);
    return s;
}

/* ---- SVG line charts ----------------------------------------------------------------------- */

typedef struct series {
    const char *name, *cls, *color;
    const double *rows;  /* (n, stride) */
    int64_t n;
    int stride, xcol, ycol;
    int markers;         /* circles at the points (sparse series) */
} series;

static int point_ok(const series *s, int64_t i, int logy) {
    double x = s->rows[i * s->stride + s->xcol], y = s->rows[i * s->stride + s->ycol];
    return isfinite(x) && isfinite(y) && (!logy || y > 0);
}

static double nice_step(double range) {
    double raw = range / 5, mag = pow(10, floor(log10(raw))), f = raw / mag;
    return mag * (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10);
}

enum { CW = 780, CH = 300, ML = 70, MR = 150, MT = 34, MB = 44 };  /* legend in the right margin */

/* `unit` is appended to the y tick labels and the point values ("%" or ""). */
static void chart(sbuf *b, const char *title, const char *ylabel, const char *unit, const series *s, int ns,
                  int logy) {
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    int64_t total = 0;
    for (int k = 0; k < ns; k++)
        for (int64_t i = 0; i < s[k].n; i++) {
            if (!point_ok(&s[k], i, logy)) continue;
            double x = s[k].rows[i * s[k].stride + s[k].xcol], y = s[k].rows[i * s[k].stride + s[k].ycol];
            if (logy) y = log10(y);
            x0 = fmin(x0, x); x1 = fmax(x1, x); y0 = fmin(y0, y); y1 = fmax(y1, y);
            total++;
        }
    sb_printf(b, "<figure class=\"chart\"><svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">\n",
              CW, CH, CW, CH);
    sb_puts(b, "<text class=\"title\" x=\"10\" y=\"20\">");
    sb_esc(b, title, 0);
    sb_puts(b, "</text>\n");
    if (total == 0) {
        sb_printf(b, "<text class=\"nodata\" x=\"%d\" y=\"%d\">no data</text>\n</svg></figure>\n", CW / 2, CH / 2);
        return;
    }
    /* ranges: log axes span whole decades, linear ones nice multiples */
    double ystep;
    if (logy) {
        y0 = floor(y0); y1 = ceil(y1);
        if (y1 <= y0) y1 = y0 + 1;
        ystep = 1;
    } else {
        if (y1 - y0 < 1e-12 * fmax(1, fabs(y1))) { y0 -= fmax(1e-3, fabs(y0) * 0.1); y1 += fmax(1e-3, fabs(y1) * 0.1); }
        ystep = nice_step(y1 - y0);
        y0 = floor(y0 / ystep) * ystep;
        y1 = ceil(y1 / ystep) * ystep;
    }
    if (x1 <= x0) { x0 -= 1; x1 += 1; }
    double xstep = nice_step(x1 - x0);
    const double pw = CW - ML - MR, ph = CH - MT - MB;
#define PX(x) (ML + ((x) - x0) / (x1 - x0) * pw)
#define PY(y) (MT + ph - ((y) - y0) / (y1 - y0) * ph)
    sb_printf(b, "<rect class=\"plot\" x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\"/>\n", ML, MT, pw, ph);
    /* grid and tick labels */
    for (double x = ceil(x0 / xstep) * xstep; x <= x1 + 1e-9 * xstep; x += xstep)
        sb_printf(b, "<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.0f\"/>"
                     "<text class=\"tick\" x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%g</text>\n",
                  PX(x), MT, PX(x), MT + ph, PX(x), MT + ph + 16, x);
    for (double y = y0; y <= y1 + 1e-9 * ystep; y += ystep) {
        sb_printf(b, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\"/>"
                     "<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g%s</text>\n",
                  ML, PY(y), ML + pw, PY(y), ML - 6, PY(y) + 4, logy ? pow(10, y) : y, unit);
        if (logy && y1 - y0 <= 2)  /* few decades: minor ticks at 2x and 5x */
            for (int m = 2; m <= 5; m += 3)
                if (y + log10(m) < y1)
                    sb_printf(b, "<line class=\"grid minor\" x1=\"%d\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\"/>"
                                 "<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
                              ML, PY(y + log10(m)), ML + pw, PY(y + log10(m)), ML - 6, PY(y + log10(m)) + 4,
                              m * pow(10, y));
    }
    sb_printf(b, "<text class=\"axis\" x=\"%.0f\" y=\"%d\" text-anchor=\"middle\">step</text>\n", ML + pw / 2, CH - 6);
    sb_printf(b, "<text class=\"axis\" transform=\"translate(14 %.0f) rotate(-90)\" text-anchor=\"middle\">", MT + ph / 2);
    sb_esc(b, ylabel, 0);
    sb_puts(b, "</text>\n");
    /* series and legend */
    int legend = 0;
    for (int k = 0; k < ns; k++) {
        int64_t n = 0;
        for (int64_t i = 0; i < s[k].n; i++) n += point_ok(&s[k], i, logy);
        if (n == 0) continue;
        sb_printf(b, "<polyline class=\"series %s\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"",
                  s[k].cls, s[k].color);
        for (int64_t i = 0; i < s[k].n; i++) {
            if (!point_ok(&s[k], i, logy)) continue;
            double x = s[k].rows[i * s[k].stride + s[k].xcol], y = s[k].rows[i * s[k].stride + s[k].ycol];
            sb_printf(b, "%.1f,%.1f ", PX(x), PY(logy ? log10(y) : y));
        }
        sb_puts(b, "\"/>\n");
        if (s[k].markers)
            for (int64_t i = 0; i < s[k].n; i++) {
                if (!point_ok(&s[k], i, logy)) continue;
                double x = s[k].rows[i * s[k].stride + s[k].xcol], y = s[k].rows[i * s[k].stride + s[k].ycol];
                sb_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"><title>step %g: %g%s</title></circle>\n",
                          PX(x), PY(logy ? log10(y) : y), s[k].color, x, y, unit);
            }
        sb_printf(b, "<rect x=\"%.0f\" y=\"%d\" width=\"12\" height=\"3\" fill=\"%s\"/>"
                     "<text class=\"legend\" x=\"%.0f\" y=\"%d\">",
                  ML + pw + 14, MT + 8 + 18 * legend, s[k].color, ML + pw + 32, MT + 12 + 18 * legend);
        sb_esc(b, s[k].name, 0);
        sb_puts(b, "</text>\n");
        legend++;
    }
#undef PX
#undef PY
    sb_puts(b, "</svg></figure>\n");
}

/* ---- heatmaps ------------------------------------------------------------------------------- */

static int label_px(const char *const *tok, int n) {
    int w = 0;
    for (int i = 0; i < n; i++) {
        int cp = 0;
        for (const unsigned char *p = (const unsigned char *)tok[i]; *p; p++) cp += (*p & 0xC0) != 0x80;
        if (cp > 16) cp = 17;
        if (cp > w) w = cp;
    }
    return 12 + 7 * w;
}

static void heatmap(sbuf *b, const nt_report_heatmap *h, int index) {
    const int cell = h->S > 40 || h->T > 40 ? 12 : 22;
    const int left = label_px(h->out, h->T), top = label_px(h->src, h->S) * 3 / 4 + 8;
    const int grid_w = h->S * cell < 380 ? 380 : h->S * cell;  /* room for the legend line */
    const int width = left + grid_w + 20, height = top + h->T * cell + 36;
    sb_puts(b, "<figure class=\"heatmap\"><figcaption>");
    if (h->title) sb_esc(b, h->title, 0);
    else sb_printf(b, "sample %d", index + 1);
    sb_printf(b, "</figcaption>\n<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">\n", width,
              height, width, height);
    for (int j = 0; j < h->S; j++) {  /* source tokens: columns, labels slanted above */
        sb_printf(b, "<text class=\"tok\" transform=\"translate(%d %d) rotate(-50)\">",
                  left + j * cell + cell / 2 + 3, top - 6);
        sb_esc(b, h->src[j], 16);
        sb_puts(b, "</text>\n");
    }
    for (int t = 0; t < h->T; t++) {  /* output tokens: rows, labels at the left */
        sb_printf(b, "<text class=\"tok\" x=\"%d\" y=\"%d\" text-anchor=\"end\">", left - 6, top + t * cell + cell / 2 + 4);
        sb_esc(b, h->out[t], 16);
        sb_puts(b, "</text>\n");
        for (int j = 0; j < h->S; j++) {
            double w = h->weights[(int64_t)t * h->S + j], c = w < 0 ? 0 : w > 1 ? 1 : w;
            /* white -> dark blue */
            int r = (int)lround(255 - c * (255 - 8)), g = (int)lround(255 - c * (255 - 48)),
                bl = (int)lround(255 - c * (255 - 107));
            sb_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"rgb(%d,%d,%d)\"><title>", left + j * cell,
                      top + t * cell, cell, cell, r, g, bl);
            sb_esc(b, h->out[t], 0);
            sb_puts(b, " \xE2\x86\x92 ");
            sb_esc(b, h->src[j], 0);
            sb_printf(b, ": %.3f</title></rect>\n", w);
        }
    }
    sb_printf(b, "<rect class=\"frame\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>\n", left, top, h->S * cell,
              h->T * cell);
    /* legend: five swatches 0 .. 1 */
    int ly = top + h->T * cell + 12;
    for (int k = 0; k <= 4; k++) {
        double c = k / 4.0;
        sb_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"10\" fill=\"rgb(%d,%d,%d)\" stroke=\"#999\"/>",
                  left + 16 * k, ly, (int)lround(255 - c * 247), (int)lround(255 - c * 207), (int)lround(255 - c * 148));
    }
    sb_printf(b, "<text class=\"tick\" x=\"%d\" y=\"%d\">weight 0 \xE2\x80\xA6 1 (rows: output, columns: source)</text>\n",
              left + 86, ly + 9);
    sb_puts(b, "</svg></figure>\n");
}

/* ---- the page -------------------------------------------------------------------------------- */

static const char *CSS =
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px auto;max-width:1000px;"
    "color:#222;padding:0 16px}\n"
    "h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ddd}\n"
    /* long values (lists of training files) wrap instead of widening the page */
    "table.summary{border-collapse:collapse;table-layout:fixed;width:100%}table.summary td,table.summary th{"
    "border:1px solid #ddd;padding:4px 10px;text-align:left;overflow-wrap:anywhere;word-break:break-word}"
    "table.summary th{background:#f4f4f4;font-weight:600;width:11em}\n"
    "figure{margin:12px 0;max-width:100%;overflow-x:auto}figcaption{font-size:.9em;margin-bottom:4px;"
    "overflow-wrap:anywhere}svg{max-width:100%;height:auto}\n"
    "svg text{font-family:inherit;font-size:11px;fill:#333}svg .title{font-size:13px;font-weight:600}\n"
    "svg .plot{fill:#fff;stroke:#888}svg .grid{stroke:#e6e6e6}svg .grid.minor{stroke:#f3f3f3}"
    "svg .nodata{fill:#999;text-anchor:middle}svg .frame{fill:none;stroke:#888}\n"
    ".notes{font-size:.9em;color:#444}.bad{color:#a40000}\n";

static nt_status check_info(const nt_report_info *info) {
    if (!info) return NT_OK;
    if (info->n_summary < 0 || (info->n_summary > 0 && !info->summary))
        return nt_error(NT_ERR_ARG, "nt_report_write: summary has %d rows but %s", info->n_summary,
                        info->n_summary < 0 ? "a negative count" : "the array is NULL");
    for (int i = 0; i < info->n_summary; i++)
        if (!info->summary[i].key || !info->summary[i].value)
            return nt_error(NT_ERR_ARG, "nt_report_write: summary row %d has a NULL %s", i,
                            !info->summary[i].key ? "key" : "value");
    if (info->n_heatmaps < 0 || (info->n_heatmaps > 0 && !info->heatmaps))
        return nt_error(NT_ERR_ARG, "nt_report_write: %d heatmaps but %s", info->n_heatmaps,
                        info->n_heatmaps < 0 ? "a negative count" : "the array is NULL");
    for (int i = 0; i < info->n_heatmaps; i++) {
        const nt_report_heatmap *h = &info->heatmaps[i];
        if (h->S < 1 || h->S > NT_REPORT_MAX_TOKENS || h->T < 1 || h->T > NT_REPORT_MAX_TOKENS)
            return nt_error(NT_ERR_ARG, "nt_report_write: heatmap %d: S = %d, T = %d, expected 1..%d", i, h->S, h->T,
                            NT_REPORT_MAX_TOKENS);
        if (!h->src || !h->out || !h->weights)
            return nt_error(NT_ERR_ARG, "nt_report_write: heatmap %d: %s is NULL", i,
                            !h->src ? "src" : !h->out ? "out" : "weights");
        for (int j = 0; j < h->S; j++)
            if (!h->src[j]) return nt_error(NT_ERR_ARG, "nt_report_write: heatmap %d: source token %d is NULL", i, j);
        for (int t = 0; t < h->T; t++) {
            if (!h->out[t]) return nt_error(NT_ERR_ARG, "nt_report_write: heatmap %d: output token %d is NULL", i, t);
            for (int j = 0; j < h->S; j++)
                if (!isfinite(h->weights[(int64_t)t * h->S + j]))
                    return nt_error(NT_ERR_NUMERIC, "nt_report_write: heatmap %d: weight (%d, %d) is not finite", i, t, j);
        }
    }
    return NT_OK;
}

static void page(sbuf *b, const metrics *m, const char *metrics_path, const nt_report_info *info) {
    const char *title = info && info->title ? info->title : "nextok training report";
    sb_puts(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>");
    sb_esc(b, title, 0);
    sb_printf(b, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>", CSS);
    sb_esc(b, title, 0);
    sb_puts(b, "</h1>\n");
    if (info && info->n_summary > 0) {
        sb_puts(b, "<h2>Run summary</h2>\n<table class=\"summary\">\n");
        for (int i = 0; i < info->n_summary; i++) {
            sb_puts(b, "<tr><th>");
            sb_esc(b, info->summary[i].key, 0);
            sb_puts(b, "</th><td>");
            sb_esc(b, info->summary[i].value, 0);
            sb_puts(b, "</td></tr>\n");
        }
        sb_puts(b, "</table>\n");
    }
    sb_puts(b, "<h2>Training curves</h2>\n");
    series loss[] = {
        {"train loss", "train-loss", "#1f77b4", m->train, m->n_train, TR_N, TR_STEP, TR_LOSS, 0},
        {"validation loss", "val-loss", "#d62728", m->eval, m->n_eval, EV_N, EV_STEP, EV_LOSS, 1},
    };
    /* two charts: the training loss carries label smoothing (it cannot fall
     * below the smoothed target's entropy) and would squash the validation
     * loss onto the bottom edge of a shared scale */
    chart(b, "Training loss (log scale; includes label smoothing)", "smoothed cross-entropy", "", loss, 1, 1);
    sb_puts(b, "<p class=\"notes\">The training loss is the training objective: with label smoothing it stays above "
               "the plain cross-entropy (and cannot approach 0), so it is not comparable with the validation loss, "
               "which is plain cross-entropy on the validation pairs.</p>\n");
    chart(b, "Validation loss (log scale)", "cross-entropy", "", loss + 1, 1, 1);
    series acc[] = {
        {"token accuracy", "token-acc", "#2ca02c", m->eval, m->n_eval, EV_N, EV_STEP, EV_TACC, 1},
        {"exact match", "exact-match", "#9467bd", m->eval, m->n_eval, EV_N, EV_STEP, EV_EXACT, 1},
        {"BLEU", "bleu", "#ff7f0e", m->eval, m->n_eval, EV_N, EV_STEP, EV_BLEU, 1},
        {"chrF", "chrf", "#8c564b", m->eval, m->n_eval, EV_N, EV_STEP, EV_CHRF, 1},
    };
    chart(b, "Validation accuracy", "percent", "%", acc, 4, 0);
    series lr[] = {{"learning rate", "lr", "#17becf", m->train, m->n_train, TR_N, TR_STEP, TR_LR, 0}};
    chart(b, "Learning rate", "lr", "", lr, 1, 0);
    sb_puts(b, "<div class=\"notes\">\n");
    if (!metrics_path) {
        sb_puts(b, "<p>No metrics file was given.</p>\n");
    } else {
        sb_puts(b, "<p>Metrics file <code>");
        sb_esc(b, metrics_path, 0);
        sb_printf(b, "</code>: %lld lines, %lld train and %lld eval records, %lld of other types, "
                     "%lld malformed line%s skipped.</p>\n",
                  (long long)m->n_lines, (long long)m->n_train, (long long)m->n_eval, (long long)m->n_other,
                  (long long)m->n_bad, m->n_bad == 1 ? "" : "s");
        if (m->n_bad > 0) {
            sb_puts(b, "<ul class=\"bad\">\n");
            for (int64_t i = 0; i < m->n_bad && i < MAX_BAD_SHOWN; i++) {
                sb_printf(b, "<li>line %lld: ", (long long)m->bad_line[i]);
                sb_esc(b, m->bad_msg[i], 0);
                sb_puts(b, "</li>\n");
            }
            if (m->n_bad > MAX_BAD_SHOWN)
                sb_printf(b, "<li>and %lld more</li>\n", (long long)(m->n_bad - MAX_BAD_SHOWN));
            sb_puts(b, "</ul>\n");
        }
    }
    sb_puts(b, "</div>\n");
    if (info && info->n_heatmaps > 0) {
        sb_puts(b, "<h2>Cross-attention</h2>\n");
        for (int i = 0; i < info->n_heatmaps; i++) heatmap(b, &info->heatmaps[i], i);
    }
    sb_puts(b, "</body>\n</html>\n");
}

nt_status nt_report_write(const char *path, const char *metrics_jsonl_path, const nt_report_info *info) {
    if (!path) return nt_error(NT_ERR_ARG, "nt_report_write: path is NULL");
    NT_TRY(check_info(info));
    metrics m;
    memset(&m, 0, sizeof m);
    sbuf b = {0};
    nt_status s = NT_OK;
    if (metrics_jsonl_path) s = read_metrics(&m, metrics_jsonl_path);
    if (s == NT_OK) {
        page(&b, &m, metrics_jsonl_path, info);
        if (b.oom) s = nt_error(NT_ERR_NOMEM, "nt_report_write: out of memory building the page (%zu bytes)", b.n);
        else s = nt_atomic_file_write(path, b.p, b.n);
    }
    nt_free(b.p);
    nt_free(m.train);
    nt_free(m.eval);
    return s;
}
