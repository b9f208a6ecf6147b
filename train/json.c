/* json.c - the one JSON reader and writer: flat objects. */
#include "train/json.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- writing ------------------------------------------------------------------ */

nt_json nt_json_buffer(char *buf, size_t cap) {
    nt_json w = {.buf = buf, .cap = cap};
    if (buf && cap) buf[0] = 0;
    return w;
}

nt_json nt_json_file(FILE *f) { return (nt_json){.file = f}; }

static void put(nt_json *w, const char *s, size_t n) {
    if (w->file) {
        fwrite(s, 1, n, w->file);
    } else if (w->buf && w->len < w->cap) {
        size_t room = w->cap - 1 - w->len, k = n < room ? n : room;
        memcpy(w->buf + w->len, s, k);
        w->buf[w->len + k] = 0;
    }
    w->len += n;
}

static void puts_(nt_json *w, const char *s) { put(w, s, strlen(s)); }

static void put_string(nt_json *w, const char *s) {
    put(w, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        if (*p == '"') puts_(w, "\\\"");
        else if (*p == '\\') puts_(w, "\\\\");
        else if (*p == '\n') puts_(w, "\\n");
        else if (*p == '\t') puts_(w, "\\t");
        else if (*p == '\r') puts_(w, "\\r");
        else if (*p < 0x20) snprintf(esc, sizeof esc, "\\u%04x", *p), puts_(w, esc);
        else put(w, (const char *)p, 1);
    }
    put(w, "\"", 1);
}

static void key(nt_json *w, const char *k) {
    if (w->n++) put(w, ",", 1);
    put_string(w, k);
    put(w, ":", 1);
}

void nt_json_begin(nt_json *w) { w->n = 0, put(w, "{", 1); }
void nt_json_end(nt_json *w) { put(w, "}", 1); }
void nt_json_str(nt_json *w, const char *k, const char *v) { key(w, k), put_string(w, v ? v : ""); }
void nt_json_bool(nt_json *w, const char *k, int v) { key(w, k), puts_(w, v ? "true" : "false"); }

void nt_json_int(nt_json *w, const char *k, int64_t v) {
    char b[32];
    snprintf(b, sizeof b, "%lld", (long long)v);
    key(w, k), puts_(w, b);
}

void nt_json_u64(nt_json *w, const char *k, uint64_t v) {
    char b[32];
    snprintf(b, sizeof b, "%llu", (unsigned long long)v);
    key(w, k), puts_(w, b);
}

static void number(nt_json *w, const char *k, double v, int digits) {
    char b[40];
    if (isnan(v)) snprintf(b, sizeof b, "NaN");
    else if (isinf(v)) snprintf(b, sizeof b, "%sInfinity", v < 0 ? "-" : "");
    else snprintf(b, sizeof b, "%.*g", digits, v);
    key(w, k), puts_(w, b);
}

void nt_json_num(nt_json *w, const char *k, double v) { number(w, k, v, 17); }
void nt_json_flt(nt_json *w, const char *k, double v) { number(w, k, v, 9); }

/* ---- reading ------------------------------------------------------------------ */

static const char *skip_ws(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\r') p++;
    return p;
}

/* Decodes the JSON string at *pp (just after the opening quote) in place
 * into `dst` (which may be the same buffer: output never outruns input).
 * Returns NULL or an error message. */
static const char *json_string(char **pp, char *dst) {
    char *p = *pp;
    for (;;) {
        unsigned char c = (unsigned char)*p;
        if (c == 0) return "unterminated string";
        if (c < 0x20) return "control character in string";
        if (c == '"') break;
        if (c != '\\') { *dst++ = *p++; continue; }
        p++;
        switch (*p) {
        case '"': case '\\': case '/': *dst++ = *p++; break;
        case 'b': *dst++ = '\b'; p++; break;
        case 'f': *dst++ = '\f'; p++; break;
        case 'n': *dst++ = '\n'; p++; break;
        case 'r': *dst++ = '\r'; p++; break;
        case 't': *dst++ = '\t'; p++; break;
        case 'u': {
            uint32_t cp = 0;
            for (int pass = 0; pass < 2; pass++) {
                uint32_t u = 0;
                for (int k = 1; k <= 4; k++) {
                    char h = p[k];
                    u <<= 4;
                    if (h >= '0' && h <= '9') u |= (uint32_t)(h - '0');
                    else if (h >= 'a' && h <= 'f') u |= (uint32_t)(h - 'a' + 10);
                    else if (h >= 'A' && h <= 'F') u |= (uint32_t)(h - 'A' + 10);
                    else return "bad \\u escape";
                }
                p += 5;
                if (pass == 0) {
                    cp = u;
                    if (u < 0xD800 || u > 0xDFFF) break;
                    if (u > 0xDBFF || p[0] != '\\' || p[1] != 'u') return "unpaired surrogate in \\u escape";
                    p++;
                } else {
                    if (u < 0xDC00 || u > 0xDFFF) return "unpaired surrogate in \\u escape";
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (u - 0xDC00);
                }
            }
            /* the UTF-8 form (<= 4 bytes) is never longer than the escape (>= 6) */
            if (cp < 0x80) *dst++ = (char)cp;
            else if (cp < 0x800) { *dst++ = (char)(0xC0 | (cp >> 6)); *dst++ = (char)(0x80 | (cp & 0x3F)); }
            else if (cp < 0x10000) {
                *dst++ = (char)(0xE0 | (cp >> 12)); *dst++ = (char)(0x80 | ((cp >> 6) & 0x3F));
                *dst++ = (char)(0x80 | (cp & 0x3F));
            } else {
                *dst++ = (char)(0xF0 | (cp >> 18)); *dst++ = (char)(0x80 | ((cp >> 12) & 0x3F));
                *dst++ = (char)(0x80 | ((cp >> 6) & 0x3F)); *dst++ = (char)(0x80 | (cp & 0x3F));
            }
            break;
        }
        default: return "bad escape in string";
        }
    }
    *dst = 0;   /* overwrites at most the closing quote */
    *pp = p + 1;
    return NULL;
}

/* A JSON number (RFC 8259 grammar) or NaN / Infinity / -Infinity. */
static const char *json_number(const char **pp, double *out) {
    const char *p = *pp, *s = p;
    if (*p == '-') p++;
    if (strncmp(p, "Infinity", 8) == 0) { *out = *s == '-' ? -INFINITY : INFINITY; *pp = p + 8; return NULL; }
    if (p == s && strncmp(p, "NaN", 3) == 0) { *out = NAN; *pp = p + 3; return NULL; }
    if (*p == '0') p++;
    else if (*p >= '1' && *p <= '9') while (*p >= '0' && *p <= '9') p++;
    else return "bad number";
    if (*p == '.') {
        p++;
        if (!(*p >= '0' && *p <= '9')) return "bad number";
        while (*p >= '0' && *p <= '9') p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!(*p >= '0' && *p <= '9')) return "bad number";
        while (*p >= '0' && *p <= '9') p++;
    }
    char tmp[64];
    if ((size_t)(p - s) >= sizeof tmp) return "number too long";
    memcpy(tmp, s, (size_t)(p - s));
    tmp[p - s] = 0;
    *out = strtod(tmp, NULL);
    *pp = p;
    return NULL;
}

const char *nt_json_parse_flat(char *line, nt_json_field *f, int cap, int *nf, long *col) {
    char *p = (char *)skip_ws(line);
    const char *err = NULL;
    *nf = 0;
    if (*p != '{') { err = "expected '{'"; goto fail; }
    p = (char *)skip_ws(p + 1);
    if (*p == '}') { p++; goto end; }
    for (;;) {
        if (*p != '"') { err = "expected a string key"; goto fail; }
        if (*nf == cap) { err = "too many keys"; goto fail; }
        nt_json_field *x = &f[(*nf)++];
        char *key = ++p;
        if ((err = json_string(&p, key))) goto fail;
        x->key = key;
        p = (char *)skip_ws(p);
        if (*p != ':') { err = "expected ':' after key"; goto fail; }
        p = (char *)skip_ws(p + 1);
        x->str = x->raw = NULL;
        x->raw_len = 0;
        x->is_num = 0;
        x->literal = -2;
        if (*p == '"') {
            char *v = ++p;
            if ((err = json_string(&p, v))) goto fail;
            x->str = v;
        } else if (*p == '{' || *p == '[') {
            err = "nested objects and arrays are not supported";
            goto fail;
        } else if (strncmp(p, "true", 4) == 0 || strncmp(p, "null", 4) == 0) {
            x->literal = *p == 't' ? 1 : -1;
            p += 4;
        } else if (strncmp(p, "false", 5) == 0) {
            x->literal = 0;
            p += 5;
        } else {
            const char *q = p;
            if ((err = json_number(&q, &x->num))) goto fail;
            x->raw = p, x->raw_len = (size_t)(q - p);
            p = (char *)q;
            x->is_num = 1;
        }
        p = (char *)skip_ws(p);
        if (*p == ',') { p = (char *)skip_ws(p + 1); continue; }
        if (*p == '}') { p++; break; }
        err = "expected ',' or '}'";
        goto fail;
    }
end:
    p = (char *)skip_ws(p);
    if (*p) { err = "text after the object"; goto fail; }
    return NULL;
fail:
    *col = (long)(p - line) + 1;
    return err;
}

const nt_json_field *nt_json_find(const nt_json_field *f, int nf, const char *k) {
    for (int i = nf - 1; i >= 0; i--)  /* a repeated key: the last wins, as in most parsers */
        if (strcmp(f[i].key, k) == 0) return &f[i];
    return NULL;
}

/* The number's text as a NUL-terminated integer literal, or 0. */
static int int_text(const nt_json_field *x, char *buf, size_t cap) {
    if (!x || !x->is_num || !x->raw || x->raw_len == 0 || x->raw_len >= cap) return 0;
    memcpy(buf, x->raw, x->raw_len);
    buf[x->raw_len] = 0;
    return strpbrk(buf, ".eEIN") == NULL;
}

int nt_json_get_i64(const nt_json_field *x, int64_t *v) {
    char b[32], *end;
    if (!int_text(x, b, sizeof b)) return -1;
    errno = 0;
    long long r = strtoll(b, &end, 10);
    if (errno || *end) return -1;
    *v = r;
    return 0;
}

int nt_json_get_u64(const nt_json_field *x, uint64_t *v) {
    char b[32], *end;
    if (!int_text(x, b, sizeof b) || b[0] == '-') return -1;
    errno = 0;
    unsigned long long r = strtoull(b, &end, 10);
    if (errno || *end) return -1;
    *v = r;
    return 0;
}
