/* gemm_driver.c - the blocked-GEMM skeleton (core/gemm_driver.h): thread
 * split, per-thread buffers, block loops. */
#include "core/gemm_driver.h"

#include <omp.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"

/* Below this many multiply-adds a product stays on the calling thread. */
#define PAR_MIN_MACS (64.0 * 64 * 64)

/* Buffers live as long as their thread: a key whose destructor frees them
 * on thread exit (pool threads of nested teams come and go). */
static pthread_key_t buf_key;
static pthread_once_t buf_once = PTHREAD_ONCE_INIT;
static int buf_key_ok;

static void buf_release(void *p) { nt_free_aligned(p); }
static void buf_key_init(void) { buf_key_ok = pthread_key_create(&buf_key, buf_release) == 0; }

// this thread's buffer, or NULL if it cannot be had
static void *thread_buffer(void) {
    if (pthread_once(&buf_once, buf_key_init) != 0 || !buf_key_ok) return NULL;
    void *p = pthread_getspecific(buf_key);
    if (p) return p;
    p = nt_malloc_aligned(NT_GEMM_BUF_BYTES);
    if (p && pthread_setspecific(buf_key, p) != 0) {
        nt_free_aligned(p);
        p = NULL;
    }
    return p;
}

// rows [r0, r1) x columns [c0, c1) of C, on this thread
static void run_part(const nt_gemm_plan *p, int r0, int r1, int c0, int c1) {
    if (r0 >= r1 || c0 >= c1) return;
    void *buf = thread_buffer();
    if (!buf) {
        p->fallback(p->args, r0, r1, c0, c1);
        return;
    }
    for (int jc = c0; jc < c1; jc += p->nc) {
        int nc = c1 - jc < p->nc ? c1 - jc : p->nc;
        for (int pc = 0; pc < p->k; pc += p->kc) {
            int kc = p->k - pc < p->kc ? p->k - pc : p->kc;
            p->pack_b(buf, p->args, pc, kc, jc, nc);
            for (int ir = r0; ir < r1; ir += p->mr)
                p->rows(buf, p->args, ir, r1 - ir < p->mr ? r1 - ir : p->mr, pc, kc, jc, nc);
        }
    }
}

// threads that share the product: at most `avail`, one for a small product, at most one per tile
static int plan_threads(const nt_gemm_plan *p, int avail) {
    if ((double)p->m * p->n * p->k < PAR_MIN_MACS) return 1;
    int row_tiles = (p->m + p->mr - 1) / p->mr, col_tiles = (p->n + p->nr - 1) / p->nr;
    int tiles = row_tiles >= col_tiles ? row_tiles : col_tiles;
    return avail < tiles ? avail : tiles;
}

// thread t's strip of `threads` (rows, or columns when C has more column tiles than row tiles)
static void run_strip(const nt_gemm_plan *p, int threads, int t) {
    if (threads <= 1) {
        run_part(p, 0, p->m, 0, p->n);
        return;
    }
    int row_tiles = (p->m + p->mr - 1) / p->mr, col_tiles = (p->n + p->nr - 1) / p->nr;
    int by_rows = row_tiles >= col_tiles;
    int tiles = by_rows ? row_tiles : col_tiles;
    int t0 = (int)((int64_t)tiles * t / threads), t1 = (int)((int64_t)tiles * (t + 1) / threads);
    if (by_rows) run_part(p, t0 * p->mr, t1 * p->mr < p->m ? t1 * p->mr : p->m, 0, p->n);
    else run_part(p, 0, p->m, t0 * p->nr, t1 * p->nr < p->n ? t1 * p->nr : p->n);
}

void nt_gemm_run(const nt_gemm_plan *p) {
    int threads = plan_threads(p, omp_get_level() == 0 ? omp_get_max_threads() : 1);
    if (threads <= 1) {
        run_part(p, 0, p->m, 0, p->n);
        return;
    }
#pragma omp parallel num_threads(threads)
    run_strip(p, omp_get_num_threads(), omp_get_thread_num());
}

void nt_gemm_run_share(const nt_gemm_plan *p, int t, int nth) {
    int threads = plan_threads(p, nth);
    if (t < threads) run_strip(p, threads, t);
}

void nt_gemm_scale_c(float *c, int m, int n, int ldc, float beta) {
    for (int i = 0; i < m; i++) {
        float *row = c + (int64_t)i * ldc;
        if (beta == 0.0f) memset(row, 0, (size_t)n * sizeof(float));
        else if (beta != 1.0f)
            for (int j = 0; j < n; j++) row[j] *= beta;
    }
}
