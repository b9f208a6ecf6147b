/* fuzz_ckpt_raw.c - raw bytes as a checkpoint file through every load. Runs
 * with NT_CKPT_REQUIRE_SUM=1 unless FUZZ_ALLOW_UNSEALED is set: bytes that
 * fail the whole-file checksum (every mutation of a sealed seed) must be
 * refused before libhdf5 parses them. With FUZZ_ALLOW_UNSEALED=1, files
 * without the checksum reach libhdf5, whose own parser is then what is
 * fuzzed (docs/checkpoints.md: a crafted file is as dangerous as libhdf5
 * makes it). */
#include "fuzz_ckpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!getenv("FUZZ_ALLOW_UNSEALED")) setenv("NT_CKPT_REQUIRE_SUM", "1", 1);
    const char *path = fuzz_ckpt_path("raw");
    if (fuzz_ckpt_write(path, data, size) != 0) return 0;
    fuzz_ckpt_load_all(path);
    unlink(path);
    return 0;
}
