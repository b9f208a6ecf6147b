/* test_lm_sample.c - `nextok-lm sample` samples through nt_generate and its
 * text did not change in the move: a fixed tiny checkpoint
 * (tests/fixtures/lm-tiny.h5: 1 layer x 16, context 12, trained 600 updates
 * on shakespeare-20k.txt) and, for each case below, the exact text the LM's
 * own sampler (lm_sampler, before nt_generate took over) printed:
 * tests/fixtures/lm-tiny-samples.txt, cases in order, each followed by a line
 * "@@@@ rc=0". The cases cover sampling with temperature, top-k and top-p,
 * several samples, greedy, the sliding window (--keep, a prompt longer than
 * the context), the uncached path, bf16 and no new tokens. The same text
 * came out at NT_ISA=portable, avx2 and avx512 when it was recorded. */
#include <stdlib.h>
#include <string.h>

#include "support/check.h"
#include "support/cli_run.h"
#include "support/proc.h"

int main(void) {
    const char *fx = getenv("NT_FIXTURES");
    char ckpt[1100], expected_path[1100];
    snprintf(ckpt, sizeof ckpt, "%s/lm-tiny.h5", fx ? fx : "tests/fixtures");
    snprintf(expected_path, sizeof expected_path, "%s/lm-tiny-samples.txt", fx ? fx : "tests/fixtures");
    size_t n_expected;
    char *expected = nt_proc_read_file(expected_path, &n_expected);
    CHECK(expected != NULL, "cannot read %s", expected_path);
    if (!expected) return nt_check_report("test_lm_sample");
    nt_cli_use("nextok-lm");
#define CASE(...) {"sample", "--checkpoint", ckpt, "--threads", "1", __VA_ARGS__, NULL}
    const char *cases[][24] = {
        CASE("--prompt", "ROMEO:", "--max-new-tokens", "60", "--seed", "3"),
        CASE("--prompt", "First Citizen:\nBefore", "--max-new-tokens", "50", "--seed", "7", "--temperature", "1.3",
             "--top-k", "5"),
        CASE("--max-new-tokens", "40", "--seed", "1", "--top-p", "0.7", "--num-samples", "3"),
        CASE("--prompt", "Sp", "--temperature", "0", "--max-new-tokens", "30"),
        CASE("--prompt", "ROMEO:", "--keep", "4", "--max-new-tokens", "40", "--seed", "5", "--temperature", "1.0",
             "--top-k", "10", "--top-p", "0.9"),
        CASE("--no-cache", "--prompt", "ROMEO:", "--keep", "6", "--max-new-tokens", "30", "--seed", "9"),
        CASE("--prompt", "First Citizen:\nBefore we proceed", "--max-new-tokens", "20", "--seed", "2", "--keep", "8"),
        CASE("--precision", "bf16", "--prompt", "ROMEO:", "--max-new-tokens", "30", "--seed", "4"),
        CASE("--max-new-tokens", "0", "--prompt", "abc"),
    };
    const int n_cases = (int)(sizeof cases / sizeof *cases);
    const char *sep = "@@@@ rc=0\n";
    char *at = expected;
    for (int k = 0; k < n_cases; k++) {
        char *end = strstr(at, sep);
        CHECK(end != NULL, "case %d: no expected text left in %s", k, expected_path);
        if (!end) break;
        *end = 0;
        int rc = nt_cli_run(cases[k]);
        CHECK(rc == 0, "case %d: exit %d: %s", k, rc, nt_cli_err);
        CHECK(strcmp(nt_cli_out, at) == 0, "case %d: the text changed:\n%s\n--- expected ---\n%s", k, nt_cli_out, at);
        at = end + strlen(sep);
    }
    CHECK(*at == 0, "expected texts left over: %s", at);
    free(expected);
    return nt_check_report("test_lm_sample");
}
