/* test_omp_policy.c - the CLIs' OpenMP wait-policy choice
 * (examples/common/omp_policy.h): passive when the runnable tasks plus the
 * command's threads exceed the CPUs, a bounded spin otherwise; and the real
 * nextok-lm --help names what it chose, each policy and its reason. */
#define _GNU_SOURCE /* before any header: sched_getaffinity in omp_policy.c */
#include <stdlib.h>
#include <string.h>

#include "../examples/common/omp_policy.c"
#include "support/check.h"
#include "support/proc.h"

int main(void) {
    static const struct { int others, threads, cpus, busy; } cases[] = {
        {0, 2, 2, 0},  {1, 2, 2, 1},  {0, 0, 2, 0}, /* threads 0: one per CPU */
        {1, 0, 2, 1},  {-1, 2, 2, 1},               /* unknown load: passive */
        {2, 2, 8, 0},  {6, 2, 8, 0},  {7, 2, 8, 1},
        {0, 16, 8, 0}, {1, 16, 8, 1},               /* more threads than CPUs: capped */
        {0, 1, 0, 1},                               /* no CPU count: passive */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int got = ex_omp_policy_busy(cases[i].others, cases[i].threads, cases[i].cpus);
        CHECK(got == cases[i].busy, "busy(others %d, threads %d, cpus %d) = %d, expected %d", cases[i].others,
              cases[i].threads, cases[i].cpus, got, cases[i].busy);
    }

    const char *dir = getenv("NT_BIN");
    if (dir) {
        char bin[4096];
        snprintf(bin, sizeof bin, "%s/nextok-lm", dir);
        static char out[1 << 16], err[1 << 14];
        const char *args[] = {"train", "--help", NULL};
        unsetenv("OMP_WAIT_POLICY");
        unsetenv("GOMP_SPINCOUNT");
        nt_proc_io io = {.out = out, .out_cap = sizeof out, .err = err, .err_cap = sizeof err};
        int rc = nt_proc_run(bin, args, &io);
        CHECK(rc == 0, "nextok-lm train --help: exit %d", rc);
        CHECK(strstr(out, "OMP_WAIT_POLICY=passive, set by nextok-lm: the machine was busy") ||
                  strstr(out, "GOMP_SPINCOUNT=" EX_OMP_SPINCOUNT ", set by nextok-lm: the machine was quiet"),
              "train --help names neither choice: %s", out);
        /* the user's choice wins and is named */
        setenv("GOMP_SPINCOUNT", "1234", 1);
        io = (nt_proc_io){.out = out, .out_cap = sizeof out, .err = err, .err_cap = sizeof err};
        rc = nt_proc_run(bin, args, &io);
        CHECK(rc == 0 && strstr(out, "Threads: GOMP_SPINCOUNT=1234, from your environment"),
              "GOMP_SPINCOUNT=1234: %s", out);
        unsetenv("GOMP_SPINCOUNT");
    }
    return nt_check_report("test_omp_policy");
}
