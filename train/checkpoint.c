/* checkpoint.c - HDF5 checkpoints: atomic writes, strict loads, named errors. */
#include "train/checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "train/atomic_file.h"
#include "train/h5io.h"
#include "train/vocab_h5.h"
#include "train/weights.h"

/* ---- HDF5 helpers ----------------------------------------------------------------
 * Datasets and attributes go through train/h5io.h (named errors, quiet
 * HDF5); here: HDF5's own reason for a failed open, and unsigned 64-bit
 * attributes (the RNG state: h5io reads integers as int64, which would
 * saturate a seed above 2^63). */

typedef struct h5_reason {
    char text[256];
} h5_reason;

static herr_t h5_walk_cb(unsigned n, const H5E_error2_t *err, void *data) {
    h5_reason *r = data;
    if (n == 0 && err->desc) snprintf(r->text, sizeof r->text, "%s", err->desc);
    return 0;
}

/* The innermost message of HDF5's current error stack ("" if none). */
static const char *h5_why(h5_reason *r) {
    r->text[0] = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, h5_walk_cb, r);
    return r->text;
}

static nt_status attr_write_u64(hid_t file, const char *obj, const char *name, uint64_t v) {
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate_by_name(file, obj, name, H5T_STD_U64LE, sp, H5P_DEFAULT, H5P_DEFAULT,
                                H5P_DEFAULT);
    herr_t e = a >= 0 ? H5Awrite(a, H5T_NATIVE_UINT64, &v) : -1;
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    if (e < 0) return nt_error(NT_ERR_IO, "%s: cannot write attribute '%s'", obj, name);
    return NT_OK;
}

static nt_status attr_read_u64(hid_t file, const char *obj, const char *name, uint64_t *v) {
    if (!nt_h5_attr_exists(file, obj, name))
        return nt_error(NT_ERR_FORMAT, "%s: attribute '%s' missing", obj, name);
    hid_t a = H5Aopen_by_name(file, obj, name, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0) return nt_error(NT_ERR_FORMAT, "%s: cannot open attribute '%s'", obj, name);
    hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
    int ok = H5Tget_class(t) == H5T_INTEGER && H5Sget_simple_extent_npoints(sp) == 1;
    ok = ok && H5Aread(a, H5T_NATIVE_UINT64, v) >= 0;
    H5Sclose(sp), H5Tclose(t), H5Aclose(a);
    if (!ok) return nt_error(NT_ERR_FORMAT, "%s: attribute '%s' is not one unsigned integer", obj, name);
    return NT_OK;
}

static int tensor_shape(const nt_tensor *t, int *shape) {
    for (int d = 0; d < t->ndim; d++) shape[d] = t->shape[d];
    return t->ndim;
}

/* ---- files -------------------------------------------------------------------------- */

/* Says once per process that a checkpoint without the whole-file checksum
 * was loaded unchecked (one written before it, or by another tool). */
static void note_unsealed(const char *path) {
    static int said;
    if (said) return;
    said = 1;
    fprintf(stderr,
            "nextok: note: %s has no whole-file checksum (written before nextok had one, or by "
            "another tool); loading it unchecked (re-save to add one)\n",
            path);
}

nt_status nt_ckpt_open(const char *path, hid_t *file) {
    if (!path || !file) return nt_error(NT_ERR_ARG, "nt_ckpt_open: NULL argument");
    /* Integrity first, with plain file I/O: libhdf5 parses only files whose
     * every byte is as written (docs/checkpoints.md). */
    int sealed = 0;
    NT_TRY(nt_h5_file_verify(path, &sealed));
    if (!sealed && getenv("NT_CKPT_REQUIRE_SUM") && atoi(getenv("NT_CKPT_REQUIRE_SUM")) > 0)
        return nt_error(NT_ERR_FORMAT,
                        "%s: no whole-file checksum, and NT_CKPT_REQUIRE_SUM=1 refuses unchecked checkpoints", path);
    if (!sealed) note_unsealed(path);
    nt_h5_quiet q = nt_h5_quiet_begin();
    hid_t h = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (h < 0) {
        h5_reason r;
        nt_error(NT_ERR_FORMAT, "%s: not a readable HDF5 checkpoint (damaged or truncated? %s)", path,
                 h5_why(&r));
        nt_h5_quiet_end(q);
        return NT_ERR_FORMAT;
    }
    nt_h5_quiet_end(q);
    char fmt[64];
    int64_t version = 0;
    nt_status s = nt_h5_attr_read_str(h, "/", "format", fmt, sizeof fmt);
    if (s == NT_OK && strcmp(fmt, NT_CKPT_FORMAT) != 0)
        s = nt_error(NT_ERR_FORMAT, "/: attribute 'format' is '%s', expected '%s'", fmt, NT_CKPT_FORMAT);
    if (s == NT_OK) s = nt_h5_attr_read_int(h, "/", "version", &version);
    if (s != NT_OK) nt_error_wrap(s, "%s", path);
    if (s == NT_OK && version != NT_CKPT_VERSION)
        s = nt_error(NT_ERR_FORMAT,
                     "%s: checkpoint version %lld is not supported (this build reads version %d)",
                     path, (long long)version, NT_CKPT_VERSION);
    if (s != NT_OK) {
        H5Fclose(h);
        return s;
    }
    *file = h;
    return NT_OK;
}

/* The pid in "<base>.tmp-<pid>" (digits only), or 0 if `name` is not such a file name. */
static pid_t tmp_pid(const char *name, const char *base) {
    size_t n = strlen(base);
    if (strncmp(name, base, n) != 0 || strncmp(name + n, ".tmp-", 5) != 0) return 0;
    const char *digits = name + n + 5;
    if (*digits < '0' || *digits > '9') return 0;
    char *end;
    errno = 0;
    long pid = strtol(digits, &end, 10);
    if (*end || errno || pid <= 0 || (long)(pid_t)pid != pid) return 0;
    return (pid_t)pid;
}

/* Removes the "<path>.tmp-<pid>" files that writers killed mid-write (SIGKILL,
 * power loss) left next to `path`: only regular files whose writer process
 * is gone (kill(pid, 0) fails with ESRCH) and that no process holds a lock
 * on (nt_h5_mem_write flocks the file while it writes it; this also guards against a writer of
 * the same pid on another host sharing the folder). A live writer's file,
 * one of a reused pid, and anything else in the folder are left alone.
 * Best effort: a file that cannot be checked or removed stays. */
static void remove_stale_tmps(const char *path) {
    char dir[4096];
    if ((size_t)snprintf(dir, sizeof dir, "%s", path) >= sizeof dir) return;
    char *slash = strrchr(dir, '/');
    const char *base = slash ? path + (slash - dir) + 1 : path;
    if (slash == dir) slash[1] = 0;
    else if (slash) *slash = 0;
    else snprintf(dir, sizeof dir, ".");
    DIR *d = opendir(dir);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        pid_t pid = tmp_pid(e->d_name, base);
        if (pid <= 0 || pid == getpid() || kill(pid, 0) == 0 || errno != ESRCH) continue;
        char full[8192];
        if ((size_t)snprintf(full, sizeof full, "%s/%s", dir, e->d_name) >= sizeof full) continue;
        struct stat sb;
        if (lstat(full, &sb) != 0 || !S_ISREG(sb.st_mode)) continue;
        int fd = open(full, O_RDONLY | O_NOFOLLOW);
        if (fd < 0) continue;
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) unlink(full);
        close(fd); /* releases the lock */
    }
    closedir(d);
}

nt_status nt_ckpt_create(const char *path, hid_t *file, char *tmp, size_t tmp_len) {
    if (!path || !file || !tmp) return nt_error(NT_ERR_ARG, "nt_ckpt_create: NULL argument");
    if ((size_t)snprintf(tmp, tmp_len, "%s.tmp-%ld", path, (long)getpid()) >= tmp_len)
        return nt_error(NT_ERR_ARG, "nt_ckpt_create: path too long: %s", path);
    remove_stale_tmps(path);
    /* Built in memory; nt_ckpt_commit writes it with its checksum (h5io.h). */
    nt_h5_quiet q = nt_h5_quiet_begin();
    hid_t h = nt_h5_mem_create(tmp);
    if (h < 0) {
        h5_reason r;
        nt_error(NT_ERR_IO, "%s: cannot create (%s)", tmp, h5_why(&r));
        nt_h5_quiet_end(q);
        return NT_ERR_IO;
    }
    nt_h5_quiet_end(q);
    nt_status s = nt_h5_attr_write_str(h, "/", "format", NT_CKPT_FORMAT);
    if (s == NT_OK) s = nt_h5_attr_write_int(h, "/", "version", NT_CKPT_VERSION);
    if (s != NT_OK) {
        nt_ckpt_abort(h, tmp);
        return nt_error_wrap(s, "%s", path);
    }
    *file = h;
    return NT_OK;
}

void nt_ckpt_abort(hid_t file, const char *tmp) {
    if (file >= 0) H5Fclose(file);
    if (tmp) remove(tmp);
}

nt_status nt_ckpt_commit(hid_t file, const char *tmp, const char *path) {
    if (!tmp || !path) {
        if (file >= 0) H5Fclose(file);
        return nt_error(NT_ERR_ARG, "nt_ckpt_commit: NULL argument");
    }
    /* The one write to disk: plain write(2) calls, fsync'ed. It closes the
     * HDF5 file whatever fails, so a full disk leaves no handle behind. */
    nt_status s = nt_h5_mem_write(file, tmp);
    if (s != NT_OK) {
        remove(tmp);
        return nt_error_wrap(s, "saving %s (the previous checkpoint, if any, is untouched)", path);
    }
    return nt_atomic_file_rename(tmp, path);
}

/* ---- /optim ---------------------------------------------------------------------------- */

static nt_status optim_moment_path(char *buf, size_t len, const char *name, const char *which) {
    if ((size_t)snprintf(buf, len, "/optim/%s/%s", name, which) >= len)
        return nt_error(NT_ERR_ARG, "parameter name too long: %s", name);
    return NT_OK;
}

nt_status nt_ckpt_write_optim(hid_t file, const nt_optim *o) {
    if (!o) return nt_error(NT_ERR_ARG, "nt_ckpt_write_optim: optimizer is NULL");
    const nt_params *p = o->params;
    if (!p->m || !p->v) return nt_error(NT_ERR_STATE, "nt_ckpt_write_optim: moments not allocated");
    const nt_optim_config *c = &o->cfg;
    const char *g = "/optim";
    nt_status s = nt_h5_attr_write_str(file, g, "kind", nt_optim_kind_name(c->kind));
    if (s == NT_OK) s = nt_h5_attr_write_int(file, g, "step", o->step);
    if (s == NT_OK) s = nt_h5_attr_write_double(file, g, "lr", o->last_lr);
    if (s == NT_OK) s = nt_h5_attr_write_double(file, g, "beta1", c->beta1);
    if (s == NT_OK) s = nt_h5_attr_write_double(file, g, "beta2", c->beta2);
    if (s == NT_OK) s = nt_h5_attr_write_double(file, g, "eps", c->eps);
    if (s == NT_OK) s = nt_h5_attr_write_double(file, g, "weight_decay", c->weight_decay);
    if (s == NT_OK) s = nt_h5_attr_write_double(file, g, "momentum", c->momentum);
    if (s == NT_OK) s = nt_h5_attr_write_int(file, g, "nesterov", c->nesterov);
    if (s == NT_OK) s = nt_h5_attr_write_int(file, g, "decay_all", c->decay_all);
    char path[1100];
    int shape[NT_MAX_DIMS];
    for (int i = 0; s == NT_OK && i < p->count; i++) {
        int nd = tensor_shape(&p->tensors[i], shape);
        s = optim_moment_path(path, sizeof path, p->names[i], "m");
        if (s == NT_OK) s = nt_h5_write_f32(file, path, nd, shape, p->m + p->offsets[i]);
        if (s == NT_OK) s = optim_moment_path(path, sizeof path, p->names[i], "v");
        if (s == NT_OK) s = nt_h5_write_f32(file, path, nd, shape, p->v + p->offsets[i]);
    }
    return s == NT_OK ? NT_OK : nt_error_wrap(s, "nt_ckpt_write_optim");
}

/* Counts the links in group /optim (one per parameter). */
static herr_t count_link(hid_t g, const char *name, const H5L_info_t *info, void *data) {
    (void)g, (void)name, (void)info;
    ++*(int64_t *)data;
    return 0;
}

nt_status nt_ckpt_read_optim(hid_t file, const char *where, nt_optim *o) {
    if (!o || !where) return nt_error(NT_ERR_ARG, "nt_ckpt_read_optim: NULL argument");
    nt_params *p = o->params;
    if (!nt_h5_exists(file, "/optim"))
        return nt_error(NT_ERR_FORMAT,
                        "%s: /optim is missing (a weights-only file cannot resume training)", where);
    const char *g = "/optim";
    char kind[32];
    nt_optim_config c = o->cfg;
    nt_optim_kind k = c.kind;
    int64_t step = 0, nesterov = 0, decay_all = 0;
    double lr = 0;
    nt_status s = nt_h5_attr_read_str(file, g, "kind", kind, sizeof kind);
    if (s == NT_OK && nt_optim_kind_parse(kind, &k) != NT_OK)
        s = nt_error(NT_ERR_FORMAT, "/optim: attribute 'kind' is '%s' (expected sgd, adam or adamw)", kind);
    if (s == NT_OK && k != c.kind)
        s = nt_error(NT_ERR_FORMAT, "/optim: optimizer kind '%s' differs from this run's '%s'", kind,
                     nt_optim_kind_name(c.kind));
    if (s == NT_OK) s = nt_h5_attr_read_int(file, g, "step", &step);
    if (s == NT_OK && step < 0) s = nt_error(NT_ERR_FORMAT, "/optim: step %lld < 0", (long long)step);
    if (s == NT_OK) s = nt_h5_attr_read_double(file, g, "lr", &lr);
    if (s == NT_OK) s = nt_h5_attr_read_double(file, g, "beta1", &c.beta1);
    if (s == NT_OK) s = nt_h5_attr_read_double(file, g, "beta2", &c.beta2);
    if (s == NT_OK) s = nt_h5_attr_read_double(file, g, "eps", &c.eps);
    if (s == NT_OK) s = nt_h5_attr_read_double(file, g, "weight_decay", &c.weight_decay);
    if (s == NT_OK) s = nt_h5_attr_read_double(file, g, "momentum", &c.momentum);
    if (s == NT_OK) s = nt_h5_attr_read_int(file, g, "nesterov", &nesterov);
    if (s == NT_OK) s = nt_h5_attr_read_int(file, g, "decay_all", &decay_all);
    if (s == NT_OK) {
        c.nesterov = (int)nesterov, c.decay_all = (int)decay_all;
        if (nt_optim_config_check(&c) != NT_OK) s = nt_error_wrap(NT_ERR_FORMAT, "/optim: stored hyperparameters");
    }
    if (s == NT_OK) s = nt_params_alloc_moments(p);
    char path[1100];
    int shape[NT_MAX_DIMS];
    for (int i = 0; s == NT_OK && i < p->count; i++) {
        int nd = tensor_shape(&p->tensors[i], shape);
        s = optim_moment_path(path, sizeof path, p->names[i], "m");
        if (s == NT_OK) s = nt_h5_read_f32(file, path, nd, shape, p->m + p->offsets[i]);
        if (s == NT_OK) s = optim_moment_path(path, sizeof path, p->names[i], "v");
        if (s == NT_OK) s = nt_h5_read_f32(file, path, nd, shape, p->v + p->offsets[i]);
    }
    /* Moments stored for a parameter this model lacks are a mismatch too. */
    int64_t n = 0;
    if (s == NT_OK) {
        nt_h5_quiet q = nt_h5_quiet_begin();
        H5Literate_by_name(file, "/optim", H5_INDEX_NAME, H5_ITER_NATIVE, NULL, count_link, &n, H5P_DEFAULT);
        nt_h5_quiet_end(q);
        if (n != p->count)
            s = nt_error(NT_ERR_FORMAT, "/optim holds moments of %lld parameters, the model has %d",
                         (long long)n, p->count);
    }
    if (s != NT_OK) return nt_error_wrap(s, "%s", where);
    int decay_all_changed = c.decay_all != o->cfg.decay_all;
    o->cfg = c;
    o->step = step;
    o->last_lr = lr;
    if (decay_all_changed) NT_TRY(nt_optim_refresh(o));
    return NT_OK;
}

/* ---- /train ---------------------------------------------------------------------------- */

void nt_train_state_init(nt_train_state *ts) {
    if (!ts) return;
    memset(ts, 0, sizeof *ts);
    ts->best_metric = NAN;
    ts->best_loss = NAN;
    ts->best_step = -1;
}

nt_status nt_ckpt_write_train(hid_t file, const nt_train_state *ts) {
    if (!ts) return nt_error(NT_ERR_ARG, "nt_ckpt_write_train: state is NULL");
    const char *g = "/train";
    nt_status s = nt_h5_attr_write_int(file, g, "step", ts->step);
    if (s == NT_OK) s = nt_h5_attr_write_int(file, g, "epoch", ts->epoch);
    if (s == NT_OK) s = nt_h5_attr_write_int(file, g, "cursor", ts->cursor);
    if (s == NT_OK) s = attr_write_u64(file, g, "rng_seed", ts->rng.seed);
    if (s == NT_OK) s = attr_write_u64(file, g, "rng_counter", ts->rng.counter);
    if (s == NT_OK) s = nt_h5_attr_write_double(file, g, "best_metric", ts->best_metric);
    if (s == NT_OK) s = nt_h5_attr_write_double(file, g, "best_loss", ts->best_loss);
    if (s == NT_OK) s = nt_h5_attr_write_int(file, g, "best_step", ts->best_step);
    if (s == NT_OK) s = nt_h5_attr_write_int(file, g, "bad_evals", ts->bad_evals);
    if (s == NT_OK) s = nt_h5_attr_write_int(file, g, "tokens", ts->tokens);
    if (s == NT_OK) s = nt_h5_attr_write_double(file, g, "seconds", ts->seconds);
    if (s == NT_OK) s = nt_h5_attr_write_str(file, g, "options", ts->options);
    return s == NT_OK ? NT_OK : nt_error_wrap(s, "nt_ckpt_write_train");
}

nt_status nt_ckpt_read_train(hid_t file, const char *where, nt_train_state *out) {
    if (!out || !where) return nt_error(NT_ERR_ARG, "nt_ckpt_read_train: NULL argument");
    if (!nt_h5_exists(file, "/train"))
        return nt_error(NT_ERR_FORMAT,
                        "%s: /train is missing (a weights-only file cannot resume training)", where);
    nt_train_state *ts = nt_malloc(sizeof *ts);
    if (!ts) return nt_error(NT_ERR_NOMEM, "nt_ckpt_read_train: out of memory");
    nt_train_state_init(ts);
    const char *g = "/train";
    nt_status s = nt_h5_attr_read_int(file, g, "step", &ts->step);
    if (s == NT_OK) s = nt_h5_attr_read_int(file, g, "epoch", &ts->epoch);
    if (s == NT_OK) s = nt_h5_attr_read_int(file, g, "cursor", &ts->cursor);
    if (s == NT_OK) s = attr_read_u64(file, g, "rng_seed", &ts->rng.seed);
    if (s == NT_OK) s = attr_read_u64(file, g, "rng_counter", &ts->rng.counter);
    if (s == NT_OK) s = nt_h5_attr_read_double(file, g, "best_metric", &ts->best_metric);
    if (s == NT_OK && nt_h5_attr_exists(file, g, "best_loss")) /* absent before 2026-11-29 */
        s = nt_h5_attr_read_double(file, g, "best_loss", &ts->best_loss);
    if (s == NT_OK) s = nt_h5_attr_read_int(file, g, "best_step", &ts->best_step);
    if (s == NT_OK) s = nt_h5_attr_read_int(file, g, "bad_evals", &ts->bad_evals);
    if (s == NT_OK) s = nt_h5_attr_read_int(file, g, "tokens", &ts->tokens);
    if (s == NT_OK) s = nt_h5_attr_read_double(file, g, "seconds", &ts->seconds);
    if (s == NT_OK) s = nt_h5_attr_read_str(file, g, "options", ts->options, sizeof ts->options);
    if (s == NT_OK && (ts->step < 0 || ts->epoch < 0 || ts->cursor < 0))
        s = nt_error(NT_ERR_FORMAT, "/train: negative step, epoch or cursor (%lld, %lld, %lld)",
                     (long long)ts->step, (long long)ts->epoch, (long long)ts->cursor);
    if (s == NT_OK) memcpy(out, ts, sizeof *ts);
    nt_free(ts);
    return s == NT_OK ? NT_OK : nt_error_wrap(s, "%s", where);
}

/* ---- whole files ------------------------------------------------------------------------ */

nt_status nt_ckpt_save(const char *path, const nt_net *net, const nt_vocab *vocab,
                       const nt_optim *optim, const nt_train_state *train) {
    const char *fn = "nt_ckpt_save";
    if (!path || !net) return nt_error(NT_ERR_ARG, "%s: path and model must not be NULL", fn);
    if (vocab && nt_vocab_size(vocab) != net->vocab_size)
        return nt_error(NT_ERR_ARG, "%s: %s: vocabulary has %d tokens, the model's vocab_size is %d",
                        fn, path, nt_vocab_size(vocab), net->vocab_size);
    if (optim && optim->params != net->params)
        return nt_error(NT_ERR_ARG, "%s: the optimizer is not over this model's parameters", fn);
    hid_t f;
    char tmp[4200];
    NT_TRY(nt_ckpt_create(path, &f, tmp, sizeof tmp));
    nt_status s = nt_weights_save(f, net);
    if (s == NT_OK && vocab)
        s = nt_h5_attr_write_str(f, "/config", "tokenizer", nt_tokenizer_kind_name(nt_vocab_kind(vocab)));
    if (s == NT_OK && vocab) s = nt_vocab_save_h5(vocab, f);
    if (s == NT_OK && optim) s = nt_ckpt_write_optim(f, optim);
    if (s == NT_OK && train) s = nt_ckpt_write_train(f, train);
    if (s != NT_OK) {
        nt_ckpt_abort(f, tmp);
        return nt_error_wrap(s, "%s: %s", fn, path);
    }
    return nt_ckpt_commit(f, tmp, path);
}

nt_status nt_ckpt_export(const char *path, const nt_net *net, const nt_vocab *vocab) {
    return nt_ckpt_save(path, net, vocab, NULL, NULL);
}

nt_status nt_ckpt_read_config(const char *path, nt_attrs *cfg) {
    if (!path || !cfg) return nt_error(NT_ERR_ARG, "nt_ckpt_read_config: NULL argument");
    hid_t f;
    NT_TRY(nt_ckpt_open(path, &f));
    nt_status s = nt_weights_config_read(f, cfg);
    H5Fclose(f);
    return s == NT_OK ? NT_OK : nt_error_wrap(s, "%s", path);
}

/* /vocab with the tokenizer kind of /config; *out NULL if the file has no /vocab. */
static nt_status load_vocab(hid_t f, const nt_net *m, nt_vocab **out) {
    *out = NULL;
    if (!nt_h5_exists(f, "/vocab")) return NT_OK;
    char tok[32];
    nt_tokenizer_kind kind = NT_TOKENIZER_CHAR;
    NT_TRY(nt_h5_attr_read_str(f, "/config", "tokenizer", tok, sizeof tok));
    if (nt_tokenizer_kind_parse(tok, &kind) != NT_OK)
        return nt_error(NT_ERR_FORMAT, "/config: tokenizer '%s' is unknown", tok);
    nt_vocab *v = NULL;
    NT_TRY(nt_vocab_load_h5(&v, f));
    nt_vocab_set_kind(v, kind);
    if (nt_vocab_kind(v) != kind) { /* spm both ways: the model travels in /vocab */
        nt_status s = nt_error(NT_ERR_FORMAT, "/config: tokenizer '%s', /vocab holds a %s vocabulary", tok,
                               nt_tokenizer_kind_name(nt_vocab_kind(v)));
        nt_vocab_free(v);
        return s;
    }
    if (nt_vocab_size(v) != m->vocab_size) {
        int n = nt_vocab_size(v);
        nt_vocab_free(v);
        return nt_error(NT_ERR_FORMAT, "/vocab/tokens has %d tokens, /config vocab_size is %d", n, m->vocab_size);
    }
    *out = v;
    return NT_OK;
}

nt_status nt_ckpt_load_net(const char *path, nt_net **net, nt_vocab **vocab) {
    if (!path || !net) return nt_error(NT_ERR_ARG, "nt_ckpt_load_net: path and model must not be NULL");
    hid_t f;
    NT_TRY(nt_ckpt_open(path, &f));
    nt_net *m = NULL;
    nt_vocab *v = NULL;
    nt_status s = nt_weights_load(f, &m);
    if (s == NT_OK && vocab) s = load_vocab(f, m, &v);
    H5Fclose(f);
    if (s != NT_OK) {
        nt_net_free(m);
        nt_vocab_free(v);
        return nt_error_wrap(s, "%s", path);
    }
    *net = m;
    if (vocab) *vocab = v;
    return NT_OK;
}

nt_status nt_ckpt_load(const char *path, nt_model **model, nt_vocab **vocab) {
    if (!path || !model) return nt_error(NT_ERR_ARG, "nt_ckpt_load: path and model must not be NULL");
    nt_net *net;
    nt_vocab *v = NULL;
    NT_TRY(nt_ckpt_load_net(path, &net, vocab ? &v : NULL));
    nt_model *m = nt_model_from_net(net);
    if (!m || (vocab && !v)) {
        nt_status s = nt_error(NT_ERR_FORMAT, "%s: %s", path,
                               !m ? "holds a model that is not a transformer (arch is neither "
                                    "'encdec' nor 'decoder')"
                                  : "/vocab: missing");
        nt_net_free(net);
        nt_vocab_free(v);
        return s;
    }
    *model = m;
    if (vocab) *vocab = v;
    return NT_OK;
}

nt_status nt_ckpt_load_weights_into(const char *path, nt_net *net) {
    if (!path || !net) return nt_error(NT_ERR_ARG, "nt_ckpt_load_weights_into: NULL argument");
    hid_t f;
    NT_TRY(nt_ckpt_open(path, &f));
    nt_status s = nt_weights_check_config(f, net);
    if (s == NT_OK) s = nt_weights_load_into(f, net);
    H5Fclose(f);
    return s == NT_OK ? NT_OK : nt_error_wrap(s, "%s", path);
}

nt_status nt_ckpt_load_optim(const char *path, nt_optim *optim) {
    if (!path || !optim) return nt_error(NT_ERR_ARG, "nt_ckpt_load_optim: NULL argument");
    hid_t f;
    NT_TRY(nt_ckpt_open(path, &f));
    nt_status s = nt_ckpt_read_optim(f, path, optim);
    H5Fclose(f);
    return s;
}

nt_status nt_ckpt_load_train(const char *path, nt_train_state *train) {
    if (!path || !train) return nt_error(NT_ERR_ARG, "nt_ckpt_load_train: NULL argument");
    hid_t f;
    NT_TRY(nt_ckpt_open(path, &f));
    nt_status s = nt_ckpt_read_train(f, path, train);
    H5Fclose(f);
    return s;
}
