/* values.h - test support: deterministic, well-spread test values in [-1, 1]
 * (multiples of 0.001), the same on every machine and thread count.
 *
 *     float x[64];
 *     nt_test_fill(x, 64, 7);              // x[i] = nt_test_val(i, 7)
 *     float w = nt_test_val(3, 8);         // another stream: another salt
 */
#ifndef NT_TEST_VALUES_H
#define NT_TEST_VALUES_H

#include <stdint.h>

/* Value i of stream `salt`: a hash of (i, salt) mapped to -1.000 .. 1.000. */
float nt_test_val(uint32_t i, uint32_t salt);

/* x[i] = nt_test_val(i, salt) for i < n. */
void nt_test_fill(float *x, int64_t n, uint32_t salt);

#endif
