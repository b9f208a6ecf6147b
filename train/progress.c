/* progress.c - the training progress bar (see progress.h). */
#include "progress.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int nt_progress_width(int fd) {
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    const char *c = getenv("COLUMNS");
    long v = c ? strtol(c, NULL, 10) : 0;
    return v > 0 && v < 10000 ? (int)v : 80;
}

static void duration(char *b, size_t n, double s) {
    if (!(s >= 0) || !isfinite(s)) snprintf(b, n, "?");
    else if (s < 60) snprintf(b, n, "%.0fs", s);
    else if (s < 3600) snprintf(b, n, "%dm%02ds", (int)s / 60, (int)s % 60);
    else snprintf(b, n, "%dh%02dm", (int)(s / 3600), ((int)s % 3600) / 60);
}

static void rate(char *b, size_t n, double r) {
    if (r >= 1e6) snprintf(b, n, "%.1fM tok/s", r / 1e6);
    else if (r >= 1e3) snprintf(b, n, "%.1fk tok/s", r / 1e3);
    else snprintf(b, n, "%.0f tok/s", r);
}

size_t nt_progress_format(const nt_progress_info *p, int width, char *buf, size_t cap) {
    if (!buf || cap == 0) return 0;
    buf[0] = 0;
    int room = width - 1; /* never the last column: some terminals wrap there */
    if (room < 1) return 0;
    if ((size_t)room >= cap) room = (int)cap - 1;
    double frac = -1;
    if (p->total_steps > 0) frac = (double)p->step / (double)p->total_steps;
    if (p->budget > 0 && p->elapsed / p->budget > frac) frac = p->elapsed / p->budget;
    if (frac > 1) frac = 1;
    /* the fields, most needed first */
    enum { NF = 6 };
    char f[NF][48];
    char d[24];
    int nf = 0;
    if (frac >= 0) snprintf(f[nf++], sizeof f[0], "%3.0f%%", floor(100 * frac));
    duration(d, sizeof d, p->eta);
    snprintf(f[nf++], sizeof f[0], "ETA %s", d);
    snprintf(f[nf++], sizeof f[0], "loss %.4f", p->loss);
    snprintf(f[nf++], sizeof f[0], "lr %.2e", p->lr);
    rate(f[nf], sizeof f[0], p->tok_s), nf++;
    if (p->total_steps > 0) snprintf(f[nf++], sizeof f[0], "step %lld/%lld", (long long)p->step, (long long)p->total_steps);
    else snprintf(f[nf++], sizeof f[0], "step %lld", (long long)p->step);
    /* a bar of a fifth of the line (10 cells at least) is kept before all
     * but the percentage and the ETA; then the first k fields that fit with
     * " | " between them; the bar grows into what is left */
    int reserve = frac >= 0 && room >= 40 ? (room / 5 > 10 ? room / 5 : 10) + 3 : 0;
    int k = nf, len = 0;
    for (; k > 0; k--) {
        len = 0;
        for (int i = 0; i < k; i++) len += (int)strlen(f[i]) + (i ? 3 : 0);
        if (len + (k > 2 ? reserve : 0) <= room) break;
    }
    int bar = frac >= 0 ? room - len - 3 : 0; /* "[###---] " */
    if (bar > 50) bar = 50;
    size_t n = 0;
    if (bar >= 8) {
        int full = (int)floor(frac * bar + 1e-9);
        buf[n++] = '[';
        for (int i = 0; i < bar; i++) buf[n++] = i < full ? '#' : '-';
        buf[n++] = ']';
        buf[n++] = ' ';
    }
    for (int i = 0; i < k; i++) {
        int w = snprintf(buf + n, cap - n, "%s%s", i ? " | " : "", f[i]);
        n += (size_t)w;
    }
    if (k == 0) { /* not even the first field: as much of it as fits */
        snprintf(buf, (size_t)room + 1, "%s", f[0]);
        n = strlen(buf);
    }
    buf[n] = 0;
    return n;
}
