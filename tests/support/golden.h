/* golden.h - reading the PyTorch golden fixtures (tests/make_golden*.py) in tests. */
#ifndef NT_TEST_GOLDEN_H
#define NT_TEST_GOLDEN_H

#include <hdf5.h>

#include "core/tensor.h"

/* An int32 (B, T) dataset of `f` at `path` as a new tensor of ctx; NULL when
 * it is missing or not 2-D. */
nt_tensor *nt_test_read_ids(nt_ctx *ctx, hid_t f, const char *path);

/* A float64 scalar dataset; NAN when missing. */
double nt_test_read_scalar(hid_t f, const char *path);

/* The batch of a golden fixture: /inputs/src and /inputs/src_mask (an
 * encoder-decoder's; NULL otherwise), /inputs/tgt_in and /inputs/labels, as
 * tensors of ctx. Returns 1 when all of them were read. */
typedef struct nt_test_batch {
    nt_tensor *src, *src_mask, *tgt, *labels; /* (B, S), (B, S), (B, T), (B, T) */
} nt_test_batch;
int nt_test_read_batch(nt_ctx *ctx, hid_t f, int encdec, nt_test_batch *b);

#endif
