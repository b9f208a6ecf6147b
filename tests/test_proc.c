/* test_proc.c - the test-support runner (tests/support/proc.h) that the CLI
 * tests share: exit status, stdin, captured stdout/stderr, added and replaced
 * environment, a crash reported as 128 + signal, truncation at the buffer's
 * capacity, and whole-file read/write round trips. Runs /bin/sh. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support/check.h"
#include "support/proc.h"

static const char *SH = "/bin/sh";
static char out[4096], err[4096];

static int sh(const char *script, const char *input, const char *const *env) {
    const char *args[] = {"-c", script, NULL};
    nt_proc_io io = {.input = input, .env = env, .out = out, .out_cap = sizeof out, .err = err,
                     .err_cap = sizeof err};
    return nt_proc_run(SH, args, &io);
}

static void test_run(void) {
    CHECK(sh("echo hello; echo oops >&2; exit 3", NULL, NULL) == 3, "exit status");
    CHECK(strcmp(out, "hello\n") == 0 && strcmp(err, "oops\n") == 0, "captured '%s' '%s'", out, err);
    /* stdin: the given text, else empty (/dev/null) */
    CHECK(sh("cat; echo end", "line 1\nline 2\n", NULL) == 0 && strcmp(out, "line 1\nline 2\nend\n") == 0,
          "stdin: '%s'", out);
    CHECK(sh("cat; echo end", NULL, NULL) == 0 && strcmp(out, "end\n") == 0, "no stdin: '%s'", out);
    /* environment: added, replaced, the rest inherited */
    setenv("NT_PROC_KEEP", "kept", 1);
    setenv("NT_PROC_SWAP", "old", 1);
    const char *env[] = {"NT_PROC_NEW=new value", "NT_PROC_SWAP=swapped", NULL};
    CHECK(sh("echo \"$NT_PROC_NEW|$NT_PROC_SWAP|$NT_PROC_KEEP\"", NULL, env) == 0, "env run");
    CHECK(strcmp(out, "new value|swapped|kept\n") == 0, "env: '%s'", out);
    CHECK(strcmp(getenv("NT_PROC_SWAP"), "old") == 0, "the caller's environment is unchanged");
    /* a crash: 128 + signal */
    CHECK(sh("kill -SEGV $$", NULL, NULL) == 128 + SIGSEGV, "killed by SIGSEGV");
    /* output longer than the buffer is cut, still NUL-terminated */
    char small[8];
    const char *args[] = {"-c", "echo 0123456789abcdef", NULL};
    nt_proc_io io = {.out = small, .out_cap = sizeof small};
    CHECK(nt_proc_run(SH, args, &io) == 0 && strcmp(small, "0123456") == 0, "truncated: '%s'", small);
    /* no io at all; a program that cannot be executed */
    CHECK(nt_proc_run(SH, (const char *[]){"-c", "exit 0", NULL}, NULL) == 0, "io NULL");
    io = (nt_proc_io){.err = err, .err_cap = sizeof err};
    CHECK(nt_proc_run("/nonexistent/program", NULL, &io) == 127, "not executable: 127");
}

static void test_files(void) {
    char dir[] = "/tmp/nt_proc_XXXXXX", path[256];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(path, sizeof path, "%s/data.bin", dir);
    /* binary data (NUL bytes included) larger than the reader's first buffer */
    size_t n = 100000;
    unsigned char *data = malloc(n);
    for (size_t i = 0; i < n; i++) data[i] = (unsigned char)(i * 7919u >> 3);
    CHECK(nt_proc_write_file(path, data, n) == 0, "write");
    size_t got = 0;
    char *back = nt_proc_read_file(path, &got);
    CHECK(back && got == n && memcmp(back, data, n) == 0 && back[n] == 0, "round trip: %zu bytes", got);
    free(back);
    /* empty file: "" with length 0 */
    CHECK(nt_proc_write_file(path, "", 0) == 0, "write empty");
    back = nt_proc_read_file(path, &got);
    CHECK(back && got == 0 && back[0] == 0, "empty file");
    free(back);
    unlink(path);
    /* missing file, unwritable path */
    CHECK(nt_proc_read_file(path, &got) == NULL, "missing file");
    snprintf(path, sizeof path, "%s/no/such/dir/x", dir);
    CHECK(nt_proc_write_file(path, "x", 1) == -1, "unwritable");
    rmdir(dir);
    free(data);
}

int main(void) {
    test_run();
    test_files();
    return nt_check_report("test_proc");
}
