/* model.c - nextok-bench --config: full training steps and batch-1 greedy decoding,
 * the side-by-side counterpart of shared/reference/torch_ref.py.
 *
 * Letters: B batch, S source length, T target length, D width, H heads,
 * V vocabulary, G tokens decoded per greedy run.
 *
 * Training: the reference's step exactly: encode the source (B, S), decode
 * the target (B, T) with teacher forcing, mean cross-entropy at every
 * position, backward, AdamW (lr 1e-3, betas (0.9, 0.98), eps 1e-8,
 * weight_decay 0.01 on every parameter: torch.optim.AdamW(m.parameters())).
 * Tokens are drawn in [5, V) so that no label is <pad> (which nt_model_loss
 * ignores and PyTorch's default loss does not). Throughput = B (S + T)
 * tokens per step.
 *
 * Decoding (decode_tok_s): the users' path, nt_generate (nn/infer.h: no
 * tape, KV cache, encoder and cross K/V once): one source, greedy,
 * max_new_tokens G, generated tokens per second (a run that chooses <eos>
 * early ends early; the text output says so). Before timing, its tokens are
 * checked against the graph path without a cache (use_cache 0), which must
 * agree. decode_generic_tok_s, for the record: the graph path with a cache
 * (nt_model_encode + nt_model_decode with an nt_kv_cache), G steps from the
 * source's first target token. With --precision bf16 decoding runs on bf16
 * weights and the text output says for how many tokens it chose the fp32
 * ones.
 *
 * Batched decoding (batch_decode_tok_s): torch_ref.py's decode_batch: the
 * B sources at once through nt_generate (greedy, KV cache), max_new_tokens
 * G; generated tokens per second, counting what was generated (a row that
 * chose <eos> early ends early; training on labels in [5, V) makes that
 * unlikely, and the text output says when it happened).
 *
 * decode_cpu_tok_s and batch_decode_cpu_tok_s: the same tokens per CPU
 * second of the process (user + system, all threads): with --threads 1 the
 * work per token, little disturbed by other load on the machine.
 *
 * The JSON also says which kernels ran: `isa` (core/isa.h's level, NT_ISA
 * caps it), `gemm` (nt_sgemm's path) and `precision` (fp32).
 *
 * The sgemm peak (nt_sgemm, the product the model runs) is measured before
 * and after (the larger counts), each in
 * a child process so that its matrices stay out of the peak RSS.
 *
 * Model FLOPs (for the utilisation figure) count the products a dense
 * implementation runs: every linear layer (2 rows In Out), the attention
 * products QK^T and PV in full (2 Tq Tk D each, masked entries included),
 * the tied output projection; backward is twice forward. Elementwise work is
 * not counted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "core/alloc.h"
#include "core/gemm.h"
#include "core/isa.h"
#include "core/gemm_bf16.h"
#include "core/parallel.h"
#include "nn/generate.h"
#include "nn/generate.h"
#include "nn/model.h"
#include "train/dist.h"
#include "train/optim.h"

typedef struct bench_config {
    const char *name;
    int V, D, H, enc_layers, dec_layers, S, T, B, G;
} bench_config;

/* torch_ref.py's CONFIGS (same parameter counts, checked by compare.py). */
static const bench_config configs[] = {
    {"tiny", 128, 128, 4, 2, 2, 32, 32, 64, 32},
    {"small", 256, 256, 8, 3, 3, 64, 64, 32, 64},
    {"gpt", 512, 384, 6, 0, 6, 0, 128, 16, 64},
};

const char *bench_config_names(void) { return "tiny, small, gpt"; }

int bench_config_known(const char *name) {
    for (size_t i = 0; i < sizeof configs / sizeof *configs; i++)
        if (!strcmp(configs[i].name, name)) return 1;
    return 0;
}

/* Forward FLOPs of one training batch (see the banner). */
static double forward_flops(const bench_config *c) {
    double D = c->D, B = c->B, S = c->S, T = c->T, V = c->V;
    double enc = c->enc_layers * (2 * B * S * 12 * D * D + 4 * B * S * S * D);
    double dec = c->dec_layers * (2 * B * T * 12 * D * D + 4 * B * T * T * D);
    if (c->enc_layers) /* cross-attention: q, o over T rows, k, v over S rows, QK^T, PV */
        dec += c->dec_layers * (2 * B * T * 2 * D * D + 2 * B * S * 2 * D * D + 4 * B * T * S * D);
    return enc + dec + 2 * B * T * D * V;
}

/* The peak of the sgemm the model's linear layers run: nt_sgemm (our
 * AVX-512 kernel; OpenBLAS under NT_GEMM=openblas, which the child inherits). */
static double sgemm_peak_here(int reps) {
    int n = 2048;
    size_t big = (size_t)n * n;
    float *A = nt_malloc_aligned(big * sizeof(float)), *Bm = nt_malloc_aligned(big * sizeof(float));
    float *C = nt_malloc_aligned(big * sizeof(float));
    double best = 0;
    if (A && Bm && C) {
        for (size_t i = 0; i < big; i++) A[i] = (float)((i * 7) % 13) * 0.1f - 0.6f, Bm[i] = (float)((i * 5) % 11) * 0.1f - 0.5f;
        for (int r = 0; r < reps + 1; r++) { /* the first is a warm-up */
            double t0 = bench_now();
            nt_sgemm(0, 0, n, n, n, 1.0f, A, n, Bm, n, 0.0f, C, n);
            double g = 2.0 * n * n * n / (bench_now() - t0) * 1e-9;
            if (r > 0 && g > best) best = g;
        }
    }
    nt_free_aligned(A);
    nt_free_aligned(Bm);
    nt_free_aligned(C);
    return best;
}

double bench_sgemm_peak_here(int reps) { return sgemm_peak_here(reps); }

/* The large square sgemm peak (2048^3, best of `reps`), measured by a fresh
 * process (this program with the hidden --sgemm-peak mode) so that its 48 MB
 * of matrices stay out of this process's peak RSS, the figure compared with
 * PyTorch's. (A fork would not do: libgomp's pool does not survive one.)
 * Falls back to measuring here. */
static double sgemm_peak(int reps, int threads) {
    int fd[2];
    if (pipe(fd) != 0) return sgemm_peak_here(reps);
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return sgemm_peak_here(reps);
    }
    if (pid == 0) {
        char t[16], r[16];
        snprintf(t, sizeof t, "%d", threads);
        snprintf(r, sizeof r, "%d", reps);
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        execl("/proc/self/exe", "nextok-bench", "--sgemm-peak", "--threads", t, "--reps", r, (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    char buf[64] = {0};
    ssize_t got = read(fd[0], buf, sizeof buf - 1);
    close(fd[0]);
    int st;
    waitpid(pid, &st, 0);
    double g = got > 0 ? strtod(buf, NULL) : 0;
    return g > 0 ? g : sgemm_peak_here(reps);
}

/* xorshift draws in [5, V): no specials, so every label counts. */
static void fill_tokens(int32_t *t, int64_t n, int V, uint32_t *state) {
    for (int64_t i = 0; i < n; i++) {
        uint32_t x = *state;
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        *state = x;
        t[i] = 5 + (int32_t)(x % (uint32_t)(V - 5));
    }
}

typedef struct train_state {
    nt_model *m;
    nt_optim *opt;
    nt_ctx *ctx;
    nt_tensor *src, *tgt_in, *labels; /* in the persistent ctx */
    nt_ctx *work;
} train_state;

static nt_status train_step(train_state *s, float *loss_out) {
    nt_tensor *loss;
    nt_params_zero_grad(s->m->params);
    NT_TRY(nt_model_loss(s->m, s->work, &loss, NULL, s->src, NULL, s->tgt_in, s->labels, 0.0f, NULL));
    NT_TRY(nt_backward(s->work, loss));
    /* under mpirun: the trainer's gradient sum over the ranks (train/dist.h) */
    NT_TRY(nt_dist_allreduce_begin(NULL, s->m->params->grads, s->m->params->total));
    NT_TRY(nt_dist_allreduce_end(NULL));
    NT_TRY(nt_optim_step(s->opt, 1e-3));
    *loss_out = nt_f32(loss)[0];
    nt_ctx_reset(s->work);
    return NT_OK;
}

/* Under mpirun every rank must run as many steps as rank 0: its clock
 * decides (a broadcast); 1 to stop. */
static int rank0_says_stop(int stop) {
    double v[1] = {stop};
    return nt_dist_bcast(NULL, v, 1) != NT_OK || v[0] != 0;
}

/* One greedy run, the generic way: encode src1 (1, S), then G cached steps. */
static nt_status decode_run_generic(nt_model *m, nt_ctx *ctx, nt_kv_cache *cache, nt_tensor *src1, int first,
                            int G, int32_t *out) {
    nt_ctx_reset(ctx);
    nt_kv_cache_clear(cache);
    nt_tensor *mem = NULL, *tok, *lg;
    if (src1) NT_TRY(nt_model_encode(m, ctx, &mem, src1, NULL)); // (1, S, D)
    int V = m->cfg.vocab_size;
    int32_t cur = first;
    for (int i = 0; i < G; i++) {
        if (i > 0) nt_ctx_reset(ctx); /* step 0 still reads mem from the arena */
        NT_TRY(nt_tensor_from(ctx, &tok, NT_I32, 2, (int[]){1, 1}, &cur));
        NT_TRY(nt_model_decode(m, ctx, &lg, tok, NULL, NULL, i == 0 ? mem : NULL, NULL, cache, 0));
        const float *l = nt_f32(lg); // (1, 1, V)
        int best = 0;
        for (int j = 1; j < V; j++)
            if (l[j] > l[best]) best = j;
        cur = best;
        out[i] = cur;
    }
    return NT_OK;
}

/* One greedy run through nt_generate: the B sources at once, at most G
 * tokens each. *generated: tokens generated (<eos> included); out (or NULL):
 * the first source's tokens, G of them (<eos> and -1 after it). */
static nt_status decode_run_batch(nt_model *m, nt_ctx *ctx, const nt_generate_config *g,
                                  const int32_t *const *srcs, const int *lens, int B, int64_t *generated,
                                  int32_t *out) {
    nt_generate_result res;
    NT_TRY(nt_generate(&m->net, ctx, &res, g, srcs, lens, B));
    int64_t n = 0;
    for (int i = 0; i < B; i++) {
        const nt_generate_seq *q = nt_generate_result_get(&res, i, 0);
        n += q->len + q->finished;
        if (i == 0 && out)
            for (int k = 0; k < g->max_new_tokens; k++)
                out[k] = k < q->len ? q->tokens[k] : k == q->len && q->finished ? 2 : -1;
    }
    nt_generate_result_free(&res);
    *generated = n;
    return NT_OK;
}

/* User + system CPU seconds of the process so far (all threads). */
static double cpu_seconds(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + 1e-6 * u.ru_utime.tv_usec + (double)u.ru_stime.tv_sec + 1e-6 * u.ru_stime.tv_usec;
}

static double peak_rss_mb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}

int bench_model(const bench_opts *o) {
    const bench_config *c = NULL;
    for (size_t i = 0; i < sizeof configs / sizeof *configs; i++)
        if (!strcmp(configs[i].name, o->config)) c = &configs[i];
    if (!c) {
        fprintf(stderr, "nextok-bench: unknown config '%s' (choices: %s)\n", o->config, bench_config_names());
        return 2;
    }
    nt_model_config mc = nt_model_config_default();
    mc.arch = c->enc_layers ? NT_ARCH_ENCDEC : NT_ARCH_DECODER;
    mc.vocab_size = c->V;
    mc.d_model = c->D;
    mc.heads = c->H;
    mc.enc_layers = c->enc_layers;
    mc.dec_layers = c->dec_layers;
    mc.max_len = 256;

    nt_model *m = NULL;
    nt_optim *opt = NULL;
    nt_ctx *data = NULL, *work = NULL;
    nt_kv_cache *cache = NULL;
    int32_t *want = NULL;
    int rc = 1;
    nt_rng rng;
    nt_rng_seed(&rng, 0);
    nt_optim_config oc = nt_optim_config_default(NT_OPTIM_ADAMW);
    oc.lr = 1e-3, oc.beta1 = 0.9, oc.beta2 = 0.98, oc.eps = 1e-8, oc.weight_decay = 0.01;
    oc.decay_all = 1;
    int S = c->S > 0 ? c->S : 1;
    nt_tensor *src = NULL, *tgt = NULL, *tgt_in, *labels, *src1 = NULL;
    uint32_t seed = 12345;
    int32_t *out = NULL;
    const int32_t **srcs = NULL;
    int *lens = NULL;
    int profiling = o->skip_train || o->skip_decode; /* --only: no peak measurement */
    double peak_before = profiling ? 0 : sgemm_peak(2, o->threads);
    if (nt_model_new(&m, &mc) != NT_OK || nt_ctx_new(&data, 1 << 20) != NT_OK || nt_ctx_new(&work, 0) != NT_OK)
        goto fail;
    nt_model_init(m, &rng);
    nt_ctx_set_precision(work, (nt_precision)o->precision);
    if (nt_optim_new(&opt, m->params, &oc) != NT_OK) goto fail;
    /* src (B, S), tgt (B, T + 1): tgt_in = tgt[:, :-1], labels = tgt[:, 1:] */
    if (nt_tensor_new(data, &src, NT_I32, 2, (int[]){c->B, S}) != NT_OK ||
        nt_tensor_new(data, &tgt, NT_I32, 2, (int[]){c->B, c->T + 1}) != NT_OK ||
        nt_tensor_new(data, &tgt_in, NT_I32, 2, (int[]){c->B, c->T}) != NT_OK ||
        nt_tensor_new(data, &labels, NT_I32, 2, (int[]){c->B, c->T}) != NT_OK)
        goto fail;
    fill_tokens(nt_i32(src), src->n, c->V, &seed);
    fill_tokens(nt_i32(tgt), tgt->n, c->V, &seed);
    for (int b = 0; b < c->B; b++)
        for (int t = 0; t < c->T; t++) {
            nt_i32(tgt_in)[b * c->T + t] = nt_i32(tgt)[b * (c->T + 1) + t];
            nt_i32(labels)[b * c->T + t] = nt_i32(tgt)[b * (c->T + 1) + t + 1];
        }
    train_state ts = {.m = m, .opt = opt, .work = work, .src = c->enc_layers ? src : NULL,
                      .tgt_in = tgt_in, .labels = labels};
    float loss = 0;
    double t0, el, step_s = 0, dec_s = 0, gen_s = 0, batch_tok_s = 0, dec_cpu_tok_s = 0, batch_cpu_tok_s = 0;
    int steps = 0, runs = 0, gen_runs = 0, batch_runs = 0, bf16_same = -1;
    int64_t batch_tokens = 0, batch_short = 0; /* tokens of the timed batched runs; rows that stopped early */
    if (!o->skip_train) {
        for (int i = 0; i < 2; i++)
            if (train_step(&ts, &loss) != NT_OK) goto fail;
        nt_dist_stats_reset(NULL);
        t0 = bench_now();
        do {
            if (train_step(&ts, &loss) != NT_OK) goto fail;
            steps++;
        } while (!rank0_says_stop((el = bench_now() - t0) >= o->seconds));
        step_s = el / steps;
    }
    if (nt_dist_size(NULL) > 1) { /* data-parallel throughput: N batches per step */
        nt_dist_stats ds;
        nt_dist_stats_get(NULL, &ds);
        int N = nt_dist_size(NULL);
        double tok_s = (double)N * c->B * (c->S + c->T) / step_s;
        if (o->json)
            printf("{\"impl\": \"nextok-%s\", \"config\": \"%s\", \"ranks\": %d, \"threads\": %d, "
                   "\"params\": %lld, \"train_step_ms\": %.2f, \"train_tok_s\": %.1f, \"comm_wait_ms\": %.2f, "
                   "\"allreduce_mb\": %.2f}\n",
                   NT_BENCH_VERSION, c->name, N, o->threads, (long long)nt_model_num_params(m), step_s * 1e3,
                   tok_s, 1e3 * ds.wait_s / steps, ds.bytes / ds.reductions / 1e6);
        else
            printf("nextok-bench --config %s: %d ranks x %d thread(s): %.2f ms/step (%d steps), %.1f tokens/s "
                   "(all ranks), %.2f ms/step waiting for the gradient all-reduce (%.2f MB), loss %.4f\n",
                   c->name, N, o->threads, step_s * 1e3, steps, tok_s, 1e3 * ds.wait_s / steps,
                   ds.bytes / ds.reductions / 1e6, (double)loss);
        rc = 0;
        goto fail; /* (the cleanup) */
    }

    /* decoding, batch 1 */
    if (c->enc_layers && nt_tensor_wrap(data, &src1, NT_I32, 2, (int[]){1, S}, nt_i32(src)) != NT_OK) goto fail;
    if (nt_kv_cache_new(&cache, m, 1, c->G, c->enc_layers ? S : 1) != NT_OK) goto fail;
    nt_ctx_set_grad(work, 0);
    out = nt_malloc((size_t)c->G * sizeof *out);
    want = nt_malloc((size_t)c->G * sizeof *want);
    if (!out || !want) goto fail;
    int first = nt_i32(tgt)[0];
    int64_t dec_tokens = 0, dec_short = 0;
    if (!o->skip_decode) {
        srcs = nt_malloc((size_t)c->B * sizeof *srcs);
        lens = nt_malloc((size_t)c->B * sizeof *lens);
        if (!srcs || !lens) goto fail;
        for (int b = 0; b < c->B; b++) {
            srcs[b] = c->enc_layers ? nt_i32(src) + (size_t)b * S : NULL;
            lens[b] = c->enc_layers ? S : 0;
        }
        nt_generate_config gc = nt_generate_config_default();
        gc.max_new_tokens = c->G;
        int64_t n;
        /* batch 1, the users' path: its tokens are the graph path's (no
         * cache, fp32), then timed in the run's precision */
        nt_ctx_set_precision(work, NT_PREC_F32);
        gc.use_cache = 0;
        if (decode_run_batch(m, work, &gc, srcs, lens, 1, &n, want) != NT_OK) goto fail;
        gc.use_cache = 1;
        if (decode_run_batch(m, work, &gc, srcs, lens, 1, &n, out) != NT_OK) goto fail;
        for (int i = 0; i < c->G; i++)
            if (out[i] != want[i]) {
                nt_error(NT_ERR_STATE, "nt_generate chose token %d at step %d, the graph path %d", out[i], i,
                         want[i]);
                goto fail;
            }
        nt_ctx_set_precision(work, (nt_precision)o->precision);
        if (o->precision == NT_PREC_BF16) {
            if (decode_run_batch(m, work, &gc, srcs, lens, 1, &n, out) != NT_OK) goto fail;
            bf16_same = 0;
            while (bf16_same < c->G && out[bf16_same] == want[bf16_same]) bf16_same++;
        }
        t0 = bench_now();
        double c0 = cpu_seconds();
        do {
            if (decode_run_batch(m, work, &gc, srcs, lens, 1, &n, NULL) != NT_OK) goto fail;
            dec_tokens += n;
            dec_short += c->G - n;
            runs++;
        } while ((el = bench_now() - t0) < o->seconds / 2);
        dec_s = el * c->G / (double)dec_tokens; /* seconds per G tokens */
        dec_cpu_tok_s = dec_tokens / (cpu_seconds() - c0);
        /* The graph path with a cache, for the record (fp32). */
        nt_ctx_set_precision(work, NT_PREC_F32);
        t0 = bench_now();
        do {
            if (decode_run_generic(m, work, cache, src1, first, c->G, want) != NT_OK) goto fail;
            gen_runs++;
        } while ((el = bench_now() - t0) < o->seconds / 4);
        gen_s = el / gen_runs;

        /* batched: the B sources at once through nt_generate */
        nt_ctx_set_precision(work, (nt_precision)o->precision);
        if (decode_run_batch(m, work, &gc, srcs, lens, c->B, &n, NULL) != NT_OK) goto fail; /* warm-up */
        t0 = bench_now();
        c0 = cpu_seconds();
        do {
            if (decode_run_batch(m, work, &gc, srcs, lens, c->B, &n, NULL) != NT_OK) goto fail;
            batch_tokens += n;
            batch_short += (int64_t)c->B * c->G - n;
            batch_runs++;
        } while ((el = bench_now() - t0) < o->seconds / 2);
        batch_tok_s = batch_tokens / el;
        batch_cpu_tok_s = batch_tokens / (cpu_seconds() - c0);
    }
    double peak_after = profiling ? 0 : sgemm_peak(2, o->threads);
    double peak = peak_before > peak_after ? peak_before : peak_after;
    double flops = 3 * forward_flops(c);
    double mfu = step_s > 0 && peak > 0 ? flops / step_s * 1e-9 / peak : 0;
    int64_t tokens = (int64_t)c->B * (c->S + c->T);
    double rss = peak_rss_mb();

    const char *gb = nt_sgemm_backend();
    char gemm_name[32];
    snprintf(gemm_name, sizeof gemm_name, "%s%s", strcmp(gb, "openblas") ? "nt_sgemm-" : "", gb);
    if (o->json) {
        printf("{\"impl\": \"nextok-%s\", \"config\": \"%s\", \"threads\": %d, \"params\": %lld, "
               "\"train_step_ms\": %.2f, \"train_tok_s\": %.1f, \"decode_tok_s\": %.1f, "
               "\"peak_rss_mb\": %.1f, \"sgemm_peak_gflops\": %.1f, \"model_gflops\": %.1f, "
               "\"mfu\": %.3f, \"decode_generic_tok_s\": %.1f, \"batch_decode_tok_s\": %.1f, "
               "\"isa\": \"%s\", \"gemm\": \"%s\", \"precision\": \"%s\", \"gemm_bf16\": \"%s\", "
               "\"decode_cpu_tok_s\": %.1f, \"batch_decode_cpu_tok_s\": %.1f}\n",
               NT_BENCH_VERSION, c->name, o->threads, (long long)nt_model_num_params(m), step_s * 1e3,
               step_s > 0 ? tokens / step_s : 0, dec_s > 0 ? c->G / dec_s : 0, rss, peak,
               step_s > 0 ? flops / step_s * 1e-9 : 0, mfu,
               gen_s > 0 ? c->G / gen_s : 0, batch_tok_s, nt_isa_name(nt_isa()), gemm_name,
               nt_precision_name((nt_precision)o->precision),
               o->precision == NT_PREC_BF16 ? nt_gemm_bf16_kernel_name(nt_gemm_bf16_kernel_active()) : "none",
               dec_cpu_tok_s, batch_cpu_tok_s);
    } else {
        printf("nextok-bench --config %s: %d thread(s), %s\n", c->name, o->threads, nt_blas_info());
        printf("  kernels     ISA level %s (CPU: %s), gemm %s, fp32\n", nt_isa_name(nt_isa()),
               nt_isa_name(nt_isa_cpu()), gemm_name);
        printf("  model       V %d, D %d, H %d, %d + %d layers, %lld parameters\n", c->V, c->D, c->H,
               c->enc_layers, c->dec_layers, (long long)nt_model_num_params(m));
        printf("  training    B %d, S %d, T %d: %.2f ms/step (%d steps), %.1f tokens/s, loss %.4f\n", c->B,
               c->S, c->T, step_s * 1e3, steps, step_s > 0 ? tokens / step_s : 0, (double)loss);
        if (o->precision == NT_PREC_BF16)
            printf("              precision bf16: products on the %s kernel, float32 master weights\n",
                   nt_gemm_bf16_kernel_name(nt_gemm_bf16_kernel_active()));
        printf("  decoding    batch 1 through nt_generate, greedy, KV cache, %d tokens, %s weights: "
               "%.1f tokens/s (%d runs%s)\n", c->G, nt_precision_name((nt_precision)o->precision),
               dec_s > 0 ? c->G / dec_s : 0, runs, dec_short ? ", some ended early at <eos>" : "");
        printf("              the graph path with a KV cache (nt_model_decode), fp32: %.1f tokens/s (%d runs)\n",
               gen_s > 0 ? c->G / gen_s : 0, gen_runs);
        if (bf16_same >= 0)
            printf("              bf16 greedy tokens = float32 ones for the first %d of %d\n", bf16_same, c->G);
        printf("              batch %d through nt_generate, greedy, KV cache, %d tokens per row: "
               "%.1f tokens/s (%d runs%s)\n", c->B, c->G, batch_tok_s, batch_runs,
               batch_short ? ", some rows ended early at <eos>" : "");
        printf("  sgemm peak  2048^3: %.1f GFLOP/s (%.1f before, %.1f after)\n", peak, peak_before, peak_after);
        printf("  model FLOPs %.2f GFLOP/step, %.1f GFLOP/s = %.0f%% of the sgemm peak\n", flops * 1e-9,
               flops / step_s * 1e-9, 100 * mfu);
        printf("  peak RSS    %.1f MB (arena high-water mark %.1f MB)\n", rss, nt_ctx_peak(work) / 1048576.0);
    }
    rc = 0;
fail:
    if (rc) fprintf(stderr, "nextok-bench: %s\n", nt_errmsg());
    nt_free(out);
    nt_free(want);
    nt_free(srcs);
    nt_free(lens);
    nt_kv_cache_free(cache);
    nt_optim_free(opt);
    nt_ctx_free(work);
    nt_ctx_free(data);
    nt_model_free(m);
    return rc;
}
