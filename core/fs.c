/* fs.c - file-system helpers the library and the CLIs share. */
#include "core/fs.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

nt_status nt_fs_mkdirs(const char *dir) {
    char path[4096];
    size_t n = dir ? strlen(dir) : 0;
    if (n == 0 || n >= sizeof path) return nt_error(NT_ERR_ARG, "bad directory name '%s'", dir ? dir : "(null)");
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != 0) continue;
        char c = path[i];
        path[i] = 0;
        if (mkdir(path, 0777) != 0 && errno != EEXIST)
            return nt_error(NT_ERR_IO, "cannot create directory %s (%s)", path, strerror(errno));
        path[i] = c;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) return nt_error(NT_ERR_IO, "%s is not a directory", dir);
    return NT_OK;
}
