/* mpirun.h - test support: start a program under mpirun (real processes on
 * this machine), signal it, and wait for it with a time limit, so a test of
 * a hang fails instead of hanging.
 *
 *     if (!nt_mpirun_path()) { printf("skipped: no MPI\n"); return 0; }
 *     nt_mpirun r;
 *     const char *args[] = {"--child", NULL};
 *     CHECK(nt_mpirun_start(&r, 2, argv[0], args, NULL) == 0, "start");
 *     static char out[1 << 16], err[1 << 16];
 *     int rc = nt_mpirun_wait(&r, 60, out, sizeof out, err, sizeof err);  // -2: timed out
 *
 * As root, mpirun needs --allow-run-as-root; --oversubscribe lets N exceed
 * the cores. Under ASan, leak checking is turned off for the ranks (Open
 * MPI keeps its allocations to exit).
 */
#ifndef NT_TEST_MPIRUN_H
#define NT_TEST_MPIRUN_H

#include <stddef.h>
#include <sys/types.h>

typedef struct nt_mpirun {
    pid_t pid;      /* mpirun, leader of its own process group */
    int out, err;   /* capture files */
    double t0;      /* start time (monotonic seconds) */
} nt_mpirun;

/* $NT_MPIEXEC (set by CMake when the build has MPI) or NULL. */
const char *nt_mpirun_path(void);

/* Starts `mpirun -np np prog args...` with `env` ("NAME=value", NULL-
 * terminated, may be NULL) added. 0, or -1 if it could not be started. */
int nt_mpirun_start(nt_mpirun *r, int np, const char *prog, const char *const *args,
                    const char *const *env);

/* Sends sig to mpirun only (as a user's kill would). */
void nt_mpirun_signal(nt_mpirun *r, int sig);

/* Waits up to timeout_s; on timeout kills the whole process group and
 * returns -2. Otherwise the exit status (128 + N for signal N). Fills
 * out/err (may be NULL) with what the ranks and mpirun printed. */
int nt_mpirun_wait(nt_mpirun *r, double timeout_s, char *out, size_t out_cap, char *err, size_t err_cap);

/* Seconds since start. */
double nt_mpirun_elapsed(const nt_mpirun *r);

#endif
