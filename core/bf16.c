/* bf16.c - float32 <-> bfloat16 conversion on three paths (AVX512_BF16, AVX-512F, portable), bitwise equal.
 *
 * Rounding (core/bf16.h): add 0x7FFF plus the lowest kept bit to the float's
 * bits and keep the upper 16 (round to nearest, ties to even, carries
 * reaching the exponent); a NaN keeps its upper 16 bits with the quiet bit
 * set. The AVX-512F path does exactly this in 32-bit lanes. The AVX512_BF16
 * path uses vcvtne2ps2bf16, which gives the same bits except that it reads
 * float32 subnormals as zero: a block of 32 inputs holding any subnormal is
 * converted by the AVX-512F code instead (subnormals are rare, the test is
 * one compare per 16 floats).
 */
#include "core/bf16.h"

#include "core/isa.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

#if defined(__GNUC__) && defined(__x86_64__)
#define NT_BF16_X86 1
#include <immintrin.h>
#define AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq")))
#define AVX512BF16 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx512bf16")))
#else
#define NT_BF16_X86 0
#endif

/* ---- which path ------------------------------------------------------------------ */

static int isa_cpu = -1;

nt_bf16_isa nt_bf16_isa_cpu(void) {
    int v = __atomic_load_n(&isa_cpu, __ATOMIC_RELAXED);
    if (v >= 0) return (nt_bf16_isa)v;
    v = NT_BF16_PORTABLE;
#if NT_BF16_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq")) {
        v = NT_BF16_AVX512;
        if (__builtin_cpu_supports("avx512bf16")) v = NT_BF16_AVX512BF16;
    }
#endif
    __atomic_store_n(&isa_cpu, v, __ATOMIC_RELAXED); /* racing first calls agree */
    return (nt_bf16_isa)v;
}

/* The run-time ISA dispatch (core/isa.h: NT_ISA, nt_isa_set) caps the level:
 * bf16 has nothing between portable and AVX-512, so any level below avx512
 * means portable here. */
nt_bf16_isa nt_bf16_isa_selected(void) {
    return nt_isa() == NT_ISA_AVX512 ? nt_bf16_isa_cpu() : NT_BF16_PORTABLE;
}

const char *nt_bf16_isa_name(nt_bf16_isa isa) {
    switch (isa) {
    case NT_BF16_AVX512BF16: return "avx512bf16";
    case NT_BF16_AVX512: return "avx512";
    default: return "portable";
    }
}

/* ---- portable ------------------------------------------------------------------- */

static void from_f32_portable(nt_bf16 *dst, const float *src, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = nt_bf16_from_f32(src[i]);
}

static void to_f32_portable(float *dst, const nt_bf16 *src, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = nt_bf16_to_f32(src[i]);
}

#if NT_BF16_X86
/* ---- AVX-512F ----------------------------------------------------------------------- */

static inline __mmask16 mask16(int64_t w) { return w >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << w) - 1); }

// bf16 of each lane's float (bits u) in the lane's low 16 bits
static inline __attribute__((always_inline)) AVX512 __m512i round_lanes(__m512i u) {
    const __m512i one = _mm512_set1_epi32(1), bias = _mm512_set1_epi32(0x7FFF);
    __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), one);
    __m512i r = _mm512_add_epi32(u, _mm512_add_epi32(bias, lsb));
    __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, _mm512_set1_epi32(0x7FFFFFFF)),
                                            _mm512_set1_epi32(0x7F800000));
    r = _mm512_mask_or_epi32(r, nan, u, _mm512_set1_epi32(0x00400000));
    return _mm512_srli_epi32(r, 16);
}

AVX512 static void from_f32_avx512(nt_bf16 *dst, const float *src, int64_t n) {
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = mask16(n - i);
        __m512i u = _mm512_maskz_loadu_epi32(m, src + i);
        _mm512_mask_cvtepi32_storeu_epi16(dst + i, m, round_lanes(u));
    }
}

AVX512 static void to_f32_avx512(float *dst, const nt_bf16 *src, int64_t n) {
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = mask16(n - i);
        __m512i h = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, src + i));
        _mm512_mask_storeu_epi32(dst + i, m, _mm512_slli_epi32(h, 16));
    }
}

/* ---- AVX512_BF16 ------------------------------------------------------------------- */

// lanes of u holding a float32 subnormal (exponent 0, fraction != 0)
static inline __attribute__((always_inline)) AVX512 __mmask16 subnormal_lanes(__m512i u) {
    __m512i mag = _mm512_and_si512(u, _mm512_set1_epi32(0x7FFFFFFF));
    return _mm512_cmplt_epu32_mask(_mm512_sub_epi32(mag, _mm512_set1_epi32(1)), _mm512_set1_epi32(0x007FFFFF));
}

AVX512BF16 static void from_f32_avx512bf16(nt_bf16 *dst, const float *src, int64_t n) {
    for (int64_t i = 0; i < n; i += 32) {
        __mmask16 m0 = mask16(n - i), m1 = n - i > 16 ? mask16(n - i - 16) : 0;
        __m512i u0 = _mm512_maskz_loadu_epi32(m0, src + i), u1 = _mm512_maskz_loadu_epi32(m1, src + i + 16);
        if (subnormal_lanes(u0) | subnormal_lanes(u1)) {
            _mm512_mask_cvtepi32_storeu_epi16(dst + i, m0, round_lanes(u0));
            _mm512_mask_cvtepi32_storeu_epi16(dst + i + 16, m1, round_lanes(u1));
            continue;
        }
        __m512bh h = _mm512_cvtne2ps_pbh(_mm512_castsi512_ps(u1), _mm512_castsi512_ps(u0));
        __mmask32 m = (__mmask32)m0 | ((__mmask32)m1 << 16);
        _mm512_mask_storeu_epi16(dst + i, m, (__m512i)h);
    }
}
#endif

/* ---- dispatch ------------------------------------------------------------------- */

static int isa_ok(nt_bf16_isa isa) { return (int)isa >= 0 && isa <= nt_bf16_isa_cpu(); }

nt_status nt_bf16_from_f32_n_isa(nt_bf16_isa isa, nt_bf16 *dst, const float *src, int64_t n) {
    if (!isa_ok(isa))
        return nt_error(NT_ERR_ARG, "nt_bf16_from_f32_n_isa: this CPU has no %s path (it has up to %s)",
                        nt_bf16_isa_name(isa), nt_bf16_isa_name(nt_bf16_isa_cpu()));
    if (n <= 0) return NT_OK;
    if (!dst || !src) return nt_error(NT_ERR_ARG, "nt_bf16_from_f32_n_isa: dst or src is NULL");
#if NT_BF16_X86
    if (isa == NT_BF16_AVX512BF16) from_f32_avx512bf16(dst, src, n);
    else if (isa == NT_BF16_AVX512) from_f32_avx512(dst, src, n);
    else
#endif
        from_f32_portable(dst, src, n);
    return NT_OK;
}

nt_status nt_bf16_to_f32_n_isa(nt_bf16_isa isa, float *dst, const nt_bf16 *src, int64_t n) {
    if (!isa_ok(isa))
        return nt_error(NT_ERR_ARG, "nt_bf16_to_f32_n_isa: this CPU has no %s path (it has up to %s)",
                        nt_bf16_isa_name(isa), nt_bf16_isa_name(nt_bf16_isa_cpu()));
    if (n <= 0) return NT_OK;
    if (!dst || !src) return nt_error(NT_ERR_ARG, "nt_bf16_to_f32_n_isa: dst or src is NULL");
#if NT_BF16_X86
    if (isa >= NT_BF16_AVX512) to_f32_avx512(dst, src, n);
    else
#endif
        to_f32_portable(dst, src, n);
    return NT_OK;
}

void nt_bf16_from_f32_n(nt_bf16 *dst, const float *src, int64_t n) {
    if (n > 0) (void)nt_bf16_from_f32_n_isa(nt_bf16_isa_selected(), dst, src, n);
}

void nt_bf16_to_f32_n(float *dst, const nt_bf16 *src, int64_t n) {
    if (n > 0) (void)nt_bf16_to_f32_n_isa(nt_bf16_isa_selected(), dst, src, n);
}

/* ---- precision names, parameter copies ------------------------------------------------- */

nt_status nt_precision_parse(const char *s, nt_precision *prec) {
    if (s && (!strcmp(s, "fp32") || !strcmp(s, "f32"))) *prec = NT_PREC_F32;
    else if (s && !strcmp(s, "bf16")) *prec = NT_PREC_BF16;
    else return nt_error(NT_ERR_ARG, "precision: expected fp32 or bf16, got '%s'", s ? s : "(null)");
    return NT_OK;
}

const char *nt_precision_name(nt_precision prec) { return prec == NT_PREC_BF16 ? "bf16" : "fp32"; }

void nt_params_touch(nt_params *p) {
    if (p) p->version++;
}

#define CONVERT_CHUNK 16384

const nt_bf16 *nt_params_bf16_of(const nt_tensor *t) {
    nt_params *p = t ? t->owner : NULL;
    if (!p || !p->values) return NULL;
    if (!p->values_bf16) {
        p->values_bf16 = nt_malloc_aligned((size_t)(p->total ? p->total : 16) * sizeof(nt_bf16));
        if (!p->values_bf16) return NULL;
        p->bf16_version = p->version - 1;
    }
    if (p->bf16_version != p->version) {
        int64_t n = p->total, chunks = (n + CONVERT_CHUNK - 1) / CONVERT_CHUNK;
        nt_bf16 *dst = p->values_bf16;
        const float *src = p->values;
#pragma omp parallel for schedule(static) if (n > 4 * CONVERT_CHUNK && omp_get_level() == 0)
        for (int64_t c = 0; c < chunks; c++) {
            int64_t i0 = c * CONVERT_CHUNK, m = n - i0 < CONVERT_CHUNK ? n - i0 : CONVERT_CHUNK;
            nt_bf16_from_f32_n(dst + i0, src + i0, m);
        }
        p->bf16_version = p->version;
    }
    return p->values_bf16 + ((const float *)t->data - p->values);
}
