/* parallel.c - thread count and the OpenBLAS build check. */
#include "core/parallel.h"

#include <cblas.h>
#include <omp.h>
#include <stdio.h>

nt_status nt_threads_set(int n) {
    if (n < 1) return nt_error(NT_ERR_ARG, "nt_threads_set: thread count %d must be >= 1", n);
    omp_set_num_threads(n);
    openblas_set_num_threads(n);
    return NT_OK;
}

int nt_threads_get(void) { return omp_get_max_threads(); }

const char *nt_blas_info(void) {
    static char buf[256];
    int par = openblas_get_parallel();
    snprintf(buf, sizeof buf, "%s (%s)", openblas_get_config(),
             par == 2 ? "OpenMP" : par == 1 ? "pthreads" : "sequential");
    return buf;
}

nt_status nt_blas_check(void) {
    /* openblas_get_parallel(): 0 sequential, 1 pthreads, 2 OpenMP. */
    if (openblas_get_parallel() != 2)
        return nt_error(NT_ERR_STATE,
                        "nt_blas_check: the loaded OpenBLAS is not the OpenMP build (%s); "
                        "install libopenblas-openmp-dev and keep the build's run path",
                        nt_blas_info());
    return NT_OK;
}
