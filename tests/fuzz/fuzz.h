/* fuzz.h - what the libFuzzer harnesses of tests/fuzz/ share.
 *
 * Each fuzz_<target>.c defines LLVMFuzzerTestOneInput (and nothing else
 * non-static; its static names carry the target's prefix), so that:
 *   - `make fuzz` links each with libFuzzer (clang -fsanitize=fuzzer,address,
 *     undefined) into build-fuzz/bin/fuzz_<target>, run over
 *     tests/fuzz/corpus/<target>/ for FUZZ_SECONDS;
 *   - tests/test_fuzz_replay.c includes every harness under another name and
 *     replays tests/fuzz/corpus/<target>/ and tests/fuzz/regress/<target>/
 *     through the same bodies in the normal `make test` (and `make sanitize`).
 * A harness returns 0 for any input; a broken invariant (a round trip that
 * does not round-trip, an error without a message) calls fuzz_fail, which
 * aborts: libFuzzer records the input as a crash.
 */
#ifndef NT_FUZZ_H
#define NT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define fuzz_fail(...)                                                 \
    do {                                                               \
        fprintf(stderr, "fuzz invariant broken (%s:%d): ", __FILE__, __LINE__); \
        fprintf(stderr, __VA_ARGS__);                                  \
        fputc('\n', stderr);                                           \
        abort();                                                       \
    } while (0)

#endif
