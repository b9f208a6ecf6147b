/* test_cli_translate.c - end to end through the real nextok-translate binary
 * ($NT_BIN): data -> train -> resume (bitwise equal to an uninterrupted run)
 * -> inspect -> translate (bad lines, batch independence, n-best) -> eval
 * (agrees with translate) -> finetune -> report. A tiny model on a tiny
 * corpus: it must learn its training pairs, and every file must hold what it
 * should. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/tensor.h"
#include "data/tsv.h"
#include "support/check.h"
#include "support/cli_run.h"
#include "support/models.h"
#include "support/proc.h"
#include "support/scratch.h"
#include "train/checkpoint.h"

static int exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && sb.st_size > 0;
}

static int count_lines(const char *s) {
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

static int count_str(const char *s, const char *needle) {
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)) != NULL; p += strlen(needle)) n++;
    return n;
}

int main(void) {
    nt_cli_use("nextok-translate");
    CHECK(nt_scratch_begin("nt_cli_tr"), "mkdtemp");
    const int sanitized = getenv("NT_SANITIZED") != NULL;
    /* the children: sleeping, not spinning, OpenMP threads (a loaded machine
     * otherwise makes every barrier slow), and one thread under ASan */
    setenv("OMP_WAIT_POLICY", "passive", 0);
    const char *threads = sanitized ? "1" : "2";
    char data[1100], train[1100], valid[1100], test[1100], run1[1100], run3[1100], ft[1100], p[1200], q[1200];
    nt_scratch_path_to(data, sizeof data, "data");
    nt_scratch_path_to(train, sizeof train, "data/train.tsv");
    nt_scratch_path_to(valid, sizeof valid, "data/valid.tsv");
    nt_scratch_path_to(test, sizeof test, "data/test.tsv");
    nt_scratch_path_to(run1, sizeof run1, "run1");
    nt_scratch_path_to(run3, sizeof run3, "run3");
    nt_scratch_path_to(ft, sizeof ft, "ft");

    /* A small corpus that a tiny model learns in seconds: digits to Eastern
     * Arabic-Indic digits, numbers 0..9999, character tokens. */
    const char *a_data[] = {"data", "--task", "digits-arabic", "--out", data, "--max", "9999", "--train", "300",
                            "--valid", "20", "--test", "30", "--seed", "3", NULL};
    CHECK(nt_cli_run(a_data) == 0, "data: %s", nt_cli_err);

    /* train: the uninterrupted run */
    const char *steps = sanitized ? "120" : "200";
    const char *half = sanitized ? "60" : "100";
    const char *a_train[] = {"train", "--train", train, "--valid", valid, "--out", run1, "--preset", "tiny",
                             "--tokenizer", "char", "--d-model", "48", "--steps", steps, "--warmup", "20", "--lr", "3e-3", "--dropout", "0",
                             "--batch-tokens", "400", "--eval-every", half, "--log-every", "10", "--progress", "off",
                             "--threads", threads, "--seed", "5", "--metric", "exact_match", NULL};
    CHECK(nt_cli_run(a_train) == 0, "train: %s", nt_cli_err);
    const char *files[] = {"checkpoint-last.h5", "checkpoint-best.h5", "metrics.jsonl", "report.html"};
    for (int k = 0; k < 4; k++) {
        snprintf(p, sizeof p, "%s/%s", run1, files[k]);
        CHECK(exists(p), "train wrote %s", p);
    }
    snprintf(p, sizeof p, "%s/metrics.jsonl", run1);
    char *metrics = nt_proc_read_file(p, NULL);
    CHECK(metrics && count_str(metrics, "\"type\":\"train\"") == atoi(steps) / 10, "train lines in metrics.jsonl");
    CHECK(metrics && count_str(metrics, "\"type\":\"eval\"") == 2, "eval lines in metrics.jsonl");
    free(metrics);
    snprintf(p, sizeof p, "%s/report.html", run1);
    char *html = nt_proc_read_file(p, NULL);
    CHECK(html && strstr(html, "<svg") && count_str(html, "class=\"heatmap\"") >= 1, "report has charts and heatmaps");
    CHECK(html && !strstr(html, "src=\"http") && !strstr(html, "href=\"http") && !strstr(html, "<script src"),
          "report fetches nothing");
    free(html);
    /* a second run into the same folder is refused without --overwrite */
    CHECK(nt_cli_run(a_train) != 0 && strstr(nt_cli_err, "--overwrite"), "train over a run: %s", nt_cli_err);

    /* resume: a run with the same budget stopped after half the steps (as a
     * signal would stop it), then resumed, ends with run1's weights, bit for bit */
    const char *a_stop[] = {"train", "--train", train, "--valid", valid, "--out", run3, "--preset", "tiny",
                            "--tokenizer", "char", "--d-model", "48", "--steps", steps, "--warmup", "20", "--lr", "3e-3", "--dropout", "0",
                            "--batch-tokens", "400", "--eval-every", half, "--log-every", "10", "--progress", "off",
                            "--threads", threads, "--seed", "5", "--metric", "exact_match", "--stop-after", half, NULL};
    CHECK(nt_cli_run(a_stop) == 0 && strstr(nt_cli_err, "--resume"), "stopped run: %s", nt_cli_err);
    snprintf(p, sizeof p, "%s/checkpoint-last.h5", run3);
    nt_train_state ts;
    nt_train_state_init(&ts);
    CHECK(nt_ckpt_load_train(p, &ts) == NT_OK && ts.step == atoi(half), "stopped at step %lld", (long long)ts.step);
    const char *a_resume_low[] = {"train", "--resume", run3, "--steps", half, NULL};
    CHECK(nt_cli_run(a_resume_low) == 2 && strstr(nt_cli_err, "already"), "resume to a reached step: %s", nt_cli_err);
    const char *a_resume[] = {"train", "--resume", run3, "--threads", threads, NULL};
    CHECK(nt_cli_run(a_resume) == 0, "resume: %s", nt_cli_err);
    nt_train_state_init(&ts);
    CHECK(nt_ckpt_load_train(p, &ts) == NT_OK && ts.step == atoi(steps), "resumed to step %lld", (long long)ts.step);
    snprintf(q, sizeof q, "%s/checkpoint-last.h5", run1);
    CHECK(nt_test_same_weights(p, q), "resumed run ends with the uninterrupted run's weights");
    snprintf(p, sizeof p, "%s/checkpoint-best.h5", run3);
    snprintf(q, sizeof q, "%s/checkpoint-best.h5", run1);
    CHECK(nt_test_same_weights(p, q), "and the same best checkpoint");
    /* --resume --steps N goes further */
    const char *a_more[] = {"train", "--resume", run3, "--steps", sanitized ? "130" : "220", "--threads", threads, NULL};
    CHECK(nt_cli_run(a_more) == 0, "resume further: %s", nt_cli_err);
    snprintf(p, sizeof p, "%s/checkpoint-last.h5", run3);
    nt_train_state_init(&ts);
    CHECK(nt_ckpt_load_train(p, &ts) == NT_OK && ts.step == (sanitized ? 130 : 220), "resumed to step %lld",
          (long long)ts.step);
    snprintf(q, sizeof q, "%s/checkpoint-last.h5", run1);

    /* inspect */
    const char *a_inspect[] = {"inspect", q, NULL};
    CHECK(nt_cli_run(a_inspect) == 0, "inspect: %s", nt_cli_err);
    snprintf(p, sizeof p, "step:         %s updates", steps);
    CHECK(strstr(nt_cli_out, p) && strstr(nt_cli_out, "d_model:      48") && strstr(nt_cli_out, "parameters:") &&
              strstr(nt_cli_out, "char tokenizer") && strstr(nt_cli_out, "best metric:  exact_match"),
          "inspect output:\n%s", nt_cli_out);

    /* eval on the training pairs: the model has learnt them */
    const char *a_eval_train[] = {"eval", "--checkpoint", q, "--test", train, "--json", NULL};
    CHECK(nt_cli_run(a_eval_train) == 0, "eval train: %s", nt_cli_err);
    double em_train = nt_cli_json_num(nt_cli_out, "exact_match");
    CHECK(em_train >= (sanitized ? 50.0 : 90.0), "exact match on the training pairs %.1f%%", em_train);
    CHECK(nt_cli_json_num(nt_cli_out, "n") == 300, "eval n: %s", nt_cli_out);

    /* eval on the test file; translate must agree with it */
    const char *a_eval[] = {"eval", "--checkpoint", q, "--test", test, "--json", NULL};
    CHECK(nt_cli_run(a_eval) == 0, "eval: %s", nt_cli_err);
    double em = nt_cli_json_num(nt_cli_out, "exact_match"), ca = nt_cli_json_num(nt_cli_out, "char_accuracy"),
           bleu = nt_cli_json_num(nt_cli_out, "bleu"), chrf = nt_cli_json_num(nt_cli_out, "chrf");
    CHECK(em >= (sanitized ? 30.0 : 80.0), "exact match on held-out pairs %.1f%%", em);
    CHECK(nt_cli_json_num(nt_cli_out, "n") == 30 && em >= 0 && em <= 100 && ca >= 0 && ca <= 100 && bleu >= 0 &&
              bleu <= 100 && chrf >= 0 && chrf <= 100,
          "eval json: %s", nt_cli_out);
    /* the same pairs with a byte-order mark and spaces around the fields:
     * the same scores, and a note for each repair */
    {
        size_t tlen = 0;
        char *clean = nt_proc_read_file(test, &tlen);
        size_t cap = 2 * tlen + 16, k = 0;
        char *dirty = malloc(cap);
        if (clean && dirty) {
            k += (size_t)snprintf(dirty, cap, "\xEF\xBB\xBF");
            for (char *c = clean; *c; c++) {
                if (*c == '\t') k += (size_t)snprintf(dirty + k, cap - k, " \t ");
                else if (*c == '\n') k += (size_t)snprintf(dirty + k, cap - k, "  \n");
                else dirty[k++] = *c;
            }
            snprintf(p, sizeof p, "%s/dirty.tsv", nt_scratch);
            CHECK(nt_proc_write_file(p, dirty, k) == 0, "write %s", p);
            const char *a_dirty[] = {"eval", "--checkpoint", q, "--test", p, "--json", NULL};
            CHECK(nt_cli_run(a_dirty) == 0 && nt_cli_json_num(nt_cli_out, "exact_match") == em && nt_cli_json_num(nt_cli_out, "n") == 30,
                  "BOM and spaces change nothing: %s", nt_cli_out);
            CHECK(strstr(nt_cli_err, "byte-order mark at its start was dropped") &&
                      strstr(nt_cli_err, "spaces around a field trimmed on 30 lines (the first: line 1)"),
                  "notes: %s", nt_cli_err);
        }
        free(clean);
        free(dirty);
    }
    const char *a_eval_text[] = {"eval", "--checkpoint", q, "--test", test, NULL};
    CHECK(nt_cli_run(a_eval_text) == 0 && strstr(nt_cli_out, "BLEU") && strstr(nt_cli_out, "chrF2") &&
              strstr(nt_cli_out, "signatures: BLEU nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp"),
          "eval text: %s", nt_cli_out);

    /* exhaustive evaluation against the generator: every number of 0..199 */
    const char *a_all[] = {"eval", "--checkpoint", q, "--task", "digits-arabic", "--all", "--max", "199", "--json", NULL};
    CHECK(nt_cli_run(a_all) == 0, "eval --all: %s", nt_cli_err);
    double all_n = nt_cli_json_num(nt_cli_out, "n"), all_err = nt_cli_json_num(nt_cli_out, "errors");
    CHECK(all_n == 200 && all_err >= 0 && all_err <= 200 &&
              fabs(nt_cli_json_num(nt_cli_out, "exact_match") - 100.0 * (200 - all_err) / 200) < 1e-3 &&
              strstr(nt_cli_out, "{\"digits\":1,\"n\":10,") && strstr(nt_cli_out, "{\"digits\":3,\"n\":100,"),
          "eval --all json: %s", nt_cli_out);
    const char *a_all_text[] = {"eval", "--checkpoint", q, "--task", "digits-arabic", "--all", "--max", "199", NULL};
    CHECK(nt_cli_run(a_all_text) == 0 && strstr(nt_cli_out, "errors ") && strstr(nt_cli_out, "by digit length  1: ") &&
              strstr(nt_cli_out, "numbers/s"),
          "eval --all text: %s", nt_cli_out);
    /* the listed numbers, each shown: the same translations as translate's */
    const char *a_list[] = {"eval", "--checkpoint", q, "--task", "digits-arabic", "--numbers", "42,7,1917", "--show", NULL};
    CHECK(nt_cli_run(a_list) == 0 && count_lines(nt_cli_out) == 2 + 3 + 2, "eval --numbers --show: %s", nt_cli_out);
    char shown_list[4096];
    memcpy(shown_list, nt_cli_out, sizeof shown_list - 1);
    shown_list[sizeof shown_list - 1] = 0;
    const char *a_tr3[] = {"translate", "--checkpoint", q, NULL};
    CHECK(nt_cli_run_in("7\n42\n1917\n", a_tr3) == 0, "translate 3: %s", nt_cli_err);
    {
        char *save = NULL, *copy = strdup(nt_cli_out);
        const char *nums[3] = {"7", "42", "1917"};
        int k = 0;
        for (char *l = strtok_r(copy, "\n", &save); l && k < 3; l = strtok_r(NULL, "\n", &save), k++) {
            char want[256];
            snprintf(want, sizeof want, " %s: %s \xe2\x86\x92 %s", nums[k], nums[k], l);
            CHECK(strstr(shown_list, want) != NULL, "eval --show agrees with translate: '%s' in %s", want, shown_list);
        }
        free(copy);
    }
    CHECK(count_str(shown_list, "ok   ") + count_str(shown_list, "MISS ") == 3, "each marked ok or MISS");
    const char *a_bad1[] = {"eval", "--checkpoint", q, "--task", "digits-arabic", NULL};
    CHECK(nt_cli_run(a_bad1) == 2 && strstr(nt_cli_err, "one of --all, --typed and --numbers"), "--task alone: %s", nt_cli_err);
    const char *a_bad2[] = {"eval", "--checkpoint", q, "--task", "digits-arabic", "--numbers", "4,x", NULL};
    CHECK(nt_cli_run(a_bad2) == 2 && strstr(nt_cli_err, "--numbers: item 2 \"x\" is not a number"),
          "--numbers 4,x: %s", nt_cli_err);
    {
        /* a long list is read (10,000 numbers: more than the 4,096 it once held), and a bad item in a long
         * list is named without the list printed back */
        enum { N = 10000 };
        char *many = malloc((size_t)N * 7 + 16);
        size_t len = 0;
        for (int i = 0; i < N; i++) len += (size_t)sprintf(many + len, "%s%d", i ? "," : "", (i * 7919) % 100000);
        const char *a_many[] = {"eval", "--checkpoint", q, "--task", "digits-arabic", "--numbers", many, "--json", NULL};
        CHECK(nt_cli_run(a_many) == 0 && nt_cli_json_num(nt_cli_out, "n") == N, "--numbers with %d numbers: %s%s", N,
              nt_cli_out, nt_cli_err);
        sprintf(many + len, ",12x");
        CHECK(nt_cli_run(a_many) == 2 && strstr(nt_cli_err, "item 10001 \"12x\" is not a number") &&
                  strlen(nt_cli_err) < 400,
              "a bad item at the end of a long list: %.600s", nt_cli_err);
        memset(many + len + 1, '7', 300), many[len + 301] = 'x', many[len + 302] = 0;
        CHECK(nt_cli_run(a_many) == 2 && strstr(nt_cli_err, "item 10001 \"777") && strlen(nt_cli_err) < 400,
              "a long bad item is cut: %.600s", nt_cli_err);
        const char *a_maxbad[] = {"eval", "--checkpoint", q, "--task", "digits-arabic", "--all", "--max", many, NULL};
        CHECK(nt_cli_run(a_maxbad) == 2 && strstr(nt_cli_err, "--max \"") && strstr(nt_cli_err, "bytes)") &&
                  strlen(nt_cli_err) < 400,
              "a long bad value of another option is cut too: %.600s", nt_cli_err);
        free(many);
    }
    const char *a_bad3[] = {"eval", "--checkpoint", q, "--test", test, "--all", NULL};
    CHECK(nt_cli_run(a_bad3) == 2 && strstr(nt_cli_err, "go with --task"), "--all without --task: %s", nt_cli_err);

    nt_tsv *t = NULL;
    CHECK(nt_tsv_read(&t, test, NULL) == NT_OK, "read test");
    if (t) {
        /* the test sources, then bad lines: invalid UTF-8, too long, empty */
        size_t cap = 1 << 15, k = 0;
        char *input = malloc(cap);
        for (int i = 0; i < t->n; i++) k += (size_t)snprintf(input + k, cap - k, "%s\n", t->src[i]);
        k += (size_t)snprintf(input + k, cap - k, "4\xc3\x28" "2\n");
        for (int i = 0; i < 80; i++) k += (size_t)snprintf(input + k, cap - k, "1");
        k += (size_t)snprintf(input + k, cap - k, "\n\n%s\n", t->src[0]);
        const char *a_tr[] = {"translate", "--checkpoint", q, NULL};
        /* exit 1 at the end: two lines could not be translated */
        CHECK(nt_cli_run_in(input, a_tr) == 1 && strstr(nt_cli_err, "2 lines could not be translated"), "translate: %s", nt_cli_err);
        char *outs = strdup(nt_cli_out), *split = strdup(nt_cli_out);
        CHECK(count_lines(outs) == t->n + 4, "translate: %d lines for %d inputs", count_lines(outs), t->n + 4);
        CHECK(strstr(nt_cli_err, "invalid UTF-8") && strstr(nt_cli_err, "too long"), "bad lines reported: %s", nt_cli_err);
        /* line by line: the test lines, then empty, empty, empty, the first again */
        int right = 0, i = 0;
        char *lines[128] = {0};
        int n_lines = 0;
        for (char *s = split, *e; *s && n_lines < 128; s = e + 1) {
            e = strchr(s, '\n');
            if (!e) break;
            *e = 0;
            lines[n_lines++] = s;
        }
        for (i = 0; i < t->n && i < n_lines; i++) right += strcmp(lines[i], t->tgt[i]) == 0;
        CHECK(n_lines == t->n + 4 && lines[t->n][0] == 0 && lines[t->n + 1][0] == 0 && lines[t->n + 2][0] == 0 &&
                  strcmp(lines[t->n + 3], lines[0]) == 0 && lines[0][0] != 0,
              "bad lines give empty outputs, the others are translated");
        CHECK(fabs(100.0 * right / t->n - em) < 1e-6, "translate right %d of %d, eval says %.2f%%", right, t->n, em);
        /* batch independence */
        const char *a_tr1[] = {"translate", "--checkpoint", q, "--batch", "1", NULL};
        CHECK(nt_cli_run_in(input, a_tr1) == 1 && strcmp(nt_cli_out, outs) == 0, "--batch 1 gives the same output");
        const char *a_tr7[] = {"translate", "--checkpoint", q, "--batch", "7", NULL};
        CHECK(nt_cli_run_in(input, a_tr7) == 1 && strcmp(nt_cli_out, outs) == 0, "--batch 7 gives the same output");
        /* n-best: 2 lines per source, the best first and equal to beam search's */
        const char *a_nb[] = {"translate", "--checkpoint", q, "--nbest", "2", NULL};
        CHECK(nt_cli_run_in("42\n1917\n", a_nb) == 0, "nbest: %s", nt_cli_err);
        CHECK(count_lines(nt_cli_out) == 4 && count_str(nt_cli_out, " ||| ") == 8 && strncmp(nt_cli_out, "0 ||| ", 6) == 0,
              "nbest output:\n%s", nt_cli_out);
        char nb[4096];
        memcpy(nb, nt_cli_out, sizeof nb - 1);
        nb[sizeof nb - 1] = 0;
        const char *a_beam[] = {"translate", "--checkpoint", q, "--num-beams", "2", NULL};
        CHECK(nt_cli_run_in("42\n1917\n", a_beam) == 0, "beam: %s", nt_cli_err);
        char first[512] = "";
        char *bar = strstr(nb, " ||| "), *bar2 = bar ? strstr(bar + 5, " ||| ") : NULL;
        if (bar && bar2) snprintf(first, sizeof first, "%.*s\n", (int)(bar2 - bar - 5), bar + 5);
        CHECK(first[0] && strncmp(nt_cli_out, first, strlen(first)) == 0, "nbest best = beam output: '%s' vs '%s'", first,
              nt_cli_out);
        /* --input and sampling */
        snprintf(p, sizeof p, "%s/in.txt", nt_scratch);
        CHECK(nt_proc_write_file(p, "42\n1917\n", 8) == 0, "write %s", p);
        const char *a_smp[] = {"translate", "--checkpoint", q, "--input", p, "--do-sample", "--temperature", "0.7",
                               "--top-k", "5", "--top-p", "0.9", "--seed", "4", NULL};
        CHECK(nt_cli_run(a_smp) == 0 && count_lines(nt_cli_out) == 2, "sampling: %s", nt_cli_err);
        char *smp = strdup(nt_cli_out);
        CHECK(nt_cli_run(a_smp) == 0 && strcmp(smp, nt_cli_out) == 0, "sampling with a seed is reproducible");
        free(smp);
        free(outs);
        free(split);
        free(input);
        nt_tsv_free(t);
    }

    /* finetune from run1 on five-digit numbers: a fresh optimizer and
     * schedule (it counts its own steps), starting from run1's weights (with
     * a learning rate of 1e-12 it translates exactly as run1 does) */
    char ftdata[1100], fttrain[1200], ftvalid[1200];
    nt_scratch_path_to(ftdata, sizeof ftdata, "ftdata");
    snprintf(fttrain, sizeof fttrain, "%s/train.tsv", ftdata);
    snprintf(ftvalid, sizeof ftvalid, "%s/valid.tsv", ftdata);
    const char *a_ftdata[] = {"data", "--task", "digits-arabic", "--out", ftdata, "--max", "99999", "--train", "50",
                              "--valid", "10", "--test", "0", "--seed", "9", NULL};
    CHECK(nt_cli_run(a_ftdata) == 0, "data for finetune: %s", nt_cli_err);
    const char *a_ft[] = {"finetune", "--checkpoint", q, "--train", fttrain, "--valid", ftvalid, "--out", ft,
                          "--steps", "3", "--warmup", "0", "--schedule", "constant", "--lr", "1e-12", "--eval-every",
                          "0", "--progress", "off", "--threads", threads, NULL};
    CHECK(nt_cli_run(a_ft) == 0, "finetune: %s", nt_cli_err);
    snprintf(p, sizeof p, "%s/checkpoint-last.h5", ft);
    nt_train_state_init(&ts);
    CHECK(nt_ckpt_load_train(p, &ts) == NT_OK && ts.step == 3, "finetune counts its own steps: %lld",
          (long long)ts.step);
    const char *a_ft_eval[] = {"eval", "--checkpoint", p, "--test", test, "--json", NULL};
    CHECK(nt_cli_run(a_ft_eval) == 0, "eval finetuned: %s", nt_cli_err);
    CHECK(nt_cli_json_num(nt_cli_out, "exact_match") == em, "finetuned from run1's weights: %s", nt_cli_out);
    snprintf(p, sizeof p, "%s/report.html", ft);
    CHECK(exists(p), "finetune wrote its report");

    /* a decoder-only translator goes through the same commands */
    char dec[1100];
    nt_scratch_path_to(dec, sizeof dec, "dec");
    const char *a_dec[] = {"train", "--train", train, "--valid", valid, "--out", dec, "--preset", "tiny", "--arch",
                           "decoder", "--tokenizer", "char", "--steps", "20", "--warmup", "2", "--eval-every", "0",
                           "--eval-exact-max", "5", "--progress", "off", "--threads", threads, NULL};
    CHECK(nt_cli_run(a_dec) == 0, "decoder-only train: %s", nt_cli_err);
    snprintf(p, sizeof p, "%s/checkpoint-last.h5", dec);
    const char *a_dec_inspect[] = {"inspect", p, NULL};
    CHECK(nt_cli_run(a_dec_inspect) == 0 && strstr(nt_cli_out, "decoder (decoder-only)") &&
              strstr(nt_cli_out, "layers:       0 encoder, 2 decoder"),
          "decoder-only inspect: %s", nt_cli_out);
    const char *a_dec_tr[] = {"translate", "--checkpoint", p, "--max-new-tokens", "8", NULL};
    CHECK(nt_cli_run_in("42\n\n7\n", a_dec_tr) == 0 && count_lines(nt_cli_out) == 3, "decoder-only translate: %s", nt_cli_err);

    /* report, rewritten from the run folder */
    snprintf(p, sizeof p, "%s/report.html", run1);
    remove(p);
    const char *a_rep[] = {"report", run1, NULL};
    CHECK(nt_cli_run(a_rep) == 0 && exists(p), "report: %s", nt_cli_err);
    html = nt_proc_read_file(p, NULL);
    CHECK(html && count_str(html, "<svg") >= 4 && count_str(html, "class=\"heatmap\"") >= 1, "report content");
    CHECK(html && strstr(html, "(reference: ") && strstr(html, "% at step"),
          "samples beside their references, the best metric with its %%");
    free(html);

    nt_scratch_end();
    return nt_check_report("test_cli_translate");
}
