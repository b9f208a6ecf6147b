/* ops.h - differentiable tensor operations (forward now, backward on the tape).
 *
 * Every op takes the context first and its output second, computes the result
 * into a new arena tensor, and records a backward node when grad mode is on
 * and an input requires grad. Gradients accumulate (+=) into inputs' .grad.
 * On error an op returns a status, sets a message naming the op and the
 * shapes, and leaves *out untouched; no tensor is modified.
 *
 *     nt_tensor *h, *y;
 *     NT_TRY(nt_linear(ctx, &h, x, w1, b1));       // (N, 4D)
 *     NT_TRY(nt_gelu_linear(ctx, &y, h, w2, b2));  // (N, D) = gelu(h) w2^T + b2
 *
 * Broadcasting (add, sub, mul, div): b's shape must equal a's or a trailing
 * part of it (b (D) or (T, D) against a (B, T, D)), or b has one element;
 * the output has a's shape. Matrix products go through cblas_sgemm; loops are
 * OpenMP-parallel with static schedules (bitwise reproducible for a fixed
 * thread count).
 */
#ifndef NT_OPS_H
#define NT_OPS_H

#include "core/tensor.h"

/* ---- elementwise --------------------------------------------------------- */
nt_status nt_add(nt_ctx *ctx, nt_tensor **out, nt_tensor *a, nt_tensor *b);
nt_status nt_sub(nt_ctx *ctx, nt_tensor **out, nt_tensor *a, nt_tensor *b);
nt_status nt_mul(nt_ctx *ctx, nt_tensor **out, nt_tensor *a, nt_tensor *b);
nt_status nt_div(nt_ctx *ctx, nt_tensor **out, nt_tensor *a, nt_tensor *b);
/* x + f with the result written over f's storage: for a residual branch f
 * that is not read again, this keeps one tensor fewer per sum. f's values
 * are gone afterwards (its gradient still flows), so f must not be read
 * again, and its producer's backward must not read its own output (linear,
 * gelu_linear, attention, dropout do not; softmax does). Same shapes only
 * (NT_ERR_SHAPE); x and f sharing storage, or f a parameter, is NT_ERR_ARG. */
nt_status nt_add_residual(nt_ctx *ctx, nt_tensor **out, nt_tensor *x, nt_tensor *f);
nt_status nt_scale(nt_ctx *ctx, nt_tensor **out, nt_tensor *x, float s);
nt_status nt_relu(nt_ctx *ctx, nt_tensor **out, nt_tensor *x);
/* GELU, tanh form: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
nt_status nt_gelu(nt_ctx *ctx, nt_tensor **out, nt_tensor *x);
/* Inverted dropout: zero with probability p, scale the rest by 1/(1-p).
 * Identity when p == 0 or the context is not in training mode: *out = x
 * itself, no node, no draw. Reserves n positions of the context's RNG
 * (nt_rng_skip; NT_ERR_STATE if none is set and p > 0 in training); the mask
 * is a 32-bit counter hash of (seed, first position, element index), so it
 * does not depend on the thread count or the ISA level, and backward
 * regenerates the same mask. The keep probability is 1 - floor(p 2^32)/2^32
 * (within 2^-32 of 1 - p). p outside [0, 1) is NT_ERR_ARG. */
nt_status nt_dropout(nt_ctx *ctx, nt_tensor **out, nt_tensor *x, float p);

/* ---- products ------------------------------------------------------------ */
/* a (.., M, K) @ b (.., K, N) -> (.., M, N), with the transpose flags applied
 * to the last two dims first. Batch dims of a and b must match, or b is 2-D
 * (shared by every batch). */
nt_status nt_matmul(nt_ctx *ctx, nt_tensor **out, nt_tensor *a, nt_tensor *b, int trans_a,
                    int trans_b);
/* x (.., In) W(Out, In)^T + b (Out) -> (.., Out); b may be NULL. */
nt_status nt_linear(nt_ctx *ctx, nt_tensor **out, nt_tensor *x, nt_tensor *w, nt_tensor *b);
/* nt_linear(nt_gelu(h), w, b) without keeping gelu(h) for backward: only h
 * is saved and gelu(h) is recomputed in the context's scratch buffer
 * (nt_ctx_scratch), one (.., In) temporary instead of one per call. Same
 * shape rules and errors as nt_linear (messages prefixed nt_gelu_linear). */
nt_status nt_gelu_linear(nt_ctx *ctx, nt_tensor **out, nt_tensor *h, nt_tensor *w, nt_tensor *b);

/* ---- lookup and normalisation ------------------------------------------- */
/* weight (V, D) gathered at ids (I32, any shape ..) -> (.., D). An id outside
 * [0, V) is NT_ERR_ARG naming the id and its position. Backward scatter-adds. */
nt_status nt_embedding(nt_ctx *ctx, nt_tensor **out, nt_tensor *weight, nt_tensor *ids);
/* Over the last dim: (x - mean) / sqrt(var + eps) * w + b, w and b (D). */
nt_status nt_layernorm(nt_ctx *ctx, nt_tensor **out, nt_tensor *x, nt_tensor *w, nt_tensor *b,
                       float eps);
/* Over the last dim. */
nt_status nt_softmax(nt_ctx *ctx, nt_tensor **out, nt_tensor *x);
nt_status nt_log_softmax(nt_ctx *ctx, nt_tensor **out, nt_tensor *x);

/* ---- attention ---------------------------------------------------------- */
/* Fused multi-head scaled dot-product attention, heads split from the last dim:
 *   q (B, Tq, D), k (B, Tk, D), v (B, Tk, D) -> (B, Tq, D), D = heads * Dh
 *   out[b, i, h] = sum_j softmax_j(scale * q[b,i,h] . k[b,j,h] + mask) v[b,j,h]
 * key_mask: I32 (B, Tk), 0 = padding (never attended), or NULL.
 * causal: query i sees key j only if j <= i + (Tk - Tq) (so a KV-cached
 *   step with Tq = 1 sees the whole prefix).
 * scale: usually 1/sqrt(Dh).
 * A query row with no visible key outputs zeros (and gets zero gradient).
 * probs_out: if not NULL, receives the attention weights (B, H, Tq, Tk)
 *   (not differentiable; for inspection such as cross-attention heatmaps). */
nt_status nt_attention(nt_ctx *ctx, nt_tensor **out, nt_tensor *q, nt_tensor *k, nt_tensor *v,
                       nt_tensor *key_mask, int heads, int causal, float scale,
                       nt_tensor **probs_out);

/* ---- shape ---------------------------------------------------------------- */
/* Shape ops accept F32 and I32 (token ids); only F32 ones record gradients.
 * Same data, new shape (element count must match); one dim may be -1.
 * The output shares x's data (no copy); its gradient is its own. */
nt_status nt_reshape(nt_ctx *ctx, nt_tensor **out, nt_tensor *x, int ndim, const int *shape);
/* Copy with dims reordered: out.shape[i] = x.shape[perm[i]]. */
nt_status nt_permute(nt_ctx *ctx, nt_tensor **out, nt_tensor *x, const int *perm);
/* Elements [start, start+len) along `axis` (negative axis counts from the end). */
nt_status nt_slice(nt_ctx *ctx, nt_tensor **out, nt_tensor *x, int axis, int start, int len);
/* Joins n tensors along `axis`; other dims must match. */
nt_status nt_concat(nt_ctx *ctx, nt_tensor **out, nt_tensor *const *xs, int n, int axis);

/* ---- reductions ----------------------------------------------------------- */
nt_status nt_sum(nt_ctx *ctx, nt_tensor **out, nt_tensor *x);   /* -> scalar (ndim 0) */
nt_status nt_mean(nt_ctx *ctx, nt_tensor **out, nt_tensor *x);  /* -> scalar */
/* Sum over one axis, which is removed from the shape. */
nt_status nt_sum_axis(nt_ctx *ctx, nt_tensor **out, nt_tensor *x, int axis);

/* ---- loss ----------------------------------------------------------------- */
/* Fused log-softmax + negative log-likelihood:
 *   logits (.., V) F32, targets (..) I32 with the same leading shape.
 * Mean over targets != ignore_index (ignore_index < 0 disables it). With
 * label smoothing eps the target distribution is (1-eps) one-hot + eps/V
 * (PyTorch's F.cross_entropy(label_smoothing=eps)). Scalar output; 0 when
 * every target is ignored. A target outside [0, V) is NT_ERR_ARG.
 * n_counted (optional) receives the number of targets counted. */
nt_status nt_cross_entropy(nt_ctx *ctx, nt_tensor **out, nt_tensor *logits, nt_tensor *targets,
                           int ignore_index, float label_smoothing, int64_t *n_counted);

#endif
