/* test_golden_bf16.c - the model in bf16 against PyTorch's autocast-bf16 (fixture of tests/make_golden_bf16.py).
 *
 * The float32 golden fixtures (test_golden.c) hold weights, a padded batch
 * and float64 expectations ("truth"); golden_bf16.h5 holds what the same
 * forward gives in PyTorch under torch.autocast("cpu", dtype=torch.bfloat16):
 * logits, loss and every parameter's gradient. nextok runs the same batch
 * with nt_ctx_set_precision(ctx, NT_PREC_BF16).
 *
 * The two bf16 schemes differ on purpose (docs/precision.md): autocast rounds
 * each product's output to bf16, nextok keeps products' outputs in float32
 * and rounds only their operands. So the test does not ask for equality; per
 * tensor, with S its largest |truth| (for a gradient at least a tenth of the
 * model's largest gradient, as in test_golden.c), it asks:
 *   - agreement:  max |nextok - autocast| / S  <= AGREE (logits, gradients),
 *                 |loss_nextok - loss_autocast| / loss <= LOSS_AGREE;
 *   - accuracy:   nextok's error against the truth is at most ACCURACY times
 *                 autocast's, over the whole tensor set (worst relative error):
 *                 nextok in bf16 is no less accurate than PyTorch's autocast;
 *   - and it is bf16: nextok differs from the truth by more than float32 would
 *                 (a switch that is ignored fails here).
 */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "nn/model.h"
#include "support/check.h"
#include "support/fixtures.h"
#include "support/golden.h"
#include "train/h5io.h"
#include "train/weights.h"

#define AGREE 0.1        /* logits and gradients, relative to the tensor's scale: each side is
                            * within ~6% of the truth on this deliberately large-valued model */
#define LOSS_AGREE 5e-3  /* loss, relative */
#define ACCURACY 1.5     /* nextok's worst error vs the truth <= 1.5 x autocast's */
#define F32_NOISE 1e-5   /* what float32 alone gives (test_golden.c's tolerance) */

static double max_abs(const float *x, int64_t n) {
    double m = 0;
    for (int64_t i = 0; i < n; i++) m = fmax(m, fabs(x[i]));
    return m;
}

static double max_diff(const float *a, const float *b, int64_t n) {
    double m = 0;
    for (int64_t i = 0; i < n; i++) m = fmax(m, fabs((double)a[i] - b[i]));
    return m;
}

/* Errors of one tensor: nextok vs autocast, nextok vs truth, autocast vs truth, all over S. */
typedef struct { double agree, ours, theirs; } errs;

static errs compare(const float *ours, const float *autocast, const float *truth, int64_t n, double S) {
    errs e = {max_diff(ours, autocast, n) / S, max_diff(ours, truth, n) / S, max_diff(autocast, truth, n) / S};
    return e;
}

static void run(const char *stem) {
    char path[1024], bpath[1024], name[512];
    snprintf(name, sizeof name, "%s.h5", stem);
    nt_fixture_path_to(path, sizeof path, name);
    nt_fixture_path_to(bpath, sizeof bpath, "golden_bf16.h5");
    nt_net *net = NULL;
    CHECK(nt_weights_load_file(path, &net) == NT_OK, "load %s: %s", path, nt_errmsg());
    if (!net) return;
    nt_model *m = nt_model_from_net(net);
    nt_h5_quiet q = nt_h5_quiet_begin();
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT), g = H5Fopen(bpath, H5F_ACC_RDONLY, H5P_DEFAULT);
    nt_h5_quiet_end(q);
    CHECK(f >= 0 && g >= 0, "open %s and %s", path, bpath);
    if (f < 0 || g < 0) return;

    nt_ctx *ctx;
    nt_ctx_new(&ctx, 0);
    nt_ctx_set_precision(ctx, NT_PREC_BF16);
    int encdec = m->cfg.arch == NT_ARCH_ENCDEC;
    nt_test_batch in;
    CHECK(nt_test_read_batch(ctx, f, encdec, &in), "%s: inputs", stem);
    int B = in.tgt->shape[0], T = in.tgt->shape[1], V = m->cfg.vocab_size;
    int64_t nl = (int64_t)B * T * V;

    nt_params_zero_grad(m->params);
    nt_tensor *loss, *logits;
    nt_status st = nt_model_loss(m, ctx, &loss, &logits, in.src, in.src_mask, in.tgt, in.labels, 0.0f, NULL);
    CHECK(st == NT_OK, "%s: bf16 loss: %s", stem, nt_errmsg());
    if (st != NT_OK) return;

    /* logits and loss */
    float *truth = nt_malloc((size_t)nl * sizeof(float)), *ac = nt_malloc((size_t)nl * sizeof(float));
    snprintf(name, sizeof name, "/%s/logits", stem);
    CHECK(nt_h5_read_f32(f, "/expected/logits", 3, (int[]){B, T, V}, truth) == NT_OK &&
              nt_h5_read_f32(g, name, 3, (int[]){B, T, V}, ac) == NT_OK,
          "%s: %s", stem, nt_errmsg());
    errs el = compare(nt_f32(logits), ac, truth, nl, max_abs(truth, nl));
    CHECK(el.agree <= AGREE, "%s: logits: nextok-bf16 vs autocast %.3g of scale, tolerance %g", stem, el.agree,
          AGREE);
    CHECK(el.ours > F32_NOISE, "%s: logits: bf16 run is within float32 noise of the truth (%.3g): not bf16?",
          stem, el.ours);
    double lt = nt_test_read_scalar(f, "/expected/loss");
    snprintf(name, sizeof name, "/%s/loss", stem);
    double la = nt_test_read_scalar(g, name), lo = nt_f32(loss)[0];
    CHECK(fabs(lo - la) / fabs(la) <= LOSS_AGREE, "%s: loss nextok-bf16 %.7g, autocast %.7g (relative %.3g > %g)",
          stem, lo, la, fabs(lo - la) / fabs(la), LOSS_AGREE);

    /* gradients */
    st = nt_backward(ctx, loss);
    CHECK(st == NT_OK, "%s: backward: %s", stem, nt_errmsg());
    nt_params *P = m->params;
    double gmax = 0, worst_ours = el.ours, worst_theirs = el.theirs, worst_agree = el.agree;
    const char *worst_name = "logits";
    float **gt = nt_calloc((size_t)P->count, sizeof *gt), **ga = nt_calloc((size_t)P->count, sizeof *ga);
    for (int i = 0; i < P->count; i++) {
        nt_tensor *t = &P->tensors[i];
        gt[i] = nt_malloc((size_t)t->n * sizeof(float));
        ga[i] = nt_malloc((size_t)t->n * sizeof(float));
        snprintf(path, sizeof path, "/expected/grads/%s", P->names[i]);
        snprintf(name, sizeof name, "/%s/grads/%s", stem, P->names[i]);
        CHECK(nt_h5_read_f32(f, path, t->ndim, t->shape, gt[i]) == NT_OK &&
                  nt_h5_read_f32(g, name, t->ndim, t->shape, ga[i]) == NT_OK,
              "%s: %s", stem, nt_errmsg());
        gmax = fmax(gmax, max_abs(gt[i], t->n));
    }
    for (int i = 0; st == NT_OK && i < P->count; i++) {
        nt_tensor *t = &P->tensors[i];
        double S = fmax(max_abs(gt[i], t->n), 0.1 * gmax);
        errs e = compare(t->grad, ga[i], gt[i], t->n, S);
        CHECK(e.agree <= AGREE, "%s: grad %s: nextok-bf16 vs autocast %.3g of scale, tolerance %g", stem,
              P->names[i], e.agree, AGREE);
        if (e.agree > worst_agree) worst_agree = e.agree, worst_name = P->names[i];
        worst_ours = fmax(worst_ours, e.ours);
        worst_theirs = fmax(worst_theirs, e.theirs);
    }
    CHECK(worst_ours <= ACCURACY * worst_theirs,
          "%s: nextok-bf16's worst error vs float64 %.3g > %g x autocast's %.3g", stem, worst_ours, ACCURACY,
          worst_theirs);
    printf("%s: loss truth %.6f autocast %.6f nextok-bf16 %.6f; worst |nextok-autocast| %.3g of scale (%s); "
           "worst error vs float64: nextok %.3g, autocast %.3g\n",
           stem, lt, la, lo, worst_agree, worst_name, worst_ours, worst_theirs);
    for (int i = 0; i < P->count; i++) nt_free(gt[i]), nt_free(ga[i]);
    nt_free(gt), nt_free(ga), nt_free(truth), nt_free(ac);
    H5Fclose(f), H5Fclose(g);
    nt_ctx_free(ctx);
    nt_net_free(net);
}

int main(void) {
    run("golden_encdec");
    run("golden_decoder");
    return nt_check_report("test_golden_bf16");
}
