/* atomic_file.c - write to a temporary file, fsync, rename over the target, fsync the folder. */
#include "train/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"

/* fsync of a file or folder by name. Some file systems cannot fsync a folder
 * (EINVAL); the rename stands then. */
static nt_status fsync_path(const char *path, int dir) {
    int fd = open(path, O_RDONLY | (dir ? O_DIRECTORY : 0));
    if (fd < 0) return nt_error(NT_ERR_IO, "%s: cannot open to sync (%s)", path, strerror(errno));
    int e = fsync(fd);
    int err = errno;
    close(fd);
    if (e != 0 && !(dir && (err == EINVAL || err == EBADF)))
        return nt_error(NT_ERR_IO, "%s: fsync failed (%s)", path, strerror(err));
    return NT_OK;
}

nt_status nt_atomic_file_rename(const char *tmp, const char *path) {
    if (!tmp || !path) return nt_error(NT_ERR_ARG, "nt_atomic_file_rename: NULL argument");
    if (rename(tmp, path) != 0) {
        int err = errno;
        remove(tmp);
        return nt_error(NT_ERR_IO, "cannot rename %s to %s (%s)", tmp, path, strerror(err));
    }
    /* the folder, to make the rename durable (no allocation here: the file
     * has been replaced, so this step must not fail for want of memory) */
    char dir[4096];
    if (strlen(path) >= sizeof dir) return NT_OK; /* longer than any folder we can open by name */
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir) slash[1] = 0;
    else if (slash) *slash = 0;
    else snprintf(dir, sizeof dir, ".");
    return fsync_path(dir, 1);
}

static void release(nt_atomic_file *af) {
    nt_free(af->path);
    nt_free(af->tmp);
    memset(af, 0, sizeof *af);
}

nt_status nt_atomic_file_open(nt_atomic_file *af, const char *path) {
    if (!af || !path) return nt_error(NT_ERR_ARG, "nt_atomic_file_open: NULL argument");
    memset(af, 0, sizeof *af);
    size_t len = strlen(path);
    af->path = nt_malloc(len + 1);
    af->tmp = nt_malloc(len + 32);
    if (!af->path || !af->tmp) {
        release(af);
        return nt_error(NT_ERR_NOMEM, "nt_atomic_file_open: out of memory");
    }
    memcpy(af->path, path, len + 1);
    snprintf(af->tmp, len + 32, "%s.tmp-%ld", path, (long)getpid());
    af->f = fopen(af->tmp, "wb");
    if (!af->f) {
        nt_status s = nt_error(NT_ERR_IO, "cannot create %s (%s)", af->tmp, strerror(errno));
        release(af);
        return s;
    }
    return NT_OK;
}

void nt_atomic_file_abort(nt_atomic_file *af) {
    if (!af) return;
    if (af->f) fclose(af->f);
    if (af->tmp) remove(af->tmp);
    release(af);
}

nt_status nt_atomic_file_commit(nt_atomic_file *af) {
    if (!af || !af->f) return nt_error(NT_ERR_ARG, "nt_atomic_file_commit: no open file");
    int ok = !ferror(af->f) && fflush(af->f) == 0 && fsync(fileno(af->f)) == 0;
    int err = ok ? 0 : errno;
    if (fclose(af->f) != 0 && ok) ok = 0, err = errno;
    af->f = NULL;
    nt_status s;
    if (!ok) {
        s = nt_error(NT_ERR_IO, "cannot write %s (%s)", af->tmp, err ? strerror(err) : "write error");
        remove(af->tmp);
    } else {
        s = nt_atomic_file_rename(af->tmp, af->path);
    }
    release(af);
    return s;
}

nt_status nt_atomic_file_write(const char *path, const void *data, size_t n) {
    nt_atomic_file af;
    NT_TRY(nt_atomic_file_open(&af, path));
    if (n > 0 && fwrite(data, 1, n, af.f) != n) {
        nt_status s = nt_error(NT_ERR_IO, "cannot write %s (%s)", af.tmp, strerror(errno));
        nt_atomic_file_abort(&af);
        return s;
    }
    return nt_atomic_file_commit(&af);
}
