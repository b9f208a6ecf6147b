/* schedule.h - learning-rate schedules: constant, warmup + cosine, warmup + 1/sqrt.
 *
 *     nt_schedule s = {.kind = NT_SCHEDULE_COSINE, .lr = 1e-3, .warmup = 100,
 *                      .total = 5000, .lr_min = 1e-5};
 *     NT_TRY(nt_schedule_check(&s));
 *     double lr = nt_schedule_lr(&s, step);   // step = 0 for the first update
 *
 * With s = step + 1 (the number of the update, 1-based) and w = warmup:
 *   warmup (every kind, when w > 0):  s <= w:  lr * s / w
 *   constant:                         lr
 *   cosine:   lr_min + (lr - lr_min) (1 + cos(pi p)) / 2,
 *             p = (s - w) / (total - w) clamped to [0, 1] (lr_min from s = total on)
 *   inv_sqrt: lr * sqrt(max(w, 1) / s)   (Vaswani et al. 2017, "noam", with
 *             the peak at lr instead of d_model^-0.5)
 * Each is continuous at s = w: the warmup ends at exactly lr.
 */
#ifndef NT_TRAIN_SCHEDULE_H
#define NT_TRAIN_SCHEDULE_H

#include <stdint.h>

#include "core/status.h"

typedef enum nt_schedule_kind {
    NT_SCHEDULE_CONSTANT = 0,
    NT_SCHEDULE_COSINE = 1,
    NT_SCHEDULE_INV_SQRT = 2,
} nt_schedule_kind;

typedef struct nt_schedule {
    nt_schedule_kind kind;
    double lr;       /* peak learning rate, >= 0 */
    int64_t warmup;  /* linear warmup updates, >= 0 */
    int64_t total;   /* cosine: update at which lr_min is reached (> warmup) */
    double lr_min;   /* cosine floor, in [0, lr] */
} nt_schedule;

/* "constant", "cosine", "inv_sqrt" (and back). The parser returns NT_ERR_ARG
 * naming the text and the choices; *out is untouched then. */
const char *nt_schedule_kind_name(nt_schedule_kind kind);
nt_status nt_schedule_kind_parse(const char *name, nt_schedule_kind *out);

/* NT_ERR_ARG naming the field ("cosine total 100 must exceed warmup 200"). */
nt_status nt_schedule_check(const nt_schedule *s);

/* Learning rate of update `step` (0-based). A step < 0 counts as 0. */
double nt_schedule_lr(const nt_schedule *s, int64_t step);

#endif
