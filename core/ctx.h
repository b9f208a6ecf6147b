/* ctx.h - the context: an arena that owns every tensor of a step, a scratch
 * buffer, and the modes ops read (grad, training, precision, dropout RNG).
 *
 * A context owns its arena: every tensor an op returns lives there until
 * nt_ctx_reset(), which releases everything at once (no malloc in a steady
 * step loop once the arena has grown to its high-water mark). The tape of
 * recorded nodes (core/tape.h) lives in the arena too.
 */
#ifndef NT_CTX_H
#define NT_CTX_H

#include <stddef.h>

#include "core/rng.h"
#include "core/status.h"

typedef struct nt_ctx nt_ctx;

/* Creates a context whose arena starts with `arena_bytes` (0: 64 MiB) and
 * grows by chunks as needed. On error returns NT_ERR_NOMEM, *out = NULL. */
nt_status nt_ctx_new(nt_ctx **out, size_t arena_bytes);
void nt_ctx_free(nt_ctx *ctx); /* NULL is a no-op */

/* Releases every tensor, node and buffer allocated in the arena since the
 * last reset; keeps the arena's chunks for reuse (no free/malloc). */
void nt_ctx_reset(nt_ctx *ctx);

/* Grad mode (default on). Returns the previous mode. */
int nt_ctx_set_grad(nt_ctx *ctx, int enabled);
int nt_ctx_grad_enabled(const nt_ctx *ctx);

/* Training mode for dropout (default on); with it off dropout is identity. */
void nt_ctx_set_training(nt_ctx *ctx, int training);
int nt_ctx_training(const nt_ctx *ctx);

/* Precision of the matrix products (nt_linear, nt_gelu_linear, nt_matmul,
 * nt_attention and their backward), default NT_PREC_F32. With NT_PREC_BF16
 * every product reads its operands rounded to bf16 and accumulates in
 * float32 (core/gemm_bf16.h): forward and backward alike (dX = dY W and
 * dW = dY^T X too). Parameters are read from their block's bf16 copy,
 * converted once per update (nt_params_touch); activations and gradients
 * are rounded as the products pack them. Outputs, activations, gradients,
 * master weights and all other ops (layernorm, softmax, losses, the
 * optimizer) stay float32. Exceptions kept in float32: a linear on at most
 * 16 rows and single-query attention (the decoding step). A backward runs
 * in the precision its forward was recorded with. Returns the previous one. */
typedef enum nt_precision { NT_PREC_F32 = 0, NT_PREC_BF16 = 1 } nt_precision;
nt_precision nt_ctx_set_precision(nt_ctx *ctx, nt_precision prec);
nt_precision nt_ctx_precision(const nt_ctx *ctx);
/* "fp32" or "bf16" (the --precision flag values) into *prec; NT_ERR_ARG
 * naming the value otherwise (*prec untouched). */
nt_status nt_precision_parse(const char *s, nt_precision *prec);
const char *nt_precision_name(nt_precision prec);

/* The RNG that dropout draws from (not owned; NULL: dropout needs none). */
void nt_ctx_set_rng(nt_ctx *ctx, nt_rng *rng);
nt_rng *nt_ctx_rng(nt_ctx *ctx);

/* Bytes currently allocated in the arena, and the high-water mark. */
size_t nt_ctx_used(const nt_ctx *ctx);
size_t nt_ctx_peak(const nt_ctx *ctx);

/* Raw arena allocation, 64-byte aligned, uninitialised. NULL + NT_ERR_NOMEM
 * message on failure. Valid until the next nt_ctx_reset. */
void *nt_ctx_alloc(nt_ctx *ctx, size_t bytes);

/* A per-context scratch buffer outside the arena, 64-byte aligned and
 * uninitialised, for kernels that need a large temporary only while they run
 * (an op's forward and the same op's backward). It grows to the largest size
 * ever asked for and is reused after that, so only one such buffer is ever
 * resident. Valid until the next nt_ctx_scratch call or nt_ctx_free; its
 * contents do not survive another op. NULL + NT_ERR_NOMEM message on failure.
 * A backward kernel may rely on getting a size its forward already obtained. */
void *nt_ctx_scratch(nt_ctx *ctx, size_t bytes);

#endif
