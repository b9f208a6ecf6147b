/* omp_policy.h - the OpenMP wait policy of the example CLIs (nextok-translate,
 * nextok-lm): passive (idle threads sleep instead of spinning) unless the
 * environment sets OMP_WAIT_POLICY.
 *
 *     int main(int argc, char **argv) {
 *         ex_omp_policy(argv);   // first: before anything starts the OpenMP runtime
 *         ...
 *         .epilog = ex_omp_policy_help("nextok-lm")   // in a command's --help
 *
 * On a machine whose cores other processes share, a spinning worker takes the
 * core the working thread needs and a training step slows down several
 * times. libgomp reads the variable once, when it is loaded (before main), so
 * when it is not set ex_omp_policy sets it and re-executes the program
 * (/proc/self/exe); on failure the program goes on with OpenMP's default. */
#ifndef NT_EXAMPLES_OMP_POLICY_H
#define NT_EXAMPLES_OMP_POLICY_H

void ex_omp_policy(char **argv);

/* One sentence saying which policy is in force and who set it (prog: the
 * program that sets it, "nextok-lm"); a static buffer. */
const char *ex_omp_policy_help(const char *prog);

#endif
