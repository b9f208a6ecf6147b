/* test_bench_smoke.c - runs the real `nextok-bench --config tiny --seconds 1
 * --json` (path from NT_BIN) and checks its one JSON line: torch_ref.py's
 * keys, the right config and thread count, the reference's parameter
 * count, positive figures. Not a timed test: no number is compared with a
 * threshold beyond being positive. Also checks that bad options exit 2. */
#include <stdlib.h>
#include <string.h>

#include "core/isa.h"
#include "support/check.h"
#include "support/cli_run.h"

int main(void) {
    nt_cli_use("nextok-bench");
    const char *out = nt_cli_out;

    const char *args[] = {"--config", "tiny", "--threads", "2", "--seconds", "1", "--json", NULL};
    int rc = nt_cli_run(args);
    CHECK(rc == 0, "nextok-bench exited with %d; output:\n%s\nstderr:\n%s", rc, out, nt_cli_err);
    char *line = strchr(out, '{');
    CHECK(line != NULL, "no JSON line in:\n%s", out);
    if (line) {
        CHECK(strchr(line, '\n') && strchr(line, '\n')[1] == 0, "one line, then nothing: %s", line);
        static const char *keys[] = {"\"impl\": \"nextok-", "\"config\": \"tiny\"", "\"threads\": 2",
                                     "\"params\": 1008128", "\"precision\": \"fp32\""};
        for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
            CHECK(strstr(line, keys[i]) != NULL, "missing %s in %s", keys[i], line);
        static const char *figures[] = {"train_step_ms", "train_tok_s", "decode_tok_s", "peak_rss_mb",
                                        "sgemm_peak_gflops", "mfu", "batch_decode_tok_s"};
        for (size_t i = 0; i < sizeof figures / sizeof *figures; i++) {
            double v = nt_cli_json_num(line, figures[i]);
            CHECK(v > 0, "%s = %g, expected a positive number in %s", figures[i], v, line);
        }
        /* the kernels that ran: this process's level (the child inherits NT_ISA) */
        char want_isa[64], want_gemm[64];
        snprintf(want_isa, sizeof want_isa, "\"isa\": \"%s\"", nt_isa_name(nt_isa()));
        snprintf(want_gemm, sizeof want_gemm, "\"gemm\": \"%s%s\"",
                 nt_isa() == NT_ISA_PORTABLE ? "" : "nt_sgemm-", nt_isa() == NT_ISA_PORTABLE ? "openblas" : nt_isa_name(nt_isa()));
        CHECK(strstr(line, want_isa) != NULL, "missing %s in %s", want_isa, line);
        if (!getenv("NT_GEMM")) CHECK(strstr(line, want_gemm) != NULL, "missing %s in %s", want_gemm, line);
    }

    /* --only train: no decode figure to give, so 0 (never inf/nan: not JSON) */
    const char *only[] = {"--config", "tiny", "--threads", "2", "--seconds", "1", "--only", "train", "--json", NULL};
    rc = nt_cli_run(only);
    CHECK(rc == 0, "nextok-bench --only train exited with %d; stderr:\n%s", rc, nt_cli_err);
    line = strchr(out, '{');
    CHECK(line != NULL, "no JSON line in:\n%s", out);
    if (line) {
        CHECK(!strstr(line, "inf") && !strstr(line, "nan"), "--only train: a non-finite figure in %s", line);
        CHECK(nt_cli_json_num(line, "train_tok_s") > 0, "--only train: train_tok_s not positive in %s", line);
        CHECK(nt_cli_json_num(line, "decode_tok_s") == 0, "--only train: decode_tok_s not 0 in %s", line);
    }

    const char *bad[][4] = {{"--config", "huge", NULL}, {"--config", "tiny", "--seconds", "-1"},
                            {"--json", NULL}, {"--kernels", "--config", "tiny", NULL}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const char *av[5] = {NULL};
        for (int k = 0; k < 4 && bad[i][k]; k++) av[k] = bad[i][k];
        rc = nt_cli_run(av);
        CHECK(rc == 2, "bad options %zu: exit %d, expected 2", i, rc);
    }
    return nt_check_report("test_bench_smoke");
}
