/* test_lm_spm.c - nextok-lm's subword tokenizer (SentencePiece in raw-text
 * mode) and its losses per character, on the 20 KB Shakespeare fixture:
 *  - the tokenizer is lossless on raw text (newlines, runs of spaces, leading
 *    and trailing spaces, tabs, characters it never saw: byte fallback), its
 *    token texts add up to the text and their character counts to its code
 *    points; it is learned from the training part only, deterministically;
 *  - the streaming writer prints whole UTF-8 characters only;
 *  - `nextok-lm train --tokenizer spm` runs, resumes bitwise exactly, its
 *    checkpoint alone samples (same seed, same text, valid UTF-8) and
 *    evaluates; eval's per-character loss equals the total cross-entropy
 *    computed here by hand over the characters; for the char tokenizer the
 *    per-character loss is exactly the per-token one;
 *  - bad input gets a clear message. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/ctx.h"
#include "core/tensor.h"
#include "data/tsv.h" /* nt_utf8_valid */
#include "examples/lm/lm.h"
#include "nn/model.h"
#include "support/check.h"
#include "support/cli_run.h"
#include "support/models.h"
#include "support/proc.h"
#include "support/scratch.h"
#include "train/checkpoint.h"

/* The number after "key=" in s, NAN if absent. */
static double kv_num(const char *s, const char *key) {
    char pat[64];
    snprintf(pat, sizeof pat, " %s=", key);
    const char *p = strstr(s, pat);
    if (!p && strncmp(s, pat + 1, strlen(pat + 1)) == 0) p = s - 1;
    return p ? strtod(p + strlen(pat), NULL) : NAN;
}

/* The concatenated token texts of ids. */
static char *join(const lm_tokens *tk, const int32_t *ids, int64_t n, int64_t *chars) {
    size_t len = 0;
    for (int64_t i = 0; i < n; i++) len += (size_t)tk->len[ids[i]];
    char *s = malloc(len + 1), *p = s;
    *chars = 0;
    for (int64_t i = 0; i < n; i++) {
        memcpy(p, tk->text[ids[i]], (size_t)tk->len[ids[i]]);
        p += tk->len[ids[i]];
        *chars += tk->chars[ids[i]];
    }
    *p = 0;
    return s;
}

static int64_t code_points(const char *s) {
    int64_t n = 0;
    for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* Round trip of s under v: ids -> token texts == s, ids -> nt_vocab_decode == s. */
static void round_trip(const nt_vocab *v, const lm_tokens *tk, const char *s, const char *what) {
    lm_text t;
    CHECK(lm_text_from_string(&t, what, s, 0) == NT_OK, "%s: %s", what, nt_errmsg());
    int32_t *ids = NULL;
    int64_t n = 0, n_train = 0, chars = 0;
    CHECK(lm_text_encode_split(&t, v, t.len, &ids, &n, &n_train) == NT_OK && n_train == n, "%s: encode: %s", what,
          nt_errmsg());
    char *back = join(tk, ids, n, &chars);
    CHECK(strcmp(back, s) == 0, "%s: token texts give \"%s\", expected \"%s\"", what, back, s);
    CHECK(chars == code_points(s), "%s: tokens cover %lld characters, the text has %lld", what, (long long)chars,
          (long long)code_points(s));
    size_t cap = strlen(s) * 4 + 16;
    char *dec = malloc(cap);
    CHECK(nt_vocab_decode(v, ids, (int)n, dec, cap) == NT_OK && strcmp(dec, s) == 0,
          "%s: SentencePiece decodes \"%s\"", what, dec);
    free(dec), free(back), nt_free(ids);
    lm_text_free(&t);
}

/* What the writer prints for a sequence of byte chunks. */
static void writer_case(const char *const *chunks, int n, const char *expect, const char *what) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    lm_tokens none = {0};
    lm_writer w;
    lm_writer_start(&w, f, &none);
    for (int i = 0; i < n; i++) {
        lm_writer_bytes(&w, chunks[i], strlen(chunks[i]));
        fflush(f);
        size_t bad;
        CHECK(nt_utf8_valid(buf, len, &bad), "%s: after chunk %d the output is not valid UTF-8", what, i);
    }
    lm_writer_end(&w);
    fclose(f);
    CHECK(strcmp(buf, expect) == 0, "%s: wrote \"%s\", expected \"%s\"", what, buf, expect);
    free(buf);
}

/* Total cross-entropy (nats) of the model over ids[0 .. n), one window. */
static double nats_by_hand(nt_model *m, const int32_t *ids, int n) {
    nt_ctx *ctx;
    nt_tensor *tgt, *lg;
    if (nt_ctx_new(&ctx, 0) != NT_OK) return NAN;
    nt_ctx_set_grad(ctx, 0);
    nt_ctx_set_training(ctx, 0);
    double nats = NAN;
    if (nt_tensor_wrap(ctx, &tgt, NT_I32, 2, (int[]){1, n - 1}, (void *)ids) == NT_OK &&
        nt_model_decode(m, ctx, &lg, tgt, NULL, NULL, NULL, NULL, NULL, 0) == NT_OK) {
        int V = lg->shape[2];
        nats = 0;
        for (int t = 0; t < n - 1; t++) {
            const float *row = nt_f32(lg) + (size_t)t * V;
            double mx = row[0], z = 0;
            for (int k = 1; k < V; k++) mx = row[k] > mx ? row[k] : mx;
            for (int k = 0; k < V; k++) z += exp(row[k] - mx);
            nats += mx + log(z) - row[ids[t + 1]];
        }
    }
    nt_ctx_free(ctx);
    return nats;
}

int main(void) {
    const char *fx = getenv("NT_FIXTURES");
    nt_cli_use("nextok-lm");
    char text[1100];
    snprintf(text, sizeof text, "%s/shakespeare-20k.txt", fx ? fx : "tests/fixtures");
    CHECK(nt_scratch_begin("nt_lm_spm"), "mkdtemp");
    setenv("OMP_WAIT_POLICY", "passive", 0);
    const int sanitized = getenv("NT_SANITIZED") != NULL;
    const char *threads = sanitized ? "1" : "2";

    /* ---- the tokenizer ---- */
    lm_text t;
    CHECK(lm_text_read(&t, text) == NT_OK, "%s", nt_errmsg());
    size_t cut;
    int64_t chars;
    lm_text_split(&t, 0.1, &cut, &chars);
    CHECK(chars == 19996 && code_points(t.bytes) == chars, "the fixture has %lld characters", (long long)chars);
    lm_spm_config sp = {.vocab_size = 400, .type = NT_SPM_UNIGRAM, .seed = 1};
    nt_vocab *v = NULL, *v2 = NULL;
    CHECK(lm_vocab_build(&v, NT_TOKENIZER_SPM, &t, cut, &sp) == NT_OK, "spm: %s", nt_errmsg());
    CHECK(v && nt_vocab_size(v) == 400 && nt_vocab_kind(v) == NT_TOKENIZER_SPM, "an spm vocabulary of 400");
    lm_tokens tk;
    CHECK(lm_tokens_new(&tk, v) == NT_OK, "tokens: %s", nt_errmsg());
    /* lossless: the whole fixture (newlines, blank lines) and raw-text corner cases */
    round_trip(v, &tk, t.bytes, "the fixture");
    round_trip(v, &tk, "  two leading spaces\n\n\nthree newlines,   three spaces, a tab\there, trailing  ", "spaces");
    round_trip(v, &tk, "\n", "a newline");
    round_trip(v, &tk, " ", "a space");
    round_trip(v, &tk, "na\xc3\xafve caf\xc3\xa9 \xe2\x98\x83 \xf0\x9d\x84\x9e \xe4\xb8\xad\xe6\x96\x87\r\n", "unseen characters");
    /* the split: the last 10% of the characters, each part encoded on its own */
    int32_t *ids = NULL;
    int64_t n = 0, n_train = 0, c1 = 0, c2 = 0;
    CHECK(lm_text_encode_split(&t, v, cut, &ids, &n, &n_train) == NT_OK, "%s", nt_errmsg());
    char *a = join(&tk, ids, n_train, &c1), *b = join(&tk, ids + n_train, n - n_train, &c2);
    CHECK(strlen(a) == cut && strncmp(a, t.bytes, cut) == 0 && strcmp(b, t.bytes + cut) == 0,
          "the parts decode to the text before and after the cut");
    CHECK(c1 == 17996 && c2 == 2000, "parts of %lld and %lld characters, expected 17996 and 2000", (long long)c1,
          (long long)c2);
    CHECK(n < chars * 3 / 4, "subwords: %lld tokens for %lld characters", (long long)n, (long long)chars);
    free(a), free(b);
    /* learned from the training part only, deterministically: a different validation part, the same model */
    lm_text t2;
    char *other = malloc(t.len + 1);
    memcpy(other, t.bytes, t.len + 1);
    for (size_t i = cut; i < t.len; i++)
        if (other[i] >= 'a' && other[i] <= 'z') other[i] = 'z';
    CHECK(lm_text_from_string(&t2, "changed", other, 0) == NT_OK, "%s", nt_errmsg());
    CHECK(lm_vocab_build(&v2, NT_TOKENIZER_SPM, &t2, cut, &sp) == NT_OK, "%s", nt_errmsg());
    const uint8_t *b1, *b2;
    size_t n1, n2;
    nt_spm_bytes(nt_vocab_spm(v), &b1, &n1);
    nt_spm_bytes(nt_vocab_spm(v2), &b2, &n2);
    CHECK(n1 == n2 && memcmp(b1, b2, n1) == 0, "the model depends on the validation text (%zu vs %zu bytes)", n1, n2);
    nt_vocab_free(v2), v2 = NULL;
    /* ... and on the training part */
    for (size_t i = 0; i < cut; i++)
        if (other[i] == 'e') other[i] = 'q';
    lm_text_free(&t2);
    CHECK(lm_text_from_string(&t2, "changed", other, 0) == NT_OK, "%s", nt_errmsg());
    CHECK(lm_vocab_build(&v2, NT_TOKENIZER_SPM, &t2, cut, &sp) == NT_OK, "%s", nt_errmsg());
    nt_spm_bytes(nt_vocab_spm(v2), &b2, &n2);
    CHECK(n1 != n2 || memcmp(b1, b2, n1) != 0, "the model ignores its training text");
    nt_vocab_free(v2), v2 = NULL;
    lm_text_free(&t2);
    free(other);
    /* too many pieces for the text: SentencePiece's reason, with ours */
    sp.vocab_size = 20000;
    CHECK(lm_vocab_build(&v2, NT_TOKENIZER_SPM, &t, cut, &sp) != NT_OK && strstr(nt_errmsg(), "20000") &&
              strstr(nt_errmsg(), "shakespeare-20k.txt"),
          "vocabulary too large: %s", nt_errmsg());
    nt_free(ids);

    /* ---- the streaming writer: whole characters only ---- */
    const char *snow[] = {"a\xe2", "\x98", "\x83", "b"};
    writer_case(snow, 4, "a\xe2\x98\x83" "b", "a character split over three tokens");
    const char *stray[] = {"x\x80y"};
    writer_case(stray, 1, "x\xef\xbf\xbdy", "a stray continuation byte");
    const char *cutshort[] = {"\xc3", "z"};
    writer_case(cutshort, 2, "\xef\xbf\xbdz", "a character cut short");
    const char *tail[] = {"ok\xf0\x9d"};
    writer_case(tail, 1, "ok\xef\xbf\xbd", "an incomplete character at the end");
    const char *overlong[] = {"\xe0\x80\x80!"};
    writer_case(overlong, 1, "\xef\xbf\xbd!", "an overlong sequence");

    /* ---- nextok-lm train --tokenizer spm, end to end ---- */
    char run1[1100], run2[1100], last1[1200], last2[1200], small[1200];
    nt_scratch_path_to(run1, sizeof run1, "spm1");
    nt_scratch_path_to(run2, sizeof run2, "spm2");
    snprintf(last1, sizeof last1, "%s/checkpoint-last.h5", run1);
    snprintf(last2, sizeof last2, "%s/checkpoint-last.h5", run2);
    const char *steps = "60";
    const char *a_train[] = {"train", "--text", text, "--out", run1, "--preset", "test", "--tokenizer", "spm",
                             "--vocab-size", "400", "--steps", steps, "--warmup", "10", "--lr", "3e-3",
                             "--eval-every", "30", "--eval-iters", "2", "--dropout", "0.1", "--progress", "off",
                             "--threads", threads, "--seed", "5", NULL};
    CHECK(nt_cli_run(a_train) == 0, "spm train: %s", nt_cli_err);
    double val = kv_num(nt_cli_out, "val_loss"), valt = kv_num(nt_cli_out, "val_loss_token");
    CHECK(val > 0 && val < 4.0 && valt > val * 1.2, "spm: validation %g per character, %g per token: %s", val, valt,
          nt_cli_out);
    CHECK(strstr(nt_cli_err, "SentencePiece unigram, 400 pieces"), "the model line: %s", nt_cli_err);
    /* resume: stopped and resumed == straight through */
    const char *a_stop[] = {"train", "--text", text, "--out", run2, "--preset", "test", "--tokenizer", "spm",
                            "--vocab-size", "400", "--steps", steps, "--warmup", "10", "--lr", "3e-3",
                            "--eval-every", "30", "--eval-iters", "2", "--dropout", "0.1", "--progress", "off",
                            "--threads", threads, "--seed", "5", "--stop-after", "25", NULL};
    CHECK(nt_cli_run(a_stop) == 0, "stopped spm run: %s", nt_cli_err);
    CHECK(!nt_test_same_weights(last2, last1), "the stopped run differs from the finished one");
    const char *a_vs[] = {"train", "--resume", run2, "--vocab-size", "500", NULL};
    CHECK(nt_cli_run(a_vs) == 2 && strstr(nt_cli_err, "--vocab-size cannot change on --resume"), "resume: %s",
          nt_cli_err);
    const char *a_resume[] = {"train", "--resume", run2, "--threads", threads, NULL};
    CHECK(nt_cli_run(a_resume) == 0 && kv_num(nt_cli_out, "val_loss") == val, "resume: %s %s", nt_cli_out, nt_cli_err);
    CHECK(nt_test_same_weights(last2, last1), "the resumed spm run ends with the uninterrupted run's weights");

    /* sample from the checkpoint alone: same seed, same text; valid UTF-8; the prompt encoded by the model */
    static char s1[1 << 16];
    const char *a_sample[] = {"sample", "--checkpoint", last1, "--prompt", "ROMEO:\n  caf\xc3\xa9", "--max-new-tokens",
                              "80", "--seed", "7", NULL};
    CHECK(nt_cli_run(a_sample) == 0, "spm sample: %s", nt_cli_err);
    snprintf(s1, sizeof s1, "%s", nt_cli_out);
    size_t bad;
    CHECK(strncmp(s1, "ROMEO:\n  caf\xc3\xa9", 14) == 0 && strlen(s1) > 14 + 80 && nt_utf8_valid(s1, strlen(s1), &bad),
          "spm sample: \"%s\"", s1);
    CHECK(nt_cli_run(a_sample) == 0 && strcmp(nt_cli_out, s1) == 0, "spm sampled twice:\n%s\n---\n%s", s1, nt_cli_out);

    /* eval: per character == total nats by hand / characters; per token == nats / tokens */
    const char *piece = "KING:\n  Once more unto the breach\n";
    nt_scratch_path_to(small, sizeof small, "small.txt");
    nt_proc_write_file(small, piece, strlen(piece));
    const char *a_eval[] = {"eval", "--checkpoint", last1, "--text", small, "--json", NULL};
    CHECK(nt_cli_run(a_eval) == 0, "spm eval: %s", nt_cli_err);
    double loss = nt_cli_json_num(nt_cli_out, "loss"), loss_tok = nt_cli_json_num(nt_cli_out, "loss_token");
    double toks = nt_cli_json_num(nt_cli_out, "tokens"), evchars = nt_cli_json_num(nt_cli_out, "characters");
    nt_model *m = NULL;
    nt_vocab *mv = NULL;
    CHECK(nt_ckpt_load(last1, &m, &mv) == NT_OK, "%s", nt_errmsg());
    lm_text ts;
    CHECK(lm_text_from_string(&ts, "piece", piece, 0) == NT_OK, "%s", nt_errmsg());
    lm_tokens mt;
    CHECK(lm_tokens_new(&mt, mv) == NT_OK, "%s", nt_errmsg());
    CHECK(lm_text_encode_split(&ts, mv, 0, &ids, &n, &n_train) == NT_OK && n >= 2 && n <= 32, "%lld tokens",
          (long long)n);
    /* the characters the predicted tokens (all but the first) cover */
    int64_t covered = code_points(piece) - mt.chars[ids[0]];
    double nats = nats_by_hand(m, ids, (int)n);
    CHECK(toks == n - 1 && evchars == covered, "eval counted %g tokens and %g characters, expected %lld and %lld", toks,
          evchars, (long long)(n - 1), (long long)covered);
    CHECK(covered > n, "the case covers more characters (%lld) than tokens (%lld)", (long long)covered, (long long)n);
    CHECK(fabs(loss - nats / (double)covered) < 1e-4 * (1 + loss), "eval loss %g per character, by hand %g", loss,
          nats / (double)covered);
    CHECK(fabs(loss_tok - nats / (double)(n - 1)) < 1e-4 * (1 + loss_tok), "eval loss %g per token, by hand %g",
          loss_tok, nats / (double)(n - 1));
    nt_free(ids);
    lm_tokens_free(&mt);
    lm_text_free(&ts);
    nt_model_free(m);
    nt_vocab_free(mv);

    /* char: the per-character loss is the per-token one, exactly */
    char run3[1100];
    nt_scratch_path_to(run3, sizeof run3, "char");
    const char *a_char[] = {"train", "--text", text, "--out", run3, "--preset", "test", "--steps", "20",
                            "--eval-every", "20", "--eval-iters", "2", "--progress", "off", "--threads", threads,
                            "--seed", "5", NULL};
    CHECK(nt_cli_run(a_char) == 0, "char train: %s", nt_cli_err);
    CHECK(kv_num(nt_cli_out, "val_loss") == kv_num(nt_cli_out, "val_loss_token") &&
              kv_num(nt_cli_out, "train_loss") == kv_num(nt_cli_out, "train_loss_token") && kv_num(nt_cli_out, "val_loss") > 0,
          "char: per character == per token: %s", nt_cli_out);
    char clast[1200];
    snprintf(clast, sizeof clast, "%s/checkpoint-last.h5", run3);
    const char *a_ceval[] = {"eval", "--checkpoint", clast, "--text", text, "--json", NULL};
    CHECK(nt_cli_run(a_ceval) == 0 && nt_cli_json_num(nt_cli_out, "loss") == nt_cli_json_num(nt_cli_out, "loss_token") &&
              nt_cli_json_num(nt_cli_out, "tokens") == nt_cli_json_num(nt_cli_out, "characters"),
          "char eval: per character == per token: %s", nt_cli_out);

    /* bad input */
    char run4[1100];
    nt_scratch_path_to(run4, sizeof run4, "bad");
    const char *a_big[] = {"train", "--text", text, "--out", run4, "--preset", "test", "--tokenizer", "spm",
                           "--vocab-size", "20000", "--steps", "5", NULL};
    CHECK(nt_cli_run(a_big) == 1 && strstr(nt_cli_err, "vocab") && strstr(nt_cli_err, "20000") &&
              strstr(nt_cli_err, "shakespeare-20k.txt"),
          "--vocab-size beyond the text: %s", nt_cli_err);
    const char *a_small[] = {"train", "--text", text, "--out", run4, "--tokenizer", "spm", "--vocab-size", "100", NULL};
    CHECK(nt_cli_run(a_small) == 2 && strstr(nt_cli_err, "--vocab-size"), "--vocab-size 100: %s", nt_cli_err);
    const char *a_charvs[] = {"train", "--text", text, "--out", run4, "--vocab-size", "500", NULL};
    CHECK(nt_cli_run(a_charvs) == 2 && strstr(nt_cli_err, "--tokenizer spm"), "--vocab-size with char: %s", nt_cli_err);
    const char *a_type[] = {"train", "--text", text, "--out", run4, "--tokenizer", "spm", "--spm-type", "wordpiece", NULL};
    CHECK(nt_cli_run(a_type) == 2 && strstr(nt_cli_err, "wordpiece") && strstr(nt_cli_err, "bpe"), "--spm-type: %s",
          nt_cli_err);
    const char *a_tok[] = {"train", "--text", text, "--out", run4, "--tokenizer", "word", NULL};
    CHECK(nt_cli_run(a_tok) == 2 && strstr(nt_cli_err, "char or spm"), "--tokenizer word: %s", nt_cli_err);

    lm_tokens_free(&tk);
    nt_vocab_free(v);
    lm_text_free(&t);
    nt_scratch_end();
    return nt_check_report("test_lm_spm");
}
