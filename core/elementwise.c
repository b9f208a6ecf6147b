/* elementwise.c - add, sub, mul, div (broadcasting), scale, relu, gelu, dropout.
 *
 * Dimension legend:
 *   n   elements of a (and of the output y, which has a's shape)
 *   nb  elements of b: nb == n, nb == 1, or b's shape is a trailing part of
 *       a's, so a and y are viewed as (R, nb) with R = n / nb rows and
 *       b[j] pairs with a[r, j] for every row r
 *
 * Every loop is OpenMP-parallel with a static schedule once a tensor is big
 * enough to pay for the fork (PAR_MIN elements). Forward kernels compute each
 * element independently, so they are bitwise identical at any thread count.
 * The one reduction, b's gradient under broadcasting, sums in double over a
 * partition fixed by the shape alone (never by the thread count), then adds
 * the partial sums in order: bitwise identical at any thread count too.
 */
#include <math.h>
#include <string.h>
#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#endif

#include "core/core_internal.h"
#include "core/isa.h"
#include "core/mutate.h"
#include "core/ops.h"
#include "core/vecmath.h"

#define PAR_MIN 32768 /* elements below which a loop stays serial */

/* ---- broadcasting binary ops ------------------------------------------------ */

typedef enum binop { OP_ADD, OP_SUB, OP_MUL, OP_DIV } binop;

static const char *binop_name[] = {"nt_add", "nt_sub", "nt_mul", "nt_div"};

/* Row chunks of the (R, nb) view for b's gradient when nb is small: each chunk
 * holds about CHUNK_ELEMS elements and there are at most MAX_CHUNKS of them. */
#define CHUNK_ELEMS 16384
#define MAX_CHUNKS 32
/* From this nb on, b's gradient parallelises over columns instead. */
#define WIDE_NB 1024

static int reduce_chunks(int64_t n, int64_t nb) {
    int64_t k = n / CHUNK_ELEMS;
    if (k > MAX_CHUNKS) k = MAX_CHUNKS;
    if (k > n / nb) k = n / nb; /* no more chunks than rows */
    return k < 1 ? 1 : (int)k;
}

// y (len) = a (len) op b (len)
static inline void binop_span(float *restrict y, const float *a, const float *b, int64_t len, binop op) {
    switch (op) {
    case OP_ADD: for (int64_t j = 0; j < len; j++) y[j] = a[j] + b[j]; break;
    case OP_SUB: for (int64_t j = 0; j < len; j++) y[j] = a[j] - b[j]; break;
    case OP_MUL: for (int64_t j = 0; j < len; j++) y[j] = a[j] * b[j]; break;
    case OP_DIV: for (int64_t j = 0; j < len; j++) y[j] = a[j] / b[j]; break;
    }
}

// y (R, nb) = a (R, nb) op b (nb). Below PAR_MIN no parallel region is
// entered at all: even a region with a false if clause costs libgomp a
// barrier and a futex call, which dominates the one-row ops of decoding.
static void binop_forward(float *y, const float *a, const float *b, int64_t n, int64_t nb, binop op) {
    if (n <= PAR_MIN) {
        if (nb == n) binop_span(y, a, b, n, op);
        else
            for (int64_t r = 0; r < n / nb; r++) binop_span(y + r * nb, a + r * nb, b, nb, op);
        return;
    }
    if (nb == n) {
        enum { CHUNK = 4096 };
        int64_t chunks = (n + CHUNK - 1) / CHUNK;
#pragma omp parallel for schedule(static)
        for (int64_t c = 0; c < chunks; c++) {
            int64_t i0 = c * CHUNK, len = n - i0 < CHUNK ? n - i0 : CHUNK;
            binop_span(y + i0, a + i0, b + i0, len, op);
        }
        return;
    }
    int64_t R = n / nb;
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < R; r++) binop_span(y + r * nb, a + r * nb, b, nb, op);
}

/* The per-element term whose column sums make b's gradient (before the final
 * factor): add/sub: dy; mul: dy * a; div: dy * a (times -1/b^2 afterwards). */
static inline double db_term(binop op, const float *dy, const float *a, int64_t i) {
    return (op == OP_ADD || op == OP_SUB) ? (double)dy[i] : (double)dy[i] * a[i];
}

// colsum (nb) = sum over rows r, in order, of term(r, j); dy, a (R, nb).
// scratch: (MAX_CHUNKS * nb) doubles when nb < WIDE_NB.
static void column_sums(double *colsum, double *scratch, binop op, const float *dy, const float *a,
                        int64_t n, int64_t nb) {
    int64_t R = n / nb;
    if (nb >= WIDE_NB) {
        /* Wide rows: each thread owns blocks of 64 columns and walks all rows. */
        int64_t nblk = (nb + 63) / 64;
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
        for (int64_t blk = 0; blk < nblk; blk++) {
            int64_t j0 = blk * 64, j1 = j0 + 64 < nb ? j0 + 64 : nb;
            double acc[64] = {0};
            for (int64_t r = 0; r < R; r++)
                for (int64_t j = j0; j < j1; j++) acc[j - j0] += db_term(op, dy, a, r * nb + j);
            for (int64_t j = j0; j < j1; j++) colsum[j] = acc[j - j0];
        }
        return;
    }
    /* Narrow rows (a bias, a scalar): fixed row chunks, partial sums per chunk,
     * then the partials added in chunk order. */
    int K = reduce_chunks(n, nb);
    int64_t rows_per = (R + K - 1) / K;
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
    for (int c = 0; c < K; c++) {
        double *part = scratch + (int64_t)c * nb;
        for (int64_t j = 0; j < nb; j++) part[j] = 0;
        int64_t r1 = (c + 1) * rows_per < R ? (c + 1) * rows_per : R;
        for (int64_t r = c * rows_per; r < r1; r++)
            for (int64_t j = 0; j < nb; j++) part[j] += db_term(op, dy, a, r * nb + j);
    }
    for (int64_t j = 0; j < nb; j++) {
        double s = 0;
        for (int c = 0; c < K; c++) s += scratch[(int64_t)c * nb + j];
        colsum[j] = s;
    }
}

/* What binop_apply keeps on its node. */
typedef struct {
    binop op;
    double *colsum; /* (nb + K nb) scratch for db when b broadcasts: colsum (nb)
                       then the chunk partials (K, nb); NULL if b needs none */
} binop_args;

/* da (R, nb) += dy d(a op b)/da and db (nb) += the same for b summed over
 * rows (either may be NULL); a (R, nb) = (n), b (nb), dy (n). colsum: see
 * binop_args (needed when db and nb < n). */
static void binop_backward(float *da, float *db, double *colsum, const float *dy, const float *a,
                           const float *b, int64_t n, int64_t nb, binop op) {
    // da (R, nb) += dy * d(a op b)/da: 1 (add), 1 (sub), b (mul), 1/b (div)
    if (da) {
        int64_t R = n / nb;
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
        for (int64_t r = 0; r < R; r++) {
            const float *g = dy + r * nb;
            float *d = da + r * nb;
            switch (op) {
            case OP_ADD:
            case OP_SUB: for (int64_t j = 0; j < nb; j++) d[j] += g[j]; break;
            case OP_MUL: for (int64_t j = 0; j < nb; j++) d[j] += g[j] * b[j]; break;
            case OP_DIV: for (int64_t j = 0; j < nb; j++) d[j] += g[j] / b[j]; break;
            }
        }
    }
    if (!db) return;
    if (nb == n) {
        // db (n) += dy * d(a op b)/db, elementwise
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
        for (int64_t i = 0; i < n; i++) {
            switch (op) {
            case OP_ADD: db[i] += dy[i]; break;
            case OP_SUB: db[i] -= dy[i]; break;
            case OP_MUL: db[i] += dy[i] * a[i]; break;
            case OP_DIV: db[i] -= dy[i] * a[i] / (b[i] * b[i]); break;
            }
        }
        return;
    }
    // db (nb) += sum over rows: add dy, sub -dy, mul dy*a, div -dy*a/b^2
    double *scratch = colsum + nb;
    column_sums(colsum, scratch, op, dy, a, n, nb);
    for (int64_t j = 0; j < nb; j++) {
        switch (op) {
        case OP_ADD:
        case OP_MUL: db[j] += (float)colsum[j]; break;
        case OP_SUB: db[j] -= (float)colsum[j]; break;
        case OP_DIV: db[j] -= (float)(colsum[j] / ((double)b[j] * b[j])); break;
        }
    }
}

static void binop_backward_node(nt_ctx *ctx, nt_node *nd) {
    (void)ctx;
    const binop_args *args = NT_NODE_ARGS(nd, binop_args);
    nt_tensor *a = nd->in[0], *b = nd->in[1];
    binop_backward(a->requires_grad ? a->grad : NULL, b->requires_grad ? b->grad : NULL, args->colsum,
                   nd->out->grad, nt_f32(a), nt_f32(b), a->n, b->n, args->op);
}

/* b broadcasts against a if it has one element or its shape is a trailing part of a's. */
static int broadcasts(const nt_tensor *a, const nt_tensor *b) {
    if (b->n == 1) return 1;
    if (b->ndim > a->ndim) return 0;
    for (int i = 0; i < b->ndim; i++)
        if (b->shape[b->ndim - 1 - i] != a->shape[a->ndim - 1 - i]) return 0;
    return 1;
}

static nt_status binop_apply(nt_ctx *ctx, nt_tensor **out, nt_tensor *a, nt_tensor *b, binop op) {
    const char *fn = binop_name[op];
    if (!ctx || !out || !a || !b)
        return nt_error(NT_ERR_ARG, "%s: ctx, out, a or b is NULL", fn);
    if (a->dtype != NT_F32 || b->dtype != NT_F32)
        return nt_error(NT_ERR_SHAPE, "%s: inputs must be F32 (a: %s, b: %s)", fn,
                        a->dtype == NT_F32 ? "F32" : "I32", b->dtype == NT_F32 ? "F32" : "I32");
    if (!broadcasts(a, b)) {
        char sa[64], sb[64];
        return nt_error(NT_ERR_SHAPE, "%s: shapes do not broadcast (a: %s, b: %s)", fn,
                        nt_shape_str(a, sa, sizeof sa), nt_shape_str(b, sb, sizeof sb));
    }
    nt_tensor *y;
    nt_status st = nt_tensor_new(ctx, &y, NT_F32, a->ndim, a->shape);
    if (st) return nt_error_wrap(st, "%s", fn);
    binop_forward(nt_f32(y), nt_f32(a), nt_f32(b), a->n, b->n, op);

    nt_node *nd = nt_tape_record(ctx, binop_backward_node, fn, y, 2, (nt_tensor *[]){a, b}, &st);
    if (st) return st;
    if (nd) {
        binop_args *args = NT_NODE_ARGS(nd, binop_args);
        args->op = op;
        if (b->requires_grad && b->n < a->n) {
            /* colsum (nb) then the chunk partials (K, nb), allocated now so
             * that backward cannot run out of memory */
            int64_t nb = b->n;
            int64_t k = nb >= WIDE_NB ? 0 : reduce_chunks(a->n, nb);
            args->colsum = nt_ctx_alloc(ctx, (size_t)(nb + k * nb) * sizeof(double));
            if (!args->colsum) return nt_error_wrap(NT_ERR_NOMEM, "%s", fn);
        }
    }
    *out = y;
    return NT_OK;
}

nt_status nt_add(nt_ctx *ctx, nt_tensor **out, nt_tensor *a, nt_tensor *b) {
    return binop_apply(ctx, out, a, b, OP_ADD);
}
nt_status nt_sub(nt_ctx *ctx, nt_tensor **out, nt_tensor *a, nt_tensor *b) {
    return binop_apply(ctx, out, a, b, OP_SUB);
}
nt_status nt_mul(nt_ctx *ctx, nt_tensor **out, nt_tensor *a, nt_tensor *b) {
    return binop_apply(ctx, out, a, b, OP_MUL);
}
nt_status nt_div(nt_ctx *ctx, nt_tensor **out, nt_tensor *a, nt_tensor *b) {
    return binop_apply(ctx, out, a, b, OP_DIV);
}

/* ---- residual add over the branch's buffer ------------------------------------- */

/* dx (n) and df (n), either NULL, each get dy (n): the gradient of x + f
 * passes to both unchanged. Each is stored (acc_* 0: a fresh buffer,
 * write-first) or accumulated (acc_* 1). */
static void add_residual_backward(float *dx, float *df, const float *dy, int64_t n, int acc_x, int acc_f) {
    enum { CHUNK = 4096 };
    int64_t chunks = (n + CHUNK - 1) / CHUNK;
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
    for (int64_t c = 0; c < chunks; c++) {
        int64_t i0 = c * CHUNK, len = n - i0 < CHUNK ? n - i0 : CHUNK;
        if (dx) nt_grad_put(dx + i0, dy + i0, len, acc_x);
        if (df) nt_grad_put(df + i0, dy + i0, len, acc_f);
    }
}

/* node: in = {x, f}; nothing saved. */
static void add_residual_backward_node(nt_ctx *ctx, nt_node *nd) {
    (void)ctx;
    nt_tensor *x = nd->in[0], *f = nd->in[1];
    float *dx = x->requires_grad ? x->grad : NULL;
    float *df = f->requires_grad ? f->grad : NULL;
    int acc_x = dx && !nt_grad_first(x), acc_f = df && !nt_grad_first(f);
    add_residual_backward(dx, df, nd->out->grad, nd->out->n, acc_x, acc_f);
}

// out (n) += x (n), out being the branch f's buffer
static void add_residual_forward(float *restrict out, const float *restrict x, int64_t n) {
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
    for (int64_t i = 0; i < n; i++) out[i] += x[i];
}

nt_status nt_add_residual(nt_ctx *ctx, nt_tensor **out, nt_tensor *x, nt_tensor *f) {
    if (!ctx || !out || !x || !f) return nt_error(NT_ERR_ARG, "nt_add_residual: ctx, out, x or f is NULL");
    if (x->dtype != NT_F32 || f->dtype != NT_F32)
        return nt_error(NT_ERR_SHAPE, "nt_add_residual: x and f must be F32");
    if (!nt_shape_eq(x, f)) {
        char sx[64], sf[64];
        return nt_error(NT_ERR_SHAPE, "nt_add_residual: x %s and f %s must have the same shape",
                        nt_shape_str(x, sx, sizeof sx), nt_shape_str(f, sf, sizeof sf));
    }
    if (x == f || x->data == f->data)
        return nt_error(NT_ERR_ARG, "nt_add_residual: x and f share storage (f is overwritten)");
    if (f->is_param) return nt_error(NT_ERR_ARG, "nt_add_residual: f is a parameter (f is overwritten)");
    nt_tensor *y;
    NT_TRY(nt_tensor_wrap(ctx, &y, NT_F32, f->ndim, f->shape, f->data));
    add_residual_forward(nt_f32(y), nt_f32(x), x->n);
    nt_status st;
    nt_node *nd = nt_tape_record(ctx, add_residual_backward_node, "nt_add_residual", y, 2,
                                 (nt_tensor *[]){x, f}, &st);
    if (st) return st;
    if (nd) nd->write_first = 1;
    *out = y;
    return NT_OK;
}

/* ---- unary ops ------------------------------------------------------------------ */

static nt_status unary_check(const char *fn, nt_ctx *ctx, nt_tensor **out, nt_tensor *x) {
    if (!ctx || !out || !x) return nt_error(NT_ERR_ARG, "%s: ctx, out or x is NULL", fn);
    if (x->dtype != NT_F32) return nt_error(NT_ERR_SHAPE, "%s: x must be F32 (got I32)", fn);
    return NT_OK;
}

/* A new uninitialised F32 tensor shaped like x; errors name the op. */
static nt_status new_like(const char *fn, nt_ctx *ctx, nt_tensor **y, const nt_tensor *x) {
    nt_status st = nt_tensor_new(ctx, y, NT_F32, x->ndim, x->shape);
    return st ? nt_error_wrap(st, "%s", fn) : NT_OK;
}

/* What nt_scale keeps on its node. */
typedef struct {
    float s;
} scale_args;

/* dx (n) += s dy (n) */
static void scale_backward(float *dx, const float *dy, float s, int64_t n) {
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
    for (int64_t i = 0; i < n; i++) dx[i] += s * dy[i];
}

static void scale_backward_node(nt_ctx *ctx, nt_node *nd) {
    (void)ctx;
    nt_tensor *x = nd->in[0];
    if (x->requires_grad) scale_backward(x->grad, nd->out->grad, NT_NODE_ARGS(nd, scale_args)->s, x->n);
}

// out (n) = s x (n)
static void scale_forward(float *out, const float *x, float s, int64_t n) {
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
    for (int64_t i = 0; i < n; i++) out[i] = s * x[i];
}

nt_status nt_scale(nt_ctx *ctx, nt_tensor **out, nt_tensor *x, float s) {
    NT_TRY(unary_check("nt_scale", ctx, out, x));
    nt_tensor *y;
    NT_TRY(new_like("nt_scale", ctx, &y, x));
    scale_forward(nt_f32(y), nt_f32(x), s, x->n);
    nt_status st;
    nt_node *nd = nt_tape_record(ctx, scale_backward_node, "nt_scale", y, 1, (nt_tensor *[]){x}, &st);
    if (st) return st;
    if (nd) NT_NODE_ARGS(nd, scale_args)->s = s;
    *out = y;
    return NT_OK;
}

/* dx (n) += dy (n) where x (n) > 0 */
static void relu_backward(float *dx, const float *dy, const float *x, int64_t n) {
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
    for (int64_t i = 0; i < n; i++) dx[i] += x[i] > 0 ? dy[i] : 0.0f;
}

/* node: in[0] = x (n); nothing saved. */
static void relu_backward_node(nt_ctx *ctx, nt_node *nd) {
    (void)ctx;
    nt_tensor *x = nd->in[0];
    if (x->requires_grad) relu_backward(x->grad, nd->out->grad, nt_f32(x), x->n);
}

// out (n) = max(x (n), 0)
static void relu_forward(float *out, const float *x, int64_t n) {
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
    for (int64_t i = 0; i < n; i++) out[i] = x[i] > 0 ? x[i] : 0.0f;
}

/* An elementwise op with nothing saved: out = forward(x), backward from x. */
static nt_status unary_apply(const char *fn, nt_ctx *ctx, nt_tensor **out, nt_tensor *x,
                             void (*forward)(float *, const float *, int64_t), nt_backward_fn backward) {
    NT_TRY(unary_check(fn, ctx, out, x));
    nt_tensor *y;
    NT_TRY(new_like(fn, ctx, &y, x));
    forward(nt_f32(y), nt_f32(x), x->n);
    nt_status st;
    nt_tape_record(ctx, backward, fn, y, 1, (nt_tensor *[]){x}, &st);
    if (st) return st;
    *out = y;
    return NT_OK;
}

nt_status nt_relu(nt_ctx *ctx, nt_tensor **out, nt_tensor *x) {
    return unary_apply("nt_relu", ctx, out, x, relu_forward, relu_backward_node);
}

/* GELU, tanh approximation (Hendrycks & Gimpel 2016; PyTorch's
 * F.gelu(approximate="tanh")):
 *   y  = 0.5 x (1 + t),  t = tanh(u),  u = k (x + c x^3),  k = sqrt(2/pi), c = 0.044715
 *   dy/dx = 0.5 (1 + t) + 0.5 x (1 - t^2) k (1 + 3 c x^2)
 * Computed through the logistic function, since 1 + tanh(u) = 2 s with
 * s = 1 / (1 + e), e = exp(-2u), and 1 - t^2 = 4 s (1 - s) = 4 s^2 e:
 *   y = x s,   dy/dx = s + 2 x s^2 e k (1 + 3 c x^2)
 * No cancellation near u = 0 (1 + t is never formed by subtraction), and
 * with nt_expf the loops vectorise (libm's tanhf does not): a few ulp from
 * the tanh form. For u < -44, e saturates at exp(88) and y underflows to
 * x s ~ 0 as it should; for u > 43.5, e = 0 and y = x exactly. */
// y (n) = gelu(x (n))
static inline void gelu_span(float *restrict y, const float *restrict x, int64_t n) { nt_vgelu(y, x, n); }

/* dx (n) += dy (n) gelu'(x (n)) */
static void gelu_backward(float *restrict dx, const float *restrict dy, const float *restrict x, int64_t n) {
    if (nt_mutation == NT_MUT_GELU_ERF) { /* test-only (mutate.h): d/dx of x Phi(x) */
        for (int64_t i = 0; i < n; i++)
            dx[i] += dy[i] * (float)(0.5 * (1.0 + erf(x[i] / sqrt(2.0))) +
                                     x[i] * exp(-0.5 * (double)x[i] * x[i]) / sqrt(2.0 * 3.14159265358979));
        return;
    }
    enum { CHUNK = 4096 };
    int64_t chunks = (n + CHUNK - 1) / CHUNK;
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
    for (int64_t c = 0; c < chunks; c++) {
        int64_t i0 = c * CHUNK;
        nt_vgelu_grad(dx + i0, dy + i0, x + i0, n - i0 < CHUNK ? n - i0 : CHUNK, 1);
    }
}

/* node: in[0] = x (n); nothing saved (gelu' is recomputed from x). */
static void gelu_backward_node(nt_ctx *ctx, nt_node *nd) {
    (void)ctx;
    nt_tensor *x = nd->in[0];
    if (x->requires_grad) gelu_backward(x->grad, nd->out->grad, nt_f32(x), x->n);
}

// out (n) = gelu(x (n)), in chunks of 4096 across threads
static void gelu_forward(float *restrict out, const float *restrict x, int64_t n) {
    if (n <= PAR_MIN) {
        gelu_span(out, x, n);
        return;
    }
    enum { CHUNK = 4096 };
    int64_t chunks = (n + CHUNK - 1) / CHUNK;
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < chunks; c++) {
        int64_t i0 = c * CHUNK;
        gelu_span(out + i0, x + i0, n - i0 < CHUNK ? n - i0 : CHUNK);
    }
}

nt_status nt_gelu(nt_ctx *ctx, nt_tensor **out, nt_tensor *x) {
    return unary_apply("nt_gelu", ctx, out, x, gelu_forward, gelu_backward_node);
}

/* ---- dropout ------------------------------------------------------------------- */

/* The mask. A call reserves n stream positions (nt_rng_skip) starting at
 * `base`; element i is kept iff
 *     dropout_hash(key_b, (uint32_t)i) >= t,   t = floor(p * 2^32),
 * where b = i >> 32 and key_b = nt_rng_u64_at(r, base + b * 2^32) is the
 * generator's full 64-bit hash of the block's first position. So the mask is a
 * function of (seed, base, i) only -- never of the thread count, the schedule
 * or the ISA level -- and the RNG counter stays the whole state (resume is
 * exact). The keep probability is 1 - t / 2^32, within 2^-32 of 1 - p.
 *
 * Why not one nt_rng_u64_at per element (what this did before): that is two
 * 64-bit multiply rounds plus a call per element, in forward and again in
 * backward, ~14% of a char-LM training step. dropout_hash is 32-bit
 * arithmetic (two 32-bit multiplies: Wellons' "lowbias32" integer hash with
 * the key's high half folded in between its rounds, so blocks with different
 * keys are not shifted copies of one sequence): 16 lanes wide at AVX-512 (the
 * compiler vectorizes the body), 8 at AVX2 (intrinsics), scalar on the
 * portable level. Backward regenerates the mask rather than storing it: the
 * hash costs about 20 us per 100k elements at AVX-512 (docs/bench.md), so an
 * n/8-byte mask in the arena would save little, and the node keeps only the
 * RNG snapshot. */
static inline uint32_t dropout_hash(uint64_t key, uint32_t i) {
    uint32_t h = i + (uint32_t)key;
    h ^= h >> 16;
    h *= 0x7feb352dU;
    h ^= h >> 15;
    h ^= (uint32_t)(key >> 32);
    h *= 0x846ca68bU;
    h ^= h >> 16;
    return h;
}

#define DROP_ALWAYS static inline __attribute__((always_inline))

// y (len) (+)= keep ? x * scale : 0 for the elements i0 .. i0 + len - 1 of one
// 2^32 block (i0 its low 32 bits). One body for every ISA level: integer hash
// and one float multiply (no FMA: the build is ISO C, -ffp-contract=off), so
// each level gives bitwise the same values.
DROP_ALWAYS void dropout_body(float *restrict y, const float *restrict x, uint64_t key, uint32_t i0,
                              int64_t len, uint32_t t, float scale, int accumulate) {
    if (accumulate)
        for (int64_t k = 0; k < len; k++) {
            float v = x[k] * scale;
            y[k] += dropout_hash(key, i0 + (uint32_t)k) >= t ? v : 0.0f;
        }
    else
        for (int64_t k = 0; k < len; k++) {
            float v = x[k] * scale;
            y[k] = dropout_hash(key, i0 + (uint32_t)k) >= t ? v : 0.0f;
        }
}

typedef void (*dropout_span_fn)(float *, const float *, uint64_t, uint32_t, int64_t, uint32_t, float, int);

#define DROPOUT_LEVEL(SUF, ATTR)                                                                     \
    ATTR static void dropout_span_##SUF(float *y, const float *x, uint64_t key, uint32_t i0,         \
                                        int64_t len, uint32_t t, float scale, int acc) {             \
        dropout_body(y, x, key, i0, len, t, scale, acc);                                             \
    }
DROPOUT_LEVEL(portable, )
#if NT_ISA_X86
DROPOUT_LEVEL(avx512, NT_AVX512) /* GCC vectorizes the body 16 lanes wide here */

/* GCC leaves the body scalar for AVX2 (no unsigned compare), so written out:
 * dropout_hash on 8 lanes, keep = (max(h, t) == h), the same mul-then-add. */
NT_AVX2 static void dropout_span_avx2(float *y, const float *x, uint64_t key, uint32_t i0, int64_t len,
                                      uint32_t t, float scale, int acc) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i k1 = _mm256_set1_epi32((int)(uint32_t)(key >> 32));
    const __m256i m1 = _mm256_set1_epi32((int)0x7feb352dU), m2 = _mm256_set1_epi32((int)0x846ca68bU);
    const __m256i tv = _mm256_set1_epi32((int)t);
    const __m256 sv = _mm256_set1_ps(scale);
    int64_t k = 0;
    for (; k + 8 <= len; k += 8) {
        __m256i h = _mm256_add_epi32(_mm256_set1_epi32((int)(i0 + (uint32_t)k + (uint32_t)key)), lane);
        h = _mm256_xor_si256(h, _mm256_srli_epi32(h, 16));
        h = _mm256_mullo_epi32(h, m1);
        h = _mm256_xor_si256(h, _mm256_srli_epi32(h, 15));
        h = _mm256_xor_si256(h, k1);
        h = _mm256_mullo_epi32(h, m2);
        h = _mm256_xor_si256(h, _mm256_srli_epi32(h, 16));
        __m256 keep = _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_max_epu32(h, tv), h));
        __m256 v = _mm256_and_ps(keep, _mm256_mul_ps(_mm256_loadu_ps(x + k), sv));
        if (acc) v = _mm256_add_ps(_mm256_loadu_ps(y + k), v);
        _mm256_storeu_ps(y + k, v);
    }
    dropout_body(y + k, x + k, key, i0 + (uint32_t)k, len - k, t, scale, acc);
}
#endif

static dropout_span_fn dropout_span(void) {
#if NT_ISA_X86
    switch (nt_isa()) {
    case NT_ISA_AVX512: return dropout_span_avx512;
    case NT_ISA_AVX2: return dropout_span_avx2;
    default: break;
    }
#endif
    return dropout_span_portable;
}

/* floor(p * 2^32) for p in [0, 1): exact in double, below 2^32. */
static uint32_t dropout_threshold(float p) { return (uint32_t)((double)p * 4294967296.0); }

// y (n) (+)= keep_i ? x_i * scale : 0, the mask of the draws from `base` on
static void dropout_kernel(float *y, const float *x, const nt_rng *r, uint64_t base, float p,
                           float scale, int64_t n, int accumulate) {
    enum { CHUNK = 4096 }; /* divides 2^32: no chunk straddles two blocks */
    dropout_span_fn span = dropout_span();
    uint32_t t = dropout_threshold(p);
    int64_t chunks = (n + CHUNK - 1) / CHUNK;
#define DROPOUT_CHUNK(c)                                                                   \
    do {                                                                                   \
        int64_t i0 = (c) * CHUNK, len = n - i0 < CHUNK ? n - i0 : CHUNK;                   \
        uint64_t key = nt_rng_u64_at(r, base + (((uint64_t)i0 >> 32) << 32));              \
        span(y + i0, x + i0, key, (uint32_t)i0, len, t, scale, accumulate);                \
    } while (0)
    if (n <= PAR_MIN) { /* no parallel region at all (see binop_forward) */
        for (int64_t c = 0; c < chunks; c++) DROPOUT_CHUNK(c);
        return;
    }
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < chunks; c++) DROPOUT_CHUNK(c);
#undef DROPOUT_CHUNK
}

/* What nt_dropout keeps on its node. */
typedef struct {
    nt_rng *rng; /* the rng as it was (seed; counter = base of the mask) */
    float p;
    float scale; /* 1 / (1 - p) */
} dropout_args;

/* node: in[0] = x (n). dx += keep ? dy / (1 - p) : 0, the mask regenerated. */
static void dropout_backward_node(nt_ctx *ctx, nt_node *nd) {
    (void)ctx;
    nt_tensor *x = nd->in[0];
    if (!x->requires_grad) return;
    const dropout_args *a = NT_NODE_ARGS(nd, dropout_args);
    dropout_kernel(x->grad, nd->out->grad, a->rng, a->rng->counter, a->p, a->scale, x->n, 1);
}

nt_status nt_dropout(nt_ctx *ctx, nt_tensor **out, nt_tensor *x, float p) {
    NT_TRY(unary_check("nt_dropout", ctx, out, x));
    if (!(p >= 0.0f && p < 1.0f))
        return nt_error(NT_ERR_ARG, "nt_dropout: p = %g outside [0, 1)", (double)p);
    if (p == 0.0f || !nt_ctx_training(ctx)) {
        *out = x;
        return NT_OK;
    }
    nt_rng *rng = nt_ctx_rng(ctx);
    if (!rng)
        return nt_error(NT_ERR_STATE,
                        "nt_dropout: no RNG set on the context (nt_ctx_set_rng) with p = %g in training",
                        (double)p);
    nt_tensor *y;
    NT_TRY(new_like("nt_dropout", ctx, &y, x));
    nt_rng snap = *rng;
    snap.counter = nt_rng_skip(rng, (uint64_t)x->n);
    float scale = 1.0f / (1.0f - p);
    dropout_kernel(nt_f32(y), nt_f32(x), &snap, snap.counter, p, scale, x->n, 0);
    nt_status st;
    nt_node *nd = nt_tape_record(ctx, dropout_backward_node, "nt_dropout", y, 1, (nt_tensor *[]){x}, &st);
    if (st) return st;
    if (nd) {
        nt_rng *keep = nt_ctx_alloc(ctx, sizeof *keep);
        if (!keep) return nt_error_wrap(NT_ERR_NOMEM, "nt_dropout");
        *keep = snap;
        *NT_NODE_ARGS(nd, dropout_args) = (dropout_args){keep, p, scale};
    }
    *out = y;
    return NT_OK;
}
