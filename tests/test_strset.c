/* test_strset.c - core/strset.h: membership, insertion order, byte strings
 * that are not NUL-terminated, growth past many tables, and out of memory
 * leaving the set unchanged. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/strset.h"
#include "support/check.h"

static void test_basic(void) {
    nt_strset s = {0};
    CHECK(!nt_strset_has(&s, "a", 1), "empty set holds nothing");
    CHECK(nt_strset_add(&s, "word", 4) == 1, "add");
    CHECK(nt_strset_add(&s, "wordy", 4) == 0, "a prefix of a longer buffer is the same string");
    CHECK(nt_strset_add(&s, "wor", 3) == 1, "a prefix is another string");
    CHECK(nt_strset_add(&s, "", 0) == 1 && nt_strset_has(&s, "", 0), "the empty string");
    CHECK(nt_strset_has(&s, "word!", 4) && nt_strset_has(&s, "wor", 3) && !nt_strset_has(&s, "wo", 2), "has");
    CHECK(s.n == 3 && strcmp(s.items[0], "word") == 0 && strcmp(s.items[1], "wor") == 0 && s.items[2][0] == 0,
          "items in order: %d", s.n);
    nt_strset_free(&s);
    CHECK(s.n == 0 && !nt_strset_has(&s, "word", 4), "free leaves it empty");
    CHECK(nt_strset_add(&s, "again", 5) == 1 && s.n == 1, "reusable after free");
    nt_strset_free(&s);
    nt_strset_free(NULL);
}

static void test_many(void) {
    nt_strset s = {0};
    char buf[32];
    int ok = 1;
    for (int i = 0; i < 20000; i++) {
        int n = snprintf(buf, sizeof buf, "k%d", i);
        ok &= nt_strset_add(&s, buf, (size_t)n) == 1;
    }
    CHECK(ok && s.n == 20000, "20000 distinct strings added: %d", s.n);
    for (int i = 0; i < 20000; i += 7) {
        int n = snprintf(buf, sizeof buf, "k%d", i);
        ok &= nt_strset_has(&s, buf, (size_t)n) && nt_strset_add(&s, buf, (size_t)n) == 0 &&
              strcmp(s.items[i], buf) == 0;
    }
    CHECK(ok && s.n == 20000, "each found, at its place in the order, and not added twice");
    CHECK(!nt_strset_has(&s, "k20000", 6) && !nt_strset_has(&s, "k1", 1), "absent strings");
    CHECK(s.cap >= 2 * (size_t)s.n, "at most half full: cap %zu for %d", s.cap, s.n);
    nt_strset_free(&s);
}

static void test_nomem(void) {
    nt_strset s = {0};
    char buf[32];
    int fails = 0;
    for (int i = 0; i < 200; i++) {
        int n = snprintf(buf, sizeof buf, "w%d", i);
        nt_alloc_fail_after(1 + (uint64_t)(i % 3)); /* the table, the item array or the copy */
        int before = s.n, r = nt_strset_add(&s, buf, (size_t)n);
        nt_alloc_fail_after(0);
        if (r < 0) {
            fails++;
            CHECK(s.n == before && !nt_strset_has(&s, buf, (size_t)n), "%s: a failed add leaves the set as it was",
                  buf);
            CHECK(nt_strset_add(&s, buf, (size_t)n) == 1, "%s: added on retry", buf);
        }
    }
    CHECK(fails > 0 && s.n == 200, "failures seen: %d; all added in the end: %d", fails, s.n);
    for (int i = 0; i < 200; i++) {
        int n = snprintf(buf, sizeof buf, "w%d", i);
        CHECK(nt_strset_has(&s, buf, (size_t)n) && strcmp(s.items[i], buf) == 0, "%s after the failures", buf);
    }
    nt_strset_free(&s);
}

int main(void) {
    test_basic();
    test_many();
    test_nomem();
    return nt_check_report("test_strset");
}
