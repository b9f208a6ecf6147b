/* net.h - the model interface: what the trainer, checkpoints and generation
 * know about a model, so that any model built from the ops trains,
 * checkpoints, resumes, evaluates and samples through the same code.
 *
 * A model is an nt_net: a parameter block it owns, a table of functions
 * (nt_net_ops) over its own object, and a few facts (vocabulary size, the
 * longest sequence). The built-in transformer (nn/model.h) is one
 * implementation; examples/custom/ writes another in under 100 lines:
 *
 *     typedef struct bigram { nt_net net; nt_tensor *table; } bigram;  // (V, V)
 *
 *     static nt_status bigram_loss(nt_net *net, nt_ctx *ctx, const nt_batch *b,
 *                                  float smoothing, nt_tensor **loss,
 *                                  nt_tensor **logits, int64_t *n_tokens) {
 *         bigram *m = (bigram *)net;              // net is the first member
 *         nt_tensor *x, *y, *lg;
 *         NT_TRY(nt_tensor_wrap(ctx, &x, NT_I32, 2, (int[]){b->B, b->T}, b->tgt_in));
 *         NT_TRY(nt_tensor_wrap(ctx, &y, NT_I32, 2, (int[]){b->B, b->T}, b->labels));
 *         NT_TRY(nt_embedding(ctx, &lg, m->table, x));           // (B, T, V)
 *         NT_TRY(nt_cross_entropy(ctx, loss, lg, y, 0, smoothing, n_tokens));
 *         if (logits) *logits = lg;
 *         return NT_OK;
 *     }
 *     static const nt_net_ops BIGRAM = {.arch = "bigram", .loss = bigram_loss,
 *                                       .next_logits = ..., .config = ..., .free = ...};
 *
 *     nt_net_register("bigram", bigram_create);   // so checkpoints can rebuild it
 *
 * The contract:
 *  - loss(): mean next-token cross-entropy over the batch's target tokens
 *    (labels != 0), recorded on ctx's tape when its grad mode is on (the
 *    trainer calls nt_backward on it), and the number of target tokens.
 *    With label smoothing > 0 the training loss is smoothed; evaluation
 *    passes 0. *logits (optional) receives (B, T, V) for token accuracy.
 *  - generation, optional: either stepper() (full control: a KV cache, an
 *    encoder; what the transformer provides) or next_logits() (the simple
 *    form: next-token logits of each row's whole sequence, recomputed every
 *    step), and decode_plan() when one stepper cannot take any batch of
 *    sources. nt_generate (nn/generate.h) drives either with greedy,
 *    sampling and beam search, streaming, suppressed tokens and a sliding
 *    window past max_len: the model's type is never asked.
 *  - config(): the model writes its configuration as attributes; the
 *    checkpoint stores them under /config (with "arch" = ops->arch) and a
 *    registered create function rebuilds the model from them.
 *  - parameters are declared with nt_params_declare and their flags
 *    (NT_PARAM_DECAY, NT_PARAM_FROZEN): nothing is inferred from names.
 *  - ownership: the net owns its nt_params; ops->free releases everything
 *    (nt_net_free calls it; NULL is a no-op).
 */
#ifndef NT_NN_NET_H
#define NT_NN_NET_H

#include <stdint.h>

#include "core/batch.h"
#include "core/ops.h"

struct nt_generate_config;
struct nt_generate_stepper;

/* ---- configuration attributes ------------------------------------------------
 * A model's configuration as named scalars: what /config holds. Names are at
 * most 63 bytes, strings at most 255. */
enum { NT_ATTRS_MAX = 48, NT_ATTR_NAME_MAX = 64, NT_ATTR_STR_MAX = 256 };

typedef enum nt_attr_type { NT_ATTR_INT = 0, NT_ATTR_DOUBLE = 1, NT_ATTR_STR = 2 } nt_attr_type;

typedef struct nt_attr {
    char name[NT_ATTR_NAME_MAX];
    nt_attr_type type;
    int64_t i;
    double d;
    char s[NT_ATTR_STR_MAX];
} nt_attr;

typedef struct nt_attrs {
    int n;
    nt_attr a[NT_ATTRS_MAX];
} nt_attrs;

void nt_attrs_init(nt_attrs *a); /* empty */
/* Set (replace or append) one attribute. NT_ERR_ARG for a name or string
 * that is too long, or a full set; *a unchanged then. */
nt_status nt_attrs_set_int(nt_attrs *a, const char *name, int64_t v);
nt_status nt_attrs_set_double(nt_attrs *a, const char *name, double v);
nt_status nt_attrs_set_str(nt_attrs *a, const char *name, const char *v);
/* The attribute called name, or NULL. */
const nt_attr *nt_attrs_find(const nt_attrs *a, const char *name);
/* Typed reads: NT_ERR_FORMAT "/config: attribute 'd_model' missing" (or
 * "is not an integer", or "= 3000000000 outside [1, 65536]"); *v unchanged
 * on error. get_double also takes an integer. */
nt_status nt_attrs_get_int(const nt_attrs *a, const char *name, int64_t lo, int64_t hi, int *v);
nt_status nt_attrs_get_double(const nt_attrs *a, const char *name, double *v);
nt_status nt_attrs_get_str(const nt_attrs *a, const char *name, char *buf, size_t cap);

/* ---- the interface -------------------------------------------------------------- */

typedef struct nt_net nt_net;

typedef struct nt_net_ops {
    const char *arch; /* the model's kind: /config "arch"; the registry's key */

    /* Required. See the contract above. On error nothing is promised about
     * *loss / *logits; ctx may hold partial work (the caller resets it). */
    nt_status (*loss)(nt_net *net, nt_ctx *ctx, const nt_batch *b, float label_smoothing,
                      nt_tensor **loss, nt_tensor **logits, int64_t *n_tokens);

    /* Required: the configuration attributes. The checkpoint adds "arch" =
     * ops->arch unless config() set it (one implementation serving several
     * kinds does: the transformer writes "encdec" or "decoder"). */
    nt_status (*config)(const nt_net *net, nt_attrs *out);

    /* Required: releases the model and everything it owns. */
    void (*free)(nt_net *net);

    /* Optional: the dropout probability used while ctx is in training mode
     * (the trainer's dropout option). */
    void (*set_dropout)(nt_net *net, float p);

    /* Optional, generation (one of the two, or both: stepper wins).
     * stepper: as nt_generate_stepper_model (nn/generate.h): a stepper for
     * n sources, and per-source caps on generated tokens in *limits (owned
     * by the stepper); released with nt_generate_stepper_free. */
    nt_status (*stepper)(nt_net *net, nt_ctx *ctx, const struct nt_generate_config *cfg,
                         const int32_t *const *src, const int *src_len, int n,
                         struct nt_generate_stepper **out, int **limits);
    /* next_logits: logits (n, V) of the token that follows each row's
     * sequence seq[r][0 .. len[r]) (<bos>, the source, then the tokens
     * generated so far). ctx is a scratch arena in no-grad mode, reset by the
     * caller between steps. */
    nt_status (*next_logits)(nt_net *net, nt_ctx *ctx, const int32_t *const *seq, const int *len,
                             int n, float *logits);
    /* Optional, generation: what one stepper() takes. Checks the n sources
     * against the model (NT_ERR_ARG naming a source by its index here: a
     * prompt longer than the model's positions, an option it does not
     * support) and sets *take to how many of them, from the first, one
     * stepper() call decodes together, in [1, n]. nt_generate runs the
     * sources in such batches (of at most 256 rows) one after another, and
     * asks again for the rest. NULL: any sources fit together. The
     * transformer takes all of them on its no-grad incremental decoder
     * (every row at its own positions) and, on its padded graph path, only
     * those whose rows fit max_len together. */
    nt_status (*decode_plan)(nt_net *net, const struct nt_generate_config *cfg, const int32_t *const *src,
                             const int *src_len, int n, int *take);
} nt_net_ops;

/* The common head of every model: put it first in the model's struct so a
 * model pointer and its nt_net pointer convert into each other. */
struct nt_net {
    const nt_net_ops *ops;
    nt_params *params;  /* every trainable tensor; owned by the model */
    int vocab_size;     /* V: logits width, specials included */
    int max_len;        /* longest sequence the model reads (positions); 0 = no limit */
    int encdec;         /* 1: batches carry a source (src, src_mask) for an encoder */
};

/* Frees a model through its ops (NULL is a no-op). */
void nt_net_free(nt_net *net);

/* Parameters in floats (the block's padding excluded). */
int64_t nt_net_num_params(const nt_net *net);

/* Checks that a model is complete (ops with loss, config, free; params
 * allocated; vocab_size >= 5). NT_ERR_ARG naming what is missing. */
nt_status nt_net_check(const nt_net *net);

/* ---- the registry: rebuilding a model from its /config ----------------------------
 * create() builds a model, parameters allocated (values need not be
 * initialised: a checkpoint load overwrites them), from the attributes its
 * config() wrote. It must check every value before allocating
 * (NT_ERR_FORMAT naming the attribute). The transformer registers "encdec"
 * and "decoder" itself. */
typedef nt_status (*nt_net_create_fn)(nt_net **out, const nt_attrs *cfg);

/* Registers (or replaces) the create function of an arch; NT_ERR_ARG for a
 * NULL/too long name or a full registry (32 kinds). */
nt_status nt_net_register(const char *arch, nt_net_create_fn create);
/* Builds a model of cfg's "arch". NT_ERR_FORMAT "unknown model arch 'x'
 * (registered: encdec, decoder, ...)" if none is registered. */
nt_status nt_net_create(nt_net **out, const nt_attrs *cfg);

#endif
