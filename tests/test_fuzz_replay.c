/* test_fuzz_replay.c - the fuzz harnesses of tests/fuzz/ compiled without
 * libFuzzer: every seed (tests/fuzz/corpus/<target>/) and every regression
 * input (tests/fuzz/regress/<target>/: one per crash class found so far,
 * see tests/fuzz/README.md) replayed through the same harness bodies, so
 * `make test` and `make sanitize` check them. A crash or hang fails the
 * test; the checkpoint regressions must also be refused with a message. */
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "support/check.h"
#include "support/fixtures.h"
#include "support/proc.h"

#define LLVMFuzzerTestOneInput fuzz_tsv_one
#include "fuzz/fuzz_tsv.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_text_one
#include "fuzz/fuzz_text.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_tokenizer_one
#include "fuzz/fuzz_tokenizer.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_ckpt_raw_one
#include "fuzz/fuzz_ckpt_raw.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_ckpt_edit_one
#include "fuzz/fuzz_ckpt_edit.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_cli_one
#include "fuzz/fuzz_cli.c"
#undef LLVMFuzzerTestOneInput

typedef int (*harness_fn)(const uint8_t *, size_t);

static const struct {
    const char *name;
    harness_fn fn;
    int regress; /* 1: regress/<name>/ must hold inputs */
} targets[] = {
    {"tsv", fuzz_tsv_one, 0},           {"text", fuzz_text_one, 0},         {"tokenizer", fuzz_tokenizer_one, 0},
    {"ckpt_raw", fuzz_ckpt_raw_one, 1}, {"ckpt_edit", fuzz_ckpt_edit_one, 1}, {"cli", fuzz_cli_one, 0},
};

static char root[1024];

/* Replays every file of <root>/<sub>/<name>/; returns how many. For the
 * checkpoint regressions also checks that the file is refused. */
static int replay(const char *sub, const char *name, harness_fn fn) {
    char dir[1400];
    snprintf(dir, sizeof dir, "%s/%s/%s", root, sub, name);
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.') continue;
        char path[2800];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t len;
        char *bytes = nt_proc_read_file(path, &len);
        CHECK(bytes != NULL, "read %s", path);
        if (!bytes) continue;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        fn((const uint8_t *)bytes, len);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double dt = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        CHECK(dt < 30.0, "%s: %.1f s (a hang?)", path, dt);
        if (strcmp(sub, "regress") == 0 && strcmp(name, "ckpt_edit") == 0)
            CHECK(fuzz_ckpt_last != NT_OK, "%s: the edited checkpoint loaded", e->d_name);
        if (strcmp(sub, "regress") == 0 && strcmp(name, "ckpt_raw") == 0) {
            /* a corrupted checkpoint: refused before libhdf5, naming the file */
            const char *p = fuzz_ckpt_path("replay");
            nt_model *m = NULL;
            CHECK(fuzz_ckpt_write(p, (const uint8_t *)bytes, len) == 0, "write %s", p);
            nt_status s = nt_ckpt_load(p, &m, NULL);
            CHECK(s == NT_ERR_FORMAT && strstr(nt_errmsg(), p), "%s: refused: %s %s", e->d_name, nt_status_name(s),
                  nt_errmsg());
            nt_model_free(m);
            unlink(p);
        }
        free(bytes);
        n++;
    }
    closedir(d);
    return n;
}

int main(void) {
    nt_fixture_path_to(root, sizeof root, "../fuzz");
    for (size_t k = 0; k < sizeof targets / sizeof *targets; k++) {
        int seeds = replay("corpus", targets[k].name, targets[k].fn);
        int regs = replay("regress", targets[k].name, targets[k].fn);
        printf("%-10s %3d seeds, %3d regression inputs replayed\n", targets[k].name, seeds, regs);
        CHECK(seeds > 0, "%s: no seed corpus in %s/corpus/%s", targets[k].name, root, targets[k].name);
        if (targets[k].regress) CHECK(regs > 0, "%s: no regression inputs", targets[k].name);
    }
    return nt_check_report("test_fuzz_replay");
}
