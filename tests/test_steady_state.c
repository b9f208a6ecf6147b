/* test_steady_state.c - 1,000 cycles of forward + backward + nt_ctx_reset on a
 * small network make no heap allocation after the first cycle, and the
 * resident set does not grow after cycle 10 (beyond 2 MiB of noise). */
#include <stdlib.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/parallel.h"
#include "support/check.h"
#include "support/tinynet.h"

/* Resident set size in bytes (second field of /proc/self/statm, in pages). */
static long rss_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return -1;
    long size = 0, res = -1;
    if (fscanf(f, "%ld %ld", &size, &res) != 2) res = -1;
    fclose(f);
    return res < 0 ? -1 : res * sysconf(_SC_PAGESIZE);
}

int main(void) {
    nt_threads_set(2);
    tinynet net;
    CHECK(tinynet_init(&net, 4, 16, 64, 4, 50, 3) == NT_OK, "init: %s", nt_errmsg());
    nt_ctx *ctx;
    if (nt_ctx_new(&ctx, 1 << 16) != NT_OK) return 1; /* small chunks: the arena grows, then settles */
    uint64_t allocs_after_first = 0;
    long rss10 = 0;
    int failed = 0;
    for (int cycle = 0; cycle < 1000 && !failed; cycle++) {
        nt_tensor *loss;
        if (tinynet_forward(&net, ctx, &loss) != NT_OK || nt_backward(ctx, loss) != NT_OK) {
            CHECK(0, "cycle %d: %s", cycle, nt_errmsg());
            failed = 1;
        }
        nt_ctx_reset(ctx);
        if (cycle == 0) allocs_after_first = nt_alloc_count();
        if (cycle == 9) rss10 = rss_bytes();
    }
    uint64_t extra = nt_alloc_count() - allocs_after_first;
    CHECK(extra == 0, "%llu heap allocations after the first cycle", (unsigned long long)extra);
    long rss_end = rss_bytes();
    printf("arena peak %zu bytes, RSS after cycle 10: %ld KiB, after 1000: %ld KiB\n", nt_ctx_peak(ctx),
           rss10 / 1024, rss_end / 1024);
    CHECK(rss10 > 0 && rss_end > 0, "statm readable");
    /* Under ASan the RSS grows by its quarantine of memory freed outside
     * nextok (the runtime libraries'); the allocation count above still holds. */
    if (getenv("NT_SANITIZED"))
        printf("RSS check skipped under the sanitizer (quarantine)\n");
    else
        CHECK(rss_end - rss10 <= (2L << 20), "RSS grew by %ld KiB after cycle 10", (rss_end - rss10) / 1024);
    nt_ctx_free(ctx);
    tinynet_free(&net);
    return nt_check_report("test_steady_state");
}
