/* test_cli_faults.c - faults around a training run, through the real
 * nextok-translate binary ($NT_BIN): the disk fills during a checkpoint save
 * (injected: NT_FAIL_WRITE=1 makes the save's first write(2) fail with
 * ENOSPC), a second process trains in a run folder that is in use, and
 * SIGTERM stops a trainer (nextok-translate and nextok-lm) with its
 * checkpoint saved and exit status 128 + 15, so that a script stops too. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support/check.h"
#include "support/cli_run.h"
#include "support/proc.h"
#include "support/scratch.h"
#include "train/checkpoint.h"
#include "train/runlock.h"


static int same_file(const char *a, size_t na, const char *path) {
    size_t n;
    char *b = nt_proc_read_file(path, &n);
    int same = b && n == na && memcmp(a, b, n) == 0;
    free(b);
    return same;
}

/* Starts nt_cli_bin with args in the background, output discarded; its pid. */
static pid_t start(const char *const *args) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open("/dev/null", O_RDWR);
        dup2(fd, 0), dup2(fd, 1), dup2(fd, 2);
        const char *argv[40] = {nt_cli_bin};
        for (int i = 0; args[i] && i < 38; i++) argv[i + 1] = args[i];
        execv(nt_cli_bin, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

/* Waits up to `sec` seconds for the checkpoint at `path` to be past update
 * `after` (a trainer that got that far has its signal handlers installed);
 * 1 if it is, 0 if it is not or `pid` ended. */
static int wait_for_update(const char *path, int64_t after, pid_t pid, double sec) {
    for (int i = 0; i < (int)(sec * 20); i++) {
        nt_train_state ts;
        if (nt_ckpt_load_train(path, &ts) == NT_OK && ts.step > after) return 1;
        if (waitpid(pid, NULL, WNOHANG) == pid) return 0;
        nanosleep(&(struct timespec){0, 50000000}, NULL);
    }
    return 0;
}

/* Waits up to `sec` seconds for `path` to hold `pid`; 1 if it does. */
static int wait_for_pid_in(const char *path, pid_t pid, double sec) {
    for (int i = 0; i < (int)(sec * 20); i++) {
        char *s = nt_proc_read_file(path, NULL);
        int yes = s && atol(s) == (long)pid;
        free(s);
        if (yes) return 1;
        if (waitpid(pid, NULL, WNOHANG) == pid) return 0;
        nanosleep(&(struct timespec){0, 50000000}, NULL);
    }
    return 0;
}

int main(void) {
    nt_cli_use("nextok-translate");
    CHECK(nt_scratch_begin("nt_cli_faults"), "mkdtemp");
    setenv("OMP_WAIT_POLICY", "passive", 0);
    char train[1100], run_dir[1100], last[1200], lock[1200];
    snprintf(train, sizeof train, "%s/train.tsv", nt_scratch);
    snprintf(run_dir, sizeof run_dir, "%s/run", nt_scratch);
    snprintf(last, sizeof last, "%s/checkpoint-last.h5", run_dir);
    snprintf(lock, sizeof lock, "%s/.lock", run_dir);
    const char *pairs = "one\tun\ntwo\tdeux\nthree\ttrois\nfour\tquatre\nfive\tcinq\nsix\tsix\n";
    CHECK(nt_proc_write_file(train, pairs, strlen(pairs)) == 0, "write %s", train);
    const char *a_train[] = {"train", "--train", train, "--valid", train, "--out", run_dir, "--preset", "tiny", "--tokenizer", "char",
                             "--d-model", "16", "--steps", "4", "--save-every", "2", "--eval-every", "0",
                             "--progress", "off", "--threads", "1", NULL};
    CHECK(nt_cli_run_env(NULL, a_train) == 0, "train: %s", nt_cli_err);
    size_t n_before;
    char *before = nt_proc_read_file(last, &n_before);
    CHECK(before != NULL, "train wrote %s", last);

    /* the disk fills at the next checkpoint save: exit status 1 (not a
     * crash), the message names the file and the reason, the previous
     * checkpoint is intact and loads, no temporary file is left */
    const char *env_full[] = {"NT_FAIL_WRITE=1", NULL};
    const char *a_resume[] = {"train", "--resume", run_dir, "--steps", "8", "--save-every", "2",
                              "--progress", "off", "--threads", "1", NULL};
    int rc = nt_cli_run_env(env_full, a_resume);
    CHECK(rc == 1, "disk full: exit %d (want 1): %s", rc, nt_cli_err);
    CHECK(strstr(nt_cli_err, "checkpoint-last.h5") && strstr(nt_cli_err, "No space left on device"),
          "the message names file and reason: %s", nt_cli_err);
    CHECK(before && same_file(before, n_before, last), "the previous checkpoint is byte for byte intact");
    nt_train_state ts;
    CHECK(nt_ckpt_load_train(last, &ts) == NT_OK && ts.step == 4, "it loads, at step 4: %s", nt_errmsg());
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "ls %s/ | grep -q 'checkpoint-last.h5.nt_scratch-'", run_dir);
    CHECK(system(cmd) != 0, "no temporary file left in %s", run_dir);
    free(before);

    /* two processes on one run folder: the second says who holds it */
    const char *a_long[] = {"train", "--resume", run_dir, "--minutes", "2", "--save-every", "50",
                            "--progress", "off", "--threads", "1", NULL};
    pid_t first = start(a_long);
    CHECK(first > 0 && wait_for_pid_in(lock, first, 60), "the first trainer holds %s", lock);
    char pid_text[32];
    snprintf(pid_text, sizeof pid_text, "process %ld", (long)first);
    const char *a_again[] = {"train", "--resume", run_dir, "--steps", "100000000", "--progress", "off", NULL};
    rc = nt_cli_run_env(NULL, a_again);
    CHECK(rc != 0 && strstr(nt_cli_err, "in use by") && strstr(nt_cli_err, pid_text),
          "a second resume: exit %d: %s", rc, nt_cli_err);
    const char *a_over[] = {"train", "--train", train, "--valid", train, "--out", run_dir, "--overwrite", "--steps", "2", NULL};
    rc = nt_cli_run_env(NULL, a_over);
    CHECK(rc != 0 && strstr(nt_cli_err, "in use by") && strstr(nt_cli_err, pid_text),
          "train --overwrite on a folder in use: exit %d: %s", rc, nt_cli_err);
    struct stat sb;
    CHECK(stat(last, &sb) == 0, "--overwrite removed nothing of the running trainer's");
    nt_runlock *l = NULL;
    CHECK(nt_runlock_acquire(run_dir, &l) == NT_ERR_STATE && strstr(nt_errmsg(), pid_text), "API: %s", nt_errmsg());
    /* SIGTERM: the first saves and ends with 128 + 15 (not 0: a script must
     * not go on as if training had finished); the folder is free again */
    CHECK(wait_for_update(last, 4, first, 60), "the first trainer made an update");
    kill(first, SIGTERM);
    int status = 0;
    CHECK(waitpid(first, &status, 0) == first && WIFEXITED(status), "the first trainer ends cleanly (%d)", status);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGTERM, "stopped by SIGTERM: exit %d (want %d)",
          WIFEXITED(status) ? WEXITSTATUS(status) : -1, 128 + SIGTERM);
    CHECK(nt_runlock_acquire(run_dir, &l) == NT_OK, "free after it ends: %s", nt_errmsg());
    nt_runlock_release(l);
    CHECK(nt_ckpt_load_train(last, &ts) == NT_OK && ts.step > 4, "the first trainer's checkpoint loads: %s",
          nt_errmsg());

    /* nextok-lm shares the trainer: SIGTERM saves checkpoint-last and exits 128 + 15 */
    nt_cli_use("nextok-lm");
    const char *fx = getenv("NT_FIXTURES");
    char text[1100], lm_dir[1100], lm_last[1200];
    snprintf(text, sizeof text, "%s/shakespeare-20k.txt", fx ? fx : "tests/fixtures");
    snprintf(lm_dir, sizeof lm_dir, "%s/lm", nt_scratch);
    snprintf(lm_last, sizeof lm_last, "%s/checkpoint-last.h5", lm_dir);
    const char *a_lm[] = {"train", "--text", text, "--out", lm_dir, "--preset", "test", "--steps", "100000000",
                          "--save-every", "1", "--eval-every", "0", "--progress", "off", "--threads", "1", NULL};
    pid_t lm = start(a_lm);
    CHECK(lm > 0 && wait_for_update(lm_last, 0, lm, 60), "nextok-lm train made an update");
    kill(lm, SIGTERM);
    status = 0;
    CHECK(waitpid(lm, &status, 0) == lm && WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGTERM,
          "nextok-lm stopped by SIGTERM: status %d (want exit %d)", status, 128 + SIGTERM);
    CHECK(nt_ckpt_load_train(lm_last, &ts) == NT_OK && ts.step > 0, "its checkpoint loads: %s", nt_errmsg());

    nt_scratch_end();
    return nt_check_report("test_cli_faults");
}
