/* cmd_eval.c - `nextok-lm eval`: loss, perplexity and bits per character of
 * a language model over a whole text file, in consecutive windows. */
#include <math.h>
#include <string.h>

#include "commands.h"
#include "core/alloc.h"
#include "core/parallel.h"
#include "data/text_source.h"
#include "lm.h"
#include "core/opts.h"
#include "../common/omp_policy.h"
#include "train/checkpoint.h"

typedef struct eval_opts {
    const char *checkpoint, *text;
    int block_size, batch_size, json, threads;
    double valid_fraction;
} eval_opts;

/* A JSON string (quotes and escapes). */
static void json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

int cmd_eval(int argc, char **argv) {
    eval_opts o = {.batch_size = 16};
    nt_opt opts[] = {
        {"--checkpoint", NT_OPT_STRING, &o.checkpoint, .arg = "FILE", .help = "a nextok-lm checkpoint", .required = 1},
        {"--text", NT_OPT_STRING, &o.text, .arg = "FILE", .help = "the text to score (UTF-8)", .required = 1},
        {"--valid-fraction", NT_OPT_DOUBLE, &o.valid_fraction, 0, 0.9, .arg = "X", .def = "0: the whole file",
         .help = "score only the last X of the file: the validation text of a run trained with --valid-fraction X"},
        {"--block-size", NT_OPT_INT, &o.block_size, 1, 1 << 20, .small = 1, .arg = "T", .def = "the model's context",
         .help = "window length"},
        {"--batch-size", NT_OPT_INT, &o.batch_size, 1, 1 << 16, .small = 1, .arg = "B", .help = "windows per forward"},
        {"--json", NT_OPT_FLAG, &o.json, .help = "one JSON object on stdout instead of the sentence"},
        {"--threads", NT_OPT_INT, &o.threads, 1, 1024, .small = 1, .arg = "N", .def = "OMP_NUM_THREADS or all cores",
         .help = "OpenMP/OpenBLAS threads"},
        {0}};
    nt_opts cmd = {"nextok-lm eval", "usage: nextok-lm eval --checkpoint FILE --text FILE [--json]",
                   "Scores every token of the file but the first: the text is cut into consecutive, non-overlapping "
                   "windows of T tokens (each window starts with an empty context, so the score is a little worse "
                   "than the training log's, whose windows are random). Prints the loss per character: the total "
                   "cross-entropy in nats of the predicted tokens divided by the characters (Unicode code points) "
                   "they cover, whatever the tokenizer (for char it is the mean per token; for spm it compares with "
                   "a character model), the perplexity per character exp(loss), bits per character (loss / ln 2), "
                   "and the loss per token.",
                   .opts = opts, .epilog = ex_omp_policy_help("nextok-lm")};
    int rc = nt_opts_parse(&cmd, argc, argv);
    if (rc >= 0) return rc;
    if (o.threads) nt_threads_set(o.threads);

    nt_model *m = NULL;
    nt_vocab *v = NULL;
    lm_text text = {0};
    int32_t *ids = NULL;
    int64_t n = 0;
    nt_data_source *src = NULL;
    nt_ctx *ctx = NULL;
    lm_tokens tok = {0};
    int64_t first = 0; /* tokens before the scored part */
    rc = 1;
    nt_status s = nt_ckpt_load(o.checkpoint, &m, &v);
    if (s != NT_OK) {
        fprintf(stderr, "nextok-lm eval: %s\n", nt_errmsg());
        goto done;
    }
    if (m->cfg.arch != NT_ARCH_DECODER) {
        fprintf(stderr, "nextok-lm eval: %s holds an encoder-decoder model, not a language model\n", o.checkpoint);
        goto done;
    }
    if (o.block_size == 0) o.block_size = m->cfg.max_len;
    if (o.block_size > m->cfg.max_len) {
        rc = nt_opts_usage_error(&cmd, "--block-size %d exceeds the model's context of %d tokens (%s)", o.block_size,
                                 m->cfg.max_len, o.checkpoint);
        goto done;
    }
    s = lm_text_read(&text, o.text);
    nt_text_source_config c = {.mode = NT_TEXT_SOURCE_SEQUENTIAL, .batch_size = o.batch_size, .block_size = o.block_size};
    /* the split of `train --valid-fraction` (nanoGPT's: train = data[:int(n * 0.9)], in characters); the scored
     * part is encoded on its own, as training encoded it */
    if (s == NT_OK) {
        size_t cut = 0;
        int64_t all;
        if (o.valid_fraction > 0) lm_text_split(&text, o.valid_fraction, &cut, &all);
        s = lm_text_encode_split(&text, v, cut, &ids, &n, &first);
    }
    if (s == NT_OK) s = nt_text_source_new(&src, ids + first, n - first, &c);
    if (s == NT_OK) s = nt_ctx_new(&ctx, 0);
    /* characters each token covers (1 for the char tokenizer) */
    if (s == NT_OK) s = lm_tokens_new(&tok, v);
    if (s != NT_OK) {
        fprintf(stderr, "nextok-lm eval: %s\n", nt_errmsg());
        goto done;
    }
    nt_ctx_set_grad(ctx, 0);
    nt_ctx_set_training(ctx, 0);
    double nats = 0;
    int64_t tokens = 0, characters = 0;
    for (;;) {
        nt_batch b;
        s = nt_data_source_next(src, &b);
        if (s != NT_OK || b.B == 0) break;
        nt_ctx_reset(ctx);
        nt_tensor *loss;
        int64_t cnt = 0;
        s = m->net.ops->loss(&m->net, ctx, &b, 0.0f, &loss, NULL, &cnt);
        if (s != NT_OK) break;
        nats += (double)nt_f32(loss)[0] * (double)cnt;
        tokens += cnt;
        characters += lm_batch_chars(&b, tok.chars);
    }
    if (s != NT_OK) {
        fprintf(stderr, "nextok-lm eval: %s\n", nt_errmsg());
        goto done;
    }
    double loss = nats / (double)characters, loss_token = nats / (double)tokens, bpc = loss / log(2.0);
    int64_t windows = nt_text_source_pass_windows(src);
    if (o.json) {
        printf("{\"file\":");
        json_string(stdout, o.text);
        printf(",\"checkpoint\":");
        json_string(stdout, o.checkpoint);
        printf(",\"tokenizer\":\"%s\",\"from_token\":%lld,\"tokens\":%lld,\"characters\":%lld,\"windows\":%lld,"
               "\"block_size\":%d,\"loss\":%.6f,\"ppl\":%.6f,\"bpc\":%.6f,\"loss_token\":%.6f,\"ppl_token\":%.6f}\n",
               nt_tokenizer_kind_name(nt_vocab_kind(v)), (long long)first, (long long)tokens, (long long)characters,
               (long long)windows, o.block_size, loss, exp(loss), bpc, loss_token, exp(loss_token));
    } else {
        printf("%s%s: %lld tokens (%lld characters) predicted in %lld windows of %d: loss %.4f per character, "
               "perplexity %.3f, %.4f bits per character; %.4f per token\n",
               o.text, first > 0 ? " (its last part)" : "", (long long)tokens, (long long)characters, (long long)windows,
               o.block_size, loss, exp(loss), bpc, loss_token);
    }
    rc = 0;
done:
    lm_tokens_free(&tok);
    nt_ctx_free(ctx);
    nt_data_source_free(src);
    nt_free(ids);
    lm_text_free(&text);
    nt_model_free(m);
    nt_vocab_free(v);
    return rc;
}
