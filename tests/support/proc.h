/* proc.h - test support: run a program and capture what it prints; read and
 * write whole files. For the tests that drive the real binaries ($NT_BIN)
 * and compare the files they write.
 *
 *     static char out[1 << 16], err[1 << 16];
 *     const char *args[] = {"eval", "--checkpoint", path, NULL};
 *     nt_proc_io io = {.out = out, .out_cap = sizeof out, .err = err, .err_cap = sizeof err};
 *     int rc = nt_proc_run(bin, args, &io);        // exit status
 *     CHECK(rc == 0, "eval: %s", err);
 *     char *text = nt_proc_read_file(path, NULL);  // malloc'd, NUL-terminated
 *     free(text);
 *
 * Nothing here aborts: a failure is a return value the test CHECKs.
 */
#ifndef NT_TEST_PROC_H
#define NT_TEST_PROC_H

#include <stddef.h>

/* What a run reads and where its output goes. Every field may be zero. */
typedef struct nt_proc_io {
    const char *input;       /* text on stdin; NULL: /dev/null */
    const char *const *env;  /* "NAME=value" entries added to (or replacing in) the
                                environment, NULL-terminated; NULL: none */
    char *out;               /* stdout, NUL-terminated, cut at out_cap - 1 bytes; NULL: discarded */
    size_t out_cap;
    char *err;               /* stderr, likewise */
    size_t err_cap;
} nt_proc_io;

/* Runs the program at `path` with argv = {path, args..., NULL} (`args` is
 * NULL-terminated and may be NULL) and waits for it. `io` may be NULL (no
 * input, output discarded). Returns its exit status, 128 + N if signal N
 * killed it (a crash), 127 if it could not be executed, -1 if the process or
 * its capture files could not be created (then out and err are empty). */
int nt_proc_run(const char *path, const char *const *args, const nt_proc_io *io);

/* The whole file at `path`, NUL-terminated, in memory from malloc (the
 * caller frees it); *len (if not NULL) gets its size in bytes, without the
 * NUL. Returns NULL if the file cannot be opened or read, or memory runs out. */
char *nt_proc_read_file(const char *path, size_t *len);

/* Writes `len` bytes of `data` to `path`, replacing it. Returns 0, or -1 if
 * the file cannot be created or written. */
int nt_proc_write_file(const char *path, const void *data, size_t len);

/* The pieces nt_proc_run is made of, for runners that start a process
 * differently (support/mpirun.c). An unlinked temporary file open for reading
 * and writing, or -1: output is captured in files rather than pipes, so a
 * child filling both stdout and stderr cannot block on a parent that reads
 * only one of them. */
int nt_proc_temp_fd(void);
/* What fd holds from its start into buf, NUL-terminated, cut at cap - 1
 * bytes (buf NULL or cap 0: nothing). */
void nt_proc_read_back(int fd, char *buf, size_t cap);
/* environ with `extra` ("NAME=value", NULL-terminated, may be NULL) added,
 * entries of the same name replaced: a malloc'd array (the caller frees it)
 * of borrowed strings, NULL when out of memory. Build it before fork: the
 * child of a process with running threads may call only async-signal-safe
 * functions, and setenv is not one. */
char **nt_proc_env_with(const char *const *extra);

#endif
