/* report.h - the HTML training report: one self-contained page (inline CSS
 * and SVG, nothing fetched from the network) with the training curves read
 * from the trainer's metrics JSON-lines file, a run summary table and
 * cross-attention heatmaps of sample translations.
 *
 *     const char *src[] = {"▁one", "▁hundred", "<eos>"};
 *     const char *out[] = {"▁cent", "<eos>"};
 *     float w[2 * 3] = {0.1f, 0.8f, 0.1f,      // row t: output token t's
 *                       0.0f, 0.1f, 0.9f};     // attention over the source
 *     nt_report_heatmap hm = {"one hundred -> cent", src, 3, out, 2, w};
 *     nt_report_kv kv[] = {{"model", "encdec d=128 L=2"}, {"BLEU", "97.31"}};
 *     nt_report_info info = {"en-fr numbers", kv, 2, &hm, 1};
 *     NT_TRY(nt_report_write("run/report.html", "run/metrics.jsonl", &info));
 *
 * The metrics file holds one flat JSON object per line (numbers and strings;
 * true/false/null are accepted and ignored). Lines with "type":"train" need a
 * numeric "step" and may carry "loss", "lr", "tok_s", "grad_norm",
 * "elapsed_s"; lines with "type":"eval" need "step" and may carry "loss",
 * "ppl", "token_acc", "exact_match", "bleu", "chrf" (percentages). Other
 * types are ignored; NaN and Infinity are read and left out of the plots.
 * A malformed line (bad JSON, a nested value, no "type", no numeric "step")
 * does not stop the report: the page lists it by line number and reason.
 *
 * The page has, in order: the summary table, three charts (training and
 * validation loss on a log scale; token accuracy, exact match and any BLEU /
 * chrF; learning rate) - always all three, an empty one says "no data" - the
 * notes on the metrics file (lines read, lines skipped), and one heatmap per
 * sample (rows = output tokens, columns = source tokens, darker = larger
 * weight, weights in [0, 1] drawn as they are, values outside clamped).
 * All text is HTML-escaped; invalid UTF-8 in a label shows as U+FFFD.
 */
#ifndef NT_REPORT_H
#define NT_REPORT_H

#include "core/status.h"

/* One row of the summary table. */
typedef struct nt_report_kv {
    const char *key;
    const char *value;
} nt_report_kv;

/* One cross-attention sample. */
typedef struct nt_report_heatmap {
    const char *title;          /* caption; NULL for "sample i" */
    const char *const *src;     /* (S) source token strings, UTF-8 */
    int S;
    const char *const *out;     /* (T) output token strings, UTF-8 */
    int T;
    const float *weights;       /* (T, S) row-major, finite */
} nt_report_heatmap;

#define NT_REPORT_MAX_TOKENS 1024  /* largest S and T accepted */

typedef struct nt_report_info {
    const char *title;                   /* page title; NULL for "nextok training report" */
    const nt_report_kv *summary;         /* (n_summary) rows, may be NULL if 0 */
    int n_summary;
    const nt_report_heatmap *heatmaps;   /* (n_heatmaps), may be NULL if 0 */
    int n_heatmaps;
} nt_report_info;

/* Writes the report to `path` atomically (a temporary file in the same
 * directory, renamed over `path` once complete). `metrics_jsonl_path` may be
 * NULL (charts say "no data"); `info` may be NULL (no table, no heatmaps).
 * Returns NT_ERR_ARG for a NULL path, key, value, token or weights, or a
 * token count outside [1, NT_REPORT_MAX_TOKENS] (naming the heatmap);
 * NT_ERR_NUMERIC for a non-finite weight (naming heatmap, row and column);
 * NT_ERR_IO if the metrics file cannot be read or the report cannot be
 * written; NT_ERR_NOMEM. On error `path` is left as it was. */
nt_status nt_report_write(const char *path, const char *metrics_jsonl_path,
                          const nt_report_info *info);

#endif
