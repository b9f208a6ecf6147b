/* bf16.h - bfloat16 numbers: conversion from and to float32, and which bf16 hardware this CPU has.
 *
 *     nt_bf16 w[4];
 *     nt_bf16_from_f32_n(w, (float[]){1.0f, 0.1f, -3.5f, NAN}, 4);  // round to nearest even
 *     float x = nt_bf16_to_f32(w[1]);                                 // 0.10009765625
 *
 * bfloat16 is the upper half of a float32: sign, the same 8 exponent bits,
 * 7 fraction bits. float32 -> bf16 rounds to nearest, ties to even, on the
 * 16 dropped bits, so:
 *   - finite values round correctly; those beyond the largest bf16
 *     (0x1.FEp127) by at least half an ulp become +-Inf; +-0 stays +-0;
 *   - float32 subnormals become bf16 subnormals (rounded the same way, the
 *     largest may round up to the smallest normal, 0x1p-126): nothing is
 *     flushed to zero. The hardware instructions (vcvtneps2bf16) flush
 *     subnormal inputs to zero; the vector paths here correct that, so every
 *     path gives the same bits;
 *   - +-Inf stays +-Inf;
 *   - a NaN stays a NaN of the same sign: its upper 16 bits with the quiet
 *     bit (0x0040) set (a signalling NaN becomes quiet, the upper payload bits
 *     are kept; the dropped ones are lost). This is what vcvtneps2bf16 does;
 *     PyTorch's c10::BFloat16 instead returns the canonical 0x7FC0.
 * bf16 -> float32 is exact (the 16 bits become the upper half).
 *
 * The array conversions pick, once per process, the best of three paths
 * that give bitwise the same results: AVX512_BF16 (vcvtne2ps2bf16), AVX-512F
 * integer emulation, portable C. The environment variable NT_ISA caps the
 * choice (read once): "portable" or "avx2" use the portable path, "avx512"
 * (or unset) allows everything the CPU has. The same capped level selects
 * the bf16 GEMM kernel (core/gemm_bf16.h).
 */
#ifndef NT_BF16_H
#define NT_BF16_H

#include <stdint.h>
#include <string.h>

#include "core/status.h"
#include "core/tensor.h"

typedef uint16_t nt_bf16;

/* The bf16 hardware levels, lowest first. A level implies the ones below. */
typedef enum nt_bf16_isa {
    NT_BF16_PORTABLE = 0,   /* plain C */
    NT_BF16_AVX512 = 1,     /* AVX-512F/BW/VL/DQ: bf16 emulated with integer ops */
    NT_BF16_AVX512BF16 = 2, /* AVX512_BF16: vcvtne2ps2bf16, vdpbf16ps (Zen 4, Cooper Lake+) */
} nt_bf16_isa;

/* float32 -> bf16, round to nearest even (see above). The scalar reference
 * the vector paths are tested against. */
static inline nt_bf16 nt_bf16_from_f32(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (nt_bf16)((u >> 16) | 0x0040u); /* NaN: quiet */
    u += 0x7FFFu + ((u >> 16) & 1u); /* carries into the exponent when rounding up */
    return (nt_bf16)(u >> 16);
}

/* bf16 -> float32, exact. */
static inline float nt_bf16_to_f32(nt_bf16 h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* float32 rounded to bf16 and back: the value a bf16 product reads. */
static inline float nt_bf16_round(float f) { return nt_bf16_to_f32(nt_bf16_from_f32(f)); }

/* dst[i] = bf16(src[i]) for i < n, on the selected path. n <= 0 does nothing.
 * Single-threaded (callers split big arrays). */
void nt_bf16_from_f32_n(nt_bf16 *dst, const float *src, int64_t n);
/* dst[i] = float(src[i]) for i < n. */
void nt_bf16_to_f32_n(float *dst, const nt_bf16 *src, int64_t n);

/* The same on a given path, for tests and benchmarks. NT_ERR_ARG (dst
 * untouched) if this CPU lacks the path. */
nt_status nt_bf16_from_f32_n_isa(nt_bf16_isa isa, nt_bf16 *dst, const float *src, int64_t n);
nt_status nt_bf16_to_f32_n_isa(nt_bf16_isa isa, float *dst, const nt_bf16 *src, int64_t n);

/* The highest level this CPU (and OS) supports, ignoring NT_ISA. */
nt_bf16_isa nt_bf16_isa_cpu(void);
/* The level in use: nt_bf16_isa_cpu() capped by NT_ISA (read once). */
nt_bf16_isa nt_bf16_isa_selected(void);
/* "portable", "avx512" or "avx512bf16". */
const char *nt_bf16_isa_name(nt_bf16_isa isa);

/* ---- bf16 copies of parameters ------------------------------------------------------ */

/* The bf16 copy of parameter t (t->n values, laid out like t's), taken from
 * its block's copy, which is (re)converted as a whole, threaded, when the
 * block's version changed since (nt_params_touch): once per optimizer update.
 * NULL if t is not a parameter or the copy cannot be allocated (then read t
 * as float32: the product rounds it the same way). Not safe against a
 * concurrent call on the same block from another thread. */
const nt_bf16 *nt_params_bf16_of(const nt_tensor *t);

#endif
