/* kv_cache.c - the generation KV cache: allocation, clearing, row selection for beams.
 *
 * Buffers are [layer][row][cap][D] so that one row's prefix is contiguous and
 * the fused attention kernel reads it in place (nn/attention.c).
 */
#include <string.h>

#include "core/alloc.h"
#include "nn/kv_cache.h"

/* Scratch of nt_kv_cache_select: room for every row of one buffer of one layer. */
typedef struct kv_scratch {
    float *rows;        /* [rows_cap][max(cap, src_cap)][D] */
    int32_t *mask_rows; /* [rows_cap][max(cap, src_cap)] */
    int *stashed;       /* [rows_cap] */
} kv_scratch;

void nt_kv_cache_free(nt_kv_cache *c) {
    if (!c) return;
    nt_free_aligned(c->self_k);
    nt_free_aligned(c->self_v);
    nt_free_aligned(c->cross_k);
    nt_free_aligned(c->cross_v);
    nt_free(c->src_mask);
    nt_free(c->self_mask);
    kv_scratch *s = c->scratch;
    if (s) {
        nt_free_aligned(s->rows);
        nt_free(s->mask_rows);
        nt_free(s->stashed);
        nt_free(s);
    }
    nt_free(c);
}

nt_status nt_kv_cache_new(nt_kv_cache **out, const nt_model *m, int rows, int cap, int src_cap) {
    static const char *fn = "nt_kv_cache_new";
    if (!out || !m) return nt_error(NT_ERR_ARG, "%s: out or model is NULL", fn);
    int encdec = m->cfg.arch == NT_ARCH_ENCDEC;
    if (rows < 1 || cap < 1 || (encdec && src_cap < 1))
        return nt_error(NT_ERR_ARG, "%s: rows %d, cap %d, src_cap %d must be >= 1", fn, rows, cap,
                        src_cap);
    if (cap > m->cfg.max_len || (encdec && src_cap > m->cfg.max_len))
        return nt_error(NT_ERR_ARG, "%s: cap %d / src_cap %d exceed max_len %d", fn, cap, src_cap,
                        m->cfg.max_len);
    if (!encdec) src_cap = 0;
    nt_kv_cache *c = nt_calloc(1, sizeof *c);
    kv_scratch *s = nt_calloc(1, sizeof *s);
    if (!c || !s) {
        nt_free(c);
        nt_free(s);
        return nt_error(NT_ERR_NOMEM, "%s: out of memory", fn);
    }
    c->scratch = s;
    c->rows = c->rows_cap = rows;
    c->cap = cap;
    c->src_cap = src_cap;
    c->n_layers = m->decoder.n_layers;
    c->d_model = m->cfg.d_model;
    size_t D = (size_t)c->d_model, L = (size_t)c->n_layers;
    size_t self_n = L * rows * cap * D, cross_n = L * rows * src_cap * D;
    size_t widest = (size_t)(cap > src_cap ? cap : src_cap);
    c->self_k = nt_malloc_aligned(self_n * sizeof(float));
    c->self_v = nt_malloc_aligned(self_n * sizeof(float));
    c->self_mask = nt_calloc((size_t)rows * cap, sizeof(int32_t));
    if (encdec) {
        c->cross_k = nt_malloc_aligned(cross_n * sizeof(float));
        c->cross_v = nt_malloc_aligned(cross_n * sizeof(float));
        c->src_mask = nt_calloc((size_t)rows * src_cap, sizeof(int32_t));
    }
    s->rows = nt_malloc_aligned((size_t)rows * widest * D * sizeof(float));
    s->mask_rows = nt_malloc((size_t)rows * widest * sizeof(int32_t));
    s->stashed = nt_malloc((size_t)rows * sizeof(int));
    if (!c->self_k || !c->self_v || !c->self_mask || !s->rows || !s->mask_rows || !s->stashed ||
        (encdec && (!c->cross_k || !c->cross_v || !c->src_mask))) {
        nt_kv_cache_free(c);
        return nt_error(NT_ERR_NOMEM, "%s: cannot allocate a cache of %zu floats", fn,
                        2 * (self_n + cross_n));
    }
    *out = c;
    return NT_OK;
}

void nt_kv_cache_clear(nt_kv_cache *c) {
    if (!c) return;
    c->len = 0;
    c->src_len = 0;
    c->cross_ready = 0;
    c->rows = c->rows_cap;
}

/* Moves rows of one buffer base[rows_cap][stride][width] (elements of `esz`
 * bytes), copying `n` rows-worth of `len * width` elements: dest row r gets
 * source row src[r]. A source that is itself overwritten is stashed first. */
static void select_rows(void *base, void *scratch, int *stashed, const int *src, int new_rows,
                        size_t stride, size_t len, size_t width, size_t esz) {
    unsigned char *b = base, *s = scratch;
    size_t row_bytes = stride * width * esz, n = len * width * esz;
    if (n == 0) return;
    for (int r = 0; r < new_rows; r++) stashed[r] = 0;
    for (int r = 0; r < new_rows; r++) {
        int from = src[r];
        /* `from` will be overwritten if it is a non-identity destination. */
        if (from != r && from < new_rows && src[from] != from && !stashed[from]) {
            memcpy(s + (size_t)from * row_bytes, b + (size_t)from * row_bytes, n);
            stashed[from] = 1;
        }
    }
    for (int r = 0; r < new_rows; r++) {
        int from = src[r];
        if (from == r) continue;
        const unsigned char *p = from < new_rows && stashed[from] ? s : b;
        memcpy(b + (size_t)r * row_bytes, p + (size_t)from * row_bytes, n);
    }
}

nt_status nt_kv_cache_select(nt_kv_cache *c, const int *src_rows, int new_rows) {
    if (!c || !src_rows) return nt_error(NT_ERR_ARG, "nt_kv_cache_select: NULL argument");
    if (new_rows < 1 || new_rows > c->rows_cap)
        return nt_error(NT_ERR_ARG, "nt_kv_cache_select: new_rows %d outside [1, %d]", new_rows,
                        c->rows_cap);
    for (int r = 0; r < new_rows; r++)
        if (src_rows[r] < 0 || src_rows[r] >= c->rows)
            return nt_error(NT_ERR_ARG, "nt_kv_cache_select: src_rows[%d] = %d outside [0, %d)", r,
                            src_rows[r], c->rows);
    /* Destinations at or beyond the old row count read from live rows only;
     * growing (new_rows > rows) works the same way. */
    kv_scratch *s = c->scratch;
    size_t D = (size_t)c->d_model;
    for (int l = 0; l < c->n_layers; l++) {
        size_t self_off = (size_t)l * c->rows_cap * c->cap * D;
        select_rows(c->self_k + self_off, s->rows, s->stashed, src_rows, new_rows, c->cap, c->len, D,
                    sizeof(float));
        select_rows(c->self_v + self_off, s->rows, s->stashed, src_rows, new_rows, c->cap, c->len, D,
                    sizeof(float));
        if (c->cross_k && c->cross_ready) {
            size_t cross_off = (size_t)l * c->rows_cap * c->src_cap * D;
            select_rows(c->cross_k + cross_off, s->rows, s->stashed, src_rows, new_rows, c->src_cap,
                        c->src_len, D, sizeof(float));
            select_rows(c->cross_v + cross_off, s->rows, s->stashed, src_rows, new_rows, c->src_cap,
                        c->src_len, D, sizeof(float));
        }
    }
    select_rows(c->self_mask, s->mask_rows, s->stashed, src_rows, new_rows, c->cap, c->len, 1,
                sizeof(int32_t));
    if (c->src_mask && c->cross_ready)
        select_rows(c->src_mask, s->mask_rows, s->stashed, src_rows, new_rows, c->src_cap,
                    c->src_len, 1, sizeof(int32_t));
    c->rows = new_rows;
    return NT_OK;
}
