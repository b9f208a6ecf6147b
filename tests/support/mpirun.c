/* mpirun.c - test support: run a program under mpirun with a time limit. */
#include "support/mpirun.h"
#include "support/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

const char *nt_mpirun_path(void) {
    const char *p = getenv("NT_MPIEXEC");
    return p && *p ? p : NULL;
}

int nt_mpirun_start(nt_mpirun *r, int np, const char *prog, const char *const *args,
                    const char *const *env) {
    memset(r, 0, sizeof *r);
    r->pid = -1, r->out = r->err = -1;
    const char *mpirun = nt_mpirun_path();
    if (!mpirun || !prog) return -1;
    const char *argv[64];
    char npbuf[16];
    int k = 0;
    snprintf(npbuf, sizeof npbuf, "%d", np);
    argv[k++] = mpirun;
    if (geteuid() == 0) argv[k++] = "--allow-run-as-root";
    argv[k++] = "--oversubscribe";
    argv[k++] = "-np", argv[k++] = npbuf;
    argv[k++] = prog;
    for (int i = 0; args && args[i] && k < 62; i++) argv[k++] = args[i];
    argv[k] = NULL;
    r->out = nt_proc_temp_fd(), r->err = nt_proc_temp_fd();
    if (r->out < 0 || r->err < 0) return -1;
    /* the environment: env, and ASan's leak report off (it would fail every
     * rank on Open MPI's own allocations); built before fork (proc.h) */
    const char *extra[64];
    int e = 0;
    for (int i = 0; env && env[i] && e < 62; i++) extra[e++] = env[i];
    char asan[512];
    const char *a = getenv("ASAN_OPTIONS");
    if (a) snprintf(asan, sizeof asan, "ASAN_OPTIONS=%s:detect_leaks=0", a), extra[e++] = asan;
    extra[e] = NULL;
    char **envp = nt_proc_env_with(extra);
    if (!envp) return -1;
    fflush(NULL);
    r->t0 = mono();
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        int in = open("/dev/null", O_RDONLY);
        if (in < 0 || dup2(in, 0) < 0 || dup2(r->out, 1) < 0 || dup2(r->err, 2) < 0) _exit(127);
        execve(mpirun, (char *const *)argv, envp);
        _exit(127);
    }
    free(envp);
    if (pid < 0) return -1;
    setpgid(pid, pid);
    r->pid = pid;
    return 0;
}

void nt_mpirun_signal(nt_mpirun *r, int sig) {
    if (r->pid > 0) kill(r->pid, sig);
}

double nt_mpirun_elapsed(const nt_mpirun *r) { return mono() - r->t0; }

int nt_mpirun_wait(nt_mpirun *r, double timeout_s, char *out, size_t out_cap, char *err, size_t err_cap) {
    if (out && out_cap) out[0] = 0;
    if (err && err_cap) err[0] = 0;
    if (r->pid <= 0) return -1;
    int st = 0, status = -1;
    for (;;) {
        pid_t w = waitpid(r->pid, &st, WNOHANG);
        if (w == r->pid) {
            status = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
            break;
        }
        if (w < 0 && errno != EINTR) break;
        if (mono() - r->t0 > timeout_s) {
            kill(-r->pid, SIGKILL);
            while (waitpid(r->pid, &st, 0) < 0 && errno == EINTR) {}
            status = -2;
            break;
        }
        usleep(20000);
    }
    /* ranks left over (mpirun gone first) must not outlive the test */
    kill(-r->pid, SIGKILL);
    nt_proc_read_back(r->out, out, out_cap);
    nt_proc_read_back(r->err, err, err_cap);
    close(r->out), close(r->err);
    r->pid = -1;
    return status;
}
