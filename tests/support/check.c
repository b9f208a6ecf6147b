/* check.c - the test harness's counters and report. */
#include "support/check.h"

int nt_check_failures, nt_check_count;

int nt_check_report(const char *name) {
    printf("%s: %d passed, %d failed\n", name, nt_check_count - nt_check_failures, nt_check_failures);
    return nt_check_failures ? 1 : 0;
}
