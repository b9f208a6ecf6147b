/* test_bench_smoke.c - runs the real `nextok-bench --config tiny --seconds 1
 * --json` (path from NT_BIN) and checks its one JSON line: torch_ref.py's
 * keys, the right config and thread count, the reference's parameter
 * count, positive figures. Not a timed test: no number is compared with a
 * threshold beyond being positive. Also checks that bad options exit 2. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/check.h"

/* Runs bin with argv, stdout into buf (NUL-terminated); returns the exit
 * status, or -1 if it could not run or did not exit normally. */
static int run(const char *bin, const char *const *argv, char *buf, size_t cap) {
    int fd[2];
    if (pipe(fd) != 0) return -1;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(fd[1]);
    size_t len = 0;
    ssize_t got;
    while (len + 1 < cap && (got = read(fd[0], buf + len, cap - 1 - len)) > 0) len += (size_t)got;
    buf[len] = 0;
    close(fd[0]);
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st)) return -1;
    return WEXITSTATUS(st);
}

/* The number after "key": in a flat JSON line, or NAN if absent. */
static double num(const char *json, const char *key) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(json, pat);
    if (!p) return NAN;
    char *end;
    double v = strtod(p + strlen(pat), &end);
    return end == p + strlen(pat) ? NAN : v;
}

int main(void) {
    const char *dir = getenv("NT_BIN");
    if (!dir) {
        fprintf(stderr, "test_bench_smoke: NT_BIN is not set (run it through ctest)\n");
        return 1;
    }
    char bin[4096];
    snprintf(bin, sizeof bin, "%s/nextok-bench", dir);
    static char out[1 << 16];

    const char *argv[] = {bin, "--config", "tiny", "--threads", "2", "--seconds", "1", "--json", NULL};
    int rc = run(bin, argv, out, sizeof out);
    CHECK(rc == 0, "nextok-bench exited with %d; output:\n%s", rc, out);
    char *line = strchr(out, '{');
    CHECK(line != NULL, "no JSON line in:\n%s", out);
    if (line) {
        CHECK(strchr(line, '\n') && strchr(line, '\n')[1] == 0, "one line, then nothing: %s", line);
        static const char *keys[] = {"\"impl\": \"nextok-", "\"config\": \"tiny\"", "\"threads\": 2",
                                     "\"params\": 1008128"};
        for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
            CHECK(strstr(line, keys[i]) != NULL, "missing %s in %s", keys[i], line);
        static const char *figures[] = {"train_step_ms", "train_tok_s", "decode_tok_s", "peak_rss_mb",
                                        "sgemm_peak_gflops", "mfu"};
        for (size_t i = 0; i < sizeof figures / sizeof *figures; i++) {
            double v = num(line, figures[i]);
            CHECK(v > 0, "%s = %g, expected a positive number in %s", figures[i], v, line);
        }
    }

    const char *bad[][4] = {{"--config", "huge", NULL}, {"--config", "tiny", "--seconds", "-1"},
                            {"--json", NULL}, {"--kernels", "--config", "tiny", NULL}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const char *av[6] = {bin};
        for (int k = 0; k < 4 && bad[i][k]; k++) av[k + 1] = bad[i][k];
        rc = run(bin, av, out, sizeof out);
        CHECK(rc == 2, "bad options %zu: exit %d, expected 2", i, rc);
    }
    return nt_check_report("test_bench_smoke");
}
