/* test_golden.c - the model against PyTorch: logits, loss, gradients (fixtures of tests/make_golden.py).
 *
 * Each fixture holds the reference's weights (written by h5py from its
 * state_dict, so loading it also checks PyTorch interop), a padded batch, and
 * float64-computed expectations. Tolerances (the issue's): logits and loss
 * 1e-5 relative, every gradient 1e-4 relative. Relative to what, for elements
 * near zero, is an allclose-style floor of a tenth of the tensor's scale S:
 *     |got - want| <= tol * max(|want|, 0.1 S)
 * S is the tensor's largest |want|; for a gradient at least a tenth of the
 * model's largest gradient, because some gradients are exactly zero in exact
 * arithmetic (the k biases: softmax is shift-invariant) and float32 leaves
 * ~1e-8 there.
 */
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "nn/model.h"
#include "support/check.h"
#include "support/fixtures.h"
#include "support/golden.h"
#include "support/models.h"
#include "train/h5io.h"
#include "train/optim.h"
#include "train/weights.h"

/* nt_weights_load_file for a transformer file: *out untouched on error. */
static double max_abs(const float *x, int64_t n) {
    double m = 0;
    for (int64_t i = 0; i < n; i++) m = fmax(m, fabs(x[i]));
    return m;
}

/* Compares n floats against `want` of scale S (see above); returns the
 * largest relative error. */
static double compare(const char *what, const float *got, const float *want, int64_t n, double S,
                      double tol) {
    double worst = 0, floor_ = 0.1 * S > 0 ? 0.1 * S : 1e-30;
    int64_t at = 0;
    for (int64_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - want[i]) / fmax(fabs(want[i]), floor_);
        if (e > worst) worst = e, at = i;
    }
    CHECK(worst <= tol, "%s: relative error %.3g at [%lld] (got %.9g, want %.9g), tolerance %g", what,
          worst, (long long)at, got[at], want[at], tol);
    return worst;
}

static double attr_f64(hid_t f, const char *obj, const char *name) {
    double v = NAN;
    hid_t a = H5Aopen_by_name(f, obj, name, H5P_DEFAULT, H5P_DEFAULT);
    if (a >= 0) {
        H5Aread(a, H5T_NATIVE_DOUBLE, &v);
        H5Aclose(a);
    }
    return v;
}

static double adamw_steps(nt_model *m, nt_ctx *ctx, hid_t f, const char *file, int encdec) {
    double want[6];
    hid_t d = H5Dopen2(f, "/expected/adamw_losses", H5P_DEFAULT);
    CHECK(d >= 0 && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, want) >= 0,
          "%s: /expected/adamw_losses", file);
    if (d < 0) return 1;
    H5Dclose(d);
    nt_optim_config oc = nt_optim_config_default(NT_OPTIM_ADAMW);
    oc.lr = attr_f64(f, "/expected/adamw_losses", "lr");
    oc.beta1 = attr_f64(f, "/expected/adamw_losses", "beta1");
    oc.beta2 = attr_f64(f, "/expected/adamw_losses", "beta2");
    oc.eps = attr_f64(f, "/expected/adamw_losses", "eps");
    oc.weight_decay = attr_f64(f, "/expected/adamw_losses", "weight_decay");
    oc.decay_all = 1;
    nt_optim *opt = NULL;
    CHECK(nt_optim_new(&opt, m->params, &oc) == NT_OK, "%s: optimizer: %s", file, nt_errmsg());
    if (!opt) return 1;
    double worst = 0;
    for (int k = 0; k <= 5; k++) {
        nt_ctx_reset(ctx);
        nt_ctx_set_grad(ctx, 1);
        nt_test_batch in;
        CHECK(nt_test_read_batch(ctx, f, encdec, &in), "%s: inputs", file);
        nt_tensor *loss;
        nt_params_zero_grad(m->params);
        nt_status st = nt_model_loss(m, ctx, &loss, NULL, in.src, in.src_mask, in.tgt, in.labels, 0.0f, NULL);
        CHECK(st == NT_OK, "%s: AdamW step %d: %s", file, k, nt_errmsg());
        if (st != NT_OK) break;
        double e = fabs(nt_f32(loss)[0] - want[k]) / fabs(want[k]);
        CHECK(e <= 1e-5, "%s: loss after %d AdamW steps %.9g, want %.9g", file, k, nt_f32(loss)[0],
              want[k]);
        if (e > worst) worst = e;
        if (k == 5) break;
        CHECK(nt_backward(ctx, loss) == NT_OK && nt_optim_step(opt, oc.lr) == NT_OK, "%s: step %d: %s",
              file, k, nt_errmsg());
    }
    nt_optim_free(opt);
    return worst;
}

static void run(const char *file) {
    char path[1024];
    nt_fixture_path_to(path, sizeof path, file);
    nt_model *m = NULL;
    nt_status st = nt_test_model_load(path, &m);
    CHECK(st == NT_OK, "load %s: %s", path, nt_errmsg());
    if (st != NT_OK) return;
    nt_h5_quiet q = nt_h5_quiet_begin();
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    nt_h5_quiet_end(q);
    nt_ctx *ctx;
    nt_ctx_new(&ctx, 0);
    int encdec = m->cfg.arch == NT_ARCH_ENCDEC;
    nt_test_batch in;
    CHECK(nt_test_read_batch(ctx, f, encdec, &in), "%s: inputs", file);
    nt_tensor *src = in.src, *src_mask = in.src_mask, *tgt = in.tgt, *labels = in.labels;
    int B = tgt->shape[0], T = tgt->shape[1], V = m->cfg.vocab_size;

    /* logits, loss, gradients */
    nt_params_zero_grad(m->params);
    nt_tensor *loss, *logits;
    int64_t ntok = 0;
    if (encdec) nt_model_set_record_attention(m, 1);
    st = nt_model_loss(m, ctx, &loss, &logits, src, src_mask, tgt, labels, 0.0f, &ntok);
    CHECK(st == NT_OK, "%s: loss: %s", file, nt_errmsg());
    if (st != NT_OK) goto done;
    CHECK(logits->ndim == 3 && logits->shape[0] == B && logits->shape[1] == T && logits->shape[2] == V,
          "%s: logits shape", file);
    float *want = nt_malloc((size_t)B * T * V * sizeof(float));
    CHECK(nt_h5_read_f32(f, "/expected/logits", 3, (int[]){B, T, V}, want) == NT_OK, "%s", nt_errmsg());
    int64_t nl = (int64_t)B * T * V;
    double e_logits = compare("logits", nt_f32(logits), want, nl, max_abs(want, nl), 1e-5);
    double wl = nt_test_read_scalar(f, "/expected/loss");
    double e_loss = fabs(nt_f32(loss)[0] - wl) / fabs(wl);
    CHECK(e_loss <= 1e-5, "%s: loss %.9g, want %.9g", file, nt_f32(loss)[0], wl);
    int64_t counted = 0;
    for (int64_t i = 0; i < labels->n; i++) counted += nt_i32(labels)[i] != 0;
    CHECK(ntok == counted, "%s: n_tokens %lld, want %lld", file, (long long)ntok, (long long)counted);

    double e_xattn = 0;
    if (encdec) {
        int S = src->shape[1];
        nt_tensor *w;
        st = nt_model_cross_attention(m, ctx, &w, -1);
        CHECK(st == NT_OK && w->shape[0] == B && w->shape[1] == T && w->shape[2] == S, "cross attn: %s",
              nt_errmsg());
        float *wa = nt_malloc((size_t)B * T * S * sizeof(float));
        CHECK(nt_h5_read_f32(f, "/expected/cross_attn", 3, (int[]){B, T, S}, wa) == NT_OK, "%s", nt_errmsg());
        if (st == NT_OK) e_xattn = compare("cross_attn", nt_f32(w), wa, (int64_t)B * T * S,
                                            max_abs(wa, (int64_t)B * T * S), 1e-5);
        nt_free(wa);
    }

    st = nt_backward(ctx, loss);
    CHECK(st == NT_OK, "%s: backward: %s", file, nt_errmsg());
    double e_grad = 0, gmax = 0;
    const char *worst_name = "";
    nt_params *P = m->params;
    float **wg = nt_calloc((size_t)P->count, sizeof *wg);
    for (int i = 0; i < P->count; i++) {
        nt_tensor *t = &P->tensors[i];
        wg[i] = nt_malloc((size_t)t->n * sizeof(float));
        snprintf(path, sizeof path, "/expected/grads/%s", P->names[i]);
        CHECK(nt_h5_read_f32(f, path, t->ndim, t->shape, wg[i]) == NT_OK, "%s", nt_errmsg());
        gmax = fmax(gmax, max_abs(wg[i], t->n));
    }
    for (int i = 0; i < P->count; i++) {
        nt_tensor *t = &P->tensors[i];
        double S = fmax(max_abs(wg[i], t->n), 0.1 * gmax);
        double e = compare(P->names[i], t->grad, wg[i], t->n, S, 1e-4);
        if (e > e_grad) e_grad = e, worst_name = P->names[i];
        nt_free(wg[i]);
    }
    nt_free(wg);

    /* label smoothing 0.1 (forward only) */
    nt_ctx_reset(ctx);
    CHECK(nt_test_read_batch(ctx, f, encdec, &in), "%s: inputs", file);
    nt_ctx_set_grad(ctx, 0);
    st = nt_model_loss(m, ctx, &loss, NULL, in.src, in.src_mask, in.tgt, in.labels, 0.1f, NULL);
    double wls = nt_test_read_scalar(f, "/expected/loss_ls");
    double e_ls = st == NT_OK ? fabs(nt_f32(loss)[0] - wls) / fabs(wls) : 1;
    CHECK(st == NT_OK && e_ls <= 1e-5, "%s: smoothed loss %.9g, want %.9g (%s)", file,
          st == NT_OK ? nt_f32(loss)[0] : NAN, wls, nt_errmsg());

    /* 5 AdamW steps: the losses after 0..5 updates, as torch.optim.AdamW over
     * m.parameters() (one group: decay on every parameter). */
    double e_adamw = adamw_steps(m, ctx, f, file, encdec);

    printf("%s: largest relative errors: logits %.2e, loss %.2e, smoothed loss %.2e, "
           "cross-attn %.2e, gradients %.2e (%s), AdamW losses %.2e\n",
           file, e_logits, e_loss, e_ls, e_xattn, e_grad, worst_name, e_adamw);
    nt_free(want);
done:
    H5Fclose(f);
    nt_ctx_free(ctx);
    nt_model_free(m);
}

int main(void) {
    run("golden_encdec.h5");
    run("golden_decoder.h5");
    return nt_check_report("test_golden");
}
