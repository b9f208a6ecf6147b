/* mpirun.c - test support: run a program under mpirun with a time limit. */
#include "support/mpirun.h"

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

static int capture_fd(void) {
    const char *dir = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/nt_mpirun_XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd >= 0) unlink(path);
    return fd;
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
    r->out = capture_fd(), r->err = capture_fd();
    if (r->out < 0 || r->err < 0) return -1;
    /* ASan's leak report would fail every rank on Open MPI's own allocations. */
    char asan[512] = "";
    const char *a = getenv("ASAN_OPTIONS");
    if (a) snprintf(asan, sizeof asan, "%s:detect_leaks=0", a);
    fflush(NULL);
    r->t0 = mono();
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        setpgid(0, 0);
        for (int i = 0; env && env[i]; i++) putenv((char *)env[i]);
        if (asan[0]) setenv("ASAN_OPTIONS", asan, 1);
        int in = open("/dev/null", O_RDONLY);
        if (in < 0 || dup2(in, 0) < 0 || dup2(r->out, 1) < 0 || dup2(r->err, 2) < 0) _exit(127);
        execv(mpirun, (char *const *)argv);
        _exit(127);
    }
    setpgid(pid, pid);
    r->pid = pid;
    return 0;
}

void nt_mpirun_signal(nt_mpirun *r, int sig) {
    if (r->pid > 0) kill(r->pid, sig);
}

double nt_mpirun_elapsed(const nt_mpirun *r) { return mono() - r->t0; }

static void read_back(int fd, char *buf, size_t cap) {
    if (!buf || !cap) return;
    size_t len = 0;
    if (lseek(fd, 0, SEEK_SET) == 0) {
        ssize_t k;
        while (len + 1 < cap && (k = read(fd, buf + len, cap - 1 - len)) > 0) len += (size_t)k;
    }
    buf[len] = 0;
}

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
    read_back(r->out, out, out_cap);
    read_back(r->err, err, err_cap);
    close(r->out), close(r->err);
    r->pid = -1;
    return status;
}
