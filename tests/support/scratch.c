/* scratch.c - a test's temporary folder. */
#include "scratch.h"

#include <stdio.h>
#include <stdlib.h>

#include "check.h"

char nt_scratch[1024];

const char *nt_scratch_begin(const char *prefix) {
    snprintf(nt_scratch, sizeof nt_scratch, "/tmp/%s_XXXXXX", prefix);
    if (!mkdtemp(nt_scratch)) {
        nt_scratch[0] = 0;
        return NULL;
    }
    return nt_scratch;
}

char *nt_scratch_path_to(char *buf, size_t cap, const char *name) {
    snprintf(buf, cap, "%s/%s", nt_scratch, name);
    return buf;
}

const char *nt_scratch_path(const char *name) {
    static char buf[16][1200];
    static int k;
    k = (k + 1) % 16;
    return nt_scratch_path_to(buf[k], sizeof buf[k], name);
}

void nt_scratch_end(void) {
    if (!nt_scratch[0]) return;
    if (nt_check_failures > 0 || getenv("NT_KEEP_TMP")) {
        fprintf(stderr, "kept %s\n", nt_scratch);
        return;
    }
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", nt_scratch);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", nt_scratch);
    nt_scratch[0] = 0;
}
