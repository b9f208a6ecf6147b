/* progress.h - the training progress bar: one line that fits the terminal.
 *
 *     nt_progress_info p = {.step = 1234, .total_steps = 5000, .elapsed = 61, .budget = 600,
 *                           .eta = 180, .loss = 0.1234, .lr = 1.2e-3, .tok_s = 55200};
 *     char line[512];
 *     nt_progress_format(&p, nt_progress_width(fileno(stderr)), line, sizeof line);
 *     fprintf(stderr, "\r%s\033[K", line);
 *     // [#########--------------------------]  25% | ETA 3m00s | loss 0.1234 | lr 1.20e-03 | 55.2k tok/s | step 1234/5000
 *
 * The fraction done is the larger of step / total_steps and elapsed / budget
 * (whichever budget ends first). Narrow terminals lose the least needed
 * fields first (step, tok/s, lr, loss), then the bar shrinks and goes; the
 * percentage and ETA stay. Pure: nothing printed, nothing read but the width.
 */
#ifndef NT_TRAIN_PROGRESS_H
#define NT_TRAIN_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

typedef struct nt_progress_info {
    int64_t step;         /* updates done */
    int64_t total_steps;  /* step budget, 0 = none */
    double elapsed;       /* seconds trained */
    double budget;        /* time budget in seconds, 0 = none */
    double eta;           /* seconds left, INFINITY or < 0 if unknown */
    double loss, lr, tok_s;
} nt_progress_info;

/* Writes the line for a terminal `width` columns wide into buf (always
 * NUL-terminated): at most width - 1 columns, so that the cursor never wraps.
 * Returns its length in bytes (ASCII only: bytes = columns). */
size_t nt_progress_format(const nt_progress_info *p, int width, char *buf, size_t cap);

/* The width of the terminal on fd (TIOCGWINSZ), else $COLUMNS, else 80. */
int nt_progress_width(int fd);

#endif
