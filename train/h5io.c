/* h5io.c - HDF5 helpers: float32 datasets and scalar attributes with named errors. */
#include "train/h5io.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"

nt_h5_quiet nt_h5_quiet_begin(void) {
    nt_h5_quiet q = {0};
    H5Eget_auto2(H5E_DEFAULT, &q.fn, &q.data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    return q;
}

void nt_h5_quiet_end(nt_h5_quiet q) { H5Eset_auto2(H5E_DEFAULT, q.fn, q.data); }

hid_t nt_h5_file_create(const char *path, hid_t fapl) {
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    if (fcpl < 0) return -1;
    hid_t f = H5Pset_istore_k(fcpl, 1) < 0 ? -1 : H5Fcreate(path, H5F_ACC_TRUNC, fcpl, fapl);
    H5Pclose(fcpl);
    return f;
}

/* ---- whole-file checksum ----------------------------------------------------------- */

/* xh64: four lanes of acc = rotl(acc + w * K2, 31) * K1 over 32-byte
 * stripes, folded, then the tail word by word and an avalanche. The
 * constants are odd 64-bit primes; any flipped bit changes the sum with
 * probability 1 - 2^-64 for corruption that is not crafted. */
#define K1 0x9E3779B185EBCA87ULL
#define K2 0xC2B2AE3D27D4EB4FULL
#define K3 0x165667B19E3779F9ULL
#define K4 0x85EBCA77C2B2AE63ULL

typedef struct xh64 {
    uint64_t v[4];
    uint64_t len;
} xh64;

static uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static uint64_t load64(const unsigned char *p) {
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--) x = (x << 8) | p[i]; /* little-endian, any host */
    return x;
}

static void xh64_init(xh64 *h) {
    h->v[0] = K1 + K2, h->v[1] = K2, h->v[2] = 0, h->v[3] = (uint64_t)0 - K1;
    h->len = 0;
}

/* n must be a multiple of 32. */
static void xh64_stripes(xh64 *h, const unsigned char *p, size_t n) {
    uint64_t a = h->v[0], b = h->v[1], c = h->v[2], d = h->v[3];
    for (size_t i = 0; i + 32 <= n; i += 32) {
        a = rotl64(a + load64(p + i) * K2, 31) * K1;
        b = rotl64(b + load64(p + i + 8) * K2, 31) * K1;
        c = rotl64(c + load64(p + i + 16) * K2, 31) * K1;
        d = rotl64(d + load64(p + i + 24) * K2, 31) * K1;
    }
    h->v[0] = a, h->v[1] = b, h->v[2] = c, h->v[3] = d;
    h->len += n;
}

/* The sum after the stripes and a tail of n < 32 bytes. */
static uint64_t xh64_final(const xh64 *h, const unsigned char *tail, size_t n) {
    uint64_t x = rotl64(h->v[0], 1) + rotl64(h->v[1], 7) + rotl64(h->v[2], 12) + rotl64(h->v[3], 18);
    for (int i = 0; i < 4; i++) x = (x ^ (rotl64(h->v[i] * K2, 31) * K1)) * K1 + K4;
    x += h->len + n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) x = rotl64(x ^ (rotl64(load64(tail + i) * K2, 31) * K1), 27) * K1 + K4;
    for (; i < n; i++) x = rotl64(x ^ (tail[i] * K3), 11) * K1;
    x ^= x >> 33, x *= K2, x ^= x >> 29, x *= K3, x ^= x >> 32;
    return x;
}

uint64_t nt_h5_hash64(const void *data, size_t n) {
    xh64 h;
    xh64_init(&h);
    size_t full = n / 32 * 32;
    xh64_stripes(&h, data, full);
    return xh64_final(&h, (const unsigned char *)data + full, n - full);
}

#define SUM_MAGIC "nextok-checksum 1\nhash xh64\n"
static const unsigned char HDF5_SIG[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

/* The canonical header for `bytes` bytes after the user block with hash `sum`. */
static void header_make(unsigned char hdr[NT_H5_USERBLOCK], uint64_t bytes, uint64_t sum) {
    memset(hdr, 0, NT_H5_USERBLOCK);
    snprintf((char *)hdr, NT_H5_USERBLOCK, SUM_MAGIC "bytes %" PRIu64 "\nsum %016" PRIx64 "\n", bytes, sum);
}

/* Parses a header; 0 if it is not exactly canonical (any byte off). */
static int header_parse(const unsigned char hdr[NT_H5_USERBLOCK], uint64_t *bytes, uint64_t *sum) {
    const char *t = (const char *)hdr;
    size_t k = strlen(SUM_MAGIC);
    if (memcmp(t, SUM_MAGIC, k) != 0 || memchr(t, 0, NT_H5_USERBLOCK) == NULL) return 0;
    unsigned long long b, x;
    if (sscanf(t + k, "bytes %20llu\nsum %16llx\n", &b, &x) != 2) return 0;
    unsigned char again[NT_H5_USERBLOCK];
    header_make(again, b, x);
    if (memcmp(again, hdr, NT_H5_USERBLOCK) != 0) return 0;
    *bytes = b, *sum = x;
    return 1;
}

/* Reads up to n bytes (fewer only at end of file); -1 on error. */
static ssize_t read_full(int fd, unsigned char *buf, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        if (r == 0) break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

#define IO_BLOCK ((size_t)1 << 20)

/* Hashes fd from its current offset to EOF; *n receives the byte count. */
static nt_status hash_fd(int fd, const char *path, uint64_t *sum, uint64_t *n) {
    unsigned char *buf = nt_malloc(IO_BLOCK);
    if (!buf) return nt_error(NT_ERR_NOMEM, "%s: out of memory for the checksum", path);
    xh64 h;
    xh64_init(&h);
    nt_status st = NT_OK;
    for (;;) {
        ssize_t r = read_full(fd, buf, IO_BLOCK);
        if (r < 0) {
            st = nt_error(NT_ERR_IO, "%s: read failed (%s)", path, strerror(errno));
            break;
        }
        size_t full = (size_t)r / 32 * 32;
        xh64_stripes(&h, buf, full);
        if ((size_t)r < IO_BLOCK) {
            *sum = xh64_final(&h, buf + full, (size_t)r - full);
            *n = h.len + ((size_t)r - full);
            break;
        }
    }
    nt_free(buf);
    return st;
}

nt_status nt_h5_file_verify(const char *path, int *sealed) {
    if (!path || !sealed) return nt_error(NT_ERR_ARG, "nt_h5_file_verify: NULL argument");
    int fd = open(path, O_RDONLY);
    if (fd < 0) return nt_error(NT_ERR_IO, "%s: cannot open (%s)", path, strerror(errno));
    unsigned char hdr[NT_H5_USERBLOCK];
    ssize_t got = read_full(fd, hdr, sizeof hdr);
    nt_status st = NT_OK;
    uint64_t want_n = 0, want_sum = 0, n = 0, sum = 0;
    if (got < 0) {
        st = nt_error(NT_ERR_IO, "%s: read failed (%s)", path, strerror(errno));
    } else if (got >= 8 && memcmp(hdr, HDF5_SIG, 8) == 0) {
        *sealed = 0; /* HDF5 from byte 0: no user block, nothing to check */
    } else if (got < (ssize_t)sizeof hdr) {
        st = nt_error(NT_ERR_FORMAT, "%s: not a checkpoint (%zd bytes, too short for a header)", path, got);
    } else if (!header_parse(hdr, &want_n, &want_sum)) {
        st = memcmp(hdr, SUM_MAGIC, 8) == 0
                 ? nt_error(NT_ERR_FORMAT, "%s: the checksum header is damaged (the file is corrupt)", path)
                 : nt_error(NT_ERR_FORMAT,
                            "%s: not a nextok checkpoint (neither a checksum header nor HDF5 at the start)",
                            path);
    } else {
        st = hash_fd(fd, path, &sum, &n);
        if (st == NT_OK && n != want_n)
            st = nt_error(NT_ERR_FORMAT, "%s: %s: %" PRIu64 " bytes after the header, the checksum covers %" PRIu64,
                          path, n < want_n ? "truncated" : "longer than written", n, want_n);
        else if (st == NT_OK && sum != want_sum)
            st = nt_error(NT_ERR_FORMAT,
                          "%s: whole-file checksum mismatch (stored %016" PRIx64 ", computed %016" PRIx64
                          "): the file is corrupt",
                          path, want_sum, sum);
        if (st == NT_OK) *sealed = 1;
    }
    close(fd);
    return st;
}

nt_status nt_h5_file_seal(const char *path) {
    if (!path) return nt_error(NT_ERR_ARG, "nt_h5_file_seal: NULL path");
    int fd = open(path, O_RDWR);
    if (fd < 0) return nt_error(NT_ERR_IO, "%s: cannot open (%s)", path, strerror(errno));
    unsigned char hdr[NT_H5_USERBLOCK];
    uint64_t n = 0, sum = 0;
    nt_status st = NT_OK;
    if (lseek(fd, NT_H5_USERBLOCK, SEEK_SET) < 0 ||
        pread(fd, hdr, 8, NT_H5_USERBLOCK) != 8 || memcmp(hdr, HDF5_SIG, 8) != 0)
        st = nt_error(NT_ERR_FORMAT, "%s: no HDF5 superblock after a %d-byte user block", path, NT_H5_USERBLOCK);
    if (st == NT_OK) st = hash_fd(fd, path, &sum, &n);
    if (st == NT_OK) {
        header_make(hdr, n, sum);
        if (pwrite(fd, hdr, sizeof hdr, 0) != (ssize_t)sizeof hdr || fsync(fd) != 0)
            st = nt_error(NT_ERR_IO, "%s: cannot write the checksum header (%s)", path, strerror(errno));
    }
    close(fd);
    return st;
}

/* ---- in-memory files ---------------------------------------------------------------- */

static int64_t fail_nth;   /* the write that fails, counting down; 0: none */
static int fail_errno;
static int fail_env_read;

void nt_h5_fail_write_after(int64_t n, int err) {
    fail_nth = n > 0 ? n : 0;
    fail_errno = err;
    fail_env_read = 1;
}

static ssize_t checked_write(int fd, const void *p, size_t n) {
    if (fail_nth > 0 && --fail_nth == 0) {
        errno = fail_errno;
        return -1;
    }
    return write(fd, p, n);
}

static nt_status write_all(int fd, const char *path, const unsigned char *p, size_t n) {
    while (n > 0) {
        size_t k = n < IO_BLOCK ? n : IO_BLOCK;
        ssize_t w = checked_write(fd, p, k);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return nt_error(NT_ERR_IO, "%s: write failed (%s)", path, w < 0 ? strerror(errno) : "no progress");
        p += w, n -= (size_t)w;
    }
    return NT_OK;
}

hid_t nt_h5_mem_create(const char *name) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), fcpl = H5Pcreate(H5P_FILE_CREATE);
    hid_t f = -1;
    /* 4 MiB growth steps; backing_store 0: the file never goes to disk by HDF5. */
    if (fapl >= 0 && fcpl >= 0 && H5Pset_fapl_core(fapl, (size_t)4 << 20, 0) >= 0 &&
        H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) >= 0 && H5Pset_istore_k(fcpl, 1) >= 0 &&
        H5Pset_userblock(fcpl, NT_H5_USERBLOCK) >= 0)
        f = H5Fcreate(name, H5F_ACC_TRUNC, fcpl, fapl);
    if (fapl >= 0) H5Pclose(fapl);
    if (fcpl >= 0) H5Pclose(fcpl);
    return f;
}

nt_status nt_h5_mem_write(hid_t file, const char *path) {
    if (!path) {
        if (file >= 0) H5Fclose(file);
        return nt_error(NT_ERR_ARG, "nt_h5_mem_write: NULL path");
    }
    if (!fail_env_read) {
        fail_env_read = 1;
        const char *e = getenv("NT_FAIL_WRITE");
        if (e && atoll(e) > 0) fail_nth = atoll(e), fail_errno = ENOSPC;
    }
    nt_h5_quiet q = nt_h5_quiet_begin();
    nt_status st = NT_OK;
    unsigned char *img = NULL; /* the user block, then HDF5's image (which starts at the superblock) */
    ssize_t n = H5Fflush(file, H5F_SCOPE_GLOBAL) < 0 ? -1 : H5Fget_file_image(file, NULL, 0);
    if (n < 8) {
        st = nt_error(NT_ERR_IO, "%s: HDF5 could not produce the file image", path);
    } else if (!(img = nt_malloc((size_t)n + NT_H5_USERBLOCK))) {
        st = nt_error(NT_ERR_NOMEM, "%s: out of memory for a %zd-byte file image", path, n);
    } else if (H5Fget_file_image(file, img + NT_H5_USERBLOCK, (size_t)n) != n) {
        st = nt_error(NT_ERR_IO, "%s: HDF5 could not copy the file image", path);
    }
    /* The image is ours now: close the HDF5 file whatever happens next. The
     * core driver has nothing to flush to disk, so this cannot fail on a full
     * disk; with H5F_CLOSE_STRONG it also closes any object left open. */
    if (H5Fclose(file) < 0 && st == NT_OK) st = nt_error(NT_ERR_IO, "%s: HDF5 close failed", path);
    nt_h5_quiet_end(q);
    if (st == NT_OK && memcmp(img + NT_H5_USERBLOCK, HDF5_SIG, 8) != 0)
        st = nt_error(NT_ERR_IO, "%s: the file image does not start with the HDF5 superblock", path);
    if (st == NT_OK) {
        header_make(img, (uint64_t)n, nt_h5_hash64(img + NT_H5_USERBLOCK, (size_t)n));
        n += NT_H5_USERBLOCK;
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            st = nt_error(NT_ERR_IO, "%s: cannot create (%s)", path, strerror(errno));
        } else {
            /* Held while written: the stale-file sweep of another writer skips it. */
            flock(fd, LOCK_EX | LOCK_NB);
            st = write_all(fd, path, img, (size_t)n);
            if (st == NT_OK && fsync(fd) != 0)
                st = nt_error(NT_ERR_IO, "%s: fsync failed (%s)", path, strerror(errno));
            if (close(fd) != 0 && st == NT_OK)
                st = nt_error(NT_ERR_IO, "%s: close failed (%s)", path, strerror(errno));
        }
    }
    nt_free(img);
    return st;
}

int nt_h5_exists(hid_t loc, const char *path) {
    if (!path || !*path) return 0;
    if (strcmp(path, ".") == 0 || strcmp(path, "/") == 0) return 1;
    char buf[512];
    size_t n = strlen(path);
    if (n >= sizeof buf) return 0;
    memcpy(buf, path, n + 1);
    nt_h5_quiet q = nt_h5_quiet_begin();
    int ok = 1;
    /* H5Lexists needs every parent to exist: check each prefix in turn. */
    for (size_t i = 1; i <= n && ok; i++) {
        if (buf[i] == '/' || buf[i] == 0) {
            char c = buf[i];
            buf[i] = 0;
            if (H5Lexists(loc, buf, H5P_DEFAULT) <= 0) ok = 0;
            buf[i] = c;
        }
    }
    nt_h5_quiet_end(q);
    return ok;
}

static const char *type_name(hid_t t, char *buf, size_t cap) {
    size_t bits = H5Tget_size(t) * 8;
    switch (H5Tget_class(t)) {
    case H5T_FLOAT: snprintf(buf, cap, "float%zu", bits); break;
    case H5T_INTEGER: snprintf(buf, cap, "%sint%zu", H5Tget_sign(t) == H5T_SGN_NONE ? "u" : "", bits); break;
    case H5T_STRING: snprintf(buf, cap, "string"); break;
    default: snprintf(buf, cap, "HDF5 class %d", (int)H5Tget_class(t)); break;
    }
    return buf;
}

static const char *dims_str(int ndim, const hsize_t *d, char *buf, size_t cap) {
    size_t k = 0;
    if (ndim == 0) snprintf(buf, cap, "scalar");
    for (int i = 0; i < ndim && k < cap; i++)
        k += (size_t)snprintf(buf + k, cap - k, i ? "x%llu" : "%llu", (unsigned long long)d[i]);
    return buf;
}

/* The bytes a chunk may hold. A checkpoint tensor is usually one chunk (one
 * checksum, one read); a larger one is cut along its leading dims, and no
 * chunk reaches HDF5's 4 GiB limit. */
#define CHUNK_BYTES ((hsize_t)64 << 20)

/* Chunked layout with the Fletcher32 checksum filter (needs chunks; a
 * scalar cannot be chunked and stays contiguous, unchecked). Readers need
 * nothing special: the filter is built into every HDF5 (h5py included). */
static hid_t checked_dcpl(int ndim, const hsize_t *dims) {
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (dcpl < 0 || ndim == 0) return dcpl;
    hsize_t chunk[4], bytes = sizeof(float);
    for (int i = 0; i < ndim; i++) chunk[i] = dims[i], bytes *= dims[i];
    for (int i = 0; i < ndim && bytes > CHUNK_BYTES; i++) {
        hsize_t slice = bytes / chunk[i]; /* bytes of one index along dim i */
        chunk[i] = CHUNK_BYTES / slice ? CHUNK_BYTES / slice : 1;
        bytes = slice * chunk[i];
    }
    if (H5Pset_chunk(dcpl, ndim, chunk) < 0 || H5Pset_fletcher32(dcpl) < 0) {
        H5Pclose(dcpl);
        return -1;
    }
    return dcpl;
}

nt_status nt_h5_write_f32(hid_t loc, const char *path, int ndim, const int *shape, const float *data) {
    if (!path || !data || ndim < 0 || ndim > 4 || (ndim && !shape))
        return nt_error(NT_ERR_ARG, "nt_h5_write_f32: bad arguments for '%s'", path ? path : "(null)");
    hsize_t dims[4];
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 1)
            return nt_error(NT_ERR_ARG, "nt_h5_write_f32: '%s': dim %d is %d, expected >= 1", path, i, shape[i]);
        dims[i] = (hsize_t)shape[i];
    }
    nt_h5_quiet q = nt_h5_quiet_begin();
    nt_status st = NT_OK;
    hid_t sp = ndim ? H5Screate_simple(ndim, dims, NULL) : H5Screate(H5S_SCALAR);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t dcpl = checked_dcpl(ndim, dims);
    hid_t ds = sp >= 0 && dcpl >= 0 ? H5Dcreate2(loc, path, H5T_IEEE_F32LE, sp, lcpl, dcpl, H5P_DEFAULT) : -1;
    if (ds < 0 || H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
        st = nt_error(NT_ERR_IO, "%s: cannot write the dataset (exists already, or the file is read-only?)", path);
    if (ds >= 0) H5Dclose(ds);
    if (dcpl >= 0) H5Pclose(dcpl);
    H5Pclose(lcpl);
    if (sp >= 0) H5Sclose(sp);
    nt_h5_quiet_end(q);
    return st;
}

/* Opens a float32 dataset of the expected shape; *ds_out to close by the caller. */
static nt_status open_f32(hid_t loc, const char *path, int ndim, const int *shape, hid_t *ds_out) {
    if (!nt_h5_exists(loc, path)) return nt_error(NT_ERR_FORMAT, "%s: missing", path);
    H5O_info_t info;
    if (H5Oget_info_by_name(loc, path, &info, H5P_DEFAULT) < 0 || info.type != H5O_TYPE_DATASET)
        return nt_error(NT_ERR_FORMAT, "%s: not a dataset", path);
    hid_t ds = H5Dopen2(loc, path, H5P_DEFAULT);
    if (ds < 0) return nt_error(NT_ERR_IO, "%s: cannot open the dataset", path);
    hid_t t = H5Dget_type(ds), sp = H5Dget_space(ds);
    nt_status st = NT_OK;
    char a[48], b[48];
    if (t < 0 || sp < 0) {
        st = nt_error(NT_ERR_IO, "%s: cannot read type or shape", path);
    } else if (H5Tget_class(t) != H5T_FLOAT || H5Tget_size(t) != 4) {
        st = nt_error(NT_ERR_FORMAT, "%s: dtype %s, expected float32", path, type_name(t, a, sizeof a));
    } else {
        int nd = H5Sget_simple_extent_ndims(sp);
        hsize_t dims[32], want[4];
        for (int i = 0; i < ndim; i++) want[i] = (hsize_t)shape[i];
        int same = nd == ndim;
        if (nd >= 0 && nd <= 32) H5Sget_simple_extent_dims(sp, dims, NULL);
        else nd = 0, same = 0;
        for (int i = 0; same && i < nd; i++) same = dims[i] == want[i];
        if (!same)
            st = nt_error(NT_ERR_FORMAT, "%s: shape %s, expected %s", path, dims_str(nd, dims, a, sizeof a),
                          dims_str(ndim, want, b, sizeof b));
    }
    if (t >= 0) H5Tclose(t);
    if (sp >= 0) H5Sclose(sp);
    if (st != NT_OK) {
        H5Dclose(ds);
        return st;
    }
    *ds_out = ds;
    return NT_OK;
}

nt_status nt_h5_check_f32(hid_t loc, const char *path, int ndim, const int *shape) {
    if (!path || ndim < 0 || ndim > 4 || (ndim && !shape))
        return nt_error(NT_ERR_ARG, "nt_h5_check_f32: bad arguments");
    nt_h5_quiet q = nt_h5_quiet_begin();
    hid_t ds;
    nt_status st = open_f32(loc, path, ndim, shape, &ds);
    if (st == NT_OK) H5Dclose(ds);
    nt_h5_quiet_end(q);
    return st;
}

static herr_t checksum_cb(unsigned n, const H5E_error2_t *err, void *data) {
    (void)n;
    if (err->desc && strstr(err->desc, "letcher32")) *(int *)data = 1; /* [Ff]letcher32 */
    return 0;
}

/* 1 if HDF5's current error stack holds the Fletcher32 filter's complaint
 * ("data error detected by Fletcher32 checksum"): a read whose checksum
 * does not match, as opposed to one that failed for another reason. */
static int checksum_failed(void) {
    int found = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, checksum_cb, &found);
    return found;
}

nt_status nt_h5_read_f32(hid_t loc, const char *path, int ndim, const int *shape, float *data) {
    if (!path || !data || ndim < 0 || ndim > 4 || (ndim && !shape))
        return nt_error(NT_ERR_ARG, "nt_h5_read_f32: bad arguments");
    nt_h5_quiet q = nt_h5_quiet_begin();
    hid_t ds;
    nt_status st = open_f32(loc, path, ndim, shape, &ds);
    if (st == NT_OK) {
        if (H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
            if (checksum_failed())
                st = nt_error(NT_ERR_FORMAT, "%s: checksum mismatch (Fletcher32): the stored data is corrupt", path);
            else
                st = nt_error(NT_ERR_IO, "%s: read failed", path);
        }
        H5Dclose(ds);
    }
    nt_h5_quiet_end(q);
    return st;
}

/* ---- attributes ------------------------------------------------------------------ */

int nt_h5_attr_exists(hid_t loc, const char *obj, const char *name) {
    if (!nt_h5_exists(loc, obj)) return 0;
    nt_h5_quiet q = nt_h5_quiet_begin();
    htri_t r = H5Aexists_by_name(loc, obj, name, H5P_DEFAULT);
    nt_h5_quiet_end(q);
    return r > 0;
}

/* Creates the object at obj as a group if missing. */
static nt_status ensure_group(hid_t loc, const char *obj) {
    if (nt_h5_exists(loc, obj)) return NT_OK;
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t g = H5Gcreate2(loc, obj, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Pclose(lcpl);
    if (g < 0) return nt_error(NT_ERR_IO, "%s: cannot create the group", obj);
    H5Gclose(g);
    return NT_OK;
}

static nt_status attr_write(hid_t loc, const char *obj, const char *name, hid_t ftype, hid_t mtype,
                            const void *v) {
    if (!obj || !name) return nt_error(NT_ERR_ARG, "nt_h5_attr_write: NULL object or name");
    nt_h5_quiet q = nt_h5_quiet_begin();
    nt_status st = ensure_group(loc, obj);
    if (st == NT_OK) {
        if (H5Aexists_by_name(loc, obj, name, H5P_DEFAULT) > 0)
            H5Adelete_by_name(loc, obj, name, H5P_DEFAULT);
        hid_t sp = H5Screate(H5S_SCALAR);
        hid_t a = H5Acreate_by_name(loc, obj, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (a < 0 || H5Awrite(a, mtype, v) < 0)
            st = nt_error(NT_ERR_IO, "%s: cannot write attribute '%s'", obj, name);
        if (a >= 0) H5Aclose(a);
        H5Sclose(sp);
    }
    nt_h5_quiet_end(q);
    return st;
}

nt_status nt_h5_attr_write_int(hid_t loc, const char *obj, const char *name, int64_t v) {
    if (v >= INT32_MIN && v <= INT32_MAX) {
        int32_t x = (int32_t)v;
        return attr_write(loc, obj, name, H5T_STD_I32LE, H5T_NATIVE_INT32, &x);
    }
    return attr_write(loc, obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &v);
}

nt_status nt_h5_attr_write_double(hid_t loc, const char *obj, const char *name, double v) {
    return attr_write(loc, obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v);
}

nt_status nt_h5_attr_write_str(hid_t loc, const char *obj, const char *name, const char *v) {
    if (!v) return nt_error(NT_ERR_ARG, "nt_h5_attr_write_str: NULL value for '%s'", name ? name : "");
    /* Variable-length UTF-8, what h5py writes for a Python str. */
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    nt_status st = attr_write(loc, obj, name, t, t, &v);
    H5Tclose(t);
    return st;
}

/* Opens a scalar (or one-element) attribute; returns its id and file type. */
static nt_status attr_open(hid_t loc, const char *obj, const char *name, hid_t *a, hid_t *t) {
    if (!obj || !name) return nt_error(NT_ERR_ARG, "nt_h5_attr_read: NULL object or name");
    if (!nt_h5_exists(loc, obj)) return nt_error(NT_ERR_FORMAT, "%s: missing", obj);
    if (H5Aexists_by_name(loc, obj, name, H5P_DEFAULT) <= 0)
        return nt_error(NT_ERR_FORMAT, "%s: attribute '%s' missing", obj, name);
    *a = H5Aopen_by_name(loc, obj, name, H5P_DEFAULT, H5P_DEFAULT);
    if (*a < 0) return nt_error(NT_ERR_IO, "%s: cannot open attribute '%s'", obj, name);
    hid_t sp = H5Aget_space(*a);
    hssize_t n = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    if (sp >= 0) H5Sclose(sp);
    if (n != 1) {
        H5Aclose(*a);
        return nt_error(NT_ERR_FORMAT, "%s: attribute '%s' has %lld values, expected one", obj, name,
                        (long long)n);
    }
    *t = H5Aget_type(*a);
    return NT_OK;
}

static nt_status attr_read_num(hid_t loc, const char *obj, const char *name, hid_t mtype, int allow_float,
                               void *v, const char *want) {
    nt_h5_quiet q = nt_h5_quiet_begin();
    hid_t a = -1, t = -1;
    nt_status st = attr_open(loc, obj, name, &a, &t);
    if (st == NT_OK) {
        H5T_class_t c = H5Tget_class(t);
        char tn[48];
        if (c != H5T_INTEGER && !(allow_float && c == H5T_FLOAT))
            st = nt_error(NT_ERR_FORMAT, "%s: attribute '%s' is %s, expected %s", obj, name,
                          type_name(t, tn, sizeof tn), want);
        else if (H5Aread(a, mtype, v) < 0)
            st = nt_error(NT_ERR_IO, "%s: cannot read attribute '%s'", obj, name);
        H5Tclose(t);
        H5Aclose(a);
    }
    nt_h5_quiet_end(q);
    return st;
}

nt_status nt_h5_attr_read_int(hid_t loc, const char *obj, const char *name, int64_t *v) {
    if (!v) return nt_error(NT_ERR_ARG, "nt_h5_attr_read_int: NULL output");
    int64_t x;
    NT_TRY(attr_read_num(loc, obj, name, H5T_NATIVE_INT64, 0, &x, "an integer"));
    *v = x;
    return NT_OK;
}

nt_status nt_h5_attr_read_double(hid_t loc, const char *obj, const char *name, double *v) {
    if (!v) return nt_error(NT_ERR_ARG, "nt_h5_attr_read_double: NULL output");
    double x;
    NT_TRY(attr_read_num(loc, obj, name, H5T_NATIVE_DOUBLE, 1, &x, "a number"));
    *v = x;
    return NT_OK;
}

// a string type in memory of `size` bytes (H5T_VARIABLE: a char *) in the character set of t
static hid_t mem_str_type(hid_t t, size_t size) {
    hid_t m = H5Tcopy(H5T_C_S1);
    H5Tset_size(m, size);
    H5Tset_cset(m, H5Tget_cset(t));
    return m;
}

// s[0..len) and a NUL into buf, or NT_ERR_FORMAT when it does not fit
static nt_status str_out(const char *obj, const char *name, const char *s, size_t len, char *buf, size_t cap) {
    if (len >= cap) return nt_error(NT_ERR_FORMAT, "%s: attribute '%s' longer than %zu bytes", obj, name, cap - 1);
    memcpy(buf, s, len);
    buf[len] = 0;
    return NT_OK;
}

nt_status nt_h5_attr_read_str(hid_t loc, const char *obj, const char *name, char *buf, size_t cap) {
    if (!buf || cap == 0) return nt_error(NT_ERR_ARG, "nt_h5_attr_read_str: NULL buffer");
    nt_h5_quiet q = nt_h5_quiet_begin();
    hid_t a = -1, t = -1;
    nt_status st = attr_open(loc, obj, name, &a, &t);
    if (st != NT_OK) {
        nt_h5_quiet_end(q);
        return st;
    }
    char tn[48];
    if (H5Tget_class(t) != H5T_STRING) {
        st = nt_error(NT_ERR_FORMAT, "%s: attribute '%s' is %s, expected a string", obj, name,
                      type_name(t, tn, sizeof tn));
    } else if (H5Tis_variable_str(t) > 0) {
        hid_t m = mem_str_type(t, H5T_VARIABLE);
        char *s = NULL;
        if (H5Aread(a, m, &s) < 0 || !s) {
            st = nt_error(NT_ERR_IO, "%s: cannot read attribute '%s'", obj, name);
        } else {
            st = str_out(obj, name, s, strlen(s), buf, cap);
            H5free_memory(s);
        }
        H5Tclose(m);
    } else {
        size_t n = H5Tget_size(t);
        char *s = nt_malloc(n + 1);
        hid_t m = mem_str_type(t, n + 1); /* room for the NUL the conversion adds */
        if (!s) {
            st = nt_error(NT_ERR_NOMEM, "nt_h5_attr_read_str: out of memory");
        } else if (H5Aread(a, m, s) < 0) {
            st = nt_error(NT_ERR_IO, "%s: cannot read attribute '%s'", obj, name);
        } else {
            s[n] = 0;
            size_t len = strlen(s);
            while (len > 0 && s[len - 1] == ' ' && H5Tget_strpad(t) == H5T_STR_SPACEPAD) s[--len] = 0;
            st = str_out(obj, name, s, len, buf, cap);
        }
        H5Tclose(m);
        nt_free(s);
    }
    H5Tclose(t);
    H5Aclose(a);
    nt_h5_quiet_end(q);
    return st;
}
