/* test_custom.c - a model the library's authors did not write (examples/custom,
 * nextok-custom) trains, checkpoints, resumes bitwise and samples (streamed,
 * specials suppressed) through the trainer, checkpoints and generation, as
 * real processes; and a checkpoint of one kind of model is refused by a model
 * of another kind, naming both. */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support/check.h"
#include "support/fixtures.h"
#include "support/cli_run.h"
#include "support/proc.h"
#include "support/scratch.h"
#include "train/checkpoint.h"

static char text[1024];

/* Every dataset under `group` of files a and b: same names, same bytes. */
typedef struct cmp_ctx {
    hid_t a, b;
    const char *group;
    int n, same;
} cmp_ctx;

static herr_t cmp_one(hid_t g, const char *name, const H5L_info_t *info, void *data) {
    cmp_ctx *c = data;
    char path[512];
    snprintf(path, sizeof path, "%s/%s", c->group, name);
    H5O_info_t oi;
    if (H5Oget_info_by_name2(c->a, path, &oi, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return -1;
    if (oi.type == H5O_TYPE_GROUP) {
        cmp_ctx sub = *c;
        sub.group = path, sub.n = 0, sub.same = 1;
        H5Literate_by_name(c->a, path, H5_INDEX_NAME, H5_ITER_INC, NULL, cmp_one, &sub, H5P_DEFAULT);
        c->n += sub.n, c->same &= sub.same;
        return 0;
    }
    hid_t da = H5Dopen2(c->a, path, H5P_DEFAULT), db = H5Dopen2(c->b, path, H5P_DEFAULT);
    hssize_t na = da >= 0 ? H5Sget_simple_extent_npoints(H5Dget_space(da)) : -1;
    hssize_t nb = db >= 0 ? H5Sget_simple_extent_npoints(H5Dget_space(db)) : -2;
    int same = na == nb && na >= 0;
    if (same) {
        float *x = malloc((size_t)na * 4 + 4), *y = malloc((size_t)na * 4 + 4);
        same = H5Dread(da, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, x) >= 0 &&
               H5Dread(db, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, y) >= 0 &&
               memcmp(x, y, (size_t)na * 4) == 0;
        free(x), free(y);
    }
    if (!same) printf("  differs: %s\n", path);
    if (da >= 0) H5Dclose(da);
    if (db >= 0) H5Dclose(db);
    c->n++, c->same &= same;
    return 0;
}

static int same_tensors(const char *fa, const char *fb, const char *group, int *n) {
    hid_t a = H5Fopen(fa, H5F_ACC_RDONLY, H5P_DEFAULT), b = H5Fopen(fb, H5F_ACC_RDONLY, H5P_DEFAULT);
    cmp_ctx c = {a, b, group, 0, a >= 0 && b >= 0};
    if (c.same) H5Literate_by_name(a, group, H5_INDEX_NAME, H5_ITER_INC, NULL, cmp_one, &c, H5P_DEFAULT);
    if (a >= 0) H5Fclose(a);
    if (b >= 0) H5Fclose(b);
    *n = c.n;
    return c.same && c.n > 0;
}

static double final_loss(void) {
    const char *p = strstr(nt_cli_out, "loss ");
    return p ? atof(p + 5) : 1e9;
}

int main(void) {
    nt_cli_use("nextok-custom");
    nt_fixture_path_to(text, sizeof text, "text-10k.txt");
    CHECK(nt_scratch_begin("nt_test_custom"), "mkdtemp");
    const int steps = getenv("NT_SANITIZED") ? 120 : 240, stop = steps / 2;
    char s_steps[16], s_stop[16];
    snprintf(s_steps, sizeof s_steps, "%d", steps);
    snprintf(s_stop, sizeof s_stop, "%d", stop);

    /* trains: the loss falls from ln(V) ~ 4.1 to below 2.6 (3.3 in the shorter sanitized run) */
    int rc = nt_cli_run((const char *[]){"train", text, nt_scratch_path("a"), s_steps, NULL});
    CHECK(rc == 0, "train a: rc %d: %s", rc, nt_cli_err);
    double la = final_loss();
    CHECK(la < (steps >= 240 ? 2.6 : 3.3), "loss after %d updates: %.4f (from ~4.1 = ln V)", steps, la);
    printf("  nplm: loss %.4f after %d updates\n", la, steps);

    /* stopped at half (as on SIGINT), then resumed to the end: bitwise the same */
    rc = nt_cli_run((const char *[]){"train", text, nt_scratch_path("b"), s_steps, s_stop, NULL});
    CHECK(rc == 0 && strstr(nt_cli_out, "step ") && atoi(strstr(nt_cli_out, "step ") + 5) == stop, "stop at %d: %s%s", stop,
          nt_cli_out, nt_cli_err);
    rc = nt_cli_run((const char *[]){"train", text, nt_scratch_path("b"), s_steps, NULL});
    CHECK(rc == 0 && final_loss() == la, "resumed run: rc %d, loss %.6f vs %.6f", rc, final_loss(), la);
    int n_model = 0, n_optim = 0;
    CHECK(same_tensors(nt_scratch_path("a/checkpoint-last.h5"), nt_scratch_path("b/checkpoint-last.h5"), "/model", &n_model),
          "weights after stop + resume equal a straight run (%d tensors)", n_model);
    CHECK(same_tensors(nt_scratch_path("a/checkpoint-last.h5"), nt_scratch_path("b/checkpoint-last.h5"), "/optim", &n_optim),
          "optimizer moments equal (%d tensors)", n_optim);
    CHECK(n_model == 5 && n_optim == 10, "the 5 parameters and their 10 moments compared (%d, %d)", n_model, n_optim);

    /* samples through nt_generate; same seed, same text; another seed, another */
    char first[4096];
    rc = nt_cli_run((const char *[]){"sample", nt_scratch_path("a/checkpoint-last.h5"), "ROMEO:", "60", "7", NULL});
    CHECK(rc == 0 && strncmp(nt_cli_out, "ROMEO:", 6) == 0 && strlen(nt_cli_out) > 20, "sample: rc %d: %s%s", rc, nt_cli_out, nt_cli_err);
    snprintf(first, sizeof first, "%s", nt_cli_out);
    /* streamed character by character (on_token) with the specials
     * suppressed: never an early <eos>, exactly 60 characters after the prompt */
    int chars = 0;
    for (const char *c = nt_cli_out; *c; c++) chars += ((unsigned char)*c & 0xC0) != 0x80;
    CHECK(chars == 6 + 60 + 1, "%d characters, expected the prompt, 60 and a newline: %s", chars, nt_cli_out);
    rc = nt_cli_run((const char *[]){"sample", nt_scratch_path("a/checkpoint-last.h5"), "ROMEO:", "60", "7", NULL});
    CHECK(rc == 0 && strcmp(nt_cli_out, first) == 0, "same seed, same text");
    rc = nt_cli_run((const char *[]){"sample", nt_scratch_path("a/checkpoint-last.h5"), "ROMEO:", "60", "8", NULL});
    CHECK(rc == 0 && strcmp(nt_cli_out, first) != 0, "another seed, other text");

    /* The library without the example's registration does not know "nplm";
     * as a transformer it is refused by name; nothing is half-loaded. */
    nt_net *net = (nt_net *)0x1;
    nt_vocab *v = (nt_vocab *)0x1;
    CHECK(nt_ckpt_load_net(nt_scratch_path("a/checkpoint-last.h5"), &net, &v) == NT_ERR_FORMAT &&
              strstr(nt_errmsg(), "unknown model arch 'nplm'") && net == (nt_net *)0x1 && v == (nt_vocab *)0x1,
          "unregistered arch: %s", nt_errmsg());
    nt_model *m = (nt_model *)0x1;
    CHECK(nt_ckpt_load(nt_scratch_path("a/checkpoint-last.h5"), &m, NULL) == NT_ERR_FORMAT && m == (nt_model *)0x1,
          "an nplm file as a transformer: %s", nt_errmsg());
    /* a transformer of the same vocabulary size refuses the file, naming both kinds */
    nt_attrs cfg;
    NT_ASSERT(nt_ckpt_read_config(nt_scratch_path("a/checkpoint-last.h5"), &cfg) == NT_OK);
    int V = 0;
    CHECK(nt_attrs_get_int(&cfg, "vocab_size", 5, 1000, &V) == NT_OK, "vocab_size in /config");
    nt_model_config mc = nt_model_config_default();
    mc.vocab_size = V, mc.d_model = 8, mc.heads = 2, mc.enc_layers = 1, mc.dec_layers = 1, mc.max_len = 8;
    NT_ASSERT(nt_model_new(&m, &mc) == NT_OK);
    float before = m->params->values[3];
    CHECK(nt_ckpt_load_weights_into(nt_scratch_path("a/checkpoint-last.h5"), &m->net) == NT_ERR_FORMAT &&
              strstr(nt_errmsg(), "holds a 'nplm' model, this one is a 'encdec'"),
          "kind mismatch named: %s", nt_errmsg());
    CHECK(m->params->values[3] == before, "model untouched");
    /* and the other way: the transformer's file into the transformer works */
    nt_ckpt_export(nt_scratch_path("t.h5"), &m->net, NULL);
    CHECK(nt_ckpt_load_weights_into(nt_scratch_path("t.h5"), &m->net) == NT_OK, "same kind loads: %s", nt_errmsg());
    nt_model_free(m);
    nt_scratch_end();
    return nt_check_report("test_custom");
}
