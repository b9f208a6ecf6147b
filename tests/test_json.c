/* test_json.c - the one JSON reader and writer (train/json.h): escaping,
 * non-finite numbers, exact 64-bit integers, buffer limits, parse errors;
 * and the trainer's options round trip through it. */
#include <math.h>
#include <string.h>

#include "support/check.h"
#include "train/json.h"
#include "train/trainer.h"

static void test_write_read(void) {
    char buf[512];
    nt_json w = nt_json_buffer(buf, sizeof buf);
    nt_json_begin(&w);
    nt_json_str(&w, "s", "a\"b\\c\nd\te\x01 é");
    nt_json_int(&w, "i", -9007199254740993LL);
    nt_json_u64(&w, "u", 18446744073709551615ULL);
    nt_json_num(&w, "d", 0.1);
    nt_json_num(&w, "nan", NAN);
    nt_json_num(&w, "inf", -INFINITY);
    nt_json_flt(&w, "f", 1.25);
    nt_json_bool(&w, "b", 1);
    nt_json_end(&w);
    CHECK(w.len < sizeof buf && strlen(buf) == w.len, "fits: %zu", w.len);
    CHECK(strstr(buf, "\"s\":\"a\\\"b\\\\c\\nd\\te\\u0001 é\"") != NULL, "escaped: %s", buf);
    CHECK(strstr(buf, "\"nan\":NaN") && strstr(buf, "\"inf\":-Infinity"), "non-finite: %s", buf);
    nt_json_field f[16];
    int nf;
    long col;
    const char *err = nt_json_parse_flat(buf, f, 16, &nf, &col);
    CHECK(!err && nf == 8, "parse: %s at %ld (%d fields)", err ? err : "", col, nf);
    const nt_json_field *s = nt_json_find(f, nf, "s");
    CHECK(s && s->str && strcmp(s->str, "a\"b\\c\nd\te\x01 é") == 0, "string round trip");
    int64_t i = 0;
    uint64_t u = 0;
    CHECK(nt_json_get_i64(nt_json_find(f, nf, "i"), &i) == 0 && i == -9007199254740993LL, "int64 exact");
    CHECK(nt_json_get_u64(nt_json_find(f, nf, "u"), &u) == 0 && u == 18446744073709551615ULL, "uint64 exact");
    CHECK(nt_json_find(f, nf, "d")->num == 0.1, "double bitwise");
    CHECK(isnan(nt_json_find(f, nf, "nan")->num) && nt_json_find(f, nf, "inf")->num == -INFINITY, "NaN, -Inf");
    CHECK(nt_json_get_i64(nt_json_find(f, nf, "d"), &i) == -1, "a fraction is not an integer");
    CHECK(nt_json_find(f, nf, "b")->literal == 1, "true");

    /* a small buffer: the length needed, a NUL-terminated prefix */
    char small[8];
    w = nt_json_buffer(small, sizeof small);
    nt_json_begin(&w), nt_json_str(&w, "key", "value"), nt_json_end(&w);
    CHECK(w.len == strlen("{\"key\":\"value\"}") && strlen(small) == 7, "needs %zu", w.len);

    const char *bad[][2] = {{"{\"a\" 1}", "expected ':'"}, {"{\"a\":[1]}", "nested"},
                            {"{\"a\":1,}", "expected a string key"}, {"{\"a\":01}", "expected ','"},
                            {"{\"a\":\"x}", "unterminated"}, {"{} x", "text after"}};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        char t[64];
        snprintf(t, sizeof t, "%s", bad[k][0]);
        err = nt_json_parse_flat(t, f, 16, &nf, &col);
        CHECK(err && strstr(err, bad[k][1]), "'%s': %s", bad[k][0], err ? err : "accepted");
    }
}

static void test_trainer_options(void) {
    nt_trainer_config c = nt_trainer_config_default(), back = nt_trainer_config_default();
    c.seed = 18446744073709551557ULL; /* above 2^53: a double would round it */
    c.lr = 3e-4 / 7, c.label_smoothing = 0.123456789f, c.steps = 1234567;
    snprintf(c.out_dir, sizeof c.out_dir, "runs/\"quoted\" \\ dir");
    snprintf(c.extra, sizeof c.extra, "{\"block_size\":64}");
    c.optim = NT_OPTIM_SGD, c.metric = NT_TRAINER_METRIC_EXACT_MATCH;
    char buf[NT_TRAIN_OPTIONS_MAX];
    CHECK(nt_trainer_config_to_json(&c, buf, sizeof buf) == NT_OK, "%s", nt_errmsg());
    CHECK(nt_trainer_config_from_json(&back, buf) == NT_OK, "%s", nt_errmsg());
    CHECK(back.seed == c.seed && back.lr == c.lr && back.label_smoothing == c.label_smoothing &&
              back.steps == c.steps && back.optim == c.optim && back.metric == c.metric,
          "values round trip");
    CHECK(strcmp(back.out_dir, c.out_dir) == 0 && strcmp(back.extra, c.extra) == 0, "strings round trip");
    CHECK(nt_trainer_config_from_json(&back, "{\"nope\":1}") == NT_ERR_FORMAT && strstr(nt_errmsg(), "nope"),
          "unknown key named: %s", nt_errmsg());
    CHECK(nt_trainer_config_from_json(&back, "{\"steps\":1.5}") == NT_ERR_FORMAT, "fraction for an integer");
    CHECK(nt_trainer_config_from_json(&back, "{\"lr\":\"x\"}") == NT_ERR_FORMAT, "string for a number");
    CHECK(nt_trainer_config_to_json(&c, buf, 40) == NT_ERR_ARG, "small buffer refused");
}

int main(void) {
    test_write_read();
    test_trainer_options();
    return nt_check_report("test_json");
}
