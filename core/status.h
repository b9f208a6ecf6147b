/* status.h - error codes and the last error message (nt_status, nt_errmsg).
 *
 * Every public function that can fail returns an nt_status and, on failure,
 * leaves a message that names what is wrong, readable with nt_errmsg():
 *
 *     nt_tensor *y;
 *     nt_status s = nt_matmul(ctx, &y, a, b, 0, 0);
 *     if (s != NT_OK) fprintf(stderr, "error: %s\n", nt_errmsg());
 *     // -> "nt_matmul: inner dims differ (a: 4x8, b: 7x3)"
 *
 * The message is kept per thread. Nothing in nextok aborts on anything a
 * user can get wrong; NT_ASSERT guards invariants only the library itself
 * can break (a failed one is a nextok bug).
 */
#ifndef NT_STATUS_H
#define NT_STATUS_H

#include <stdio.h>
#include <stdlib.h>

typedef enum nt_status {
    NT_OK = 0,           /* success */
    NT_ERR_SHAPE,        /* tensor shapes or dtypes do not fit the operation */
    NT_ERR_NOMEM,        /* an allocation failed */
    NT_ERR_IO,           /* a file could not be opened, read or written */
    NT_ERR_FORMAT,       /* a file or input is malformed (bad UTF-8, bad checkpoint...) */
    NT_ERR_ARG,          /* an argument is out of range, NULL, or inconsistent */
    NT_ERR_STATE,        /* the call is not valid in the object's current state */
    NT_ERR_NUMERIC,      /* a NaN or Inf appeared where a finite number is required */
    NT_ERR_INTERRUPTED,  /* stopped on request (SIGINT/SIGTERM) */
} nt_status;

/* The message of the last failure on this thread ("" if none). */
const char *nt_errmsg(void);

/* A stable name for a status ("NT_ERR_SHAPE"). */
const char *nt_status_name(nt_status s);

/* Records a printf-style message for nt_errmsg() and returns `s`, so that a
 * failing path reads `return nt_error(NT_ERR_ARG, "nt_foo: bad x %d", x);`. */
nt_status nt_error(nt_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Prefixes the current message with "prefix: " (adds context on the way up)
 * and returns `s` unchanged. */
nt_status nt_error_wrap(nt_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Clears the message (nt_errmsg() returns "" afterwards). */
void nt_error_clear(void);

/* Propagates a failure: NT_TRY(nt_add(ctx, &y, a, b)); */
#define NT_TRY(expr)                          \
    do {                                      \
        nt_status nt_try_s_ = (expr);         \
        if (nt_try_s_ != NT_OK) return nt_try_s_; \
    } while (0)

/* Internal invariant; a failure is a bug in nextok, never a user error. */
#define NT_ASSERT(cond)                                                       \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "nextok internal error: %s (%s:%d)\n", #cond,     \
                    __FILE__, __LINE__);                                      \
            abort();                                                          \
        }                                                                     \
    } while (0)

#endif
