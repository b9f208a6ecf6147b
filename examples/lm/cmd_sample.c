/* cmd_sample.c - `nextok-lm sample`: text from a language model, written as
 * it is generated. The thesis's for-loop: logits of the last position,
 * choose a token, append, repeat. */
#include <math.h>
#include <string.h>

#include "commands.h"
#include "../common/omp_policy.h"
#include "core/alloc.h"
#include "core/opts.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "lm.h"
#include "nn/sampling.h"
#include "train/checkpoint.h"

typedef struct sample_opts {
    const char *checkpoint, *prompt, *prompt_file, *dump_logits;
    int max_new_tokens, top_k, num_samples, keep, no_cache, threads, precision;
    double temperature, top_p;
    uint64_t seed;
} sample_opts;

/* Chooses the next token from logits x (V, specials already at -inf). */
static int choose(float *x, int V, const sample_opts *o, void *scratch, nt_rng *rng) {
    if (o->temperature == 0) return nt_sampling_argmax(x, V);
    nt_sampling_temperature(x, V, (float)o->temperature);
    if (o->top_k > 0) nt_sampling_top_k(x, V, o->top_k, scratch);
    if (o->top_p < 1) nt_sampling_top_p(x, V, (float)o->top_p, scratch);
    return nt_sampling_draw(x, V, nt_rng_uniform_double(rng));
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
                   "flushed token by token: the prompt first, then the continuation. Decoding runs nt_generate's "
                   "decoder (no tape, a KV cache: one token's forward per step, the prompt in one pass). The model reads at most its context of T tokens: past it, the window "
                   "is cropped and the cache recomputed (--keep). The special tokens (<pad>, <bos>, ...) are never "
                   "drawn. Same checkpoint, options and seed: same text, at any thread count.",
                   .opts = opts, .epilog = ex_omp_policy_help("nextok-lm")};
    int rc = nt_opts_parse(&cmd, argc, argv);
    if (rc >= 0) return rc;
    if (o.prompt && o.prompt_file) return nt_opts_usage_error(&cmd, "give --prompt or --prompt-file, not both");
    if (o.threads) nt_threads_set(o.threads);

    nt_model *m = NULL;
    nt_vocab *v = NULL;
    lm_text prompt = {0};
    int32_t *pids = NULL, *seq = NULL;
    int64_t np = 0;
    float *logits = NULL;
    void *scratch = NULL;
    FILE *dump = NULL;
    lm_sampler s = {0};
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
    const int T = m->cfg.max_len, V = m->cfg.vocab_size;
    if (o.keep == 0) o.keep = T;
    if (o.keep > T) {
        rc = nt_opts_usage_error(&cmd, "--keep %d exceeds the model's context of %d tokens", o.keep, T);
        goto done;
    }
    if (o.prompt_file) st = lm_text_read(&prompt, o.prompt_file);
    else st = lm_text_from_string(&prompt, "--prompt", o.prompt ? o.prompt : "", 1);
    if (st == NT_OK && prompt.len > 0) st = lm_text_encode(&prompt, v, &pids, &np);
    if (st != NT_OK) {
        fprintf(stderr, "nextok-lm sample: %s\n", nt_errmsg());
        goto done;
    }
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
    int64_t cap = np + o.max_new_tokens;
    seq = nt_malloc((size_t)cap * sizeof *seq);
    logits = nt_malloc((size_t)V * sizeof *logits);
    scratch = nt_malloc(nt_sampling_scratch_bytes(V));
    if (!seq || !logits || !scratch) {
        fprintf(stderr, "nextok-lm sample: out of memory\n");
        goto done;
    }
    if (o.dump_logits && !(dump = fopen(o.dump_logits, "wb"))) {
        fprintf(stderr, "nextok-lm sample: cannot create %s\n", o.dump_logits);
        goto done;
    }
    if (st == NT_OK) st = lm_tokens_new(&tok, v); /* the text of each token (lm.h) */
    if (st == NT_OK) st = lm_sampler_open(&s, m, !o.no_cache, o.keep, (nt_precision)o.precision);
    if (st != NT_OK) {
        fprintf(stderr, "nextok-lm sample: %s\n", nt_errmsg());
        goto done;
    }
    for (int j = 0; j < o.num_samples; j++) {
        /* sample j draws from its own stretch of the seeded stream */
        nt_rng rng;
        nt_rng_seed(&rng, o.seed);
        rng.counter = (uint64_t)j << 40;
        lm_sampler_reset(&s);
        memcpy(seq, pids, (size_t)np * sizeof *seq);
        int64_t n = np;
        if (j > 0) fputs("---------------\n", stdout);
        if (!implicit) fwrite(prompt.bytes, 1, prompt.len, stdout);
        fflush(stdout);
        lm_writer w;
        lm_writer_start(&w, stdout, &tok);
        for (int k = 0; k < o.max_new_tokens; k++) {
            st = lm_sampler_logits(&s, seq, n, logits);
            if (st != NT_OK) {
                fprintf(stderr, "\nnextok-lm sample: %s\n", nt_errmsg());
                goto done;
            }
            for (int id = 0; id < NT_TOK_N_SPECIAL && id < V; id++) logits[id] = -INFINITY;
            if (dump && fwrite(logits, sizeof *logits, (size_t)V, dump) != (size_t)V) {
                fprintf(stderr, "\nnextok-lm sample: cannot write %s\n", o.dump_logits);
                goto done;
            }
            int id = choose(logits, V, &o, scratch, &rng);
            if (id < NT_TOK_N_SPECIAL) {
                fprintf(stderr, "\nnextok-lm sample: no token left to draw (every logit filtered out)\n");
                goto done;
            }
            seq[n++] = id;
            lm_writer_token(&w, id); /* whole UTF-8 characters only, flushed */
        }
        lm_writer_end(&w);
        fputc('\n', stdout);
        fflush(stdout);
    }
    rc = 0;
done:
    if (dump && fclose(dump) != 0 && rc == 0) {
        fprintf(stderr, "nextok-lm sample: cannot write %s\n", o.dump_logits);
        rc = 1;
    }
    lm_sampler_close(&s);
    lm_tokens_free(&tok);
    nt_free(seq), nt_free(logits), nt_free(scratch), nt_free(pids);
    lm_text_free(&prompt);
    nt_model_free(m);
    nt_vocab_free(v);
    return rc;
}
