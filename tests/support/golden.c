/* golden.c - reading the PyTorch golden fixtures (tests/make_golden*.py) in tests. */
#include "support/golden.h"

#include <math.h>

nt_tensor *nt_test_read_ids(nt_ctx *ctx, hid_t f, const char *path) {
    hid_t ds = H5Dopen2(f, path, H5P_DEFAULT);
    if (ds < 0) return NULL;
    hid_t sp = H5Dget_space(ds);
    hsize_t d[2] = {0, 0};
    int nd = H5Sget_simple_extent_dims(sp, d, NULL);
    H5Sclose(sp);
    nt_tensor *t = NULL;
    if (nd == 2 && nt_tensor_new(ctx, &t, NT_I32, 2, (int[]){(int)d[0], (int)d[1]}) == NT_OK)
        H5Dread(ds, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, t->data);
    H5Dclose(ds);
    return t;
}

double nt_test_read_scalar(hid_t f, const char *path) {
    double v = NAN;
    hid_t ds = H5Dopen2(f, path, H5P_DEFAULT);
    if (ds < 0) return v;
    H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v);
    H5Dclose(ds);
    return v;
}

int nt_test_read_batch(nt_ctx *ctx, hid_t f, int encdec, nt_test_batch *b) {
    b->src = encdec ? nt_test_read_ids(ctx, f, "/inputs/src") : NULL;
    b->src_mask = encdec ? nt_test_read_ids(ctx, f, "/inputs/src_mask") : NULL;
    b->tgt = nt_test_read_ids(ctx, f, "/inputs/tgt_in");
    b->labels = nt_test_read_ids(ctx, f, "/inputs/labels");
    return b->tgt && b->labels && (!encdec || (b->src && b->src_mask));
}
