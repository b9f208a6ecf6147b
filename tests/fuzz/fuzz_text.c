/* fuzz_text.c - the LM's plain-text input. Until the text data source lands
 * (nextok-lm), plain text is read with the UTF-8 checks of the corpus reader:
 * nt_utf8_valid on the bytes, then the text as TSV lines with skip_bad, and
 * the char tokenizer over every valid line (what a text corpus does). When
 * data/text.h exists, replace the body with its reader. */
#include <string.h>

#include "data/tokenizer.h"
#include "data/tsv.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t bad = 0;
    int ok = nt_utf8_valid((const char *)data, size, &bad);
    if (!ok && bad >= size) fuzz_fail("bad byte at %zu of %zu", bad, size);
    /* line by line, as a text corpus reads it */
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    const char *lines[64];
    int n = 0;
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l && n < 64; l = strtok_r(NULL, "\n", &save))
        if (nt_utf8_valid(l, strlen(l), NULL)) lines[n++] = l;
    nt_vocab *v = NULL;
    if (n > 0 && nt_vocab_build(&v, NT_TOKENIZER_CHAR, lines, n, 1) == NT_OK) {
        int32_t ids[512];
        char back[2048];
        for (int i = 0; i < n; i++) {
            int k = 0;
            if (nt_vocab_encode(v, lines[i], ids, 512, &k) != NT_OK) continue; /* longer than 512 tokens */
            if (nt_vocab_decode(v, ids, k, back, sizeof back) == NT_OK && strcmp(back, lines[i]) != 0)
                fuzz_fail("char round trip of line %d", i);
        }
        nt_vocab_free(v);
    }
    nt_tsv *t = NULL;
    nt_tsv_config cfg = {.skip_bad = 1};
    if (nt_tsv_read_buffer(&t, "text", (const char *)data, size, &cfg) == NT_OK) nt_tsv_free(t);
    free(text);
    return 0;
}
