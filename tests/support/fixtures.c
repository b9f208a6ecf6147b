/* fixtures.c - the path of a committed fixture. */
#include "support/fixtures.h"

#include <stdio.h>
#include <stdlib.h>

char *nt_fixture_path_to(char *buf, size_t cap, const char *name) {
    const char *dir = getenv("NT_FIXTURES");
    snprintf(buf, cap, "%s/%s", dir && *dir ? dir : "tests/fixtures", name);
    return buf;
}

const char *nt_fixture_path(const char *name) {
    static char buf[8][1200];
    static int k;
    k = (k + 1) % 8;
    return nt_fixture_path_to(buf[k], sizeof buf[k], name);
}
