/* spm.cc - the C shim over libsentencepiece (the only C++ in nextok).
 *
 * Every entry point catches everything: a C++ exception (std::bad_alloc
 * included) becomes an nt_status, never crosses into C. */
extern "C" {
#include "core/status.h" /* a C header: its functions have C linkage */
}
#include "data/spm.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <cstdio>
#include <cstring>
#include <new>
#include <string>
#include <unordered_map>
#include <vector>

extern "C" {
#include "data/tsv.h" /* nt_utf8_valid */
}

struct nt_spm {
    sentencepiece::SentencePieceProcessor sp;
    std::string bytes; /* the serialized model */
};

static const char *type_names[2] = {"unigram", "bpe"};

extern "C" const char *nt_spm_type_name(nt_spm_type t) {
    return (unsigned)t < 2 ? type_names[t] : NULL;
}

extern "C" nt_status nt_spm_type_parse(const char *name, nt_spm_type *out) {
    if (!name || !out) return nt_error(NT_ERR_ARG, "nt_spm_type_parse: NULL argument");
    for (int k = 0; k < 2; k++)
        if (strcmp(name, type_names[k]) == 0) { *out = (nt_spm_type)k; return NT_OK; }
    return nt_error(NT_ERR_ARG, "unknown SentencePiece model type \"%s\" (expected unigram or bpe)", name);
}

extern "C" void nt_spm_options_default(nt_spm_options *o) {
    if (!o) return;
    o->type = NT_SPM_UNIGRAM;
    o->vocab_size = 8000;
    o->character_coverage = 1.0;
    o->seed = 1;
    o->threads = 1;
    o->max_sentence_length = 4192;
    o->raw_text = 0;
}

/* ---- training ------------------------------------------------------------------- */

namespace {

/* Feeds SentencePiece's trainer from a vector of sentences. */
class VecIterator : public sentencepiece::SentenceIterator {
  public:
    explicit VecIterator(const std::vector<std::string> &v) : v_(v) {}
    bool done() const override { return i_ >= v_.size(); }
    void Next() override { i_++; }
    const std::string &value() const override { return v_[i_]; }
    sentencepiece::util::Status status() const override { return sentencepiece::util::Status(); }

  private:
    const std::vector<std::string> &v_;
    size_t i_ = 0;
};

nt_status check_options(const nt_spm_options *o, const char *who) {
    if (!o) return nt_error(NT_ERR_ARG, "%s: NULL options", who);
    if ((unsigned)o->type > NT_SPM_BPE)
        return nt_error(NT_ERR_ARG, "%s: model type %d, expected unigram (0) or bpe (1)", who, (int)o->type);
    /* the 5 specials and 256 bytes, and at least a few learned pieces */
    if (o->vocab_size < 5 + 256 + 8 || o->vocab_size > 1000000)
        return nt_error(NT_ERR_ARG, "%s: vocab_size %d, expected 269..1000000 (5 specials + 256 byte pieces + "
                        "at least 8 learned pieces)", who, o->vocab_size);
    if (!(o->character_coverage >= 0.98 && o->character_coverage <= 1.0))
        return nt_error(NT_ERR_ARG, "%s: character_coverage %g, expected 0.98..1", who, o->character_coverage);
    if (o->threads < 1 || o->threads > 256)
        return nt_error(NT_ERR_ARG, "%s: threads %d, expected 1..256", who, o->threads);
    if (o->max_sentence_length < 16 || o->max_sentence_length > (1 << 28))
        return nt_error(NT_ERR_ARG, "%s: max_sentence_length %d, expected 16..268435456", who,
                        o->max_sentence_length);
    return NT_OK;
}

nt_status train_vec(nt_spm **out, const nt_spm_options *o, const std::vector<std::string> &sents,
                    const char *who) {
    if (sents.empty()) return nt_error(NT_ERR_ARG, "%s: no training sentences", who);
    char buf[64];
    std::unordered_map<std::string, std::string> kw;
    kw["model_type"] = type_names[o->type];
    kw["vocab_size"] = std::to_string(o->vocab_size);
    snprintf(buf, sizeof buf, "%.17g", o->character_coverage);
    kw["character_coverage"] = buf;
    kw["num_threads"] = std::to_string(o->threads);
    kw["max_sentence_length"] = std::to_string(o->max_sentence_length);
    kw["input_sentence_size"] = "0"; /* every sentence, no sampling */
    kw["byte_fallback"] = "true";
    kw["pad_id"] = "0";
    kw["bos_id"] = "1";
    kw["eos_id"] = "2";
    kw["unk_id"] = "3";
    kw["pad_piece"] = "<pad>";
    kw["bos_piece"] = "<bos>";
    kw["eos_piece"] = "<eos>";
    kw["unk_piece"] = "<unk>";
    kw["control_symbols"] = "<sep>";
    if (o->raw_text) {
        /* text byte for byte (spm.h): no normalization, every space kept, newline a piece of its own */
        kw["normalization_rule_name"] = "identity";
        kw["remove_extra_whitespaces"] = "false";
        kw["add_dummy_prefix"] = "false";
        kw["allow_whitespace_only_pieces"] = "true";
        kw["user_defined_symbols"] = "\n";
    }
    kw["minloglevel"] = "2";
    sentencepiece::SetRandomGeneratorSeed(o->seed);
    VecIterator it(sents);
    std::string model;
    sentencepiece::util::Status st = sentencepiece::SentencePieceTrainer::Train(kw, &it, &model);
    if (!st.ok())
        return nt_error(NT_ERR_STATE, "%s: SentencePiece training failed (%d sentences, vocab_size %d, %s): %s",
                        who, (int)sents.size(), o->vocab_size, type_names[o->type], st.ToString().c_str());
    nt_status s = nt_spm_load(out, model.data(), model.size());
    return s == NT_OK ? NT_OK : nt_error_wrap(s, "%s: the trained model", who);
}

}  // namespace

extern "C" nt_status nt_spm_train(nt_spm **out, const nt_spm_options *o, const char *const *sentences, int n) {
    const char *who = "nt_spm_train";
    if (!out) return nt_error(NT_ERR_ARG, "%s: NULL out", who);
    *out = NULL;
    NT_TRY(check_options(o, who));
    if (n < 0 || (!sentences && n)) return nt_error(NT_ERR_ARG, "%s: bad sentence count %d", who, n);
    try {
        std::vector<std::string> v;
        v.reserve((size_t)n);
        for (int i = 0; i < n; i++) {
            if (!sentences[i]) return nt_error(NT_ERR_ARG, "%s: sentence %d is NULL", who, i);
            size_t len = strlen(sentences[i]), bad;
            if (!nt_utf8_valid(sentences[i], len, &bad))
                return nt_error(NT_ERR_FORMAT, "%s: sentence %d: invalid UTF-8 at byte %zu", who, i, bad + 1);
            v.emplace_back(sentences[i], len);
        }
        return train_vec(out, o, v, who);
    } catch (const std::bad_alloc &) {
        return nt_error(NT_ERR_NOMEM, "%s: out of memory", who);
    } catch (...) {
        return nt_error(NT_ERR_STATE, "%s: SentencePiece raised an exception", who);
    }
}

extern "C" nt_status nt_spm_train_files(nt_spm **out, const nt_spm_options *o, const char *const *paths,
                                        int n_paths) {
    const char *who = "nt_spm_train_files";
    if (!out) return nt_error(NT_ERR_ARG, "%s: NULL out", who);
    *out = NULL;
    NT_TRY(check_options(o, who));
    if (n_paths < 1 || !paths) return nt_error(NT_ERR_ARG, "%s: no files (%d)", who, n_paths);
    try {
        std::vector<std::string> v;
        for (int p = 0; p < n_paths; p++) {
            if (!paths[p]) return nt_error(NT_ERR_ARG, "%s: path %d is NULL", who, p);
            FILE *f = fopen(paths[p], "rb");
            if (!f) return nt_error(NT_ERR_IO, "%s: cannot open %s", who, paths[p]);
            std::string line;
            long lineno = 0;
            int c = 0;
            while (c != EOF) {
                line.clear();
                while ((c = fgetc(f)) != EOF && c != '\n') line.push_back((char)c);
                if (c == EOF && line.empty()) break;
                lineno++;
                if (!line.empty() && line.back() == '\r') line.pop_back();
                size_t bad;
                if (!nt_utf8_valid(line.data(), line.size(), &bad)) {
                    fclose(f);
                    return nt_error(NT_ERR_FORMAT, "%s: %s:%ld: invalid UTF-8 at byte %zu", who, paths[p], lineno,
                                    bad + 1);
                }
                v.push_back(line);
            }
            int err = ferror(f);
            fclose(f);
            if (err) return nt_error(NT_ERR_IO, "%s: read error in %s", who, paths[p]);
        }
        return train_vec(out, o, v, who);
    } catch (const std::bad_alloc &) {
        return nt_error(NT_ERR_NOMEM, "%s: out of memory", who);
    } catch (...) {
        return nt_error(NT_ERR_STATE, "%s: SentencePiece raised an exception", who);
    }
}

/* ---- loading, saving ------------------------------------------------------------------ */

extern "C" nt_status nt_spm_load(nt_spm **out, const void *bytes, size_t n) {
    const char *who = "nt_spm_load";
    if (!out) return nt_error(NT_ERR_ARG, "%s: NULL out", who);
    *out = NULL;
    if (!bytes || n == 0) return nt_error(NT_ERR_FORMAT, "%s: empty model (0 bytes)", who);
    nt_spm *m = NULL;
    try {
        m = new nt_spm;
        m->bytes.assign((const char *)bytes, n);
        sentencepiece::util::Status st = m->sp.LoadFromSerializedProto(m->bytes);
        if (!st.ok()) {
            delete m;
            return nt_error(NT_ERR_FORMAT, "%s: %zu bytes are not a SentencePiece model: %s", who, n,
                            st.ToString().c_str());
        }
        if (m->sp.GetPieceSize() < 1) {
            delete m;
            return nt_error(NT_ERR_FORMAT, "%s: the model has no pieces", who);
        }
    } catch (const std::bad_alloc &) {
        delete m;
        return nt_error(NT_ERR_NOMEM, "%s: out of memory", who);
    } catch (...) {
        delete m;
        return nt_error(NT_ERR_FORMAT, "%s: SentencePiece raised an exception loading %zu bytes", who, n);
    }
    *out = m;
    return NT_OK;
}

extern "C" nt_status nt_spm_load_file(nt_spm **out, const char *path) {
    const char *who = "nt_spm_load_file";
    if (!out || !path) return nt_error(NT_ERR_ARG, "%s: NULL argument", who);
    *out = NULL;
    try {
        FILE *f = fopen(path, "rb");
        if (!f) return nt_error(NT_ERR_IO, "%s: cannot open %s", who, path);
        std::string b;
        char chunk[65536];
        size_t k;
        while ((k = fread(chunk, 1, sizeof chunk, f)) > 0) b.append(chunk, k);
        int err = ferror(f);
        fclose(f);
        if (err) return nt_error(NT_ERR_IO, "%s: read error in %s", who, path);
        nt_status s = nt_spm_load(out, b.data(), b.size());
        return s == NT_OK ? NT_OK : nt_error_wrap(s, "%s", path);
    } catch (...) {
        return nt_error(NT_ERR_NOMEM, "%s: out of memory reading %s", who, path);
    }
}

extern "C" void nt_spm_free(nt_spm *m) { delete m; }

extern "C" void nt_spm_bytes(const nt_spm *m, const uint8_t **bytes, size_t *n) {
    if (bytes) *bytes = m ? (const uint8_t *)m->bytes.data() : NULL;
    if (n) *n = m ? m->bytes.size() : 0;
}

extern "C" nt_status nt_spm_save_file(const nt_spm *m, const char *path) {
    if (!m || !path) return nt_error(NT_ERR_ARG, "nt_spm_save_file: NULL argument");
    FILE *f = fopen(path, "wb");
    if (!f) return nt_error(NT_ERR_IO, "nt_spm_save_file: cannot create %s", path);
    size_t w = fwrite(m->bytes.data(), 1, m->bytes.size(), f);
    int bad = w != m->bytes.size() || fflush(f) != 0 || ferror(f);
    if (fclose(f) != 0) bad = 1;
    if (bad) {
        remove(path);
        return nt_error(NT_ERR_IO, "nt_spm_save_file: cannot write %zu bytes to %s", m->bytes.size(), path);
    }
    return NT_OK;
}

/* ---- pieces ------------------------------------------------------------------------------ */

extern "C" int nt_spm_size(const nt_spm *m) { return m ? m->sp.GetPieceSize() : 0; }

extern "C" const char *nt_spm_piece(const nt_spm *m, int id) {
    if (!m || id < 0 || id >= m->sp.GetPieceSize()) return NULL;
    return m->sp.IdToPiece(id).c_str();
}

extern "C" nt_spm_piece_kind nt_spm_piece_kind_of(const nt_spm *m, int id) {
    if (!m || id < 0 || id >= m->sp.GetPieceSize()) return (nt_spm_piece_kind)0;
    if (m->sp.IsUnknown(id)) return NT_SPM_UNKNOWN;
    if (m->sp.IsControl(id)) return NT_SPM_CONTROL;
    if (m->sp.IsByte(id)) return NT_SPM_BYTE;
    if (m->sp.IsUnused(id)) return NT_SPM_UNUSED;
    /* user-defined pieces are neither of the above and are not scored */
    return NT_SPM_NORMAL;
}

extern "C" int nt_spm_piece_id(const nt_spm *m, const char *piece) {
    if (!m || !piece) return -1;
    try {
        int id = m->sp.PieceToId(piece);
        /* PieceToId answers unk_id for an unknown piece */
        if (id == m->sp.unk_id() && strcmp(piece, m->sp.IdToPiece(id).c_str()) != 0) return -1;
        return id;
    } catch (...) {
        return -1;
    }
}

extern "C" int nt_spm_unk_id(const nt_spm *m) { return m ? m->sp.unk_id() : -1; }
extern "C" int nt_spm_bos_id(const nt_spm *m) { return m ? m->sp.bos_id() : -1; }
extern "C" int nt_spm_eos_id(const nt_spm *m) { return m ? m->sp.eos_id() : -1; }
extern "C" int nt_spm_pad_id(const nt_spm *m) { return m ? m->sp.pad_id() : -1; }

/* ---- the model's trainer_spec, read from the protobuf bytes ----------------------------------
 *
 * The Debian package ships no generated protobuf headers, so the few fields
 * inspect shows are read from the wire format directly: ModelProto field 2
 * is trainer_spec (model_type 3, vocab_size 4, character_coverage 10,
 * byte_fallback 35), field 3 normalizer_spec (name 1). */

namespace {

struct Reader {
    const uint8_t *p, *end;
    bool ok = true;
    uint64_t varint() {
        uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (p >= end) { ok = false; return 0; }
            uint8_t b = *p++;
            v |= (uint64_t)(b & 0x7F) << shift;
            if (!(b & 0x80)) return v;
        }
        ok = false;
        return 0;
    }
    /* Calls fn(field, wire, value, data, len) for each field; false on malformed input. */
    template <class F> bool each(F fn) {
        while (ok && p < end) {
            uint64_t key = varint();
            if (!ok) return false;
            int field = (int)(key >> 3), wire = (int)(key & 7);
            uint64_t v = 0;
            const uint8_t *d = NULL;
            size_t len = 0;
            if (wire == 0) v = varint();
            else if (wire == 1) { if (end - p < 8) return false; memcpy(&v, p, 8); p += 8; }
            else if (wire == 5) { if (end - p < 4) return false; uint32_t w; memcpy(&w, p, 4); v = w; p += 4; }
            else if (wire == 2) {
                len = (size_t)varint();
                if (!ok || len > (size_t)(end - p)) return false;
                d = p;
                p += len;
            } else return false;
            if (!ok) return false;
            fn(field, wire, v, d, len);
        }
        return ok;
    }
};

}  // namespace

extern "C" void nt_spm_get_info(const nt_spm *m, nt_spm_info *info) {
    if (!info) return;
    /* proto2 defaults of sentencepiece_model.proto */
    snprintf(info->type, sizeof info->type, "unigram");
    info->vocab_size = 8000;
    info->byte_fallback = 0;
    info->character_coverage = 0.9995;
    snprintf(info->normalization, sizeof info->normalization, "nmt_nfkc");
    if (!m) return;
    const uint8_t *b = (const uint8_t *)m->bytes.data();
    Reader top{b, b + m->bytes.size()};
    top.each([&](int field, int wire, uint64_t, const uint8_t *d, size_t len) {
        if (field == 2 && wire == 2) {
            Reader r{d, d + len};
            r.each([&](int f, int w, uint64_t v, const uint8_t *, size_t) {
                if (f == 3 && w == 0) {
                    static const char *names[] = {"?", "unigram", "bpe", "word", "char"};
                    snprintf(info->type, sizeof info->type, "%s", v <= 4 ? names[v] : "?");
                } else if (f == 4 && w == 0) info->vocab_size = (int)v;
                else if (f == 35 && w == 0) info->byte_fallback = v != 0;
                else if (f == 10 && w == 5) {
                    uint32_t u = (uint32_t)v;
                    float x;
                    memcpy(&x, &u, 4);
                    info->character_coverage = x;
                }
            });
        } else if (field == 3 && wire == 2) {
            Reader r{d, d + len};
            r.each([&](int f, int w, uint64_t, const uint8_t *s, size_t n) {
                if (f == 1 && w == 2)
                    snprintf(info->normalization, sizeof info->normalization, "%.*s", (int)n, (const char *)s);
            });
        }
    });
}

/* ---- encode / decode --------------------------------------------------------------------------- */

static nt_status check_text(const char *text, const char *who) {
    size_t bad;
    if (!nt_utf8_valid(text, strlen(text), &bad))
        return nt_error(NT_ERR_FORMAT, "%s: invalid UTF-8 at byte %zu of \"%.40s\"", who, bad + 1, text);
    return NT_OK;
}

extern "C" nt_status nt_spm_encode(const nt_spm *m, const char *text, int32_t *ids, int cap, int *n) {
    const char *who = "nt_spm_encode";
    if (!m || !text || !n) return nt_error(NT_ERR_ARG, "%s: NULL argument", who);
    NT_TRY(check_text(text, who));
    try {
        std::vector<int> v;
        sentencepiece::util::Status st = m->sp.Encode(text, &v);
        if (!st.ok()) return nt_error(NT_ERR_STATE, "%s: %s", who, st.ToString().c_str());
        if (v.size() > (size_t)1 << 30) return nt_error(NT_ERR_ARG, "%s: %zu ids", who, v.size());
        *n = (int)v.size();
        if (ids) {
            if ((int)v.size() > cap)
                return nt_error(NT_ERR_ARG, "%s: %zu ids do not fit cap %d", who, v.size(), cap);
            for (size_t i = 0; i < v.size(); i++) ids[i] = v[i];
        }
        return NT_OK;
    } catch (const std::bad_alloc &) {
        return nt_error(NT_ERR_NOMEM, "%s: out of memory", who);
    } catch (...) {
        return nt_error(NT_ERR_STATE, "%s: SentencePiece raised an exception", who);
    }
}

extern "C" nt_status nt_spm_encode_pieces(const nt_spm *m, const char *text,
                                          void (*fn)(const char *piece, size_t len, void *user), void *user) {
    const char *who = "nt_spm_encode_pieces";
    if (!m || !text || !fn) return nt_error(NT_ERR_ARG, "%s: NULL argument", who);
    NT_TRY(check_text(text, who));
    try {
        std::vector<std::string> v;
        sentencepiece::util::Status st = m->sp.Encode(text, &v);
        if (!st.ok()) return nt_error(NT_ERR_STATE, "%s: %s", who, st.ToString().c_str());
        for (const std::string &p : v) fn(p.c_str(), p.size(), user);
        return NT_OK;
    } catch (const std::bad_alloc &) {
        return nt_error(NT_ERR_NOMEM, "%s: out of memory", who);
    } catch (...) {
        return nt_error(NT_ERR_STATE, "%s: SentencePiece raised an exception", who);
    }
}

extern "C" nt_status nt_spm_decode(const nt_spm *m, const int32_t *ids, int n, char *buf, size_t cap) {
    const char *who = "nt_spm_decode";
    if (!m || !buf || (!ids && n > 0) || n < 0) return nt_error(NT_ERR_ARG, "%s: NULL argument or n %d", who, n);
    if (cap > 0) buf[0] = 0;
    int size = m->sp.GetPieceSize();
    try {
        std::vector<int> v((size_t)n);
        for (int i = 0; i < n; i++) {
            if (ids[i] < 0 || ids[i] >= size)
                return nt_error(NT_ERR_ARG, "%s: id %d at position %d out of range 0..%d", who, ids[i], i, size - 1);
            v[(size_t)i] = ids[i];
        }
        std::string out;
        sentencepiece::util::Status st = m->sp.Decode(v, &out);
        if (!st.ok()) return nt_error(NT_ERR_STATE, "%s: %s", who, st.ToString().c_str());
        if (out.size() >= cap)
            return nt_error(NT_ERR_ARG, "%s: buffer of %zu bytes too small (needs %zu)", who, cap, out.size() + 1);
        memcpy(buf, out.data(), out.size());
        buf[out.size()] = 0;
        return NT_OK;
    } catch (const std::bad_alloc &) {
        return nt_error(NT_ERR_NOMEM, "%s: out of memory", who);
    } catch (...) {
        return nt_error(NT_ERR_STATE, "%s: SentencePiece raised an exception", who);
    }
}
