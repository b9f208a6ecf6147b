/* cmd_eval.c - `nextok-translate eval`: exact match, character accuracy, BLEU
 * and chrF of a checkpoint's translations of a test file (train/metrics.h). */
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "core/alloc.h"
#include "data/tsv.h"
#include "train/metrics.h"

void cmd_eval_usage(FILE *out) {
    fprintf(out,
            "usage: nextok-translate eval --checkpoint C --test F [--json] [options]\n"
            "\n"
            "Translates the sources of F (source<TAB>target per line) and scores them against the\n"
            "targets: exact match, character accuracy, BLEU and chrF as sacreBLEU 2.x computes its\n"
            "defaults, all percentages, with their signatures.\n"
            "\n"
            "  --checkpoint C        model checkpoint\n"
            "  --test F              test pairs\n"
            "  --json                one JSON line: n, exact_match, char_accuracy, bleu, chrf\n"
            "  --show-errors N       print the first N wrong translations on stderr\n"
            "  --batch N             sources decoded together (default 32)\n"
            "  --num-beams K, --length-penalty A, --max-new-tokens N, --do-sample, --temperature T,\n"
            "  --top-k K, --top-p P, --seed S, --repetition-penalty R, --no-repeat-ngram-size N\n"
            "                        decoding, as in 'translate' (default greedy)\n"
            "  --threads N           OpenMP/OpenBLAS threads\n");
}

static int usage_error(void) {
    fputc('\n', stderr);
    cmd_eval_usage(stderr);
    return 2;
}

int cli_generate_option(nt_generate_config *g, int argc, char **argv, int *i);

int cmd_eval(int argc, char **argv) {
    const char *ckpt = NULL, *test = NULL;
    long batch = 32, threads = 0, show = 0;
    int json = 0, max_new_set = 0;
    nt_generate_config g = nt_generate_config_default();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            cmd_eval_usage(stdout);
            return 0;
        }
        if (strcmp(a, "--json") == 0) {
            json = 1;
            continue;
        }
        int r = cli_generate_option(&g, argc, argv, &i);
        if (r < 0) return usage_error();
        if (r > 0) {
            max_new_set |= strcmp(a, "--max-new-tokens") == 0;
            continue;
        }
        const char **str = strcmp(a, "--checkpoint") == 0 ? &ckpt : strcmp(a, "--test") == 0 ? &test : NULL;
        long *num = strcmp(a, "--batch") == 0         ? &batch
                    : strcmp(a, "--threads") == 0     ? &threads
                    : strcmp(a, "--show-errors") == 0 ? &show
                                                      : NULL;
        if (!str && !num) {
            fprintf(stderr, "nextok-translate eval: unknown option \"%s\"\n", a);
            return usage_error();
        }
        const char *v = cli_value("eval", argc, argv, &i);
        if (!v) return usage_error();
        if (str) *str = v;
        else if (!nt_cli_parse_int(a, v, num == &show ? 0 : 1, 1 << 20, num)) return usage_error();
    }
    if (!ckpt || !test) {
        fprintf(stderr, "nextok-translate eval: %s is required\n", !ckpt ? "--checkpoint" : "--test");
        return usage_error();
    }
    nt_generate_config probe = g;
    if (!max_new_set) probe.max_new_tokens = 1;
    if (nt_generate_config_check(&probe) != NT_OK) {
        fprintf(stderr, "nextok-translate eval: %s\n", nt_errmsg());
        return usage_error();
    }
    cli_threads((int)threads);
    nt_tsv *tsv = NULL;
    if (nt_tsv_read(&tsv, test, NULL) != NT_OK) {
        fprintf(stderr, "nextok-translate eval: %s\n", nt_errmsg());
        return 1;
    }
    cli_translator tr;
    if (cli_translator_open(&tr, ckpt) != NT_OK) {
        fprintf(stderr, "nextok-translate eval: %s\n", nt_errmsg());
        nt_tsv_free(tsv);
        return 1;
    }
    int keep_max = tr.gen.max_new_tokens;
    tr.gen = g;
    tr.gen.num_return_sequences = 1;
    if (!max_new_set) tr.gen.max_new_tokens = keep_max;
    tr.batch = (int)batch;
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
    int rc = 0;
    if (s != NT_OK) {
        fprintf(stderr, "nextok-translate eval: %s\n", nt_errmsg());
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
