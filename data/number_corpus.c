/* number_corpus.c - numbers in five forms, task names, seeded disjoint splits. */
#include "data/number_corpus.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "core/alloc.h"
#include "core/fs.h"
#include "core/rng.h"

/* ---- a bounded string builder: overflow is remembered, not written ---------- */

typedef struct sb {
    char *buf;
    size_t cap, len; /* len counts every byte asked for, even past cap */
} sb;

static void sb_put(sb *b, const char *s) {
    size_t n = strlen(s);
    if (b->len + n < b->cap) memcpy(b->buf + b->len, s, n);
    b->len += n;
}

/* ---- English (British): "one hundred and one", "one thousand, one hundred" --- */

static const char *en_small[20] = {"zero",    "one",     "two",       "three",    "four",
                                   "five",    "six",     "seven",     "eight",    "nine",
                                   "ten",     "eleven",  "twelve",    "thirteen", "fourteen",
                                   "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
static const char *en_tens[10] = {"",      "",      "twenty",  "thirty", "forty",
                                  "fifty", "sixty", "seventy", "eighty", "ninety"};

static void en_below100(sb *b, int n) { /* 1..99 */
    if (n < 20) { sb_put(b, en_small[n]); return; }
    sb_put(b, en_tens[n / 10]);
    if (n % 10) { sb_put(b, "-"); sb_put(b, en_small[n % 10]); }
}

static void en_below1000(sb *b, int n) { /* 1..999 */
    int h = n / 100, r = n % 100;
    if (h) {
        sb_put(b, en_small[h]);
        sb_put(b, " hundred");
        if (r) sb_put(b, " and ");
    }
    if (r) en_below100(b, r);
}

static void render_en(sb *b, int n) {
    if (n == 0) { sb_put(b, "zero"); return; }
    int th = n / 1000, r = n % 1000;
    if (th) {
        en_below1000(b, th);
        sb_put(b, " thousand");
        /* "thousand and five" but "thousand, five hundred (and ...)" */
        if (r) sb_put(b, r < 100 ? " and " : ", ");
    }
    if (r) en_below1000(b, r);
}

/* ---- French (traditional spelling) ------------------------------------------ */

static const char *fr_small[20] = {"zéro",     "un",       "deux",   "trois",    "quatre",
                                   "cinq",     "six",      "sept",   "huit",     "neuf",
                                   "dix",      "onze",     "douze",  "treize",   "quatorze",
                                   "quinze",   "seize",    "dix-sept", "dix-huit", "dix-neuf"};
static const char *fr_tens[7] = {"", "", "vingt", "trente", "quarante", "cinquante", "soixante"};

/* `final`: nothing follows (no "mille"); only then do "quatre-vingts" and
 * "deux cents" take their plural s. */
static void fr_below100(sb *b, int n, int final) { /* 1..99 */
    if (n < 20) { sb_put(b, fr_small[n]); return; }
    int t = n / 10, u = n % 10;
    if (t < 7) {
        sb_put(b, fr_tens[t]);
        if (u == 1) sb_put(b, " et un");
        else if (u) { sb_put(b, "-"); sb_put(b, fr_small[u]); }
    } else if (t == 7) { /* soixante-dix .. soixante-dix-neuf, "soixante et onze" */
        sb_put(b, "soixante");
        sb_put(b, u == 1 ? " et " : "-");
        sb_put(b, fr_small[n - 60]);
    } else { /* quatre-vingt(s) .. quatre-vingt-dix-neuf, never "et" */
        sb_put(b, "quatre-vingt");
        if (n == 80) { if (final) sb_put(b, "s"); }
        else { sb_put(b, "-"); sb_put(b, fr_small[n - 80]); }
    }
}

static void fr_below1000(sb *b, int n, int final) { /* 1..999 */
    int h = n / 100, r = n % 100;
    if (h) {
        if (h > 1) { sb_put(b, fr_small[h]); sb_put(b, " "); }
        sb_put(b, "cent");
        if (h > 1 && r == 0 && final) sb_put(b, "s");
        if (r) sb_put(b, " ");
    }
    if (r) fr_below100(b, r, final);
}

static void render_fr(sb *b, int n) {
    if (n == 0) { sb_put(b, "zéro"); return; }
    int th = n / 1000, r = n % 1000;
    if (th) {
        if (th > 1) { fr_below1000(b, th, 0); sb_put(b, " "); }
        sb_put(b, "mille"); /* invariable; "mille" alone for 1000 */
        if (r) sb_put(b, " ");
    }
    if (r) fr_below1000(b, r, 1);
}

/* ---- German (one compound word) ----------------------------------------------- */

static const char *de_small[20] = {"null",     "eins",     "zwei",     "drei",     "vier",
                                   "fünf",     "sechs",    "sieben",   "acht",     "neun",
                                   "zehn",     "elf",      "zwölf",    "dreizehn", "vierzehn",
                                   "fünfzehn", "sechzehn", "siebzehn", "achtzehn", "neunzehn"};
static const char *de_tens[10] = {"",        "",        "zwanzig", "dreißig", "vierzig",
                                  "fünfzig", "sechzig", "siebzig", "achtzig", "neunzig"};

static void de_below100(sb *b, int n) { /* 1..99; a final 1 is "eins" */
    if (n < 20) { sb_put(b, de_small[n]); return; }
    int u = n % 10;
    if (u) { sb_put(b, u == 1 ? "ein" : de_small[u]); sb_put(b, "und"); }
    sb_put(b, de_tens[n / 10]);
}

static void de_below1000(sb *b, int n) { /* 1..999 */
    int h = n / 100, r = n % 100;
    if (h) { sb_put(b, h == 1 ? "ein" : de_small[h]); sb_put(b, "hundert"); }
    if (r) de_below100(b, r);
}

static void render_de(sb *b, int n) {
    if (n == 0) { sb_put(b, "null"); return; }
    int th = n / 1000, r = n % 1000;
    if (th) {
        /* "eintausend", but the sample keeps "eins" inside a larger group:
         * 201000 = "zweihunderteinstausend" */
        if (th == 1) sb_put(b, "ein");
        else de_below1000(b, th);
        sb_put(b, "tausend");
    }
    if (r) de_below1000(b, r);
}

/* ---- digits ------------------------------------------------------------------------ */

static void render_digits(sb *b, int n, int arabic) {
    char d[16];
    int k = snprintf(d, sizeof d, "%d", n);
    for (int i = 0; i < k; i++) {
        if (arabic) { /* U+0660 + digit: UTF-8 D9 A0+digit */
            char u[3] = {(char)0xD9, (char)(0xA0 + (d[i] - '0')), 0};
            sb_put(b, u);
        } else {
            char u[2] = {d[i], 0};
            sb_put(b, u);
        }
    }
}

/* ---- public: names and rendering ---------------------------------------------- */

static const char *form_names[NT_NUMBER_FORM_COUNT] = {"digits", "arabic", "en", "fr", "de"};

const char *nt_number_corpus_form_name(nt_number_form f) {
    return (unsigned)f < NT_NUMBER_FORM_COUNT ? form_names[f] : NULL;
}

nt_status nt_number_corpus_form_parse(const char *name, nt_number_form *out) {
    if (!name || !out) return nt_error(NT_ERR_ARG, "nt_number_corpus_form_parse: NULL argument");
    for (int f = 0; f < NT_NUMBER_FORM_COUNT; f++)
        if (strcmp(name, form_names[f]) == 0) { *out = (nt_number_form)f; return NT_OK; }
    return nt_error(NT_ERR_ARG,
                    "nt_number_corpus_form_parse: unknown form \"%s\" (expected digits, arabic, en, fr or de)",
                    name);
}

nt_status nt_number_corpus_task_parse(const char *task, nt_number_form *src, nt_number_form *tgt) {
    if (!task || !src || !tgt) return nt_error(NT_ERR_ARG, "nt_number_corpus_task_parse: NULL argument");
    const char *dash = strchr(task, '-');
    char a[32];
    size_t la = dash ? (size_t)(dash - task) : 0;
    if (!dash || la >= sizeof a || strchr(dash + 1, '-'))
        return nt_error(NT_ERR_ARG,
                        "nt_number_corpus_task_parse: bad task \"%s\" (expected SRC-TGT, e.g. en-fr, with "
                        "forms digits, arabic, en, fr, de)",
                        task);
    memcpy(a, task, la);
    a[la] = 0;
    nt_number_form s, t;
    if (nt_number_corpus_form_parse(a, &s) != NT_OK || nt_number_corpus_form_parse(dash + 1, &t) != NT_OK)
        return nt_error(NT_ERR_ARG,
                        "nt_number_corpus_task_parse: bad task \"%s\": unknown form (expected digits, "
                        "arabic, en, fr or de on each side of '-')",
                        task);
    if (s == t)
        return nt_error(NT_ERR_ARG, "nt_number_corpus_task_parse: bad task \"%s\": source and target are "
                                    "the same form",
                        task);
    *src = s;
    *tgt = t;
    return NT_OK;
}

nt_status nt_number_corpus_render(nt_number_form f, int n, char *buf, size_t cap) {
    if (!buf) return nt_error(NT_ERR_ARG, "nt_number_corpus_render: NULL buf");
    if (cap > 0) buf[0] = 0;
    if ((unsigned)f >= NT_NUMBER_FORM_COUNT)
        return nt_error(NT_ERR_ARG, "nt_number_corpus_render: bad form %d (expected 0..%d)", (int)f,
                        NT_NUMBER_FORM_COUNT - 1);
    if (n < 0 || n > NT_NUMBER_CORPUS_MAX_NUMBER)
        return nt_error(NT_ERR_ARG, "nt_number_corpus_render: number %d out of range 0..%d", n,
                        NT_NUMBER_CORPUS_MAX_NUMBER);
    sb b = {buf, cap, 0};
    switch (f) {
    case NT_NUMBER_FORM_DIGITS: render_digits(&b, n, 0); break;
    case NT_NUMBER_FORM_ARABIC: render_digits(&b, n, 1); break;
    case NT_NUMBER_FORM_EN: render_en(&b, n); break;
    case NT_NUMBER_FORM_FR: render_fr(&b, n); break;
    case NT_NUMBER_FORM_DE: render_de(&b, n); break;
    default: break;
    }
    if (b.len >= cap) {
        if (cap > 0) buf[0] = 0;
        return nt_error(NT_ERR_ARG, "nt_number_corpus_render: buffer of %zu bytes too small for %d in %s "
                                    "(needs %zu)",
                        cap, n, form_names[f], b.len + 1);
    }
    buf[b.len] = 0;
    return NT_OK;
}

/* ---- splits -------------------------------------------------------------------------- */

static const char *sampling_names[2] = {"uniform", "length"};

const char *nt_number_corpus_sampling_name(nt_number_corpus_sampling s) {
    return (unsigned)s < 2 ? sampling_names[s] : NULL;
}

nt_status nt_number_corpus_sampling_parse(const char *name, nt_number_corpus_sampling *out) {
    if (!name || !out) return nt_error(NT_ERR_ARG, "nt_number_corpus_sampling_parse: NULL argument");
    for (int s = 0; s < 2; s++)
        if (strcmp(name, sampling_names[s]) == 0) { *out = (nt_number_corpus_sampling)s; return NT_OK; }
    return nt_error(NT_ERR_ARG,
                    "nt_number_corpus_sampling_parse: unknown sampling \"%s\" (expected uniform or length)",
                    name);
}

void nt_number_corpus_split_config_default(nt_number_corpus_split_config *cfg) {
    cfg->n_train = 20000;
    cfg->n_valid = 500;
    cfg->n_test = 1000;
    cfg->max_number = NT_NUMBER_CORPUS_MAX_NUMBER;
    cfg->seed = 1;
    cfg->sampling = NT_NUMBER_CORPUS_SAMPLING_LENGTH;
}

/* Floyd's algorithm: k distinct values from [lo, hi] (k <= hi - lo + 1),
 * appended to out; `seen` is a bitmap over 0..999999 (cleared by the caller).
 * Exactly k draws of nt_rng_below, whatever the collisions. */
static void floyd_sample(nt_rng *r, int lo, int hi, int k, uint8_t *seen, int *out) {
    int range = hi - lo + 1;
    for (int j = range - k; j < range; j++) {
        int t = (int)nt_rng_below(r, (uint64_t)j + 1);
        int v = lo + t;
        if (seen[v >> 3] & (1u << (v & 7))) v = lo + j;
        seen[v >> 3] |= (uint8_t)(1u << (v & 7));
        *out++ = v;
    }
}

nt_status nt_number_corpus_split_numbers(const nt_number_corpus_split_config *cfg, int *train, int *valid,
                                  int *test) {
    if (!cfg) return nt_error(NT_ERR_ARG, "nt_number_corpus_split_numbers: NULL cfg");
    if (cfg->n_train < 0 || cfg->n_valid < 0 || cfg->n_test < 0)
        return nt_error(NT_ERR_ARG, "nt_number_corpus_split_numbers: negative split size (train %d, "
                                    "valid %d, test %d)",
                        cfg->n_train, cfg->n_valid, cfg->n_test);
    if (cfg->max_number < 0 || cfg->max_number > NT_NUMBER_CORPUS_MAX_NUMBER)
        return nt_error(NT_ERR_ARG, "nt_number_corpus_split_numbers: max_number %d out of range 0..%d",
                        cfg->max_number, NT_NUMBER_CORPUS_MAX_NUMBER);
    if ((unsigned)cfg->sampling > NT_NUMBER_CORPUS_SAMPLING_LENGTH)
        return nt_error(NT_ERR_ARG, "nt_number_corpus_split_numbers: bad sampling %d", (int)cfg->sampling);
    int64_t total = (int64_t)cfg->n_train + cfg->n_valid + cfg->n_test;
    int64_t avail = (int64_t)cfg->max_number + 1;
    if (total > avail)
        return nt_error(NT_ERR_ARG,
                        "nt_number_corpus_split_numbers: %lld numbers asked (train %d + valid %d + test %d) "
                        "but 0..%d holds only %lld",
                        (long long)total, cfg->n_train, cfg->n_valid, cfg->n_test, cfg->max_number,
                        (long long)avail);
    if ((cfg->n_train && !train) || (cfg->n_valid && !valid) || (cfg->n_test && !test))
        return nt_error(NT_ERR_ARG, "nt_number_corpus_split_numbers: NULL array for a non-empty split");
    if (total == 0) return NT_OK;

    int *all = nt_malloc((size_t)total * sizeof *all);
    uint8_t *seen = nt_calloc((NT_NUMBER_CORPUS_MAX_NUMBER + 8) / 8, 1);
    if (!all || !seen) {
        nt_free(all);
        nt_free(seen);
        return nt_error(NT_ERR_NOMEM, "nt_number_corpus_split_numbers: out of memory for %lld numbers",
                        (long long)total);
    }
    nt_rng r;
    nt_rng_seed(&r, cfg->seed);
    if (cfg->sampling == NT_NUMBER_CORPUS_SAMPLING_UNIFORM) {
        floyd_sample(&r, 0, cfg->max_number, (int)total, seen, all);
    } else {
        /* Lengths 1..L; length d holds [lo_d, hi_d] clipped to max. Water-fill:
         * give every open length an equal share; a length that cannot hold its
         * share gives all it has and leaves the group. */
        int lo[8], hi[8], want[8] = {0}, L = 0;
        for (int d = 1, p = 1; d <= 7; d++, p *= 10) {
            int l = d == 1 ? 0 : p, h = p * 10 - 1;
            if (l > cfg->max_number) break;
            if (h > cfg->max_number) h = cfg->max_number;
            lo[L] = l;
            hi[L] = h;
            L++;
        }
        int64_t left = total;
        int open[8], n_open = L;
        for (int i = 0; i < L; i++) open[i] = 1;
        while (left > 0 && n_open > 0) {
            int64_t share = left / n_open, extra = left % n_open;
            int capped = 0;
            for (int i = 0; i < L; i++) {
                if (!open[i]) continue;
                int64_t room = (int64_t)(hi[i] - lo[i] + 1) - want[i];
                if (room <= share + (extra > 0)) { /* this length fills up */
                    want[i] += (int)room;
                    left -= room;
                    open[i] = 0;
                    n_open--;
                    capped = 1;
                }
            }
            if (capped) continue;
            /* no length fills: hand out shares, the remainder to the longest */
            for (int i = L - 1; i >= 0; i--) {
                if (!open[i]) continue;
                int64_t g = share + (extra > 0);
                if (extra > 0) extra--;
                want[i] += (int)g;
                left -= g;
            }
        }
        int k = 0;
        for (int i = 0; i < L; i++) {
            floyd_sample(&r, lo[i], hi[i], want[i], seen, all + k);
            k += want[i];
        }
        NT_ASSERT(k == total);
    }
    /* Fisher-Yates: random order, then cut test | valid | train */
    for (int64_t i = total - 1; i > 0; i--) {
        int64_t j = (int64_t)nt_rng_below(&r, (uint64_t)i + 1);
        int t = all[i];
        all[i] = all[j];
        all[j] = t;
    }
    if (cfg->n_test) memcpy(test, all, (size_t)cfg->n_test * sizeof *all);
    if (cfg->n_valid) memcpy(valid, all + cfg->n_test, (size_t)cfg->n_valid * sizeof *all);
    if (cfg->n_train)
        memcpy(train, all + cfg->n_test + cfg->n_valid, (size_t)cfg->n_train * sizeof *all);
    nt_free(all);
    nt_free(seen);
    return NT_OK;
}

static nt_status write_split(const char *dir, const char *name, nt_number_form src, nt_number_form tgt,
                             const int *nums, int n) {
    char path[4200], a[NT_NUMBER_CORPUS_MAX_TEXT], b[NT_NUMBER_CORPUS_MAX_TEXT];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return nt_error(NT_ERR_IO, "nt_number_corpus_write_splits: cannot open %s for writing: %s", path,
                        strerror(errno));
    for (int i = 0; i < n; i++) {
        /* the call stays outside NT_ASSERT: it writes a and b */
        nt_status s_src = nt_number_corpus_render(src, nums[i], a, sizeof a);
        nt_status s_tgt = nt_number_corpus_render(tgt, nums[i], b, sizeof b);
        NT_ASSERT(s_src == NT_OK && s_tgt == NT_OK);
        fprintf(f, "%s\t%s\n", a, b);
    }
    int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return nt_error(NT_ERR_IO, "nt_number_corpus_write_splits: write to %s failed", path);
    return NT_OK;
}

nt_status nt_number_corpus_write_splits(const char *dir, nt_number_form src, nt_number_form tgt,
                                 const nt_number_corpus_split_config *cfg) {
    if (!dir || !cfg) return nt_error(NT_ERR_ARG, "nt_number_corpus_write_splits: NULL argument");
    if ((unsigned)src >= NT_NUMBER_FORM_COUNT || (unsigned)tgt >= NT_NUMBER_FORM_COUNT || src == tgt)
        return nt_error(NT_ERR_ARG, "nt_number_corpus_write_splits: bad task (source form %d, target "
                                    "form %d; expected two distinct forms 0..%d)",
                        (int)src, (int)tgt, NT_NUMBER_FORM_COUNT - 1);
    if (cfg->n_train < 0 || cfg->n_valid < 0 || cfg->n_test < 0)
        return nt_number_corpus_split_numbers(cfg, NULL, NULL, NULL); /* reports the error */
    size_t n = (size_t)cfg->n_train + cfg->n_valid + cfg->n_test;
    int *nums = nt_malloc((n ? n : 1) * sizeof *nums);
    if (!nums) return nt_error(NT_ERR_NOMEM, "nt_number_corpus_write_splits: out of memory");
    int *tr = nums, *va = nums + cfg->n_train, *te = va + cfg->n_valid;
    nt_status s = nt_number_corpus_split_numbers(cfg, tr, va, te);
    if (s == NT_OK) s = nt_fs_mkdirs(dir);
    if (s == NT_OK) s = write_split(dir, "train.tsv", src, tgt, tr, cfg->n_train);
    if (s == NT_OK) s = write_split(dir, "valid.tsv", src, tgt, va, cfg->n_valid);
    if (s == NT_OK) s = write_split(dir, "test.tsv", src, tgt, te, cfg->n_test);
    nt_free(nums);
    return s;
}
