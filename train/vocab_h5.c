/* vocab_h5.c - the vocabulary in HDF5 (see vocab_h5.h). */
#include "train/vocab_h5.h"

#include <string.h>

#include "core/alloc.h"
#include "data/utf8.h"
#include "train/h5io.h"

static hid_t utf8_vlen_type(void) {
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return t;
    if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

/* vocab/<name>: a serialized SentencePiece model, 1-D uint8. */
static nt_status save_spm_model(const nt_spm *m, hid_t g, const char *name) {
    const uint8_t *b;
    size_t nb;
    nt_spm_bytes(m, &b, &nb);
    hsize_t dim = (hsize_t)nb;
    nt_status s = NT_OK;
    hid_t space = -1, ds = -1;
    if (H5Lexists(g, name, H5P_DEFAULT) > 0)
        return nt_error(NT_ERR_IO, "nt_vocab_save_h5: vocab/%s exists already", name);
    space = H5Screate_simple(1, &dim, NULL);
    if (space >= 0) ds = H5Dcreate2(g, name, H5T_STD_U8LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (ds < 0 || H5Dwrite(ds, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, b) < 0)
        s = nt_error(NT_ERR_IO, "nt_vocab_save_h5: cannot write vocab/%s (%zu bytes)", name, nb);
    if (ds >= 0) H5Dclose(ds);
    if (space >= 0) H5Sclose(space);
    return s;
}

/* Reads vocab/<name> into a SentencePiece model. */
static nt_status load_spm_model(nt_spm **out, hid_t loc, const char *name) {
    const char *who = "nt_vocab_load_h5";
    char path[64];
    snprintf(path, sizeof path, "vocab/%s", name);
    nt_status s = NT_OK;
    hid_t ds = -1, space = -1, ftype = -1;
    hsize_t nb = 0;
    uint8_t *b = NULL;
    *out = NULL;
    H5E_BEGIN_TRY {
        if (H5Lexists(loc, path, H5P_DEFAULT) <= 0 || (ds = H5Dopen2(loc, path, H5P_DEFAULT)) < 0)
            s = nt_error(NT_ERR_FORMAT, "%s: tokenizer spm but no dataset %s", who, path);
        if (s == NT_OK) {
            ftype = H5Dget_type(ds);
            space = H5Dget_space(ds);
            if (ftype < 0 || H5Tget_class(ftype) != H5T_INTEGER || H5Tget_size(ftype) != 1 || space < 0 ||
                H5Sget_simple_extent_ndims(space) != 1)
                s = nt_error(NT_ERR_FORMAT, "%s: %s is not a 1-D array of bytes", who, path);
            else H5Sget_simple_extent_dims(space, &nb, NULL);
        }
        if (s == NT_OK && (nb == 0 || nb > ((hsize_t)1 << 31)))
            s = nt_error(NT_ERR_FORMAT, "%s: %s has %llu bytes", who, path, (unsigned long long)nb);
        if (s == NT_OK && !(b = nt_malloc((size_t)nb))) s = nt_error(NT_ERR_NOMEM, "%s: out of memory", who);
        if (s == NT_OK && H5Dread(ds, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, b) < 0)
            s = nt_error(NT_ERR_FORMAT, "%s: cannot read %s", who, path);
        if (ftype >= 0) H5Tclose(ftype);
        if (space >= 0) H5Sclose(space);
        if (ds >= 0) H5Dclose(ds);
    } H5E_END_TRY;
    if (s == NT_OK) s = nt_spm_load(out, b, (size_t)nb);
    nt_free(b);
    if (s != NT_OK) return nt_error_wrap(s, "%s: %s", who, path);
    return NT_OK;
}

/* Builds the spm vocabulary from vocab/spm_model and checks that the stored
 * tokens tok[0..n) are its pieces in the mapped order. */
static nt_status load_spm(nt_vocab **out, hid_t loc, const char *const *tok, int n) {
    const char *who = "nt_vocab_load_h5";
    nt_spm *m = NULL, *src = NULL;
    NT_TRY(load_spm_model(&m, loc, "spm_model"));
    htri_t separate;
    H5E_BEGIN_TRY { separate = H5Lexists(loc, "vocab/spm_model_src", H5P_DEFAULT); } H5E_END_TRY;
    if (separate > 0) {
        nt_status s = load_spm_model(&src, loc, "spm_model_src");
        if (s != NT_OK) {
            nt_spm_free(m);
            return s;
        }
    }
    nt_status s = src ? nt_vocab_from_spm_pair(out, src, m) : nt_vocab_from_spm(out, m);
    if (s != NT_OK) return nt_error_wrap(s, "%s: vocab/spm_model%s", who, src ? "_src" : "");
    nt_vocab *v = *out;
    int vn = nt_vocab_size(v);
    int bad = vn != n ? (vn < n ? vn : n) : -1;
    for (int i = 0; bad < 0 && i < n; i++)
        if (strcmp(tok[i], nt_vocab_token(v, i)) != 0) bad = i;
    if (bad >= 0) {
        const char *models = src ? "vocab/spm_model + vocab/spm_model_src" : "vocab/spm_model";
        s = vn != n ? nt_error(NT_ERR_FORMAT, "%s: vocab/tokens has %d tokens, %s %d pieces", who, n, models, vn)
                    : nt_error(NT_ERR_FORMAT, "%s: vocab/tokens[%d] is \"%.40s\", %s says \"%.40s\"", who, bad,
                               tok[bad], models, nt_vocab_token(v, bad));
        nt_vocab_free(v);
        *out = NULL;
    }
    return s;
}

nt_status nt_vocab_save_h5(const nt_vocab *v, hid_t loc) {
    if (!v) return nt_error(NT_ERR_ARG, "nt_vocab_save_h5: NULL vocab");
    int n = nt_vocab_size(v);
    const char **tok = nt_malloc((size_t)n * sizeof *tok);
    if (!tok) return nt_error(NT_ERR_NOMEM, "nt_vocab_save_h5: out of memory");
    for (int i = 0; i < n; i++) tok[i] = nt_vocab_token(v, i);
    nt_status s = NT_OK;
    hid_t g = -1, type = -1, space = -1, ds = -1, aspace = -1, attr = -1;
    H5E_BEGIN_TRY {
        htri_t has = H5Lexists(loc, "vocab", H5P_DEFAULT);
        if (has < 0) s = nt_error(NT_ERR_IO, "nt_vocab_save_h5: bad HDF5 location");
        else g = has ? H5Gopen2(loc, "vocab", H5P_DEFAULT)
                     : H5Gcreate2(loc, "vocab", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (s == NT_OK && g < 0) s = nt_error(NT_ERR_IO, "nt_vocab_save_h5: cannot open or create group vocab");
        if (s == NT_OK && H5Lexists(g, "tokens", H5P_DEFAULT) > 0)
            s = nt_error(NT_ERR_IO, "nt_vocab_save_h5: vocab/tokens exists already");
        if (s == NT_OK) {
            hsize_t dim = (hsize_t)n;
            type = utf8_vlen_type();
            space = H5Screate_simple(1, &dim, NULL);
            if (type >= 0 && space >= 0)
                ds = H5Dcreate2(g, "tokens", type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
            if (ds < 0 || H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, tok) < 0)
                s = nt_error(NT_ERR_IO, "nt_vocab_save_h5: cannot write vocab/tokens (%d strings)", n);
        }
        if (s == NT_OK) {
            const char *kn = nt_tokenizer_kind_name(nt_vocab_kind(v));
            aspace = H5Screate(H5S_SCALAR);
            if (aspace >= 0) attr = H5Acreate2(ds, "tokenizer", type, aspace, H5P_DEFAULT, H5P_DEFAULT);
            if (attr < 0 || H5Awrite(attr, type, &kn) < 0)
                s = nt_error(NT_ERR_IO, "nt_vocab_save_h5: cannot write attribute vocab/tokens.tokenizer");
        }
        /* the word tokenizer's digit rule, an extension of DESIGN.md (absent: digit runs whole) */
        if (s == NT_OK && nt_vocab_split_digits(v)) s = nt_h5_attr_write_int(g, ".", "split_digits", 1);
        if (s == NT_OK && nt_vocab_spm(v)) s = save_spm_model(nt_vocab_spm(v), g, "spm_model");
        if (s == NT_OK && nt_vocab_spm_src(v)) s = save_spm_model(nt_vocab_spm_src(v), g, "spm_model_src");
        if (attr >= 0) H5Aclose(attr);
        if (aspace >= 0) H5Sclose(aspace);
        if (ds >= 0) H5Dclose(ds);
        if (space >= 0) H5Sclose(space);
        if (type >= 0) H5Tclose(type);
        if (g >= 0) H5Gclose(g);
    } H5E_END_TRY;
    nt_free(tok);
    return s;
}

nt_status nt_vocab_load_h5(nt_vocab **out, hid_t loc) {
    const char *who = "nt_vocab_load_h5";
    if (!out) return nt_error(NT_ERR_ARG, "%s: NULL out", who);
    *out = NULL;
    nt_status s = NT_OK;
    hid_t ds = -1, ftype = -1, space = -1, mtype = -1, attr = -1;
    char **raw = NULL;
    hsize_t n = 0;
    nt_tokenizer_kind kind = NT_TOKENIZER_CHAR;
    H5E_BEGIN_TRY {
        if (H5Lexists(loc, "vocab", H5P_DEFAULT) <= 0 || H5Lexists(loc, "vocab/tokens", H5P_DEFAULT) <= 0 ||
            (ds = H5Dopen2(loc, "vocab/tokens", H5P_DEFAULT)) < 0)
            s = nt_error(NT_ERR_FORMAT, "%s: no dataset vocab/tokens", who);
        if (s == NT_OK) {
            ftype = H5Dget_type(ds);
            space = H5Dget_space(ds);
            if (ftype < 0 || H5Tget_class(ftype) != H5T_STRING || H5Tis_variable_str(ftype) <= 0)
                s = nt_error(NT_ERR_FORMAT, "%s: vocab/tokens is not variable-length strings", who);
            else if (space < 0 || H5Sget_simple_extent_ndims(space) != 1)
                s = nt_error(NT_ERR_FORMAT, "%s: vocab/tokens is not 1-D", who);
            else H5Sget_simple_extent_dims(space, &n, NULL);
        }
        if (s == NT_OK && (n < NT_TOK_N_SPECIAL || n > 100000000))
            s = nt_error(NT_ERR_FORMAT, "%s: vocab/tokens has %llu tokens, expected at least the %d specials",
                         who, (unsigned long long)n, NT_TOK_N_SPECIAL);
        if (s == NT_OK) {
            mtype = utf8_vlen_type();
            raw = nt_calloc((size_t)n, sizeof *raw);
            if (!raw) s = nt_error(NT_ERR_NOMEM, "%s: out of memory", who);
            else if (mtype < 0 || H5Dread(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) < 0)
                s = nt_error(NT_ERR_FORMAT, "%s: cannot read vocab/tokens", who);
        }
        if (s == NT_OK && H5Aexists(ds, "tokenizer") > 0) {
            char *kn = NULL;
            attr = H5Aopen(ds, "tokenizer", H5P_DEFAULT);
            hid_t at = attr >= 0 ? H5Aget_type(attr) : -1;
            if (at < 0 || H5Tget_class(at) != H5T_STRING || H5Tis_variable_str(at) <= 0 ||
                H5Aread(attr, mtype, &kn) < 0 || !kn)
                s = nt_error(NT_ERR_FORMAT, "%s: attribute vocab/tokens.tokenizer is not a string", who);
            else if (nt_tokenizer_kind_parse(kn, &kind) != NT_OK)
                s = nt_error(NT_ERR_FORMAT, "%s: vocab/tokens.tokenizer is \"%.40s\", expected char, word or spm",
                             who, kn);
            if (kn) H5free_memory(kn);
            if (at >= 0) H5Tclose(at);
        }
    } H5E_END_TRY;
    if (s == NT_OK) {
        for (hsize_t i = 0; i < n; i++) {
            if (!raw[i]) continue; /* a NULL string reads as "" */
            size_t bad;
            if (!nt_utf8_valid(raw[i], strlen(raw[i]), &bad)) {
                s = nt_error(NT_ERR_FORMAT, "%s: token %llu is not valid UTF-8", who, (unsigned long long)i);
                break;
            }
        }
    }
    const char **tok = NULL;
    if (s == NT_OK && !(tok = nt_malloc((size_t)n * sizeof *tok))) s = nt_error(NT_ERR_NOMEM, "%s: out of memory", who);
    if (s == NT_OK) {
        for (hsize_t i = 0; i < n; i++) tok[i] = raw[i] ? raw[i] : "";
        if (kind == NT_TOKENIZER_SPM) s = load_spm(out, loc, tok, (int)n);
        else if ((s = nt_vocab_from_tokens(out, kind, tok, (int)n)) != NT_OK) s = nt_error_wrap(s, "%s", who);
    }
    if (s == NT_OK && nt_h5_attr_exists(loc, "vocab", "split_digits")) {
        int64_t sd = -1;
        nt_status a = nt_h5_attr_read_int(loc, "vocab", "split_digits", &sd);
        if (a != NT_OK || (sd != 0 && sd != 1)) {
            s = a != NT_OK ? nt_error_wrap(a, "%s: attribute vocab.split_digits", who)
                           : nt_error(NT_ERR_FORMAT, "%s: attribute vocab.split_digits is %lld, expected 0 or 1", who,
                                      (long long)sd);
            nt_vocab_free(*out);
            *out = NULL;
        } else {
            nt_vocab_set_split_digits(*out, (int)sd);
        }
    }
    nt_free(tok);
    if (raw) {
        for (hsize_t i = 0; i < n; i++)
            if (raw[i]) H5free_memory(raw[i]);
        nt_free(raw);
    }
    H5E_BEGIN_TRY {
        if (attr >= 0) H5Aclose(attr);
        if (mtype >= 0) H5Tclose(mtype);
        if (space >= 0) H5Sclose(space);
        if (ftype >= 0) H5Tclose(ftype);
        if (ds >= 0) H5Dclose(ds);
    } H5E_END_TRY;
    return s;
}
