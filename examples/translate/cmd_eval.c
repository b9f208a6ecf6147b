/* cmd_eval.c - `nextok-translate eval`: exact match, character accuracy, BLEU
 * and chrF of a checkpoint's translations of a test file (eval/metrics.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "core/alloc.h"
#include "data/number_corpus.h"
#include "data/tsv.h"
#include "eval/metrics.h"

/* ---- --task: numbers checked against the generator ----------------------------------- */

typedef struct eval_numbers_opts {
    const char *ckpt, *task;
    int set;        /* 1 all of 0..max, 2 typed, 3 the list */
    int max;
    const char *list;
    int show_errors, show_all, json, batch, normalize;
    nt_generate_config gen;
    int max_new_set;
    int precision;  /* nt_precision */
} eval_numbers_opts;

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* The numbers of the set into *out (sorted, distinct, malloc'd); -1 when
 * memory runs out, -2 after a usage error on a bad list (which names the
 * item, shown cut short: a list may hold many thousand numbers). */
static int number_set(const nt_opts *cmd, const eval_numbers_opts *o, int **out) {
    size_t cap = o->set == 1 ? (size_t)o->max + 1 : 4096, n = 0;
    int *v = malloc(cap * sizeof *v);
    if (!v) return -1;
    if (o->set == 1) {
        for (int i = 0; i <= o->max; i++) v[n++] = i;
    } else if (o->set == 2) {
        for (int i = 0; i <= 1000; i++) v[n++] = i;
        for (int p = 10; p <= 100000; p *= 10)
            for (int k = 1; k <= 9; k++) v[n++] = k * p;
        for (int k = 1; k <= 999; k++) v[n++] = k * 1000;
    } else {
        /* any length the command line allows; repeats are counted once */
        for (const char *p = o->list;; p++) {
            char *end;
            long x = strtol(p, &end, 10);
            if (*p < '0' || *p > '9' || end == p || x < 0 || x > NT_NUMBER_CORPUS_MAX_NUMBER ||
                (*end && *end != ',')) {
                char shown[NT_OPTS_EXCERPT_CAP];
                nt_opts_usage_error(cmd, "--numbers: item %zu \"%s\" is not a number in 0..%d (expected numbers "
                                    "separated by commas)",
                                    n + 1, nt_opts_excerpt(p, strcspn(p, ","), shown, sizeof shown),
                                    NT_NUMBER_CORPUS_MAX_NUMBER);
                free(v);
                return -2;
            }
            if (n == cap) {
                int *w = realloc(v, 2 * cap * sizeof *v);
                if (!w) {
                    free(v);
                    return -1;
                }
                v = w, cap *= 2;
            }
            v[n++] = (int)x;
            if (!*end) break;
            p = end;
        }
    }
    qsort(v, n, sizeof *v, cmp_int);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (m == 0 || v[i] != v[m - 1]) v[m++] = v[i];
    *out = v;
    return (int)m;
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int eval_numbers(const nt_opts *cmd, const eval_numbers_opts *o) {
    nt_number_form src, tgt;
    if (nt_number_corpus_task_parse(o->task, &src, &tgt) != NT_OK)
        return nt_opts_usage_error(cmd, "--task: %s", cli_errmsg());
    int *nums = NULL;
    int n = number_set(cmd, o, &nums);
    if (n == -2) return 2;
    if (n < 0) {
        fprintf(stderr, "nextok-translate eval: out of memory\n");
        return 1;
    }
    cli_translator tr;
    if (cli_translator_open(&tr, o->ckpt) != NT_OK) {
        fprintf(stderr, "nextok-translate eval: %s\n", cli_errmsg());
        free(nums);
        return 1;
    }
    int keep_max = tr.gen.max_new_tokens;
    tr.gen = o->gen;
    tr.gen.num_return_sequences = 1;
    if (!o->max_new_set) tr.gen.max_new_tokens = keep_max;
    tr.batch = o->batch;
    tr.normalize = tr.numbers && o->normalize;
    nt_ctx_set_precision(tr.ctx, (nt_precision)o->precision);
    enum { CHUNK = 4096 };
    char(*text)[NT_NUMBER_CORPUS_MAX_TEXT] = malloc((size_t)CHUNK * sizeof *text);
    const char **lines = malloc((size_t)CHUNK * sizeof *lines);
    cli_hyp *hyps = nt_calloc(CHUNK, sizeof *hyps);
    nt_status s = text && lines && hyps ? NT_OK : nt_error(NT_ERR_NOMEM, "out of memory");
    long long errors = 0, per_len[8] = {0}, n_len[8] = {0};
    int shown = 0;
    double t0 = now_seconds();
    for (int i0 = 0; i0 < n && s == NT_OK; i0 += CHUNK) {
        int m = n - i0 < CHUNK ? n - i0 : CHUNK;
        for (int j = 0; j < m && s == NT_OK; j++) {
            s = nt_number_corpus_render(src, nums[i0 + j], text[j], sizeof text[j]);
            lines[j] = text[j];
        }
        if (s == NT_OK) s = cli_translate(&tr, lines, m, hyps, 1, 0);
        for (int j = 0; j < m && s == NT_OK; j++) {
            char want[NT_NUMBER_CORPUS_MAX_TEXT];
            s = nt_number_corpus_render(tgt, nums[i0 + j], want, sizeof want);
            const char *got = hyps[j].n > 0 ? hyps[j].text[0] : "";
            int ok = s == NT_OK && strcmp(got, want) == 0;
            int digits = 1;
            for (int x = nums[i0 + j]; x >= 10; x /= 10) digits++;
            n_len[digits]++;
            if (!ok) errors++, per_len[digits]++;
            if (o->show_all)
                printf("%s %d: %s \xe2\x86\x92 %s%s%s%s\n", ok ? "ok  " : "MISS", nums[i0 + j], lines[j], got,
                       ok ? "" : " (expected ", ok ? "" : want, ok ? "" : ")");
            else if (!ok && shown < o->show_errors) {
                if (shown++ == 0) fprintf(stderr, "first errors:\n");
                fprintf(stderr, "  %d: %s \xe2\x86\x92 %s%s (expected %s)\n", nums[i0 + j], lines[j], got,
                        hyps[j].error[0] ? hyps[j].error : "", want);
            }
        }
        cli_hyps_free(hyps, m);
        if (s == NT_OK && !o->json && !o->show_all && n > CHUNK && isatty(fileno(stderr))) {
            double el = now_seconds() - t0;
            int done = i0 + m;
            fprintf(stderr, "\r%d of %d numbers, %lld errors, %.0f s, about %.0f s left ", done, n, errors, el,
                    el / done * (n - done));
            fflush(stderr);
        }
    }
    double sec = now_seconds() - t0;
    if (n > CHUNK && !o->json && !o->show_all && isatty(fileno(stderr))) fprintf(stderr, "\n");
    int rc = 0;
    if (s != NT_OK) {
        fprintf(stderr, "nextok-translate eval: %s\n", cli_errmsg());
        rc = 1;
    } else if (o->json) {
        printf("{\"task\":\"%s\",\"n\":%d,\"errors\":%lld,\"exact_match\":%.6f,\"seconds\":%.3f,\"by_digits\":[",
               o->task, n, errors, n ? 100.0 * (double)(n - errors) / n : 0.0, sec);
        for (int d = 1, first = 1; d <= 6; d++)
            if (n_len[d]) printf("%s{\"digits\":%d,\"n\":%lld,\"errors\":%lld}", first ? "" : ",", d, n_len[d], per_len[d]), first = 0;
        printf("]}\n");
    } else {
        const char *what = o->set == 1 ? "every number" : o->set == 2 ? "the numbers people type" : "the numbers given";
        printf("%s: %s", o->task, what);
        if (o->set == 1) printf(" of 0..%d", o->max);
        printf(", %d numbers, checkpoint %s, %s%s\n", n, o->ckpt,
               o->gen.do_sample ? "sampling" : o->gen.num_beams > 1 ? "beam search" : "greedy",
               tr.normalize ? "" : ", not normalised");
        printf("errors          %lld of %d (exact match %.4f%%)\n", errors, n,
               n ? 100.0 * (double)(n - errors) / n : 0.0);
        printf("by digit length");
        for (int d = 1; d <= 6; d++)
            if (n_len[d]) printf("  %d: %lld/%lld (%.3g%%)", d, per_len[d], n_len[d], 100.0 * (double)per_len[d] / (double)n_len[d]);
        printf("\ntime            %.1f s (%.0f numbers/s)\n", sec, sec > 0 ? n / sec : 0.0);
    }
    free(text);
    free(lines);
    nt_free(hyps);
    free(nums);
    cli_translator_close(&tr);
    return rc;
}

int cmd_eval(int argc, char **argv) {
    const char *ckpt = NULL, *test = NULL;
    long batch = 32, threads = 0, show = 0;
    int json = 0;
    int no_normalize = 0, precision = 0;
    nt_generate_config g = nt_generate_config_default();
    nt_opt gen_opts[CLI_GENERATE_NOPTS];
    cli_generate_opts(gen_opts, &g);
    const char *task = NULL, *list = NULL;
    int all = 0, typed = 0, show_all = 0;
    long max_number = NT_NUMBER_CORPUS_MAX_NUMBER;
    nt_opt num_opts[] = {
        {"--task", NT_OPT_STRING, &task, .arg = "SRC-TGT",
         .help = "the number task the checkpoint translates (as 'data --task'); with one of:"},
        {"--all", NT_OPT_FLAG, &all, .help = "every number 0..M: the error count, the error rate per digit length, "
                                             "the first errors"},
        {"--max", NT_OPT_INT, &max_number, 0, NT_NUMBER_CORPUS_MAX_NUMBER, .arg = "M", .help = "--all: the last number"},
        {"--typed", NT_OPT_FLAG, &typed,
         .help = "the numbers people type first: 0..1000, every k*10^n, every k*1000 (multiples of 100,000 "
                 "included)"},
        {"--numbers", NT_OPT_STRING, &list, .arg = "N,N,...", .help = "these numbers"},
        {"--show", NT_OPT_FLAG, &show_all, .help = "print every number's translation, misses marked MISS"},
        {0}};
    nt_opt opts[] = {
        {"--checkpoint", NT_OPT_STRING, &ckpt, .arg = "C", .required = 1, .help = "model checkpoint"},
        {"--test", NT_OPT_STRING, &test, .arg = "F", .help = "test pairs (or --task)"},
        {"--json", NT_OPT_FLAG, &json, .help = "one JSON line: n, exact_match, char_accuracy, bleu, chrf"},
        {"--show-errors", NT_OPT_INT, &show, 0, 1 << 20, .def = "0; 10 with --task",
         .help = "print the first N wrong translations"},
        {"--no-normalize", NT_OPT_FLAG, &no_normalize,
         .help = CLI_NORMALIZE_HELP},
        {"--batch", NT_OPT_INT, &batch, 1, 4096, .help = "sources decoded together"},
        {"--precision", NT_OPT_ENUM, &precision, .choices = "fp32|bf16",
         .help = "bf16: decode on bf16 copies of the weights (made at load; activations and sums stay fp32; "
                 "docs/precision.md)"},
        {"--threads", NT_OPT_INT, &threads, 1, 1024, .def = "OMP_NUM_THREADS or all cores",
         .help = "OpenMP/OpenBLAS threads"},
        {.kind = NT_OPT_GROUP, .help = "numbers, checked against the generator (instead of --test):", .dest = num_opts},
        {.kind = NT_OPT_GROUP, .help = "decoding (as in 'translate'; default greedy):", .dest = gen_opts},
        {0}};
    nt_opts cmd = {"nextok-translate eval",
                   "usage: nextok-translate eval --checkpoint C --test F [--json] [options]\n"
                   "       nextok-translate eval --checkpoint C --task SRC-TGT (--all [--max M] | --typed | "
                   "--numbers N,...) [options]",
                   "Translates the sources of F (source<TAB>target per line) and scores them against the targets: "
                   "exact match, character accuracy, BLEU and chrF as sacreBLEU 2.x computes its defaults, all "
                   "percentages, with their signatures. With --task it translates numbers instead and checks each "
                   "against the generator that writes the corpora (exact match is then the only measure).",
                   .opts = opts, .epilog = cli_omp_policy_help()};
    int rc = nt_opts_parse(&cmd, argc, argv);
    if (rc >= 0) return rc;
    if ((rc = cli_generate_check(&cmd, &g)) >= 0) return rc;
    int max_new_set = nt_opts_given(&cmd, "--max-new-tokens");
    if (!test == !task) return nt_opts_usage_error(&cmd, "give one of --test F and --task SRC-TGT");
    if (task && all + typed + (list != NULL) != 1)
        return nt_opts_usage_error(&cmd, "--task needs one of --all, --typed and --numbers");
    if (!task && (all || typed || list || show_all || nt_opts_given(&cmd, "--max")))
        return nt_opts_usage_error(&cmd, "--all, --typed, --numbers, --show and --max go with --task");
    cli_threads(threads);
    if (task) {
        eval_numbers_opts o = {ckpt, task, all ? 1 : typed ? 2 : 3, (int)max_number, list,
                               nt_opts_given(&cmd, "--show-errors") ? (int)show : 10, show_all, json,
                               nt_opts_given(&cmd, "--batch") ? (int)batch : 256, !no_normalize, g, max_new_set,
                               precision};
        return eval_numbers(&cmd, &o);
    }
    nt_tsv *tsv = NULL;
    if (nt_tsv_read(&tsv, test, NULL) != NT_OK) {
        fprintf(stderr, "nextok-translate eval: %s\n", cli_errmsg());
        return 1;
    }
    cli_tsv_notes(tsv);
    if (tsv->n == 0) {
        fprintf(stderr, "nextok-translate eval: %s holds no pairs: nothing to score\n", test);
        nt_tsv_free(tsv);
        return 1;
    }
    cli_translator tr;
    if (cli_translator_open(&tr, ckpt) != NT_OK) {
        fprintf(stderr, "nextok-translate eval: %s\n", cli_errmsg());
        nt_tsv_free(tsv);
        return 1;
    }
    int keep_max = tr.gen.max_new_tokens;
    tr.gen = g;
    tr.gen.num_return_sequences = 1;
    if (!max_new_set) tr.gen.max_new_tokens = keep_max;
    tr.batch = (int)batch;
    tr.normalize = tr.numbers && !no_normalize;
    nt_ctx_set_precision(tr.ctx, (nt_precision)precision);
    nt_metrics_acc *acc = NULL;
    nt_status s = nt_metrics_acc_new(&acc);
    enum { CHUNK = 512 };
    cli_hyp *hyps = nt_calloc(CHUNK, sizeof *hyps);
    if (!hyps) s = nt_error(NT_ERR_NOMEM, "out of memory");
    int shown = 0, rejected = 0;
    for (int i0 = 0; i0 < tsv->n && s == NT_OK; i0 += CHUNK) {
        int m = tsv->n - i0 < CHUNK ? tsv->n - i0 : CHUNK;
        s = cli_translate(&tr, (const char *const *)tsv->src + i0, m, hyps, 1, 0);
        if (s != NT_OK) break;
        for (int j = 0; j < m && s == NT_OK; j++) {
            const char *hyp = hyps[j].n > 0 ? hyps[j].text[0] : "";
            if (hyps[j].error[0]) {
                rejected++;
                fprintf(stderr, "nextok-translate eval: %s:%d: source %s; scored as an empty translation\n", test,
                        tsv->line[i0 + j], hyps[j].error);
            }
            s = nt_metrics_acc_add(acc, hyp, tsv->tgt[i0 + j]);
            if (s == NT_OK && shown < show && strcmp(hyp, tsv->tgt[i0 + j]) != 0) {
                fprintf(stderr, "%s:%d: %s\n  expected: %s\n  got:      %s\n", test, tsv->line[i0 + j],
                        tsv->src[i0 + j], tsv->tgt[i0 + j], hyp);
                shown++;
            }
        }
        cli_hyps_free(hyps, m);
    }
    rc = 0;
    if (s != NT_OK) {
        fprintf(stderr, "nextok-translate eval: %s\n", cli_errmsg());
        rc = 1;
    } else {
        nt_metrics m;
        nt_metrics_acc_result(acc, &m);
        if (json) {
            printf("{\"n\":%lld,\"exact_match\":%.4f,\"char_accuracy\":%.4f,\"bleu\":%.4f,\"chrf\":%.4f}\n",
                   (long long)m.n, m.exact_match, m.char_accuracy, m.bleu, m.chrf);
        } else {
            printf("test: %s (%lld pairs), checkpoint %s%s\n", test, (long long)m.n, ckpt,
                   g.do_sample ? ", sampling" : g.num_beams > 1 ? ", beam search" : ", greedy");
            printf("exact match     %6.2f  (%lld of %lld)\n", m.exact_match,
                   (long long)(m.exact_match * (double)m.n / 100.0 + 0.5), (long long)m.n);
            printf("char accuracy   %6.2f  (%lld edits over %lld reference characters)\n", m.char_accuracy,
                   (long long)m.char_edits, (long long)m.ref_chars);
            printf("BLEU            %6.2f  %.1f/%.1f/%.1f/%.1f (BP = %.3f ratio = %.3f hyp_len = %lld ref_len = %lld)\n",
                   m.bleu, m.bleu_precisions[0], m.bleu_precisions[1], m.bleu_precisions[2], m.bleu_precisions[3],
                   m.bleu_bp, m.bleu_ratio, (long long)m.bleu_sys_len, (long long)m.bleu_ref_len);
            printf("chrF2           %6.2f\n", m.chrf);
            printf("signatures: BLEU %s\n            chrF2 %s\n", NT_METRICS_BLEU_SIGNATURE, NT_METRICS_CHRF_SIGNATURE);
            if (rejected) printf("(%d sources could not be translated and were scored as empty)\n", rejected);
        }
    }
    nt_free(hyps);
    nt_metrics_acc_free(acc);
    cli_translator_close(&tr);
    nt_tsv_free(tsv);
    return rc;
}
