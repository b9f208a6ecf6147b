/* fuzz_ckpt.h - checkpoint harness helpers: a scratch file per process, and
 * the loads a checkpoint goes through (nt_ckpt_load with the vocabulary,
 * then /optim into an optimizer over the loaded model, then /train). */
#ifndef NT_FUZZ_CKPT_H
#define NT_FUZZ_CKPT_H

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "train/checkpoint.h"

/* "<TMPDIR or /tmp>/nt_fuzz_<tag>_<pid>.h5" */
static const char *fuzz_ckpt_path(const char *tag) {
    static char path[512];
    const char *dir = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/nt_fuzz_%s_%ld.h5", dir && *dir ? dir : "/tmp", tag, (long)getpid());
    return path;
}

static int fuzz_ckpt_write(const char *path, const uint8_t *data, size_t size) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(data, 1, size, f);
    return fclose(f) == 0 && w == size ? 0 : -1;
}

/* The first failure of the last fuzz_ckpt_load_all (NT_OK: all loaded). */
static nt_status fuzz_ckpt_last;

/* Loads everything; any error must carry a message naming the file. */
static void fuzz_ckpt_load_all(const char *path) {
    /* legit model sizes only: the limit is what available memory would be */
    setenv("NT_MEM_LIMIT", "256M", 0);
    nt_model *m = NULL;
    nt_vocab *v = NULL;
    nt_status s = nt_ckpt_load(path, &m, &v);
    fuzz_ckpt_last = s;
    if (s != NT_OK) {
        if (m || v) fuzz_fail("failed load left outputs set");
        if (!strstr(nt_errmsg(), path)) fuzz_fail("message without the file: %s", nt_errmsg());
        return;
    }
    nt_optim_config oc = nt_optim_config_default(NT_OPTIM_ADAMW);
    nt_optim *o = NULL;
    if (nt_optim_new(&o, m->params, &oc) == NT_OK) {
        s = nt_ckpt_load_optim(path, o);
        if (s != NT_OK && !strstr(nt_errmsg(), path)) fuzz_fail("message without the file: %s", nt_errmsg());
        if (fuzz_ckpt_last == NT_OK) fuzz_ckpt_last = s;
        nt_optim_free(o);
    }
    nt_train_state *ts = malloc(sizeof *ts);
    if (ts) {
        s = nt_ckpt_load_train(path, ts);
        if (s != NT_OK && !strstr(nt_errmsg(), path)) fuzz_fail("message without the file: %s", nt_errmsg());
        if (fuzz_ckpt_last == NT_OK) fuzz_ckpt_last = s;
    }
    free(ts);
    nt_model_free(m);
    nt_vocab_free(v);
}

#endif
