/* dist.c - the MPI world, bucketed non-blocking gradient all-reduce, scalar
 * reductions (see dist.h). Without NT_HAVE_MPI every call is the one-process
 * case. */
#include "train/dist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/tensor.h"

#ifdef NT_HAVE_MPI
#include <mpi.h>
#endif

struct nt_dist {
    int rank, size;
    int64_t bucket;        /* floats per bucket */
    /* the all-reduce in flight */
    float *x;
    int64_t n;
    int n_buckets;         /* buckets of x: bucket i covers [lo(i), hi(i)) counted from the end */
    int started;           /* buckets started so far (from the end of x) */
    int active;
    double t_first;        /* when the first bucket started */
#ifdef NT_HAVE_MPI
    MPI_Comm comm;
    MPI_Request *req;      /* [n_buckets] */
    int req_cap;
#endif
    nt_dist_stats st;
    /* overlap with backward (nt_dist_overlap_begin) */
    const nt_params *P;
    const nt_node **last_use; /* [count] oldest tape node reading parameter i, or NULL */
    uint8_t *final;           /* [count] gradient final */
    int cap;                  /* of last_use and final */
    int frontier;             /* parameters frontier.. count-1 are final */
    nt_status hook_status;    /* first failure inside the hook */
};

static nt_dist world_;
static FILE *held_err;   /* a quiet rank's stderr (nt_dist_quiet_others) */
static int real_err = -1; /* the real stderr, kept for the replay */
static nt_dist *world; /* &world_ when MPI runs with N >= 1 ranks, else NULL */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static nt_dist *resolve(const nt_dist *d) { return d ? (nt_dist *)d : world; }

int nt_dist_built(void) {
#ifdef NT_HAVE_MPI
    return 1;
#else
    return 0;
#endif
}

const char *nt_dist_build_info(void) {
#ifdef NT_HAVE_MPI
    static char buf[MPI_MAX_LIBRARY_VERSION_STRING + 96];
    if (!buf[0]) {
        char lib[MPI_MAX_LIBRARY_VERSION_STRING] = "";
        int len = 0;
        MPI_Get_library_version(lib, &len); /* callable before MPI_Init */
        char *cut = strpbrk(lib, ",\n");    /* "Open MPI v4.1.4, package: ..." */
        if (cut) *cut = 0;
        snprintf(buf, sizeof buf, "MPI: %s (data-parallel training: mpirun -np N)", lib[0] ? lib : "yes");
    }
    return buf;
#else
    return "MPI: not built (one process; install libopenmpi-dev and rebuild for mpirun -np N)";
#endif
}

static int launched_by_mpirun(void) {
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK");
}

#ifdef NT_HAVE_MPI
/* NT_ERR_IO naming the call and MPI's message for a failed MPI call. */
static nt_status mpi_fail(int rc, const char *what) {
    char msg[MPI_MAX_ERROR_STRING] = "";
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    return nt_error(NT_ERR_IO, "MPI: %s failed on rank %d of %d: %s (a peer rank probably died)", what,
                    world ? world->rank : 0, world ? world->size : 1, msg);
}
#endif

nt_status nt_dist_init(int *argc, char ***argv) {
    if (world) return NT_OK;
    if (!launched_by_mpirun()) return NT_OK;
#ifdef NT_HAVE_MPI
    /* Open MPI's non-blocking all-reduce (libnbc) picks, by default, an
     * algorithm that is 5-10x slower than its ring on large blocks (measured:
     * 4 MB over 2 ranks, 15.6 ms against 1.6 ms). The ring is also what the
     * cost model of docs/distributed.md assumes. A choice the user made
     * (environment or mpirun --mca) wins; MPI reads it at MPI_Init. */
    setenv("OMPI_MCA_coll_libnbc_iallreduce_algorithm", "1", 0);
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited) {
        /* OpenMP threads compute; only the main thread calls MPI */
        int provided = 0;
        int rc = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
        if (rc != MPI_SUCCESS) return nt_error(NT_ERR_IO, "MPI_Init_thread failed (code %d)", rc);
    }
    nt_dist *d = &world_;
    memset(d, 0, sizeof *d);
    d->comm = MPI_COMM_WORLD;
    MPI_Comm_set_errhandler(d->comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(d->comm, &d->rank);
    MPI_Comm_size(d->comm, &d->size);
    d->bucket = (int64_t)1 << 20;
    const char *mb = getenv("NT_DIST_BUCKET_MB");
    if (mb && atof(mb) > 0) d->bucket = (int64_t)(atof(mb) * 262144.0);
    if (d->bucket < 1024) d->bucket = 1024;
    world = d;
    return NT_OK;
#else
    (void)argc, (void)argv;
    return nt_error(NT_ERR_STATE,
                    "this nextok was built without MPI but started by mpirun: every copy would train "
                    "alone. Install libopenmpi-dev and rebuild (cmake finds MPI), or run it without mpirun");
#endif
}

void nt_dist_quiet_others(void) {
    if (!world || world->rank == 0 || held_err) return;
    fflush(stdout);
    fflush(stderr);
    FILE *tmp = tmpfile();
    int null = open("/dev/null", O_WRONLY);
    real_err = dup(STDERR_FILENO);
    if (!tmp || null < 0 || real_err < 0) { /* then every rank prints: harmless */
        if (tmp) fclose(tmp);
        if (null >= 0) close(null);
        return;
    }
    dup2(null, STDOUT_FILENO);
    dup2(fileno(tmp), STDERR_FILENO);
    close(null);
    held_err = tmp;
}

/* A failing quiet rank: what it printed to stderr, to the real stderr. */
static void replay_held_err(void) {
    if (!held_err) return;
    fflush(stderr);
    FILE *out = fdopen(real_err, "w");
    if (!out) return;
    char line[4096];
    int bol = 1;
    rewind(held_err);
    while (fgets(line, sizeof line, held_err)) {
        if (bol) fprintf(out, "[rank %d] ", world ? world->rank : 0);
        fputs(line, out);
        bol = strchr(line, '\n') != NULL;
    }
    fflush(out);
}

int nt_dist_finalize(int rc) {
#ifdef NT_HAVE_MPI
    if (world) {
        if (rc != 0) replay_held_err();
        if (rc != 0 && world->size > 1) {
            fflush(stdout);
            fflush(stderr);
            MPI_Abort(world->comm, rc);
        }
        nt_free(world->req);
        nt_free(world->last_use);
        nt_free(world->final);
        world->req = NULL, world->last_use = NULL, world->final = NULL;
        world = NULL;
        MPI_Finalize();
    }
#endif
    return rc;
}

nt_dist *nt_dist_world(void) { return world; }

int nt_dist_uninitialised_rank(void) { return !world && launched_by_mpirun(); }

int nt_dist_rank(const nt_dist *d) {
    d = resolve(d);
    return d ? d->rank : 0;
}

int nt_dist_size(const nt_dist *d) {
    d = resolve(d);
    return d ? d->size : 1;
}

int nt_dist_is_root(const nt_dist *d) { return nt_dist_rank(d) == 0; }

/* ---- scalar reductions ------------------------------------------------------------ */

#ifdef NT_HAVE_MPI
static nt_status reduce_doubles(nt_dist *d, double *v, int n, MPI_Op op, const char *what) {
    double t0 = now_s();
    int rc = MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, op, d->comm);
    d->st.scalar_s += now_s() - t0;
    return rc == MPI_SUCCESS ? NT_OK : mpi_fail(rc, what);
}
#endif

nt_status nt_dist_sum(nt_dist *d, double *v, int n) {
    d = resolve(d);
    if (!d || d->size == 1 || n <= 0) return NT_OK;
#ifdef NT_HAVE_MPI
    return reduce_doubles(d, v, n, MPI_SUM, "MPI_Allreduce (sum)");
#else
    (void)v;
    return NT_OK;
#endif
}

nt_status nt_dist_max(nt_dist *d, double *v, int n) {
    d = resolve(d);
    if (!d || d->size == 1 || n <= 0) return NT_OK;
#ifdef NT_HAVE_MPI
    return reduce_doubles(d, v, n, MPI_MAX, "MPI_Allreduce (max)");
#else
    (void)v;
    return NT_OK;
#endif
}

nt_status nt_dist_bcast(nt_dist *d, double *v, int n) {
    d = resolve(d);
    if (!d || d->size == 1 || n <= 0) return NT_OK;
#ifdef NT_HAVE_MPI
    double t0 = now_s();
    int rc = MPI_Bcast(v, n, MPI_DOUBLE, 0, d->comm);
    d->st.scalar_s += now_s() - t0;
    return rc == MPI_SUCCESS ? NT_OK : mpi_fail(rc, "MPI_Bcast");
#else
    (void)v;
    return NT_OK;
#endif
}

/* ---- the gradient all-reduce -------------------------------------------------------- */

void nt_dist_set_bucket(nt_dist *d, int64_t floats) {
    d = resolve(d);
    if (d && floats > 0) d->bucket = floats;
}

/* Bucket i (i = 0 is the last one of the block): [lo, hi). */
static void bucket_range(const nt_dist *d, int i, int64_t *lo, int64_t *hi) {
    *hi = d->n - (int64_t)i * d->bucket;
    *lo = *hi - d->bucket > 0 ? *hi - d->bucket : 0;
}

nt_status nt_dist_allreduce_begin(nt_dist *d, float *x, int64_t n) {
    d = resolve(d);
    if (!d || d->size == 1) return NT_OK;
    if (d->active) return nt_error(NT_ERR_STATE, "nt_dist_allreduce_begin: an all-reduce is in flight");
    if (n < 0 || (n > 0 && !x)) return nt_error(NT_ERR_ARG, "nt_dist_allreduce_begin: bad block (n %lld)", (long long)n);
    d->x = x, d->n = n;
    d->n_buckets = (int)((n + d->bucket - 1) / d->bucket);
    d->started = 0;
    d->active = 1;
#ifdef NT_HAVE_MPI
    if (d->n_buckets > d->req_cap) {
        MPI_Request *r = nt_realloc(d->req, (size_t)d->n_buckets * sizeof *r);
        if (!r) {
            d->active = 0;
            return nt_error(NT_ERR_NOMEM, "nt_dist_allreduce_begin: out of memory");
        }
        d->req = r, d->req_cap = d->n_buckets;
    }
#endif
    return NT_OK;
}

#ifdef NT_HAVE_MPI
static nt_status start_bucket(nt_dist *d) {
    int64_t lo, hi;
    bucket_range(d, d->started, &lo, &hi);
    if (d->started == 0) d->t_first = now_s();
    int rc = MPI_Iallreduce(MPI_IN_PLACE, d->x + lo, (int)(hi - lo), MPI_FLOAT, MPI_SUM, d->comm,
                            &d->req[d->started]);
    if (rc != MPI_SUCCESS) return mpi_fail(rc, "MPI_Iallreduce");
    d->started++;
    return NT_OK;
}
#endif

nt_status nt_dist_allreduce_ready(nt_dist *d, int64_t from) {
    d = resolve(d);
    if (!d || d->size == 1) return NT_OK;
    if (!d->active) return nt_error(NT_ERR_STATE, "nt_dist_allreduce_ready: no all-reduce begun");
#ifdef NT_HAVE_MPI
    for (;;) {
        if (d->started >= d->n_buckets) break;
        int64_t lo, hi;
        bucket_range(d, d->started, &lo, &hi);
        if (lo < from) break;
        NT_TRY(start_bucket(d));
    }
    /* Non-blocking collectives progress only inside MPI calls (no progress
     * thread): a test here moves the buckets in flight along. */
    if (d->started > 0) {
        int done = 0;
        int rc = MPI_Testall(d->started, d->req, &done, MPI_STATUSES_IGNORE);
        if (rc != MPI_SUCCESS) return mpi_fail(rc, "MPI_Testall");
    }
#else
    (void)from;
#endif
    return NT_OK;
}

nt_status nt_dist_allreduce_end(nt_dist *d) {
    d = resolve(d);
    if (!d || d->size == 1) return NT_OK;
    if (!d->active) return nt_error(NT_ERR_STATE, "nt_dist_allreduce_end: no all-reduce begun");
    nt_status s = NT_OK;
#ifdef NT_HAVE_MPI
    double t_end = now_s();
    if (d->started > 0) d->st.overlap_s += t_end - d->t_first;
    while (s == NT_OK && d->started < d->n_buckets) s = start_bucket(d);
    if (d->started > 0) {
        /* Requests already completed by a Testall are MPI_REQUEST_NULL and
         * wait returns at once for them. */
        int rc = MPI_Waitall(d->started, d->req, MPI_STATUSES_IGNORE);
        if (rc != MPI_SUCCESS && s == NT_OK) s = mpi_fail(rc, "MPI_Waitall (gradient all-reduce)");
    }
    d->st.wait_s += now_s() - t_end;
    d->st.reductions++;
    d->st.buckets += d->n_buckets;
    d->st.bytes += (double)d->n * sizeof(float);
#endif
    d->active = 0;
    d->x = NULL;
    return s;
}

void nt_dist_stats_get(const nt_dist *d, nt_dist_stats *s) {
    d = resolve(d);
    if (d) *s = d->st;
    else memset(s, 0, sizeof *s);
}

void nt_dist_stats_reset(nt_dist *d) {
    d = resolve(d);
    if (d) memset(&d->st, 0, sizeof d->st);
}

/* ---- overlap with backward ------------------------------------------------------------ */

/* Index of the parameter whose gradient g points into, or -1. */
static int param_index(const nt_params *P, const float *g) {
    if (g < P->grads || g >= P->grads + P->total) return -1;
    int64_t off = g - P->grads;
    int lo = 0, hi = P->count - 1; /* offsets grow with the index */
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (P->offsets[mid] <= off) lo = mid;
        else hi = mid - 1;
    }
    return P->offsets[lo] == off ? lo : -1;
}

/* The inputs of nd that are parameters with a gradient, one call each. */
static void mark_node(nt_dist *d, const nt_node *nd, int finishing) {
    for (int i = 0; i < NT_NODE_MAX_IN; i++) {
        const nt_tensor *x = nd->in[i];
        if (!x || !x->is_param || !x->requires_grad || x->dtype != NT_F32) continue;
        int p = param_index(d->P, x->grad);
        if (p < 0) continue;
        if (!finishing) d->last_use[p] = nd; /* the walk goes to older nodes: the oldest stays */
        else if (d->last_use[p] == nd) d->final[p] = 1;
    }
}

static void overlap_hook(void *user, const nt_node *nd) {
    nt_dist *d = user;
    if (d->hook_status != NT_OK) return;
    mark_node(d, nd, 1);
    int f = d->frontier;
    while (f > 0 && d->final[f - 1]) f--;
    if (f == d->frontier) return;
    d->frontier = f;
    d->hook_status = nt_dist_allreduce_ready(d, f < d->P->count ? d->P->offsets[f] : d->P->total);
}

nt_status nt_dist_overlap_begin(nt_dist *d, nt_ctx *ctx, const nt_tensor *loss, const nt_params *P) {
    d = resolve(d);
    if (!d || d->size == 1) return NT_OK;
    if (!d->active || d->x != P->grads)
        return nt_error(NT_ERR_STATE, "nt_dist_overlap_begin: no all-reduce of this block begun");
    if (P->count > d->cap) {
        const nt_node **lu = nt_realloc(d->last_use, (size_t)P->count * sizeof *lu);
        if (lu) d->last_use = lu;
        uint8_t *fi = lu ? nt_realloc(d->final, (size_t)P->count) : NULL;
        if (fi) d->final = fi;
        if (!lu || !fi) return nt_error(NT_ERR_NOMEM, "nt_dist_overlap_begin: out of memory");
        d->cap = P->count;
    }
    d->P = P;
    memset(d->last_use, 0, (size_t)P->count * sizeof *d->last_use);
    for (const nt_node *nd = loss->node; nd; nd = nd->prev) mark_node(d, nd, 0);
    /* a parameter no node reads has its final gradient already */
    for (int i = 0; i < P->count; i++) d->final[i] = d->last_use[i] == NULL;
    d->frontier = P->count;
    d->hook_status = NT_OK;
    nt_ctx_set_backward_hook(ctx, overlap_hook, d);
    return NT_OK;
}

nt_status nt_dist_overlap_end(nt_dist *d, nt_ctx *ctx) {
    d = resolve(d);
    if (!d || d->size == 1) return NT_OK;
    nt_ctx_set_backward_hook(ctx, NULL, NULL);
    nt_status s = d->hook_status;
    d->hook_status = NT_OK;
    return s;
}
