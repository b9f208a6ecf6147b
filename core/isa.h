/* isa.h - which instruction set the kernels use, decided once per process.
 *
 *     switch (nt_isa()) {             // in a kernel's entry point
 *     case NT_ISA_AVX512: return k_avx512(...);
 *     case NT_ISA_AVX2:   return k_avx2(...);
 *     default:            return k_portable(...);
 *     }
 *
 * The library is compiled for baseline x86-64; the fast kernels are functions
 * with __attribute__((target(NT_TARGET_AVX512))) or (NT_TARGET_AVX2), called
 * only when nt_isa() says the CPU has them. The level is the best the CPU
 * supports (checked with __builtin_cpu_supports, which includes the OS's
 * support for the registers), capped by the environment variable
 *   NT_ISA=avx512 | avx2 | portable
 * read at the first call. A level above the CPU's is capped to the CPU's
 * (a note on stderr); any other value is a warning and the CPU's best.
 *
 * Levels:
 *   NT_ISA_AVX512  AVX-512 F, BW, VL, DQ and FMA (Skylake-X, Zen 4 and later)
 *   NT_ISA_AVX2    AVX2 and FMA (Haswell, Zen 1 and later)
 *   NT_ISA_PORTABLE plain C loops (compiled for the build's baseline)
 *
 * What each kernel promises across levels is stated in its header; in short:
 * vecmath's reductions and the argmax are bitwise the same at every level;
 * nt_sgemm, the per-head attention products, nt_attention_row and the few-row
 * linear kernels are bitwise the same at AVX-512 and AVX2 (same FMA chains,
 * same lane order), and within rounding of them on the portable level
 * (OpenBLAS, no FMA).
 */
#ifndef NT_ISA_H
#define NT_ISA_H

typedef enum nt_isa_level { NT_ISA_PORTABLE = 0, NT_ISA_AVX2 = 1, NT_ISA_AVX512 = 2 } nt_isa_level;

#define NT_TARGET_AVX512 "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,f16c,bmi,bmi2"
#define NT_TARGET_AVX2 "avx2,fma,f16c,bmi,bmi2"

#if defined(__GNUC__) && defined(__x86_64__)
#define NT_ISA_X86 1
#define NT_AVX512 __attribute__((target(NT_TARGET_AVX512)))
#define NT_AVX2 __attribute__((target(NT_TARGET_AVX2)))
#else
#define NT_ISA_X86 0
#endif

/* Internal: the current level, or -1 before the first decision. */
extern int nt_isa_level_;
int nt_isa_init_(void);

/* The level the kernels use now. */
static inline nt_isa_level nt_isa(void) {
    int l = __atomic_load_n(&nt_isa_level_, __ATOMIC_RELAXED);
    return (nt_isa_level)(l >= 0 ? l : nt_isa_init_());
}

/* The best level this CPU supports (NT_ISA not applied). */
nt_isa_level nt_isa_cpu(void);

/* Tests and benchmarks: use `level`, capped at nt_isa_cpu(); returns the
 * level now in use. Not thread-safe against kernels running at that moment:
 * call it between runs. */
nt_isa_level nt_isa_set(nt_isa_level level);

/* "avx512", "avx2" or "portable". */
const char *nt_isa_name(nt_isa_level level);

/* Parses "avx512", "avx2", "portable": 0 and *out set, or -1. */
int nt_isa_parse(const char *s, nt_isa_level *out);

/* Extensions beyond the levels, for kernels that plug into the dispatch
 * (bf16 GEMM): non-zero when the CPU has them AND the current level is
 * AVX-512 (NT_ISA=avx2 turns them off too). */
int nt_isa_has_avx512bf16(void);
int nt_isa_has_amx(void); /* AMX tiles with BF16 (amx-tile, amx-bf16) */

#endif
