/* generate_net.c - nt_generate for any model of the model interface
 * (nn/net.h): the sources in batches the model can take (its
 * decode_plan), each run through the model's stepper() or, for a model
 * that only gives next-token logits (next_logits), the stepper here that
 * keeps each row's sequence.
 *
 * Letters: N sources, R live rows, L longest sequence (prompt + generated,
 * or the sliding window), V vocab.
 */
#include <string.h>

#include "core/alloc.h"
#include "nn/generate.h"

nt_status nt_generate_check_sources(int V, const int32_t *const *src, const int *src_len, int n) {
    const char *f = "nt_generate";
    if (!src || !src_len) return nt_error(NT_ERR_ARG, "%s: src or src_len is NULL", f);
    if (n < 1) return nt_error(NT_ERR_ARG, "%s: %d sources, expected >= 1", f, n);
    for (int i = 0; i < n; i++) {
        if (src_len[i] < 0) return nt_error(NT_ERR_ARG, "%s: source %d: length %d < 0", f, i, src_len[i]);
        if (src_len[i] > 0 && !src[i]) return nt_error(NT_ERR_ARG, "%s: source %d is NULL", f, i);
        for (int k = 0; k < src_len[i]; k++)
            if (src[i][k] < 0 || src[i][k] >= V)
                return nt_error(NT_ERR_ARG, "%s: source %d token %d: id %d outside [0, %d)", f, i, k,
                                (int)src[i][k], V);
    }
    return NT_OK;
}

/* ---- the stepper over next_logits() ------------------------------------------------ */

typedef struct nstep {
    nt_generate_stepper pub;
    nt_net *net;
    nt_ctx *ctx;
    int grad_was, training_was;
    int N, rows_cap, P, W, keep;
    int *row_src, *tmp;       /* (rows_cap) source of each row */
    int *start;               /* (rows_cap) each row's window start (cfg.context_keep) */
    int *limits;              /* (N) */
    int32_t *prefix;          /* (N, P) each source's prompt: <bos> source, or the raw source */
    int *prefix_len;          /* (N) */
    int32_t *seqs;            /* (rows_cap, W) the sequences (windows) handed to the model */
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
    void *bufs[] = {s->row_src, s->tmp, s->start, s->limits, s->prefix, s->prefix_len, s->seqs,
                    (void *)s->seq_ptr, s->seq_len};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) nt_free(bufs[i]);
    nt_free(s);
}

/* logits (n, V) of the token after each live row's sequence (its window). */
static nt_status nstep_step(void *user, float *logits, float *attn, const int32_t *tokens, int stride,
                            int n, int t) {
    nstep *s = user;
    if (attn) return nt_error(NT_ERR_STATE, "nt_generate: attention was not requested");
    for (int r = 0; r < n; r++) {
        int src = s->row_src[r], pl = s->prefix_len[src], len = pl + t;
        s->start[r] = nt_generate_window_start(len, s->start[r], s->net->max_len, s->keep);
        int32_t *seq = s->seqs + (size_t)r * s->W;
        const int32_t *prefix = s->prefix + (size_t)src * s->P;
        for (int j = s->start[r]; j < len; j++)
            seq[j - s->start[r]] = j < pl ? prefix[j] : tokens[(size_t)r * stride + j - pl];
        s->seq_ptr[r] = seq;
        s->seq_len[r] = len - s->start[r];
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
    for (int r = 0; r < n_new; r++) s->tmp[r] = s->start[src_rows[r]];
    memcpy(s->start, s->tmp, (size_t)n_new * sizeof *s->start);
    return NT_OK;
}

#define NS_ALLOC(p, count) NT_CALLOC_OR_RETURN(p, count, "nt_generate", nstep_free(&s->pub))

nt_status nt_generate_stepper_net(nt_net *net, nt_ctx *ctx, nt_generate_stepper **out, int **limits,
                                  const nt_generate_config *cfg, const int32_t *const *src,
                                  const int *src_len, int n) {
    const char *f = "nt_generate";
    if (!out || !net || !ctx) return nt_error(NT_ERR_ARG, "%s: out, model or ctx is NULL", f);
    if (!net->ops || !net->ops->next_logits)
        return nt_error(NT_ERR_ARG, "%s: model '%s' cannot generate (it has neither stepper nor next_logits)",
                        f, net->ops && net->ops->arch ? net->ops->arch : "?");
    NT_TRY(nt_generate_config_check(cfg));
    if (cfg->output_attentions)
        return nt_error(NT_ERR_ARG, "%s: output_attentions: model '%s' has no cross-attention", f,
                        net->ops->arch);
    NT_TRY(nt_generate_check_sources(net->vocab_size, src, src_len, n));
    const int T = net->max_len, keep = T > 0 ? cfg->context_keep : 0, raw = cfg->raw_prompt != 0;
    if (keep > 0 && keep > T)
        return nt_error(NT_ERR_ARG, "%s: context_keep %d exceeds the model's context (max_len %d)", f, keep, T);
    int longest = 0;
    for (int i = 0; i < n; i++) {
        int pl = src_len[i] + !raw;
        if (pl < 1) return nt_error(NT_ERR_ARG, "%s: source %d: an empty raw prompt (give at least <bos>)", f, i);
        if (T > 0 && !keep && pl >= T)
            return nt_error(NT_ERR_ARG, "%s: source %d: prompt of %d tokens leaves no position of max_len %d",
                            f, i, pl, T);
        if (pl > longest) longest = pl;
    }
    nstep *s = nt_calloc(1, sizeof *s);
    if (!s) return nt_error(NT_ERR_NOMEM, "%s: out of memory", f);
    s->net = net;
    s->N = n;
    s->keep = keep;
    int fan = cfg->num_beams > cfg->num_return_sequences ? cfg->num_beams : cfg->num_return_sequences;
    s->rows_cap = n * fan;
    s->P = longest;
    int64_t W = (int64_t)longest + cfg->max_new_tokens;
    s->W = keep && W > T ? T : (int)W;
    NS_ALLOC(s->row_src, s->rows_cap);
    NS_ALLOC(s->tmp, s->rows_cap);
    NS_ALLOC(s->start, s->rows_cap);
    NS_ALLOC(s->limits, n);
    NS_ALLOC(s->prefix, (size_t)n * s->P);
    NS_ALLOC(s->prefix_len, n);
    NS_ALLOC(s->seqs, (size_t)s->rows_cap * s->W);
    NS_ALLOC(s->seq_ptr, s->rows_cap);
    NS_ALLOC(s->seq_len, s->rows_cap);
    for (int i = 0; i < n; i++) {
        int32_t *p = s->prefix + (size_t)i * s->P;
        if (!raw) p[0] = NT_GEN_BOS;
        if (src_len[i]) memcpy(p + !raw, src[i], (size_t)src_len[i] * sizeof *p);
        s->prefix_len[i] = src_len[i] + !raw;
        s->row_src[i] = i;
        int lim = cfg->max_new_tokens;
        if (T > 0 && !keep && T - s->prefix_len[i] < lim) lim = T - s->prefix_len[i];
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

/* ---- nt_generate: batches run one after another ------------------------------------
 * A batch holds at most NT_GEN_MAX_ROWS rows (sources x beams or samples),
 * so that a stepper's buffers (a KV cache) stay small, and only the sources
 * the model's decode_plan says fit one stepper. Outputs do not depend on the
 * split. */
#define NT_GEN_MAX_ROWS 256

/* on_token of a batch that starts at source `base`: the caller's source index. */
typedef struct relay {
    const nt_generate_config *cfg;
    int base;
} relay;

static nt_status relay_token(void *user, int source, int seq, int32_t token, const float *logits) {
    const relay *r = user;
    return r->cfg->on_token(r->cfg->on_token_user, r->base + source, seq, token, logits);
}

nt_status nt_generate(nt_net *net, nt_ctx *ctx, nt_generate_result *res,
                      const nt_generate_config *cfg, const int32_t *const *src, const int *src_len,
                      int n) {
    const char *f = "nt_generate";
    if (!res) return nt_error(NT_ERR_ARG, "%s: result is NULL", f);
    memset(res, 0, sizeof *res);
    if (!net || !ctx || !net->ops) return nt_error(NT_ERR_ARG, "%s: model or ctx is NULL", f);
    const nt_net_ops *ops = net->ops;
    NT_TRY(nt_generate_config_check(cfg));
    NT_TRY(nt_generate_check_sources(net->vocab_size, src, src_len, n));
    if (!ops->stepper && !ops->next_logits)
        return nt_error(NT_ERR_ARG, "%s: model '%s' cannot generate (it has neither stepper nor next_logits)",
                        f, ops->arch ? ops->arch : "?");
    /* the model checks the sources against itself (errors name them by
     * their index here) and says how many, from the first, one stepper takes */
    int take = n;
    if (ops->decode_plan) NT_TRY(ops->decode_plan(net, cfg, src, src_len, n, &take));
    int nrs = cfg->num_return_sequences;
    int fan = cfg->num_beams > nrs ? cfg->num_beams : nrs;
    int per = NT_GEN_MAX_ROWS / fan;
    if (per < 1) per = 1;
    res->seqs = nt_calloc((size_t)n * nrs, sizeof *res->seqs);
    if (!res->seqs) return nt_error(NT_ERR_NOMEM, "%s: out of memory (results)", f);
    res->n_sources = n;
    res->n_per_source = nrs;
    nt_status st = NT_OK;
    for (int i0 = 0; i0 < n && st == NT_OK;) {
        if (i0 > 0 && ops->decode_plan) st = ops->decode_plan(net, cfg, src + i0, src_len + i0, n - i0, &take);
        if (st != NT_OK) break;
        int k = take < per ? take : per;
        if (k > n - i0) k = n - i0;
        if (k < 1) k = 1;
        relay rl = {cfg, i0};
        nt_generate_config c = *cfg;
        if (cfg->on_token) c.on_token = relay_token, c.on_token_user = &rl;
        nt_generate_stepper *stp = NULL;
        int *limits = NULL;
        nt_generate_result part;
        memset(&part, 0, sizeof part);
        if (ops->stepper)
            st = ops->stepper(net, ctx, &c, src + i0, src_len + i0, k, &stp, &limits);
        else
            st = nt_generate_stepper_net(net, ctx, &stp, &limits, &c, src + i0, src_len + i0, k);
        if (st == NT_OK) st = nt_generate_run(stp, &part, &c, k, limits);
        nt_generate_stepper_free(stp);
        if (st == NT_OK) {
            /* move the sequences over; attention rows keep the source's
             * columns (its tokens + <eos>), not the batch's padding */
            for (int i = 0; i < k; i++)
                for (int j = 0; j < nrs; j++) {
                    nt_generate_seq *o = &res->seqs[(size_t)(i0 + i) * nrs + j];
                    *o = part.seqs[(size_t)i * nrs + j];
                    int cols = src_len[i0 + i] + 1;
                    if (o->attn && o->attn_cols > cols) {
                        for (int r = 0; r < o->attn_rows; r++)
                            memmove(o->attn + (size_t)r * cols, o->attn + (size_t)r * o->attn_cols,
                                    (size_t)cols * sizeof *o->attn);
                        o->attn_cols = cols;
                    }
                }
            nt_free(part.seqs);
        }
        i0 += k;
    }
    if (st != NT_OK) nt_generate_result_free(res);
    return st;
}
