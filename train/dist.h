/* dist.h - data-parallel training over MPI: the world of ranks, the bucketed
 * non-blocking all-reduce of the gradient block, scalar reductions, and
 * failure handling (a failing rank takes the whole job down, no peer hangs).
 *
 * One binary serves one process and N: nt_dist_init() at the top of main()
 * initialises MPI only when the build has it and the process was started by
 * mpirun; otherwise the world is one process and every call here is a cheap
 * no-op (nt_dist_world() is NULL, rank 0 of 1). The trainer picks the world
 * up by itself (nt_trainer_config.dist, NULL = nt_dist_world()):
 *
 *     int main(int argc, char **argv) {
 *         if (nt_dist_init(&argc, &argv) != NT_OK) { fprintf(stderr, "%s\n", nt_errmsg()); return 1; }
 *         int rc = run(argc, argv);              // print only where nt_dist_is_root(NULL)
 *         return nt_dist_finalize(rc);           // rc != 0 on any rank of N > 1: MPI_Abort
 *     }
 *
 * The gradient all-reduce, as the trainer drives it for one update:
 *
 *     nt_dist_allreduce_begin(d, P->grads, P->total);   // after zero_grad
 *     ... forward + backward of the micro-batches ...
 *     nt_dist_allreduce_ready(d, from);   // grads[from, total) are final: their
 *                                         // buckets start (MPI_Iallreduce) now
 *     nt_dist_allreduce_end(d);           // starts the rest, waits for all
 *
 * Buckets are cut from the end of the block: backward reaches the
 * parameters declared last first, so the block's tail is final first.
 * The sum is in place; every rank ends with the same bits (each element is
 * reduced once and the result sent to all; see docs/distributed.md).
 *
 * Failures: the world communicator returns errors (MPI_ERRORS_RETURN) and
 * they come back as NT_ERR_IO with MPI's message. A rank that returns an
 * error from main must go through nt_dist_finalize(rc != 0), which calls
 * MPI_Abort: mpirun then ends every rank (a peer blocked in a reduction
 * never waits for a rank that is gone). A rank killed outright is noticed
 * by mpirun, which ends the job the same way.
 */
#ifndef NT_TRAIN_DIST_H
#define NT_TRAIN_DIST_H

#include <stdint.h>

#include "core/status.h"

typedef struct nt_dist nt_dist;

/* 1 if this build has MPI. */
int nt_dist_built(void);
/* One line for --help and inspect: "MPI: Open MPI v4.1.4 (data-parallel
 * training with mpirun -np N)" or "MPI: not built (one process)". */
const char *nt_dist_build_info(void);

/* Initialises MPI if the build has it and the process was started by an MPI
 * launcher (OMPI_COMM_WORLD_SIZE, PMIX_RANK or PMI_RANK in the environment);
 * a plain start stays a one-process world without touching MPI. Call once,
 * first thing in main. NT_ERR_STATE if launched by mpirun but the build has
 * no MPI (N copies would each train alone), NT_ERR_IO if MPI_Init fails. */
nt_status nt_dist_init(int *argc, char ***argv);

/* Ends the world with the program's exit code and returns it. rc == 0:
 * MPI_Finalize (every rank must get here). rc != 0 in a world of N > 1:
 * MPI_Abort(rc), which does not return: mpirun ends the other ranks. */
int nt_dist_finalize(int rc);

/* For a CLI: on ranks other than 0, stdout goes to /dev/null and stderr is
 * held back (in an unlinked temporary file), so that a run prints once;
 * nt_dist_finalize(rc != 0) replays a failing rank's stderr, each line
 * prefixed "[rank k] ", before it aborts. No-op on rank 0 and without MPI. */
void nt_dist_quiet_others(void);

/* 1 if mpirun started this process but nt_dist_init() did not join it to
 * the world (a program that forgot the call): N copies would each train
 * alone and write the same files. The trainer refuses then. */
int nt_dist_uninitialised_rank(void);

/* The world of the ranks started together, or NULL in a one-process world. */
nt_dist *nt_dist_world(void);

/* Rank and size; NULL means the world (rank 0 of 1 without MPI). */
int nt_dist_rank(const nt_dist *d);
int nt_dist_size(const nt_dist *d);
int nt_dist_is_root(const nt_dist *d); /* rank == 0 */

/* ---- scalar reductions (blocking, every rank must call) -------------------- */

/* v[0..n) = its sum (max) over the ranks. No-op in a world of one.
 * NT_ERR_IO with MPI's message on a communication failure. */
nt_status nt_dist_sum(nt_dist *d, double *v, int n);
nt_status nt_dist_max(nt_dist *d, double *v, int n);
/* Rank 0's v[0..n) on every rank. */
nt_status nt_dist_bcast(nt_dist *d, double *v, int n);

/* ---- the gradient all-reduce ------------------------------------------------ */

/* Bucket size in floats (default 2^20 = 4 MiB, or NT_DIST_BUCKET_MB). */
void nt_dist_set_bucket(nt_dist *d, int64_t floats);

/* Starts an all-reduce (sum) of x[0..n), in place. Nothing is sent yet.
 * NT_ERR_STATE if one is in flight, NT_ERR_NOMEM. */
nt_status nt_dist_allreduce_begin(nt_dist *d, float *x, int64_t n);
/* x[from, n) is final: every bucket wholly inside it that has not started is
 * started with MPI_Iallreduce, and requests in flight are given progress.
 * Calls with a smaller `from` extend the final range. */
nt_status nt_dist_allreduce_ready(nt_dist *d, int64_t from);
/* Starts the buckets left and waits for every one. */
nt_status nt_dist_allreduce_end(nt_dist *d);

/* Overlap with backward. Between allreduce_begin over P->grads and
 * allreduce_end, before the backward of the update's last micro-batch:
 *
 *     nt_dist_overlap_begin(d, ctx, loss, P);  // reads ctx's tape from loss
 *     nt_backward_seeded(ctx, loss, ...);      // buckets start as it goes
 *     nt_dist_overlap_end(d, ctx);
 *
 * A parameter's gradient is final once backward has run the oldest tape
 * node that reads it; as the final parameters reach down from the end of
 * the block, nt_dist_allreduce_ready starts the buckets they cover (the
 * embedding, declared first and read by the first node, comes last). Sets a
 * backward hook on ctx (core/tensor.h) until overlap_end. No-op in a world
 * of one. NT_ERR_NOMEM, NT_ERR_STATE without a begun all-reduce. */
struct nt_ctx;
struct nt_tensor;
struct nt_params;
nt_status nt_dist_overlap_begin(nt_dist *d, struct nt_ctx *ctx, const struct nt_tensor *loss,
                                const struct nt_params *P);
/* Removes the hook; NT_ERR_IO if a bucket failed to start during backward. */
nt_status nt_dist_overlap_end(nt_dist *d, struct nt_ctx *ctx);

/* Timing of the gradient all-reduces since the last reset (rank-local). */
typedef struct nt_dist_stats {
    int64_t reductions;   /* allreduce_end calls */
    int64_t buckets;      /* buckets reduced */
    double bytes;         /* bytes reduced (the block's, per rank) */
    double wait_s;        /* seconds blocked in allreduce_end's wait */
    double overlap_s;     /* seconds from the first bucket's start to allreduce_end:
                             communication in flight while backward ran */
    double scalar_s;      /* seconds in the blocking scalar reductions */
} nt_dist_stats;
void nt_dist_stats_get(const nt_dist *d, nt_dist_stats *s); /* zeros for NULL */
void nt_dist_stats_reset(nt_dist *d);

#endif
