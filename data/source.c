/* source.c - the data-source interface, and sentence pairs through the
 * batcher as one implementation. */
#include "data/source.h"

#include "core/alloc.h"
#include "data/batcher.h"

nt_status nt_data_source_next(nt_data_source *ds, nt_batch *b) {
    if (!ds || !b) return nt_error(NT_ERR_ARG, "nt_data_source_next: NULL argument");
    return ds->ops->next(ds, b);
}

void nt_data_source_get_cursor(const nt_data_source *ds, nt_cursor *c) {
    if (ds && c) ds->ops->get_cursor(ds, c);
}

nt_status nt_data_source_set_cursor(nt_data_source *ds, const nt_cursor *c) {
    if (!ds || !c) return nt_error(NT_ERR_ARG, "nt_data_source_set_cursor: NULL argument");
    return ds->ops->set_cursor(ds, c);
}

void nt_data_source_free(nt_data_source *ds) {
    if (ds) ds->ops->free(ds);
}

/* ---- sentence pairs ---------------------------------------------------------------- */

typedef struct pairs_source {
    nt_data_source pub;
    nt_batcher *b;
} pairs_source;

static nt_status pairs_next(nt_data_source *ds, nt_batch *b) {
    return nt_batcher_next(((pairs_source *)ds)->b, b);
}

static void pairs_get_cursor(const nt_data_source *ds, nt_cursor *c) {
    nt_batcher_get_cursor(((const pairs_source *)ds)->b, &c->epoch, &c->position);
}

static nt_status pairs_set_cursor(nt_data_source *ds, const nt_cursor *c) {
    return nt_batcher_set_cursor(((pairs_source *)ds)->b, c->epoch, c->position);
}

static void pairs_free(nt_data_source *ds) {
    nt_batcher_free(((pairs_source *)ds)->b);
    nt_free(ds);
}

static const nt_data_source_ops PAIRS_OPS = {
    .name = "pairs",
    .next = pairs_next,
    .get_cursor = pairs_get_cursor,
    .set_cursor = pairs_set_cursor,
    .free = pairs_free,
};

nt_status nt_pairs_source_new(nt_data_source **out, const nt_corpus *corpus, const nt_batcher_config *cfg) {
    if (!out) return nt_error(NT_ERR_ARG, "nt_pairs_source_new: out is NULL");
    pairs_source *p = nt_calloc(1, sizeof *p);
    if (!p) return nt_error(NT_ERR_NOMEM, "nt_pairs_source_new: out of memory");
    nt_status s = nt_batcher_new(&p->b, corpus, cfg);
    if (s != NT_OK) {
        nt_free(p);
        return s;
    }
    p->pub.ops = &PAIRS_OPS;
    *out = &p->pub;
    return NT_OK;
}
