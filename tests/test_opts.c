/* test_opts.c - the table-driven option parser (core/opts.h): every kind,
 * ranges, missing values, unknown flags, required flags, positionals,
 * included tables, and the --help text generated from the table. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/opts.h"
#include "support/check.h"

static char err_text[4096];

/* Runs nt_opts_parse on the NULL-terminated args with stderr captured into err_text. */
static int parse(nt_opts *cmd, const char *const *args) {
    char *argv[32];
    int argc = 0;
    for (; args[argc]; argc++) argv[argc] = (char *)args[argc];
    argv[argc] = NULL;
    fflush(stderr);
    FILE *tmp = tmpfile();
    int saved = dup(2);
    dup2(fileno(tmp), 2);
    int rc = nt_opts_parse(cmd, argc, argv);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    size_t n = fread(err_text, 1, sizeof err_text - 1, tmp);
    err_text[n] = 0;
    fclose(tmp);
    return rc;
}

/* The destinations of the test table, reset to their defaults. */
static struct {
    long n;
    int small, flag, mode, count;
    int64_t big;
    uint64_t seed;
    double x;
    float f;
    const char *s, *list[3], *pos[2];
    char chars[8];
} d;

static nt_opt shared[] = {
    {"--x", NT_OPT_DOUBLE, &d.x, -1, 1, .help = "a number"},
    {"--f", NT_OPT_FLOAT, &d.f, 0, 10, .help = "a float"},
    {0}};

static nt_opt table[] = {
    {"--n", NT_OPT_INT, &d.n, 1, 100, .help = "an integer", .word = "all", .word_value = -1},
    {"--small", NT_OPT_INT, &d.small, 0, 5, .small = 1, .help = "a small int"},
    {"--big", NT_OPT_INT64, &d.big, 0, 1e12, .help = "a big integer"},
    {"--seed", NT_OPT_U64, &d.seed, .help = "a seed"},
    {"--flag", NT_OPT_FLAG, &d.flag, .help = "a flag"},
    {"--mode", NT_OPT_ENUM, &d.mode, .choices = "auto|bar|off", .values = (const int[]){-1, 1, -2}, .help = "a mode"},
    {"--s", NT_OPT_STRING, &d.s, .arg = "F", .required = 1, .help = "a required string"},
    {"--chars", NT_OPT_CHARS, d.chars, 0, 8, .help = "at most 7 bytes"},
    {"--list", NT_OPT_LIST, d.list, 0, 3, .count = &d.count, .help = "repeatable"},
    {"--hidden", NT_OPT_FLAG, &d.flag, .help = NULL},
    {.kind = NT_OPT_GROUP, .help = "shared options:", .dest = shared},
    {0}};

static nt_opts cmd = {.prog = "prog sub", .usage = "usage: prog sub --s F [options] [P...]", .about = "Does things.",
                      .opts = table, .positional = "P", .args = d.pos, .max_args = 2};

static void reset(void) {
    memset(&d, 0, sizeof d);
    d.n = 7, d.mode = 1, d.x = 0.5, d.f = 2;
    for (nt_opt *o = table; o->kind; o++) o->given = 0;
    for (nt_opt *o = shared; o->kind; o++) o->given = 0;
}

#define ARGS(...) ((const char *const[]){"sub", __VA_ARGS__, NULL})

/* Expects a usage error (2) whose message holds `frag` and the --help pointer, no help. */
static void expect_error(const char *const *args, const char *frag) {
    reset();
    int rc = parse(&cmd, args);
    CHECK(rc == 2, "%s ...: rc %d, want 2", args[1], rc);
    CHECK(strncmp(err_text, "prog sub: ", 10) == 0, "message names the command: %s", err_text);
    CHECK(strstr(err_text, frag) != NULL, "message lacks \"%s\": %s", frag, err_text);
    CHECK(strstr(err_text, "Try 'prog sub --help'.") != NULL, "no --help pointer: %s", err_text);
    CHECK(strstr(err_text, "usage:") == NULL, "the whole help printed: %s", err_text);
}

static void test_values(void) {
    reset();
    int rc = parse(&cmd, ARGS("--s", "file", "--n", "100", "--small", "0", "--big", "1e12", "--seed",
                              "18446744073709551615", "--flag", "--mode", "off", "--chars", "1234567", "--list", "a",
                              "--list=b", "--x", "-1", "--f=10", "pos1", "--", "--pos2"));
    CHECK(rc == -1, "rc %d: %s", rc, err_text);
    CHECK(strcmp(d.s, "file") == 0 && d.n == 100 && d.small == 0 && d.big == 1000000000000LL, "numbers");
    CHECK(d.seed == UINT64_MAX && d.flag == 1 && d.mode == -2, "seed %llu flag %d mode %d",
          (unsigned long long)d.seed, d.flag, d.mode);
    CHECK(strcmp(d.chars, "1234567") == 0 && d.count == 2 && strcmp(d.list[1], "b") == 0, "chars, list");
    CHECK(d.x == -1 && d.f == 10, "included table: x %g f %g", d.x, (double)d.f);
    CHECK(cmd.n_args == 2 && strcmp(d.pos[0], "pos1") == 0 && strcmp(d.pos[1], "--pos2") == 0, "positionals");
    CHECK(nt_opts_given(&cmd, "--x") && nt_opts_given(&cmd, "--seed") && !nt_opts_given(&cmd, "--hidden"), "given");
    CHECK(nt_opts_find(&cmd, "--f") == &shared[1] && nt_opts_find(&cmd, "--nope") == NULL, "find");
    reset();
    CHECK(parse(&cmd, ARGS("--s", "f", "--n", "all")) == -1 && d.n == -1, "the word instead of a number");
    CHECK(d.x == 0.5 && d.mode == 1 && !nt_opts_given(&cmd, "--x"), "defaults untouched");
}

static void test_errors(void) {
    /* ranges, at both ends and just outside */
    expect_error(ARGS("--s", "f", "--n", "0"), "--n \"0\": expected an integer in 1..100 or all");
    expect_error(ARGS("--s", "f", "--n", "101"), "--n \"101\": expected an integer in 1..100");
    expect_error(ARGS("--s", "f", "--n", "2.5"), "--n \"2.5\": expected an integer");
    expect_error(ARGS("--s", "f", "--n", "0x10"), "--n \"0x10\"");
    expect_error(ARGS("--s", "f", "--small", "6"), "--small \"6\": expected an integer in 0..5");
    expect_error(ARGS("--s", "f", "--big", "-1"), "--big \"-1\"");
    expect_error(ARGS("--s", "f", "--seed", "-1"), "--seed \"-1\": expected a non-negative integer");
    expect_error(ARGS("--s", "f", "--x", "1.01"), "--x \"1.01\": expected a number in -1..1");
    expect_error(ARGS("--s", "f", "--x", "nan"), "--x \"nan\"");
    expect_error(ARGS("--s", "f", "--f", "inf"), "--f \"inf\"");
    expect_error(ARGS("--s", "f", "--mode", "on"), "--mode \"on\": expected one of auto, bar, off");
    expect_error(ARGS("--s", "f", "--chars", "12345678"), "--chars \"12345678\": expected a value of at most 7 bytes");
    expect_error(ARGS("--s", "f", "--list", "a", "--list", "b", "--list", "c", "--list", "d"), "--list: at most 3");
    /* missing values: at the end, or another flag where the value should be */
    expect_error(ARGS("--s", "f", "--n"), "--n needs a value (an integer in 1..100 or all)");
    expect_error(ARGS("--s", "f", "--n", "--flag"), "--n needs a value");
    expect_error(ARGS("--s"), "--s needs a value");
    /* unknown flags, with a suggestion when one is close */
    expect_error(ARGS("--s", "f", "--flga"), "unknown option \"--flga\" (did you mean --flag?)");
    expect_error(ARGS("--s", "f", "--zzzzzzzz"), "unknown option \"--zzzzzzzz\"");
    CHECK(strstr(err_text, "did you mean") == NULL, "no far-fetched suggestion: %s", err_text);
    expect_error(ARGS("--s", "f", "--flag=1"), "--flag takes no value");
    /* required and positional */
    expect_error(ARGS("--n", "5"), "--s is required");
    expect_error(ARGS("--s", "f", "a", "b", "c"), "unexpected argument \"c\"");
    /* a long value is shown cut short, with its length (a list of thousands of numbers is not printed back) */
    {
        static char longv[5000], longf[5100];
        memset(longv, '9', sizeof longv - 1);
        snprintf(longf, sizeof longf, "--%s", longv);
        expect_error(ARGS("--s", "f", "--n", longv), "--n \"999999999");
        CHECK(strstr(err_text, "... (4999 bytes)\"") && strlen(err_text) < 200, "cut: %s", err_text);
        expect_error(ARGS("--s", "f", longf), "unknown option \"--999");
        CHECK(strstr(err_text, "... (5001 bytes)\"") && strlen(err_text) < 200, "cut: %.300s", err_text);
        expect_error(ARGS("--s", "f", "a", "b", longv), "unexpected argument \"999");
        CHECK(strlen(err_text) < 200, "cut: %.300s", err_text);
        char buf[NT_OPTS_EXCERPT_CAP];
        const char *u = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"; /* 25 x e-acute */
        nt_opts_excerpt(u, strlen(u), buf, sizeof buf);
        CHECK(strcmp(buf, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                         "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9... (50 bytes)") == 0,
              "cut between characters: %s", buf);
        CHECK(strcmp(nt_opts_excerpt("short", 5, buf, sizeof buf), "short") == 0, "short text as it is: %s", buf);
    }
    /* a negative number is a value, not a flag */
    reset();
    CHECK(parse(&cmd, ARGS("--s", "f", "--x", "-0.5")) == -1 && d.x == -0.5, "negative value: %s", err_text);
}

static void test_help(void) {
    reset();
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    nt_opts_help(&cmd, f, 60);
    fclose(f);
    CHECK(text && strncmp(text, "usage: prog sub --s F", 21) == 0, "usage first: %s", text);
    CHECK(strstr(text, "Does things.") != NULL, "about");
    /* every visible option, its value name and its default from the destination */
    CHECK(strstr(text, "  --n N ") && strstr(text, "(default 7)"), "int default: %s", text);
    CHECK(strstr(text, "--mode auto|bar|off") && strstr(text, "(default bar)"), "enum: %s", text);
    CHECK(strstr(text, "--s F") && strstr(text, "(required)"), "required: %s", text);
    CHECK(strstr(text, "--x X") && strstr(text, "(default 0.5)"), "double: %s", text);
    CHECK(strstr(text, "--list S (repeatable)") != NULL, "list: %s", text);
    CHECK(strstr(text, "shared options:") != NULL, "group heading: %s", text);
    CHECK(strstr(text, "--hidden") == NULL, "hidden option shown: %s", text);
    CHECK(strstr(text, "-h, --help") != NULL, "--help itself");
    int longest = 0, cur = 0;
    for (const char *p = text; p && *p; p++) {
        cur = *p == '\n' ? 0 : cur + 1;
        if (cur > longest) longest = cur;
    }
    CHECK(longest <= 60, "a help line of %d columns in a 60-column help", longest);
    free(text);
    /* --help anywhere prints it on stdout and returns 0, whatever else is wrong */
    reset();
    fflush(stdout);
    int saved = dup(1);
    FILE *devnull = fopen("/dev/null", "w");
    dup2(fileno(devnull), 1);
    int rc = parse(&cmd, ARGS("--bogus", "--help"));
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    fclose(devnull);
    CHECK(rc == 0 && err_text[0] == 0, "--help: rc %d, stderr %s", rc, err_text);
}

int main(void) {
    test_values();
    test_errors();
    test_help();
    return nt_check_report("test_opts");
}
