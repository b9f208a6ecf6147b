/* test_mpi_train.c - data-parallel training through the real binary under a
 * real `mpirun -np 2` (docs/distributed.md):
 *  - 2 ranks with micro-batch B == 1 process with accumulation 2 of B, same
 *    seed, dropout on: weights and Adam moments after 20 updates equal within
 *    1e-6 relative (the figure and whether they are bitwise are printed);
 *  - resume under 2 ranks (stopped at 10, resumed to 20) is bitwise the
 *    uninterrupted 2-rank run;
 *  - SIGINT to mpirun: every rank stops after the same update, rank 0 saves,
 *    and the run resumes from that checkpoint;
 *  - a rank that is killed, or whose training data is missing, ends the job
 *    with an error within a time limit (no hang), and the last checkpoint
 *    stays loadable.
 * Skipped (with a message) when the build has no MPI. */
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/tensor.h"
#include "support/check.h"
#include "support/mpirun.h"
#include "support/proc.h"
#include "train/checkpoint.h"
#include "train/dist.h"

static char bin[1024], tmp[] = "/tmp/nt_mpi_train_XXXXXX";
static char out_text[1 << 16], err_text[1 << 16];

static char *path_of(char *buf, size_t cap, const char *rel) {
    snprintf(buf, cap, "%s/%s", tmp, rel);
    return buf;
}

static int exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && sb.st_size > 0;
}

/* The options every run shares: a tiny model, one thread per process,
 * small micro-batches, dropout and label smoothing on (their defaults). */
#define MAX_ARGS 96
static int common_args(const char **a, const char *out, char *train, char *valid) {
    int k = 0;
    a[k++] = "train";
    a[k++] = "--train", a[k++] = train;
    a[k++] = "--valid", a[k++] = valid;
    a[k++] = "--out", a[k++] = out;
    a[k++] = "--preset", a[k++] = "tiny";
    a[k++] = "--batch-tokens", a[k++] = "384";
    a[k++] = "--eval-every", a[k++] = "10";
    a[k++] = "--eval-exact-max", a[k++] = "24";
    a[k++] = "--threads", a[k++] = "1";
    a[k++] = "--progress", a[k++] = "lines";
    a[k++] = "--warmup", a[k++] = "5";
    return k;
}

/* Runs nextok-translate train with the common options and `extra`, in one
 * process (np 0) or under mpirun -np np. Returns the exit status. */
static int train_env(int np, const char *out, const char *const *extra, double timeout,
                     const char *const *env) {
    char train_p[1024], valid_p[1024], out_p[1024];
    path_of(train_p, sizeof train_p, "d/train.tsv");
    path_of(valid_p, sizeof valid_p, "d/valid.tsv");
    path_of(out_p, sizeof out_p, out);
    const char *a[MAX_ARGS];
    int k = common_args(a, out_p, train_p, valid_p);
    for (int i = 0; extra && extra[i] && k < MAX_ARGS - 1; i++) a[k++] = extra[i];
    a[k] = NULL;
    if (np == 0) {
        nt_proc_io io = {.out = out_text, .out_cap = sizeof out_text, .err = err_text, .err_cap = sizeof err_text};
        return nt_proc_run(bin, a, &io);
    }
    nt_mpirun r;
    if (nt_mpirun_start(&r, np, bin, a, env) != 0) return -1;
    return nt_mpirun_wait(&r, timeout, out_text, sizeof out_text, err_text, sizeof err_text);
}

static int train(int np, const char *out, const char *const *extra, double timeout) {
    return train_env(np, out, extra, timeout, NULL);
}

/* ||a - b|| / ||b|| over two whole parameter blocks (L2, in double);
 * *same: all bits equal; *max_abs: the largest |a - b|. (Per-tensor maxima
 * would be meaningless for the attention key biases: their gradient is zero
 * in exact arithmetic, so their values are rounding noise of ~1e-7.) */
static double params_rel_diff(const nt_params *a, const nt_params *b, int *same, double *max_abs) {
    *same = 0, *max_abs = INFINITY;
    if (a->total != b->total) return INFINITY;
    *same = memcmp(a->values, b->values, (size_t)a->total * sizeof(float)) == 0;
    double d2 = 0, b2 = 0, mx = 0;
    for (int64_t j = 0; j < a->total; j++) {
        double d = (double)a->values[j] - (double)b->values[j];
        d2 += d * d, b2 += (double)b->values[j] * b->values[j];
        mx = fabs(d) > mx ? fabs(d) : mx;
    }
    *max_abs = mx;
    return b2 > 0 ? sqrt(d2 / b2) : sqrt(d2);
}

/* Loads two checkpoints' weights; returns the relative difference (INFINITY
 * if one does not load) and whether they are bitwise equal. */
static double ckpt_diff(const char *ra, const char *rb, int *same, double *max_abs) {
    char pa[1024], pb[1024], fa[1100], fb[1100];
    snprintf(fa, sizeof fa, "%s/checkpoint-last.h5", path_of(pa, sizeof pa, ra));
    snprintf(fb, sizeof fb, "%s/checkpoint-last.h5", path_of(pb, sizeof pb, rb));
    nt_net *a = NULL, *b = NULL;
    nt_vocab *va = NULL, *vb = NULL;
    *same = 0;
    double d = INFINITY;
    if (nt_ckpt_load_net(fa, &a, &va) == NT_OK && nt_ckpt_load_net(fb, &b, &vb) == NT_OK)
        d = params_rel_diff(a->params, b->params, same, max_abs);
    else
        fprintf(stderr, "checkpoint: %s\n", nt_errmsg());
    nt_net_free(a), nt_net_free(b);
    nt_vocab_free(va), nt_vocab_free(vb);
    return d;
}

/* The step stored in RUN/checkpoint-last.h5, or -1. */
static int64_t ckpt_step(const char *run) {
    char p[1024], f[1100];
    snprintf(f, sizeof f, "%s/checkpoint-last.h5", path_of(p, sizeof p, run));
    nt_train_state *ts = malloc(sizeof *ts);
    int64_t step = ts && nt_ckpt_load_train(f, ts) == NT_OK ? ts->step : -1;
    free(ts);
    return step;
}

static void test_equivalence(void) {
    int rc = train(0, "r1", (const char *[]){"--steps", "20", "--accum", "2", NULL}, 0);
    CHECK(rc == 0, "1 process, accum 2: exit %d\n%s", rc, err_text);
    /* buckets of 1024 floats: ~36 of them, started one by one during the
     * last backward (a bucket started before its gradients are final would
     * break the equality) */
    rc = train_env(2, "r2", (const char *[]){"--steps", "20", "--accum", "1", NULL}, 300,
                   (const char *[]){"NT_DIST_BUCKET_MB=0.001", NULL});
    CHECK(rc == 0, "2 ranks, accum 1: exit %d\n%s", rc, err_text);
    CHECK(strstr(err_text, "[rank") == NULL, "rank 1 printed:\n%s", err_text);
    int same = 0;
    double mx = 0, d = ckpt_diff("r1", "r2", &same, &mx);
    printf("2 ranks x B vs 1 process x accum 2 of B, 20 updates (dropout 0.1): weights differ by "
           "%.3g relative (L2), %.3g at most (%s)\n", d, mx, same ? "bitwise equal" : "not bitwise");
    CHECK(d <= 1e-6, "weights differ by %.3g relative (> 1e-6)", d);
    /* the check can fail: a different seed gives other weights */
    rc = train(0, "r1s", (const char *[]){"--steps", "20", "--accum", "2", "--seed", "2", NULL}, 0);
    CHECK(rc == 0 && ckpt_diff("r1s", "r2", &same, &mx) > 1e-3, "a different seed must give other weights");
}

static void test_resume(void) {
    int rc = train(2, "r3", (const char *[]){"--steps", "20", "--stop-after", "10", NULL}, 300);
    CHECK(rc == 0, "2 ranks, stop after 10: exit %d\n%s", rc, err_text);
    CHECK(ckpt_step("r3") == 10, "checkpoint at step %lld, expected 10", (long long)ckpt_step("r3"));
    char r3[1024];
    path_of(r3, sizeof r3, "r3");
    nt_mpirun r;
    const char *a[] = {"train", "--resume", r3, "--steps", "20", "--threads", "1", NULL};
    CHECK(nt_mpirun_start(&r, 2, bin, a, NULL) == 0, "mpirun");
    rc = nt_mpirun_wait(&r, 300, out_text, sizeof out_text, err_text, sizeof err_text);
    CHECK(rc == 0, "2 ranks, resume: exit %d\n%s", rc, err_text);
    int same = 0;
    double mx = 0, d = ckpt_diff("r3", "r2", &same, &mx);
    CHECK(same, "resumed 2-rank run differs from the uninterrupted one (max relative %.3g)", d);
}

/* Each line of /proc/<pid>/stat holds the parent; the rank comes from the
 * process environment (OMPI_COMM_WORLD_RANK). The pid of rank `rank` among
 * the children of `parent`, or -1. */
static pid_t rank_pid(pid_t parent, int rank) {
    DIR *d = opendir("/proc");
    struct dirent *e;
    pid_t found = -1;
    char want[64];
    snprintf(want, sizeof want, "OMPI_COMM_WORLD_RANK=%d", rank);
    while (d && found < 0 && (e = readdir(d))) {
        pid_t pid = (pid_t)atol(e->d_name);
        if (pid <= 0) continue;
        char p[64];
        snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
        char *st = nt_proc_read_file(p, NULL);
        const char *close_paren = st ? strrchr(st, ')') : NULL;
        int ppid = -1;
        if (close_paren) sscanf(close_paren + 1, " %*c %d", &ppid);
        free(st);
        if (ppid != (int)parent) continue;
        snprintf(p, sizeof p, "/proc/%d/environ", (int)pid);
        size_t len = 0;
        char *env = nt_proc_read_file(p, &len);
        for (size_t i = 0; env && i < len; i += strlen(env + i) + 1)
            if (strcmp(env + i, want) == 0) found = pid;
        free(env);
    }
    if (d) closedir(d);
    return found;
}

/* Starts a long 2-rank run that saves every 5 updates and waits until its
 * first checkpoint is there. 0 on success. */
static int start_long_run(nt_mpirun *r, const char *out, const char *const *env) {
    char train_p[1024], valid_p[1024], out_p[1024], ck[1100];
    path_of(train_p, sizeof train_p, "d/train.tsv");
    path_of(valid_p, sizeof valid_p, "d/valid.tsv");
    path_of(out_p, sizeof out_p, out);
    snprintf(ck, sizeof ck, "%s/checkpoint-last.h5", out_p);
    const char *a[MAX_ARGS];
    int k = common_args(a, out_p, train_p, valid_p);
    a[k++] = "--steps", a[k++] = "1000000", a[k++] = "--save-every", a[k++] = "5";
    a[k++] = "--eval-every", a[k++] = "0";
    a[k] = NULL;
    if (nt_mpirun_start(r, 2, bin, a, env) != 0) return -1;
    while (!exists(ck)) {
        if (nt_mpirun_elapsed(r) > 120) return -1;
        usleep(50000);
    }
    return 0;
}

static void test_killed_rank(void) {
    nt_mpirun r;
    int started = start_long_run(&r, "rk", NULL) == 0;
    CHECK(started, "the long run did not write a checkpoint");
    pid_t victim = started ? rank_pid(r.pid, 1) : -1;
    CHECK(victim > 0, "rank 1's process not found among mpirun's children");
    if (victim > 0) kill(victim, SIGKILL);
    double t0 = nt_mpirun_elapsed(&r);
    int rc = nt_mpirun_wait(&r, t0 + 60, out_text, sizeof out_text, err_text, sizeof err_text);
    printf("killed rank 1: the job ended with status %d after %.1f s\n", rc, nt_mpirun_elapsed(&r) - t0);
    CHECK(rc != -2, "killing rank 1 left the job hanging (killed after 60 s)\n%s", err_text);
    CHECK(rc != 0, "killing rank 1: the job exited 0");
    CHECK(ckpt_step("rk") > 0, "checkpoint-last of the killed run does not load: %s", nt_errmsg());
}

static void test_missing_data_on_one_rank(void) {
    char train_p[1024], valid_p[1024], out_p[1024], missing[1024];
    path_of(train_p, sizeof train_p, "d/train.tsv");
    path_of(valid_p, sizeof valid_p, "d/valid.tsv");
    path_of(out_p, sizeof out_p, "rm");
    path_of(missing, sizeof missing, "d/missing.tsv");
    /* MPMD: rank 0 reads the data, rank 1 (as on a node without it) not */
    const char *a[MAX_ARGS];
    int k = common_args(a, out_p, train_p, valid_p);
    a[k++] = "--steps", a[k++] = "1000000";
    a[k++] = ":", a[k++] = "-np", a[k++] = "1", a[k++] = bin;
    k += common_args(a + k, out_p, missing, valid_p);
    a[k++] = "--steps", a[k++] = "1000000";
    a[k] = NULL;
    nt_mpirun r;
    CHECK(nt_mpirun_start(&r, 1, bin, a, NULL) == 0, "mpirun");
    int rc = nt_mpirun_wait(&r, 60, out_text, sizeof out_text, err_text, sizeof err_text);
    printf("missing data on rank 1: the job ended with status %d after %.1f s\n", rc, nt_mpirun_elapsed(&r));
    CHECK(rc != -2, "missing data on rank 1 left the job hanging\n%s", err_text);
    CHECK(rc != 0, "missing data on rank 1: the job exited 0");
    CHECK(strstr(err_text, "[rank 1]") && strstr(err_text, "missing.tsv"),
          "rank 1's error (naming the file) not shown:\n%s", err_text);
}

static void test_sigint(void) {
    /* mpirun turns SIGINT into SIGTERM to the ranks after
     * odls_base_sigkill_timeout seconds, and SIGKILL as long again later:
     * the ranks get that long to finish the update and save */
    nt_mpirun r;
    const char *env[] = {"OMPI_MCA_odls_base_sigkill_timeout=5", NULL};
    int started = start_long_run(&r, "ri", env) == 0;
    CHECK(started, "the long run did not write a checkpoint");
    nt_mpirun_signal(&r, SIGINT);
    int rc = nt_mpirun_wait(&r, nt_mpirun_elapsed(&r) + 60, out_text, sizeof out_text, err_text, sizeof err_text);
    CHECK(rc != -2, "SIGINT: the job hung\n%s", err_text);
    const char *msg = strstr(err_text, "interrupted by SIGTERM after step ");
    CHECK(msg != NULL, "SIGINT: no 'interrupted' message from rank 0 (exit %d):\n%s", rc, err_text);
    CHECK(strstr(err_text, "[rank") == NULL, "a rank failed:\n%s", err_text);
    long long at = msg ? atoll(msg + strlen("interrupted by SIGTERM after step ")) : -1;
    CHECK(at > 0 && ckpt_step("ri") == at, "checkpoint at %lld, interrupted at %lld", (long long)ckpt_step("ri"), at);
    printf("SIGINT to mpirun: both ranks stopped after update %lld, mpirun exit %d\n", at, rc);
    /* and the run goes on from there */
    char ri[1024], steps[32];
    path_of(ri, sizeof ri, "ri");
    snprintf(steps, sizeof steps, "%lld", at + 3);
    const char *a[] = {"train", "--resume", ri, "--steps", steps, "--threads", "1", NULL};
    CHECK(nt_mpirun_start(&r, 2, bin, a, NULL) == 0, "mpirun");
    rc = nt_mpirun_wait(&r, 300, out_text, sizeof out_text, err_text, sizeof err_text);
    CHECK(rc == 0 && ckpt_step("ri") == at + 3, "resume after SIGINT: exit %d, step %lld\n%s", rc,
          (long long)ckpt_step("ri"), err_text);
}

int main(void) {
    if (!nt_dist_built() || !nt_mpirun_path()) {
        printf("test_mpi_train: skipped: %s\n",
               nt_dist_built() ? "NT_MPIEXEC is not set (run through ctest)" : nt_dist_build_info());
        return 0;
    }
    const char *b = getenv("NT_BIN");
    snprintf(bin, sizeof bin, "%s/nextok-translate", b ? b : "bin");
    if (!mkdtemp(tmp)) {
        fprintf(stderr, "cannot create a temporary folder\n");
        return 1;
    }
    char d[1024];
    path_of(d, sizeof d, "d");
    const char *a[] = {"data", "--task", "en-fr", "--out", d, "--train", "1200", "--valid", "48", "--test", "8", NULL};
    int rc = nt_proc_run(bin, a, NULL);
    CHECK(rc == 0, "data: exit %d", rc);
    if (rc == 0) {
        test_equivalence();
        test_resume();
        test_missing_data_on_one_rank();
        test_killed_rank();
        test_sigint();
    }
    if (nt_check_failures == 0) {
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
    }
    return nt_check_report("test_mpi_train");
}
