/* test_mpi_dist.c - train/dist: the one-process world, and under a real
 * `mpirun -np 3`: scalar reductions, the bucketed non-blocking gradient
 * all-reduce (exact sums, the same bits on every rank, any bucket cut), and
 * a failing or killed rank ending the job with an error, not a hang. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support/check.h"
#include "support/mpirun.h"
#include "train/dist.h"

/* ---- inside the ranks --------------------------------------------------------------- */

/* x[i] on rank r: values whose sum over ranks is exact in float. */
static float value_at(int r, int64_t i) { return (float)((i % 1000) * 0.25 + r * 3 + 1); }

static int child_reduce(void) {
    nt_dist *d = nt_dist_world();
    int r = nt_dist_rank(d), n = nt_dist_size(d);
    CHECK(d != NULL, "launched by mpirun but no world");
    CHECK(n == 3, "size %d, expected 3", n);
    double v[3] = {r, 1.0, -r};
    CHECK(nt_dist_sum(d, v, 3) == NT_OK, "%s", nt_errmsg());
    CHECK(v[0] == 3.0 && v[1] == 3.0 && v[2] == -3.0, "sum %g %g %g", v[0], v[1], v[2]);
    double m[2] = {r, -r};
    CHECK(nt_dist_max(d, m, 2) == NT_OK, "%s", nt_errmsg());
    CHECK(m[0] == 2.0 && m[1] == 0.0, "max %g %g", m[0], m[1]);
    double b[2] = {r == 0 ? 42.0 : -1.0, r == 0 ? 0.5 : -1.0};
    CHECK(nt_dist_bcast(d, b, 2) == NT_OK, "%s", nt_errmsg());
    CHECK(b[0] == 42.0 && b[1] == 0.5, "bcast %g %g", b[0], b[1]);

    /* block sizes around the bucket size, buckets started in stages */
    const int64_t sizes[] = {1, 1023, 1024, 1025, 5000, 100000};
    for (size_t c = 0; c < sizeof sizes / sizeof *sizes; c++) {
        int64_t len = sizes[c];
        float *x = malloc((size_t)len * sizeof *x);
        for (int64_t i = 0; i < len; i++) x[i] = value_at(r, i);
        nt_dist_set_bucket(d, 1024);
        CHECK(nt_dist_allreduce_begin(d, x, len) == NT_OK, "%s", nt_errmsg());
        CHECK(nt_dist_allreduce_begin(d, x, len) == NT_ERR_STATE, "a second begin must be refused");
        for (int64_t from = len; from > 0; from -= 1500)
            CHECK(nt_dist_allreduce_ready(d, from) == NT_OK, "%s", nt_errmsg());
        CHECK(nt_dist_allreduce_end(d) == NT_OK, "%s", nt_errmsg());
        int64_t bad = -1;
        for (int64_t i = 0; i < len && bad < 0; i++) {
            float want = value_at(0, i) + value_at(1, i) + value_at(2, i);
            if (x[i] != want) bad = i;
        }
        CHECK(bad < 0, "len %lld: x[%lld] = %g, expected %g", (long long)len, (long long)bad,
              bad >= 0 ? x[bad] : 0.0, bad >= 0 ? value_at(0, bad) + value_at(1, bad) + value_at(2, bad) : 0.0);
        /* inexact sums: every rank must still hold the same bits */
        for (int64_t i = 0; i < len; i++) x[i] = 0.1f * (float)(r + 1) + 1e-7f * (float)i;
        CHECK(nt_dist_allreduce_begin(d, x, len) == NT_OK && nt_dist_allreduce_end(d) == NT_OK, "%s",
              nt_errmsg());
        double h = 0;
        for (int64_t i = 0; i < len; i++) {
            unsigned u;
            memcpy(&u, &x[i], 4);
            h = h * 0.5 + (double)(u % 65521);
        }
        double hmin[1] = {-h}, hmax[1] = {h};
        nt_dist_max(d, hmin, 1), nt_dist_max(d, hmax, 1);
        CHECK(-hmin[0] == hmax[0], "len %lld: ranks hold different sums", (long long)len);
        free(x);
    }
    nt_dist_stats st;
    nt_dist_stats_get(d, &st);
    CHECK(st.reductions == 12, "stats: %lld reductions", (long long)st.reductions);
    return nt_check_report(r == 0 ? "test_mpi_dist (ranks)" : "test_mpi_dist (rank)");
}

/* Rank 1 fails (returns 3 through nt_dist_finalize) or dies (SIGKILL) while
 * the others block in a reduction. */
static int child_fail(int killed) {
    nt_dist *d = nt_dist_world();
    double v[1] = {1};
    nt_dist_sum(d, v, 1);
    if (nt_dist_rank(d) == 1) {
        fprintf(stderr, "rank 1: %s\n", killed ? "dying" : "failing on purpose");
        if (killed) raise(SIGKILL);
        return 3;
    }
    nt_status s = nt_dist_sum(d, v, 1); /* never completes */
    fprintf(stderr, "rank %d: the reduction returned %s: %s\n", nt_dist_rank(d), nt_status_name(s), nt_errmsg());
    return s == NT_OK ? 0 : 1;
}

/* ---- the parent ------------------------------------------------------------------------ */

static void test_one_process(void) {
    CHECK(nt_dist_world() == NULL, "no world without mpirun");
    CHECK(nt_dist_rank(NULL) == 0 && nt_dist_size(NULL) == 1 && nt_dist_is_root(NULL), "rank 0 of 1");
    double v[2] = {1.5, -2};
    CHECK(nt_dist_sum(NULL, v, 2) == NT_OK && v[0] == 1.5 && v[1] == -2, "sum of one rank");
    float x[3] = {1, 2, 3};
    CHECK(nt_dist_allreduce_begin(NULL, x, 3) == NT_OK && nt_dist_allreduce_ready(NULL, 0) == NT_OK &&
              nt_dist_allreduce_end(NULL) == NT_OK && x[2] == 3,
          "all-reduce of one rank is a no-op");
    const char *info = nt_dist_build_info();
    CHECK(strncmp(info, "MPI: ", 5) == 0, "build info '%s'", info);
    CHECK(nt_dist_built() == (strstr(info, "not built") == NULL), "build info '%s' vs built %d", info,
          nt_dist_built());
}

static void test_ranks(const char *self) {
    static char out[1 << 16], err[1 << 16];
    nt_mpirun r;
    const char *args[] = {"--child-reduce", NULL};
    CHECK(nt_mpirun_start(&r, 3, self, args, NULL) == 0, "cannot start mpirun");
    int rc = nt_mpirun_wait(&r, 120, out, sizeof out, err, sizeof err);
    CHECK(rc == 0, "3 ranks: exit %d\n--- stdout\n%s--- stderr\n%s", rc, out, err);
}

static void test_failure(const char *self, int killed) {
    static char out[1 << 16], err[1 << 16];
    nt_mpirun r;
    const char *args[] = {killed ? "--child-killed" : "--child-fail", NULL};
    CHECK(nt_mpirun_start(&r, 3, self, args, NULL) == 0, "cannot start mpirun");
    int rc = nt_mpirun_wait(&r, 60, out, sizeof out, err, sizeof err);
    double t = nt_mpirun_elapsed(&r);
    CHECK(rc != -2, "%s rank: the job hung (killed after 60 s)\n%s", killed ? "a killed" : "a failing", err);
    CHECK(rc != 0, "%s rank: the job exited 0\n%s", killed ? "a killed" : "a failing", err);
    CHECK(strstr(err, killed ? "rank 1: dying" : "rank 1: failing on purpose") != NULL, "stderr:\n%s", err);
    printf("%s rank: job ended with status %d after %.1f s\n", killed ? "killed" : "failing", rc, t);
}

int main(int argc, char **argv) {
    /* a rank that skips nt_dist_init knows it (the trainer refuses it) */
    if (argc > 1 && strcmp(argv[1], "--child-noinit") == 0) return nt_dist_uninitialised_rank() ? 0 : 1;
    if (nt_dist_init(&argc, &argv) != NT_OK) {
        fprintf(stderr, "%s\n", nt_errmsg());
        return 1;
    }
    if (argc > 1 && strcmp(argv[1], "--child-reduce") == 0) return nt_dist_finalize(child_reduce());
    if (argc > 1 && strcmp(argv[1], "--child-fail") == 0) return nt_dist_finalize(child_fail(0));
    if (argc > 1 && strcmp(argv[1], "--child-killed") == 0) return nt_dist_finalize(child_fail(1));
    test_one_process();
    if (!nt_dist_built() || !nt_mpirun_path()) {
        printf("test_mpi_dist: skipped the mpirun cases: %s\n",
               nt_dist_built() ? "NT_MPIEXEC is not set (run through ctest)" : nt_dist_build_info());
        return nt_check_report("test_mpi_dist");
    }
    test_ranks(argv[0]);
    static char out[1 << 12], err[1 << 12];
    nt_mpirun r;
    CHECK(nt_dist_uninitialised_rank() == 0, "a plain start is not an uninitialised rank");
    CHECK(nt_mpirun_start(&r, 2, argv[0], (const char *[]){"--child-noinit", NULL}, NULL) == 0, "mpirun");
    int rc = nt_mpirun_wait(&r, 60, out, sizeof out, err, sizeof err);
    CHECK(rc == 0, "ranks without nt_dist_init must see nt_dist_uninitialised_rank(): exit %d\n%s", rc, err);
    test_failure(argv[0], 0);
    test_failure(argv[0], 1);
    return nt_check_report("test_mpi_dist");
}
