/* runlock.c - the advisory lock of a run folder (flock on <run>/.lock, holding the pid). */
#include "train/runlock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/alloc.h"

struct nt_runlock {
    int fd;
};

nt_status nt_runlock_acquire(const char *dir, nt_runlock **out) {
    if (!dir || !*dir || !out) return nt_error(NT_ERR_ARG, "nt_runlock_acquire: NULL argument");
    char path[4200];
    if ((size_t)snprintf(path, sizeof path, "%s/.lock", dir) >= sizeof path)
        return nt_error(NT_ERR_ARG, "nt_runlock_acquire: folder name too long: %s", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return nt_error(NT_ERR_IO, "cannot create the run lock %s (%s)", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        char buf[32] = "";
        ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
        close(fd);
        if (err != EWOULDBLOCK)
            return nt_error(NT_ERR_IO, "cannot lock %s (%s)", path, strerror(err));
        buf[n > 0 ? n : 0] = 0;
        long pid = strtol(buf, NULL, 10);
        if (pid > 0)
            return nt_error(NT_ERR_STATE,
                            "%s is in use by process %ld (lock %s); wait for it to finish or stop it", dir,
                            pid, path);
        return nt_error(NT_ERR_STATE, "%s is in use by another process (lock %s)", dir, path);
    }
    char pid[32];
    int k = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)k, 0) != k) {
        int err = errno;
        close(fd);
        return nt_error(NT_ERR_IO, "cannot write the run lock %s (%s)", path, strerror(err));
    }
    nt_runlock *l = nt_malloc(sizeof *l);
    if (!l) {
        close(fd);
        return nt_error(NT_ERR_NOMEM, "nt_runlock_acquire: out of memory");
    }
    l->fd = fd;
    *out = l;
    return NT_OK;
}

void nt_runlock_release(nt_runlock *l) {
    if (!l) return;
    if (ftruncate(l->fd, 0) != 0) { /* best effort: the lock, not the pid, is what counts */ }
    close(l->fd); /* drops the flock */
    nt_free(l);
}
