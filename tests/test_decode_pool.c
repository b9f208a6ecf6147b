/* test_decode_pool.c - the decoding steps' worker team (core/decode_pool.h):
 *  - every run does all its work exactly once, whichever threads take part,
 *    and no worker is still inside the job when the run returns;
 *  - runs after the workers went to sleep (longer than the spin) still run;
 *  - T < 2 and a run from inside a running job are refused (-1), not run;
 *  - under OMP_WAIT_POLICY=passive the workers do not spin (a child process
 *    with that environment), and runs are still complete. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/decode_pool.h"
#include "support/check.h"

enum { ITEMS = 64 };

typedef struct job {
    int next;           /* the next item to take (any thread takes any item) */
    int done[ITEMS];    /* times each item ran */
    int inside;         /* threads inside fn now */
    int ran_by[8];      /* runs of fn per t */
    int nested;         /* what a nested call returned */
} job;

static void work(void *arg, int t, int T) {
    job *j = arg;
    __atomic_add_fetch(&j->inside, 1, __ATOMIC_SEQ_CST);
    j->ran_by[t]++;
    (void)T;
    if (t == 0) j->nested = nt_decode_pool_run(work, arg, 2);
    for (int k; (k = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED)) < ITEMS;)
        __atomic_add_fetch(&j->done[k], 1, __ATOMIC_RELAXED);
    /* stay a little, so that a late worker is still here when it matters */
    for (volatile int spin = 0; spin < 200; spin++) {}
    __atomic_sub_fetch(&j->inside, 1, __ATOMIC_SEQ_CST);
}

static void run_many(int T, int runs, int sleep_us) {
    int workers_ran = 0;
    for (int r = 0; r < runs; r++) {
        static job j;
        memset(&j, 0, sizeof j);
        int rc = nt_decode_pool_run(work, &j, T);
        CHECK(rc == 0, "T %d run %d: refused (%d)", T, r, rc);
        if (rc != 0) return;
        CHECK(__atomic_load_n(&j.inside, __ATOMIC_SEQ_CST) == 0, "T %d run %d: %d threads still in the job", T, r,
              j.inside);
        CHECK(j.nested == -1, "T %d run %d: a nested run was not refused", T, r);
        CHECK(j.ran_by[0] == 1, "T %d run %d: the caller ran its part %d times", T, r, j.ran_by[0]);
        for (int t = 1; t < 8; t++) {
            CHECK(j.ran_by[t] <= 1, "T %d run %d: worker %d ran %d times", T, r, t, j.ran_by[t]);
            CHECK(t < T || j.ran_by[t] == 0, "T %d run %d: worker %d of a team of %d ran", T, r, t, T);
            workers_ran += j.ran_by[t];
        }
        int bad = 0;
        for (int k = 0; k < ITEMS; k++) bad += j.done[k] != 1;
        CHECK(bad == 0, "T %d run %d: %d items not run exactly once", T, r, bad);
        if (sleep_us) nanosleep(&(struct timespec){0, (long)sleep_us * 1000}, NULL);
    }
    printf("T %d, %d runs, pause %d us: workers took part %d times\n", T, runs, sleep_us, workers_ran);
}

int main(void) {
    const char *off = getenv("NT_DECODE_POOL");
    if (off && !strcmp(off, "0")) {
        printf("test_decode_pool: NT_DECODE_POOL=0, the pool is off: skipped\n");
        return 0;
    }
    /* first, before this process reads its environment: a passive child */
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
        CHECK(nt_decode_pool_spin_us() == 0, "OMP_WAIT_POLICY=PASSIVE: spin %d us", nt_decode_pool_spin_us());
        run_many(2, 200, 0);
        run_many(3, 20, 50);
        _exit(nt_check_report("test_decode_pool (passive child)"));
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "the passive child failed (status %d)", status);
    const char *policy = getenv("OMP_WAIT_POLICY");
    if (!policy || strcasecmp(policy, "passive"))
        CHECK(nt_decode_pool_spin_us() == NT_DECODE_POOL_SPIN_US, "spin %d us, expected %d",
              nt_decode_pool_spin_us(), NT_DECODE_POOL_SPIN_US);
    static job j;
    CHECK(nt_decode_pool_run(work, &j, 1) == -1 && j.ran_by[0] == 0, "T 1 was run");
    run_many(2, 3000, 0);
    run_many(3, 1000, 0);
    run_many(2, 20, 3 * NT_DECODE_POOL_SPIN_US); /* workers asleep before each run */
    run_many(4, 20, 3 * NT_DECODE_POOL_SPIN_US);
    run_many(2, 1000, 0);
    return nt_check_report("test_decode_pool");
}
