/* scratch.h - test support: a fresh folder under /tmp for the files a test
 * writes, removed at the end unless a check failed (kept to look at) or
 * NT_KEEP_TMP is set.
 *
 *     CHECK(nt_scratch_begin("nt_cli_lm"), "mkdtemp");   // /tmp/nt_cli_lm_XXXXXX
 *     const char *run = nt_scratch_path("run1");          // "<folder>/run1"
 *     ...
 *     nt_scratch_end();
 */
#ifndef NT_TEST_SCRATCH_H
#define NT_TEST_SCRATCH_H

#include <stddef.h>

/* The folder ("" before nt_scratch_begin). */
extern char nt_scratch[1024];

/* Creates /tmp/<prefix>_XXXXXX. Returns the folder, NULL on failure. */
const char *nt_scratch_begin(const char *prefix);

/* "<folder>/<name>" in one of 16 rotating buffers (valid for the next 15
 * calls); the _to form writes it into buf and returns buf. */
const char *nt_scratch_path(const char *name);
char *nt_scratch_path_to(char *buf, size_t cap, const char *name);

/* Removes the folder and what it holds, unless a CHECK failed or NT_KEEP_TMP
 * is set (then says where it is on stderr). */
void nt_scratch_end(void);

#endif
