/* gemm_driver.h - internal: the blocked-GEMM skeleton shared by nt_sgemm
 * (core/gemm.c) and nt_gemm_bf16 (core/gemm_bf16.c).
 *
 *     nt_gemm_plan p = {m, n, k, MR, NR, KC, NC, &args, my_pack_b, my_rows, my_fallback};
 *     nt_gemm_run(&p);
 *
 * A product supplies its tile (mr x nr), its blocking (kc, nc) and three
 * functions; the driver owns the rest, the same for every element type:
 *
 *   threads   outside any OpenMP parallel region, a product of at least
 *             64^3 multiply-adds runs on up to omp_get_max_threads()
 *             threads, C split into strips of whole tiles (rows, or columns
 *             when C has more column tiles than row tiles; a static split);
 *             inside one (even an inactive one) it runs on the calling thread.
 *             Nothing is split along k, so each element's sum is the same
 *             for any thread count.
 *   buffers   one NT_GEMM_BUF_BYTES buffer per thread (64-byte aligned),
 *             allocated at its first product and freed when it exits
 *   loops     per strip rows [r0, r1) x columns [c0, c1):
 *               for jc in [c0, c1) step nc
 *                 for pc in [0, k) step kc
 *                   pack_b(buf, args, pc, kcb, jc, ncb)
 *                   for ir in [r0, r1) step mr
 *                     rows(buf, args, ir, mrb, pc, kcb, jc, ncb)
 *             (kcb, ncb, mrb: the block's actual sizes) - rows() packs or
 *             reads its A panel and runs the micro-kernel over the nc columns
 *             of the packed B block, C = alpha A B + (pc == 0 ? beta : 1) C.
 *   fallback  a thread that cannot have its buffer runs fallback(args, r0,
 *             r1, c0, c1) on its strip instead.
 */
#ifndef NT_GEMM_DRIVER_H
#define NT_GEMM_DRIVER_H

#include <stddef.h>

/* Every product's per-thread buffer, in bytes: the largest a plan needs
 * (nt_sgemm's AVX-512 block: 384 x 512 floats of B + 14 x 384 of A). */
#define NT_GEMM_BUF_BYTES ((size_t)(384 * 512 + 14 * 384 + 16) * 4)

typedef struct nt_gemm_plan {
    int m, n, k;
    int mr, nr; /* register tile: the units of the thread split */
    int kc, nc; /* k per block, columns of op(B) per block */
    const void *args;
    void (*pack_b)(void *buf, const void *args, int p0, int kc, int j0, int nc);
    void (*rows)(void *buf, const void *args, int i0, int mr, int p0, int kc, int j0, int nc);
    void (*fallback)(const void *args, int r0, int r1, int c0, int c1);
} nt_gemm_plan;

/* Runs the product (m, n > 0; k > 0) as above. */
void nt_gemm_run(const nt_gemm_plan *p);

/* Thread t's part of the product when nth threads share it, for callers
 * already inside a parallel region: every thread t < nth calls it (no
 * barrier inside; the caller's closes the product). The same strips as
 * nt_gemm_run on nth threads (a small product: all on thread 0). */
void nt_gemm_run_share(const nt_gemm_plan *p, int t, int nth);

/* C = beta C over (m, n) with row stride ldc; beta == 0 writes zeros
 * without reading C (k == 0 or alpha == 0: no product to add). */
void nt_gemm_scale_c(float *c, int m, int n, int ldc, float beta);

#endif
