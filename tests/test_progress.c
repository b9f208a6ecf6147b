/* test_progress.c - the progress bar line (train/progress.h): it fits every
 * width, keeps the percentage and ETA longest, and says what it should. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support/check.h"
#include "train/progress.h"

int main(void) {
    nt_progress_info p = {.step = 1234, .total_steps = 5000, .elapsed = 60, .budget = 600, .eta = 180,
                          .loss = 0.1234, .lr = 1.2e-3, .tok_s = 55200};
    char line[512];
    /* wide: everything, the bar at most 50 cells */
    size_t n = nt_progress_format(&p, 200, line, sizeof line);
    CHECK(n == strlen(line) && n <= 199, "length %zu", n);
    CHECK(line[0] == '[' && strstr(line, " 24%") && strstr(line, "ETA 3m00s") && strstr(line, "loss 0.1234") &&
              strstr(line, "lr 1.20e-03") && strstr(line, "55.2k tok/s") && strstr(line, "step 1234/5000"),
          "wide: %s", line);
    int hashes = 0, dashes = 0;
    for (const char *c = line + 1; *c && *c != ']'; c++) hashes += *c == '#', dashes += *c == '-';
    CHECK(hashes + dashes == 50 && hashes == 12, "bar of 50: %d full of %d", hashes, hashes + dashes);
    /* every width from 1 to 200 fits in width - 1 columns; 50 columns and up keep the bar */
    for (int w = 1; w <= 200; w++) {
        n = nt_progress_format(&p, w, line, sizeof line);
        CHECK((int)n <= (w > 1 ? w - 1 : 0) && n == strlen(line), "width %d: %zu columns: %s", w, n, line);
        if (w >= 12) CHECK(strstr(line, "24%") != NULL, "width %d keeps the percentage: %s", w, line);
        if (w >= 20) CHECK(strstr(line, "ETA") != NULL, "width %d keeps the ETA: %s", w, line);
        if (w >= 41) CHECK(line[0] == '[', "width %d has a bar: %s", w, line);
        if (w >= 80) CHECK(strstr(line, "loss") && strstr(line, "lr ") && strstr(line, "tok/s"), "width %d: %s", w, line);
    }
    /* the time budget runs out first: the fraction follows the clock */
    p.budget = 100, p.elapsed = 90;
    nt_progress_format(&p, 120, line, sizeof line);
    CHECK(strstr(line, " 90%") != NULL, "time budget: %s", line);
    /* time budget only, unknown ETA, at the end */
    nt_progress_info q = {.step = 77, .elapsed = 600, .budget = 600, .eta = INFINITY, .loss = 1, .lr = 1e-4, .tok_s = 2e6};
    nt_progress_format(&q, 100, line, sizeof line);
    CHECK(strstr(line, "100%") && strstr(line, "ETA ?") && strstr(line, "2.0M tok/s") && strstr(line, "step 77") &&
              !strstr(line, "step 77/"),
          "time only: %s", line);
    /* a small buffer bounds the line */
    char small[16];
    n = nt_progress_format(&p, 200, small, sizeof small);
    CHECK(n < sizeof small && strlen(small) == n, "small buffer: %zu", n);
    /* the width: $COLUMNS when fd is not a terminal */
    setenv("COLUMNS", "57", 1);
    CHECK(nt_progress_width(-1) == 57, "COLUMNS");
    unsetenv("COLUMNS");
    CHECK(nt_progress_width(-1) == 80, "default 80");
    return nt_check_report("test_progress");
}
