/* signals.h - SIGINT/SIGTERM as a request to stop: the handler only sets a
 * flag; the training loop polls it, saves a checkpoint and returns
 * NT_ERR_INTERRUPTED (the CLI then says how to resume and exits 128 + the
 * signal's number, as a shell does for a process the signal ended).
 *
 *     nt_signals_install();
 *     while (training) {
 *         ...one step...
 *         if (nt_signals_pending()) { save; nt_signals_restore(); return NT_ERR_INTERRUPTED; }
 *     }
 *     nt_signals_restore();
 *
 * A second signal while the first is pending ends the process at once with
 * the signal's default action (a user pressing Ctrl-C twice means it; the
 * checkpoint write is atomic, so no checkpoint is ever left half-written).
 * restore puts back the handlers that were there before install.
 */
#ifndef NT_SIGNALS_H
#define NT_SIGNALS_H

/* Installs the handlers and clears the flag. Nested calls are counted: only
 * the outermost install/restore pair changes the handlers. */
void nt_signals_install(void);
/* Puts back the previous handlers (flag kept, so a caller can still read it). */
void nt_signals_restore(void);
/* The signal number received since install (SIGINT or SIGTERM), or 0. */
int nt_signals_pending(void);
/* Clears the flag. */
void nt_signals_clear(void);
/* Sets the flag as if `sig` had arrived (tests, and a caller's own stop). */
void nt_signals_request(int sig);
/* "SIGINT", "SIGTERM", or "signal N". */
const char *nt_signals_name(int sig);

#endif
