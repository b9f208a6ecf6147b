/* bench.h - nextok-bench's modes and the timing helpers they share.
 *
 *     bench_opts o = {.threads = 2, .reps = 5};
 *     bench_kernels(&o);                      // --kernels: per-kernel throughput
 */
#ifndef NT_BENCH_H
#define NT_BENCH_H

typedef struct bench_opts {
    int threads; /* OpenMP + OpenBLAS threads (--threads, default 2) */
    int reps;    /* timed repetitions per measurement; the median is reported (--reps) */
} bench_opts;

/* --kernels: sgemm at the model shapes against a large-sgemm peak, then the
 * layernorm, attention and cross-entropy kernels. Returns a process exit status. */
int bench_kernels(const bench_opts *o);

/* Monotonic wall-clock seconds. */
double bench_now(void);

/* Median of v[0..n) (sorts v in place). */
double bench_median(double *v, int n);

/* Median seconds per call of fn(arg): each of `reps` repetitions runs fn
 * enough times to last at least min_seconds, after one warm-up call. */
double bench_time(void (*fn)(void *), void *arg, int reps, double min_seconds);

#endif
