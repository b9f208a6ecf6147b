/* generate.c - the generation loop: greedy, sampling and beam search over a
 * stepper (next-token logits of the live rows), rows dropping out as they
 * finish. The model stepper (KV cache, batching) is in generate_model.c.
 *
 * Letters: N sources, R live rows (beams and samples included), V vocab,
 * L steps (max generated tokens), A attention columns.
 */
#include "nn/generate.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "nn/sampling.h"

nt_generate_config nt_generate_config_default(void) {
    nt_generate_config c;
    memset(&c, 0, sizeof c);
    c.max_new_tokens = 64;
    c.temperature = 1.0f;
    c.top_p = 1.0f;
    c.num_beams = 1;
    c.length_penalty = 1.0f;
    c.num_return_sequences = 1;
    c.repetition_penalty = 1.0f;
    c.use_cache = 1;
    return c;
}

nt_status nt_generate_config_check(const nt_generate_config *c) {
    const char *f = "nt_generate";
    if (!c) return nt_error(NT_ERR_ARG, "%s: config is NULL", f);
    if (c->max_new_tokens < 1)
        return nt_error(NT_ERR_ARG, "%s: max_new_tokens %d, expected >= 1", f, c->max_new_tokens);
    if (c->num_beams < 1)
        return nt_error(NT_ERR_ARG, "%s: num_beams %d, expected >= 1", f, c->num_beams);
    if (c->num_return_sequences < 1)
        return nt_error(NT_ERR_ARG, "%s: num_return_sequences %d, expected >= 1", f,
                        c->num_return_sequences);
    if (!(c->temperature > 0) || !isfinite(c->temperature))
        return nt_error(NT_ERR_ARG, "%s: temperature %g, expected > 0", f, (double)c->temperature);
    if (c->top_k < 0) return nt_error(NT_ERR_ARG, "%s: top_k %d, expected >= 0", f, c->top_k);
    if (!(c->top_p > 0 && c->top_p <= 1))
        return nt_error(NT_ERR_ARG, "%s: top_p %g outside (0, 1]", f, (double)c->top_p);
    if (!isfinite(c->length_penalty))
        return nt_error(NT_ERR_ARG, "%s: length_penalty %g, expected a finite number", f,
                        (double)c->length_penalty);
    if (!(c->repetition_penalty > 0) || !isfinite(c->repetition_penalty))
        return nt_error(NT_ERR_ARG, "%s: repetition_penalty %g, expected > 0", f,
                        (double)c->repetition_penalty);
    if (c->no_repeat_ngram_size < 0)
        return nt_error(NT_ERR_ARG, "%s: no_repeat_ngram_size %d, expected >= 0", f,
                        c->no_repeat_ngram_size);
    if (c->do_sample && c->num_beams > 1)
        return nt_error(NT_ERR_ARG,
                        "%s: do_sample with num_beams %d (beam sampling is not supported)", f,
                        c->num_beams);
    if (!c->do_sample && c->num_beams == 1 && c->num_return_sequences > 1)
        return nt_error(NT_ERR_ARG,
                        "%s: num_return_sequences %d with greedy decoding, expected 1 (use "
                        "num_beams or do_sample)", f, c->num_return_sequences);
    if (c->num_beams > 1 && c->num_return_sequences > c->num_beams)
        return nt_error(NT_ERR_ARG, "%s: num_return_sequences %d exceeds num_beams %d", f,
                        c->num_return_sequences, c->num_beams);
    if (c->n_suppress_tokens < 0 || (c->n_suppress_tokens > 0 && !c->suppress_tokens))
        return nt_error(NT_ERR_ARG, "%s: n_suppress_tokens %d with suppress_tokens %s", f,
                        c->n_suppress_tokens, c->suppress_tokens ? "set" : "NULL");
    for (int k = 0; k < c->n_suppress_tokens; k++)
        if (c->suppress_tokens[k] < 0)
            return nt_error(NT_ERR_ARG, "%s: suppress_tokens[%d] = %d, expected >= 0", f, k,
                            (int)c->suppress_tokens[k]);
    if (c->context_keep < 0)
        return nt_error(NT_ERR_ARG, "%s: context_keep %d, expected >= 0", f, c->context_keep);
    if (c->first_sequence < 0)
        return nt_error(NT_ERR_ARG, "%s: first_sequence %d, expected >= 0", f, c->first_sequence);
    if (c->on_token && !c->do_sample && c->num_beams > 1)
        return nt_error(NT_ERR_ARG, "%s: on_token with beam search (num_beams %d): its tokens are "
                        "final only at the end", f, c->num_beams);
    return NT_OK;
}

nt_generate_seq *nt_generate_result_get(const nt_generate_result *r, int i, int k) {
    if (!r || !r->seqs || i < 0 || i >= r->n_sources || k < 0 || k >= r->n_per_source) return NULL;
    return &r->seqs[(size_t)i * r->n_per_source + k];
}

void nt_generate_result_free(nt_generate_result *r) {
    if (!r) return;
    if (r->seqs)
        for (int i = 0; i < r->n_sources * r->n_per_source; i++) {
            nt_free(r->seqs[i].tokens);
            nt_free(r->seqs[i].attn);
        }
    nt_free(r->seqs);
    memset(r, 0, sizeof *r);
}

int nt_generate_window_start(int n, int start, int context, int keep) {
    if (keep <= 0 || context <= 0) return 0;
    if (n - start > context) start = n - (n > keep ? keep : n);
    return start;
}

/* ---- loop state ----------------------------------------------------------------- */

typedef struct hyp {
    double score, norm;
    int len, finished, order;
    int32_t *tokens;   /* (L) */
    float *attn;       /* (L, A) or NULL */
} hyp;

typedef struct loop {
    const nt_generate_stepper *st;
    const nt_generate_config *cfg;
    nt_generate_result *res;
    int N, V, L, A, cap, nrs;
    int *limit;                 /* (N) generated tokens at most, per source */
    int R;                      /* live rows */
    int32_t *tok, *tok2;        /* (cap, L) generated prefix of each row */
    double *score, *score2;     /* (cap) */
    int *src, *src2;            /* (cap) source of each row */
    int *seq, *seq2;            /* (cap) draw index j of each row (sampling) */
    float *hist, *hist2;        /* (cap, L, A) attention of each past step, or NULL */
    float *logits;              /* (cap, V) */
    float *attn;                /* (cap, A) this step, or NULL */
    float *work, *work2;        /* (V) processed row, warped row */
    void *scratch;              /* sampling scratch */
    int *sel;                   /* (cap) rows kept, for select */
    int32_t *newtok;            /* (cap) token appended to each kept row */
    double *newscore;           /* (cap) */
    int *newseq;                /* (cap) */
    nt_rng *rng;                /* (N * nrs) one stream per draw index */
    hyp *hyps;                  /* (N * B) beam search */
    int *n_hyps, hyp_order;     /* (N) */
    int32_t *hyp_tok;           /* (N * B, L) */
    float *hyp_attn;            /* (N * B, L, A) */
} loop;

static void loop_free(loop *s) {
    void *bufs[] = {s->limit, s->tok, s->tok2, s->score, s->score2, s->src, s->src2, s->seq,
                    s->seq2, s->hist, s->hist2, s->logits, s->attn, s->work, s->work2,
                    s->scratch, s->sel, s->newtok, s->newscore, s->newseq, s->rng, s->hyps,
                    s->n_hyps, s->hyp_tok, s->hyp_attn};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) nt_free(bufs[i]);
}

#define LOOP_ALLOC(p, count) NT_CALLOC_OR_RETURN(p, count, "nt_generate", loop_free(s))


static nt_status loop_init(loop *s, const nt_generate_stepper *st, const nt_generate_config *cfg,
                           int N, const int *max_tokens, int beams, nt_generate_result *res) {
    memset(s, 0, sizeof *s);
    for (int k = 0; k < cfg->n_suppress_tokens; k++)
        if (cfg->suppress_tokens[k] >= st->vocab_size)
            return nt_error(NT_ERR_ARG, "nt_generate: suppress_tokens[%d] = %d outside [0, %d)", k,
                            (int)cfg->suppress_tokens[k], st->vocab_size);
    s->st = st;
    s->cfg = cfg;
    s->res = res;
    s->N = N;
    s->V = st->vocab_size;
    s->A = cfg->output_attentions && st->attn_cols > 0 ? st->attn_cols : 0;
    s->nrs = cfg->num_return_sequences;
    int fan = beams > s->nrs ? beams : s->nrs;
    s->cap = N * fan;
    LOOP_ALLOC(s->limit, N);
    s->L = 1;
    for (int i = 0; i < N; i++) {
        int l = cfg->max_new_tokens;
        if (max_tokens && max_tokens[i] < l) l = max_tokens[i];
        s->limit[i] = l < 1 ? 1 : l;
        if (s->limit[i] > s->L) s->L = s->limit[i];
    }
    size_t cap = (size_t)s->cap, L = (size_t)s->L, A = (size_t)s->A, V = (size_t)s->V;
    LOOP_ALLOC(s->tok, cap * L);
    LOOP_ALLOC(s->tok2, cap * L);
    LOOP_ALLOC(s->score, cap);
    LOOP_ALLOC(s->score2, cap);
    LOOP_ALLOC(s->src, cap);
    LOOP_ALLOC(s->src2, cap);
    LOOP_ALLOC(s->seq, cap);
    LOOP_ALLOC(s->seq2, cap);
    if (A) {
        LOOP_ALLOC(s->hist, cap * L * A);
        LOOP_ALLOC(s->hist2, cap * L * A);
        LOOP_ALLOC(s->attn, cap * A);
    }
    LOOP_ALLOC(s->logits, cap * V);
    LOOP_ALLOC(s->work, V);
    LOOP_ALLOC(s->work2, V);
    s->scratch = nt_malloc(nt_sampling_scratch_bytes(s->V));
    if (!s->scratch) {
        loop_free(s);
        return nt_error(NT_ERR_NOMEM, "nt_generate: out of memory (scratch)");
    }
    LOOP_ALLOC(s->sel, cap);
    LOOP_ALLOC(s->newtok, cap);
    LOOP_ALLOC(s->newscore, cap);
    LOOP_ALLOC(s->newseq, cap);
    LOOP_ALLOC(s->rng, (size_t)N * s->nrs);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < s->nrs; j++) {
            nt_rng *r = &s->rng[i * s->nrs + j];
            nt_rng_seed(r, cfg->seed);
            r->counter = (uint64_t)(cfg->first_sequence + j) << 40;
        }
    if (beams > 0) {
        size_t H = (size_t)N * beams;
        LOOP_ALLOC(s->hyps, H);
        LOOP_ALLOC(s->n_hyps, N);
        LOOP_ALLOC(s->hyp_tok, H * L);
        if (A) LOOP_ALLOC(s->hyp_attn, H * L * A);
        for (size_t h = 0; h < H; h++) {
            s->hyps[h].tokens = s->hyp_tok + h * L;
            s->hyps[h].attn = A ? s->hyp_attn + h * L * A : NULL;
        }
    }
    /* results: every sequence empty (score -inf) until filled */
    memset(res, 0, sizeof *res);
    res->seqs = nt_calloc((size_t)N * s->nrs, sizeof *res->seqs);
    if (!res->seqs) {
        loop_free(s);
        return nt_error(NT_ERR_NOMEM, "nt_generate: out of memory (results)");
    }
    res->n_sources = N;
    res->n_per_source = s->nrs;
    for (int k = 0; k < N * s->nrs; k++) res->seqs[k].score = res->seqs[k].score_norm = -INFINITY;
    /* one row per source to start */
    s->R = N;
    for (int i = 0; i < N; i++) s->src[i] = i;
    return NT_OK;
}

static double length_norm(double score, int length, float alpha) {
    if (alpha == 0) return score;
    return score / pow((double)(length > 0 ? length : 1), (double)alpha);
}

/* Writes one output sequence: the prefix of row r (t tokens), then `last` if
 * >= 0; attention rows: the t past steps of r and this step's. */
static nt_status emit(loop *s, nt_generate_seq *o, int r, int t, int32_t last, double score,
                      int finished) {
    int len = t + (last >= 0);
    int steps = t + 1;
    o->tokens = nt_malloc((size_t)(len ? len : 1) * sizeof *o->tokens);
    if (!o->tokens) return nt_error(NT_ERR_NOMEM, "nt_generate: out of memory (output tokens)");
    memcpy(o->tokens, s->tok + (size_t)r * s->L, (size_t)t * sizeof *o->tokens);
    if (last >= 0) o->tokens[t] = last;
    o->len = len;
    o->finished = finished;
    o->score = (float)score;
    o->score_norm = (float)length_norm(score, steps, s->cfg->length_penalty);
    if (s->A) {
        size_t A = (size_t)s->A;
        o->attn = nt_malloc((size_t)steps * A * sizeof *o->attn);
        if (!o->attn) return nt_error(NT_ERR_NOMEM, "nt_generate: out of memory (attention)");
        memcpy(o->attn, s->hist + (size_t)r * s->L * A, (size_t)t * A * sizeof *o->attn);
        memcpy(o->attn + (size_t)t * A, s->attn + (size_t)r * A, A * sizeof *o->attn);
        o->attn_rows = steps;
        o->attn_cols = s->A;
    }
    return NT_OK;
}

/* Row r's logits after the processors every strategy ranks by, into s->work;
 * returns their log-sum-exp. */
static double process_row(loop *s, int r, int t) {
    const nt_generate_config *c = s->cfg;
    memcpy(s->work, s->logits + (size_t)r * s->V, (size_t)s->V * sizeof *s->work);
    for (int k = 0; k < c->n_suppress_tokens; k++) s->work[c->suppress_tokens[k]] = -INFINITY;
    const int32_t *prev = s->tok + (size_t)r * s->L;
    nt_sampling_repetition_penalty(s->work, s->V, prev, t, c->repetition_penalty);
    nt_sampling_no_repeat_ngram(s->work, s->V, prev, t, c->no_repeat_ngram_size);
    return nt_sampling_logsumexp(s->work, s->V);
}

/* Makes the kept rows (s->sel, s->newtok, ... for R_new rows) the live rows:
 * reorders the loop's buffers, appends the new tokens at column t and tells
 * the stepper. Strictly increasing selections (rows only dropped) compact in
 * place; anything else goes through the second buffers. */
static nt_status advance(loop *s, int R_new, int t) {
    size_t L = (size_t)s->L, A = (size_t)s->A;
    int increasing = 1, identity = R_new == s->R;
    for (int k = 0; k < R_new; k++) {
        if (k && s->sel[k] <= s->sel[k - 1]) increasing = 0;
        if (s->sel[k] != k) identity = 0;
    }
    if (increasing) {
        for (int k = 0; k < R_new; k++) {
            int r = s->sel[k];
            if (r != k) {
                memcpy(s->tok + k * L, s->tok + r * L, (size_t)t * sizeof *s->tok);
                if (A) memcpy(s->hist + k * L * A, s->hist + r * L * A, (size_t)t * A * sizeof *s->hist);
                s->src[k] = s->src[r];
            }
            if (A) memcpy(s->hist + (k * L + t) * A, s->attn + r * A, A * sizeof *s->hist);
        }
    } else {
        for (int k = 0; k < R_new; k++) {
            int r = s->sel[k];
            memcpy(s->tok2 + k * L, s->tok + r * L, (size_t)t * sizeof *s->tok);
            if (A) {
                memcpy(s->hist2 + k * L * A, s->hist + r * L * A, (size_t)t * A * sizeof *s->hist);
                memcpy(s->hist2 + (k * L + t) * A, s->attn + r * A, A * sizeof *s->hist);
            }
            s->src2[k] = s->src[r];
        }
        int32_t *ti = s->tok; s->tok = s->tok2; s->tok2 = ti;
        float *hi = s->hist; s->hist = s->hist2; s->hist2 = hi;
        int *si = s->src; s->src = s->src2; s->src2 = si;
    }
    for (int k = 0; k < R_new; k++) {
        s->tok[k * L + t] = s->newtok[k];
        s->score[k] = s->newscore[k];
        s->seq[k] = s->newseq[k];
    }
    s->R = R_new;
    if (R_new > 0 && !identity) NT_TRY(s->st->select(s->st->user, s->sel, R_new));
    return NT_OK;
}

static nt_status call_step(loop *s, int t) {
    nt_status st = s->st->step(s->st->user, s->logits, s->attn, s->tok, s->L, s->R, t);
    if (st != NT_OK) return nt_error_wrap(st, "nt_generate: step %d", t);
    return NT_OK;
}

/* ---- greedy and sampling ------------------------------------------------------------ */

static nt_status run_rows(loop *s) {
    const nt_generate_config *c = s->cfg;
    nt_generate_result *res = s->res;
    for (int t = 0; s->R > 0; t++) {
        NT_TRY(call_step(s, t));
        int R_new = 0;
        for (int r = 0; r < s->R; r++) {
            int i = s->src[r];
            double lse = process_row(s, r, t);
            int draws = c->do_sample && t == 0 ? s->nrs : 1;
            for (int d = 0; d < draws; d++) {
                int j = t == 0 ? d : s->seq[r];
                int tok;
                if (c->do_sample) {
                    memcpy(s->work2, s->work, (size_t)s->V * sizeof *s->work2);
                    nt_sampling_temperature(s->work2, s->V, c->temperature);
                    nt_sampling_top_k(s->work2, s->V, c->top_k, s->scratch);
                    nt_sampling_top_p(s->work2, s->V, c->top_p, s->scratch);
                    tok = nt_sampling_draw(s->work2, s->V,
                                           nt_rng_uniform_double(&s->rng[i * s->nrs + j]));
                } else {
                    tok = nt_sampling_argmax(s->work, s->V);
                }
                double lp = -INFINITY;
                if (tok < 0) tok = NT_GEN_EOS; /* every token banned: stop */
                else lp = (double)s->work[tok] - lse;
                double sc = s->score[r] + lp;
                nt_generate_seq *o = &res->seqs[(size_t)i * s->nrs + j];
                if (tok != NT_GEN_EOS && c->on_token) {
                    nt_status cb = c->on_token(c->on_token_user, i, j, tok, s->work);
                    if (cb != NT_OK) return nt_error_wrap(cb, "nt_generate: on_token, step %d", t);
                }
                if (tok == NT_GEN_EOS) {
                    NT_TRY(emit(s, o, r, t, -1, sc, 1));
                } else if (t + 1 >= s->limit[i]) {
                    NT_TRY(emit(s, o, r, t, tok, sc, 0));
                } else {
                    s->sel[R_new] = r;
                    s->newtok[R_new] = tok;
                    s->newscore[R_new] = sc;
                    s->newseq[R_new] = j;
                    R_new++;
                }
            }
        }
        NT_TRY(advance(s, R_new, t));
    }
    return NT_OK;
}

/* ---- beam search -------------------------------------------------------------------
 * Per source, up to B live beams (contiguous rows, best first). Each step
 * takes the 2B best (beam, token) extensions by summed log-prob; an <eos>
 * among the first B ends a hypothesis, the first B others become the next
 * beams. A source is done when its B kept hypotheses cannot be beaten: the
 * bound below is exact (no live beam can ever reach a better length-
 * normalised score), so the result is the true beam-search result rather than
 * HF's early_stopping=False heuristic. */

typedef struct cand {
    double val;
    int row;
    int32_t tok;
} cand;

/* 1 if hypothesis (fa, na) ranks below (fb, nb): a finished one (it ended
 * with <eos>) ranks above any unfinished one (cut by the length limit, often
 * a loop of likely tokens with a high per-token score), then the higher
 * length-normalised score. */
static int hyp_below(int fa, double na, int fb, double nb) { return fa != fb ? fa < fb : na < nb; }

static void hyp_add(loop *s, int i, int r, int t, int32_t last, double score, int finished) {
    int B = s->cfg->num_beams;
    int steps = t + 1;
    double norm = length_norm(score, steps, s->cfg->length_penalty);
    hyp *h = s->hyps + (size_t)i * B;
    int slot;
    if (s->n_hyps[i] < B) {
        slot = s->n_hyps[i]++;
    } else {
        /* the worst kept: unfinished below finished, then by score */
        slot = 0;
        for (int k = 1; k < B; k++)
            if (hyp_below(h[k].finished, h[k].norm, h[slot].finished, h[slot].norm)) slot = k;
        if (!hyp_below(h[slot].finished, h[slot].norm, finished, norm)) return;
    }
    hyp *o = &h[slot];
    size_t L = (size_t)s->L, A = (size_t)s->A;
    memcpy(o->tokens, s->tok + (size_t)r * L, (size_t)t * sizeof *o->tokens);
    if (last >= 0) o->tokens[t] = last;
    o->len = t + (last >= 0);
    o->finished = finished;
    o->score = score;
    o->norm = norm;
    o->order = s->hyp_order++;
    if (A) {
        memcpy(o->attn, s->hist + (size_t)r * L * A, (size_t)t * A * sizeof *o->attn);
        memcpy(o->attn + (size_t)t * A, s->attn + (size_t)r * A, A * sizeof *o->attn);
    }
}

static double worst_hyp(const loop *s, int i) {
    int B = s->cfg->num_beams;
    const hyp *h = s->hyps + (size_t)i * B;
    double w = INFINITY;
    for (int k = 0; k < s->n_hyps[i]; k++)
        if (h[k].norm < w) w = h[k].norm;
    return w;
}

/* The n-best of source i into the results, best first (ties: found first). */
static nt_status beam_emit(loop *s, int i) {
    int B = s->cfg->num_beams;
    hyp *h = s->hyps + (size_t)i * B;
    int n = s->n_hyps[i];
    /* insertion sort of the (at most B) hypotheses by (finished desc, norm
     * desc, order asc): unfinished ones come last, only when fewer than B
     * finished ones exist */
    for (int a = 1; a < n; a++) {
        hyp x = h[a];
        int b = a - 1;
        while (b >= 0 && (hyp_below(h[b].finished, h[b].norm, x.finished, x.norm) ||
                          (h[b].finished == x.finished && h[b].norm == x.norm && h[b].order > x.order))) {
            h[b + 1] = h[b];
            b--;
        }
        h[b + 1] = x;
    }
    size_t A = (size_t)s->A;
    for (int k = 0; k < s->nrs && k < n; k++) {
        nt_generate_seq *o = &s->res->seqs[(size_t)i * s->nrs + k];
        o->tokens = nt_malloc((size_t)(h[k].len ? h[k].len : 1) * sizeof *o->tokens);
        if (!o->tokens) return nt_error(NT_ERR_NOMEM, "nt_generate: out of memory (output tokens)");
        memcpy(o->tokens, h[k].tokens, (size_t)h[k].len * sizeof *o->tokens);
        o->len = h[k].len;
        o->finished = h[k].finished;
        o->score = (float)h[k].score;
        o->score_norm = (float)h[k].norm;
        if (A) {
            int rows = h[k].len + h[k].finished;
            o->attn = nt_malloc((size_t)rows * A * sizeof *o->attn);
            if (!o->attn) return nt_error(NT_ERR_NOMEM, "nt_generate: out of memory (attention)");
            memcpy(o->attn, h[k].attn, (size_t)rows * A * sizeof *o->attn);
            o->attn_rows = rows;
            o->attn_cols = s->A;
        }
    }
    return NT_OK;
}

static nt_status run_beam(loop *s) {
    const nt_generate_config *c = s->cfg;
    const int B = c->num_beams, K = 2 * B;
    const float alpha = c->length_penalty;
    cand top[2 * 64 + 2], *tops = top;
    cand *heap_tops = NULL;
    if (K > (int)(sizeof top / sizeof *top)) {
        heap_tops = nt_malloc((size_t)K * sizeof *heap_tops);
        if (!heap_tops) return nt_error(NT_ERR_NOMEM, "nt_generate: out of memory (beam candidates)");
        tops = heap_tops;
    }
    nt_status st = NT_OK;
    for (int t = 0; s->R > 0 && st == NT_OK; t++) {
        if ((st = call_step(s, t)) != NT_OK) break;
        int R_new = 0;
        for (int r0 = 0; r0 < s->R && st == NT_OK;) {
            int i = s->src[r0], g = 1;
            while (r0 + g < s->R && s->src[r0 + g] == i) g++;
            /* the K best extensions over the g beams (ties: earlier beam, lower id) */
            int nc = 0;
            for (int r = r0; r < r0 + g; r++) {
                double lse = process_row(s, r, t);
                if (lse == -INFINITY) continue;
                for (int v = 0; v < s->V; v++) {
                    if (s->work[v] == -INFINITY) continue;
                    double val = s->score[r] + ((double)s->work[v] - lse);
                    if (nc == K && !(val > tops[K - 1].val)) continue;
                    int p = nc < K ? nc++ : K - 1;
                    while (p > 0 && tops[p - 1].val < val) {
                        tops[p] = tops[p - 1];
                        p--;
                    }
                    tops[p] = (cand){val, r, v};
                }
            }
            int kept = 0, first = R_new;
            for (int k = 0; k < nc && kept < B; k++) {
                if (tops[k].tok == NT_GEN_EOS) {
                    if (k < B) hyp_add(s, i, tops[k].row, t, -1, tops[k].val, 1);
                    continue;
                }
                s->sel[R_new] = tops[k].row;
                s->newtok[R_new] = tops[k].tok;
                s->newscore[R_new] = tops[k].val;
                s->newseq[R_new] = 0;
                R_new++;
                kept++;
            }
            int done = kept == 0;
            if (!done && t + 1 >= s->limit[i]) {
                /* length limit: the live beams end here */
                for (int k = first; k < R_new; k++)
                    hyp_add(s, i, s->sel[k], t, s->newtok[k], s->newscore[k], 0);
                done = 1;
            } else if (!done && s->n_hyps[i] >= B) {
                /* Best final score a live beam could still reach: its sum only
                 * decreases; it ends at a length in [t + 2, limit]. */
                double best = s->newscore[first];
                double bound = alpha > 0 ? best / pow((double)s->limit[i], alpha)
                                         : best / pow((double)(t + 2), alpha);
                done = worst_hyp(s, i) >= bound;
            }
            if (done) {
                R_new = first;
                st = beam_emit(s, i);
            }
            r0 += g;
        }
        if (st == NT_OK) st = advance(s, R_new, t);
    }
    nt_free(heap_tops);
    return st;
}

/* ---- entry points ----------------------------------------------------------------- */

static nt_status run(const nt_generate_stepper *st, const nt_generate_config *cfg, int n,
                     const int *max_tokens, nt_generate_result *res, int beam) {
    if (!res) return nt_error(NT_ERR_ARG, "nt_generate: result is NULL");
    memset(res, 0, sizeof *res);
    NT_TRY(nt_generate_config_check(cfg));
    if (!st || !st->step || !st->select)
        return nt_error(NT_ERR_ARG, "nt_generate: stepper or its step/select is NULL");
    if (st->vocab_size < 1)
        return nt_error(NT_ERR_ARG, "nt_generate: stepper vocab_size %d, expected >= 1",
                        st->vocab_size);
    if (n < 1) return nt_error(NT_ERR_ARG, "nt_generate: %d sources, expected >= 1", n);
    if (beam && cfg->do_sample)
        return nt_error(NT_ERR_ARG, "nt_generate: beam search with do_sample");
    if (beam && cfg->num_return_sequences > cfg->num_beams)
        return nt_error(NT_ERR_ARG, "nt_generate: num_return_sequences %d exceeds num_beams %d",
                        cfg->num_return_sequences, cfg->num_beams);
    loop s;
    NT_TRY(loop_init(&s, st, cfg, n, max_tokens, beam ? cfg->num_beams : 0, res));
    nt_status rc = beam ? run_beam(&s) : run_rows(&s);
    loop_free(&s);
    if (rc != NT_OK) nt_generate_result_free(res);
    return rc;
}

nt_status nt_generate_run(const nt_generate_stepper *st, nt_generate_result *res,
                          const nt_generate_config *cfg, int n, const int *max_tokens) {
    int beam = cfg && !cfg->do_sample && cfg->num_beams > 1;
    return run(st, cfg, n, max_tokens, res, beam);
}

nt_status nt_generate_run_beam(const nt_generate_stepper *st, nt_generate_result *res,
                               const nt_generate_config *cfg, int n, const int *max_tokens) {
    return run(st, cfg, n, max_tokens, res, 1);
}
