/* test_trainer.c - the training loop: a tiny model memorises 32 pairs,
 * gradient accumulation equals one big batch, exact resume (stopped and
 * SIGKILLed), SIGTERM, NaN stop, freezing and vocabulary extension in
 * fine-tuning, the options' JSON round trip. */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/parallel.h"
#include "support/check.h"
#include "support/models.h"
#include "support/pairs_trainer.h"
#include "support/scratch.h"
#include "train/signals.h"
#include "data/batcher.h"
#include "data/number_corpus.h"
#include "train/checkpoint.h"
#include "train/finetune.h"
#include "train/trainer.h"

static int sanitized;

/* ---- a toy task: digits -> English words ------------------------------------------- */

typedef struct task {
    char *src[64], *tgt[64];
    int n;
    nt_vocab *vocab;
    nt_corpus *corpus;
} task;

static void task_make(task *t, int n, int max_number, uint64_t seed, const nt_vocab *vocab) {
    memset(t, 0, sizeof *t);
    nt_rng r;
    nt_rng_seed(&r, seed);
    t->n = n;
    for (int i = 0; i < n; i++) {
        int x = (int)nt_rng_below(&r, (uint64_t)max_number + 1);
        t->src[i] = malloc(NT_NUMBER_CORPUS_MAX_TEXT);
        t->tgt[i] = malloc(NT_NUMBER_CORPUS_MAX_TEXT);
        NT_ASSERT(nt_number_corpus_render(NT_NUMBER_FORM_DIGITS, x, t->src[i], NT_NUMBER_CORPUS_MAX_TEXT) == NT_OK);
        NT_ASSERT(nt_number_corpus_render(NT_NUMBER_FORM_EN, x, t->tgt[i], NT_NUMBER_CORPUS_MAX_TEXT) == NT_OK);
    }
    if (!vocab) {
        const char *texts[128];
        for (int i = 0; i < n; i++) texts[2 * i] = t->src[i], texts[2 * i + 1] = t->tgt[i];
        NT_ASSERT(nt_vocab_build(&t->vocab, NT_TOKENIZER_CHAR, texts, 2 * n, 1) == NT_OK);
        vocab = t->vocab;
    }
    NT_ASSERT(nt_corpus_from_pairs(&t->corpus, (const char *const *)t->src,
                                   (const char *const *)t->tgt, n, vocab) == NT_OK);
}

static void task_free(task *t) {
    for (int i = 0; i < t->n; i++) free(t->src[i]), free(t->tgt[i]);
    nt_corpus_free(t->corpus);
    nt_vocab_free(t->vocab);
}

static nt_model *tiny_model(int vocab_size, int d, int layers, uint64_t seed) {
    nt_rng r;
    nt_rng_seed(&r, seed);
    return nt_test_model(NT_ARCH_ENCDEC, vocab_size, d, 2, layers, layers, 64, &r);
}

static nt_trainer_config quiet_config(const char *run) {
    nt_trainer_config c = nt_trainer_config_default();
    snprintf(c.out_dir, sizeof c.out_dir, "%s", nt_scratch_path(run));
    c.progress = -2;
    c.eval_exact_max = -1;
    c.batch_tokens = 0;
    c.batch_sentences = 8;
    c.schedule = NT_SCHEDULE_CONSTANT;
    c.warmup = 0;
    c.log_every = 1;
    return c;
}

static nt_status train(const nt_trainer_config *c, nt_model *m, const task *t, const nt_corpus *valid,
                       nt_train_result *res) {
    nt_trainer *tr;
    NT_TRY(nt_test_pairs_trainer_new(&tr, c, m, t->vocab, t->corpus, valid));
    nt_status s = nt_trainer_run(tr, res);
    nt_test_pairs_trainer_free(tr);
    return s;
}

static int64_t count_lines(const char *path, const char *needle) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[4096];
    int64_t n = 0;
    while (fgets(line, sizeof line, f)) n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

/* ---- overfit: 32 pairs to 100% exact match ------------------------------------------ */

static void test_overfit(void) {
    task t;
    task_make(&t, 32, 999, 11, NULL);
    nt_model *m = tiny_model(nt_vocab_size(t.vocab), 64, 1, 1);
    nt_trainer_config c = quiet_config("overfit");
    c.steps = 1500;
    c.batch_sentences = 32;
    c.optim = NT_OPTIM_ADAMW;
    c.lr = 3e-3, c.warmup = 20, c.schedule = NT_SCHEDULE_INV_SQRT;
    c.label_smoothing = 0, c.dropout = 0;
    c.eval_every = sanitized ? 40 : 20, c.log_every = 20; /* fewer greedy decodes under ASan */
    c.metric = NT_TRAINER_METRIC_EXACT_MATCH;
    c.eval_exact_max = 0;
    c.target = 1.0; /* stop at the first evaluation at 100% */
    nt_train_result r;
    nt_status s = train(&c, m, &t, t.corpus, &r);
    CHECK(s == NT_OK, "overfit run: %s", nt_errmsg());
    CHECK(r.best_metric == 1.0, "exact match reached %.3f (best at step %lld)", r.best_metric,
          (long long)r.best_step);
    printf("  overfit: exact match %.1f%% of 32 pairs at step %lld (evaluated every %lld), "
           "train loss %.4f\n", 100.0 * r.best_metric, (long long)r.best_step, (long long)c.eval_every, r.loss);
    CHECK(strcmp(r.stop_reason, "target") == 0 && r.step == r.best_step, "stopped at the target (%s)",
          r.stop_reason);
    /* the best checkpoint holds the memorising weights: reload and re-evaluate */
    nt_model *m2;
    nt_vocab *v2;
    CHECK(nt_ckpt_load(nt_scratch_path("overfit/checkpoint-best.h5"), &m2, &v2) == NT_OK, "%s", nt_errmsg());
    nt_trainer_config c2 = c;
    snprintf(c2.out_dir, sizeof c2.out_dir, "%s", nt_scratch_path("overfit-eval"));
    nt_trainer *tr;
    CHECK(nt_test_pairs_trainer_new(&tr, &c2, m2, t.vocab, t.corpus, t.corpus) == NT_OK, "%s", nt_errmsg());
    nt_eval_result ev;
    CHECK(nt_trainer_evaluate(tr, &ev) == NT_OK, "%s", nt_errmsg());
    CHECK(ev.decode_metric == 1.0 && ev.n_decoded == 32 && ev.token_acc == 1.0, "reloaded best: %.3f %.3f",
          ev.decode_metric, ev.token_acc);
    nt_test_pairs_trainer_free(tr);
    nt_model_free(m2);
    nt_vocab_free(v2);
    /* metrics.jsonl: train lines every 20 steps and an eval line per evaluation */
    const char *mp = nt_scratch_path("overfit/metrics.jsonl");
    CHECK(count_lines(mp, "\"type\":\"eval\"") == r.step / c.eval_every, "eval lines %lld",
          (long long)count_lines(mp, "\"type\":\"eval\""));
    CHECK(count_lines(mp, "\"type\":\"train\"") == r.step / 20, "train lines");
    CHECK(count_lines(mp, "\"exact_match\":100") == 1, "one evaluation at 100%%, the last");
    nt_model_free(m);
    task_free(&t);
}

/* ---- accumulation: 4 micro-batches of 8 == one batch of 32 --------------------------- */

static void test_accumulation(void) {
    task t;
    task_make(&t, 32, 999, 21, NULL);
    nt_model *a = tiny_model(nt_vocab_size(t.vocab), 32, 1, 2);
    nt_model *b = tiny_model(nt_vocab_size(t.vocab), 32, 1, 2);
    float *init = malloc((size_t)a->params->total * 4);
    memcpy(init, a->params->values, (size_t)a->params->total * 4);
    /* SGD with lr 1: the update is the gradient itself */
    nt_trainer_config c = quiet_config("accum-a");
    c.steps = 1, c.optim = NT_OPTIM_SGD, c.lr = 1.0, c.weight_decay = 0, c.clip = 0;
    c.dropout = 0, c.label_smoothing = 0.1f, c.buckets = 1, c.eval_every = 0;
    c.batch_sentences = 32, c.accum = 1;
    nt_train_result ra, rb;
    CHECK(train(&c, a, &t, NULL, &ra) == NT_OK, "%s", nt_errmsg());
    snprintf(c.out_dir, sizeof c.out_dir, "%s", nt_scratch_path("accum-b"));
    c.batch_sentences = 8, c.accum = 4;
    CHECK(train(&c, b, &t, NULL, &rb) == NT_OK, "%s", nt_errmsg());
    double worst = 0, moved = 0;
    for (int64_t i = 0; i < a->params->total; i++) {
        double d = fabs((double)a->params->values[i] - b->params->values[i]);
        double g = fabs((double)a->params->values[i] - init[i]);
        worst = d > worst ? d : worst;
        moved = g > moved ? g : moved;
    }
    printf("  accumulation: max |update(32) - update(4 x 8)| = %.3g (largest update %.3g), loss %.7f vs %.7f\n",
           worst, moved, ra.loss, rb.loss);
    CHECK(worst <= 1e-6, "4 x 8 vs 32: max difference %.3g", worst);
    CHECK(moved > 1e-3, "the update is not trivial (%.3g)", moved);
    CHECK_CLOSE(ra.loss, rb.loss, 1e-6, 0);
    /* the tokens counter (train/checkpoint.h): source + target tokens, each
     * sentence with its <eos> / <bos>; one step here is the whole corpus */
    int64_t want = 0;
    for (int i = 0; i < t.n; i++) want += (int64_t)strlen(t.src[i]) + 1 + (int64_t)strlen(t.tgt[i]) + 1;
    CHECK(ra.tokens == want && rb.tokens == want, "tokens %lld and %lld, expected %lld (source + target)",
          (long long)ra.tokens, (long long)rb.tokens, (long long)want);
    nt_train_state ts;
    CHECK(nt_ckpt_load_train(nt_scratch_path("accum-a/checkpoint-last.h5"), &ts) == NT_OK && ts.tokens == want,
          "/train tokens %lld, expected %lld: %s", (long long)ts.tokens, (long long)want, nt_errmsg());
    free(init);
    nt_model_free(a);
    nt_model_free(b);
    task_free(&t);
}

/* ---- exact resume ------------------------------------------------------------------------ */

static nt_trainer_config resume_config(const char *run, int64_t steps) {
    nt_trainer_config c = quiet_config(run);
    c.steps = steps;
    c.optim = NT_OPTIM_ADAMW, c.lr = 2e-3, c.schedule = NT_SCHEDULE_COSINE, c.warmup = 3, c.lr_min = 1e-4;
    c.dropout = 0.1f, c.label_smoothing = 0.1f, c.clip = 0.5f;
    c.batch_sentences = 8, c.accum = 2, c.buckets = 2;
    c.eval_every = 4, c.patience = 0, c.eval_exact_max = 4;
    c.log_every = 2;
    return c;
}

/* The final state of a run: weights, moments, train state, from checkpoint-last.h5. */
typedef struct final_state {
    nt_model *m;
    nt_optim *o;
    nt_train_state ts;
} final_state;

static void final_load(final_state *f, const char *run) {
    char p[600];
    snprintf(p, sizeof p, "%s/checkpoint-last.h5", nt_scratch_path(run));
    nt_vocab *v;
    f->m = NULL, f->o = NULL;
    CHECK(nt_ckpt_load(p, &f->m, &v) == NT_OK, "%s", nt_errmsg());
    if (!f->m) return;
    nt_vocab_free(v);
    nt_optim_config oc = nt_optim_config_default(NT_OPTIM_ADAMW);
    NT_ASSERT(nt_optim_new(&f->o, f->m->params, &oc) == NT_OK);
    CHECK(nt_ckpt_load_optim(p, f->o) == NT_OK, "%s", nt_errmsg());
    CHECK(nt_ckpt_load_train(p, &f->ts) == NT_OK, "%s", nt_errmsg());
}

static void final_free(final_state *f) {
    nt_optim_free(f->o);
    nt_model_free(f->m);
}

static int final_equal(const final_state *a, const final_state *b) {
    if (!a->m || !b->m) return 0;
    size_t n = (size_t)a->m->params->total * 4;
    return a->m->params->total == b->m->params->total &&
           memcmp(a->m->params->values, b->m->params->values, n) == 0 &&
           memcmp(a->m->params->m, b->m->params->m, n) == 0 &&
           memcmp(a->m->params->v, b->m->params->v, n) == 0 && a->o->step == b->o->step &&
           a->ts.step == b->ts.step && a->ts.epoch == b->ts.epoch && a->ts.cursor == b->ts.cursor &&
           a->ts.rng.counter == b->ts.rng.counter && a->ts.tokens == b->ts.tokens &&
           (a->ts.best_metric == b->ts.best_metric) && a->ts.best_step == b->ts.best_step;
}

typedef struct kill_hook {
    int64_t at;
    int fd;
} kill_hook;

/* In the child: after the checkpoint at step `at`, tell the parent and wait to be killed. */
static void hook_wait_for_kill(void *user, int64_t step, const char *path) {
    kill_hook *h = user;
    if (step == h->at && strstr(path, "checkpoint-last")) {
        char c = 'k';
        if (write(h->fd, &c, 1) != 1) _exit(3);
        for (;;) pause();
    }
}

/* The child of test_resume: trains run "resume-c" and waits after the checkpoint at kill_at. */
static int kill_child(int fd, int64_t n, int64_t kill_at) {
    task t, v;
    task_make(&t, 32, 999, 31, NULL);
    task_make(&v, 8, 999, 32, t.vocab);
    nt_model *m = tiny_model(nt_vocab_size(t.vocab), 32, 1, 5);
    nt_trainer_config c = resume_config("resume-c", n);
    kill_hook h = {kill_at, fd};
    c.on_checkpoint = hook_wait_for_kill, c.user = &h;
    nt_trainer *tr;
    if (nt_test_pairs_trainer_new(&tr, &c, m, t.vocab, t.corpus, v.corpus) != NT_OK) return 2;
    nt_trainer_run(tr, NULL);
    return 4; /* never reached: killed at kill_at */
}

/* --precision bf16 through the trainer: the same 60 updates as fp32 land
 * near the same loss, the weights differ (the products really ran in bf16),
 * and the option survives the checkpoint's stored options. */
static void test_bf16(void) {
    task t;
    task_make(&t, 32, 999, 41, NULL);
    double loss[2];
    float *w[2];
    for (int p = 0; p < 2; p++) {
        nt_model *m = tiny_model(nt_vocab_size(t.vocab), 32, 1, 3);
        nt_trainer_config c = quiet_config(p ? "bf16" : "fp32");
        c.steps = 60, c.lr = 3e-3, c.dropout = 0, c.eval_every = 0, c.batch_sentences = 16;
        c.precision = p ? NT_PREC_BF16 : NT_PREC_F32;
        nt_train_result r;
        CHECK(train(&c, m, &t, NULL, &r) == NT_OK, "%s: %s", p ? "bf16" : "fp32", nt_errmsg());
        loss[p] = r.loss;
        w[p] = malloc((size_t)m->params->total * 4);
        memcpy(w[p], m->params->values, (size_t)m->params->total * 4);
        nt_model_free(m);
    }
    printf("  bf16: training loss after 60 updates %.4f (fp32 %.4f)\n", loss[1], loss[0]);
    CHECK(fabs(loss[1] - loss[0]) <= 0.05 * loss[0], "bf16 loss %.4f vs fp32 %.4f", loss[1], loss[0]);
    CHECK(memcmp(w[0], w[1], 64 * 4) != 0, "bf16 products change the weights' bits");
    nt_train_state ts;
    nt_trainer_config back = nt_trainer_config_default();
    CHECK(nt_ckpt_load_train(nt_scratch_path("bf16/checkpoint-last.h5"), &ts) == NT_OK &&
              nt_trainer_config_from_json(&back, ts.options) == NT_OK && back.precision == NT_PREC_BF16,
          "precision stored in the options");
    free(w[0]), free(w[1]);
    task_free(&t);
}

static void test_resume(void) {
    const int64_t N = sanitized ? 10 : 14, K = 6, KILL_AT = 8;
    task t, v;
    task_make(&t, 32, 999, 31, NULL);
    task_make(&v, 8, 999, 32, t.vocab);
    int V = nt_vocab_size(t.vocab);

    /* A: N steps straight */
    nt_model *m = tiny_model(V, 32, 1, 5);
    nt_trainer_config c = resume_config("resume-a", N);
    nt_train_result r;
    CHECK(train(&c, m, &t, v.corpus, &r) == NT_OK, "run A: %s", nt_errmsg());
    CHECK(r.step == N, "run A steps %lld", (long long)r.step);
    nt_model_free(m);

    /* B: stopped after K (as on SIGINT), then resumed to N in a new trainer and model */
    m = tiny_model(V, 32, 1, 5);
    c = resume_config("resume-b", N);
    c.stop_at = K;
    nt_status s = train(&c, m, &t, v.corpus, &r);
    CHECK(s == NT_ERR_INTERRUPTED && r.step == K, "run B stops at K: %s (%lld)", nt_status_name(s),
          (long long)r.step);
    CHECK(strstr(nt_errmsg(), "checkpoint saved to") != NULL && !strstr(nt_errmsg(), "nextok-translate"), "msg: %s",
          nt_errmsg());
    nt_model_free(m);
    m = tiny_model(V, 32, 1, 99); /* other weights: the resume must replace them all */
    c = resume_config("", N);
    c.out_dir[0] = 0;
    snprintf(c.resume, sizeof c.resume, "%s", nt_scratch_path("resume-b"));
    s = train(&c, m, &t, v.corpus, &r);
    CHECK(s == NT_OK && r.step == N, "run B resumed: %s (%lld)", nt_errmsg(), (long long)r.step);
    nt_model_free(m);

    /* C: a child process SIGKILLed right after the checkpoint at KILL_AT, resumed to N.
     * The child is this program run afresh (fork + exec): a forked copy of a
     * process whose OpenMP pool has started would hang in its first parallel loop. */
    int fds[2];
    NT_ASSERT(pipe(fds) == 0);
    fflush(NULL);
    pid_t pid = fork();
    NT_ASSERT(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        char a_fd[16], a_n[32], a_k[32];
        snprintf(a_fd, sizeof a_fd, "%d", fds[1]);
        snprintf(a_n, sizeof a_n, "%lld", (long long)N);
        snprintf(a_k, sizeof a_k, "%lld", (long long)KILL_AT);
        execl("/proc/self/exe", "test_trainer", "--kill-child", a_fd, nt_scratch, a_n, a_k, (char *)NULL);
        _exit(5);
    }
    close(fds[1]);
    char got = 0;
    ssize_t nr = read(fds[0], &got, 1);
    close(fds[0]);
    CHECK(nr == 1 && got == 'k', "child reached the checkpoint at %lld", (long long)KILL_AT);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child killed by SIGKILL");
    nt_train_state ts;
    CHECK(nt_ckpt_load_train(nt_scratch_path("resume-c/checkpoint-last.h5"), &ts) == NT_OK && ts.step == KILL_AT,
          "checkpoint of the killed run is at step %lld", (long long)ts.step);
    m = tiny_model(V, 32, 1, 77);
    c = resume_config("resume-c", N);
    snprintf(c.resume, sizeof c.resume, "%s", nt_scratch_path("resume-c/checkpoint-last.h5"));
    s = train(&c, m, &t, v.corpus, &r);
    CHECK(s == NT_OK && r.step == N, "run C resumed: %s", nt_errmsg());
    nt_model_free(m);

    final_state fa, fb, fc;
    final_load(&fa, "resume-a");
    final_load(&fb, "resume-b");
    final_load(&fc, "resume-c");
    int ab = final_equal(&fa, &fb), ac = final_equal(&fa, &fc);
    printf("  resume: %lld steps straight vs stopped at %lld and resumed: %s; vs SIGKILL after the "
           "checkpoint at %lld and resumed: %s\n",
           (long long)N, (long long)K, ab ? "bitwise identical" : "DIFFERENT", (long long)KILL_AT,
           ac ? "bitwise identical" : "DIFFERENT");
    CHECK(ab, "stopped + resumed run is bitwise identical to the straight run");
    CHECK(ac, "killed + resumed run is bitwise identical to the straight run");
    CHECK(fa.ts.epoch >= 2, "the runs crossed epochs (%lld)", (long long)fa.ts.epoch);
    /* metrics of the resumed runs: no duplicated steps */
    CHECK(count_lines(nt_scratch_path("resume-a/metrics.jsonl"), "\"type\":\"train\"") == N / 2, "A train lines");
    CHECK(count_lines(nt_scratch_path("resume-b/metrics.jsonl"), "\"type\":\"train\"") == N / 2, "B train lines");
    CHECK(count_lines(nt_scratch_path("resume-c/metrics.jsonl"), "\"type\":\"train\"") == N / 2, "C train lines");
    final_free(&fa), final_free(&fb), final_free(&fc);

    /* a weights-only file cannot be resumed: named error */
    nt_model *em;
    nt_vocab *ev;
    CHECK(nt_ckpt_load(nt_scratch_path("resume-a/checkpoint-last.h5"), &em, &ev) == NT_OK, "load");
    CHECK(nt_ckpt_export(nt_scratch_path("weights-only.h5"), &em->net, ev) == NT_OK, "export");
    c = resume_config("resume-w", N);
    snprintf(c.resume, sizeof c.resume, "%s", nt_scratch_path("weights-only.h5"));
    nt_trainer *tr;
    CHECK(nt_test_pairs_trainer_new(&tr, &c, em, t.vocab, t.corpus, NULL) == NT_ERR_FORMAT, "weights-only resume");
    CHECK(strstr(nt_errmsg(), "/optim is missing"), "msg: %s", nt_errmsg());
    nt_model_free(em);
    nt_vocab_free(ev);
    task_free(&v);
    task_free(&t);
}

/* ---- signals and NaN ------------------------------------------------------------------- */

static void hook_sigterm(void *user, int64_t step, const char *path) {
    (void)user, (void)path;
    if (step == 2) raise(SIGTERM);
}

static void hook_poison(void *user, int64_t step, const char *path) {
    nt_model *m = user;
    (void)path;
    if (step == 3) nt_f32(m->embed)[5] = NAN; /* the weights diverge after the save */
}

static void test_signal_and_nan(void) {
    task t;
    task_make(&t, 16, 999, 41, NULL);
    int V = nt_vocab_size(t.vocab);
    nt_model *m = tiny_model(V, 32, 1, 6);
    nt_trainer_config c = quiet_config("sigterm");
    c.steps = 50, c.save_every = 1, c.eval_every = 0;
    c.on_checkpoint = hook_sigterm;
    nt_train_result r;
    nt_status s = train(&c, m, &t, NULL, &r);
    CHECK(s == NT_ERR_INTERRUPTED && r.step == 3 && strcmp(r.stop_reason, "interrupted") == 0,
          "SIGTERM: %s at %lld", nt_status_name(s), (long long)r.step);
    CHECK(strstr(nt_errmsg(), "SIGTERM") && strstr(nt_errmsg(), "checkpoint saved to"), "msg: %s", nt_errmsg());
    nt_train_state ts;
    CHECK(nt_ckpt_load_train(nt_scratch_path("sigterm/checkpoint-last.h5"), &ts) == NT_OK && ts.step == 3,
          "checkpoint at the interrupt");
    nt_signals_clear();
    nt_model_free(m);

    /* a time budget alone: stops on the clock */
    m = tiny_model(V, 32, 1, 6);
    c = quiet_config("time");
    c.steps = 0, c.minutes = 0.0005, c.eval_every = 0, c.schedule = NT_SCHEDULE_COSINE, c.warmup = 2;
    s = train(&c, m, &t, NULL, &r);
    CHECK(s == NT_OK && strcmp(r.stop_reason, "time") == 0 && r.step >= 1 && r.seconds >= 0.03,
          "time budget: %s, %s after %lld steps, %.3f s", nt_status_name(s), r.stop_reason,
          (long long)r.step, r.seconds);
    nt_model_free(m);

    /* early stopping: with lr 0 nothing improves after the first evaluation;
     * the equal evaluations after it are ties, so checkpoint-best follows
     * them (step 3) while the patience runs out */
    m = tiny_model(V, 32, 1, 6);
    c = quiet_config("patience");
    c.steps = 50, c.lr = 0, c.eval_every = 1, c.patience = 2, c.metric = NT_TRAINER_METRIC_TOKEN_ACC;
    s = train(&c, m, &t, t.corpus, &r);
    CHECK(s == NT_OK && strcmp(r.stop_reason, "early_stop") == 0 && r.step == 3 && r.best_step == 3,
          "patience 2: %s at %lld, best at %lld", r.stop_reason, (long long)r.step, (long long)r.best_step);
    CHECK(r.best_metric == r.eval.token_acc && r.best_metric > 0, "best token_acc %.3f", r.best_metric);
    nt_model_free(m);

    /* a second signal while the first is pending ends the process (a child
     * that runs no OpenMP code, so a plain fork is safe) */
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        nt_signals_install();
        raise(SIGINT);
        if (nt_signals_pending() != SIGINT) _exit(2);
        raise(SIGINT);
        _exit(3); /* not reached */
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT, "second SIGINT ends the process (status %d)",
          status);

    /* the handlers of before the run are back */
    struct sigaction sa;
    sigaction(SIGTERM, NULL, &sa);
    CHECK(sa.sa_handler == SIG_DFL, "SIGTERM handler restored");

    m = tiny_model(V, 32, 1, 6);
    c = quiet_config("nan");
    c.steps = 50, c.save_every = 1, c.eval_every = 0;
    c.on_checkpoint = hook_poison, c.user = m;
    s = train(&c, m, &t, NULL, &r);
    CHECK(s == NT_ERR_NUMERIC && r.step == 3 && strcmp(r.stop_reason, "nan") == 0, "NaN: %s at %lld",
          nt_status_name(s), (long long)r.step);
    CHECK(strstr(nt_errmsg(), "step 4") && strstr(nt_errmsg(), "NaN") &&
              strstr(nt_errmsg(), "last good checkpoint") && strstr(nt_errmsg(), "(step 3)"),
          "msg: %s", nt_errmsg());
    nt_model *good;
    nt_vocab *gv;
    CHECK(nt_ckpt_load(nt_scratch_path("nan/checkpoint-last.h5"), &good, &gv) == NT_OK, "%s", nt_errmsg());
    int finite = 1;
    for (int64_t i = 0; i < good->params->total; i++) finite &= isfinite(good->params->values[i]) != 0;
    CHECK(finite, "the kept checkpoint is finite");
    nt_model_free(good);
    nt_vocab_free(gv);
    nt_model_free(m);
    task_free(&t);
}

/* ---- fine-tuning: freeze, vocabulary mismatch and extension ------------------------------ */

static void test_finetune(void) {
    task t;
    task_make(&t, 16, 999, 51, NULL);
    int V = nt_vocab_size(t.vocab);
    nt_model *m = tiny_model(V, 32, 1, 7);
    nt_trainer_config c = quiet_config("base");
    c.steps = 3, c.eval_every = 0;
    nt_train_result r;
    CHECK(train(&c, m, &t, NULL, &r) == NT_OK, "%s", nt_errmsg());
    const char *base = nt_scratch_path("base/checkpoint-last.h5");

    /* new data in another language: symbols the vocabulary lacks */
    const char *fr_src[] = {"80", "21"}, *fr_tgt[] = {"quatre-vingts", "vingt et un"};
    const char *texts[] = {fr_src[0], fr_tgt[0], fr_src[1], fr_tgt[1]};
    nt_model *fm = NULL;
    nt_vocab *fv = NULL;
    int added = -1;
    CHECK(nt_finetune_load(base, texts, 4, 0, 1, &fm, &fv, &added) == NT_ERR_ARG && !fm,
          "mismatch refused");
    CHECK(strstr(nt_errmsg(), "vocabulary mismatch") && !strstr(nt_errmsg(), "--extend-vocab"), "msg: %s",
          nt_errmsg());
    CHECK(nt_finetune_load(base, texts, 4, 1, 1, &fm, &fv, &added) == NT_OK, "%s", nt_errmsg());
    CHECK(added > 0 && nt_vocab_size(fv) == V + added && fm->cfg.vocab_size == V + added, "extended by %d",
          added);
    nt_model *bm;
    nt_vocab *bv;
    NT_ASSERT(nt_ckpt_load(base, &bm, &bv) == NT_OK);
    CHECK(memcmp(nt_f32(fm->embed), nt_f32(bm->embed), (size_t)V * 32 * 4) == 0, "old rows kept bitwise");
    int same_tokens = 1;
    for (int i = 0; i < V; i++) same_tokens &= strcmp(nt_vocab_token(fv, i), nt_vocab_token(bv, i)) == 0;
    CHECK(same_tokens, "old token ids unchanged");
    double ss = 0;
    for (int64_t e = (int64_t)V * 32; e < fm->embed->n; e++) ss += (double)nt_f32(fm->embed)[e] * nt_f32(fm->embed)[e];
    double sd = sqrt(ss / (double)(fm->embed->n - (int64_t)V * 32));
    CHECK(sd > 0.005 && sd < 0.06, "new rows initialised (std %.4f)", sd);
    int p_enc = nt_params_find(fm->params, "encoder.layers.0.self_attn.q.weight");
    CHECK(memcmp(nt_f32(&fm->params->tensors[p_enc]),
                 nt_f32(&bm->params->tensors[nt_params_find(bm->params, "encoder.layers.0.self_attn.q.weight")]),
                 (size_t)fm->params->tensors[p_enc].n * 4) == 0,
          "other weights copied");

    /* fine-tune with the encoder and the embedding frozen: they stay bitwise */
    nt_corpus *fc;
    NT_ASSERT(nt_corpus_from_pairs(&fc, fr_src, fr_tgt, 2, fv) == NT_OK);
    float *before = malloc((size_t)fm->params->total * 4);
    memcpy(before, fm->params->values, (size_t)fm->params->total * 4);
    c = quiet_config("finetune");
    c.steps = 4, c.eval_every = 0, c.weight_decay = 0.1, c.dropout = 0.1f;
    snprintf(c.freeze, sizeof c.freeze, "encoder.,embed.");
    nt_trainer *tr;
    CHECK(nt_test_pairs_trainer_new(&tr, &c, fm, fv, fc, NULL) == NT_OK, "%s", nt_errmsg());
    CHECK(nt_trainer_optim(tr)->step == 0, "fresh optimizer");
    CHECK(nt_trainer_run(tr, &r) == NT_OK && r.step == 4, "finetune: %s", nt_errmsg());
    nt_test_pairs_trainer_free(tr);
    int frozen_same = 1, others_moved = 0;
    for (int i = 0; i < fm->params->count; i++) {
        const char *nm = fm->params->names[i];
        const nt_tensor *pt = &fm->params->tensors[i];
        int same = memcmp(nt_f32(pt), before + fm->params->offsets[i], (size_t)pt->n * 4) == 0;
        if (strncmp(nm, "encoder.", 8) == 0 || strncmp(nm, "embed.", 6) == 0) frozen_same &= same;
        else others_moved += !same;
    }
    CHECK(frozen_same, "frozen parameters bitwise unchanged");
    CHECK(others_moved > 10, "unfrozen parameters trained (%d moved)", others_moved);
    /* a prefix that matches nothing is refused */
    snprintf(c.freeze, sizeof c.freeze, "encoders.");
    CHECK(nt_test_pairs_trainer_new(&tr, &c, fm, fv, fc, NULL) == NT_ERR_ARG && strstr(nt_errmsg(), "'encoders.'"),
          "bad prefix: %s", nt_errmsg());
    free(before);
    nt_corpus_free(fc);
    nt_model_free(bm);
    nt_vocab_free(bv);
    nt_model_free(fm);
    nt_vocab_free(fv);
    nt_model_free(m);
    task_free(&t);
}

/* ---- a decoder-only model: the same loop on <bos> source <sep> target ------------------ */

static void test_decoder_only(void) {
    task t;
    task_make(&t, 16, 999, 61, NULL);
    nt_model_config mc = nt_model_config_default();
    mc.arch = NT_ARCH_DECODER, mc.vocab_size = nt_vocab_size(t.vocab), mc.d_model = 32, mc.heads = 2;
    mc.enc_layers = 0, mc.dec_layers = 2, mc.max_len = 64;
    nt_model *m;
    NT_ASSERT(nt_model_new(&m, &mc) == NT_OK);
    nt_rng r;
    nt_rng_seed(&r, 3);
    nt_model_init(m, &r);
    nt_trainer_config c = quiet_config("decoder");
    c.steps = 30, c.lr = 3e-3, c.eval_every = 15, c.eval_exact_max = 4, c.batch_sentences = 16;
    nt_trainer *tr;
    CHECK(nt_test_pairs_trainer_new(&tr, &c, m, t.vocab, t.corpus, t.corpus) == NT_OK, "%s", nt_errmsg());
    nt_eval_result e0, e1;
    CHECK(nt_trainer_evaluate(tr, &e0) == NT_OK, "%s", nt_errmsg());
    nt_train_result res;
    CHECK(nt_trainer_run(tr, &res) == NT_OK && res.step == 30, "decoder-only run: %s", nt_errmsg());
    CHECK(nt_trainer_evaluate(tr, &e1) == NT_OK && e1.n_decoded == 4, "%s", nt_errmsg());
    CHECK(e1.loss < e0.loss - 0.5, "validation loss falls: %.3f -> %.3f", e0.loss, e1.loss);
    CHECK(e1.n_tokens == e0.n_tokens && e1.n_sentences == 16, "scored the targets only (%lld tokens)",
          (long long)e1.n_tokens);
    int64_t want = 0;
    for (int i = 0; i < t.corpus->n; i++) want += t.corpus->tgt_len[i] + 1;
    CHECK(e1.n_tokens == want, "target tokens + <eos>: %lld, expected %lld", (long long)e1.n_tokens,
          (long long)want);
    nt_test_pairs_trainer_free(tr);
    nt_model_free(m);
    task_free(&t);
}

/* ---- options -------------------------------------------------------------------------------- */

/* checkpoint-best: a better metric wins; an equal one is an improvement with
 * a lower validation loss (a saturated exact match still tracks the loss),
 * else a tie (checkpoint-best moves to the later one, the patience counts). */
static void test_eval_compare(void) {
    const nt_trainer_metric EM = NT_TRAINER_METRIC_EXACT_MATCH, L = NT_TRAINER_METRIC_LOSS;
    const nt_eval_rank W = NT_EVAL_WORSE, T = NT_EVAL_TIE, B = NT_EVAL_BETTER;
    CHECK(nt_eval_compare(EM, 0.5, 1.0, NAN, NAN) == B, "first evaluation");
    CHECK(nt_eval_compare(EM, NAN, 1.0, NAN, NAN) == W, "NaN metric");
    CHECK(nt_eval_compare(EM, 0.9, 2.0, 0.8, 1.0) == B, "higher exact match, worse loss");
    CHECK(nt_eval_compare(EM, 0.7, 0.5, 0.8, 1.0) == W, "lower exact match, better loss");
    CHECK(nt_eval_compare(EM, 1.0, 0.9, 1.0, 1.0) == B, "tie, lower loss");
    CHECK(nt_eval_compare(EM, 1.0, 1.0, 1.0, 1.0) == T, "tie, same loss");
    CHECK(nt_eval_compare(EM, 1.0, 1.1, 1.0, 1.0) == T, "tie, higher loss");
    CHECK(nt_eval_compare(EM, 1.0, NAN, 1.0, 1.0) == W, "tie, NaN loss");
    CHECK(nt_eval_compare(EM, 1.0, 0.9, 1.0, NAN) == B, "tie, no best loss (old checkpoint)");
    CHECK(nt_eval_compare(L, 0.4, 0.4, 0.5, 0.5) == B && nt_eval_compare(L, 0.5, 0.5, 0.5, 0.5) == T &&
              nt_eval_compare(L, 0.6, 0.6, 0.5, 0.5) == W,
          "loss metric: lower wins, equal ties, higher loses");
}

static void test_options(void) {
    nt_trainer_config a = nt_trainer_config_default(), b = nt_trainer_config_default();
    a.steps = 1234, a.lr = 3.5e-4, a.optim = NT_OPTIM_SGD, a.momentum = 0.9, a.nesterov = 1;
    a.schedule = NT_SCHEDULE_INV_SQRT, a.metric = NT_TRAINER_METRIC_EXACT_MATCH, a.seed = 18446744073709551615ULL;
    a.clip = 0.25f, a.minutes = 2.5;
    snprintf(a.out_dir, sizeof a.out_dir, "runs/\"q\"\\x\ty");
    snprintf(a.freeze, sizeof a.freeze, "encoder.,embed.");
    char json[NT_TRAIN_OPTIONS_MAX];
    CHECK(nt_trainer_config_to_json(&a, json, sizeof json) == NT_OK, "%s", nt_errmsg());
    CHECK(nt_trainer_config_from_json(&b, json) == NT_OK, "%s (%s)", nt_errmsg(), json);
    CHECK(b.steps == 1234 && b.lr == 3.5e-4 && b.optim == NT_OPTIM_SGD && b.momentum == 0.9 &&
              b.nesterov == 1 && b.schedule == NT_SCHEDULE_INV_SQRT && b.metric == NT_TRAINER_METRIC_EXACT_MATCH &&
              b.seed == a.seed && b.clip == 0.25f && b.minutes == 2.5,
          "round trip: %s", json);
    CHECK(strcmp(a.out_dir, b.out_dir) == 0 && strcmp(a.freeze, b.freeze) == 0, "strings: %s", b.out_dir);
    CHECK(nt_trainer_config_from_json(&b, "{\"stpes\": 3}") == NT_ERR_FORMAT &&
              strstr(nt_errmsg(), "\"stpes\""),
          "unknown key: %s", nt_errmsg());
    CHECK(nt_trainer_config_from_json(&b, "{\"steps\": 2.5}") == NT_ERR_FORMAT, "int field with 2.5");
    CHECK(nt_trainer_config_from_json(&b, "{\"optim\": \"lamb\"}") == NT_ERR_FORMAT, "bad enum");
    char small[16];
    CHECK(nt_trainer_config_to_json(&a, small, sizeof small) == NT_ERR_ARG, "small buffer");

    nt_trainer_config c = nt_trainer_config_default();
    c.accum = 0;
    CHECK(nt_trainer_config_check(&c) == NT_ERR_ARG && strstr(nt_errmsg(), "accum 0"), "accum");
    c = nt_trainer_config_default();
    c.steps = 0;
    CHECK(nt_trainer_config_check(&c) == NT_ERR_ARG && strstr(nt_errmsg(), "no budget"), "budget");
    c = nt_trainer_config_default();
    c.steps = 50, c.warmup = 100;
    CHECK(nt_trainer_config_check(&c) == NT_ERR_ARG && strstr(nt_errmsg(), "warmup"), "%s", nt_errmsg());
    c = nt_trainer_config_default();
    c.beta2 = 1.0;
    CHECK(nt_trainer_config_check(&c) == NT_ERR_ARG && strstr(nt_errmsg(), "beta2"), "beta2");
    nt_trainer_metric mt;
    CHECK(nt_trainer_metric_parse("bleu", &mt) == NT_ERR_ARG && strstr(nt_errmsg(), "'bleu'"), "metric parse");
}

/* ---- the evaluator's decode-and-compare hook: a metric of the caller's own -------------- */

typedef struct my_metric {
    const nt_corpus *c;
    int prompts, scores, fail_at;
    int out_len[8];
} my_metric;

static nt_status my_prompt(void *user, int i, const int32_t **ids, int *len) {
    my_metric *m = user;
    m->prompts++;
    if (i == m->fail_at) return nt_error(NT_ERR_FORMAT, "no prompt for this one");
    *ids = m->c->ids + m->c->src_off[i], *len = m->c->src_len[i];
    return NT_OK;
}

static double my_score(void *user, int i, const nt_generate_seq *out) {
    my_metric *m = user;
    m->scores++;
    if (i < 8) m->out_len[i] = out->len;
    return i % 3 == 0 ? 1.0 : 0.25; /* items 0, 3: 1; others 0.25 */
}

static void test_decode_hook(void) {
    task t;
    task_make(&t, 8, 999, 5, NULL);
    nt_model *m = tiny_model(nt_vocab_size(t.vocab), 16, 1, 3);
    nt_trainer_config c = quiet_config("decode-hook");
    c.steps = 2, c.eval_every = 2, c.eval_exact_max = 5;
    nt_batcher_config bc = nt_batcher_config_default();
    bc.max_tokens = 0, bc.max_sentences = 8, bc.max_len = m->cfg.max_len, bc.shuffle = 0;
    nt_data_source *st = NULL, *sv = NULL;
    CHECK(nt_pairs_source_new(&st, t.corpus, &bc) == NT_OK && nt_pairs_source_new(&sv, t.corpus, &bc) == NT_OK,
          "sources: %s", nt_errmsg());
    my_metric mm = {.c = t.corpus, .fail_at = -1};
    nt_eval_decoder d = {.name = "my_metric", .n = 8, .gen = nt_generate_config_default(),
                         .prompt = my_prompt, .score = my_score, .user = &mm};
    d.gen.max_new_tokens = 6;
    nt_evaluator ev = {.batches = sv, .decode = &d};
    nt_trainer *tr = NULL;
    CHECK(nt_trainer_new(&tr, &c, &m->net, t.vocab, st, &ev) == NT_OK, "trainer: %s", nt_errmsg());
    nt_eval_result r;
    CHECK(tr && nt_trainer_evaluate(tr, &r) == NT_OK, "evaluate: %s", nt_errmsg());
    /* items 0..4 (eval_exact_max 5): scores 1, .25, .25, 1, .25 */
    CHECK(r.n_decoded == 5 && fabs(r.decode_metric - 2.75 / 5) < 1e-12 && mm.prompts == 5 && mm.scores == 5,
          "decode metric %.6f of %d (prompts %d, scores %d)", r.decode_metric, r.n_decoded, mm.prompts, mm.scores);
    /* score() saw nt_generate's output for the item's prompt */
    nt_ctx *ctx;
    CHECK(nt_ctx_new(&ctx, 0) == NT_OK, "ctx");
    int same = 1;
    for (int i = 0; i < 5; i++) {
        const int32_t *src = t.corpus->ids + t.corpus->src_off[i];
        int len = t.corpus->src_len[i];
        nt_generate_result g;
        same &= nt_generate(&m->net, ctx, &g, &d.gen, &src, &len, 1) == NT_OK && g.seqs[0].len == mm.out_len[i];
        nt_generate_result_free(&g);
    }
    CHECK(same, "score() did not see nt_generate's outputs");
    nt_ctx_free(ctx);
    nt_train_result res;
    CHECK(tr && nt_trainer_run(tr, &res) == NT_OK, "run: %s", nt_errmsg());
    nt_trainer_free(tr);
    CHECK(count_lines(nt_scratch_path("decode-hook/metrics.jsonl"), "\"my_metric\":55") == 1,
          "metrics.jsonl names the metric by the decoder's name");
    /* a prompt error comes back naming the metric and the item */
    mm.fail_at = 2;
    snprintf(c.out_dir, sizeof c.out_dir, "%s", nt_scratch_path("decode-hook2"));
    CHECK(nt_trainer_new(&tr, &c, &m->net, t.vocab, st, &ev) == NT_OK, "trainer: %s", nt_errmsg());
    CHECK(tr && nt_trainer_evaluate(tr, &r) == NT_ERR_FORMAT && strstr(nt_errmsg(), "my_metric: item 2") &&
              strstr(nt_errmsg(), "no prompt"),
          "prompt error: %s", nt_errmsg());
    nt_trainer_free(tr);
    /* a bad decoder is refused when the trainer is made */
    d.name = "My Metric";
    CHECK(nt_trainer_new(&tr, &c, &m->net, t.vocab, st, &ev) == NT_ERR_ARG && strstr(nt_errmsg(), "name"),
          "bad name: %s", nt_errmsg());
    nt_data_source_free(st), nt_data_source_free(sv);
    nt_model_free(m);
    task_free(&t);
}

int main(int argc, char **argv) {
    sanitized = getenv("NT_SANITIZED") != NULL;
    /* Under ASan one thread: on a loaded 2-core machine every OpenMP barrier waits for a
     * descheduled thread, and memory errors do not need two. Same count in the kill child. */
    nt_threads_set(sanitized ? 1 : 2);
    if (argc == 6 && strcmp(argv[1], "--kill-child") == 0) {
        snprintf(nt_scratch, sizeof nt_scratch, "%s", argv[3]);
        return kill_child(atoi(argv[2]), atoll(argv[4]), atoll(argv[5]));
    }
    CHECK(nt_scratch_begin("nt_test_trainer"), "mkdtemp");
    test_eval_compare();
    test_options();
    test_accumulation();
    test_bf16();
    test_resume();
    test_signal_and_nan();
    test_finetune();
    test_decoder_only();
    test_decode_hook();
    test_overfit();
    nt_scratch_end();
    return nt_check_report("test_trainer");
}
