/* test_schedule.c - learning-rate schedules at their key steps, argument errors. */
#include <math.h>
#include <string.h>

#include "support/check.h"
#include "train/schedule.h"

static void test_constant(void) {
    nt_schedule s = {.kind = NT_SCHEDULE_CONSTANT, .lr = 0.1};
    CHECK(nt_schedule_check(&s) == NT_OK, "%s", nt_errmsg());
    CHECK(nt_schedule_lr(&s, 0) == 0.1 && nt_schedule_lr(&s, 123456) == 0.1, "constant");
    s.warmup = 4; /* 0.025, 0.05, 0.075, 0.1, 0.1 ... */
    CHECK_CLOSE(nt_schedule_lr(&s, 0), 0.025, 1e-15, 0);
    CHECK_CLOSE(nt_schedule_lr(&s, 2), 0.075, 1e-15, 0);
    CHECK_CLOSE(nt_schedule_lr(&s, 3), 0.1, 1e-15, 0);
    CHECK_CLOSE(nt_schedule_lr(&s, 1000), 0.1, 1e-15, 0);
}

static void test_cosine(void) {
    nt_schedule s = {.kind = NT_SCHEDULE_COSINE, .lr = 1e-3, .warmup = 10, .total = 110, .lr_min = 1e-5};
    CHECK(nt_schedule_check(&s) == NT_OK, "%s", nt_errmsg());
    CHECK_CLOSE(nt_schedule_lr(&s, 0), 1e-4, 1e-15, 0);     /* update 1 of 10 warmup */
    CHECK_CLOSE(nt_schedule_lr(&s, 4), 5e-4, 1e-15, 0);
    CHECK_CLOSE(nt_schedule_lr(&s, 9), 1e-3, 1e-15, 0);     /* peak at the end of warmup */
    /* halfway through the decay (update 60): the mean of lr and lr_min */
    CHECK_CLOSE(nt_schedule_lr(&s, 59), (1e-3 + 1e-5) / 2, 1e-15, 0);
    /* a quarter (update 35): lr_min + (lr - lr_min) (1 + cos(pi/4)) / 2 */
    CHECK_CLOSE(nt_schedule_lr(&s, 34), 1e-5 + 0.99e-3 * (1 + sqrt(0.5)) / 2, 1e-15, 0);
    CHECK_CLOSE(nt_schedule_lr(&s, 109), 1e-5, 1e-15, 0);   /* update 110 = total */
    CHECK_CLOSE(nt_schedule_lr(&s, 5000), 1e-5, 1e-15, 0);  /* stays at the floor */
    /* monotone after the warmup */
    int mono = 1;
    for (int k = 10; k < 120; k++) mono &= nt_schedule_lr(&s, k) <= nt_schedule_lr(&s, k - 1);
    CHECK(mono, "cosine decreases after warmup");
    /* no warmup: the first update already decays a little from lr */
    s.warmup = 0;
    CHECK(nt_schedule_lr(&s, 0) < 1e-3 && nt_schedule_lr(&s, 0) > 0.999e-3, "no warmup");
}

static void test_inv_sqrt(void) {
    nt_schedule s = {.kind = NT_SCHEDULE_INV_SQRT, .lr = 2e-3, .warmup = 100};
    CHECK(nt_schedule_check(&s) == NT_OK, "%s", nt_errmsg());
    CHECK_CLOSE(nt_schedule_lr(&s, 49), 1e-3, 1e-15, 0);
    CHECK_CLOSE(nt_schedule_lr(&s, 99), 2e-3, 1e-15, 0);
    CHECK_CLOSE(nt_schedule_lr(&s, 399), 1e-3, 1e-15, 0);   /* 4x warmup: half */
    CHECK_CLOSE(nt_schedule_lr(&s, 9999), 2e-4, 1e-15, 0);  /* 100x: a tenth */
    s.warmup = 0;
    CHECK_CLOSE(nt_schedule_lr(&s, 0), 2e-3, 1e-15, 0);
    CHECK_CLOSE(nt_schedule_lr(&s, 3), 1e-3, 1e-15, 0);
}

static void test_errors(void) {
    nt_schedule s = {.kind = NT_SCHEDULE_COSINE, .lr = 1e-3, .warmup = 200, .total = 100};
    CHECK(nt_schedule_check(&s) == NT_ERR_ARG, "total <= warmup");
    CHECK(strstr(nt_errmsg(), "total 100 must exceed warmup 200") != NULL, "msg: %s", nt_errmsg());
    s.total = 1000, s.lr_min = 1.0;
    CHECK(nt_schedule_check(&s) == NT_ERR_ARG && strstr(nt_errmsg(), "lr_min 1"), "lr_min: %s",
          nt_errmsg());
    s.lr_min = 0, s.warmup = -1;
    CHECK(nt_schedule_check(&s) == NT_ERR_ARG && strstr(nt_errmsg(), "warmup -1"), "warmup");
    s.warmup = 0, s.lr = -1;
    CHECK(nt_schedule_check(&s) == NT_ERR_ARG && strstr(nt_errmsg(), "lr -1"), "lr");
    nt_schedule_kind k = NT_SCHEDULE_CONSTANT;
    CHECK(nt_schedule_kind_parse("linear", &k) == NT_ERR_ARG && k == NT_SCHEDULE_CONSTANT, "parse");
    CHECK(strstr(nt_errmsg(), "'linear'") != NULL, "msg: %s", nt_errmsg());
    CHECK(nt_schedule_kind_parse("inv_sqrt", &k) == NT_OK && k == NT_SCHEDULE_INV_SQRT, "parse ok");
    CHECK(strcmp(nt_schedule_kind_name(NT_SCHEDULE_COSINE), "cosine") == 0, "name");
}

int main(void) {
    test_constant();
    test_cosine();
    test_inv_sqrt();
    test_errors();
    return nt_check_report("test_schedule");
}
