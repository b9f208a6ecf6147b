/* omp_policy.h - the OpenMP wait policy of the example CLIs (nextok-translate,
 * nextok-lm, nextok-bench), when the environment sets neither OMP_WAIT_POLICY nor
 * GOMP_SPINCOUNT: a bounded spin on a quiet machine, passive on a busy one.
 *
 *     int main(int argc, char **argv) {
 *         ex_omp_policy(argv);   // first: before anything starts the OpenMP runtime
 *         ...
 *         .epilog = ex_omp_policy_help("nextok-lm")   // in a command's --help
 *
 * A training step runs a few hundred short parallel regions. With idle
 * threads asleep (passive), each region pays a futex wake-up: 1.4x the step
 * time of spinning threads on a quiet 2-core machine (nanoGPT's recipe). But
 * on a machine whose cores other processes share, a spinning worker takes the
 * core the working thread needs and a step slows down several times (2.5x
 * with GOMP_SPINCOUNT=10000 at a load of 12 on 2 cores). So at start-up
 * ex_omp_policy looks at the runnable tasks (/proc/stat, the fewest of three
 * looks 2 ms apart): if they and the command's threads (--threads N, else
 * OMP_NUM_THREADS, else one per CPU) fit the CPUs it may run on, it sets
 * GOMP_SPINCOUNT=EX_OMP_SPINCOUNT (libgomp's default policy: spin that many
 * times, about a millisecond, then sleep); otherwise OMP_WAIT_POLICY=passive.
 * Load that starts later is not seen. libgomp reads the variables once, when
 * it is loaded (before main), so ex_omp_policy sets one and re-executes the
 * program (/proc/self/exe); on failure the program goes on with OpenMP's
 * default. */
#ifndef NT_EXAMPLES_OMP_POLICY_H
#define NT_EXAMPLES_OMP_POLICY_H

#define EX_OMP_SPINCOUNT "100000"

void ex_omp_policy(char **argv);

/* The decision: 1 (busy: passive) when `others` runnable tasks plus
 * `threads` (< 1 or > cpus: cpus) exceed `cpus`, or others < 0 (unknown). */
int ex_omp_policy_busy(int others, int threads, int cpus);

/* One sentence saying which policy is in force and who set it (prog: the
 * program that sets it, "nextok-lm"); a static buffer. */
const char *ex_omp_policy_help(const char *prog);

#endif
