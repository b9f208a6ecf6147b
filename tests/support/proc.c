/* proc.c - test support: run a program with captured output; whole-file read and write. */
#include "support/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int nt_proc_temp_fd(void) {
    const char *dir = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/nt_proc_XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd >= 0) unlink(path);
    return fd;
}

static int write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k <= 0) return -1;
        p += k, n -= (size_t)k;
    }
    return 0;
}

void nt_proc_read_back(int fd, char *buf, size_t cap) {
    if (!buf || !cap) return;
    size_t len = 0;
    if (lseek(fd, 0, SEEK_SET) == 0) {
        ssize_t k;
        while (len + 1 < cap && (k = read(fd, buf + len, cap - 1 - len)) > 0) len += (size_t)k;
    }
    buf[len] = 0;
}

/* The length of the NAME= prefix of "NAME=value" (0 if there is no '='). */
static size_t name_len(const char *entry) {
    const char *eq = strchr(entry, '=');
    return eq ? (size_t)(eq - entry) + 1 : 0;
}

char **nt_proc_env_with(const char *const *extra) {
    size_t n = 0, m = 0;
    while (environ[n]) n++;
    while (extra && extra[m]) m++;
    char **env = malloc((n + m + 1) * sizeof *env);
    if (!env) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int replaced = 0;
        for (size_t j = 0; j < m && !replaced; j++) {
            size_t len = name_len(extra[j]);
            replaced = len > 0 && strncmp(environ[i], extra[j], len) == 0;
        }
        if (!replaced) env[k++] = environ[i];
    }
    for (size_t j = 0; j < m; j++) env[k++] = (char *)extra[j];
    env[k] = NULL;
    return env;
}

int nt_proc_run(const char *path, const char *const *args, const nt_proc_io *io) {
    static const nt_proc_io none = {0};
    if (!io) io = &none;
    if (io->out && io->out_cap) io->out[0] = 0;
    if (io->err && io->err_cap) io->err[0] = 0;
    if (!path) return -1;
    size_t n_args = 0;
    while (args && args[n_args]) n_args++;
    const char **argv = malloc((n_args + 2) * sizeof *argv);
    char **env = nt_proc_env_with(io->env);
    int in = io->input ? nt_proc_temp_fd() : open("/dev/null", O_RDONLY);
    int out = nt_proc_temp_fd(), err = nt_proc_temp_fd(), status = -1;
    if (!argv || !env || in < 0 || out < 0 || err < 0) goto done;
    if (io->input && (write_all(in, io->input, strlen(io->input)) != 0 || lseek(in, 0, SEEK_SET) != 0)) goto done;
    argv[0] = path;
    for (size_t i = 0; i < n_args; i++) argv[i + 1] = args[i];
    argv[n_args + 1] = NULL;

    fflush(NULL); /* else buffered test output would be printed twice */
    pid_t pid = fork();
    if (pid < 0) goto done;
    if (pid == 0) {
        if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) _exit(127);
        execve(path, (char *const *)argv, env);
        _exit(127);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) goto done;
    status = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
    nt_proc_read_back(out, io->out, io->out_cap);
    nt_proc_read_back(err, io->err, io->err_cap);
done:
    if (in >= 0) close(in);
    if (out >= 0) close(out);
    if (err >= 0) close(err);
    free(env);
    free(argv);
    return status;
}

char *nt_proc_read_file(const char *path, size_t *len) {
    FILE *f = path ? fopen(path, "rb") : NULL;
    if (!f) return NULL;
    size_t cap = 1 << 12, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - 1 - n, f);
        if (n < cap - 1) break; /* end of file or a read error */
        char *grown = realloc(buf, cap * 2);
        if (!grown) free(buf);
        buf = grown, cap *= 2;
    }
    int failed = ferror(f);
    fclose(f);
    if (!buf || failed) {
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

int nt_proc_write_file(const char *path, const void *data, size_t len) {
    FILE *f = path ? fopen(path, "wb") : NULL;
    if (!f) return -1;
    int ok = (len == 0 || fwrite(data, 1, len, f) == len);
    ok &= fclose(f) == 0;
    return ok ? 0 : -1;
}
