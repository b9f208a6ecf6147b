/* test_vecmath.c - the kernel helpers of core/vecmath.h give bitwise the
 * results of the reference loops below (16 lanes in a fixed order, then a
 * halving tree) at every ISA level the CPU has (AVX-512, AVX2, portable,
 * forced with nt_isa_set), for every length 1..80 (all tail sizes), and on
 * inputs with zeros, negative zeros, huge, tiny, infinite and NaN values.
 * The bulk GELU / exp loops give bitwise the scalar functions' values at
 * every level; test_accuracy compares them with libm in double within
 * stated ulps (not against copies of the same loops). */
#include <float.h>
#include <math.h>
#include <string.h>

#include "core/isa.h"
#include "core/rng.h"
#include "core/vecmath.h"
#include "support/check.h"

#define L NT_VLANES

static float ref_sum(const float *x, int n) {
    float acc[L] = {0};
    int j = 0;
    for (; j + L <= n; j += L)
        for (int l = 0; l < L; l++) acc[l] += x[j + l];
    for (int l = 0; j + l < n; l++) acc[l] += x[j + l];
    for (int w = L / 2; w > 0; w /= 2)
        for (int l = 0; l < w; l++) acc[l] += acc[l + w];
    return acc[0];
}

static float ref_dot(const float *a, const float *b, int n) {
    float acc[L] = {0};
    int j = 0;
    for (; j + L <= n; j += L)
        for (int l = 0; l < L; l++) acc[l] += a[j + l] * b[j + l];
    for (int l = 0; j + l < n; l++) acc[l] += a[j + l] * b[j + l];
    for (int w = L / 2; w > 0; w /= 2)
        for (int l = 0; l < w; l++) acc[l] += acc[l + w];
    return acc[0];
}

static float ref_max(const float *x, int n) {
    float acc[L];
    for (int l = 0; l < L; l++) acc[l] = x[0];
    int j = 0;
    for (; j + L <= n; j += L)
        for (int l = 0; l < L; l++) acc[l] = x[j + l] > acc[l] ? x[j + l] : acc[l];
    for (int l = 0; j + l < n; l++) acc[l] = x[j + l] > acc[l] ? x[j + l] : acc[l];
    for (int w = L / 2; w > 0; w /= 2)
        for (int l = 0; l < w; l++) acc[l] = acc[l + w] > acc[l] ? acc[l + w] : acc[l];
    return acc[0];
}

static int same_bits(float a, float b) { return memcmp(&a, &b, sizeof a) == 0; }

/* one input pattern of length n: kind 0 normal values, 1 wide range and
 * specials, 2 logits-like (max-shifted, <= 0) */
static void fill(float *x, int n, int kind, nt_rng *r) {
    static const float specials[] = {0.0f, -0.0f, 1e30f, -1e30f, 1e-30f, INFINITY, -INFINITY, -100.0f, 90.0f};
    for (int j = 0; j < n; j++) {
        float v = nt_rng_normal(r);
        if (kind == 1 && nt_rng_uniform(r) < 0.3) v = specials[(int)(nt_rng_uniform(r) * 9) % 9];
        if (kind == 2) v = -fabsf(v) * 10.0f;
        x[j] = v;
    }
}

/* bulk loops vs the scalar functions, bitwise, every length 0..70 and an offset start */
static void test_bulk(nt_rng *r) {
    float x[80], dy[80], y[80], d[80], g[80];
    for (int kind = 0; kind < 3; kind++)
        for (int n = 0; n <= 70; n++) {
            fill(x, n + 1, kind, r);
            fill(dy, n + 1, 0, r);
            const float *xs = x + 1; /* unaligned start */
            y[n] = d[n] = g[n] = 777.0f;
            nt_vgelu(y, xs, n);
            for (int i = 0; i < n; i++)
                CHECK(same_bits(y[i], nt_gelu_f(xs[i])), "nt_vgelu kind %d n %d i %d: %g vs %g", kind, n, i,
                      (double)y[i], (double)nt_gelu_f(xs[i]));
            for (int acc = 0; acc < 2; acc++) {
                for (int i = 0; i < n; i++) d[i] = 0.25f * (float)i;
                nt_vgelu_grad(d, dy, xs, n, acc);
                for (int i = 0; i < n; i++) {
                    float want = dy[i] * nt_gelu_grad_f(xs[i]);
                    if (acc) want = 0.25f * (float)i + want;
                    CHECK(same_bits(d[i], want), "nt_vgelu_grad acc %d kind %d n %d i %d", acc, kind, n, i);
                }
                for (int i = 0; i < n; i++) d[i] = 0.5f * (float)i;
                nt_vexp_affine(d, xs, n, 0.75f, 1.5f, 0.125f, acc);
                for (int i = 0; i < n; i++) {
                    float want = 1.5f * (nt_expf(xs[i] - 0.75f) - 0.125f);
                    if (acc) want = 0.5f * (float)i + want;
                    CHECK(same_bits(d[i], want), "nt_vexp_affine acc %d kind %d n %d i %d", acc, kind, n, i);
                }
            }
            nt_vgelu_both(g, d, xs, n);
            for (int i = 0; i < n; i++) {
                float gw, dw;
                nt_gelu_both(&gw, &dw, xs[i]);
                CHECK(same_bits(g[i], gw) && same_bits(d[i], dw), "nt_vgelu_both kind %d n %d i %d", kind, n, i);
            }
            CHECK(y[n] == 777.0f && g[n] == 777.0f, "bulk loops wrote past n = %d", n);
        }
}

/* ---- accuracy against libm in double (not against copies of the same loops) ----
 * Stated bounds: nt_expf within 2 ulp of exp() over [-87, 88) (measured
 * 1.0); gelu within 2 ulp + 1e-7 of the tanh form in double, gelu' within
 * 4e-7 (measured 1 ulp, 2e-7); the reductions within the worst-case float
 * summation bound n * 2^-24 * sum |terms| of the double-precision sum. */

static double ulps(float got, double want) {
    int e;
    frexp(want, &e);
    return fabs((double)got - want) / ldexp(1.0, e - 24);
}

static void test_accuracy(void) {
    double worst = 0, worst_x = 0;
    for (int i = 0; i < 1000000; i++) {
        float x = -87.0f + 175.0f * (float)i / 1e6f;
        double u = ulps(nt_expf(x), exp((double)x));
        if (u > worst) worst = u, worst_x = x;
    }
    const float edge[] = {0.0f, -0.0f, 1e-8f, -1e-8f, 1.0f, -1.0f, 0.5f, 88.0f - 1e-5f, -86.999f, 0.6931472f};
    for (size_t i = 0; i < sizeof edge / sizeof *edge; i++) {
        double u = ulps(nt_expf(edge[i]), exp((double)edge[i]));
        if (u > worst) worst = u, worst_x = edge[i];
    }
    CHECK(worst <= 2.0, "nt_expf: %.3f ulp from exp at x = %g (bound 2)", worst, worst_x);
    CHECK(nt_expf(-100.0f) == 0.0f && nt_expf(-INFINITY) == 0.0f && isnan(nt_expf(NAN)), "nt_expf specials");
    printf("nt_expf: worst %.3f ulp over [-87, 88) (bound 2)\n", worst);

    double k = sqrt(2.0 / 3.14159265358979323846), c = 0.044715, gw = 0, dw = 0;
    for (int i = 0; i <= 200000; i++) {
        float x = -10.0f + 20.0f * (float)i / 200000.0f;
        double u = k * ((double)x + c * (double)x * x * x), t = tanh(u);
        double g = 0.5 * x * (1.0 + t), d = 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * k * (1.0 + 3.0 * c * (double)x * x);
        int e;
        frexp(g, &e);
        double ge = fabs((double)nt_gelu_f(x) - g) / (2.0 * ldexp(1.0, e - 24) + 1e-7);
        double de = fabs((double)nt_gelu_grad_f(x) - d) / 4e-7;
        if (ge > gw) gw = ge;
        if (de > dw) dw = de;
    }
    CHECK(gw <= 1.0, "nt_gelu_f: %.3g of its bound (2 ulp + 1e-7)", gw);
    CHECK(dw <= 1.0, "nt_gelu_grad_f: %.3g of its bound (4e-7)", dw);

    nt_rng r;
    nt_rng_seed(&r, 17);
    float x[1000], y[1000];
    for (int n = 1; n <= 1000; n += 37) {
        double s = 0, sa = 0, d = 0, da = 0, se = 0;
        float m = -INFINITY;
        for (int j = 0; j < n; j++) {
            x[j] = nt_rng_normal(&r) * 3.0f, y[j] = nt_rng_normal(&r);
            s += x[j], sa += fabs(x[j]), d += (double)x[j] * y[j], da += fabs((double)x[j] * y[j]);
            m = x[j] > m ? x[j] : m;
        }
        for (int j = 0; j < n; j++) se += exp((double)x[j] - m);
        double bound = n * ldexp(1.0, -24);
        CHECK(fabs(nt_vsum(x, n) - s) <= bound * sa, "nt_vsum n %d: off by %g", n, fabs(nt_vsum(x, n) - s));
        CHECK(fabs(nt_vdot(x, y, n) - d) <= bound * da, "nt_vdot n %d", n);
        CHECK(fabs(nt_vsumexp(x, n, m) - se) <= (bound + 3 * ldexp(1.0, -24)) * se, "nt_vsumexp n %d", n);
        CHECK(nt_vmax(x, n) == m, "nt_vmax n %d", n);
    }
}

static void run_level(void) {
    nt_rng r;
    nt_rng_seed(&r, 3);
    float x[96], y[96], e[96];
    for (int kind = 0; kind < 3; kind++)
        for (int n = 1; n <= 80; n++)
            for (int rep = 0; rep < 4; rep++) {
                fill(x, n, kind, &r);
                fill(y, n, 0, &r);
                CHECK(same_bits(nt_vsum(x, n), ref_sum(x, n)), "nt_vsum kind %d n %d", kind, n);
                CHECK(same_bits(nt_vdot(x, y, n), ref_dot(x, y, n)), "nt_vdot kind %d n %d", kind, n);
                CHECK(same_bits(nt_vmax(x, n), ref_max(x, n)), "nt_vmax kind %d n %d", kind, n);
                float mu = ref_sum(x, n) / (float)n, dev[96];
                for (int j = 0; j < n; j++) dev[j] = x[j] - mu;
                CHECK(same_bits(nt_vsqdev(x, n, mu), ref_dot(dev, dev, n)), "nt_vsqdev kind %d n %d", kind, n);
                float m = kind == 1 ? 0.5f : ref_max(x, n);
                float re[96];
                for (int j = 0; j < n; j++) re[j] = nt_expf(x[j] - m);
                CHECK(same_bits(nt_vsumexp(x, n, m), ref_sum(re, n)), "nt_vsumexp kind %d n %d", kind, n);
                e[n] = 12345.0f; /* past the end: untouched */
                float s = nt_vexp_sum(e, x, n, m);
                CHECK(same_bits(s, ref_sum(re, n)), "nt_vexp_sum sum kind %d n %d", kind, n);
                for (int j = 0; j < n; j++)
                    CHECK(same_bits(e[j], re[j]), "nt_vexp_sum y[%d] kind %d n %d: %g vs %g", j, kind, n,
                          (double)e[j], (double)re[j]);
                CHECK(e[n] == 12345.0f, "nt_vexp_sum wrote past n = %d", n);
            }
    /* a NaN in: NaN out of exp; nt_vmax skips NaN lanes like the reference */
    float nanv[20];
    for (int j = 0; j < 20; j++) nanv[j] = (float)j;
    nanv[5] = NAN;
    CHECK(same_bits(nt_vmax(nanv, 20), ref_max(nanv, 20)), "nt_vmax with a NaN");
    float out[20];
    nt_vexp_sum(out, nanv, 20, 19.0f);
    CHECK(isnan(out[5]), "exp(NaN) is NaN");
    CHECK(out[19] == 1.0f, "exp(0) is 1");
    test_bulk(&r);
    test_accuracy();
}

int main(void) {
    nt_isa_level top = nt_isa();
    for (int l = (int)top; l >= NT_ISA_PORTABLE; l--) {
        int before = nt_check_failures;
        CHECK(nt_isa_set((nt_isa_level)l) == (nt_isa_level)l, "nt_isa_set(%d)", l);
        run_level();
        printf("level %s: %s\n", nt_isa_name((nt_isa_level)l), nt_check_failures == before ? "ok" : "FAILED");
    }
    nt_isa_set(top);
    return nt_check_report("test_vecmath");
}
