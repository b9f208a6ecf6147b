/* nplm.c - a model nextok's authors did not write, through the public API:
 * Bengio et al.'s neural probabilistic language model (2003) on characters.
 * The next character is predicted from the K before it: their embeddings,
 * concatenated, through one GELU layer to the logits. It trains, checkpoints,
 * resumes and samples through nt_trainer, nt_ckpt_* and nt_generate.
 *
 *   nextok-custom train TEXT RUN STEPS [STOP_AT]   (resumes RUN if it holds a checkpoint)
 *   nextok-custom sample CHECKPOINT PROMPT N SEED
 *
 * Letters: B rows, T positions, K context, E embedding, H hidden, V vocab.
 * docs/framework.md walks through this file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/text_source.h"
#include "nn/generate.h"
#include "train/checkpoint.h"
#include "train/trainer.h"

enum { K = 3, E = 16, H = 128, B = 16, T = 64 };

typedef struct nplm {
    nt_net net;                    /* first: the model interface */
    nt_tensor *embed, *w1, *b1, *w2, *b2; /* (V,E) (H,K*E) (H) (V,H) (V) */
} nplm;

/* ids (B, T) -> logits (B, T, V); position t sees ids t-K+1..t (<bos> before the start). */
static nt_status forward(nplm *m, nt_ctx *ctx, const int32_t *ids, int rows, int len, nt_tensor **logits) {
    nt_tensor *e[K], *x, *h, *ctx_ids;
    for (int k = 0; k < K; k++) {  /* the k-th previous character of every position */
        NT_TRY(nt_tensor_new(ctx, &ctx_ids, NT_I32, 2, (int[]){rows, len}));
        for (int i = 0; i < rows * len; i++) nt_i32(ctx_ids)[i] = i % len >= k ? ids[i - k] : 1;
        NT_TRY(nt_embedding(ctx, &e[k], m->embed, ctx_ids));           /* (B, T, E) */
    }
    NT_TRY(nt_concat(ctx, &x, e, K, 2));                                /* (B, T, K*E) */
    NT_TRY(nt_linear(ctx, &h, x, m->w1, m->b1));
    NT_TRY(nt_gelu(ctx, &h, h));                                        /* (B, T, H) */
    return nt_linear(ctx, logits, h, m->w2, m->b2);                    /* (B, T, V) */
}

static nt_status nplm_loss(nt_net *net, nt_ctx *ctx, const nt_batch *b, float smoothing, nt_tensor **loss,
                           nt_tensor **logits, int64_t *n) {
    nt_tensor *lg, *y;
    NT_TRY(forward((nplm *)net, ctx, b->tgt_in, b->B, b->T, &lg));
    NT_TRY(nt_tensor_wrap(ctx, &y, NT_I32, 2, (int[]){b->B, b->T}, b->labels));
    if (logits) *logits = lg;
    return nt_cross_entropy(ctx, loss, lg, y, 0, smoothing, n);
}

/* Generation: the logits after each row's last K tokens. */
static nt_status nplm_next(nt_net *net, nt_ctx *ctx, const int32_t *const *seq, const int *len, int n,
                           float *out) {
    int32_t *last = calloc((size_t)n * K + 1, sizeof *last);
    if (!last) return nt_error(NT_ERR_NOMEM, "nplm: out of memory");
    for (int r = 0; r < n; r++)
        for (int k = 0; k < K; k++) last[r * K + k] = len[r] - K + k >= 0 ? seq[r][len[r] - K + k] : 1;
    nt_tensor *lg;  /* (n, K, V): the last position has seen all K */
    nt_status s = forward((nplm *)net, ctx, last, n, K, &lg);
    for (int r = 0; s == NT_OK && r < n; r++)
        memcpy(out + (size_t)r * net->vocab_size, nt_f32(lg) + ((size_t)r * K + K - 1) * net->vocab_size,
               (size_t)net->vocab_size * sizeof *out);
    free(last);
    return s;
}

static nt_status nplm_config(const nt_net *net, nt_attrs *a) { return nt_attrs_set_int(a, "vocab_size", net->vocab_size); }
static void nplm_free(nt_net *net) { nt_params_free(net->params), free(net); }
static const nt_net_ops NPLM = {.arch = "nplm", .loss = nplm_loss, .config = nplm_config,
                                .free = nplm_free, .next_logits = nplm_next};

static nt_status nplm_create(nt_net **out, const nt_attrs *cfg) {
    int V;
    NT_TRY(nt_attrs_get_int(cfg, "vocab_size", 5, 1 << 20, &V));
    nplm *m = calloc(1, sizeof *m);
    nt_params_new(&m->net.params);
    nt_params *P = m->net.params;  /* matrices decay; embedding and biases do not */
    int ie = nt_params_declare(P, "embed", 2, (int[]){V, E}, 0);
    int i1 = nt_params_declare(P, "w1", 2, (int[]){H, K * E}, NT_PARAM_DECAY), j1 = nt_params_declare(P, "b1", 1, (int[]){H}, 0);
    int i2 = nt_params_declare(P, "w2", 2, (int[]){V, H}, NT_PARAM_DECAY), j2 = nt_params_declare(P, "b2", 1, (int[]){V}, 0);
    NT_TRY(nt_params_alloc(P));
    m->embed = nt_params_get(P, ie), m->w1 = nt_params_get(P, i1), m->b1 = nt_params_get(P, j1);
    m->w2 = nt_params_get(P, i2), m->b2 = nt_params_get(P, j2);
    nt_rng rng;  /* every value N(0, 0.05^2) */
    nt_rng_seed(&rng, 7);
    for (int64_t i = 0; i < P->total; i++) P->values[i] = 0.05f * nt_rng_normal(&rng);
    m->net = (nt_net){.ops = &NPLM, .params = P, .vocab_size = V};
    *out = &m->net;
    return NT_OK;
}

static int fail(const char *what) { return fprintf(stderr, "nextok-custom: %s: %s\n", what, nt_errmsg()), 1; }

/* nt_generate's on_token: each character as it is chosen. */
static nt_status print_token(void *vocab, int source, int sequence, int32_t id, const float *logits) {
    fputs(nt_vocab_token(vocab, id), stdout);
    return fflush(stdout) == 0 ? NT_OK : nt_error(NT_ERR_IO, "cannot write stdout");
}

static int sample(const char *ckpt, const char *prompt, int n_new, uint64_t seed) {
    nt_net *net; nt_vocab *v; nt_ctx *ctx; nt_generate_result res;
    int32_t ids[256], specials[] = {0, 1, 2, 3, 4};  /* <pad> <bos> <eos> <unk> <sep>: never drawn */
    int n;
    nt_generate_config g = nt_generate_config_default();
    g.do_sample = 1, g.max_new_tokens = n_new, g.seed = seed, g.suppress_tokens = specials, g.n_suppress_tokens = 5;
    g.on_token = print_token;  /* streamed: the same loop and options as the transformer's */
    if (nt_ckpt_load_net(ckpt, &net, &v) || nt_vocab_encode(v, prompt, ids, 256, &n) || nt_ctx_new(&ctx, 0))
        return fail(ckpt);
    g.on_token_user = v;
    printf("%s", prompt);
    if (nt_generate(net, ctx, &res, &g, (const int32_t *[]){ids}, &n, 1)) return fail(ckpt);
    printf("\n");
    return nt_generate_result_free(&res), nt_ctx_free(ctx), nt_vocab_free(v), nt_net_free(net), 0;
}

static int train(const char *path, const char *run, int64_t steps, int64_t stop_at) {
    static char text[1 << 20];
    FILE *f = fopen(path, "rb");
    size_t len = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f) fclose(f);
    static int32_t ids[sizeof text];
    int n;
    nt_vocab *v; nt_attrs cfg; nt_net *net; nt_trainer *tr; nt_train_result r;
    nt_data_source *windows;  /* B random windows of T + 1 characters; the cursor is exact */
    nt_text_source_config wc = {.mode = NT_TEXT_SOURCE_RANDOM, .batch_size = B, .block_size = T, .seed = 1000};
    if (len < 2 * T || nt_vocab_build(&v, NT_TOKENIZER_CHAR, (const char *[]){text}, 1, 1) ||
        nt_vocab_encode(v, text, ids, sizeof text, &n) || nt_text_source_new(&windows, ids, n, &wc))
        return fail(path);
    nt_attrs_init(&cfg);
    nt_attrs_set_str(&cfg, "arch", "nplm"), nt_attrs_set_int(&cfg, "vocab_size", nt_vocab_size(v));
    nt_trainer_config tc = nt_trainer_config_default();  /* AdamW, cosine schedule, clipping at 1 */
    tc.steps = steps, tc.stop_at = stop_at, tc.lr = 3e-3, tc.warmup = 10, tc.eval_every = 0, tc.label_smoothing = 0;
    snprintf(tc.out_dir, sizeof tc.out_dir, "%s", run);
    snprintf(tc.resume, sizeof tc.resume, "%s/checkpoint-last.h5", run);
    if (access(tc.resume, F_OK) != 0) tc.resume[0] = 0;  /* a fresh run */
    if (nt_net_create(&net, &cfg) || nt_trainer_new(&tr, &tc, net, v, windows, NULL)) return fail("train");
    nt_status s = nt_trainer_run(tr, &r);
    if (s != NT_OK && s != NT_ERR_INTERRUPTED) return fail("train");
    printf("step %lld loss %.4f\n", (long long)r.step, r.loss);
    return nt_trainer_free(tr), nt_data_source_free(windows), nt_net_free(net), nt_vocab_free(v), 0;
}

int main(int argc, char **argv) {
    nt_net_register("nplm", nplm_create);
    if (argc == 6 && strcmp(argv[1], "sample") == 0) return sample(argv[2], argv[3], atoi(argv[4]), strtoull(argv[5], 0, 10));
    if ((argc == 5 || argc == 6) && strcmp(argv[1], "train") == 0)
        return train(argv[2], argv[3], atoll(argv[4]), argc == 6 ? atoll(argv[5]) : 0);
    return fprintf(stderr, "usage: nextok-custom train TEXT RUN STEPS [STOP_AT] | sample CKPT PROMPT N SEED\n"), 2;
}
