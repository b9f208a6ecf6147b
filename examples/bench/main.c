/* main.c - nextok-bench: parses the common options and dispatches to a mode. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "core/parallel.h"

double bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double bench_time(void (*fn)(void *), void *arg, int reps, double min_seconds) {
    double t[64];
    if (reps > 64) reps = 64;
    fn(arg); /* warm-up: caches, arena growth, thread pool */
    for (int r = 0; r < reps; r++) {
        int calls = 0;
        double t0 = bench_now(), el;
        do {
            fn(arg);
            calls++;
        } while ((el = bench_now() - t0) < min_seconds);
        t[r] = el / calls;
    }
    return bench_median(t, reps);
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: nextok-bench MODE [--threads N] [--reps R]\n"
            "modes:\n"
            "  --kernels    sgemm at the model shapes vs a large-sgemm peak; layernorm,\n"
            "               attention and cross-entropy kernels (median of R repetitions)\n"
            "options:\n"
            "  --threads N  OpenMP and OpenBLAS threads (default 2)\n"
            "  --reps R     timed repetitions per measurement, 1..64 (default 5)\n");
}

int main(int argc, char **argv) {
    bench_opts o = {.threads = 2, .reps = 5};
    const char *mode = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--kernels")) {
            mode = a;
        } else if ((!strcmp(a, "--threads") || !strcmp(a, "--reps")) && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 1 || v > (a[2] == 't' ? 1024 : 64)) {
                fprintf(stderr, "nextok-bench: %s wants a positive integer%s, got '%s'\n", a,
                        a[2] == 't' ? "" : " up to 64", argv[i]);
                return 2;
            }
            *(a[2] == 't' ? &o.threads : &o.reps) = (int)v;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "nextok-bench: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!mode) {
        usage(stderr);
        return 2;
    }
    if (nt_threads_set(o.threads) != NT_OK || nt_blas_check() != NT_OK) {
        fprintf(stderr, "nextok-bench: %s\n", nt_errmsg());
        return 1;
    }
    return bench_kernels(&o);
}
