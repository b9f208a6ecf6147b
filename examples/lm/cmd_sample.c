/* cmd_sample.c - `nextok-lm sample`: text from a language model, written as
 * it is generated. The thesis's for-loop is nt_generate's (nn/generate.h),
 * the same for every model: this file only streams its tokens to stdout
 * (on_token), suppresses the special tokens and asks for the sliding
 * window past the model's context (context_keep). */
#include <string.h>

#include "commands.h"
#include "../common/omp_policy.h"
#include "core/alloc.h"
#include "core/opts.h"
#include "core/parallel.h"
#include "lm.h"
#include "nn/generate.h"
#include "train/checkpoint.h"

typedef struct sample_opts {
    const char *checkpoint, *prompt, *prompt_file, *dump_logits;
    int max_new_tokens, top_k, num_samples, keep, no_cache, threads, precision;
    double temperature, top_p;
    uint64_t seed;
} sample_opts;

/* nt_generate's on_token: the token's text to stdout, flushed; its logits to --dump-logits. */
typedef struct stream {
    lm_writer w; /* whole UTF-8 characters only (a byte-fallback piece may end mid-character) */
    int V;
    FILE *dump;
    const char *dump_path;
} stream;

static nt_status stream_token(void *user, int source, int sequence, int32_t id, const float *logits) {
    (void)source, (void)sequence;
    stream *s = user;
    if (s->dump && fwrite(logits, sizeof *logits, (size_t)s->V, s->dump) != (size_t)s->V)
        return nt_error(NT_ERR_IO, "cannot write %s", s->dump_path);
    lm_writer_token(&s->w, id); /* flushed */
    return NT_OK;
}

int cmd_sample(int argc, char **argv) {
    sample_opts o = {.max_new_tokens = 500, .temperature = 0.8, .top_p = 1, .seed = 1, .num_samples = 1};
    nt_opt opts[] = {
        {"--checkpoint", NT_OPT_STRING, &o.checkpoint, .arg = "FILE",
         .help = "a nextok-lm checkpoint (checkpoint-best.h5 of a run)", .required = 1},
        {"--prompt", NT_OPT_STRING, &o.prompt, .arg = "TEXT", .def = "a newline, as nanoGPT", .help = "text to continue"},
        {"--prompt-file", NT_OPT_STRING, &o.prompt_file, .arg = "FILE", .help = "read the prompt from a file"},
        {"--max-new-tokens", NT_OPT_INT, &o.max_new_tokens, 0, 1e9, .small = 1, .arg = "N",
         .help = "tokens generated per sample"},
        {"--temperature", NT_OPT_DOUBLE, &o.temperature, 0, 100, .arg = "X",
         .help = "divides the logits; 0: greedy (the most probable token)"},
        {"--top-k", NT_OPT_INT, &o.top_k, 0, 1e9, .small = 1, .arg = "K", .def = "0: all",
         .help = "draw among the K most probable tokens only"},
        {"--top-p", NT_OPT_DOUBLE, &o.top_p, 1e-9, 1, .arg = "P", .def = "1: all",
         .help = "nucleus: the smallest set of mass >= P"},
        {"--seed", NT_OPT_U64, &o.seed, .arg = "S", .help = "same seed, same text"},
        {"--num-samples", NT_OPT_INT, &o.num_samples, 1, 1e6, .small = 1, .arg = "K",
         .help = "independent samples, separated by a line of dashes"},
        {"--keep", NT_OPT_INT, &o.keep, 0, 1e9, .small = 1, .arg = "N",
         .def = "T: every token sees exactly the last T tokens",
         .help = "past the context (T tokens): restart the window at the last N tokens and recompute the cache "
                 "from them (crop and recompute; a smaller N recomputes only every T - N + 1 tokens, faster)"},
        {"--precision", NT_OPT_ENUM, &o.precision, .choices = "fp32|bf16",
         .help = "bf16: decode on bf16 copies of the weights (made at load; activations and sums stay fp32; "
                 "docs/precision.md)"},
        {"--no-cache", NT_OPT_FLAG, &o.no_cache,
         .help = "rerun the model on the whole window every token (the reference path)"},
        {"--threads", NT_OPT_INT, &o.threads, 1, 1024, .small = 1, .arg = "N", .def = "OMP_NUM_THREADS or all cores",
         .help = "OpenMP/OpenBLAS threads"},
        {"--dump-logits", NT_OPT_STRING, &o.dump_logits, .arg = "FILE",
         .help = "write each step's logits (V float32, specials at -inf) to FILE (tests)"},
        {0}};
    nt_opts cmd = {"nextok-lm sample",
                   "usage: nextok-lm sample --checkpoint FILE [--prompt TEXT | --prompt-file FILE] [options]",
                   "Continues the prompt with text drawn from the model and writes it to stdout as it is generated, "
                   "flushed token by token: the prompt first, then the continuation. Decoding is nt_generate, the "
                   "loop every model samples through (no tape, a KV cache: one token's forward per step, the prompt "
                   "in one pass). The model reads at most its context of T tokens: past it, the window is cropped "
                   "and the cache recomputed (--keep). The special tokens (<pad>, <bos>, ...) are never drawn. "
                   "Same checkpoint, options and seed: same text, at any thread count.",
                   .opts = opts, .epilog = ex_omp_policy_help("nextok-lm")};
    int rc = nt_opts_parse(&cmd, argc, argv);
    if (rc >= 0) return rc;
    if (o.prompt && o.prompt_file) return nt_opts_usage_error(&cmd, "give --prompt or --prompt-file, not both");
    if (o.threads) nt_threads_set(o.threads);

    nt_model *m = NULL;
    nt_vocab *v = NULL;
    nt_ctx *ctx = NULL;
    lm_text prompt = {0};
    int32_t *pids = NULL;
    int64_t np = 0;
    stream out = {0};
    lm_tokens tok = {0};
    rc = 1;
    nt_status st = nt_ckpt_load(o.checkpoint, &m, &v);
    if (st != NT_OK) {
        fprintf(stderr, "nextok-lm sample: %s\n", nt_errmsg());
        goto done;
    }
    if (m->cfg.arch != NT_ARCH_DECODER) {
        fprintf(stderr, "nextok-lm sample: %s holds an encoder-decoder model, not a language model "
                        "(nextok-translate reads it)\n", o.checkpoint);
        goto done;
    }
    const int T = m->net.max_len, V = m->net.vocab_size;
    if (o.keep == 0) o.keep = T;
    if (o.keep > T) {
        rc = nt_opts_usage_error(&cmd, "--keep %d exceeds the model's context of %d tokens", o.keep, T);
        goto done;
    }
    if (o.prompt_file) st = lm_text_read(&prompt, o.prompt_file);
    else st = lm_text_from_string(&prompt, "--prompt", o.prompt ? o.prompt : "", 1);
    if (st == NT_OK && prompt.len > 0) st = lm_text_encode(&prompt, v, &pids, &np);
    if (st == NT_OK && np > 0x7fffffff) st = nt_error(NT_ERR_ARG, "a prompt of %lld tokens", (long long)np);
    if (st == NT_OK) st = nt_ctx_new(&ctx, 0);
    if (st == NT_OK) st = lm_tokens_new(&tok, v); /* the text of each token (lm.h) */
    if (st != NT_OK) {
        fprintf(stderr, "nextok-lm sample: %s\n", nt_errmsg());
        goto done;
    }
    nt_ctx_set_precision(ctx, (nt_precision)o.precision);
    int implicit = 0; /* the prompt is the newline we start from, not printed */
    if (np == 0) {
        int nl = nt_vocab_id(v, "\n");
        if (nl < 0) {
            fprintf(stderr, "nextok-lm sample: the model's vocabulary has no newline to start from; pass --prompt\n");
            goto done;
        }
        nt_free(pids);
        pids = nt_malloc(sizeof *pids);
        if (!pids) goto done;
        pids[0] = nl, np = 1, implicit = 1;
    }
    if (o.dump_logits && !(out.dump = fopen(o.dump_logits, "wb"))) {
        fprintf(stderr, "nextok-lm sample: cannot create %s\n", o.dump_logits);
        goto done;
    }
    out.V = V, out.dump_path = o.dump_logits;
    /* the prompt as given, continued; specials never drawn; past the
     * context the window restarts at the last --keep tokens */
    int32_t specials[NT_TOK_N_SPECIAL];
    for (int id = 0; id < NT_TOK_N_SPECIAL; id++) specials[id] = id;
    nt_generate_config g = nt_generate_config_default();
    g.max_new_tokens = o.max_new_tokens;
    g.do_sample = o.temperature > 0;
    g.temperature = o.temperature > 0 ? (float)o.temperature : 1.0f;
    g.top_k = o.top_k;
    g.top_p = (float)o.top_p;
    g.seed = o.seed;
    g.use_cache = !o.no_cache;
    g.raw_prompt = 1;
    g.suppress_tokens = specials;
    g.n_suppress_tokens = NT_TOK_N_SPECIAL < V ? NT_TOK_N_SPECIAL : V;
    g.context_keep = o.keep;
    g.on_token = stream_token;
    g.on_token_user = &out;
    const int32_t *src[1] = {pids};
    int len[1] = {(int)np};
    for (int j = 0; j < o.num_samples; j++) {
        if (j > 0) fputs("---------------\n", stdout);
        if (!implicit) fwrite(prompt.bytes, 1, prompt.len, stdout);
        fflush(stdout);
        lm_writer_start(&out.w, stdout, &tok);
        if (o.max_new_tokens > 0) {
            /* sample j draws from stream j of the seed, as one call of num_samples would */
            g.first_sequence = j;
            nt_generate_result res;
            st = nt_generate(&m->net, ctx, &res, &g, src, len, 1);
            int stuck = st == NT_OK && res.seqs[0].finished; /* <eos> is suppressed: nothing was left */
            nt_generate_result_free(&res);
            if (st != NT_OK) {
                fprintf(stderr, "\nnextok-lm sample: %s\n", nt_errmsg());
                goto done;
            }
            if (stuck) {
                fprintf(stderr, "\nnextok-lm sample: no token left to draw (every logit filtered out)\n");
                goto done;
            }
        }
        lm_writer_end(&out.w);
        fputc('\n', stdout);
        fflush(stdout);
    }
    rc = 0;
done:
    if (out.dump && fclose(out.dump) != 0 && rc == 0) {
        fprintf(stderr, "nextok-lm sample: cannot write %s\n", o.dump_logits);
        rc = 1;
    }
    nt_free(pids);
    lm_tokens_free(&tok);
    lm_text_free(&prompt);
    nt_ctx_free(ctx);
    nt_model_free(m);
    nt_vocab_free(v);
    return rc;
}
