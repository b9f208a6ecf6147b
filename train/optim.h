/* optim.h - optimizers (SGD, Adam, AdamW), global-norm clipping, freezing.
 *
 * An optimizer updates a whole nt_params block in one fused OpenMP loop: the
 * values, gradients and moments are each one contiguous array, so a step is
 * a walk over a few merged ranges (runs of parameters with the same decay
 * rule; frozen parameters are left out), computed once at creation.
 *
 *     nt_optim_config oc = nt_optim_config_default(NT_OPTIM_ADAMW);  // lr 1e-3
 *     nt_optim *opt;  NT_TRY(nt_optim_new(&opt, model->params, &oc));
 *     for (step = 0; step < steps; step++) {
 *         nt_params_zero_grad(model->params);
 *         ... forward, nt_backward ...
 *         float norm;  NT_TRY(nt_optim_clip(opt, 1.0f, &norm));   // reports the norm
 *         NT_TRY(nt_optim_step(opt, nt_schedule_lr(&sched, step)));
 *     }
 *     nt_optim_free(opt);
 *
 * Update rules (PyTorch's torch.optim, single-tensor path, float32):
 *   SGD:   g += wd p;  buf = mu buf + g;  g = nesterov ? g + mu buf : buf;  p -= lr g
 *          (mu = 0: plain SGD; the buffer lives in params->m)
 *   Adam:  g += wd p (L2 in the gradient);  m = b1 m + (1-b1) g;
 *          v = b2 v + (1-b2) g^2;  p -= lr/(1-b1^t) m / (sqrt(v)/sqrt(1-b2^t) + eps)
 *   AdamW: p *= 1 - lr wd (decoupled, Loshchilov & Hutter 2019), then Adam with wd 0.
 * t is the number of updates taken, counting this one (nt_optim.step after it).
 *
 * Weight decay applies to the parameters the model declared with
 * NT_PARAM_DECAY (core/tensor.h: nt_params_declare; nothing is inferred from
 * names), or to every parameter when cfg.decay_all is set (as
 * torch.optim.AdamW(m.parameters()) does). The rule covers SGD and Adam's L2
 * term as well. The transformer (nn/model.h) declares its attention and MLP
 * matrices with decay and its biases, LayerNorms, token embedding and
 * positions without.
 *
 * Frozen parameters (declared NT_PARAM_FROZEN, or params->frozen[i] = 1 as
 * set by nt_optim_freeze) are
 * never modified, their moments stay put, and their gradients do not count
 * in the gradient norm (as parameters with requires_grad=False in PyTorch).
 *
 * Every loop uses static schedules and the norm is summed in fixed chunks in
 * a fixed order, so results are bitwise identical run to run (and do not
 * depend on the thread count).
 */
#ifndef NT_OPTIM_H
#define NT_OPTIM_H

#include "core/tensor.h"

typedef enum nt_optim_kind { NT_OPTIM_SGD = 0, NT_OPTIM_ADAM = 1, NT_OPTIM_ADAMW = 2 } nt_optim_kind;

typedef struct nt_optim_config {
    nt_optim_kind kind;
    /* Hyperparameters are doubles like PyTorch's (Python floats): 1 - beta2
     * is then 0.001 and not 1 - 0.999f. The arithmetic on the block is float. */
    double lr;           /* default lr (nt_optim_step takes the scheduled one) */
    double momentum;     /* SGD, in [0, 1); 0 = none */
    int nesterov;        /* SGD, needs momentum > 0 */
    double beta1, beta2; /* Adam/AdamW, in [0, 1) */
    double eps;          /* Adam/AdamW, > 0 */
    double weight_decay; /* >= 0 */
    int decay_all;       /* 1: decay every parameter (not only those declared NT_PARAM_DECAY) */
} nt_optim_config;

typedef struct nt_optim_range {
    int64_t begin, end;  /* element range in the block */
    int decay;           /* weight decay applies */
} nt_optim_range;

typedef struct nt_optim {
    nt_optim_config cfg;
    nt_params *params;        /* not owned */
    int64_t step;             /* updates taken so far */
    double last_lr;            /* lr of the last update (0 before the first) */
    nt_optim_range *ranges;   /* [n_ranges] merged non-frozen ranges */
    int n_ranges;
    int64_t n_chunks;         /* fixed-size chunks of the ranges (norm) */
    int64_t *chunk_begin, *chunk_end; /* [n_chunks] */
    double *partial;          /* [n_chunks] partial sums of squares */
} nt_optim;

/* Defaults for a kind, PyTorch's: lr 1e-3 (SGD 1e-2), momentum 0,
 * betas (0.9, 0.999), eps 1e-8, weight_decay 0.01 for AdamW and 0 otherwise,
 * decay_all 0. */
nt_optim_config nt_optim_config_default(nt_optim_kind kind);

/* "sgd", "adam", "adamw" (and back). nt_optim_kind_parse returns NT_ERR_ARG
 * naming the text and the choices; *out is untouched then. */
const char *nt_optim_kind_name(nt_optim_kind kind);
nt_status nt_optim_kind_parse(const char *name, nt_optim_kind *out);

/* Checks every field (NT_ERR_ARG naming it: "beta2 1.5 not in [0, 1)"). */
nt_status nt_optim_config_check(const nt_optim_config *cfg);

/* 1 if weight decay applies to parameter i of the optimizer's block. */
int nt_optim_decays(const nt_optim *o, int i);

/* An optimizer over `params` (allocated; not owned; must outlive it).
 * Allocates params->m and params->v if absent (left as they are otherwise, so
 * moments loaded from a checkpoint are kept). Reads params->frozen now; call
 * nt_optim_refresh after changing it. On error returns NT_ERR_ARG (bad
 * config, unallocated params) or NT_ERR_NOMEM; *out is untouched. */
nt_status nt_optim_new(nt_optim **out, nt_params *params, const nt_optim_config *cfg);
void nt_optim_free(nt_optim *o); /* NULL is a no-op */

/* Rebuilds the ranges after params->frozen changed. NT_ERR_NOMEM leaves the
 * optimizer as it was. */
nt_status nt_optim_refresh(nt_optim *o);

/* Freezes every parameter whose name starts with `prefix` ("encoder.",
 * "embed.weight") and refreshes the ranges. *n_frozen (optional) receives how
 * many parameters matched. NT_ERR_ARG if prefix is NULL/empty or matches no
 * parameter (the message names the prefix); nothing is frozen then. */
nt_status nt_optim_freeze(nt_optim *o, const char *prefix, int *n_frozen);

/* One update with learning rate `lr` (>= 0, finite) from params->grads;
 * o->step += 1. Gradients are read, not cleared. NT_ERR_ARG for a bad lr
 * (nothing changed). */
nt_status nt_optim_step(nt_optim *o, double lr);

/* Multiplies every non-frozen gradient by s (one parallel region for all
 * the ranges: a region per parameter costs more than the scaling itself at
 * small sizes). No-op for a NULL optimizer. */
void nt_optim_scale_grads(nt_optim *o, float s);

/* The global L2 norm of the (non-frozen) gradients, summed in double. */
double nt_optim_grad_norm(nt_optim *o);

/* Global-norm clipping (torch.nn.utils.clip_grad_norm_): if the norm exceeds
 * max_norm, scales every non-frozen gradient by max_norm / (norm + 1e-6).
 * max_norm <= 0 only measures. *norm (optional) receives the norm before
 * clipping (may be NaN/Inf; then nothing is scaled and NT_ERR_NUMERIC is
 * returned, naming the first parameter with a non-finite gradient). */
nt_status nt_optim_clip(nt_optim *o, float max_norm, float *norm);

#endif
