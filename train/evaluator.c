/* evaluator.c - decode-and-compare metrics: the runner the trainer calls,
 * and the translator's exact match. */
#include "train/evaluator.h"

#include <string.h>

#include "train/dist.h"

nt_status nt_eval_decoder_check(const nt_eval_decoder *d) {
    const char *f = "nt_eval_decoder";
    if (!d) return nt_error(NT_ERR_ARG, "%s: NULL", f);
    size_t len = d->name ? strlen(d->name) : 0;
    if (len == 0 || len > 63 || strspn(d->name, "abcdefghijklmnopqrstuvwxyz_") != len)
        return nt_error(NT_ERR_ARG, "%s: name '%s', expected 1 to 63 of [a-z_]", f, d->name ? d->name : "(null)");
    if (d->n < 0) return nt_error(NT_ERR_ARG, "%s '%s': n %d, expected >= 0", f, d->name, d->n);
    if (!d->prompt || !d->score) return nt_error(NT_ERR_ARG, "%s '%s': prompt or score is NULL", f, d->name);
    nt_status s = nt_generate_config_check(&d->gen);
    return s == NT_OK ? NT_OK : nt_error_wrap(s, "%s '%s': gen", f, d->name);
}

/* ---- exact match ---------------------------------------------------------------------- */

static nt_status em_prompt(void *user, int i, const int32_t **ids, int *len) {
    const nt_corpus *c = user;
    *ids = c->ids + c->src_off[i];
    *len = c->src_len[i];
    return NT_OK;
}

static double em_score(void *user, int i, const nt_generate_seq *q) {
    const nt_corpus *c = user;
    return q->finished && q->len == c->tgt_len[i] &&
           memcmp(q->tokens, c->ids + c->tgt_off[i], (size_t)q->len * sizeof *q->tokens) == 0;
}

nt_status nt_eval_exact_match(nt_eval_decoder *d, const nt_corpus *c) {
    if (!d || !c) return nt_error(NT_ERR_ARG, "nt_eval_exact_match: NULL argument");
    int longest = 0;
    for (int i = 0; i < c->n; i++) longest = c->tgt_len[i] > longest ? c->tgt_len[i] : longest;
    memset(d, 0, sizeof *d);
    d->name = "exact_match";
    d->n = c->n;
    d->gen = nt_generate_config_default(); /* greedy */
    d->gen.max_new_tokens = longest + 8;
    d->prompt = em_prompt;
    d->score = em_score;
    d->user = (void *)c;
    return NT_OK;
}

/* ---- the runner ----------------------------------------------------------------------- */

nt_status nt_eval_decoder_run(const nt_eval_decoder *d, nt_net *net, nt_ctx *ctx, struct nt_dist *dist,
                              int max_items, int max_new_tokens, double *value, int *n_items) {
    NT_TRY(nt_eval_decoder_check(d));
    if (!net || !ctx || !value || !n_items) return nt_error(NT_ERR_ARG, "nt_eval_decoder_run: NULL argument");
    int n = max_items > 0 && max_items < d->n ? max_items : d->n;
    nt_generate_config g = d->gen;
    if (max_new_tokens > 0) g.max_new_tokens = max_new_tokens;
    enum { CHUNK = 64 };
    const int32_t *src[CHUNK];
    int len[CHUNK];
    double sum = 0; /* the ranks take turns by chunk; their sums are reduced */
    const int ranks = nt_dist_size(dist), rank = nt_dist_rank(dist);
    for (int i0 = rank * CHUNK; i0 < n; i0 += ranks * CHUNK) {
        int m = n - i0 < CHUNK ? n - i0 : CHUNK;
        for (int j = 0; j < m; j++) {
            nt_status s = d->prompt(d->user, i0 + j, &src[j], &len[j]);
            if (s != NT_OK) return nt_error_wrap(s, "%s: item %d", d->name, i0 + j);
        }
        nt_generate_result res;
        NT_TRY(nt_generate(net, ctx, &res, &g, src, len, m));
        for (int j = 0; j < m; j++) sum += d->score(d->user, i0 + j, nt_generate_result_get(&res, j, 0));
        nt_generate_result_free(&res);
    }
    NT_TRY(nt_dist_sum(dist, &sum, 1));
    *value = n > 0 ? sum / n : 0.0;
    *n_items = n;
    return NT_OK;
}
