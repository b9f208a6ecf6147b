/* runlock.h - one process at a time in a run folder: an advisory lock on
 * "<run>/.lock" that holds the owner's pid.
 *
 *     nt_runlock *lock;
 *     NT_TRY(nt_runlock_acquire("runs/demo", &lock)); // NT_ERR_STATE if another process trains there
 *     ...                                             // train, save checkpoints
 *     nt_runlock_release(lock);                       // also released when the process ends
 *
 * The lock is flock(2) on the file, so the kernel drops it when its holder
 * exits or is killed (no stale locks after a crash); the pid written into
 * the file is only for the message. Advisory: it keeps two nextok
 * processes apart, not other programs. On NFS, flock may be local to one
 * machine.
 */
#ifndef NT_RUNLOCK_H
#define NT_RUNLOCK_H

#include "core/status.h"

typedef struct nt_runlock nt_runlock;

/* Takes the lock of run folder `dir` (which must exist) without waiting.
 * NT_ERR_STATE if another process holds it: "runs/demo is in use by process
 * 12345 (lock runs/demo/.lock); wait for it to finish or stop it";
 * NT_ERR_IO if the lock file cannot be created; *out untouched on error. */
nt_status nt_runlock_acquire(const char *dir, nt_runlock **out);

/* Releases the lock (the file stays, emptied). NULL is a no-op. */
void nt_runlock_release(nt_runlock *lock);

#endif
