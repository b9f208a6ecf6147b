/* check.h - tiny test harness: CHECK records a failure and goes on; a test's
 * main returns nt_check_report(), which is non-zero on any failure. */
#ifndef NT_TEST_CHECK_H
#define NT_TEST_CHECK_H

#include <math.h>
#include <stdio.h>

extern int nt_check_failures, nt_check_count;

#define CHECK(cond, ...)                                                          \
    do {                                                                          \
        nt_check_count++;                                                         \
        if (!(cond)) {                                                            \
            nt_check_failures++;                                                  \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);       \
            fprintf(stderr, __VA_ARGS__);                                         \
            fprintf(stderr, "\n");                                                \
        }                                                                         \
    } while (0)

/* |a - b| <= atol + rtol * |b| */
#define CHECK_CLOSE(a, b, atol, rtol)                                             \
    CHECK(fabs((double)(a) - (double)(b)) <= (atol) + (rtol) * fabs((double)(b)), \
          "%s = %.9g, expected %.9g", #a, (double)(a), (double)(b))

/* Prints "N passed, N failed" and returns the process exit status. */
int nt_check_report(const char *name);

#endif
