/* models.c - test models. */
#include "models.h"

#include <string.h>

#include "check.h"
#include "train/checkpoint.h"
#include "train/weights.h"

nt_model *nt_test_model(nt_arch arch, int V, int D, int H, int enc_layers, int dec_layers, int max_len, nt_rng *rng) {
    nt_model_config c = nt_model_config_default();
    c.arch = arch;
    c.vocab_size = V, c.d_model = D, c.heads = H;
    c.enc_layers = enc_layers, c.dec_layers = dec_layers, c.max_len = max_len;
    nt_model *m = NULL;
    nt_status st = nt_model_new(&m, &c);
    CHECK(st == NT_OK, "model (V %d, D %d, H %d, layers %d+%d, max_len %d): %s", V, D, H, enc_layers, dec_layers,
          max_len, nt_errmsg());
    if (st != NT_OK) return NULL;
    nt_model_init(m, rng);
    return m;
}

nt_status nt_test_model_load(const char *path, nt_model **out) {
    nt_net *net;
    NT_TRY(nt_weights_load_file(path, &net));
    *out = nt_model_from_net(net);
    return NT_OK;
}

int nt_test_same_weights(const char *a, const char *b) {
    nt_model *ma = NULL, *mb = NULL;
    int same = nt_ckpt_load(a, &ma, NULL) == NT_OK && nt_ckpt_load(b, &mb, NULL) == NT_OK &&
               ma->params->total == mb->params->total &&
               memcmp(ma->params->values, mb->params->values, (size_t)ma->params->total * sizeof(float)) == 0;
    nt_model_free(ma);
    nt_model_free(mb);
    return same;
}
