/* models.h - test support: the transformer (nn/model.h) at a test's size.
 *
 *     nt_rng rng;
 *     nt_rng_seed(&rng, 7);
 *     nt_model *m = nt_test_model(NT_ARCH_ENCDEC, 20, 16, 2, 1, 2, 32, &rng);  // V D H enc dec max_len
 *     ... rng goes on where nt_model_init left it ...
 *     nt_model_free(m);
 */
#ifndef NT_TEST_MODELS_H
#define NT_TEST_MODELS_H

#include "core/rng.h"
#include "nn/model.h"

/* A model with vocabulary V, width D, H heads, enc_layers + dec_layers
 * blocks and context max_len (the rest nt_model_config_default), its
 * weights from nt_model_init drawing from rng. NULL after a failed CHECK
 * (the message names the configuration). */
nt_model *nt_test_model(nt_arch arch, int V, int D, int H, int enc_layers, int dec_layers, int max_len, nt_rng *rng);

/* The model of a weights file (train/weights.h's nt_weights_load_file, as a
 * transformer). */
nt_status nt_test_model_load(const char *path, nt_model **out);

/* 1 if the checkpoints at paths a and b load and hold bitwise equal weights. */
int nt_test_same_weights(const char *a, const char *b);

#endif
