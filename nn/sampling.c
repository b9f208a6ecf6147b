/* sampling.c - logits processors (repetition penalty, n-gram ban, temperature,
 * top-k, top-p) and the inverse-CDF sampler. One row of V logits at a time. */
#include "nn/sampling.h"

#include <math.h>
#include <stdlib.h>

#include "core/isa.h"

#if NT_ISA_X86
#include <immintrin.h>
#endif

typedef struct logit_pair {
    float v;
    int32_t id;
} logit_pair;

size_t nt_sampling_scratch_bytes(int V) { return (size_t)(V > 0 ? V : 1) * sizeof(logit_pair); }

/* Descending by value, then ascending by id: a total order, so the sort is
 * deterministic whatever qsort's algorithm. -inf sorts last. */
static int pair_cmp(const void *pa, const void *pb) {
    const logit_pair *a = pa, *b = pb;
    if (a->v > b->v) return -1;
    if (a->v < b->v) return 1;
    return (a->id > b->id) - (a->id < b->id);
}

/* The logits sorted into scratch, most probable first. */
static logit_pair *sort_logits(const float *x, int V, void *scratch) {
    logit_pair *p = scratch;
    for (int i = 0; i < V; i++) {
        p[i].v = isnan(x[i]) ? -INFINITY : x[i];
        p[i].id = i;
    }
    qsort(p, (size_t)V, sizeof *p, pair_cmp);
    return p;
}

/* The first i with x[i] > every earlier value, starting from -inf: NaN never
 * wins, -inf only if nothing else is there (then -1). With AVX-512 or AVX2
 * (core/isa.h): the largest ordered value first (16 or 8 lanes, NaN lanes
 * left out), then the first index holding it; the same answer at every
 * level (a max is exact; -0 and +0 compare equal in both forms). */
#if NT_ISA_X86
NT_AVX512 static int argmax_avx512(const float *x, int V) {
    __m512 mx = _mm512_set1_ps(-INFINITY);
    int i = 0;
    for (; i + 16 <= V; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        mx = _mm512_mask_max_ps(mx, _mm512_cmp_ps_mask(v, v, _CMP_ORD_Q), mx, v);
    }
    float bv = _mm512_reduce_max_ps(mx);
    for (; i < V; i++)
        if (x[i] > bv) bv = x[i];
    if (bv == -INFINITY) return -1;
    __m512 b = _mm512_set1_ps(bv);
    for (i = 0; i + 16 <= V; i += 16) {
        __mmask16 eq = _mm512_cmp_ps_mask(_mm512_loadu_ps(x + i), b, _CMP_EQ_OQ);
        if (eq) return i + __builtin_ctz((unsigned)eq);
    }
    for (; i < V; i++)
        if (x[i] == bv) return i;
    return -1; /* not reached */
}

NT_AVX2 static int argmax_avx2(const float *x, int V) {
    __m256 mx = _mm256_set1_ps(-INFINITY);
    int i = 0;
    for (; i + 8 <= V; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        /* maxps returns its second operand when either is NaN: mx stays */
        mx = _mm256_max_ps(v, mx);
    }
    float lanes[8], bv = -INFINITY;
    _mm256_storeu_ps(lanes, mx);
    for (int l = 0; l < 8; l++)
        if (lanes[l] > bv) bv = lanes[l];
    for (; i < V; i++)
        if (x[i] > bv) bv = x[i];
    if (bv == -INFINITY) return -1;
    __m256 b = _mm256_set1_ps(bv);
    for (i = 0; i + 8 <= V; i += 8) {
        int eq = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(x + i), b, _CMP_EQ_OQ));
        if (eq) return i + __builtin_ctz((unsigned)eq);
    }
    for (; i < V; i++)
        if (x[i] == bv) return i;
    return -1; /* not reached */
}
#endif

int nt_sampling_argmax(const float *x, int V) {
#if NT_ISA_X86
    switch (nt_isa()) {
    case NT_ISA_AVX512: return argmax_avx512(x, V);
    case NT_ISA_AVX2: return argmax_avx2(x, V);
    default: break;
    }
#endif
    int best = -1;
    float bv = -INFINITY;
    for (int i = 0; i < V; i++)
        if (x[i] > bv) {
            bv = x[i];
            best = i;
        }
    return best;
}

double nt_sampling_logsumexp(const float *x, int V) {
    int a = nt_sampling_argmax(x, V);
    if (a < 0) return -INFINITY;
    double mx = x[a], s = 0;
    for (int i = 0; i < V; i++) s += exp((double)x[i] - mx);
    return mx + log(s);
}

void nt_sampling_repetition_penalty(float *x, int V, const int32_t *prev, int n_prev, float penalty) {
    if (penalty == 1.0f) return;
    for (int i = 0; i < n_prev; i++) {
        int32_t t = prev[i];
        if (t < 0 || t >= V) continue;
        int seen = 0; /* penalise each distinct token once */
        for (int j = 0; j < i && !seen; j++) seen = prev[j] == t;
        if (seen) continue;
        x[t] = x[t] > 0 ? x[t] / penalty : x[t] * penalty;
    }
}

void nt_sampling_no_repeat_ngram(float *x, int V, const int32_t *seq, int len, int ngram) {
    if (ngram <= 0 || len < ngram - 1) return;
    /* The n-1 most recent tokens; every earlier occurrence of them bans the token
     * that followed it. */
    const int32_t *tail = seq + len - (ngram - 1);
    for (int i = 0; i + ngram - 1 < len; i++) {
        int match = 1;
        for (int j = 0; j < ngram - 1 && match; j++) match = seq[i + j] == tail[j];
        if (!match) continue;
        int32_t t = seq[i + ngram - 1];
        if (t >= 0 && t < V) x[t] = -INFINITY;
    }
}

void nt_sampling_temperature(float *x, int V, float temperature) {
    if (temperature == 1.0f) return;
    for (int i = 0; i < V; i++) x[i] /= temperature;
}

void nt_sampling_top_k(float *x, int V, int k, void *scratch) {
    if (k <= 0 || k >= V) return;
    logit_pair *p = sort_logits(x, V, scratch);
    for (int i = k; i < V; i++) x[p[i].id] = -INFINITY;
}

void nt_sampling_top_p(float *x, int V, float p, void *scratch) {
    if (p >= 1.0f) return;
    logit_pair *s = sort_logits(x, V, scratch);
    if (s[0].v == -INFINITY) return;
    double mx = s[0].v, total = 0;
    for (int i = 0; i < V; i++) total += exp((double)s[i].v - mx);
    /* Keep token i (in order) while the mass before it is still short of p. */
    double before = 0;
    int keep = 0;
    while (keep < V && (keep == 0 || before < (double)p - 1e-6)) {
        before += exp((double)s[keep].v - mx) / total;
        keep++;
    }
    for (int i = keep; i < V; i++) x[s[i].id] = -INFINITY;
}

int nt_sampling_draw(const float *x, int V, double u) {
    int a = nt_sampling_argmax(x, V);
    if (a < 0) return -1;
    double mx = x[a], total = 0;
    for (int i = 0; i < V; i++) total += exp((double)x[i] - mx);
    double target = u * total, cum = 0;
    int last = a;
    for (int i = 0; i < V; i++) {
        double e = exp((double)x[i] - mx);
        if (e <= 0) continue;
        cum += e;
        last = i;
        if (cum > target) return i;
    }
    return last; /* u * total rounded up to the very end */
}
