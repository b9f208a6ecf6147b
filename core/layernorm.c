/* layernorm.c - nt_layernorm: fused layer normalisation over the last dim.
 *
 * Dimensions:
 *   N  rows (product of the leading dims), D  normalised width
 *
 * Forward, per row (Ba, Kiros, Hinton 2016; PyTorch's LayerNorm):
 *   mean = sum x / D, var = sum (x - mean)^2 / D (biased), rstd = 1/sqrt(var + eps)
 *   xhat = (x - mean) rstd,  y = xhat w + b
 * mean and rstd are saved per row for backward. Backward, per row, with
 * dyw = dy w:
 *   dx = rstd (dyw - mean(dyw) - xhat mean(dyw xhat))
 *   dw += sum over rows of dy xhat,  db += sum over rows of dy
 * The dw/db sums are taken per fixed block of rows (independent of the thread
 * count) and the block partials added in block order: bitwise reproducible.
 */
#include <math.h>
#include <omp.h>
#include <string.h>

#include "core/mutate.h"
#include "core/ops.h"
#include "core/vecmath.h"

enum { LN_BLOCK = 64 }; /* rows per partial-sum block of dw/db */

/* What nt_layernorm keeps on its node for backward. */
typedef struct {
    float *mean; /* (N) */
    float *rstd; /* (N) */
    float *part; /* (nblocks, 2, D) per-block partial sums of dweight, dbias */
    int N, D;
} layernorm_args;

static int layernorm_nblocks(int N) { return (N + LN_BLOCK - 1) / LN_BLOCK; }

/* dinp (N, D), dweight (D), dbias (D) from dout (N, D); each output may be
 * NULL (no gradient wanted) and is stored when its acc_* flag is 0 (a fresh
 * buffer, write-first) or accumulated (+=) when it is 1. part: scratch of
 * layernorm_nblocks(N) * 2 * D floats. weight NULL: w = 1. */
static void layernorm_backward(float *dinp, float *dweight, float *dbias, float *part,
                               const float *dout, const float *inp, const float *weight,
                               const float *mean, const float *rstd, int N, int D, int acc_inp,
                               int acc_weight, int acc_bias) {
    int nblocks = layernorm_nblocks(N);
    int want_wb = dweight || dbias;
    float invD = 1.0f / (float)D;
    float c_term = nt_mutation == NT_MUT_LAYERNORM_TERM ? 0.0f : 1.0f; /* test-only (mutate.h) */

#pragma omp parallel for schedule(static) if ((int64_t)N * D > 16384)
    for (int blk = 0; blk < nblocks; blk++) {
        float *pw = part + (int64_t)blk * 2 * D, *pb = pw + D;
        memset(pw, 0, (size_t)2 * D * sizeof(float));
        int r1 = (blk + 1) * LN_BLOCK < N ? (blk + 1) * LN_BLOCK : N;
        for (int r = blk * LN_BLOCK; r < r1; r++) {
            const float *xr = inp + (int64_t)r * D, *dy = dout + (int64_t)r * D;
            float mu = mean[r], rs = rstd[r];
            /* a = sum dyw, c = sum dyw xhat (dyw = dy w), in 16 fixed lanes */
            float la[NT_VLANES] = {0}, lc[NT_VLANES] = {0};
            int j = 0;
            for (; j + NT_VLANES <= D; j += NT_VLANES)
                for (int l = 0; l < NT_VLANES; l++) {
                    float dyw = dy[j + l] * (weight ? weight[j + l] : 1.0f);
                    la[l] += dyw;
                    lc[l] += dyw * ((xr[j + l] - mu) * rs);
                }
            for (int l = 0; j + l < D; l++) {
                float dyw = dy[j + l] * (weight ? weight[j + l] : 1.0f);
                la[l] += dyw;
                lc[l] += dyw * ((xr[j + l] - mu) * rs);
            }
            for (int s = NT_VLANES / 2; s > 0; s /= 2)
                for (int l = 0; l < s; l++) {
                    la[l] += la[l + s];
                    lc[l] += lc[l + s];
                }
            float ma = la[0] * invD, mc = lc[0] * invD * c_term; /* mean(dyw), mean(dyw xhat) */
            if (dinp) {
                float *dx = dinp + (int64_t)r * D;
                for (int jj = 0; jj < D; jj++) {
                    float xh = (xr[jj] - mu) * rs;
                    float dyw = dy[jj] * (weight ? weight[jj] : 1.0f);
                    /* dx = rstd (dyw - mean(dyw) - xhat mean(dyw xhat)): the direct
                     * term, the term through mean, the term through rstd */
                    float g = rs * (dyw - ma - xh * mc);
                    dx[jj] = acc_inp ? dx[jj] + g : g;
                }
            }
            if (want_wb)
                for (int jj = 0; jj < D; jj++) {
                    pw[jj] += dy[jj] * ((xr[jj] - mu) * rs); /* dweight += dy xhat */
                    pb[jj] += dy[jj];                        /* dbias += dy */
                }
        }
    }
    if (!want_wb) return;
    /* the block partials in block order; block 0 is stored into a fresh buffer */
    for (int blk = 0; blk < nblocks; blk++) {
        const float *pw = part + (int64_t)blk * 2 * D, *pb = pw + D;
        int aw = blk > 0 || acc_weight, ab = blk > 0 || acc_bias;
        if (dweight)
            for (int j = 0; j < D; j++) dweight[j] = aw ? dweight[j] + pw[j] : pw[j];
        if (dbias)
            for (int j = 0; j < D; j++) dbias[j] = ab ? dbias[j] + pb[j] : pb[j];
    }
}

static void layernorm_backward_node(nt_ctx *ctx, nt_node *nd) {
    (void)ctx;
    const layernorm_args *a = NT_NODE_ARGS(nd, layernorm_args);
    nt_tensor *x = nd->in[0], *w = nd->in[1], *b = nd->in[2];
    float *dX = x->requires_grad ? x->grad : NULL;
    float *dW = w && w->requires_grad ? w->grad : NULL;
    float *dB = b && b->requires_grad ? b->grad : NULL;
    /* write-first: a fresh gradient is stored (asked in this order: x, w, b) */
    int acc_x = dX && !nt_grad_first(x);
    int acc_w = dW && !nt_grad_first(w), acc_b = dB && !nt_grad_first(b);
    layernorm_backward(dX, dW, dB, a->part, nd->out->grad, nt_f32(x), w ? nt_f32(w) : NULL, a->mean,
                       a->rstd, a->N, a->D, acc_x, acc_w, acc_b);
}

// Y[r] (D) = layernorm of X[r] (D); mean[r], rstd[r] saved when mean is not NULL
static inline void layernorm_row(float *Y, float *mean, float *rstd, const float *X, const float *W,
                                 const float *Bv, int r, int D, float eps) {
    const float *xr = X + (int64_t)r * D;
    float *yr = Y + (int64_t)r * D;
    float invD = 1.0f / (float)D;
    float mu = nt_vsum(xr, D) * invD;
    float var = nt_vsqdev(xr, D, mu) * invD; /* sum (x - mu)^2, nothing stored */
    float rs = 1.0f / sqrtf(var + eps);
    if (W && Bv)
        for (int j = 0; j < D; j++) yr[j] = (xr[j] - mu) * rs * W[j] + Bv[j];
    else
        for (int j = 0; j < D; j++) yr[j] = (xr[j] - mu) * rs * (W ? W[j] : 1.0f) + (Bv ? Bv[j] : 0.0f);
    if (mean) {
        mean[r] = mu;
        rstd[r] = rs;
    }
}

/* out (N, D) = layernorm of inp (N, D) row by row; mean, rstd (N) saved for
 * backward unless NULL; weight, bias (D) or NULL (1, 0). */
static void layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                              const float *bias, int N, int D, float eps) {
    if ((int64_t)N * D > 16384) {
#pragma omp parallel for schedule(static)
        for (int r = 0; r < N; r++) layernorm_row(out, mean, rstd, inp, weight, bias, r, D, eps);
    } else { /* no parallel region for a few rows (decoding) */
        for (int r = 0; r < N; r++) layernorm_row(out, mean, rstd, inp, weight, bias, r, D, eps);
    }
}

nt_status nt_layernorm(nt_ctx *ctx, nt_tensor **out, nt_tensor *x, nt_tensor *w, nt_tensor *b,
                       float eps) {
    if (!ctx || !out || !x) return nt_error(NT_ERR_ARG, "nt_layernorm: ctx, out or x is NULL");
    char sx[64], sp[64];
    if (x->dtype != NT_F32 || x->ndim < 1)
        return nt_error(NT_ERR_SHAPE, "nt_layernorm: x must be F32 with >= 1 dim, got %s", nt_shape_str(x, sx, sizeof sx));
    int D = x->shape[x->ndim - 1];
    nt_tensor *wb[2] = {w, b};
    for (int i = 0; i < 2; i++)
        if (wb[i] && (wb[i]->dtype != NT_F32 || wb[i]->ndim != 1 || wb[i]->shape[0] != D))
            return nt_error(NT_ERR_SHAPE, "nt_layernorm: %s must be F32 (%d) to match x %s, got %s",
                            i ? "bias" : "weight", D, nt_shape_str(x, sx, sizeof sx), nt_shape_str(wb[i], sp, sizeof sp));
    if (!(eps >= 0.0f) || isinf(eps))
        return nt_error(NT_ERR_ARG, "nt_layernorm: eps %g must be finite and >= 0", (double)eps);
    int N = (int)(x->n / D);
    int rec = nt_ctx_grad_enabled(ctx) &&
              (x->requires_grad || (w && w->requires_grad) || (b && b->requires_grad));
    nt_tensor *y;
    NT_TRY(nt_tensor_new(ctx, &y, NT_F32, x->ndim, x->shape)); // (.., D)
    float *mean = NULL, *rstd = NULL, *part = NULL;
    int nblocks = layernorm_nblocks(N);
    if (rec) {
        mean = nt_ctx_alloc(ctx, (size_t)N * sizeof(float));
        rstd = nt_ctx_alloc(ctx, (size_t)N * sizeof(float));
        part = nt_ctx_alloc(ctx, (size_t)nblocks * 2 * D * sizeof(float));
        if (!mean || !rstd || !part) return nt_error_wrap(NT_ERR_NOMEM, "nt_layernorm");
    }

    layernorm_forward(nt_f32(y), mean, rstd, nt_f32(x), w ? nt_f32(w) : NULL, b ? nt_f32(b) : NULL, N, D,
                      eps);

    nt_status st = NT_OK;
    nt_node *nd = rec ? nt_tape_record(ctx, layernorm_backward_node, "nt_layernorm", y, 3,
                                       (nt_tensor *[]){x, w, b}, &st)
                      : NULL;
    if (rec && st) return st;
    if (nd) {
        nd->write_first = 1;
        *NT_NODE_ARGS(nd, layernorm_args) = (layernorm_args){mean, rstd, part, N, D};
    }
    *out = y;
    return NT_OK;
}
