/* omp_policy.c - the OpenMP wait policy of the example CLIs. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "omp_policy.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define OMP_POLICY_MARK "NT_OMP_POLICY_SET"

/* Runnable tasks on the machine now (/proc/stat's procs_running, which
 * counts this process), or -1 if unknown. */
static int procs_running(void) {
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return -1;
    char line[256];
    int n = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "procs_running %d", &n) == 1) break;
    fclose(f);
    return n;
}

// the thread count the command will use: --threads N / --threads=N, else
// OMP_NUM_THREADS, else 0 (OpenMP's default: one per CPU)
static int threads_wanted(char **argv) {
    for (int i = 1; argv[i]; i++) {
        if (!strcmp(argv[i], "--threads") && argv[i + 1]) return atoi(argv[i + 1]);
        if (!strncmp(argv[i], "--threads=", 10)) return atoi(argv[i] + 10);
    }
    const char *e = getenv("OMP_NUM_THREADS");
    return e ? atoi(e) : 0;
}

int ex_omp_policy_busy(int others, int threads, int cpus) {
    if (others < 0 || cpus < 1) return 1; /* unknown: the safe choice */
    if (threads < 1 || threads > cpus) threads = cpus;
    return others + threads > cpus;
}

void ex_omp_policy(char **argv) {
    if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT")) return;
    cpu_set_t set;
    int cpus = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : (int)sysconf(_SC_NPROCESSORS_ONLN);
    /* the fewest runnable tasks over three looks 2 ms apart (a passing
     * short-lived process is not load), this one not counted */
    int others = -1;
    for (int i = 0; i < 3; i++) {
        int r = procs_running();
        if (r >= 0 && (others < 0 || r - 1 < others)) others = r - 1;
        if (i < 2) nanosleep(&(struct timespec){0, 2000000}, NULL);
    }
    char mark[64];
    snprintf(mark, sizeof mark, "%d,%d", others, cpus);
    int ok = ex_omp_policy_busy(others, threads_wanted(argv), cpus)
                 ? setenv("OMP_WAIT_POLICY", "passive", 1) == 0
                 : setenv("GOMP_SPINCOUNT", EX_OMP_SPINCOUNT, 1) == 0;
    if (!ok || setenv(OMP_POLICY_MARK, mark, 1) != 0) return;
    execv("/proc/self/exe", argv); /* on failure, go on with the default policy */
    unsetenv(OMP_POLICY_MARK);
}

/* The value of `name` in the environment this process started with (what
 * libgomp read when it was loaded), or NULL: /proc/self/environ, not getenv,
 * which a setenv without the re-exec would fool. */
static const char *start_env(const char *name, char *buf, size_t cap) {
    FILE *f = fopen("/proc/self/environ", "rb");
    if (!f) return getenv(name);
    static char env[1 << 16];
    size_t n = fread(env, 1, sizeof env - 1, f);
    fclose(f);
    env[n] = 0;
    size_t len = strlen(name);
    for (size_t i = 0; i < n; i += strlen(env + i) + 1)
        if (strncmp(env + i, name, len) == 0 && env[i + len] == '=') {
            snprintf(buf, cap, "%s", env + i + len + 1);
            return buf;
        }
    return NULL;
}

const char *ex_omp_policy_help(const char *prog) {
    static char text[640];
    char pb[64], sb[64], mb[64];
    const char *p = start_env("OMP_WAIT_POLICY", pb, sizeof pb), *spin = start_env("GOMP_SPINCOUNT", sb, sizeof sb),
               *mark = start_env(OMP_POLICY_MARK, mb, sizeof mb);
    int others = -1, cpus = 0;
    if (mark && sscanf(mark, "%d,%d", &others, &cpus) != 2) mark = NULL;
    if (mark && p)
        snprintf(text, sizeof text,
                 "Threads: OMP_WAIT_POLICY=%s, set by %.32s: the machine was busy at start-up (%d other "
                 "runnable tasks, %d CPUs), so idle OpenMP threads sleep at once instead of spinning, which "
                 "would take the cores the working threads need. On a quiet machine it sets GOMP_SPINCOUNT="
                 EX_OMP_SPINCOUNT " instead (spin about a millisecond, then sleep). Set OMP_WAIT_POLICY or "
                 "GOMP_SPINCOUNT yourself to choose.", p, prog, others, cpus);
    else if (mark && spin)
        snprintf(text, sizeof text,
                 "Threads: GOMP_SPINCOUNT=%s, set by %.32s: the machine was quiet at start-up (%d other "
                 "runnable tasks, %d CPUs), so idle OpenMP threads spin about a millisecond before they sleep "
                 "(a step starts many short parallel regions; waking sleeping threads for each costs more). "
                 "On a busy machine it sets OMP_WAIT_POLICY=passive instead. Set OMP_WAIT_POLICY or "
                 "GOMP_SPINCOUNT yourself to choose.", spin, prog, others, cpus);
    else if (p || spin)
        snprintf(text, sizeof text, "Threads: %s%.32s%s%s%.32s, from your environment (%.32s chooses "
                 "OMP_WAIT_POLICY=passive on a busy machine, GOMP_SPINCOUNT=" EX_OMP_SPINCOUNT
                 " on a quiet one, when neither is set).", p ? "OMP_WAIT_POLICY=" : "", p ? p : "",
                 p && spin ? ", " : "", spin ? "GOMP_SPINCOUNT=" : "", spin ? spin : "", prog);
    else snprintf(text, sizeof text, "Threads: neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT was set when OpenMP "
                                     "started (the re-execution failed): OpenMP's default policy.");
    return text;
}
