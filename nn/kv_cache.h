/* kv_cache.h - the KV cache of the graph path's generation (nt_model_decode
 * with a cache, nn/model.h): per decoder layer, the self-attention K/V of
 * every position decoded so far (appended each step) and the cross-attention
 * K/V of the encoder output (computed once). Memory is allocated once at
 * nt_kv_cache_new. (nt_generate's own decoder, nn/infer.h, keeps its cache
 * inside its nt_infer.)
 *
 *     nt_kv_cache *c;
 *     NT_TRY(nt_kv_cache_new(&c, model, 4, 64, 20));    // 4 rows, 64 positions, sources <= 20
 *     NT_TRY(nt_model_decode(model, ctx, &logits, tok, NULL, NULL, mem, mask, c, 0));
 *     NT_TRY(nt_kv_cache_select(c, (int[]){1, 1, 0}, 3)); // beams: reorder rows
 *     nt_kv_cache_free(c);
 */
#ifndef NT_KV_CACHE_H
#define NT_KV_CACHE_H

#include "nn/model.h"

struct nt_kv_cache {
    int rows;           /* B: rows in use (beams included); nt_kv_cache_select changes it */
    int rows_cap;       /* rows the memory was allocated for (row stride of the buffers) */
    int cap;            /* max positions (<= max_len) */
    int len;            /* positions filled so far (same for every row) */
    int n_layers, d_model;
    float *self_k, *self_v;    /* [layer][rows_cap][cap][D]: a row's prefix is contiguous */
    int src_len;               /* S of the cross K/V, 0 until computed */
    int src_cap;
    float *cross_k, *cross_v;  /* [layer][rows_cap][src_cap][D] (encdec only, else NULL) */
    int32_t *src_mask;         /* [row][src_cap] copy of the encoder key mask */
    int32_t *self_mask;        /* [row][cap] 1 where a key is real (left-padded prompts) */
    int cross_ready;
    void *scratch;             /* implementation buffers */
};

/* A cache for `rows` rows, `cap` positions and sources up to `src_cap`
 * (ignored for decoder-only). NT_ERR_ARG if cap > max_len (or a size < 1),
 * NT_ERR_NOMEM; *out untouched on error. */
nt_status nt_kv_cache_new(nt_kv_cache **out, const nt_model *m, int rows, int cap, int src_cap);
void nt_kv_cache_free(nt_kv_cache *c);
/* Forgets every position (len = 0, cross K/V to recompute); keeps memory. */
void nt_kv_cache_clear(nt_kv_cache *c);
/* Row r of the cache becomes old row src_rows[r], for r < new_rows
 * (beam reordering by parent; dropping finished rows; growing 1 row to k
 * beams), and cache->rows = new_rows. Rows in place where src_rows[r] == r
 * are not copied; no allocation. NT_ERR_ARG (cache unchanged) if new_rows is
 * outside [1, rows_cap] or a src_rows[r] outside [0, rows). */
nt_status nt_kv_cache_select(nt_kv_cache *c, const int *src_rows, int new_rows);

#endif
