/* dist.c - nextok-bench --allreduce MB: the gradient all-reduce of
 * train/dist.h on a block of MB megabytes, as the trainer runs it (buckets,
 * MPI_Iallreduce, in place), timed under `mpirun -np N`; and the latency of
 * a scalar reduction. Prints per-reduction time, algorithm bandwidth
 * (bytes / time) and bus bandwidth (2 (N-1)/N bytes / time: what each rank
 * sends and receives in a ring, the figure to compare with a link's speed,
 * as nccl-tests report it). See docs/distributed.md. */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "core/alloc.h"
#include "train/dist.h"

int bench_allreduce(const bench_opts *o, double mb) {
    nt_dist *d = nt_dist_world();
    const int N = nt_dist_size(d), root = nt_dist_is_root(d);
    if (N < 2) {
        fprintf(stderr, "nextok-bench: --allreduce needs several ranks: mpirun -np 2 nextok-bench "
                        "--allreduce %g (%s)\n", mb, nt_dist_build_info());
        return 2;
    }
    const int64_t n = (int64_t)(mb * 262144.0);
    float *x = nt_malloc_aligned((size_t)(n > 0 ? n : 1) * sizeof *x);
    if (!x) {
        fprintf(stderr, "nextok-bench: out of memory for %g MB\n", mb);
        return 1;
    }
    for (int64_t i = 0; i < n; i++) x[i] = 1e-3f * (float)(i % 977);
    enum { MAX_ROUNDS = 4096 };
    static double t_ar[MAX_ROUNDS], t_sc[MAX_ROUNDS];
    int rounds = 0;
    double t_total = 0;
    nt_status s = NT_OK;
    /* a warm-up, then rounds until rank 0's clock says stop (a broadcast
     * flag: every rank runs the same rounds); the broadcast also lines the
     * ranks up, so a round times the reduction, not one rank's late arrival */
    for (int round = 0; s == NT_OK && rounds < MAX_ROUNDS; round++) {
        double stop[1] = {root && t_total > o->seconds};
        s = nt_dist_bcast(d, stop, 1);
        if (s != NT_OK || stop[0] != 0) break;
        double t0 = bench_now();
        s = nt_dist_allreduce_begin(d, x, n);
        if (s == NT_OK) s = nt_dist_allreduce_end(d);
        double t1 = bench_now();
        double v[1] = {1};
        if (s == NT_OK) s = nt_dist_sum(d, v, 1);
        double t2 = bench_now();
        if (round > 0) t_ar[rounds] = t1 - t0, t_sc[rounds] = t2 - t1, rounds++, t_total += t2 - t0;
        for (int64_t i = 0; i < n; i++) x[i] *= (1.0f / (float)N); /* keep values bounded */
    }
    nt_free_aligned(x);
    if (s != NT_OK) {
        fprintf(stderr, "nextok-bench: %s\n", nt_errmsg());
        return 1;
    }
    if (rounds == 0) return 1;
    double best = t_ar[0];
    for (int i = 1; i < rounds; i++) best = t_ar[i] < best ? t_ar[i] : best;
    double per = bench_median(t_ar, rounds), bytes = (double)n * sizeof(float);
    double algbw = bytes / per / 1e9, busbw = algbw * 2.0 * (N - 1) / N;
    double lat_us = 1e6 * bench_median(t_sc, rounds);
    if (root) {
        if (o->json)
            printf("{\"mode\": \"allreduce\", \"ranks\": %d, \"mb\": %g, \"rounds\": %d, \"ms\": %.3f, "
                   "\"best_ms\": %.3f, \"algbw_gb_s\": %.3f, \"busbw_gb_s\": %.3f, \"scalar_us\": %.2f}\n",
                   N, mb, rounds, 1e3 * per, 1e3 * best, algbw, busbw, lat_us);
        else
            printf("all-reduce of %g MB over %d ranks: median %.3f ms, best %.3f ms (%d rounds); algbw %.2f GB/s, "
                   "busbw %.2f GB/s (median); scalar all-reduce %.1f us\n",
                   mb, N, 1e3 * per, 1e3 * best, rounds, algbw, busbw, lat_us);
    }
    return 0;
}
