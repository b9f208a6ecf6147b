/* loss.c - nt_cross_entropy: log-softmax fused with the negative log-likelihood.
 *
 * Dimensions:
 *   N  rows (product of the targets' shape), V  classes (logits' last dim)
 *   C  rows counted (target != ignore_index)
 *
 * Per counted row i with target t and label smoothing eps (PyTorch's
 * F.cross_entropy(label_smoothing=eps): target distribution
 * q = (1 - eps) onehot(t) + eps / V):
 *   lse_i  = log sum_j exp(x_ij)                    (max-shifted)
 *   loss_i = (1 - eps) (lse_i - x_it) + eps (lse_i - mean_j x_ij)
 *   loss   = sum_i loss_i / C                        (0 when C = 0)
 * Backward: dx_ij += (softmax_ij - q_ij) dloss / C; ignored rows get nothing.
 * Only lse (N) is saved: softmax is recomputed as exp(x - lse), no (N, V)
 * buffer. Per-row losses are summed in row order, in double.
 */
#include <math.h>
#include <omp.h>
#include <string.h>

#include "core/mutate.h"
#include "core/ops.h"
#include "core/vecmath.h"

/* What nt_cross_entropy keeps on its node. */
typedef struct {
    float *lse;   /* (N) log-sum-exp of each row's logits */
    int ignore;   /* ignore_index, or -1 */
    int N, V, C;
    float eps;    /* label smoothing */
} cross_entropy_args;

/* rowloss (N) and lse (N, or NULL: not kept) from logits (N, V) and targets
 * (N); a row whose target is ignore_index gets loss 0 (and no lse). */
static void cross_entropy_forward(float *rowloss, float *lse, const float *logits, const int32_t *targets,
                                  int N, int V, int ignore, float eps) {
#pragma omp parallel for schedule(static) if ((int64_t)N * V > 16384)
    for (int i = 0; i < N; i++) {
        int t = targets[i];
        if (t == ignore) {
            rowloss[i] = 0.0f;
            continue;
        }
        const float *x = logits + (int64_t)i * V;
        float m = nt_vmax(x, V);
        float l = m + logf(nt_vsumexp(x, V, m));
        float loss = l - x[t];
        if (eps > 0.0f) loss = (1.0f - eps) * loss + eps * (l - nt_vsum(x, V) / (float)V);
        rowloss[i] = loss;
        if (lse) lse[i] = l;
    }
}

/* dlogits (N, V) = (softmax - q) dloss / C row by row, stored (acc 0: a
 * fresh buffer, ignored rows get zeros) or accumulated (acc 1: ignored rows
 * untouched). C >= 1 counted rows. */
static void cross_entropy_backward(float *dlogits, const float *logits, const float *lse,
                                   const int32_t *targets, float dloss, int N, int V, int C, int ignore,
                                   float eps, int acc) {
    float g = dloss / (float)C;
    float off = eps / (float)V, on = 1.0f - eps;
    int mut = nt_mutation; /* test-only (mutate.h) */
    if (mut == NT_MUT_LS_TERM) off = 0.0f;
#pragma omp parallel for schedule(static) if ((int64_t)N * V > 16384)
    for (int i = 0; i < N; i++) {
        int t = targets[i];
        float *dx = dlogits + (int64_t)i * V;
        if (t == ignore && !(mut == NT_MUT_CE_IGNORE && t >= 0 && t < V)) {
            if (!acc) memset(dx, 0, (size_t)V * sizeof(float));
            continue;
        }
        /* softmax_ij g - q_ij g: exp(x - lse) g - eps/V g everywhere, then
         * - (1 - eps) g at the target */
        nt_vexp_affine(dx, logits + (int64_t)i * V, V, lse[i], g, off, acc);
        dx[t] -= g * on;
    }
}

static void cross_entropy_backward_node(nt_ctx *ctx, nt_node *nd) {
    (void)ctx;
    const cross_entropy_args *a = NT_NODE_ARGS(nd, cross_entropy_args);
    nt_tensor *logits = nd->in[0], *targets = nd->in[1];
    if (!logits->requires_grad || a->C == 0) return;
    int acc = !nt_grad_first(logits); /* write-first: a fresh dlogits is stored */
    cross_entropy_backward(logits->grad, nt_f32(logits), a->lse, nt_i32(targets), nd->out->grad[0], a->N,
                           a->V, a->C, a->ignore, a->eps, acc);
}

nt_status nt_cross_entropy(nt_ctx *ctx, nt_tensor **out, nt_tensor *logits, nt_tensor *targets,
                           int ignore_index, float label_smoothing, int64_t *n_counted) {
    if (!ctx || !out || !logits || !targets)
        return nt_error(NT_ERR_ARG, "nt_cross_entropy: ctx, out, logits or targets is NULL");
    char sl[64], st_[64];
    if (logits->dtype != NT_F32 || logits->ndim < 1)
        return nt_error(NT_ERR_SHAPE, "nt_cross_entropy: logits must be F32 (.., V), got %s", nt_shape_str(logits, sl, sizeof sl));
    if (targets->dtype != NT_I32)
        return nt_error(NT_ERR_SHAPE, "nt_cross_entropy: targets must be I32, got F32 %s", nt_shape_str(targets, st_, sizeof st_));
    int same = targets->ndim == logits->ndim - 1;
    for (int i = 0; same && i < targets->ndim; i++) same = targets->shape[i] == logits->shape[i];
    if (!same)
        return nt_error(NT_ERR_SHAPE,
                        "nt_cross_entropy: targets %s must have logits' leading shape (logits: %s)",
                        nt_shape_str(targets, st_, sizeof st_), nt_shape_str(logits, sl, sizeof sl));
    if (!(label_smoothing >= 0.0f && label_smoothing <= 1.0f))
        return nt_error(NT_ERR_ARG, "nt_cross_entropy: label_smoothing %g outside [0, 1]",
                        (double)label_smoothing);
    int V = logits->shape[logits->ndim - 1];
    int64_t N64 = targets->n;
    if (N64 > 0x7fffffff) return nt_error(NT_ERR_SHAPE, "nt_cross_entropy: too many rows (%lld)", (long long)N64);
    int N = (int)N64, ignore = ignore_index < 0 ? -1 : ignore_index;
    const int32_t *tg = nt_i32(targets);
    int C = 0;
    for (int i = 0; i < N; i++) {
        if (tg[i] == ignore && ignore >= 0) continue;
        if (tg[i] < 0 || tg[i] >= V)
            return nt_error(NT_ERR_ARG,
                            "nt_cross_entropy: target %d at flat position %d of targets %s is "
                            "outside [0, %d)%s",
                            (int)tg[i], i, nt_shape_str(targets, st_, sizeof st_), V, ignore >= 0 ? " and is not ignore_index" : "");
        C++;
    }
    int rec = nt_ctx_grad_enabled(ctx) && logits->requires_grad;
    nt_tensor *o;
    NT_TRY(nt_tensor_new(ctx, &o, NT_F32, 0, NULL)); // scalar
    float *rowloss = nt_ctx_alloc(ctx, (size_t)N * sizeof(float));        // (N)
    float *lse = rec ? nt_ctx_alloc(ctx, (size_t)N * sizeof(float)) : NULL; // (N)
    if (!rowloss || (rec && !lse)) return nt_error_wrap(NT_ERR_NOMEM, "nt_cross_entropy");

    cross_entropy_forward(rowloss, lse, nt_f32(logits), tg, N, V, ignore, label_smoothing);
    double total = 0;
    for (int i = 0; i < N; i++) total += rowloss[i];
    nt_f32(o)[0] = C ? (float)(total / C) : 0.0f;

    if (rec) {
        nt_status st;
        nt_node *nd = nt_tape_record(ctx, cross_entropy_backward_node, "nt_cross_entropy", o, 2,
                                     (nt_tensor *[]){logits, targets}, &st);
        if (st) return st;
        nd->write_first = 1;
        *NT_NODE_ARGS(nd, cross_entropy_args) = (cross_entropy_args){lse, ignore, N, V, C, label_smoothing};
    }
    if (n_counted) *n_counted = C;
    *out = o;
    return NT_OK;
}
