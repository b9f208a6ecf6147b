/* test_isa.c - core/isa.h: the level names parse and print, nt_isa_set caps
 * at the CPU's level, the extension queries follow the level, and NT_ISA in
 * the environment (checked in child processes of this program) picks a
 * level, is capped with a note when above the CPU's, and a bad value gives a
 * warning naming it and the CPU's best level, never a crash. */
#include <stdio.h>
#include <string.h>

#include "core/isa.h"
#include "support/check.h"
#include "support/proc.h"

// the child: prints its level
static int child(void) {
    printf("level=%s\n", nt_isa_name(nt_isa()));
    return 0;
}

static void check_env(const char *value, nt_isa_level want, const char *err_has) {
    static char out[256], err[1024];
    char env[64];
    snprintf(env, sizeof env, "NT_ISA=%s", value);
    const char *envs[] = {env, NULL};
    const char *args[] = {"--child", NULL};
    nt_proc_io io = {.env = envs, .out = out, .out_cap = sizeof out, .err = err, .err_cap = sizeof err};
    int rc = nt_proc_run("/proc/self/exe", args, &io);
    CHECK(rc == 0, "NT_ISA=%s: exit %d, stderr %s", value, rc, err);
    char line[64];
    snprintf(line, sizeof line, "level=%s\n", nt_isa_name(want));
    CHECK(strcmp(out, line) == 0, "NT_ISA=%s: printed '%s', want '%s'", value, out, line);
    if (err_has) CHECK(strstr(err, err_has) != NULL, "NT_ISA=%s: stderr '%s' lacks '%s'", value, err, err_has);
    else CHECK(err[0] == 0, "NT_ISA=%s: unexpected stderr '%s'", value, err);
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "--child")) return child();
    nt_isa_level cpu = nt_isa_cpu(), cur = nt_isa();
    printf("CPU level %s, current %s, avx512bf16 %d, amx %d\n", nt_isa_name(cpu), nt_isa_name(cur),
           nt_isa_has_avx512bf16(), nt_isa_has_amx());
    CHECK(cur <= cpu, "current level %d above the CPU's %d", cur, cpu);
    static const char *names[] = {"portable", "avx2", "avx512"};
    for (int l = 0; l < 3; l++) {
        nt_isa_level p;
        CHECK(nt_isa_parse(names[l], &p) == 0 && p == (nt_isa_level)l, "parse %s", names[l]);
        CHECK(strcmp(nt_isa_name((nt_isa_level)l), names[l]) == 0, "name of %d", l);
        nt_isa_level got = nt_isa_set((nt_isa_level)l);
        CHECK(got == ((nt_isa_level)l < cpu ? (nt_isa_level)l : cpu), "nt_isa_set(%s) gave %s", names[l],
              nt_isa_name(got));
        CHECK(nt_isa() == got, "nt_isa() after nt_isa_set");
        if (got != NT_ISA_AVX512) CHECK(!nt_isa_has_avx512bf16() && !nt_isa_has_amx(), "bf16/amx below avx512");
    }
    nt_isa_level p = NT_ISA_AVX2;
    CHECK(nt_isa_parse("AVX2", &p) != 0 && nt_isa_parse("", &p) != 0 && nt_isa_parse(NULL, &p) != 0 &&
              p == NT_ISA_AVX2, "bad names refused, *out untouched");
    nt_isa_set(cur);

    check_env("portable", NT_ISA_PORTABLE, NULL);
    check_env("avx2", cpu < NT_ISA_AVX2 ? cpu : NT_ISA_AVX2, cpu < NT_ISA_AVX2 ? "at most" : NULL);
    check_env("avx512", cpu, cpu < NT_ISA_AVX512 ? "at most" : NULL);
    check_env("sse9", cpu, "NT_ISA=\"sse9\" is not avx512, avx2 or portable");
    return nt_check_report("test_isa");
}
