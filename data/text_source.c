/* text_source.c - contiguous text in windows of T + 1 tokens: random
 * (training), fixed random (validation) or consecutive (scoring a file). */
#include "data/text_source.h"

#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"

typedef struct text_source {
    nt_data_source base;      /* first member: the interface */
    nt_text_source_config cfg;
    const int32_t *ids;       /* (n) borrowed */
    int64_t n;
    int64_t windows;          /* RANDOM: windows drawn so far (the generator's counter) */
    int64_t pass, taken;      /* evaluation modes: pass number, batches taken in it */
    int64_t pass_batches;     /* evaluation modes: batches per pass */
    int32_t *tgt_in, *tgt_mask, *labels; /* (B, T) */
    int64_t *offsets;         /* (B) window starts of the last batch */
    int have_batch;
} text_source;

static const nt_data_source_ops TEXT_OPS;

/* Window k of the random modes starts at value k of the seeded stream
 * reduced to [0, n - T): the offset depends on (seed, k) only, so any window
 * can be recomputed from the counter. The modulo bias is below
 * (n - T) / 2^64. */
static int64_t random_offset(const text_source *s, int64_t k) {
    nt_rng r;
    nt_rng_seed(&r, s->cfg.seed);
    uint64_t range = (uint64_t)(s->n - s->cfg.block_size);
    return (int64_t)(nt_rng_u64_at(&r, (uint64_t)k) % range);
}

/* Fills row b of the batch with the window at `start` (SEQUENTIAL windows
 * may run past the end: the rest of the row is padding). Returns the labels
 * that take a loss. */
static int fill_row(text_source *s, int b, int64_t start) {
    const int T = s->cfg.block_size;
    int32_t *in = s->tgt_in + (size_t)b * T, *mask = s->tgt_mask + (size_t)b * T,
            *lab = s->labels + (size_t)b * T;
    int64_t avail = s->n - 1 - start; /* labels the text has from here */
    int m = avail < T ? (int)avail : T;
    memcpy(in, s->ids + start, (size_t)m * sizeof *in);
    memcpy(lab, s->ids + start + 1, (size_t)m * sizeof *lab);
    for (int t = 0; t < m; t++) mask[t] = 1;
    for (int t = m; t < T; t++) in[t] = mask[t] = lab[t] = 0;
    s->offsets[b] = start;
    return m;
}

static void batch_set(text_source *s, nt_batch *b, int rows, int64_t n_tgt) {
    memset(b, 0, sizeof *b);
    b->B = rows;
    b->T = s->cfg.block_size;
    b->tgt_in = s->tgt_in;
    b->tgt_mask = s->tgt_mask;
    b->labels = s->labels;
    b->n_tgt_tokens = n_tgt;
    s->have_batch = 1;
}

static nt_status text_next(nt_data_source *ds, nt_batch *b) {
    text_source *s = (text_source *)ds;
    const int B = s->cfg.batch_size;
    int64_t n_tgt = 0;
    if (s->cfg.mode == NT_TEXT_SOURCE_RANDOM) {
        for (int r = 0; r < B; r++) n_tgt += fill_row(s, r, random_offset(s, s->windows + r));
        s->windows += B;
        batch_set(s, b, B, n_tgt);
        return NT_OK;
    }
    if (s->taken >= s->pass_batches) {
        memset(b, 0, sizeof *b);
        s->pass++;
        s->taken = 0;
        s->have_batch = 0;
        return NT_OK;
    }
    int rows = B;
    if (s->cfg.mode == NT_TEXT_SOURCE_FIXED) {
        for (int r = 0; r < B; r++) n_tgt += fill_row(s, r, random_offset(s, s->taken * B + r));
    } else {
        const int T = s->cfg.block_size;
        int64_t first = s->taken * B, total = nt_text_source_pass_windows(ds);
        if (total - first < rows) rows = (int)(total - first);
        for (int r = 0; r < rows; r++) n_tgt += fill_row(s, r, (first + r) * T);
    }
    s->taken++;
    batch_set(s, b, rows, n_tgt);
    return NT_OK;
}

/* RANDOM: how many times the windows drawn have covered the text. */
static int64_t random_passes(const text_source *s, int64_t windows) {
    return (int64_t)((double)windows * s->cfg.block_size / (double)(s->n - 1));
}

static void text_get_cursor(const nt_data_source *ds, nt_cursor *c) {
    const text_source *s = (const text_source *)ds;
    if (s->cfg.mode == NT_TEXT_SOURCE_RANDOM) {
        c->epoch = random_passes(s, s->windows);
        c->position = s->windows;
    } else {
        c->epoch = s->pass;
        c->position = s->taken;
    }
}

static nt_status text_set_cursor(nt_data_source *ds, const nt_cursor *c) {
    text_source *s = (text_source *)ds;
    if (s->cfg.mode == NT_TEXT_SOURCE_RANDOM) {
        if (c->position < 0 || c->position % s->cfg.batch_size != 0)
            return nt_error(NT_ERR_ARG, "text source: cursor position %lld is not a whole number of "
                            "batches of %d windows", (long long)c->position, s->cfg.batch_size);
        int64_t passes = random_passes(s, c->position);
        if (c->epoch != passes)
            return nt_error(NT_ERR_ARG, "text source: cursor {%lld, %lld} was saved over other data "
                            "(%lld windows of %d tokens are %lld passes over this text of %lld tokens)",
                            (long long)c->epoch, (long long)c->position, (long long)c->position,
                            s->cfg.block_size, (long long)passes, (long long)s->n);
        s->windows = c->position;
    } else {
        if (c->epoch < 0 || c->position < 0 || c->position > s->pass_batches)
            return nt_error(NT_ERR_ARG, "text source: cursor {%lld, %lld} outside a pass of %lld batches",
                            (long long)c->epoch, (long long)c->position, (long long)s->pass_batches);
        s->pass = c->epoch;
        s->taken = c->position;
    }
    s->have_batch = 0;
    return NT_OK;
}

static void text_free(nt_data_source *ds) {
    text_source *s = (text_source *)ds;
    nt_free(s->tgt_in);
    nt_free(s->tgt_mask);
    nt_free(s->labels);
    nt_free(s->offsets);
    nt_free(s);
}

static const nt_data_source_ops TEXT_OPS = {
    .name = "text",
    .next = text_next,
    .get_cursor = text_get_cursor,
    .set_cursor = text_set_cursor,
    .free = text_free,
};

nt_status nt_text_source_new(nt_data_source **out, const int32_t *ids, int64_t n,
                             const nt_text_source_config *cfg) {
    const char *f = "text source";
    if (!out || !cfg) return nt_error(NT_ERR_ARG, "%s: out or cfg is NULL", f);
    if (cfg->mode != NT_TEXT_SOURCE_RANDOM && cfg->mode != NT_TEXT_SOURCE_FIXED && cfg->mode != NT_TEXT_SOURCE_SEQUENTIAL)
        return nt_error(NT_ERR_ARG, "%s: unknown mode %d", f, (int)cfg->mode);
    if (cfg->batch_size < 1 || cfg->batch_size > (1 << 20))
        return nt_error(NT_ERR_ARG, "%s: batch size %d outside [1, %d]", f, cfg->batch_size, 1 << 20);
    if (cfg->block_size < 1 || cfg->block_size > (1 << 20))
        return nt_error(NT_ERR_ARG, "%s: block size %d outside [1, %d]", f, cfg->block_size, 1 << 20);
    if ((int64_t)cfg->batch_size * cfg->block_size > ((int64_t)1 << 31))
        return nt_error(NT_ERR_ARG, "%s: a batch of %d x %d tokens is too large", f, cfg->batch_size,
                        cfg->block_size);
    if (cfg->mode == NT_TEXT_SOURCE_FIXED && cfg->batches < 1)
        return nt_error(NT_ERR_ARG, "%s: batches %d per evaluation pass, expected >= 1", f, cfg->batches);
    if (n < 0 || (n > 0 && !ids)) return nt_error(NT_ERR_ARG, "%s: no text (%lld tokens)", f, (long long)n);
    int64_t need = cfg->mode == NT_TEXT_SOURCE_SEQUENTIAL ? 2 : (int64_t)cfg->block_size + 1;
    if (n < need)
        return nt_error(NT_ERR_ARG, "%s: text of %lld tokens is shorter than one window of %lld (block size %d)",
                        f, (long long)n, (long long)need, cfg->block_size);
    for (int64_t i = 0; i < n; i++)
        if (ids[i] < 1)
            return nt_error(NT_ERR_ARG, "%s: token %lld has id %d (ids must be >= 1: 0 is <pad>)", f,
                            (long long)i, (int)ids[i]);
    text_source *s = nt_calloc(1, sizeof *s);
    size_t bt = (size_t)cfg->batch_size * (size_t)cfg->block_size;
    if (s) {
        s->tgt_in = nt_malloc(bt * sizeof *s->tgt_in);
        s->tgt_mask = nt_malloc(bt * sizeof *s->tgt_mask);
        s->labels = nt_malloc(bt * sizeof *s->labels);
        s->offsets = nt_malloc((size_t)cfg->batch_size * sizeof *s->offsets);
    }
    if (!s || !s->tgt_in || !s->tgt_mask || !s->labels || !s->offsets) {
        if (s) text_free(&s->base);
        return nt_error(NT_ERR_NOMEM, "%s: out of memory for a batch of %d x %d tokens", f,
                        cfg->batch_size, cfg->block_size);
    }
    s->base.ops = &TEXT_OPS;
    s->cfg = *cfg;
    s->ids = ids;
    s->n = n;
    if (cfg->mode == NT_TEXT_SOURCE_FIXED) s->pass_batches = cfg->batches;
    if (cfg->mode == NT_TEXT_SOURCE_SEQUENTIAL) {
        int64_t w = nt_text_source_pass_windows(&s->base);
        s->pass_batches = (w + cfg->batch_size - 1) / cfg->batch_size;
    }
    *out = &s->base;
    return NT_OK;
}

const int64_t *nt_text_source_offsets(const nt_data_source *ds) {
    if (!ds || ds->ops != &TEXT_OPS) return NULL;
    const text_source *s = (const text_source *)ds;
    return s->have_batch ? s->offsets : NULL;
}

int64_t nt_text_source_pass_windows(const nt_data_source *ds) {
    if (!ds || ds->ops != &TEXT_OPS) return 0;
    const text_source *s = (const text_source *)ds;
    switch (s->cfg.mode) {
    case NT_TEXT_SOURCE_FIXED: return (int64_t)s->cfg.batches * s->cfg.batch_size;
    case NT_TEXT_SOURCE_SEQUENTIAL: return (s->n - 1 + s->cfg.block_size - 1) / s->cfg.block_size;
    default: return 0;
    }
}
