/* run_dir.c - a training run's folder: --resume paths, --overwrite. */
#include "run_dir.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "train/dist.h"
#include "train/runlock.h"
#include "train/trainer.h"

int ex_file_exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0;
}

int ex_is_dir(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

int ex_run_resume_paths(const char *resume, char *file, char *dir, size_t cap) {
    if (strlen(resume) + 20 >= cap) return 0;
    if (ex_is_dir(resume)) {
        snprintf(file, cap, "%s/checkpoint-last.h5", resume);
        snprintf(dir, cap, "%s", resume);
    } else {
        snprintf(file, cap, "%s", resume);
        snprintf(dir, cap, "%s", resume);
        char *slash = strrchr(dir, '/');
        if (slash) *slash = 0;
        else snprintf(dir, cap, ".");
    }
    return 1;
}

int ex_run_dir_clear(const char *prog, const char *cmd, const char *run_dir, int overwrite) {
    static const char *files[] = {"checkpoint-last.h5", "checkpoint-best.h5", "metrics.jsonl", "report.html"};
    char p[NT_TRAINER_PATH_MAX + 32];
    if (!nt_dist_is_root(NULL)) return 1; /* under mpirun, rank 0 owns the run folder */
    /* A run in progress there is not ours to replace. */
    nt_runlock *lock = NULL;
    if (ex_is_dir(run_dir) && nt_runlock_acquire(run_dir, &lock) != NT_OK) {
        fprintf(stderr, "%s %s: %s\n", prog, cmd, nt_errmsg());
        return 0;
    }
    nt_runlock_release(lock);
    for (size_t k = 0; k < sizeof files / sizeof *files; k++) {
        snprintf(p, sizeof p, "%s/%s", run_dir, files[k]);
        if (!ex_file_exists(p)) continue;
        if (!overwrite) {
            fprintf(stderr,
                    "%s %s: %s holds a run already (%s); continue it with '%s train --resume %s', or pass "
                    "--overwrite to replace it\n",
                    prog, cmd, run_dir, p, prog, run_dir);
            return 0;
        }
        if (remove(p) != 0) {
            fprintf(stderr, "%s %s: cannot remove %s (%s)\n", prog, cmd, p, strerror(errno));
            return 0;
        }
    }
    return 1;
}
