/* atomic_file.h - writing a file atomically: the bytes go to a temporary
 * file in the same folder ("<path>.tmp-<pid>"), which is flushed, fsync'ed
 * and renamed over `path`, then the folder is fsync'ed. A crash or a full
 * disk mid-write leaves the old file or the new one, never a broken one.
 * Checkpoints (train/checkpoint.c), the run report, metrics.jsonl rewrites
 * on resume: every file nextok replaces goes through here.
 *
 *     nt_atomic_file af;
 *     NT_TRY(nt_atomic_file_open(&af, "runs/demo/metrics.jsonl"));
 *     fputs("{\"step\":1}\n", af.f);
 *     NT_TRY(nt_atomic_file_commit(&af));   // or nt_atomic_file_abort(&af)
 *
 * or, with the bytes in memory: nt_atomic_file_write(path, data, n).
 */
#ifndef NT_TRAIN_ATOMIC_FILE_H
#define NT_TRAIN_ATOMIC_FILE_H

#include <stddef.h>
#include <stdio.h>

#include "core/status.h"

typedef struct nt_atomic_file {
    FILE *f;     /* write here (a stdio stream on the temporary file) */
    char *path;  /* the target (owned) */
    char *tmp;   /* the temporary file (owned) */
} nt_atomic_file;

/* Creates the temporary file for `path`. NT_ERR_IO naming it (and the
 * reason) if it cannot be created, NT_ERR_NOMEM; on error *af is zeroed and
 * nothing is left on disk. */
nt_status nt_atomic_file_open(nt_atomic_file *af, const char *path);

/* Flushes, fsyncs and closes the temporary file, renames it over the target
 * and fsyncs the folder. On failure (NT_ERR_IO naming the file and the
 * reason, e.g. "No space left on device", also when a write to af->f
 * failed) the temporary file is removed and the target is untouched. *af is
 * released either way. */
nt_status nt_atomic_file_commit(nt_atomic_file *af);

/* Closes and removes the temporary file (error paths); the target is
 * untouched. A zeroed *af is a no-op. */
void nt_atomic_file_abort(nt_atomic_file *af);

/* Writes n bytes of data to `path` atomically (open, write, commit). */
nt_status nt_atomic_file_write(const char *path, const void *data, size_t n);

/* The last step, for a temporary file the caller wrote and fsync'ed itself
 * (the checkpoint's plain write(2) calls): renames tmp over path and fsyncs
 * the folder. On a failed rename, tmp is removed and NT_ERR_IO returned. */
nt_status nt_atomic_file_rename(const char *tmp, const char *path);

#endif
