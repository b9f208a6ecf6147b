/* fuzz_tsv.c - the parallel-corpus reader (nt_tsv_read_buffer) on any bytes,
 * strict and skipping: every kept pair is valid UTF-8, tab-free and
 * non-empty; a failure has a message naming the file. */
#include <string.h>

#include "data/tsv.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    for (int skip = 0; skip < 2; skip++) {
        nt_tsv_config cfg = {.max_line_bytes = size > 0 && data[0] < 64 ? (size_t)data[0] + 1 : 0, .skip_bad = skip};
        nt_tsv *t = NULL;
        nt_status s = nt_tsv_read_buffer(&t, "fuzz.tsv", (const char *)data, size, &cfg);
        if (s != NT_OK) {
            if (t) fuzz_fail("error %d but *out set", (int)s);
            if (!strstr(nt_errmsg(), "fuzz.tsv") && s == NT_ERR_FORMAT) fuzz_fail("message without the file: %s", nt_errmsg());
            if (skip && s == NT_ERR_FORMAT) fuzz_fail("skip_bad still failed: %s", nt_errmsg());
            continue;
        }
        for (int i = 0; i < t->n; i++) {
            size_t a = strlen(t->src[i]), b = strlen(t->tgt[i]);
            if (!a || !b || strchr(t->src[i], '\t') || strchr(t->tgt[i], '\t') || !nt_utf8_valid(t->src[i], a, NULL) ||
                !nt_utf8_valid(t->tgt[i], b, NULL))
                fuzz_fail("pair %d kept but invalid", i);
            if (t->line[i] < 1 || t->line[i] > t->n_lines) fuzz_fail("line %d of %d", t->line[i], t->n_lines);
        }
        char sum[256];
        nt_tsv_skip_summary(t, sum, sizeof sum);
        nt_tsv_free(t);
    }
    return 0;
}
