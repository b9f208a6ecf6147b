/* test_cli_lm.c - nextok-lm end to end through the real binary ($NT_BIN): a
 * tiny character model on 20 KB of Tiny Shakespeare learns (the loss falls
 * below a stated value), resumes bitwise exactly, samples the same text for
 * the same seed at 1 and 2 threads, its cached and uncached samplers agree
 * on the logits, eval's figures agree with each other, and bad input gets a
 * clear message and a non-zero exit. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/tensor.h"
#include "nn/model.h"
#include "support/check.h"
#include "support/fixtures.h"
#include "support/cli_run.h"
#include "support/models.h"
#include "support/proc.h"
#include "support/scratch.h"
#include "train/checkpoint.h"

/* The number after "key=" in s, NAN if absent. */
static double kv_num(const char *s, const char *key) {
    char pat[64];
    snprintf(pat, sizeof pat, "%s=", key);
    const char *p = strstr(s, pat);
    return p ? strtod(p + strlen(pat), NULL) : NAN;
}

/* Largest |a - b| / (1 + |b|) over two logit dumps of the same length; -1 if
 * they cannot be compared. -inf entries must match exactly. */
static double dump_diff(const char *pa, const char *pb, size_t *floats) {
    size_t na, nb;
    char *a = nt_proc_read_file(pa, &na), *b = nt_proc_read_file(pb, &nb);
    double worst = -1;
    if (a && b && na == nb && na % sizeof(float) == 0 && na > 0) {
        worst = 0;
        const float *x = (const float *)a, *y = (const float *)b;
        *floats = na / sizeof(float);
        for (size_t i = 0; i < *floats; i++) {
            if (isinf(x[i]) || isinf(y[i])) {
                if (x[i] != y[i]) worst = INFINITY;
                continue;
            }
            double d = fabs((double)x[i] - y[i]) / (1 + fabs((double)y[i]));
            if (!(d <= worst)) worst = d;
        }
    }
    free(a), free(b);
    return worst;
}

int main(void) {
    nt_cli_use("nextok-lm");
    char text[1100];
    nt_fixture_path_to(text, sizeof text, "shakespeare-20k.txt");
    CHECK(nt_scratch_begin("nt_cli_lm"), "mkdtemp");
    const int sanitized = getenv("NT_SANITIZED") != NULL;
    setenv("OMP_WAIT_POLICY", "passive", 0);
    const char *threads = sanitized ? "1" : "2";
    char run1[1100], run2[1100], best[1200], last[1200], p[1200], q[1200];
    nt_scratch_path_to(run1, sizeof run1, "run1");
    nt_scratch_path_to(run2, sizeof run2, "run2");

    /* train: a tiny model (2 layers x 64, context 32) for 300 updates of
     * 16 windows; the fixture has 58 characters (+ 5 specials: V = 63), so the initial loss is ln(63) = 4.14 */
    const char *steps = sanitized ? "150" : "300", *half = sanitized ? "75" : "150";
    const char *a_train[] = {"train", "--text", text, "--out", run1, "--preset", "test", "--steps", steps,
                             "--warmup", "20", "--lr", "3e-3", "--lr-min", "1e-3", "--eval-every", half,
                             "--eval-iters", "4", "--log-every", "10", "--dropout", "0.1", "--progress", "off",
                             "--threads", threads, "--seed", "5", NULL};
    CHECK(nt_cli_run(a_train) == 0, "train: %s", nt_cli_err);
    double val = kv_num(nt_cli_out, "val_loss"), tr = kv_num(nt_cli_out, "train_loss");
    const double stated = sanitized ? 2.8 : 2.45;
    CHECK(val < stated && tr < stated, "training lowered the loss: validation %g, training %g, expected < %g\n%s",
          val, tr, stated, nt_cli_err);
    CHECK(kv_num(nt_cli_out, "step") == atoi(steps), "summary line: %s", nt_cli_out);
    snprintf(best, sizeof best, "%s/checkpoint-best.h5", run1);
    snprintf(last, sizeof last, "%s/checkpoint-last.h5", run1);
    snprintf(p, sizeof p, "%s/metrics.jsonl", run1);
    char *metrics = nt_proc_read_file(p, NULL);
    CHECK(metrics && strstr(metrics, "\"type\":\"eval\"") && strstr(metrics, "\"type\":\"train\""), "metrics.jsonl: %s",
          metrics ? metrics : "(missing)");
    free(metrics);
    snprintf(p, sizeof p, "%s/report.html", run1);
    char *html = nt_proc_read_file(p, NULL);
    CHECK(html && strstr(html, "<svg") && strstr(html, "2 layers x 64"), "report.html");
    free(html);
    CHECK(nt_cli_run(a_train) != 0 && strstr(nt_cli_err, "--overwrite"), "train over a run: %s", nt_cli_err);

    /* resume: stopped at half the updates and resumed == straight through */
    const char *a_stop[] = {"train", "--text", text, "--out", run2, "--preset", "test", "--steps", steps,
                            "--warmup", "20", "--lr", "3e-3", "--lr-min", "1e-3", "--eval-every", half,
                            "--eval-iters", "4", "--log-every", "10", "--dropout", "0.1", "--progress", "off",
                            "--threads", threads, "--seed", "5", "--stop-after", "70", NULL};
    CHECK(nt_cli_run(a_stop) == 0 && strstr(nt_cli_err, "--resume"), "stopped run: %s", nt_cli_err);
    snprintf(p, sizeof p, "%s/checkpoint-last.h5", run2);
    nt_train_state ts;
    nt_train_state_init(&ts);
    CHECK(nt_ckpt_load_train(p, &ts) == NT_OK && ts.step == 70, "stopped at step %lld", (long long)ts.step);
    CHECK(!nt_test_same_weights(p, last), "the stopped run differs from the finished one");
    const char *a_low[] = {"train", "--resume", run2, "--steps", "70", NULL};
    CHECK(nt_cli_run(a_low) == 2 && strstr(nt_cli_err, "already"), "resume to a reached step: %s", nt_cli_err);
    const char *a_big[] = {"train", "--resume", run2, "--block-size", "64", NULL};
    CHECK(nt_cli_run(a_big) == 2 && strstr(nt_cli_err, "--block-size 64 exceeds the model's context of 32"),
          "resume with a longer context: %s", nt_cli_err);
    const char *a_resume[] = {"train", "--resume", run2, "--threads", threads, NULL};
    CHECK(nt_cli_run(a_resume) == 0, "resume: %s", nt_cli_err);
    CHECK(kv_num(nt_cli_out, "step") == atoi(steps), "resumed summary: %s", nt_cli_out);
    CHECK(nt_test_same_weights(p, last), "resumed run ends with the uninterrupted run's weights");
    snprintf(q, sizeof q, "%s/checkpoint-best.h5", run2);
    CHECK(nt_test_same_weights(q, best), "and the same best checkpoint");

    /* sampling: same seed, same text, at 1 and 2 threads; past the context */
    static char s1[1 << 16], s2[1 << 16];
    const char *a_sample[] = {"sample", "--checkpoint", best, "--prompt", "ROMEO:\n", "--max-new-tokens", "100",
                              "--seed", "7", NULL};
    const char *env1[] = {"OMP_NUM_THREADS=1", NULL}, *env2[] = {"OMP_NUM_THREADS=2", NULL};
    CHECK(nt_cli_run_env(env2, a_sample) == 0, "sample: %s", nt_cli_err);
    snprintf(s1, sizeof s1, "%s", nt_cli_out);
    CHECK(strncmp(s1, "ROMEO:\n", 7) == 0 && strlen(s1) >= 7 + 100 + 1, "sample output: \"%s\"", s1);
    CHECK(nt_cli_run_env(env2, a_sample) == 0 && strcmp(nt_cli_out, s1) == 0, "sampled twice:\n%s\n---\n%s", s1, nt_cli_out);
    CHECK(nt_cli_run_env(env1, a_sample) == 0 && strcmp(nt_cli_out, s1) == 0, "1 thread vs 2:\n%s\n---\n%s", s1, nt_cli_out);
    const char *a_seed[] = {"sample", "--checkpoint", best, "--prompt", "ROMEO:\n", "--max-new-tokens", "100",
                            "--seed", "8", NULL};
    CHECK(nt_cli_run(a_seed) == 0 && strcmp(nt_cli_out, s1) != 0, "another seed, the same text");
    const char *a_two[] = {"sample", "--checkpoint", best, "--max-new-tokens", "40", "--num-samples", "2", NULL};
    CHECK(nt_cli_run(a_two) == 0 && strstr(nt_cli_out, "\n---------------\n"), "two samples: %s", nt_cli_out);

    /* the cached sampler agrees with the uncached one on every step's logits,
     * the context overflowing twice (keep 32 and keep 20) */
    const char *keeps[] = {"32", "20"};
    for (int k = 0; k < 2; k++) {
        char da[1200], db[1200];
        snprintf(da, sizeof da, "%s/cached-%d.f32", nt_scratch, k);
        snprintf(db, sizeof db, "%s/uncached-%d.f32", nt_scratch, k);
        const char *a_c[] = {"sample", "--checkpoint", best, "--prompt", "First Citizen:", "--max-new-tokens", "60",
                             "--seed", "3", "--keep", keeps[k], "--dump-logits", da, NULL};
        const char *a_u[] = {"sample", "--checkpoint", best, "--prompt", "First Citizen:", "--max-new-tokens", "60",
                             "--seed", "3", "--keep", keeps[k], "--dump-logits", db, "--no-cache", NULL};
        CHECK(nt_cli_run(a_c) == 0, "cached sample: %s", nt_cli_err);
        snprintf(s2, sizeof s2, "%s", nt_cli_out);
        CHECK(nt_cli_run(a_u) == 0, "uncached sample: %s", nt_cli_err);
        CHECK(strcmp(s2, nt_cli_out) == 0, "keep %s: cached and uncached texts differ:\n%s\n---\n%s", keeps[k], s2, nt_cli_out);
        size_t nf = 0;
        double d = dump_diff(da, db, &nf);
        CHECK(d >= 0 && d < 1e-4 && nf == 60 * 63, "keep %s: logits differ by %g (%zu floats)", keeps[k], d, nf);
    }

    /* eval: the whole fixture; bits per character = loss / ln 2 for characters */
    const char *a_eval[] = {"eval", "--checkpoint", best, "--text", text, "--json", NULL};
    CHECK(nt_cli_run(a_eval) == 0, "eval: %s", nt_cli_err);
    double loss = nt_cli_json_num(nt_cli_out, "loss"), bpc = nt_cli_json_num(nt_cli_out, "bpc"), ppl = nt_cli_json_num(nt_cli_out, "ppl");
    double toks = nt_cli_json_num(nt_cli_out, "tokens"), chars = nt_cli_json_num(nt_cli_out, "characters");
    CHECK(loss > 0.5 && loss < stated + 0.4, "eval loss %g", loss);
    CHECK(fabs(bpc - loss / log(2.0)) < 1e-5 && fabs(ppl - exp(loss)) < 1e-4 * ppl, "eval figures: %s", nt_cli_out);
    CHECK(toks == chars && toks == 19995, "eval counted %g tokens, %g characters (19,996 in the file)", toks, chars);
    /* the validation part as train split it: tokens from int(19996 * 0.9) = 17996 */
    const char *a_evalv[] = {"eval", "--checkpoint", best, "--text", text, "--valid-fraction", "0.1", "--json", NULL};
    CHECK(nt_cli_run(a_evalv) == 0 && nt_cli_json_num(nt_cli_out, "from_token") == 17996 && nt_cli_json_num(nt_cli_out, "tokens") == 1999,
          "eval of the validation part: %s%s", nt_cli_out, nt_cli_err);

    /* bad input: a clear message and a non-zero exit, never a crash */
    char empty[1200], badutf[1200], run3[1200];
    nt_scratch_path_to(empty, sizeof empty, "empty.txt");
    nt_scratch_path_to(badutf, sizeof badutf, "bad.txt");
    nt_scratch_path_to(run3, sizeof run3, "run3");
    nt_proc_write_file(empty, "", 0);
    nt_proc_write_file(badutf, "Hello\nwor\xffld\n", 12);
    const char *a_empty[] = {"train", "--text", empty, "--out", run3, "--preset", "test", "--steps", "5", NULL};
    CHECK(nt_cli_run(a_empty) == 1 && strstr(nt_cli_err, "empty.txt is empty"), "empty text: %s", nt_cli_err);
    const char *a_bad[] = {"train", "--text", badutf, "--out", run3, "--preset", "test", "--steps", "5", NULL};
    CHECK(nt_cli_run(a_bad) == 1 && strstr(nt_cli_err, "line 2, column 4") && strstr(nt_cli_err, "invalid UTF-8"),
          "invalid UTF-8: %s", nt_cli_err);
    const char *a_ebad[] = {"eval", "--checkpoint", best, "--text", badutf, NULL};
    CHECK(nt_cli_run(a_ebad) == 1 && strstr(nt_cli_err, "invalid UTF-8"), "eval of invalid UTF-8: %s", nt_cli_err);
    const char *a_unk[] = {"sample", "--checkpoint", best, "--prompt", "ROMEO\xe2\x82\xac", NULL};
    CHECK(nt_cli_run(a_unk) == 1 && strstr(nt_cli_err, "column 6") && strstr(nt_cli_err, "not in the model's vocabulary"),
          "prompt out of the vocabulary: %s", nt_cli_err);
    const char *a_ctx[] = {"eval", "--checkpoint", best, "--text", text, "--block-size", "33", NULL};
    CHECK(nt_cli_run(a_ctx) == 2 && strstr(nt_cli_err, "--block-size 33 exceeds the model's context of 32"),
          "eval block size: %s", nt_cli_err);
    const char *a_short[] = {"train", "--text", empty, "--out", run3, "--steps", "5", "--block-size", "30000", NULL};
    CHECK(nt_cli_run(a_short) == 1, "empty text, big block: %s", nt_cli_err);
    const char *a_tiny[] = {"train", "--text", badutf, NULL};
    CHECK(nt_cli_run(a_tiny) == 2 && strstr(nt_cli_err, "--out is required"), "no --out: %s", nt_cli_err);
    const char *a_opt[] = {"sample", "--checkpoint", best, "--top-p", "0", NULL};
    CHECK(nt_cli_run(a_opt) == 2 && strstr(nt_cli_err, "--top-p"), "top-p 0: %s", nt_cli_err);
    const char *a_unknown[] = {"train", "--txt", text, NULL};
    CHECK(nt_cli_run(a_unknown) == 2 && strstr(nt_cli_err, "unknown option \"--txt\"") && strlen(nt_cli_err) < 200,
          "unknown option: %s", nt_cli_err);
    /* usage errors (core/opts): one message, one line pointing to --help, exit 2 */
    CHECK(strstr(nt_cli_err, "Try 'nextok-lm train --help'.") != NULL, "usage error without the --help line: %s",
          nt_cli_err);
    const char *a_noeval[] = {"eval", "--text", text, NULL};
    CHECK(nt_cli_run(a_noeval) == 2 && strstr(nt_cli_err, "nextok-lm eval: --checkpoint is required\nTry 'nextok-lm eval --help'."),
          "eval without --checkpoint: %s", nt_cli_err);
    const char *a_enum[] = {"train", "--text", text, "--out", run3, "--optim", "lion", NULL};
    CHECK(nt_cli_run(a_enum) == 2 && strstr(nt_cli_err, "--optim") && strstr(nt_cli_err, "lion") && strstr(nt_cli_err, "adamw"),
          "bad --optim: %s", nt_cli_err);
    const char *a_preset[] = {"train", "--text", text, "--out", run3, "--preset", "huge", NULL};
    CHECK(nt_cli_run(a_preset) == 2 && strstr(nt_cli_err, "unknown preset \"huge\"") && strstr(nt_cli_err, "nanogpt-cpu") &&
              strstr(nt_cli_err, "Try 'nextok-lm train --help'."),
          "bad --preset: %s", nt_cli_err);
    const char *a_cmd[] = {"trian", NULL};
    CHECK(nt_cli_run(a_cmd) == 2 && strstr(nt_cli_err, "unknown command \"trian\"") && strstr(nt_cli_err, "Try 'nextok-lm --help'."),
          "unknown command: %s", nt_cli_err);
    /* --help: exit 0, every command's table, the presets, the trainer's defaults, the OpenMP policy */
    const char *h_train[] = {"train", "--help", NULL}, *h_sample[] = {"sample", "-h", NULL},
               *h_eval[] = {"eval", "--help", NULL};
    char policy[64];
    snprintf(policy, sizeof policy, "%s", getenv("OMP_WAIT_POLICY") ? getenv("OMP_WAIT_POLICY") : "");
    unsetenv("OMP_WAIT_POLICY"); /* unset: nextok-lm sets passive or a spin count (by the load) and re-executes itself */
    CHECK(nt_cli_run(h_train) == 0 && strstr(nt_cli_out, "--steps N") && strstr(nt_cli_out, "(default 2000)") &&
              strstr(nt_cli_out, "nanogpt-cpu: ") && strstr(nt_cli_out, "--stop-after N") &&
              (strstr(nt_cli_out, "OMP_WAIT_POLICY=passive, set by nextok-lm: the machine was busy") ||
               strstr(nt_cli_out, "GOMP_SPINCOUNT=100000, set by nextok-lm: the machine was quiet")),
          "train --help: %s", nt_cli_out);
    setenv("OMP_WAIT_POLICY", policy, 1);
    const char *env_active[] = {"OMP_WAIT_POLICY=active", NULL};
    CHECK(nt_cli_run_env(env_active, h_eval) == 0 && strstr(nt_cli_out, "OMP_WAIT_POLICY=active, from your environment"),
          "eval --help with OMP_WAIT_POLICY=active: %s", nt_cli_out);
    CHECK(nt_cli_run(h_sample) == 0 && strstr(nt_cli_out, "--top-p P") && strstr(nt_cli_out, "(default 0.8)"),
          "sample --help: %s", nt_cli_out);
    CHECK(nt_cli_run(h_eval) == 0 && strstr(nt_cli_out, "--valid-fraction X") && strstr(nt_cli_out, "(default 16)"),
          "eval --help: %s", nt_cli_out);
    const char *a_nock[] = {"sample", "--checkpoint", text, NULL};
    CHECK(nt_cli_run(a_nock) == 1 && strstr(nt_cli_err, "shakespeare-20k.txt"), "not a checkpoint: %s", nt_cli_err);
    nt_proc_write_file(badutf, "abc", 3);
    const char *a_shorttext[] = {"train", "--text", badutf, "--out", run3, "--preset", "test", NULL};
    CHECK(nt_cli_run(a_shorttext) == 1 && strstr(nt_cli_err, "shorter than one window"), "a 3-character text: %s", nt_cli_err);

    nt_scratch_end();
    return nt_check_report("test_cli_lm");
}
