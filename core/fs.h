/* fs.h - file-system helpers the library and the CLIs share. */
#ifndef NT_FS_H
#define NT_FS_H

#include "core/status.h"

/* Creates `dir` and every missing parent (mkdir -p), mode 0777 before the
 * umask. NT_OK when it exists as a directory afterwards. Errors: NT_ERR_ARG (an
 * empty or over-long name), NT_ERR_IO (a part cannot be created, or `dir`
 * exists and is not a directory); the message names the part and the reason. */
nt_status nt_fs_mkdirs(const char *dir);

#endif
