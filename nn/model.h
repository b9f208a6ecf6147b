/* model.h - the transformer: one module tree for an encoder-decoder translator
 * and a decoder-only language model, and the one forward that training and
 * generation share.
 *
 * Pre-LayerNorm blocks, learned positions, MLP 4*D with GELU (tanh), separate
 * q/k/v/o projections with bias, one token embedding tied to the encoder
 * input, the decoder input and the output projection (logits = h embed^T).
 * Parameter names and shapes are DESIGN.md's (PyTorch state_dict names of
 * shared/reference/torch_ref.py).
 *
 *     nt_model_config cfg = nt_model_config_default();   // encdec, D 128, ...
 *     cfg.vocab_size = 40;
 *     nt_model *m;  NT_TRY(nt_model_new(&m, &cfg));
 *     nt_rng rng;   nt_rng_seed(&rng, 1);  nt_model_init(m, &rng);
 *     nt_tensor *mem, *logits;
 *     NT_TRY(nt_model_encode(m, ctx, &mem, src, src_mask));            // (B, S, D)
 *     NT_TRY(nt_model_decode(m, ctx, &logits, tgt, NULL, NULL, mem, src_mask, NULL, 0)); // (B, T, V)
 *
 * Training calls encode + decode on the whole target (teacher forcing) and
 * takes cross-entropy at every position; generation calls the very same
 * decode on the last token with a KV cache, or on the whole prefix without.
 */
#ifndef NT_MODEL_H
#define NT_MODEL_H

#include "core/ops.h"
#include "nn/net.h"

typedef enum nt_arch { NT_ARCH_ENCDEC = 0, NT_ARCH_DECODER = 1 } nt_arch;

typedef struct nt_model_config {
    nt_arch arch;
    int vocab_size;   /* V, specials included */
    int d_model;      /* D */
    int heads;        /* H, divides D */
    int enc_layers;   /* 0 for NT_ARCH_DECODER */
    int dec_layers;
    int max_len;      /* positions, default 256 */
    float dropout;    /* after attention/MLP outputs and embeddings; 0 = off */
} nt_model_config;

/* Parameter tensors of one attention (q, k, v, o: weight (D, D), bias (D)). */
typedef struct nt_attn_params {
    nt_tensor *q_w, *q_b, *k_w, *k_b, *v_w, *v_b, *o_w, *o_b;
} nt_attn_params;

typedef struct nt_block_params {
    nt_tensor *ln_self_w, *ln_self_b;
    nt_attn_params self_attn;
    nt_tensor *ln_cross_w, *ln_cross_b;   /* NULL without cross-attention */
    nt_attn_params cross_attn;            /* all NULL without cross-attention */
    nt_tensor *ln_mlp_w, *ln_mlp_b;
    nt_tensor *fc_w, *fc_b;               /* (4D, D), (4D) */
    nt_tensor *proj_w, *proj_b;           /* (D, 4D), (D) */
} nt_block_params;

typedef struct nt_stack_params {
    nt_tensor *pos;                       /* (max_len, D) */
    nt_block_params *layers;              /* [n_layers] */
    int n_layers;
    nt_tensor *ln_w, *ln_b;               /* final LayerNorm (D) */
} nt_stack_params;

typedef struct nt_model {
    nt_net net;                           /* the model interface (nn/net.h); first member:
                                             &m->net is the model as an nt_net */
    nt_model_config cfg;
    nt_params *params;                    /* owned: every parameter, by DESIGN.md name
                                             (== net.params) */
    nt_tensor *embed;                     /* (V, D) */
    nt_stack_params encoder;              /* n_layers 0 for decoder-only */
    nt_stack_params decoder;
} nt_model;

/* The transformer behind a model-interface pointer, or NULL if net is
 * another kind of model (arch neither "encdec" nor "decoder"). */
nt_model *nt_model_from_net(nt_net *net);

/* The configuration as /config attributes (arch, vocab_size, d_model, heads,
 * enc_layers, dec_layers, max_len, dropout) and back; from_attrs checks
 * every value (nt_model_config_check) and reports the attribute by name
 * (NT_ERR_FORMAT); *cfg untouched on error. */
nt_status nt_model_config_to_attrs(const nt_model_config *cfg, nt_attrs *out);
nt_status nt_model_config_from_attrs(const nt_attrs *a, nt_model_config *cfg);

/* The registry's create function for arch "encdec" and "decoder" (nn/net.h):
 * nt_model_config_from_attrs + nt_model_new; *out = &model->net. */
nt_status nt_model_create_net(nt_net **out, const nt_attrs *cfg);

/* Defaults: encdec, V 0 (must be set), D 128, H 4, 2 + 2 layers, max_len 256, dropout 0. */
nt_model_config nt_model_config_default(void);

/* Checks a config; NT_ERR_ARG naming the field ("heads 3 does not divide d_model 128"). */
nt_status nt_model_config_check(const nt_model_config *cfg);

/* Parameters (floats) a config declares, computed in 64 bits before any
 * allocation; -1 if the config fails nt_model_config_check (which bounds
 * every field: vocab_size <= 2^24, d_model <= 2^16, layers <= 1024 each,
 * max_len <= 2^20). */
int64_t nt_model_config_params(const nt_model_config *cfg);

/* Declares every parameter and allocates the block (values zero). Before
 * allocating anything it compares the bytes of values and gradients with
 * the memory available (MemAvailable; the environment variable
 * NT_MEM_LIMIT=<bytes>[K|M|G] overrides) and fails with NT_ERR_NOMEM
 * naming the sizes if they do not fit. On error returns
 * NT_ERR_ARG/NT_ERR_NOMEM and *out is untouched. */
nt_status nt_model_new(nt_model **out, const nt_model_config *cfg);
void nt_model_free(nt_model *m); /* NULL is a no-op */

/* Initialises like the reference: normal(0, 0.02) for matrices (embeddings
 * included), zeros for biases, ones for LayerNorm weights. */
void nt_model_init(nt_model *m, nt_rng *rng);

/* Total number of parameters (floats, padding excluded). */
int64_t nt_model_num_params(const nt_model *m);

/* The KV cache of generation (nt_model_decode with a cache): nn/kv_cache.h. */
typedef struct nt_kv_cache nt_kv_cache;

/* ---- forward --------------------------------------------------------------- */

/* Encoder: src (B, S) I32 ids, src_mask (B, S) I32 1 = real, 0 = pad (or NULL:
 * all real) -> mem (B, S, D) after the final LayerNorm.
 * NT_ERR_STATE for a decoder-only model; NT_ERR_ARG for an id outside [0, V)
 * or S > max_len (the message names the row/position or the lengths). */
nt_status nt_model_encode(nt_model *m, nt_ctx *ctx, nt_tensor **mem, nt_tensor *src,
                          nt_tensor *src_mask);

/* Decoder: tgt (B, T) I32 -> logits (B, T, V).
 *   pos: (B, T) I32 position ids or NULL for start..start+T-1 on every row
 *        (per-row positions let left-padded prompts share a batch).
 *   tgt_mask: (B, T) I32 key-padding mask of tgt (0 = pad), or NULL. With a
 *        cache it is appended to the cache's self_mask.
 *   mem, mem_mask: the encoder output and its key mask (encdec; NULL for
 *        decoder-only). With a cache whose cross K/V are ready, mem may be NULL.
 *   cache: NULL for the full forward (training, reference decoding); else the
 *        K/V of tgt are appended at cache->len and attention sees the whole
 *        cached prefix; cache->len += T (T > 1 prefills a prompt). B must be
 *        cache->rows. No gradients through a cache: grad mode is off for the
 *        call. The first call computes the cross K/V from mem and mem_mask.
 *   start: position of tgt[:, 0] when pos is NULL. With a cache it is ignored:
 *        positions continue at cache->len.
 * Self-attention is causal. NT_ERR_ARG if an id is outside [0, V) (naming
 * row and position), a position reaches max_len, mem is missing (encdec) or
 * given (decoder-only), or the cache would overflow; NT_ERR_SHAPE for
 * tensors of the wrong dtype/shape. On error *logits is untouched (a cached
 * call may have written K/V past cache->len, which the next call overwrites). */
nt_status nt_model_decode(nt_model *m, nt_ctx *ctx, nt_tensor **logits, nt_tensor *tgt,
                          nt_tensor *pos, nt_tensor *tgt_mask, nt_tensor *mem, nt_tensor *mem_mask,
                          nt_kv_cache *cache, int start);

/* Optional: cross-attention weights of the last decode call, averaged over heads,
 * for layer `layer` (-1: last layer) -> (B, T, S) F32 copied into ctx. Recorded
 * (into a model-owned buffer, so a ctx reset in between is fine) only when
 * nt_model_set_record_attention(m, 1). NT_ERR_STATE if not recorded (off,
 * decoder-only, or the last decode failed); NT_ERR_ARG for a bad layer. */
void nt_model_set_record_attention(nt_model *m, int on);
nt_status nt_model_cross_attention(nt_model *m, nt_ctx *ctx, nt_tensor **weights, int layer);

/* Teacher-forced training forward: the batch in the layout of data/batcher.h.
 *   encdec:  src (B, S), src_mask (B, S), tgt_in (B, T), labels (B, T)
 *   decoder: src = src_mask = NULL, tgt_in (B, T) = <bos> src <sep> tgt,
 *            labels 0 (<pad>) where no loss is taken.
 * Loss: mean cross-entropy over labels != 0 (<pad>), with label smoothing.
 * logits (optional out): (B, T, V). n_tokens (optional): labels counted.
 * Batches are right-padded: the encoder and cross-attention mask padded
 * source keys with src_mask; the decoder's self-attention is causal only (a
 * real query never sees a later pad; pad queries take no loss). */
nt_status nt_model_loss(nt_model *m, nt_ctx *ctx, nt_tensor **loss, nt_tensor **logits,
                        nt_tensor *src, nt_tensor *src_mask, nt_tensor *tgt_in, nt_tensor *labels,
                        float label_smoothing, int64_t *n_tokens);

/* The cache's API, for the callers of nt_model_decode. */
#include "nn/kv_cache.h"

#endif
