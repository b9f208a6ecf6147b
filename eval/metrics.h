/* metrics.h - corpus-level translation metrics: exact match, character
 * accuracy, BLEU and chrF, computed as sacreBLEU 2.x computes its defaults.
 *
 * Scores are corpus-level: each (hypothesis, reference) pair adds sufficient
 * statistics (counts) to an accumulator and the scores are computed once from
 * the sums, so a corpus can be streamed sentence by sentence:
 *
 *     nt_metrics_acc *acc;
 *     NT_TRY(nt_metrics_acc_new(&acc));
 *     for (i = 0; i < n; i++)
 *         if (nt_metrics_acc_add(acc, hyp[i], ref[i]) != NT_OK) { ... }
 *     nt_metrics m;
 *     nt_metrics_acc_result(acc, &m);
 *     printf("BLEU = %.2f %s\n", m.bleu, NT_METRICS_BLEU_SIGNATURE);
 *     nt_metrics_acc_free(acc);
 *
 * or in one call: nt_metrics_corpus(&m, hyps, refs, n).
 *
 * Inputs are UTF-8 strings (one reference per hypothesis). All scores are
 * percentages in [0, 100]. Definitions:
 *
 * - exact match: % of pairs whose hypothesis equals the reference byte for
 *   byte (no normalisation at all).
 * - character accuracy: 100 * max(0, 1 - E / L), where E is the sum over
 *   pairs of the Levenshtein distance (insert, delete, substitute, each cost
 *   1) between hypothesis and reference counted in Unicode code points, and L
 *   the sum of reference lengths in code points. If L = 0 it is 100 when
 *   E = 0 and 0 otherwise.
 * - BLEU: sacreBLEU 2.x default corpus BLEU (Papineni et al. 2002): trailing
 *   whitespace stripped, the `13a` tokenizer (mteval-v13a), case-sensitive,
 *   n-grams 1..4 with clipped counts summed over the corpus, brevity penalty
 *   exp(1 - ref_len / sys_len) when sys_len < ref_len (0 when sys_len = 0),
 *   geometric mean of the 4 precisions with 'exp' smoothing (the k-th order
 *   with no match gets precision 1 / (2^k * total)). A corpus with no
 *   unigram match scores 0 with all precisions 0, as in sacreBLEU. Short
 *   segments: as in sacreBLEU's corpus BLEU (effective order off), the
 *   orders are walked up to the first one with no hypothesis n-gram in the
 *   whole corpus; that precision and the later ones stay 0 and the score is
 *   0. So a corpus of one-token hypotheses scores 0 even when every token is
 *   right (exact match and chrF still tell), while one-token segments among
 *   longer ones just add their counts. A one-token reference does not
 *   remove a longer hypothesis's n-grams from the totals.
 * - chrF: sacreBLEU 2.x default CHRF (Popovic 2015): whitespace removed,
 *   character n-grams 1..6, no word n-grams, beta 2. Per pair and order n the
 *   hypothesis n-gram count (0 if the reference has no n-gram of that order),
 *   reference count and clipped match count are summed over the corpus; then
 *   for each order with both totals > 0 precision and recall are computed
 *   and averaged over those orders only (effective order), and
 *   chrF = 100 * (1 + b^2) P R / (b^2 P + R), 0 when P + R = 0.
 *
 * The 13a tokenizer, on code points: replace "<skipped>" by "", "-\n" by "",
 * "\n" by " ", then "&quot;" "&amp;" "&lt;" "&gt;" by their characters (in
 * that order); pad with a space on each side; then, as sequential regex
 * substitutions (non-overlapping, left to right):
 *   1. each of { | } ~ [ \ ] ^ _ ` space ! " # $ % & ( ) * + : ; < = > ? @ /
 *      gets a space on each side;
 *   2. ([^0-9])([.,])  -> "\1 \2 "   (period/comma split unless after a digit)
 *   3. ([.,])([^0-9])  -> " \1 \2"   (... unless before a digit)
 *   4. ([0-9])(-)      -> "\1 \2 "   (a dash after a digit)
 * and split on whitespace (Python's str.split() set of Unicode spaces).
 * So "1,000.5" stays one token, "end." becomes "end ." and "5-3" "5 - 3".
 */
#ifndef NT_METRICS_H
#define NT_METRICS_H

#include <stdint.h>

#include "core/status.h"

/* sacreBLEU-style signatures of the two scores (what was computed, how). */
#define NT_METRICS_BLEU_SIGNATURE "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:nextok-0.1"
#define NT_METRICS_CHRF_SIGNATURE "nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:nextok-0.1"

#define NT_BLEU_ORDER 4
#define NT_CHRF_ORDER 6
#define NT_CHRF_BETA 2

typedef struct nt_metrics {
    int64_t n;                               /* pairs scored */
    double exact_match;                      /* % of pairs equal byte for byte */
    double char_accuracy;                    /* %, see the definition above */
    int64_t char_edits;                      /* E: summed Levenshtein distances */
    int64_t ref_chars;                       /* L: summed reference code points */
    double bleu;                             /* % */
    double bleu_precisions[NT_BLEU_ORDER];   /* % (smoothed where a count is 0) */
    int64_t bleu_counts[NT_BLEU_ORDER];      /* clipped n-gram matches */
    int64_t bleu_totals[NT_BLEU_ORDER];      /* hypothesis n-grams */
    double bleu_bp;                          /* brevity penalty */
    double bleu_ratio;                       /* sys_len / ref_len (0 if ref_len = 0) */
    int64_t bleu_sys_len, bleu_ref_len;      /* 13a tokens */
    double chrf;                             /* % */
} nt_metrics;

typedef struct nt_metrics_acc nt_metrics_acc;

/* A new, empty accumulator in *out. On error (NT_ERR_NOMEM) *out is NULL. */
nt_status nt_metrics_acc_new(nt_metrics_acc **out);

/* Adds one (hypothesis, reference) pair, both NUL-terminated UTF-8. Returns
 * NT_ERR_ARG for a NULL string and NT_ERR_FORMAT for invalid UTF-8, naming
 * the pair index (the number of pairs added before it) and the byte offset;
 * NT_ERR_NOMEM if scratch space cannot grow. On error the accumulator is left
 * unchanged, so the caller may skip the pair and go on. */
nt_status nt_metrics_acc_add(nt_metrics_acc *acc, const char *hyp, const char *ref);

/* The scores of all pairs added so far (all zero if none). Cannot fail. */
void nt_metrics_acc_result(const nt_metrics_acc *acc, nt_metrics *out);

/* Frees the accumulator; NULL is a no-op. */
void nt_metrics_acc_free(nt_metrics_acc *acc);

/* The metrics of n pairs (hyps[i], refs[i]) in one call. Returns NT_ERR_ARG
 * for NULL arrays or n < 0, else as nt_metrics_acc_add (the message names the
 * pair); on error *out is left unchanged. */
nt_status nt_metrics_corpus(nt_metrics *out, const char *const *hyps,
                            const char *const *refs, int64_t n);

/* The 13a tokenization of `line` (see above) as a NUL-terminated UTF-8
 * string of tokens joined by single spaces, in *out, allocated with
 * nt_malloc (the caller frees it with nt_free). NT_ERR_FORMAT for invalid
 * UTF-8, NT_ERR_NOMEM; on error *out is NULL. */
nt_status nt_metrics_tokenize_13a(char **out, const char *line);

#endif
