/* model_net.c - the transformer as an implementation of the model interface
 * (nn/net.h): loss over a batch, generation stepper, /config attributes. */
#include <string.h>

#include "nn/generate.h"
#include "nn/model.h"

static nt_status transformer_loss(nt_net *net, nt_ctx *ctx, const nt_batch *b, float label_smoothing,
                                  nt_tensor **loss, nt_tensor **logits, int64_t *n_tokens) {
    nt_model *m = (nt_model *)net;
    nt_tensor *src = NULL, *src_mask = NULL, *tgt_in, *labels;
    if (m->cfg.arch == NT_ARCH_ENCDEC) {
        if (!b->src || !b->src_mask)
            return nt_error(NT_ERR_ARG, "transformer loss: an encdec model needs batches with a source");
        NT_TRY(nt_tensor_wrap(ctx, &src, NT_I32, 2, (int[]){b->B, b->S}, b->src));
        NT_TRY(nt_tensor_wrap(ctx, &src_mask, NT_I32, 2, (int[]){b->B, b->S}, b->src_mask));
    }
    NT_TRY(nt_tensor_wrap(ctx, &tgt_in, NT_I32, 2, (int[]){b->B, b->T}, b->tgt_in));
    NT_TRY(nt_tensor_wrap(ctx, &labels, NT_I32, 2, (int[]){b->B, b->T}, b->labels));
    return nt_model_loss(m, ctx, loss, logits, src, src_mask, tgt_in, labels, label_smoothing, n_tokens);
}

static nt_status transformer_config(const nt_net *net, nt_attrs *out) {
    return nt_model_config_to_attrs(&((const nt_model *)net)->cfg, out);
}

static void transformer_free(nt_net *net) { nt_model_free((nt_model *)net); }

static void transformer_set_dropout(nt_net *net, float p) { ((nt_model *)net)->cfg.dropout = p; }

static nt_status transformer_stepper(nt_net *net, nt_ctx *ctx, const nt_generate_config *cfg,
                                     const int32_t *const *src, const int *src_len, int n,
                                     nt_generate_stepper **out, int **limits) {
    return nt_generate_stepper_model((nt_model *)net, ctx, out, limits, cfg, src, src_len, n);
}

static nt_status transformer_plan(nt_net *net, const nt_generate_config *cfg, const int32_t *const *src,
                                  const int *src_len, int n, int *take) {
    return nt_generate_plan_model((nt_model *)net, cfg, src, src_len, n, take);
}

const nt_net_ops nt_transformer_ops = {
    .arch = "transformer", /* /config says "encdec" or "decoder": see config_to_attrs */
    .loss = transformer_loss,
    .config = transformer_config,
    .free = transformer_free,
    .set_dropout = transformer_set_dropout,
    .stepper = transformer_stepper,
    .decode_plan = transformer_plan,
};

nt_model *nt_model_from_net(nt_net *net) {
    return net && net->ops == &nt_transformer_ops ? (nt_model *)net : NULL;
}

nt_status nt_model_config_to_attrs(const nt_model_config *c, nt_attrs *out) {
    if (!c || !out) return nt_error(NT_ERR_ARG, "nt_model_config_to_attrs: NULL argument");
    NT_TRY(nt_attrs_set_str(out, "arch", c->arch == NT_ARCH_DECODER ? "decoder" : "encdec"));
    NT_TRY(nt_attrs_set_int(out, "vocab_size", c->vocab_size));
    NT_TRY(nt_attrs_set_int(out, "d_model", c->d_model));
    NT_TRY(nt_attrs_set_int(out, "heads", c->heads));
    NT_TRY(nt_attrs_set_int(out, "enc_layers", c->enc_layers));
    NT_TRY(nt_attrs_set_int(out, "dec_layers", c->dec_layers));
    NT_TRY(nt_attrs_set_int(out, "max_len", c->max_len));
    NT_TRY(nt_attrs_set_double(out, "dropout", c->dropout));
    return NT_OK;
}

nt_status nt_model_config_from_attrs(const nt_attrs *a, nt_model_config *out) {
    if (!a || !out) return nt_error(NT_ERR_ARG, "nt_model_config_from_attrs: NULL argument");
    nt_model_config c = nt_model_config_default();
    char arch[32];
    NT_TRY(nt_attrs_get_str(a, "arch", arch, sizeof arch));
    if (strcmp(arch, "encdec") == 0)
        c.arch = NT_ARCH_ENCDEC;
    else if (strcmp(arch, "decoder") == 0)
        c.arch = NT_ARCH_DECODER;
    else
        return nt_error(NT_ERR_FORMAT, "/config: arch '%s' is neither \"encdec\" nor \"decoder\"", arch);
    const int64_t big = 1 << 30;
    NT_TRY(nt_attrs_get_int(a, "vocab_size", 0, big, &c.vocab_size));
    NT_TRY(nt_attrs_get_int(a, "d_model", 0, big, &c.d_model));
    NT_TRY(nt_attrs_get_int(a, "heads", 0, big, &c.heads));
    NT_TRY(nt_attrs_get_int(a, "enc_layers", 0, big, &c.enc_layers));
    NT_TRY(nt_attrs_get_int(a, "dec_layers", 0, big, &c.dec_layers));
    NT_TRY(nt_attrs_get_int(a, "max_len", 0, big, &c.max_len));
    c.dropout = 0;
    if (nt_attrs_find(a, "dropout")) {
        double d;
        NT_TRY(nt_attrs_get_double(a, "dropout", &d));
        c.dropout = (float)d;
    }
    if (nt_model_config_check(&c) != NT_OK) return nt_error_wrap(NT_ERR_FORMAT, "/config");
    *out = c;
    return NT_OK;
}

nt_status nt_model_create_net(nt_net **out, const nt_attrs *cfg) {
    nt_model_config c;
    NT_TRY(nt_model_config_from_attrs(cfg, &c));
    nt_model *m;
    NT_TRY(nt_model_new(&m, &c));
    *out = &m->net;
    return NT_OK;
}
