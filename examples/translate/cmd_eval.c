/* cmd_eval.c - `nextok-translate eval`: exact match, character accuracy, BLEU
 * and chrF of a checkpoint's translations of a test file (train/metrics.h). */
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "core/alloc.h"
#include "data/tsv.h"
#include "train/metrics.h"

int cmd_eval(int argc, char **argv) {
    const char *ckpt = NULL, *test = NULL;
    long batch = 32, threads = 0, show = 0;
    int json = 0;
    int no_normalize = 0;
    nt_generate_config g = nt_generate_config_default();
    nt_opt gen_opts[CLI_GENERATE_NOPTS];
    cli_generate_opts(gen_opts, &g);
    nt_opt opts[] = {
        {"--checkpoint", NT_OPT_STRING, &ckpt, .arg = "C", .required = 1, .help = "model checkpoint"},
        {"--test", NT_OPT_STRING, &test, .arg = "F", .required = 1, .help = "test pairs"},
        {"--json", NT_OPT_FLAG, &json, .help = "one JSON line: n, exact_match, char_accuracy, bleu, chrf"},
        {"--show-errors", NT_OPT_INT, &show, 0, 1 << 20, .help = "print the first N wrong translations on stderr"},
        {"--no-normalize", NT_OPT_FLAG, &no_normalize,
         .help = CLI_NORMALIZE_HELP},
        {"--batch", NT_OPT_INT, &batch, 1, 4096, .help = "sources decoded together"},
        {"--threads", NT_OPT_INT, &threads, 1, 1024, .def = "OMP_NUM_THREADS or all cores",
         .help = "OpenMP/OpenBLAS threads"},
        {.kind = NT_OPT_GROUP, .help = "decoding (as in 'translate'; default greedy):", .dest = gen_opts},
        {0}};
    nt_opts cmd = {"nextok-translate eval", "usage: nextok-translate eval --checkpoint C --test F [--json] [options]",
                   "Translates the sources of F (source<TAB>target per line) and scores them against the targets: "
                   "exact match, character accuracy, BLEU and chrF as sacreBLEU 2.x computes its defaults, all "
                   "percentages, with their signatures.",
                   .opts = opts, .epilog = cli_omp_policy_help()};
    int rc = nt_opts_parse(&cmd, argc, argv);
    if (rc >= 0) return rc;
    if ((rc = cli_generate_check(&cmd, &g)) >= 0) return rc;
    int max_new_set = nt_opts_given(&cmd, "--max-new-tokens");
    cli_threads(threads);
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
