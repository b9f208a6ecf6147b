/* test_utf8.c - data/utf8: every code point round-trips through encode and
 * decode; overlong forms, surrogates, values above U+10FFFF, stray and
 * missing continuation bytes and sequences cut off by the length are
 * rejected at the right offset. */
#include <string.h>

#include "data/utf8.h"
#include "support/check.h"

static void test_round_trip(void) {
    int bad = 0;
    for (uint32_t c = 0; c <= 0x10FFFF; c++) {
        if (c >= 0xD800 && c <= 0xDFFF) continue;
        char b[4];
        size_t n = nt_utf8_encode(c, b), want = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
        uint32_t d = 0xFFFFFFFF;
        size_t m = nt_utf8_decode(b, n, &d);
        if (n != want || m != n || d != c || !nt_utf8_valid(b, n, NULL) || nt_utf8_decode(b, n - 1, &d) != 0) {
            if (bad++ < 5) CHECK(0, "U+%04X: encoded to %zu bytes (want %zu), decoded %zu bytes to U+%04X", (unsigned)c,
                                 n, want, m, (unsigned)d);
        }
    }
    CHECK(bad == 0, "%d code points failed the round trip", bad);
}

static void expect_bad(const char *s, size_t len, size_t at, const char *what) {
    size_t got = 12345;
    CHECK(!nt_utf8_valid(s, len, &got), "%s accepted", what);
    CHECK(got == at, "%s: bad at %zu, want %zu", what, got, at);
}

static void test_invalid(void) {
    uint32_t c = 7;
    CHECK(nt_utf8_decode("", 0, &c) == 0 && c == 7, "empty input");
    expect_bad("ab\xC0\xAF", 4, 2, "overlong 2-byte '/'");
    expect_bad("\xE0\x80\xAF", 3, 0, "overlong 3-byte");
    expect_bad("x\xF0\x80\x80\xAF", 5, 1, "overlong 4-byte");
    expect_bad("\xED\xA0\x80", 3, 0, "surrogate U+D800");
    expect_bad("ok\xF4\x90\x80\x80", 6, 2, "U+110000");
    expect_bad("\xF8\x88\x80\x80\x80", 5, 0, "5-byte form");
    expect_bad("a\x80", 2, 1, "stray continuation byte");
    expect_bad("\xC3" "a", 2, 0, "missing continuation byte");
    expect_bad("\xE2\x82", 2, 0, "cut off by the end");
    expect_bad("\xC3\xA9\xE2\x82\xAC", 4, 2, "cut off by len");
    CHECK(nt_utf8_valid("z\xC3\xA9ro \xE2\x82\xAC \xF0\x9F\x98\x80", 14, NULL), "mixed lengths");
    CHECK(nt_utf8_valid("a\0b", 3, NULL), "NUL is valid UTF-8");
    CHECK(nt_utf8_decode("\xF4\x8F\xBF\xBF", 4, &c) == 4 && c == 0x10FFFF, "U+10FFFF");
}

int main(void) {
    test_round_trip();
    test_invalid();
    return nt_check_report("test_utf8");
}
