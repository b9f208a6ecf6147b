/* cmd_report.c - `nextok-translate report`: RUN/report.html, a self-contained
 * page with the training curves and cross-attention heatmaps. */
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "commands.h"
#include "core/alloc.h"

int cmd_report(int argc, char **argv) {
    const char *run = NULL, *ckpt = NULL, *samples = NULL;
    long n = 4;
    nt_opt opts[] = {
        {"--checkpoint", NT_OPT_STRING, &ckpt, .arg = "C", .def = "RUN/checkpoint-best.h5, else RUN/checkpoint-last.h5",
         .help = "the model translating the samples (the one eval uses)"},
        {"--samples", NT_OPT_STRING, &samples, .arg = "F", .def = "the run's validation file",
         .help = "TSV whose sources are translated"},
        {"--n", NT_OPT_INT, &n, 0, 8, .help = "number of samples"},
        {0}};
    nt_opts cmd = {"nextok-translate report", "usage: nextok-translate report RUN [--checkpoint C] [--samples F] [--n N]",
                   "Writes RUN/report.html: one self-contained page (inline SVG, nothing fetched from the network) "
                   "with the loss, accuracy and learning-rate curves of RUN/metrics.jsonl, a summary of the run, and "
                   "cross-attention heatmaps of a few sample translations beside their references.",
                   .opts = opts, .positional = "RUN", .args = &run, .max_args = 1, .min_args = 1};
    int rc = nt_opts_parse(&cmd, argc, argv);
    if (rc >= 0) return rc;
    struct stat sb;
    if (stat(run, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "nextok-translate report: %s is not a run folder\n", run);
        return 1;
    }
    char best[4096], metrics[4096], out[4096];
    snprintf(best, sizeof best, "%s/checkpoint-best.h5", run);
    snprintf(metrics, sizeof metrics, "%s/metrics.jsonl", run);
    if (!ckpt) {
        if (stat(best, &sb) != 0) snprintf(best, sizeof best, "%s/checkpoint-last.h5", run);
        ckpt = best;
    }
    if (stat(metrics, &sb) != 0)
        fprintf(stderr, "nextok-translate report: note: %s is missing; the charts will be empty\n", metrics);
    char valid[NT_TRAINER_PATH_MAX] = "";
    if (!samples) {
        nt_train_state *ts = nt_malloc(sizeof *ts);
        nt_trainer_config tc = nt_trainer_config_default();
        if (ts && cli_ckpt_train_state(ckpt, ts) == 1 && ts->options[0] &&
            nt_trainer_config_from_json(&tc, ts->options) == NT_OK)
            snprintf(valid, sizeof valid, "%s", tc.valid_path);
        nt_free(ts);
        samples = valid;
    }
    if (cli_report_write(run, ckpt, samples, (int)n, out, sizeof out) != NT_OK) {
        fprintf(stderr, "nextok-translate report: %s\n", cli_errmsg());
        return 1;
    }
    printf("%s\n", out);
    return 0;
}
