/* bench.h - nextok-bench's modes and the timing helpers they share.
 *
 *     bench_opts o = {.threads = 2, .reps = 5, .config = "tiny", .seconds = 8};
 *     bench_model(&o);                        // --config: training + decoding
 *     bench_kernels(&o);                      // --kernels: per-kernel throughput
 */
#ifndef NT_BENCH_H
#define NT_BENCH_H

typedef struct bench_opts {
    int threads; /* OpenMP + OpenBLAS threads (--threads, default 2) */
    int reps;    /* timed repetitions per measurement; the median is reported (--reps) */
    const char *config; /* --config tiny|small|gpt */
    double seconds;     /* --seconds: training time; decoding gets half (default 8) */
    int json;           /* --json: one JSON line (torch_ref.py's keys and a few more) */
    int skip_train, skip_decode; /* --only decode / --only train (for profiling) */
    int precision;      /* --precision fp32|bf16: nt_precision of the training products */
} bench_opts;

#define NT_BENCH_VERSION "0.1.0"

/* --config: full training steps (forward, backward, AdamW) and batch-1
 * greedy decoding with the KV cache on a config of shared/reference/
 * torch_ref.py; prints the figures (one JSON line with --json), the sgemm
 * peak of the same run and the model FLOP utilisation. Returns an exit status. */
int bench_model(const bench_opts *o);
/* The 2048^3 sgemm peak in GFLOP/s, best of `reps`, measured in this process
 * (the hidden --sgemm-peak mode that bench_model runs as a child). */
double bench_sgemm_peak_here(int reps);
/* 1 if `name` is a config bench_model knows; the list as text. */
int bench_config_known(const char *name);
const char *bench_config_names(void);

/* --kernels: sgemm at the model shapes against a large-sgemm peak, then the
 * layernorm, attention and cross-entropy kernels. Returns a process exit status. */
int bench_kernels(const bench_opts *o);

/* --allreduce MB: train/dist.h's gradient all-reduce of an MB-megabyte
 * block under mpirun (see docs/distributed.md). Returns an exit status. */
int bench_allreduce(const bench_opts *o, double mb);
/* --gemm-bf16: nt_gemm_bf16 against nt_sgemm at the model's product shapes
 * (examples/bench/gemm_bf16.c). Returns a process exit status. */
int bench_gemm_bf16(const bench_opts *o);

/* Monotonic wall-clock seconds. */
double bench_now(void);

/* Median of v[0..n) (sorts v in place). */
double bench_median(double *v, int n);

/* Median seconds per call of fn(arg): each of `reps` repetitions runs fn
 * enough times to last at least min_seconds, after one warm-up call. */
double bench_time(void (*fn)(void *), void *arg, int reps, double min_seconds);

#endif
