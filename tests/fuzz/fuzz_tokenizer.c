/* fuzz_tokenizer.c - every tokenizer kind on any bytes: build a vocabulary
 * from the input's lines, encode each line, decode it back (exact round trip
 * for a line without unknown tokens), and the vocabulary through its token
 * list (nt_vocab_from_tokens) as a checkpoint stores it.
 * The first input byte picks the kind: 0 char, 1 word, 2 spm. SentencePiece
 * models are not learned per input (seconds each): spm encodes and decodes
 * every line with the committed model tests/fixtures/spm_py.model (ids in
 * range, byte fallback: never <unk>; decoding may normalise, so no exact
 * round trip). */
#include <string.h>

#include <stdio.h>

#include "data/spm.h"
#include "data/tokenizer.h"
#include "data/tsv.h"
#include "fuzz.h"

static const nt_tokenizer_kind tok_kinds[] = {
    NT_TOKENIZER_CHAR,
    NT_TOKENIZER_WORD,
    NT_TOKENIZER_SPM,
};

/* The committed SentencePiece model as a vocabulary, loaded once (NULL if
 * the fixture cannot be found: the spm case is then skipped). */
static nt_vocab *tok_spm_vocab(void) {
    static nt_vocab *v;
    static int tried;
    if (tried) return v;
    tried = 1;
    const char *dir = getenv("NT_FIXTURES");
    char path[1024];
    snprintf(path, sizeof path, "%s/spm_py.model", dir ? dir : "tests/fixtures");
    nt_spm *m = NULL;
    if (nt_spm_load_file(&m, path) == NT_OK && nt_vocab_from_spm(&v, m) != NT_OK) v = NULL;
    return v;
}

static void tok_fuzz_spm(char **lines, int n) {
    nt_vocab *v = tok_spm_vocab();
    if (!v) return;
    int V = nt_vocab_size(v);
    int32_t ids[4096];
    char back[16384];
    for (int i = 0; i < n; i++) {
        int k = 0;
        if (nt_vocab_encode(v, lines[i], ids, 4096, &k) != NT_OK) continue; /* invalid UTF-8: refused */
        for (int j = 0; j < k; j++) {
            if (ids[j] < 0 || ids[j] >= V) fuzz_fail("spm id %d out of [0, %d)", ids[j], V);
            if (ids[j] == NT_TOK_UNK) fuzz_fail("spm <unk> for line %d despite byte fallback", i);
        }
        nt_vocab_decode(v, ids, k, back, sizeof back);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    nt_tokenizer_kind kind = tok_kinds[data[0] % (sizeof tok_kinds / sizeof *tok_kinds)];
    char *text = malloc(size);
    if (!text) return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = 0;
    const char *lines[32];
    int n = 0;
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l && n < 32; l = strtok_r(NULL, "\n", &save))
        lines[n++] = l;
    if (kind == NT_TOKENIZER_SPM) {
        tok_fuzz_spm((char **)lines, n);
        free(text);
        return 0;
    }
    nt_vocab *v = NULL;
    nt_status s = n ? nt_vocab_build(&v, kind, lines, n, 1) : NT_ERR_ARG;
    if (s == NT_OK) {
        int V = nt_vocab_size(v);
        int32_t ids[1024];
        char back[8192];
        for (int i = 0; i < n; i++) {
            int k = 0;
            if (nt_vocab_encode(v, lines[i], ids, 1024, &k) != NT_OK) continue;
            for (int j = 0; j < k; j++)
                if (ids[j] < 0 || ids[j] >= V) fuzz_fail("id %d out of [0, %d)", ids[j], V);
            int unk = 0;
            for (int j = 0; j < k; j++) unk |= ids[j] == NT_TOK_UNK;
            if (nt_vocab_decode(v, ids, k, back, sizeof back) == NT_OK && !unk && strcmp(back, lines[i]) != 0)
                fuzz_fail("round trip of line %d: '%s' -> '%s'", i, lines[i], back);
        }
        /* the token list, as /vocab/tokens holds it */
        const char **toks = malloc((size_t)V * sizeof *toks);
        if (toks) {
            for (int i = 0; i < V; i++) toks[i] = nt_vocab_token(v, i);
            nt_vocab *w = NULL;
            if (nt_vocab_from_tokens(&w, kind, toks, V) != NT_OK) fuzz_fail("own token list refused: %s", nt_errmsg());
            for (int i = 0; w && i < V; i++)
                if (nt_vocab_id(w, toks[i]) != i) fuzz_fail("token %d not at its id", i);
            nt_vocab_free(w);
            free(toks);
        }
        nt_vocab_free(v);
    }
    /* an arbitrary token list (lines as tokens): accepted or refused, never a crash */
    nt_vocab *w = NULL;
    if (n && nt_vocab_from_tokens(&w, kind, lines, n) == NT_OK) nt_vocab_free(w);
    free(text);
    return 0;
}
