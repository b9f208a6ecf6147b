/* cmd_report.c - `nextok-translate report`: RUN/report.html, a self-contained
 * page with the training curves and cross-attention heatmaps. */
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "commands.h"
#include "core/alloc.h"

void cmd_report_usage(FILE *out) {
    fprintf(out,
            "usage: nextok-translate report RUN [--checkpoint C] [--samples F] [--n N]\n"
            "\n"
            "Writes RUN/report.html: one self-contained page (inline SVG, nothing fetched from the\n"
            "network) with the loss, accuracy and learning-rate curves of RUN/metrics.jsonl, a\n"
            "summary of the run, and cross-attention heatmaps of a few sample translations.\n"
            "\n"
            "  --checkpoint C   the model translating the samples (default RUN/checkpoint-last.h5)\n"
            "  --samples F      TSV whose sources are translated (default: the run's validation file)\n"
            "  --n N            number of samples, 0..8 (default 4)\n");
}

static int usage_error(void) {
    fputc('\n', stderr);
    cmd_report_usage(stderr);
    return 2;
}

int cmd_report(int argc, char **argv) {
    const char *run = NULL, *ckpt = NULL, *samples = NULL;
    long n = 4;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            cmd_report_usage(stdout);
            return 0;
        }
        if (strcmp(a, "--checkpoint") == 0 || strcmp(a, "--samples") == 0 || strcmp(a, "--n") == 0) {
            const char *v = cli_value("report", argc, argv, &i);
            if (!v) return usage_error();
            if (a[2] == 'c') ckpt = v;
            else if (a[2] == 's') samples = v;
            else if (!nt_cli_parse_int(a, v, 0, 8, &n)) return usage_error();
            continue;
        }
        if (a[0] == '-' || run) {
            fprintf(stderr, "nextok-translate report: %s \"%s\"\n", a[0] == '-' ? "unknown option" : "unexpected argument", a);
            return usage_error();
        }
        run = a;
    }
    if (!run) {
        fprintf(stderr, "nextok-translate report: which run folder?\n");
        return usage_error();
    }
    struct stat sb;
    if (stat(run, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "nextok-translate report: %s is not a run folder\n", run);
        return 1;
    }
    char last[4096], metrics[4096], out[4096];
    snprintf(last, sizeof last, "%s/checkpoint-last.h5", run);
    snprintf(metrics, sizeof metrics, "%s/metrics.jsonl", run);
    if (!ckpt) {
        if (stat(last, &sb) != 0) snprintf(last, sizeof last, "%s/checkpoint-best.h5", run);
        ckpt = last;
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
        fprintf(stderr, "nextok-translate report: %s\n", nt_errmsg());
        return 1;
    }
    printf("%s\n", out);
    return 0;
}
