/* batcher.c - length buckets, per-epoch seeded plan, padded batches, cursor. */
#include "data/batcher.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"

struct nt_batcher {
    const nt_corpus *c;
    nt_batcher_config cfg;
    int n;              /* pairs kept */
    int n_skipped;
    int *len_s, *len_t; /* (corpus n) S_i and T_i of each pair */
    int *key;           /* (corpus n) batching length of each pair */
    int *sorted;        /* (n) kept pairs by (key, index) */
    int *bucket_start;  /* (n_buckets + 1) into sorted */
    int n_buckets;
    /* the plan of the current epoch */
    int64_t epoch, pos;
    int *perm;          /* (n) pair order of this epoch */
    int *batch_start;   /* (n) batch k = perm[batch_start[k] ...] */
    int *batch_count;   /* (n) */
    int *order;         /* (n) the batches in the order they are served */
    int n_batches;
    /* batch buffers (capacity cells rows) */
    int32_t *src, *src_mask, *tgt_in, *tgt_mask, *labels;
    int *index, *prompt_len;
};

nt_batcher_config nt_batcher_config_default(void) {
    nt_batcher_config c = {NT_BATCHER_LAYOUT_ENCDEC, 4096, 0, 1, 1, 256, 0, 8};
    return c;
}

void nt_batcher_free(nt_batcher *b) {
    if (!b) return;
    nt_free(b->len_s); nt_free(b->len_t); nt_free(b->key);
    nt_free(b->sorted); nt_free(b->bucket_start);
    nt_free(b->perm); nt_free(b->batch_start); nt_free(b->batch_count); nt_free(b->order);
    nt_free(b->src); nt_free(b->src_mask); nt_free(b->tgt_in); nt_free(b->tgt_mask); nt_free(b->labels);
    nt_free(b->index); nt_free(b->prompt_len);
    nt_free(b);
}

/* sorts (key << 32 | index) values: by key, then by corpus index */
static int by_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Cuts perm[lo, hi) into batches by the caps, appending to the plan. */
static void cut(nt_batcher *b, int lo, int hi) {
    int i = lo;
    while (i < hi) {
        int start = i, count = 0, mx = 0;
        while (i < hi) {
            int k = b->key[b->perm[i]];
            int m = k > mx ? k : mx;
            if (count > 0) {
                if (b->cfg.max_sentences > 0 && count + 1 > b->cfg.max_sentences) break;
                if (b->cfg.max_tokens > 0 && (int64_t)(count + 1) * m > b->cfg.max_tokens) break;
            }
            mx = m;
            count++;
            i++;
        }
        b->batch_start[b->n_batches] = start;
        b->batch_count[b->n_batches] = count;
        b->n_batches++;
    }
}

static void shuffle_ints(nt_rng *r, int *a, int n) {
    for (int i = n - 1; i > 0; i--) {
        int j = (int)nt_rng_below(r, (uint64_t)i + 1);
        int t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

/* The plan of `epoch`: a pure function of (seed, epoch, corpus, config). */
static void plan(nt_batcher *b, int64_t epoch) {
    b->n_batches = 0;
    if (!b->cfg.shuffle) {
        int k = 0;
        for (int i = 0; i < b->c->n; i++)
            if (b->key[i] >= 0) b->perm[k++] = i;
        cut(b, 0, b->n);
    } else {
        nt_rng r;
        nt_rng_seed(&r, b->cfg.seed);
        r.counter = (uint64_t)epoch << 40;
        memcpy(b->perm, b->sorted, (size_t)b->n * sizeof *b->perm);
        for (int k = 0; k < b->n_buckets; k++) {
            int lo = b->bucket_start[k], hi = b->bucket_start[k + 1];
            shuffle_ints(&r, b->perm + lo, hi - lo);
            cut(b, lo, hi);
        }
    }
    for (int k = 0; k < b->n_batches; k++) b->order[k] = k;
    if (b->cfg.shuffle) {
        nt_rng r;
        nt_rng_seed(&r, b->cfg.seed);
        r.counter = ((uint64_t)epoch << 40) + ((uint64_t)1 << 39); /* a second stream of the epoch */
        shuffle_ints(&r, b->order, b->n_batches);
    }
    b->epoch = epoch;
    b->pos = 0;
}

nt_status nt_batcher_new(nt_batcher **out, const nt_corpus *c, const nt_batcher_config *cfg) {
    const char *who = "nt_batcher_new";
    if (!out) return nt_error(NT_ERR_ARG, "%s: NULL out", who);
    *out = NULL;
    if (!c || !cfg) return nt_error(NT_ERR_ARG, "%s: NULL corpus or config", who);
    if (cfg->layout != NT_BATCHER_LAYOUT_ENCDEC && cfg->layout != NT_BATCHER_LAYOUT_DECODER)
        return nt_error(NT_ERR_ARG, "%s: bad layout %d", who, (int)cfg->layout);
    if (cfg->max_tokens < 0 || cfg->max_sentences < 0 || cfg->max_len < 0 || cfg->buckets < 0)
        return nt_error(NT_ERR_ARG, "%s: negative value (max_tokens %d, max_sentences %d, max_len %d, buckets %d)",
                        who, cfg->max_tokens, cfg->max_sentences, cfg->max_len, cfg->buckets);
    if (cfg->max_tokens == 0 && cfg->max_sentences == 0)
        return nt_error(NT_ERR_ARG, "%s: max_tokens and max_sentences are both 0 (set one)", who);
    nt_batcher *b = nt_calloc(1, sizeof *b);
    if (!b) return nt_error(NT_ERR_NOMEM, "%s: out of memory", who);
    b->c = c;
    b->cfg = *cfg;
    if (b->cfg.buckets == 0) b->cfg.buckets = 8;
    size_t m = (size_t)(c->n ? c->n : 1);
    b->len_s = nt_malloc(m * sizeof(int));
    b->len_t = nt_malloc(m * sizeof(int));
    b->key = nt_malloc(m * sizeof(int));
    if (!b->len_s || !b->len_t || !b->key) goto nomem;
    int maxkey = 1;
    for (int i = 0; i < c->n; i++) {
        int s, t;
        if (cfg->layout == NT_BATCHER_LAYOUT_ENCDEC) {
            s = c->src_len[i] + 1;
            t = c->tgt_len[i] + 1;
        } else {
            s = 0;
            t = c->src_len[i] + c->tgt_len[i] + 2;
        }
        b->len_s[i] = s;
        b->len_t[i] = t;
        b->key[i] = s > t ? s : t;
        if (cfg->max_len > 0 && (s > cfg->max_len || t > cfg->max_len)) {
            if (!cfg->skip_long) {
                nt_status st = nt_error(NT_ERR_FORMAT,
                                        "%s: %s:%d: pair too long for max_len %d (%s length %d; "
                                        "set skip_long to drop such pairs)",
                                        who, c->path ? c->path : "<memory>", c->line ? c->line[i] : i + 1,
                                        cfg->max_len, s > cfg->max_len ? "source" : "target",
                                        s > cfg->max_len ? s : t);
                nt_batcher_free(b);
                return st;
            }
            b->key[i] = -1; /* skipped */
            b->n_skipped++;
            continue;
        }
        if (b->key[i] > maxkey) maxkey = b->key[i];
        b->n++;
    }
    size_t nk = (size_t)(b->n ? b->n : 1);
    b->sorted = nt_malloc(nk * sizeof(int));
    b->perm = nt_malloc(nk * sizeof(int));
    b->batch_start = nt_malloc(nk * sizeof(int));
    b->batch_count = nt_malloc(nk * sizeof(int));
    b->order = nt_malloc(nk * sizeof(int));
    b->bucket_start = nt_malloc(((size_t)b->cfg.buckets + 1) * sizeof(int));
    if (!b->sorted || !b->perm || !b->batch_start || !b->batch_count || !b->order || !b->bucket_start)
        goto nomem;
    /* buckets: sorted by (key, index), cut into groups of about n/buckets
     * pairs, each boundary moved past the run of its length */
    uint64_t *tmp = nt_malloc(nk * sizeof *tmp);
    if (!tmp) goto nomem;
    int k = 0;
    for (int i = 0; i < c->n; i++)
        if (b->key[i] >= 0) tmp[k++] = (uint64_t)b->key[i] << 32 | (uint32_t)i;
    qsort(tmp, (size_t)b->n, sizeof *tmp, by_u64);
    for (int i = 0; i < b->n; i++) b->sorted[i] = (int)(tmp[i] & 0xffffffffu);
    nt_free(tmp);
    b->bucket_start[0] = 0;
    b->n_buckets = 0;
    int lo = 0;
    while (lo < b->n) {
        int hi = lo + (b->n + b->cfg.buckets - 1) / b->cfg.buckets;
        if (hi > b->n) hi = b->n;
        while (hi < b->n && b->key[b->sorted[hi]] == b->key[b->sorted[hi - 1]]) hi++;
        b->bucket_start[++b->n_buckets] = hi;
        lo = hi;
    }
    /* buffers for the largest batch the caps allow */
    int64_t rows = cfg->max_sentences > 0 && cfg->max_sentences < b->n ? cfg->max_sentences : b->n;
    if (rows < 1) rows = 1;
    int64_t cells = rows * maxkey;
    if (cfg->max_tokens > 0) {
        int64_t cap = cfg->max_tokens > maxkey ? cfg->max_tokens : maxkey;
        if (cap < cells) cells = cap;
        if (cfg->max_tokens < rows) rows = cfg->max_tokens; /* every pair has length >= 1 */
    }
    b->tgt_in = nt_malloc((size_t)cells * sizeof(int32_t));
    b->tgt_mask = nt_malloc((size_t)cells * sizeof(int32_t));
    b->labels = nt_malloc((size_t)cells * sizeof(int32_t));
    b->index = nt_malloc((size_t)rows * sizeof(int));
    if (!b->tgt_in || !b->tgt_mask || !b->labels || !b->index) goto nomem;
    if (cfg->layout == NT_BATCHER_LAYOUT_ENCDEC) {
        b->src = nt_malloc((size_t)cells * sizeof(int32_t));
        b->src_mask = nt_malloc((size_t)cells * sizeof(int32_t));
        if (!b->src || !b->src_mask) goto nomem;
    } else {
        b->prompt_len = nt_malloc((size_t)rows * sizeof(int));
        if (!b->prompt_len) goto nomem;
    }
    plan(b, 0);
    *out = b;
    return NT_OK;
nomem:
    nt_batcher_free(b);
    return nt_error(NT_ERR_NOMEM, "%s: out of memory for %d pairs", who, c->n);
}

static void fill(nt_batcher *b, nt_batch *o, const int *rows, int B) {
    const nt_corpus *c = b->c;
    int S = 0, T = 0;
    for (int r = 0; r < B; r++) {
        if (b->len_s[rows[r]] > S) S = b->len_s[rows[r]];
        if (b->len_t[rows[r]] > T) T = b->len_t[rows[r]];
    }
    memset(o, 0, sizeof *o);
    o->B = B;
    o->S = S;
    o->T = T;
    o->tgt_in = b->tgt_in;
    o->tgt_mask = b->tgt_mask;
    o->labels = b->labels;
    o->index = b->index;
    memset(b->tgt_in, 0, (size_t)B * T * sizeof(int32_t));
    memset(b->tgt_mask, 0, (size_t)B * T * sizeof(int32_t));
    memset(b->labels, 0, (size_t)B * T * sizeof(int32_t));
    for (int r = 0; r < B; r++) {
        int i = rows[r];
        const int32_t *sid = c->ids + c->src_off[i], *tid = c->ids + c->tgt_off[i];
        int ns = c->src_len[i], nt = c->tgt_len[i];
        int32_t *ti = b->tgt_in + (size_t)r * T, *tm = b->tgt_mask + (size_t)r * T, *lb = b->labels + (size_t)r * T;
        b->index[r] = i;
        o->n_src_tokens += ns + 1;
        o->n_tgt_tokens += nt + 1;
        if (b->cfg.layout == NT_BATCHER_LAYOUT_ENCDEC) {
            int32_t *s = b->src + (size_t)r * S, *sm = b->src_mask + (size_t)r * S;
            memset(s, 0, (size_t)S * sizeof *s);
            memset(sm, 0, (size_t)S * sizeof *sm);
            memcpy(s, sid, (size_t)ns * sizeof *s);
            s[ns] = NT_TOK_EOS;
            for (int t = 0; t <= ns; t++) sm[t] = 1;
            ti[0] = NT_TOK_BOS;
            memcpy(ti + 1, tid, (size_t)nt * sizeof *ti);
            memcpy(lb, tid, (size_t)nt * sizeof *lb);
            lb[nt] = NT_TOK_EOS;
            for (int t = 0; t <= nt; t++) tm[t] = 1;
        } else {
            /* sequence <bos> src <sep> tgt <eos>; input = all but the last token */
            int p = ns + 2; /* prompt_len */
            b->prompt_len[r] = p;
            ti[0] = NT_TOK_BOS;
            memcpy(ti + 1, sid, (size_t)ns * sizeof *ti);
            ti[ns + 1] = NT_TOK_SEP;
            memcpy(ti + ns + 2, tid, (size_t)nt * sizeof *ti);
            /* labels[t] = sequence[t + 1] for t >= p - 1 */
            memcpy(lb + p - 1, tid, (size_t)nt * sizeof *lb);
            lb[p - 1 + nt] = NT_TOK_EOS;
            for (int t = 0; t < ns + nt + 2; t++) tm[t] = 1;
        }
    }
    if (b->cfg.layout == NT_BATCHER_LAYOUT_ENCDEC) {
        o->src = b->src;
        o->src_mask = b->src_mask;
    } else {
        o->prompt_len = b->prompt_len;
    }
}

nt_status nt_batcher_next(nt_batcher *b, nt_batch *out) {
    if (!b || !out) return nt_error(NT_ERR_ARG, "nt_batcher_next: NULL argument");
    if (b->pos >= b->n_batches) {
        plan(b, b->epoch + 1);
        memset(out, 0, sizeof *out);
        return NT_OK;
    }
    int k = b->order[b->pos++];
    fill(b, out, b->perm + b->batch_start[k], b->batch_count[k]);
    return NT_OK;
}

void nt_batcher_get_cursor(const nt_batcher *b, int64_t *epoch, int64_t *position) {
    if (epoch) *epoch = b ? b->epoch : 0;
    if (position) *position = b ? b->pos : 0;
}

nt_status nt_batcher_set_cursor(nt_batcher *b, int64_t epoch, int64_t position) {
    if (!b) return nt_error(NT_ERR_ARG, "nt_batcher_set_cursor: NULL batcher");
    if (epoch < 0 || epoch >= ((int64_t)1 << 23))
        return nt_error(NT_ERR_ARG, "nt_batcher_set_cursor: epoch %lld out of range 0..%lld", (long long)epoch,
                        ((long long)1 << 23) - 1);
    int64_t e0 = b->epoch, p0 = b->pos;
    plan(b, epoch);
    if (position < 0 || position > b->n_batches) {
        int nb = b->n_batches;
        plan(b, e0);
        b->pos = p0;
        return nt_error(NT_ERR_ARG, "nt_batcher_set_cursor: position %lld out of range 0..%d for epoch %lld",
                        (long long)position, nb, (long long)epoch);
    }
    b->pos = position;
    return NT_OK;
}

int nt_batcher_n_batches(const nt_batcher *b) { return b ? b->n_batches : 0; }
int nt_batcher_n_sentences(const nt_batcher *b) { return b ? b->n : 0; }
int nt_batcher_n_skipped(const nt_batcher *b) { return b ? b->n_skipped : 0; }
