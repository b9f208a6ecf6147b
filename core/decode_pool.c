/* decode_pool.c - the decoding steps' team of spinning-then-sleeping workers
 * (see decode_pool.h).
 *
 * Jobs are numbered. The caller publishes job j (fn, arg, T, then the
 * number), runs its own part, then settles each worker's part: a worker
 * takes job j by raising its `took` from below j to j (compare-and-swap);
 * the caller closes a worker that has not taken it the same way. Whoever
 * succeeds decides: a worker that took the job runs it and reports `fin`,
 * and the caller waits for that; a closed worker skips the job. So a
 * descheduled or sleeping worker never holds a step up for longer than
 * the chunk it is in.
 *
 * Sleeping: a worker that saw no job for NT_DECODE_POOL_SPIN_US (0 under
 * OMP_WAIT_POLICY=passive) counts
 * itself in `sleepers` and waits on the condition variable; the caller
 * signals only when someone sleeps. The job number is stored and the
 * sleepers loaded sequentially consistent on the caller's side, counted and
 * checked the same way on the worker's (Dekker): one of them sees the other,
 * so no wake-up is lost.
 */
#include "core/decode_pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
static inline void relax(void) { _mm_pause(); }
#else
static inline void relax(void) {}
#endif

#define MAX_WORKERS 63

typedef struct worker {
    _Alignas(64) int64_t took; /* the last job taken by the worker or closed by the caller */
    int64_t fin;               /* the last job the worker finished */
} worker;

static struct {
    pthread_mutex_t mu;     /* sleeping, starting workers */
    pthread_cond_t cv;
    pthread_mutex_t busy;   /* one caller at a time */
    int n;                  /* workers started (their t: 1..n) */
    _Alignas(64) int64_t job;
    int sleepers;
    nt_decode_pool_fn fn;
    void *arg;
    int T;
    worker w[MAX_WORKERS + 1];
} P = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .busy = PTHREAD_MUTEX_INITIALIZER};

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t spin_ns; /* how long an idle worker spins: set once, before any worker starts */

/* Waits for a job after `seen`; returns its number. */
static int64_t wait_job(int64_t seen) {
    int64_t j, t0 = now_ns();
    for (int spins = 1;; spins++) {
        if ((j = __atomic_load_n(&P.job, __ATOMIC_ACQUIRE)) > seen) return j;
        relax();
        if (spins % 64 == 0 && now_ns() - t0 > spin_ns) break;
    }
    pthread_mutex_lock(&P.mu);
    __atomic_add_fetch(&P.sleepers, 1, __ATOMIC_SEQ_CST);
    while ((j = __atomic_load_n(&P.job, __ATOMIC_SEQ_CST)) <= seen) pthread_cond_wait(&P.cv, &P.mu);
    __atomic_sub_fetch(&P.sleepers, 1, __ATOMIC_SEQ_CST);
    pthread_mutex_unlock(&P.mu);
    return j;
}

static void *worker_main(void *p) {
    int t = (int)(intptr_t)p;
    worker *w = &P.w[t];
    for (int64_t seen = __atomic_load_n(&P.job, __ATOMIC_ACQUIRE);;) {
        int64_t j = wait_job(seen);
        seen = j;
        int64_t v = __atomic_load_n(&w->took, __ATOMIC_ACQUIRE);
        if (v >= j || !__atomic_compare_exchange_n(&w->took, &v, j, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            continue; /* closed by the caller */
        if (t < P.T) P.fn(P.arg, t, P.T);
        __atomic_store_n(&w->fin, j, __ATOMIC_RELEASE);
    }
    return NULL;
}

/* Starts workers up to t = T - 1 (under busy). 0, or -1 if one failed. */
static int grow(int T) {
    if (T - 1 > MAX_WORKERS) return -1;
    while (P.n < T - 1) {
        int t = P.n + 1;
        P.w[t].took = P.w[t].fin = __atomic_load_n(&P.job, __ATOMIC_RELAXED);
        pthread_t th;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        int rc = pthread_create(&th, &at, worker_main, (void *)(intptr_t)t);
        pthread_attr_destroy(&at);
        if (rc != 0) return -1;
        P.n = t;
    }
    return 0;
}

/* A forked child has none of the parent's workers. */
static void forget_workers(void) {
    P.n = 0;
    P.sleepers = 0;
    pthread_mutex_init(&P.mu, NULL);
    pthread_mutex_init(&P.busy, NULL);
    pthread_cond_init(&P.cv, NULL);
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int disabled; /* NT_DECODE_POOL=0 */
static void init_once(void) {
    const char *e = getenv("NT_DECODE_POOL");
    disabled = e && !strcmp(e, "0");
    /* OMP_WAIT_POLICY=passive (set by the user, or by the CLIs on a busy
     * machine) asks idle threads not to spin: the pool's workers sleep at once */
    const char *w = getenv("OMP_WAIT_POLICY");
    spin_ns = w && !strcasecmp(w, "passive") ? 0 : (int64_t)NT_DECODE_POOL_SPIN_US * 1000;
    pthread_atfork(NULL, NULL, forget_workers);
}

int nt_decode_pool_spin_us(void) {
    pthread_once(&once, init_once);
    return (int)(spin_ns / 1000);
}

int nt_decode_pool_run(nt_decode_pool_fn fn, void *arg, int T) {
    if (T < 2) return -1;
    pthread_once(&once, init_once);
    if (disabled) return -1;
    if (pthread_mutex_trylock(&P.busy) != 0) return -1;
    if (grow(T) != 0) {
        pthread_mutex_unlock(&P.busy);
        return -1;
    }
    P.fn = fn, P.arg = arg, P.T = T;
    int64_t j = P.job + 1;
    __atomic_store_n(&P.job, j, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&P.sleepers, __ATOMIC_SEQ_CST) > 0) {
        pthread_mutex_lock(&P.mu);
        pthread_cond_broadcast(&P.cv);
        pthread_mutex_unlock(&P.mu);
    }
    fn(arg, 0, T);
    /* settle every worker: close those that have not taken j, wait for the others
     * (idle workers t >= T take the job too, and finish at once) */
    for (int t = 1; t <= P.n; t++) {
        worker *w = &P.w[t];
        int64_t v = __atomic_load_n(&w->took, __ATOMIC_ACQUIRE);
        if (v < j && __atomic_compare_exchange_n(&w->took, &v, j, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            continue;
        for (int spins = 0; __atomic_load_n(&w->fin, __ATOMIC_ACQUIRE) < j; spins++)
            if (spins < 2000)
                relax();
            else
                sched_yield();
    }
    pthread_mutex_unlock(&P.busy);
    return 0;
}
