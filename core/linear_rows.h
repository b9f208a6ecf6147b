/* linear_rows.h - nt_linear's few-row kernel for callers that split the
 * output rows across their own threads (the batch-1 decoder of
 * nn/generate_fast.c runs a whole step in one parallel region).
 *
 *     // inside `#pragma omp parallel`: thread t computes outputs [o0, o1)
 *     nt_linear_rows(y, x, W, b, 1, In, Out, o0, o1);
 *
 * The summation order is nt_linear's few-row order (see core/matmul.c), so
 * y[r, o] is bitwise what nt_linear gives for up to 16 rows, whatever the
 * output range or the caller's thread split. Internal: no validation (the
 * caller checks shapes), no parallel region, no allocation.
 */
#ifndef NT_LINEAR_ROWS_H
#define NT_LINEAR_ROWS_H

/* Y[r * Out + o] = bias[o] (if bias) + sum_j X[r * In + j] W[o * In + j]
 * for r < R and o in [o0, o1); W is (Out, In) row-major, 0 <= o0 <= o1 <= Out. */
void nt_linear_rows(float *Y, const float *X, const float *W, const float *bias, int R, int In,
                    int Out, int o0, int o1);

#endif
