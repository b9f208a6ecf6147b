/* test_optim.c - SGD/Adam/AdamW against hand-computed updates and PyTorch
 * (tests/fixtures/optim.txt from tests/make_optim_fixture.py), the no-decay
 * rule, clipping, freezing, thread-count independence, argument errors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/parallel.h"
#include "support/check.h"
#include "support/fixtures.h"
#include "nn/model.h"
#include "train/optim.h"

/* The decay rule of the reference's optimizer groups (torch_ref.py and the
 * fixture script), by name: no decay for biases, LayerNorms ("ln" or "ln_*"
 * segments), the token embedding and the positions. The library infers
 * nothing from names; the transformer declares its flags, and
 * test_decay_rule checks they are this rule. */
static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

static int reference_decays(const char *name) {
    if (ends_with(name, ".bias") || strcmp(name, "embed.weight") == 0 || ends_with(name, ".pos.weight")) return 0;
    for (const char *s = name;;) {
        const char *dot = strchr(s, '.');
        size_t n = dot ? (size_t)(dot - s) : strlen(s);
        if ((n == 2 && memcmp(s, "ln", 2) == 0) || (n > 3 && memcmp(s, "ln_", 3) == 0)) return 0;
        if (!dot) return 1;
        s = dot + 1;
    }
}

/* A block with the given names and shapes (1-D of n or 2-D r x c), flags
 * declared by the reference's rule. */
static nt_params *make_params(int count, const char *const *names, const int (*shapes)[3]) {
    nt_params *p;
    NT_ASSERT(nt_params_new(&p) == NT_OK);
    for (int i = 0; i < count; i++)
        NT_ASSERT(nt_params_declare(p, names[i], shapes[i][0], &shapes[i][1],
                                    reference_decays(names[i]) ? NT_PARAM_DECAY : 0) == i);
    NT_ASSERT(nt_params_alloc(p) == NT_OK);
    return p;
}

/* The transformer's declared flags are the reference's decay set, for both
 * architectures; and the optimizer follows the flags, not the names. */
static void test_decay_rule(void) {
    for (int arch = 0; arch < 2; arch++) {
        nt_model_config mc = nt_model_config_default();
        mc.arch = arch ? NT_ARCH_DECODER : NT_ARCH_ENCDEC;
        mc.vocab_size = 11, mc.d_model = 8, mc.heads = 2, mc.max_len = 8;
        mc.enc_layers = arch ? 0 : 2, mc.dec_layers = 2;
        nt_model *m;
        NT_ASSERT(nt_model_new(&m, &mc) == NT_OK);
        nt_optim_config c = nt_optim_config_default(NT_OPTIM_ADAMW);
        nt_optim *o;
        NT_ASSERT(nt_optim_new(&o, m->params, &c) == NT_OK);
        int n_decayed = 0;
        for (int i = 0; i < m->params->count; i++) {
            const char *name = m->params->names[i];
            CHECK(nt_optim_decays(o, i) == reference_decays(name), "%s: decays %d, reference %d", name,
                  nt_optim_decays(o, i), reference_decays(name));
            n_decayed += nt_optim_decays(o, i);
        }
        /* q, k, v, o, fc, proj per self-attention block; + 4 cross-attention matrices */
        CHECK(n_decayed == (arch ? 2 * 6 : 2 * 6 + 2 * 10), "decayed matrices: %d", n_decayed);
        nt_optim_free(o);
        nt_model_free(m);
    }
    /* Names mean nothing: "fc.b" declared with decay decays, "ln.weight" and
     * "w" declared without do not; a frozen one is never updated. */
    nt_params *p;
    NT_ASSERT(nt_params_new(&p) == NT_OK);
    NT_ASSERT(nt_params_declare(p, "fc.b", 1, (int[]){2}, NT_PARAM_DECAY) == 0);
    NT_ASSERT(nt_params_declare(p, "ln.weight", 1, (int[]){2}, NT_PARAM_DECAY) == 1);
    NT_ASSERT(nt_params_declare(p, "w", 1, (int[]){2}, 0) == 2);
    NT_ASSERT(nt_params_declare(p, "frozen.weight", 1, (int[]){2}, NT_PARAM_DECAY | NT_PARAM_FROZEN) == 3);
    CHECK(nt_params_declare(p, "bad", 1, (int[]){2}, 64) == -1 && strstr(nt_errmsg(), "unknown flags"),
          "unknown flag refused: %s", nt_errmsg());
    NT_ASSERT(nt_params_alloc(p) == NT_OK);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 2; j++) p->values[p->offsets[i] + j] = 1.0f, p->grads[p->offsets[i] + j] = 0.0f;
    nt_optim_config c = nt_optim_config_default(NT_OPTIM_ADAMW);
    c.weight_decay = 0.5;
    nt_optim *o;
    NT_ASSERT(nt_optim_new(&o, p, &c) == NT_OK);
    NT_ASSERT(nt_optim_step(o, 0.1) == NT_OK); /* zero gradients: only the decay moves a value */
    CHECK(p->values[p->offsets[0]] == 0.95f, "fc.b decayed: %g", (double)p->values[p->offsets[0]]);
    CHECK(p->values[p->offsets[1]] == 0.95f, "ln.weight decayed: %g", (double)p->values[p->offsets[1]]);
    CHECK(p->values[p->offsets[2]] == 1.0f, "w not decayed: %g", (double)p->values[p->offsets[2]]);
    CHECK(p->values[p->offsets[3]] == 1.0f, "frozen not updated: %g", (double)p->values[p->offsets[3]]);
    nt_optim_free(o);
    nt_params_free(p);
}

/* One parameter "w" of 2 elements; values and grads given. */
static nt_params *one_param(float v0, float v1, float g0, float g1) {
    static const char *names[] = {"lin.weight"};
    static const int shapes[][3] = {{1, 2, 0}};
    nt_params *p = make_params(1, names, shapes);
    p->values[0] = v0, p->values[1] = v1, p->grads[0] = g0, p->grads[1] = g1;
    return p;
}

static void test_hand(void) {
    nt_optim *o;
    /* SGD: p -= lr g. */
    nt_params *p = one_param(1.0f, -2.0f, 0.5f, -1.0f);
    nt_optim_config c = nt_optim_config_default(NT_OPTIM_SGD);
    CHECK(nt_optim_new(&o, p, &c) == NT_OK, "%s", nt_errmsg());
    CHECK(nt_optim_step(o, 0.1f) == NT_OK, "step");
    CHECK_CLOSE(p->values[0], 0.95, 1e-7, 0);
    CHECK_CLOSE(p->values[1], -1.9, 1e-7, 0);
    CHECK(o->step == 1, "step count");
    nt_optim_free(o);
    nt_params_free(p);

    /* SGD momentum 0.5, weight decay 0.1, two steps, same gradient:
     * g1 = 0.5 + 0.1*1 = 0.6, buf = 0.6, p = 1 - 0.1*0.6 = 0.94
     * g2 = 0.5 + 0.094 = 0.594, buf = 0.3 + 0.594 = 0.894, p = 0.94 - 0.0894 = 0.8506
     * Nesterov, step 1: d = 0.6 + 0.5*0.6 = 0.9, p = 0.91. */
    p = one_param(1.0f, 0.0f, 0.5f, 0.0f);
    c.momentum = 0.5, c.weight_decay = 0.1;
    CHECK(nt_optim_new(&o, p, &c) == NT_OK, "%s", nt_errmsg());
    nt_optim_step(o, 0.1f);
    CHECK_CLOSE(p->values[0], 0.94, 1e-6, 0);
    nt_optim_step(o, 0.1f);
    CHECK_CLOSE(p->values[0], 0.8506, 1e-6, 0);
    CHECK_CLOSE(p->m[0], 0.894, 1e-6, 0);
    nt_optim_free(o);
    p->values[0] = 1.0f, p->m[0] = 0.0f;
    c.nesterov = 1;
    CHECK(nt_optim_new(&o, p, &c) == NT_OK, "%s", nt_errmsg());
    nt_optim_step(o, 0.1f);
    CHECK_CLOSE(p->values[0], 0.91, 1e-6, 0);
    nt_optim_free(o);
    nt_params_free(p);

    /* Adam, first step: m^ = g, v^ = g^2, so p -= lr g / (|g| + eps). */
    p = one_param(1.0f, -2.0f, 0.5f, -3.0f);
    c = nt_optim_config_default(NT_OPTIM_ADAM);
    CHECK(nt_optim_new(&o, p, &c) == NT_OK, "%s", nt_errmsg());
    nt_optim_step(o, 0.01f);
    CHECK_CLOSE(p->values[0], 0.99, 1e-6, 0);
    CHECK_CLOSE(p->values[1], -1.99, 1e-6, 0);
    CHECK_CLOSE(p->m[0], 0.05, 1e-7, 0);
    CHECK_CLOSE(p->v[1], 0.009, 1e-7, 1e-6);
    /* Second step with g = 0 for element 0: m = 0.045, v = 0.999 * 0.00025;
     * m^ = 0.045 / 0.19, v^ = 0.00024975 / 0.001999. */
    p->grads[0] = 0.0f;
    nt_optim_step(o, 0.01f);
    double mh = 0.045 / (1 - 0.81), vh = 0.000249750 / (1 - 0.998001);
    CHECK_CLOSE(p->values[0], 0.99 - 0.01 * mh / (sqrt(vh) + 1e-8), 1e-6, 0);
    nt_optim_free(o);
    nt_params_free(p);

    /* AdamW: p = p (1 - lr wd) - lr g/|g| for a decayed name; a bias is not decayed. */
    static const char *names[] = {"lin.weight", "lin.bias"};
    static const int shapes[][3] = {{1, 1, 0}, {1, 1, 0}};
    p = make_params(2, names, shapes);
    float *w = nt_f32(&p->tensors[0]), *b = nt_f32(&p->tensors[1]);
    w[0] = 2.0f, b[0] = 2.0f;
    p->tensors[0].grad[0] = 1.0f, p->tensors[1].grad[0] = 1.0f;
    c = nt_optim_config_default(NT_OPTIM_ADAMW);
    c.weight_decay = 0.5;
    CHECK(nt_optim_new(&o, p, &c) == NT_OK, "%s", nt_errmsg());
    nt_optim_step(o, 0.1f);
    CHECK_CLOSE(w[0], 2.0 * 0.95 - 0.1, 1e-6, 0);
    CHECK_CLOSE(b[0], 2.0 - 0.1, 1e-6, 0);
    nt_optim_free(o);
    /* decay_all: the bias decays too */
    w[0] = 2.0f, b[0] = 2.0f;
    memset(p->m, 0, (size_t)p->total * 4), memset(p->v, 0, (size_t)p->total * 4);
    c.decay_all = 1;
    CHECK(nt_optim_new(&o, p, &c) == NT_OK, "%s", nt_errmsg());
    nt_optim_step(o, 0.1f);
    CHECK_CLOSE(b[0], 2.0 * 0.95 - 0.1, 1e-6, 0);
    nt_optim_free(o);
    nt_params_free(p);
}

/* ---- PyTorch fixture ----------------------------------------------------------- */

typedef struct fixture {
    int np, steps;
    char names[8][64];
    int shapes[8][3];
    float *init[8];
    double lr[8];
    float *grads[8][8];
    FILE *f;
} fixture;

static int read_floats(FILE *f, float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        if (fscanf(f, "%f", &x[i]) != 1) return 0;
    return 1;
}

static int64_t numel(const int *s) { return s[0] == 1 ? s[1] : (int64_t)s[1] * s[2]; }

static void test_torch(void) {
    char path[1024];
    nt_fixture_path_to(path, sizeof path, "optim.txt");
    FILE *f = fopen(path, "r");
    CHECK(f != NULL, "cannot open %s", path);
    if (!f) return;
    fixture fx;
    memset(&fx, 0, sizeof fx);
    int ok = fscanf(f, " params %d", &fx.np) == 1 && fx.np <= 8;
    for (int i = 0; ok && i < fx.np; i++) {
        int nd;
        ok = fscanf(f, " %63s %d", fx.names[i], &nd) == 2 && (nd == 1 || nd == 2);
        fx.shapes[i][0] = nd;
        for (int d = 0; ok && d < nd; d++) ok = fscanf(f, "%d", &fx.shapes[i][1 + d]) == 1;
        if (!ok) break;
        fx.init[i] = malloc((size_t)numel(fx.shapes[i]) * sizeof(float));
        ok = read_floats(f, fx.init[i], numel(fx.shapes[i]));
    }
    ok = ok && fscanf(f, " steps %d", &fx.steps) == 1 && fx.steps <= 8;
    for (int s = 0; ok && s < fx.steps; s++) {
        ok = fscanf(f, " lr %lf", &fx.lr[s]) == 1;
        for (int i = 0; ok && i < fx.np; i++) {
            fx.grads[s][i] = malloc((size_t)numel(fx.shapes[i]) * sizeof(float));
            ok = read_floats(f, fx.grads[s][i], numel(fx.shapes[i]));
        }
    }
    int ncases = 0;
    ok = ok && fscanf(f, " cases %d", &ncases) == 1;
    CHECK(ok && ncases >= 7, "fixture header parsed (%d cases)", ncases);
    const char *nm[8];
    for (int i = 0; i < fx.np; i++) nm[i] = fx.names[i];
    int cases_run = 0;
    for (int k = 0; ok && k < ncases; k++) {
        char cname[64], kind[16];
        nt_optim_config c;
        memset(&c, 0, sizeof c);
        ok = fscanf(f, " case %63s %15s %lf %d %lf %lf %lf %lf %d", cname, kind, &c.momentum,
                    &c.nesterov, &c.beta1, &c.beta2, &c.eps, &c.weight_decay, &c.decay_all) == 9;
        if (!ok || nt_optim_kind_parse(kind, &c.kind) != NT_OK) break;
        nt_params *p = make_params(fx.np, nm, (const int(*)[3])fx.shapes);
        for (int i = 0; i < fx.np; i++)
            memcpy(nt_f32(&p->tensors[i]), fx.init[i], (size_t)numel(fx.shapes[i]) * 4);
        nt_optim *o;
        CHECK(nt_optim_new(&o, p, &c) == NT_OK, "%s: %s", cname, nt_errmsg());
        double worst = 0;
        for (int s = 0; s < fx.steps; s++) {
            for (int i = 0; i < fx.np; i++)
                memcpy(p->tensors[i].grad, fx.grads[s][i], (size_t)numel(fx.shapes[i]) * 4);
            nt_optim_step(o, fx.lr[s]);
            for (int i = 0; i < fx.np; i++) {
                int64_t n = numel(fx.shapes[i]);
                float want[64];
                ok = ok && n <= 64 && read_floats(f, want, n);
                const float *got = nt_f32(&p->tensors[i]);
                for (int64_t j = 0; ok && j < n; j++) {
                    double d = fabs((double)got[j] - want[j]) / (1e-3 + fabs(want[j]));
                    if (d > worst) worst = d;
                }
            }
        }
        CHECK(worst < 3e-6, "%s: worst difference to PyTorch (relative, absolute near 0) %.3g", cname, worst);
        printf("  %-16s worst difference to PyTorch %.2g\n", cname, worst);
        cases_run++;
        nt_optim_free(o);
        nt_params_free(p);
    }
    CHECK(ok && cases_run == ncases, "all %d cases read (%d)", ncases, cases_run);
    for (int i = 0; i < fx.np; i++) {
        free(fx.init[i]);
        for (int s = 0; s < fx.steps; s++) free(fx.grads[s][i]);
    }
    fclose(f);
}

/* ---- clipping, freezing, threads ----------------------------------------------- */

static const char *BIG_NAMES[] = {"embed.weight", "a.weight", "a.bias", "b.weight"};
static const int BIG_SHAPES[][3] = {{2, 300, 70}, {2, 64, 64}, {1, 64, 0}, {2, 17, 5}};

static nt_params *big_params(uint64_t seed) {
    nt_params *p = make_params(4, BIG_NAMES, BIG_SHAPES);
    nt_rng r;
    nt_rng_seed(&r, seed);
    for (int i = 0; i < p->count; i++) {
        nt_tensor *t = &p->tensors[i];
        for (int64_t j = 0; j < t->n; j++) {
            nt_f32(t)[j] = nt_rng_normal(&r);
            t->grad[j] = nt_rng_normal(&r);
        }
    }
    return p;
}

static double serial_norm(const nt_params *p) {
    double s = 0;
    for (int i = 0; i < p->count; i++) {
        for (int64_t j = 0; j < p->tensors[i].n; j++)
            s += (double)p->tensors[i].grad[j] * p->tensors[i].grad[j];
    }
    return sqrt(s);
}

static void test_clip(void) {
    nt_params *p = big_params(3);
    nt_optim_config c = nt_optim_config_default(NT_OPTIM_ADAMW);
    nt_optim *o;
    CHECK(nt_optim_new(&o, p, &c) == NT_OK, "%s", nt_errmsg());
    double want = serial_norm(p);
    CHECK_CLOSE(nt_optim_grad_norm(o), want, 0, 1e-12);
    float norm = 0;
    /* above the norm: nothing changes */
    float *before = malloc((size_t)p->total * 4);
    memcpy(before, p->grads, (size_t)p->total * 4);
    CHECK(nt_optim_clip(o, (float)want * 2, &norm) == NT_OK, "clip");
    CHECK_CLOSE(norm, want, 0, 1e-6);
    CHECK(memcmp(before, p->grads, (size_t)p->total * 4) == 0, "no clip below max_norm");
    /* clip to 1: the new norm is 1 and the direction is kept */
    CHECK(nt_optim_clip(o, 1.0f, &norm) == NT_OK, "clip");
    CHECK_CLOSE(norm, want, 0, 1e-6);
    CHECK_CLOSE(nt_optim_grad_norm(o), 1.0, 1e-5, 0);
    CHECK_CLOSE(p->grads[5] / before[5], 1.0 / want, 0, 1e-5);
    /* frozen parameters do not count */
    memcpy(p->grads, before, (size_t)p->total * 4);
    int n = 0;
    CHECK(nt_optim_freeze(o, "a.", &n) == NT_OK && n == 2, "freeze a. (%d) %s", n, nt_errmsg());
    double s = 0;
    for (int i = 0; i < p->count; i++)
        if (i == 0 || i == 3)
            for (int64_t j = 0; j < p->tensors[i].n; j++)
                s += (double)p->tensors[i].grad[j] * p->tensors[i].grad[j];
    CHECK_CLOSE(nt_optim_grad_norm(o), sqrt(s), 0, 1e-12);
    CHECK(nt_optim_clip(o, 0.5f, &norm) == NT_OK, "clip frozen");
    CHECK(memcmp(p->tensors[1].grad, before + p->offsets[1], (size_t)p->tensors[1].n * 4) == 0,
          "frozen gradient untouched by clipping");
    /* a NaN gradient: NT_ERR_NUMERIC naming the parameter */
    p->tensors[3].grad[7] = NAN;
    CHECK(nt_optim_clip(o, 1.0f, &norm) == NT_ERR_NUMERIC, "nan");
    CHECK(isnan(norm), "norm reported NaN");
    CHECK(strstr(nt_errmsg(), "'b.weight'") && strstr(nt_errmsg(), "element 7"), "msg: %s",
          nt_errmsg());
    free(before);
    nt_optim_free(o);
    nt_params_free(p);
}

static void test_freeze(void) {
    nt_params *p = big_params(5);
    float *v0 = malloc((size_t)p->total * 4);
    memcpy(v0, p->values, (size_t)p->total * 4);
    nt_optim_config c = nt_optim_config_default(NT_OPTIM_ADAMW);
    nt_optim *o;
    CHECK(nt_optim_new(&o, p, &c) == NT_OK, "%s", nt_errmsg());
    CHECK(nt_optim_freeze(o, "nope", NULL) == NT_ERR_ARG, "unknown prefix");
    CHECK(strstr(nt_errmsg(), "'nope'") != NULL, "msg: %s", nt_errmsg());
    CHECK(nt_optim_freeze(o, "", NULL) == NT_ERR_ARG, "empty prefix");
    CHECK(nt_optim_freeze(o, "embed.", NULL) == NT_OK, "freeze embed");
    for (int s = 0; s < 5; s++) nt_optim_step(o, 0.01f);
    const nt_tensor *e = &p->tensors[0];
    CHECK(memcmp(e->data, v0, (size_t)e->n * 4) == 0, "frozen embed bitwise unchanged");
    int64_t zero = 0;
    for (int64_t j = 0; j < e->n; j++) zero += p->m[j] == 0.0f && p->v[j] == 0.0f;
    CHECK(zero == e->n, "frozen moments untouched");
    CHECK(memcmp(p->tensors[1].data, v0 + p->offsets[1], 64) != 0, "others move");
    free(v0);
    nt_optim_free(o);
    nt_params_free(p);
}

/* Elementwise updates and the chunked norm do not depend on the thread count. */
static void test_threads(void) {
    float *res[2];
    double norms[2];
    int threads = nt_threads_get();
    for (int t = 0; t < 2; t++) {
        nt_threads_set(t + 1);
        nt_params *p = big_params(9);
        nt_optim_config c = nt_optim_config_default(NT_OPTIM_ADAMW);
        nt_optim *o;
        NT_ASSERT(nt_optim_new(&o, p, &c) == NT_OK);
        norms[t] = nt_optim_grad_norm(o);
        for (int s = 0; s < 3; s++) nt_optim_step(o, 0.01f);
        res[t] = malloc((size_t)p->total * 4);
        memcpy(res[t], p->values, (size_t)p->total * 4);
        nt_optim_free(o);
        nt_params_free(p);
    }
    nt_threads_set(threads);
    CHECK(norms[0] == norms[1], "norm 1 vs 2 threads: %.17g %.17g", norms[0], norms[1]);
    nt_params *p = big_params(9);
    CHECK(memcmp(res[0], res[1], (size_t)p->total * 4) == 0, "AdamW 1 vs 2 threads bitwise");
    nt_params_free(p);
    free(res[0]), free(res[1]);
}

static void test_errors(void) {
    nt_optim_config c = nt_optim_config_default(NT_OPTIM_ADAM);
    c.beta2 = 1.5;
    CHECK(nt_optim_config_check(&c) == NT_ERR_ARG && strstr(nt_errmsg(), "beta2 1.5"), "beta2: %s",
          nt_errmsg());
    c = nt_optim_config_default(NT_OPTIM_SGD);
    c.nesterov = 1;
    CHECK(nt_optim_config_check(&c) == NT_ERR_ARG && strstr(nt_errmsg(), "nesterov"), "nesterov");
    c = nt_optim_config_default(NT_OPTIM_ADAMW);
    c.lr = NAN;
    CHECK(nt_optim_config_check(&c) == NT_ERR_ARG && strstr(nt_errmsg(), "lr"), "lr nan");
    nt_optim_kind k = NT_OPTIM_SGD;
    CHECK(nt_optim_kind_parse("lamb", &k) == NT_ERR_ARG && k == NT_OPTIM_SGD, "parse");
    CHECK(strstr(nt_errmsg(), "'lamb'") != NULL, "msg: %s", nt_errmsg());
    CHECK(nt_optim_kind_parse("adamw", &k) == NT_OK && k == NT_OPTIM_ADAMW, "parse adamw");
    nt_optim *o = NULL;
    nt_params *p;
    nt_params_new(&p);
    c = nt_optim_config_default(NT_OPTIM_ADAMW);
    CHECK(nt_optim_new(&o, p, &c) == NT_ERR_ARG && o == NULL, "unallocated block");
    nt_params_free(p);
    p = one_param(1, 2, 3, 4);
    CHECK(nt_optim_new(&o, p, &c) == NT_OK, "new");
    float v = p->values[0];
    CHECK(nt_optim_step(o, -1.0f) == NT_ERR_ARG && p->values[0] == v && o->step == 0, "bad lr");
    CHECK(nt_optim_step(o, INFINITY) == NT_ERR_ARG, "inf lr");
    nt_optim_free(o);
    nt_optim_free(NULL);
    nt_params_free(p);
}

int main(void) {
    test_decay_rule();
    test_hand();
    test_torch();
    test_clip();
    test_freeze();
    test_threads();
    test_errors();
    return nt_check_report("test_optim");
}
