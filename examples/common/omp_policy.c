/* omp_policy.c - the OpenMP wait policy of the example CLIs. */
#include "omp_policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OMP_POLICY_MARK "NT_OMP_POLICY_SET"

void ex_omp_policy(char **argv) {
    if (getenv("OMP_WAIT_POLICY")) return;
    if (setenv("OMP_WAIT_POLICY", "passive", 1) != 0 || setenv(OMP_POLICY_MARK, "1", 1) != 0) return;
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
    static char text[320];
    char pb[64], mb[8];
    const char *p = start_env("OMP_WAIT_POLICY", pb, sizeof pb), *mark = start_env(OMP_POLICY_MARK, mb, sizeof mb);
    if (p && mark) snprintf(text, sizeof text,
                            "Threads: OMP_WAIT_POLICY=%s, set by %.32s (idle OpenMP threads sleep instead "
                            "of spinning, which on a shared machine takes the cores the working threads need); set "
                            "OMP_WAIT_POLICY yourself to choose.", p, prog);
    else if (p) snprintf(text, sizeof text, "Threads: OMP_WAIT_POLICY=%.64s, from your environment (%.32s "
                                            "sets passive when it is unset).", p, prog);
    else snprintf(text, sizeof text, "Threads: OMP_WAIT_POLICY was not set when OpenMP started (the re-execution "
                                     "failed): OpenMP's default policy.");
    return text;
}
