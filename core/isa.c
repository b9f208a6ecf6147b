/* isa.c - the run-time choice of instruction set (see isa.h). */
#include "core/isa.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int nt_isa_level_ = -1;
static int cpu_level = -1;
static int cpu_bf16, cpu_amx;

static void cpu_detect(void) {
    if (__atomic_load_n(&cpu_level, __ATOMIC_ACQUIRE) >= 0) return;
    int l = NT_ISA_PORTABLE, bf16 = 0, amx = 0;
#if NT_ISA_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) l = NT_ISA_AVX2;
    if (l == NT_ISA_AVX2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq"))
        l = NT_ISA_AVX512;
#if __GNUC__ >= 12
    bf16 = l == NT_ISA_AVX512 && __builtin_cpu_supports("avx512bf16");
    amx = l == NT_ISA_AVX512 && __builtin_cpu_supports("amx-tile") && __builtin_cpu_supports("amx-bf16");
#endif
#endif
    cpu_bf16 = bf16;
    cpu_amx = amx;
    __atomic_store_n(&cpu_level, l, __ATOMIC_RELEASE); /* racing callers compute the same */
}

nt_isa_level nt_isa_cpu(void) {
    cpu_detect();
    return (nt_isa_level)cpu_level;
}

const char *nt_isa_name(nt_isa_level level) {
    switch (level) {
    case NT_ISA_AVX512: return "avx512";
    case NT_ISA_AVX2: return "avx2";
    default: return "portable";
    }
}

int nt_isa_parse(const char *s, nt_isa_level *out) {
    static const nt_isa_level all[] = {NT_ISA_AVX512, NT_ISA_AVX2, NT_ISA_PORTABLE};
    for (int i = 0; s && i < 3; i++)
        if (!strcmp(s, nt_isa_name(all[i]))) {
            *out = all[i];
            return 0;
        }
    return -1;
}

int nt_isa_init_(void) {
    static int noted;
    int cpu = nt_isa_cpu(), l = cpu;
    const char *env = getenv("NT_ISA");
    if (env && *env) {
        nt_isa_level want;
        int first = !__atomic_exchange_n(&noted, 1, __ATOMIC_RELAXED);
        if (nt_isa_parse(env, &want) != 0) {
            if (first)
                fprintf(stderr, "nextok: warning: NT_ISA=\"%s\" is not avx512, avx2 or portable; using %s\n", env,
                        nt_isa_name((nt_isa_level)cpu));
        } else if ((int)want > cpu) {
            if (first)
                fprintf(stderr, "nextok: note: NT_ISA=%s but this CPU supports at most %s; using %s\n", env,
                        nt_isa_name((nt_isa_level)cpu), nt_isa_name((nt_isa_level)cpu));
        } else {
            l = want;
        }
    }
    int expect = -1;
    __atomic_compare_exchange_n(&nt_isa_level_, &expect, l, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
    return __atomic_load_n(&nt_isa_level_, __ATOMIC_RELAXED);
}

nt_isa_level nt_isa_set(nt_isa_level level) {
    int cpu = nt_isa_cpu();
    int l = (int)level < 0 ? 0 : (int)level > cpu ? cpu : (int)level;
    __atomic_store_n(&nt_isa_level_, l, __ATOMIC_RELAXED);
    return (nt_isa_level)l;
}

int nt_isa_has_avx512bf16(void) {
    cpu_detect();
    return cpu_bf16 && nt_isa() == NT_ISA_AVX512;
}

int nt_isa_has_amx(void) {
    cpu_detect();
    return cpu_amx && nt_isa() == NT_ISA_AVX512;
}
