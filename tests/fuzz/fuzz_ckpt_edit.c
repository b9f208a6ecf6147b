/* fuzz_ckpt_edit.c - structure-aware: a valid checkpoint edited through
 * HDF5 by a script the input encodes, resealed (so the whole-file checksum
 * passes: what a deliberate edit looks like), then loaded. Reaches the
 * loader's own checks: /config bounds and memory, names, shapes, dtypes,
 * the vocabulary, /optim and /train.
 *
 * Script: records of [op][args...], each read from the input in turn:
 *   0 k i64   /config integer attribute k (vocab_size, d_model, heads,
 *             enc_layers, dec_layers, max_len) = i64
 *   1 k n s   /config string attribute k (arch, tokenizer) = n bytes s
 *   2 f64     /config dropout
 *   3 k       delete object k (a /model tensor, /vocab/tokens, /optim, /train, /config)
 *   4 k nd d.. replace /model tensor k by a float32 dataset of nd dims (u16 each)
 *   5 n s..   replace /vocab/tokens by n strings (NUL-separated in the input)
 *   6 k i64   /train integer attribute k = i64
 *   7 k i64   /optim attribute k (step, nesterov, decay_all) = i64, or kind = "sgd"
 *   8 i64     root attribute version
 *   9 k       /config integer attribute k rewritten as a string */
#include <hdf5.h>

#include "data/tokenizer.h"
#include "fuzz_ckpt.h"
#include "train/h5io.h"

static unsigned char *edit_base;
static size_t edit_base_n;
static char edit_names[64][160];
static int edit_n_names;

static void edit_init(void) {
    const char *texts[] = {"one two", "three"};
    nt_vocab *v = NULL;
    nt_model *m = NULL;
    nt_optim *o = NULL;
    nt_model_config c = nt_model_config_default();
    if (nt_vocab_build(&v, NT_TOKENIZER_CHAR, texts, 2, 1) != NT_OK) fuzz_fail("vocab: %s", nt_errmsg());
    c.vocab_size = nt_vocab_size(v), c.d_model = 8, c.heads = 2, c.enc_layers = 1, c.dec_layers = 1, c.max_len = 8;
    if (nt_model_new(&m, &c) != NT_OK) fuzz_fail("model: %s", nt_errmsg());
    nt_optim_config oc = nt_optim_config_default(NT_OPTIM_ADAMW);
    if (nt_optim_new(&o, m->params, &oc) != NT_OK || nt_params_alloc_moments(m->params) != NT_OK)
        fuzz_fail("optim: %s", nt_errmsg());
    nt_train_state ts;
    nt_train_state_init(&ts);
    const char *path = fuzz_ckpt_path("base");
    if (nt_ckpt_save(path, &m->net, v, o, &ts) != NT_OK) fuzz_fail("save: %s", nt_errmsg());
    FILE *f = fopen(path, "rb");
    if (!f) fuzz_fail("reopen %s", path);
    fseek(f, 0, SEEK_END);
    edit_base_n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    edit_base = malloc(edit_base_n);
    if (!edit_base || fread(edit_base, 1, edit_base_n, f) != edit_base_n) fuzz_fail("read %s", path);
    fclose(f);
    unlink(path);
    for (int i = 0; i < m->params->count && i < 64; i++)
        snprintf(edit_names[edit_n_names++], sizeof edit_names[0], "/model/%s", m->params->names[i]);
    nt_optim_free(o);
    nt_model_free(m);
    nt_vocab_free(v);
}

typedef struct edit_in {
    const uint8_t *p;
    size_t n;
} edit_in;

static int edit_u8(edit_in *in, unsigned *v) {
    if (!in->n) return 0;
    *v = *in->p++, in->n--;
    return 1;
}

static int edit_i64(edit_in *in, int64_t *v) {
    if (in->n < 8) return 0;
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--) x = (x << 8) | in->p[i];
    in->p += 8, in->n -= 8;
    memcpy(v, &x, 8);
    return 1;
}

static void edit_apply(hid_t f, edit_in *in) {
    static const char *ints[] = {"vocab_size", "d_model", "heads", "enc_layers", "dec_layers", "max_len"};
    static const char *strs[] = {"arch", "tokenizer"};
    static const char *trains[] = {"step", "epoch", "cursor", "best_step", "bad_evals", "tokens"};
    static const char *optims[] = {"step", "nesterov", "decay_all", "kind"};
    unsigned op, k, n;
    int64_t x;
    for (int steps = 0; steps < 16 && edit_u8(in, &op); steps++) {
        switch (op % 10) {
        case 0:
            if (edit_u8(in, &k) && edit_i64(in, &x)) nt_h5_attr_write_int(f, "/config", ints[k % 6], x);
            break;
        case 1:
            if (edit_u8(in, &k) && edit_u8(in, &n) && n <= in->n) {
                char s[256];
                memcpy(s, in->p, n), s[n] = 0;
                in->p += n, in->n -= n;
                nt_h5_attr_write_str(f, "/config", strs[k % 2], s);
            }
            break;
        case 2:
            if (edit_i64(in, &x)) {
                double d;
                memcpy(&d, &x, 8);
                nt_h5_attr_write_double(f, "/config", "dropout", d);
            }
            break;
        case 3:
            if (edit_u8(in, &k)) {
                static const char *groups[] = {"/vocab/tokens", "/optim", "/train", "/config", "/model", "/vocab"};
                const char *what = k % 2 ? edit_names[(k / 2) % edit_n_names] : groups[(k / 2) % 6];
                H5Ldelete(f, what, H5P_DEFAULT);
            }
            break;
        case 4:
            if (edit_u8(in, &k) && edit_u8(in, &n)) {
                int nd = (int)(n % 4) + 1, shape[4];
                int64_t total = 1;
                for (int d = 0; d < nd; d++) {
                    unsigned a = 0, b = 0;
                    edit_u8(in, &a), edit_u8(in, &b);
                    shape[d] = (int)(a | b << 8) % 300 + 1;
                    total *= shape[d];
                }
                float *z = total <= (1 << 20) ? calloc((size_t)total, sizeof *z) : NULL;
                const char *name = edit_names[k % edit_n_names];
                if (z && H5Ldelete(f, name, H5P_DEFAULT) >= 0) nt_h5_write_f32(f, name, nd, shape, z);
                free(z);
            }
            break;
        case 5:
            if (edit_u8(in, &n)) {
                const char *tok[256];
                char buf[4096];
                size_t used = 0;
                int cnt = 0;
                while (cnt < (int)n && in->n && used < sizeof buf - 1) {
                    const char *s = buf + used;
                    while (in->n && *in->p && used < sizeof buf - 1) buf[used++] = (char)*in->p++, in->n--;
                    if (in->n) in->p++, in->n--;
                    buf[used++] = 0;
                    tok[cnt++] = s;
                }
                hid_t t = H5Tcopy(H5T_C_S1);
                H5Tset_size(t, H5T_VARIABLE);
                H5Tset_cset(t, H5T_CSET_UTF8);
                hsize_t dims = (hsize_t)cnt;
                hid_t sp = H5Screate_simple(1, &dims, NULL);
                H5Ldelete(f, "/vocab/tokens", H5P_DEFAULT);
                hid_t ds = cnt ? H5Dcreate2(f, "/vocab/tokens", t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : -1;
                if (ds >= 0) H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, tok), H5Dclose(ds);
                H5Sclose(sp), H5Tclose(t);
            }
            break;
        case 6:
            if (edit_u8(in, &k) && edit_i64(in, &x)) nt_h5_attr_write_int(f, "/train", trains[k % 6], x);
            break;
        case 7:
            if (edit_u8(in, &k) && edit_i64(in, &x)) {
                if (k % 4 == 3) nt_h5_attr_write_str(f, "/optim", "kind", x & 1 ? "sgd" : "adam");
                else nt_h5_attr_write_int(f, "/optim", optims[k % 4], x);
            }
            break;
        case 8:
            if (edit_i64(in, &x)) nt_h5_attr_write_int(f, "/", "version", x);
            break;
        case 9:
            if (edit_u8(in, &k)) nt_h5_attr_write_str(f, "/config", ints[k % 6], "12");
            break;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!edit_base) edit_init();
    const char *path = fuzz_ckpt_path("edit");
    if (fuzz_ckpt_write(path, edit_base, edit_base_n) != 0) return 0;
    nt_h5_quiet q = nt_h5_quiet_begin();
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    if (f >= 0) {
        edit_in in = {data, size};
        edit_apply(f, &in);
        H5Fclose(f);
    }
    nt_h5_quiet_end(q);
    if (nt_h5_file_seal(path) != NT_OK) fuzz_fail("reseal: %s", nt_errmsg());
    fuzz_ckpt_load_all(path);
    unlink(path);
    return 0;
}
