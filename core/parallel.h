/* parallel.h - threads: one OpenMP pool shared by our kernels and OpenBLAS.
 *
 *     nt_threads_set(2);            // OpenMP and OpenBLAS both use 2
 *     if (nt_blas_check() != NT_OK) fprintf(stderr, "%s\n", nt_errmsg());
 */
#ifndef NT_PARALLEL_H
#define NT_PARALLEL_H

#include "core/status.h"

/* Sets the thread count of OpenMP loops and of OpenBLAS (n >= 1).
 * NT_ERR_ARG for n < 1 (nothing changed). */
nt_status nt_threads_set(int n);
int nt_threads_get(void);

/* Checks that the OpenBLAS loaded at run time is the OpenMP build (so BLAS
 * and our loops share libgomp's pool). NT_ERR_STATE with a message naming
 * the loaded build otherwise. */
nt_status nt_blas_check(void);

/* "OpenBLAS 0.3.21 ... (OpenMP)" - the loaded library's own description. */
const char *nt_blas_info(void);

#endif
