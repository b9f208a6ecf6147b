/* schedule.c - learning-rate schedules (formulas in schedule.h). */
#include "train/schedule.h"

#include <math.h>
#include <string.h>

const char *nt_schedule_kind_name(nt_schedule_kind kind) {
    switch (kind) {
    case NT_SCHEDULE_CONSTANT: return "constant";
    case NT_SCHEDULE_COSINE: return "cosine";
    case NT_SCHEDULE_INV_SQRT: return "inv_sqrt";
    }
    return "?";
}

nt_status nt_schedule_kind_parse(const char *name, nt_schedule_kind *out) {
    if (!name || !out) return nt_error(NT_ERR_ARG, "nt_schedule_kind_parse: NULL argument");
    for (int k = NT_SCHEDULE_CONSTANT; k <= NT_SCHEDULE_INV_SQRT; k++)
        if (strcmp(name, nt_schedule_kind_name((nt_schedule_kind)k)) == 0) {
            *out = (nt_schedule_kind)k;
            return NT_OK;
        }
    return nt_error(NT_ERR_ARG, "unknown schedule '%s' (expected constant, cosine or inv_sqrt)",
                    name);
}

nt_status nt_schedule_check(const nt_schedule *s) {
    const char *fn = "nt_schedule_check";
    if (!s) return nt_error(NT_ERR_ARG, "%s: schedule is NULL", fn);
    if (s->kind < NT_SCHEDULE_CONSTANT || s->kind > NT_SCHEDULE_INV_SQRT)
        return nt_error(NT_ERR_ARG, "%s: unknown schedule kind %d", fn, (int)s->kind);
    if (!(s->lr >= 0.0) || !isfinite(s->lr))
        return nt_error(NT_ERR_ARG, "%s: lr %g must be finite and >= 0", fn, s->lr);
    if (s->warmup < 0)
        return nt_error(NT_ERR_ARG, "%s: warmup %lld must be >= 0", fn, (long long)s->warmup);
    if (s->kind == NT_SCHEDULE_COSINE) {
        if (s->total <= s->warmup)
            return nt_error(NT_ERR_ARG, "%s: cosine total %lld must exceed warmup %lld", fn,
                            (long long)s->total, (long long)s->warmup);
        if (!(s->lr_min >= 0.0 && s->lr_min <= s->lr))
            return nt_error(NT_ERR_ARG, "%s: lr_min %g not in [0, lr %g]", fn, s->lr_min,
                            s->lr);
    }
    return NT_OK;
}

double nt_schedule_lr(const nt_schedule *s, int64_t step) {
    if (!s) return 0.0;
    const double lr = s->lr, n = (double)(step < 0 ? 1 : step + 1), w = (double)s->warmup;
    if (s->warmup > 0 && n <= w) return (lr * n / w);
    switch (s->kind) {
    case NT_SCHEDULE_CONSTANT: return lr;
    case NT_SCHEDULE_COSINE: {
        double span = (double)(s->total - s->warmup);
        double p = span > 0 ? (n - w) / span : 1.0;
        if (p < 0) p = 0;
        if (p > 1) p = 1;
        return (s->lr_min + (lr - s->lr_min) * 0.5 * (1.0 + cos(M_PI * p)));
    }
    case NT_SCHEDULE_INV_SQRT: return (lr * sqrt((w > 1 ? w : 1) / n));
    }
    return lr;
}
