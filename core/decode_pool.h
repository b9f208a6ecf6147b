/* decode_pool.h - a process-wide team of threads for decoding steps: workers
 * that stay awake between steps instead of being woken by the OS each time.
 *
 * A batch-1 decoding step of a small model takes tens of microseconds; an
 * OpenMP parallel region per step costs a futex wake-up and a sleep of the
 * worker when idle threads sleep (OMP_WAIT_POLICY=passive): ~15% of the step.
 * The pool's workers spin for a short while after each run
 * (NT_DECODE_POOL_SPIN_US), then sleep on a condition variable, so a loop of
 * steps wakes nobody. Under OMP_WAIT_POLICY=passive (read once, at the first
 * run; the CLIs set it on a busy machine) they do not spin: where other work
 * needs the cores, they sleep at once, as OpenMP's threads do.
 *
 *     static void work(void *arg, int t, int T) { ... thread t of T ... }
 *     if (nt_decode_pool_run(work, arg, 2) != 0)
 *         ...run it another way (an OpenMP region)...
 *
 * NT_DECODE_POOL=0 in the environment (read at the first run) turns the pool
 * off: every run returns -1 and callers use their OpenMP region (for A/B
 * timing).
 *
 * The contract differs from a parallel region's in one point: a worker that
 * has not started by the time the caller's own call fn(arg, 0, T) returns is
 * skipped (it never runs this job). fn must therefore let any thread finish
 * work another thread has not taken (nn/infer.c's chunk lists do: a thread
 * takes over the chunks of one that has not entered a phase). Workers that
 * did start are waited for before nt_decode_pool_run returns.
 */
#ifndef NT_DECODE_POOL_H
#define NT_DECODE_POOL_H

/* How long an idle worker spins before it sleeps, in microseconds. */
#define NT_DECODE_POOL_SPIN_US 200

typedef void (*nt_decode_pool_fn)(void *arg, int t, int T);

/* Runs fn(arg, t, T) for t = 0 on this thread and t in [1, T) on workers
 * (started on first use, kept for the process). Returns 0 when it ran;
 * -1 when it did not run fn at all (T < 2, the pool busy with another
 * caller, a worker could not be created, NT_DECODE_POOL=0): the caller runs the job
 * another way. Not for use inside a running job. */
int nt_decode_pool_run(nt_decode_pool_fn fn, void *arg, int T);

/* The spin in force, in microseconds: NT_DECODE_POOL_SPIN_US, or 0 under
 * OMP_WAIT_POLICY=passive (the environment as it was at the first call of
 * either function). */
int nt_decode_pool_spin_us(void);

#endif
