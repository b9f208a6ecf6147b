/* values.c - deterministic test values. */
#include "support/values.h"

float nt_test_val(uint32_t i, uint32_t salt) {
    uint32_t h = (i + 0x9e3779b9u * salt) * 2654435761u;
    h ^= h >> 15;
    h *= 2246822519u;
    h ^= h >> 13;
    return (float)(h % 2001) / 1000.0f - 1.0f;
}

void nt_test_fill(float *x, int64_t n, uint32_t salt) {
    for (int64_t i = 0; i < n; i++) x[i] = nt_test_val((uint32_t)i, salt);
}
