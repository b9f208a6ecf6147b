/* test_cli_digits.c - nextok-translate with a word checkpoint of a digits
 * task: the word tokenizer's digit rule (split_digits, data/tokenizer.h) as
 * the CLI meets it. `inspect` names the rule; the number task's input
 * normalisation stays on (" 42 ", "080", "1,234", "80 000" read as numbers,
 * "1.5" refused naming "."); a checkpoint without the /vocab attribute keeps
 * DESIGN.md's rule (digit runs whole), and finetune --extend-vocab keeps
 * either rule. The model is untrained: only what the
 * tokenizer and the normaliser decide is checked, not the translations. */
#include <stdio.h>
#include <string.h>

#include "core/rng.h"
#include "data/number_corpus.h"
#include "data/tokenizer.h"
#include "support/check.h"
#include "support/cli_run.h"
#include "support/proc.h"
#include "support/scratch.h"
#include "train/checkpoint.h"

/* A digits-en word checkpoint at path; split 0 drops the rule before saving
 * (a file as written before split_digits existed). */
static int make_checkpoint(const char *path, int split) {
    enum { N = 1200 };
    static char text[2][N][NT_NUMBER_CORPUS_MAX_TEXT];
    const char *all[2 * N];
    for (int i = 0; i < N; i++) {
        int x = i < 1000 ? i : (i - 1000) * 4999 + 1000; /* 0..999, then up to 995,801 */
        nt_number_corpus_render(NT_NUMBER_FORM_DIGITS, x, text[0][i], sizeof text[0][i]);
        nt_number_corpus_render(NT_NUMBER_FORM_EN, x, text[1][i], sizeof text[1][i]);
        all[2 * i] = text[0][i], all[2 * i + 1] = text[1][i];
    }
    nt_vocab *v = NULL;
    nt_model *m = NULL;
    int ok = nt_vocab_build(&v, NT_TOKENIZER_WORD, all, 2 * N, 1) == NT_OK;
    nt_model_config mc = nt_model_config_default();
    mc.vocab_size = nt_vocab_size(v), mc.d_model = 16, mc.heads = 2, mc.enc_layers = 1, mc.dec_layers = 1;
    mc.max_len = 24;
    ok = ok && nt_model_new(&m, &mc) == NT_OK;
    if (ok) {
        nt_rng r;
        nt_rng_seed(&r, 1);
        nt_model_init(m, &r);
        if (!split) nt_vocab_set_split_digits(v, 0);
        ok = nt_ckpt_export(path, &m->net, v) == NT_OK;
    }
    if (!ok) fprintf(stderr, "make_checkpoint: %s\n", nt_errmsg());
    nt_model_free(m);
    nt_vocab_free(v);
    return ok;
}

int main(void) {
    nt_cli_use("nextok-translate");
    CHECK(nt_scratch_begin("nt_cli_digits"), "mkdtemp");
    char ck[1100], old[1100];
    nt_scratch_path_to(ck, sizeof ck, "digits-en.h5");
    nt_scratch_path_to(old, sizeof old, "digits-en-old.h5");
    CHECK(make_checkpoint(ck, 1) && make_checkpoint(old, 0), "checkpoints");

    const char *a_inspect[] = {"inspect", ck, NULL};
    CHECK(nt_cli_run(a_inspect) == 0 && strstr(nt_cli_out, "word tokenizer") &&
              strstr(nt_cli_out, "digits:       split_digits"),
          "inspect names the rule:\n%s%s", nt_cli_out, nt_cli_err);
    const char *a_inspect_old[] = {"inspect", old, NULL};
    CHECK(nt_cli_run(a_inspect_old) == 0 && strstr(nt_cli_out, "digit runs are part of their word"),
          "inspect of an old checkpoint:\n%s%s", nt_cli_out, nt_cli_err);

    /* the demo's digits lines, as people type them: all read as numbers */
    const char *a_tr[] = {"translate", "--checkpoint", ck, "--threads", "1", NULL};
    int rc = nt_cli_run_in(" 42 \n080\n1,234\n80 000\n7\n", a_tr);
    CHECK(rc == 0 && !strstr(nt_cli_err, "not in the vocabulary"), "typed digits: exit %d, stderr: %s", rc, nt_cli_err);
    /* "1.5" names no number: refused, naming the token the vocabulary lacks */
    rc = nt_cli_run_in("42\n1.5\n", a_tr);
    CHECK(rc != 0 && strstr(nt_cli_err, "line 2") && strstr(nt_cli_err, "\".\"") && !strstr(nt_cli_err, "line 1"),
          "1.5: exit %d, stderr: %s", rc, nt_cli_err);
    /* without the normaliser " 42 " keeps its spaces: a bare ▁ the vocabulary
     * lacks (what shows that the normaliser is what read it above) */
    const char *a_raw[] = {"translate", "--checkpoint", ck, "--threads", "1", "--no-normalize", NULL};
    rc = nt_cli_run_in(" 42 \n", a_raw);
    CHECK(rc != 0 && strstr(nt_cli_err, "not in the vocabulary"), "--no-normalize: exit %d, stderr: %s", rc,
          nt_cli_err);

    /* no split_digits attribute: DESIGN.md's rule, so "42" is the one word
     * "▁42", which this vocabulary (of split digits) lacks; the vocabulary
     * then is no number model's either (an <unk> note, not an error line) */
    const char *a_tr_old[] = {"translate", "--checkpoint", old, "--threads", "1", NULL};
    rc = nt_cli_run_in("42\n", a_tr_old);
    CHECK(strstr(nt_cli_err, "not in the vocabulary (read as <unk>)") && strstr(nt_cli_err, "\"42\""),
          "old rule: exit %d, stderr: %s", rc, nt_cli_err);

    /* finetune --extend-vocab keeps the checkpoint's rule: the new vocabulary
     * (one more word) still splits digits, and an old one still does not */
    char tsv[1100], run[1100], run_old[1100], ck2[1200];
    nt_scratch_path_to(tsv, sizeof tsv, "new.tsv");
    nt_scratch_path_to(run, sizeof run, "ft");
    nt_scratch_path_to(run_old, sizeof run_old, "ft-old");
    const char *pairs = "42\tforty-two\n7\tseven!\n"; /* "!": a word the vocabulary lacks */
    CHECK(nt_proc_write_file(tsv, pairs, strlen(pairs)) == 0, "write %s", tsv);
    for (int k = 0; k < 2; k++) {
        const char *a_ft[] = {"finetune", "--checkpoint", k ? old : ck, "--train", tsv, "--valid", tsv, "--out",
                              k ? run_old : run, "--extend-vocab", "--steps", "1", "--threads", "1",
                              "--progress", "off", NULL};
        rc = nt_cli_run(a_ft);
        CHECK(rc == 0, "finetune %s: exit %d, stderr: %s", k ? "old" : "new", rc, nt_cli_err);
        snprintf(ck2, sizeof ck2, "%s/checkpoint-last.h5", k ? run_old : run);
        const char *a_in[] = {"inspect", ck2, NULL};
        CHECK(nt_cli_run(a_in) == 0 && strstr(nt_cli_out, k ? "digit runs are part of their word" : "digits:       split_digits"),
              "finetuned %s checkpoint:\n%s%s", k ? "old" : "new", nt_cli_out, nt_cli_err);
    }

    nt_scratch_end();
    return nt_check_report("test_cli_digits");
}
