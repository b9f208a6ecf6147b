/* generate_net.c - generation for any model that gives next-token logits
 * (nt_net_ops.next_logits): the stepper that keeps each row's sequence.
 *
 * Letters: N sources, R live rows, L longest sequence (<bos> + source +
 * generated), V vocab.
 */
#include <string.h>

#include "core/alloc.h"
#include "nn/generate.h"

typedef struct nstep {
    nt_generate_stepper pub;
    nt_net *net;
    nt_ctx *ctx;
    int grad_was, training_was;
    int N, rows_cap, L;
    int *row_src, *tmp;       /* (rows_cap) source of each row */
    int *limits;              /* (N) */
    int32_t *prefix;          /* (N, L) <bos> + source of each source */
    int *prefix_len;          /* (N) */
    int32_t *seqs;            /* (rows_cap, L) the sequences handed to the model */
    const int32_t **seq_ptr;  /* (rows_cap) */
    int *seq_len;             /* (rows_cap) */
} nstep;

static void nstep_free(nt_generate_stepper *st) {
    nstep *s = (nstep *)st;
    if (s->ctx) {
        nt_ctx_reset(s->ctx);
        nt_ctx_set_grad(s->ctx, s->grad_was);
        nt_ctx_set_training(s->ctx, s->training_was);
    }
    void *bufs[] = {s->row_src, s->tmp, s->limits, s->prefix, s->prefix_len, s->seqs,
                    (void *)s->seq_ptr, s->seq_len};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) nt_free(bufs[i]);
    nt_free(s);
}

/* logits (n, V) of the token after each live row's sequence. */
static nt_status nstep_step(void *user, float *logits, float *attn, const int32_t *tokens, int stride,
                            int n, int t) {
    nstep *s = user;
    for (int r = 0; r < n; r++) {
        int src = s->row_src[r], pl = s->prefix_len[src];
        int32_t *seq = s->seqs + (size_t)r * s->L;
        memcpy(seq, s->prefix + (size_t)src * s->L, (size_t)pl * sizeof *seq);
        if (t) memcpy(seq + pl, tokens + (size_t)r * stride, (size_t)t * sizeof *seq);
        s->seq_ptr[r] = seq;
        s->seq_len[r] = pl + t;
    }
    nt_ctx_reset(s->ctx);
    nt_status st = s->net->ops->next_logits(s->net, s->ctx, s->seq_ptr, s->seq_len, n, logits);
    nt_ctx_reset(s->ctx);
    return st;
}

static nt_status nstep_select(void *user, const int *src_rows, int n_new) {
    nstep *s = user;
    if (n_new > s->rows_cap) return nt_error(NT_ERR_ARG, "nt_generate: %d rows, capacity %d", n_new, s->rows_cap);
    for (int r = 0; r < n_new; r++) s->tmp[r] = s->row_src[src_rows[r]];
    memcpy(s->row_src, s->tmp, (size_t)n_new * sizeof *s->row_src);
    return NT_OK;
}

#define NS_ALLOC(p, count)                                                        \
    do {                                                                          \
        size_t ns_n_ = (size_t)(count);                                           \
        (p) = nt_calloc(ns_n_ > 0 ? ns_n_ : 1, sizeof *(p));                      \
        if (!(p)) {                                                               \
            nstep_free(&s->pub);                                                  \
            return nt_error(NT_ERR_NOMEM, "nt_generate: out of memory (%s)", #p); \
        }                                                                         \
    } while (0)

nt_status nt_generate_stepper_net(nt_net *net, nt_ctx *ctx, nt_generate_stepper **out, int **limits,
                                  const nt_generate_config *cfg, const int32_t *const *src,
                                  const int *src_len, int n) {
    const char *f = "nt_generate";
    if (!out || !net || !ctx || (!src && n > 0) || (!src_len && n > 0) || n < 0)
        return nt_error(NT_ERR_ARG, "%s: NULL argument or n %d < 0", f, n);
    if (!net->ops || !net->ops->next_logits)
        return nt_error(NT_ERR_ARG, "%s: model '%s' cannot generate (it has neither stepper nor next_logits)",
                        f, net->ops && net->ops->arch ? net->ops->arch : "?");
    NT_TRY(nt_generate_config_check(cfg));
    if (cfg->output_attentions)
        return nt_error(NT_ERR_ARG, "%s: output_attentions: model '%s' has no cross-attention", f,
                        net->ops->arch);
    int longest = 0;
    for (int i = 0; i < n; i++) {
        if (src_len[i] < 0 || (src_len[i] > 0 && !src[i]))
            return nt_error(NT_ERR_ARG, "%s: source %d: length %d without tokens", f, i, src_len[i]);
        for (int k = 0; k < src_len[i]; k++)
            if (src[i][k] < 0 || src[i][k] >= net->vocab_size)
                return nt_error(NT_ERR_ARG, "%s: source %d, position %d: token id %d outside [0, %d)", f, i, k,
                                src[i][k], net->vocab_size);
        if (net->max_len > 0 && src_len[i] + 1 >= net->max_len)
            return nt_error(NT_ERR_ARG, "%s: source %d: prompt of %d tokens leaves no position of max_len %d",
                            f, i, src_len[i] + 1, net->max_len);
        if (src_len[i] > longest) longest = src_len[i];
    }
    nstep *s = nt_calloc(1, sizeof *s);
    if (!s) return nt_error(NT_ERR_NOMEM, "%s: out of memory", f);
    s->net = net;
    s->N = n;
    int fan = cfg->num_beams > cfg->num_return_sequences ? cfg->num_beams : cfg->num_return_sequences;
    s->rows_cap = n * fan;
    s->L = 1 + longest + cfg->max_new_tokens;
    NS_ALLOC(s->row_src, s->rows_cap);
    NS_ALLOC(s->tmp, s->rows_cap);
    NS_ALLOC(s->limits, n);
    NS_ALLOC(s->prefix, (size_t)n * s->L);
    NS_ALLOC(s->prefix_len, n);
    NS_ALLOC(s->seqs, (size_t)s->rows_cap * s->L);
    NS_ALLOC(s->seq_ptr, s->rows_cap);
    NS_ALLOC(s->seq_len, s->rows_cap);
    for (int i = 0; i < n; i++) {
        int32_t *p = s->prefix + (size_t)i * s->L;
        p[0] = NT_GEN_BOS;
        if (src_len[i]) memcpy(p + 1, src[i], (size_t)src_len[i] * sizeof *p);
        s->prefix_len[i] = 1 + src_len[i];
        s->row_src[i] = i;
        int lim = cfg->max_new_tokens;
        if (net->max_len > 0 && net->max_len - s->prefix_len[i] < lim) lim = net->max_len - s->prefix_len[i];
        s->limits[i] = lim;
    }
    s->ctx = ctx;
    s->grad_was = nt_ctx_set_grad(ctx, 0);
    s->training_was = nt_ctx_training(ctx);
    nt_ctx_set_training(ctx, 0);
    nt_ctx_reset(ctx);
    s->pub.user = s;
    s->pub.vocab_size = net->vocab_size;
    s->pub.step = nstep_step;
    s->pub.select = nstep_select;
    s->pub.free = nstep_free;
    if (limits) *limits = s->limits;
    *out = &s->pub;
    return NT_OK;
}
