/* embedding.c - nt_embedding: gather rows of a (V, D) table at integer ids.
 *
 * Dimensions:
 *   V  rows of the table (vocabulary), D  row width
 *   N  number of ids (product of the ids' shape)
 *
 * Backward scatter-adds dy's rows into dW. Repeated ids add into the same
 * row, so rows cannot be split across threads; instead each thread owns a
 * slice of the D columns and walks all N ids in order, which gives every
 * element the same summation order for any thread count.
 */
#include <omp.h>
#include <string.h>

#include "core/mutate.h"
#include "core/ops.h"

/* out (N, D) = rows of weight (V, D) at ids (N), every id in [0, V). */
static void embedding_forward(float *out, const float *weight, const int32_t *ids, int64_t N, int D) {
    if (N * D > 65536) {
#pragma omp parallel for schedule(static)
        for (int64_t n = 0; n < N; n++)
            memcpy(out + n * D, weight + (int64_t)ids[n] * D, (size_t)D * sizeof(float));
    } else { /* no parallel region for a few ids (decoding) */
        for (int64_t n = 0; n < N; n++)
            memcpy(out + n * D, weight + (int64_t)ids[n] * D, (size_t)D * sizeof(float));
    }
}

/* dweight (V, D) += dout (N, D) scattered to the rows ids (N). */
static void embedding_backward(float *dweight, const float *dout, const int32_t *ids, int64_t N, int D) {
    enum { TILE = 32 };
    int tiles = (D + TILE - 1) / TILE;
    float kept = nt_mutation == NT_MUT_EMBED_SCATTER ? 0.0f : 1.0f; /* test-only (mutate.h): store, not add */
#pragma omp parallel for schedule(static) if (N * D > 32768)
    for (int t = 0; t < tiles; t++) {
        int c0 = t * TILE, cw = D - c0 < TILE ? D - c0 : TILE;
        for (int64_t n = 0; n < N; n++) {
            float *dst = dweight + (int64_t)ids[n] * D + c0;
            const float *src = dout + n * D + c0;
            for (int j = 0; j < cw; j++) dst[j] = dst[j] * kept + src[j];
        }
    }
}

/* node: in = {weight (V, D), ids (..)}; nothing else is saved. */
static void embedding_backward_node(nt_ctx *ctx, nt_node *nd) {
    (void)ctx;
    nt_tensor *w = nd->in[0], *ids = nd->in[1];
    if (!w->requires_grad) return;
    embedding_backward(w->grad, nd->out->grad, nt_i32(ids), ids->n, w->shape[1]);
}

nt_status nt_embedding(nt_ctx *ctx, nt_tensor **out, nt_tensor *weight, nt_tensor *ids) {
    if (!ctx || !out || !weight || !ids)
        return nt_error(NT_ERR_ARG, "nt_embedding: ctx, out, weight or ids is NULL");
    char sw[64], si[64];
    if (weight->dtype != NT_F32 || weight->ndim != 2)
        return nt_error(NT_ERR_SHAPE, "nt_embedding: weight must be F32 (V, D), got %s%s", nt_shape_str(weight, sw, sizeof sw),
                        weight->dtype != NT_F32 ? " (not F32)" : "");
    if (ids->dtype != NT_I32)
        return nt_error(NT_ERR_SHAPE, "nt_embedding: ids must be I32, got F32 %s", nt_shape_str(ids, si, sizeof si));
    if (ids->ndim >= NT_MAX_DIMS)
        return nt_error(NT_ERR_SHAPE, "nt_embedding: ids have %d dims (at most %d, the output adds one)",
                        ids->ndim, NT_MAX_DIMS - 1);
    int V = weight->shape[0], D = weight->shape[1];
    const int32_t *id = nt_i32(ids);
    for (int64_t i = 0; i < ids->n; i++)
        if (id[i] < 0 || id[i] >= V)
            return nt_error(NT_ERR_ARG,
                            "nt_embedding: id %d at flat position %lld of ids %s is outside [0, %d)",
                            (int)id[i], (long long)i, nt_shape_str(ids, si, sizeof si), V);
    int shape[NT_MAX_DIMS];
    for (int i = 0; i < ids->ndim; i++) shape[i] = ids->shape[i];
    shape[ids->ndim] = D;
    nt_tensor *y;
    NT_TRY(nt_tensor_new(ctx, &y, NT_F32, ids->ndim + 1, shape)); // (.., D)

    embedding_forward(nt_f32(y), nt_f32(weight), id, ids->n, D);

    nt_status st;
    nt_node *nd = nt_tape_record(ctx, embedding_backward_node, "nt_embedding", y, 2,
                                 (nt_tensor *[]){weight, ids}, &st);
    if (st) return st;
    (void)nd; /* nothing to save: backward reads the ids */
    *out = y;
    return NT_OK;
}
