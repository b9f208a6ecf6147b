/* main.c - nextok-bench: parses the common options and dispatches to a mode. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "core/parallel.h"
#include "core/tensor.h"

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
            "usage: nextok-bench --config NAME [--threads N] [--seconds S] [--json]\n"
            "       nextok-bench --kernels [--threads N] [--reps R]\n"
            "       nextok-bench --gemm-bf16 [--threads N] [--reps R]\n"
            "modes:\n"
            "  --config NAME  full training steps (forward, backward, AdamW) and batch-1 greedy\n"
            "                 decoding with the KV cache on a config of torch_ref.py (%s);\n"
            "                 also the sgemm peak of the run and the model FLOP utilisation\n"
            "  --kernels      sgemm at the model shapes vs a large-sgemm peak; layernorm,\n"
            "                 attention and cross-entropy kernels (median of R repetitions)\n"
            "  --gemm-bf16    the bf16 GEMM vs nt_sgemm at the model shapes (GFLOP/s)\n"
            "options:\n"
            "  --threads N    OpenMP and OpenBLAS threads (default 2)\n"
            "  --seconds S    --config: seconds of training steps, half as long decoding (default 8)\n"
            "  --json         --config: one JSON line with torch_ref.py's keys\n"
            "  --only W       --config: run only the train or the decode part (for profiling)\n"
            "  --precision P  --config: fp32 (default) or bf16 training products (bf16 operands,\n"
            "                 float32 accumulation and master weights; decoding stays fp32)\n"
            "  --reps R       --kernels: timed repetitions per measurement, 1..64 (default 5)\n"
            "OMP_WAIT_POLICY defaults to passive (idle threads sleep; set it to override).\n",
            bench_config_names());
}

int main(int argc, char **argv) {
    /* Idle OpenMP threads sleep instead of spinning (unless the caller chose
     * a policy): on a machine whose cores other processes share, a spinning
     * worker takes the core the working thread needs, and a step of a few
     * hundred short parallel regions slows down several times. libgomp reads
     * the policy once at load, hence the re-exec. */
    if (!getenv("OMP_WAIT_POLICY") && setenv("OMP_WAIT_POLICY", "passive", 1) == 0)
        execv("/proc/self/exe", argv); /* on failure, go on with the default policy */
    bench_opts o = {.threads = 2, .reps = 5, .seconds = 8.0};
    int kernels = 0, peak_only = 0, gemm_bf16 = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--kernels")) {
            kernels = 1;
        } else if (!strcmp(a, "--gemm-bf16")) {
            gemm_bf16 = kernels = 1;
        } else if (!strcmp(a, "--sgemm-peak")) { /* hidden: bench_model's child */
            peak_only = 1;
        } else if (!strcmp(a, "--json")) {
            o.json = 1;
        } else if (!strcmp(a, "--config") && i + 1 < argc) {
            o.config = argv[++i];
            if (!bench_config_known(o.config)) {
                fprintf(stderr, "nextok-bench: --config '%s' is not one of %s\n", o.config,
                        bench_config_names());
                return 2;
            }
        } else if (!strcmp(a, "--only") && i + 1 < argc) {
            const char *w = argv[++i];
            if (strcmp(w, "train") && strcmp(w, "decode")) {
                fprintf(stderr, "nextok-bench: --only wants train or decode, got '%s'\n", w);
                return 2;
            }
            o.skip_train = w[0] == 'd';
            o.skip_decode = w[0] == 't';
        } else if (!strcmp(a, "--precision") && i + 1 < argc) {
            nt_precision p;
            if (nt_precision_parse(argv[++i], &p) != NT_OK) {
                fprintf(stderr, "nextok-bench: --%s\n", nt_errmsg());
                return 2;
            }
            o.precision = (int)p;
        } else if (!strcmp(a, "--seconds") && i + 1 < argc) {
            char *end;
            o.seconds = strtod(argv[++i], &end);
            if (*end || !(o.seconds > 0 && o.seconds <= 3600)) {
                fprintf(stderr, "nextok-bench: --seconds wants a number in (0, 3600], got '%s'\n", argv[i]);
                return 2;
            }
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
    if (peak_only) {
        if (nt_threads_set(o.threads) != NT_OK) return 1;
        printf("%.3f\n", bench_sgemm_peak_here(o.reps));
        return 0;
    }
    if (kernels == !!o.config) {
        fprintf(stderr, "nextok-bench: give exactly one of --config NAME and --kernels\n");
        usage(stderr);
        return 2;
    }
    if (nt_threads_set(o.threads) != NT_OK || nt_blas_check() != NT_OK) {
        fprintf(stderr, "nextok-bench: %s\n", nt_errmsg());
        return 1;
    }
    if (gemm_bf16) return bench_gemm_bf16(&o);
    return kernels ? bench_kernels(&o) : bench_model(&o);
}
