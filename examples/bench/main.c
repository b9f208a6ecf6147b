/* main.c - nextok-bench: parses the common options and dispatches to a mode. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "../common/omp_policy.h"
#include "core/opts.h"
#include "core/parallel.h"
#include "train/dist.h"
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

int main(int argc, char **argv) {
    ex_omp_policy(argv); /* first: before anything starts the OpenMP runtime */
    bench_opts o = {.threads = 2, .reps = 5, .seconds = 8.0};
    int kernels = 0, peak_only = 0, only = 0, gemm_bf16 = 0, precision = NT_PREC_F32;
    double allreduce_mb = 0;
    long threads = o.threads, reps = o.reps;
    char config_help[400];
    snprintf(config_help, sizeof config_help,
             "full training steps (forward, backward, AdamW) and batch-1 greedy decoding with the KV cache on a "
             "config of torch_ref.py (%s); also the sgemm peak of the run and the model FLOP utilisation",
             bench_config_names());
    nt_opt opts[] = {
        {.kind = NT_OPT_GROUP, .help = "modes:"},
        {"--config", NT_OPT_STRING, &o.config, .arg = "NAME", .help = config_help},
        {"--kernels", NT_OPT_FLAG, &kernels,
         .help = "sgemm at the model shapes vs a large-sgemm peak; layernorm, attention and cross-entropy kernels "
                 "(median of R repetitions)"},
        {"--allreduce", NT_OPT_DOUBLE, &allreduce_mb, 1e-6, 4096, .arg = "MB", .def = "",
         .help = "the trainer's bucketed gradient all-reduce of MB megabytes across the ranks of mpirun: time, "
                 "bandwidth, scalar latency (under mpirun, --config trains on every rank and sums the gradients: "
                 "data-parallel throughput; docs/distributed.md)"},
        {"--gemm-bf16", NT_OPT_FLAG, &gemm_bf16, .help = "the bf16 GEMM vs nt_sgemm at the model shapes (GFLOP/s)"},
        {"--sgemm-peak", NT_OPT_FLAG, &peak_only, .help = NULL}, /* hidden: bench_model's child */
        {.kind = NT_OPT_GROUP, .help = "settings:"},
        {"--threads", NT_OPT_INT, &threads, 1, 1024, .help = "OpenMP and OpenBLAS threads"},
        {"--seconds", NT_OPT_DOUBLE, &o.seconds, 1e-3, 3600, .arg = "S",
         .help = "--config: seconds of training steps, half as long decoding"},
        {"--json", NT_OPT_FLAG, &o.json, .help = "--config: one JSON line with torch_ref.py's keys"},
        {"--only", NT_OPT_ENUM, &only, .choices = "both|train|decode", .def = "",
         .help = "--config: run only the train or the decode part (for profiling)"},
        {"--precision", NT_OPT_ENUM, &precision, .choices = "fp32|bf16",
         .values = (const int[]){NT_PREC_F32, NT_PREC_BF16},
         .help = "--config: bf16 training products (bf16 operands, float32 accumulation and master weights; "
                 "decoding on bf16 copies of the weights, checked against fp32's tokens)"},
        {"--reps", NT_OPT_INT, &reps, 1, 64, .arg = "R", .help = "--kernels: timed repetitions per measurement"},
        {0}};
    char epilog[1024];
    snprintf(epilog, sizeof epilog, "%s\n%s", ex_omp_policy_help("nextok-bench"), nt_dist_build_info());
    nt_opts cmd = {.prog = "nextok-bench",
                   .usage = "usage: nextok-bench --config NAME [--threads N] [--seconds S] [--json]\n"
                            "       nextok-bench --kernels [--threads N] [--reps R]\n"
                            "       nextok-bench --gemm-bf16 [--threads N] [--reps R]\n"
                            "       mpirun -np N nextok-bench --allreduce MB [--seconds S] [--json]",
                   .opts = opts, .epilog = epilog};
    int rc = nt_opts_parse(&cmd, argc, argv);
    if (rc >= 0) return rc;
    o.threads = (int)threads, o.reps = (int)reps, o.precision = precision;
    if (gemm_bf16) kernels = 1;
    o.skip_train = only == 2, o.skip_decode = only == 1;
    if (o.config && !bench_config_known(o.config))
        return nt_opts_usage_error(&cmd, "--config \"%s\": expected one of %s", o.config, bench_config_names());
    if (peak_only) {
        if (nt_threads_set(o.threads) != NT_OK) return 1;
        printf("%.3f\n", bench_sgemm_peak_here(o.reps));
        return 0;
    }
    /* MPI after the options: the --sgemm-peak child inherits mpirun's
     * environment and must not join the world as a rank */
    if (nt_dist_init(&argc, &argv) != NT_OK) {
        fprintf(stderr, "nextok-bench: %s\n", nt_errmsg());
        return 1;
    }
    nt_dist_quiet_others();
    if (nt_dist_size(NULL) > 1) o.skip_decode = 1; /* MPI mode: training throughput only */
    if (allreduce_mb > 0) {
        if (nt_threads_set(o.threads) != NT_OK) return nt_dist_finalize(1);
        return nt_dist_finalize(bench_allreduce(&o, allreduce_mb));
    }
    if (kernels == !!o.config)
        return nt_dist_finalize(nt_opts_usage_error(&cmd, "give exactly one of --config NAME and --kernels"));
    if (nt_threads_set(o.threads) != NT_OK || nt_blas_check() != NT_OK) {
        fprintf(stderr, "nextok-bench: %s\n", nt_errmsg());
        return 1;
    }
    if (gemm_bf16) return nt_dist_finalize(bench_gemm_bf16(&o));
    return nt_dist_finalize(kernels ? bench_kernels(&o) : bench_model(&o));
}
