/* test_demo_script.c - examples/translate/demo.sh (what `make demo` runs)
 * around its training step, with a stand-in for nextok-translate (a shell
 * script: `data` writes small files, `train` ends as told, every other
 * command is logged):
 *  - training stopped by a signal (exit 130/143) or failed: the demo stops
 *    there, says why and how to resume, exits with the trainer's status and
 *    evaluates nothing;
 *  - Ctrl-C to the whole process group while training: the shell waits for
 *    the trainer to save, then stops the same way (it does not die first);
 *  - training done: the evaluations run;
 *  - `make demo` reads DEMO_TASK, not TASK (an environment may set TASK). */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support/check.h"
#include "support/proc.h"
#include "support/scratch.h"

static char out[1 << 16], err[1 << 16];
static char src_dir[1024], demo[1100], stub[1100], log_path[1100], run_dir[1100];

/* The stand-in: `data --out D ...` writes D/{train,valid,test}.tsv, `train`
 * writes RUN/started, then exits $STUB_TRAIN_RC (or, with STUB_TRAIN_WAIT,
 * waits for SIGINT/SIGTERM, writes RUN/saved and exits 128 + the signal, as
 * the real trainer does); any other command is appended to $STUB_LOG. */
static const char STUB[] =
    "#!/bin/sh\n"
    "cmd=$1; shift\n"
    "out=\n"
    "for a in \"$@\"; do [ \"$prev\" = --out ] && out=$a; prev=$a; done\n"
    "case $cmd in\n"
    "data) mkdir -p \"$out\"; : >\"$out/train.tsv\"; : >\"$out/valid.tsv\"; printf 'one\\tun\\ntwo\\tdeux\\n' >\"$out/test.tsv\" ;;\n"
    "train)\n"
    "  mkdir -p \"$out\"; : >\"$out/metrics.jsonl\"; : >\"$out/started\"\n"
    "  if [ -n \"${STUB_TRAIN_WAIT:-}\" ]; then\n"
    "    trap 'echo saved >\"$out/saved\"; exit 130' INT\n"
    "    trap 'echo saved >\"$out/saved\"; exit 143' TERM\n"
    "    while :; do sleep 0.05; done\n"
    "  fi\n"
    "  echo \"stub: train ends with $STUB_TRAIN_RC\" >&2\n"
    "  exit \"${STUB_TRAIN_RC:-0}\" ;;\n"
    "*) echo \"$cmd\" >>\"$STUB_LOG\"; echo \"stub $cmd\" ;;\n"
    "esac\n";

/* Runs demo.sh on the stand-in with the given env; its exit status. */
static int run_demo(const char *const *env) {
    unlink(log_path);
    const char *args[] = {demo, stub, run_dir, "1", "en-fr", NULL};
    nt_proc_io io = {.env = env, .out = out, .out_cap = sizeof out, .err = err, .err_cap = sizeof err};
    return nt_proc_run("/bin/sh", args, &io);
}

static int logged(const char *cmd) {
    char *s = nt_proc_read_file(log_path, NULL);
    int yes = s && strstr(s, cmd) != NULL;
    free(s);
    return yes;
}

static int exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0;
}

int main(void) {
    const char *fx = getenv("NT_FIXTURES");
    snprintf(src_dir, sizeof src_dir, "%s/../..", fx ? fx : "tests/fixtures");
    snprintf(demo, sizeof demo, "%s/examples/translate/demo.sh", src_dir);
    CHECK(exists(demo), "%s", demo);
    CHECK(nt_scratch_begin("nt_demo_script"), "mkdtemp");
    nt_scratch_path_to(stub, sizeof stub, "nextok-translate");
    nt_scratch_path_to(log_path, sizeof log_path, "commands.log");
    nt_scratch_path_to(run_dir, sizeof run_dir, "run");
    CHECK(nt_proc_write_file(stub, STUB, strlen(STUB)) == 0 && chmod(stub, 0755) == 0, "write %s", stub);
    char log_env[1200];
    snprintf(log_env, sizeof log_env, "STUB_LOG=%s", log_path);

    /* SIGTERM and SIGINT: stop, say why and how to resume, the trainer's status, no evaluation */
    const struct {
        const char *rc, *what;
    } stops[] = {{"STUB_TRAIN_RC=143", "interrupted (SIGTERM, exit status 143)"},
                 {"STUB_TRAIN_RC=130", "interrupted (SIGINT, exit status 130)"},
                 {"STUB_TRAIN_RC=1", "training failed (exit status 1"}};
    for (int k = 0; k < 3; k++) {
        const char *env[] = {log_env, stops[k].rc, NULL};
        int rc = run_demo(env);
        int want = atoi(strchr(stops[k].rc, '=') + 1);
        CHECK(rc == want, "%s: demo exit %d, want %d\n%s%s", stops[k].rc, rc, want, out, err);
        CHECK(strstr(out, stops[k].what) && strstr(out, "nothing is evaluated"), "%s: says why: %s", stops[k].rc, out);
        CHECK(want == 1 || strstr(out, "train --resume "), "%s: says how to resume: %s", stops[k].rc, out);
        CHECK(!logged("eval") && !logged("translate"), "%s: nothing evaluated after the stop", stops[k].rc);
    }

    /* training done: the demo goes on to its evaluations */
    {
        const char *env[] = {log_env, "STUB_TRAIN_RC=0", NULL};
        run_demo(env);
        CHECK(logged("eval") && strstr(out, "3/6 eval"), "after training the evaluations run: %s%s", out, err);
    }

    /* Ctrl-C reaches the whole foreground group: the shell must wait for the
     * trainer to save and then stop with its status (not die first, not go on) */
    {
        char started[1200], saved[1200];
        snprintf(started, sizeof started, "%s/started", run_dir);
        snprintf(saved, sizeof saved, "%s/saved", run_dir);
        unlink(started), unlink(saved), unlink(log_path);
        char out_path[1200];
        nt_scratch_path_to(out_path, sizeof out_path, "demo.out");
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            setpgid(0, 0);
            int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            dup2(fd, 1), dup2(fd, 2);
            setenv("STUB_LOG", log_path, 1);
            setenv("STUB_TRAIN_WAIT", "1", 1);
            execl("/bin/sh", "sh", demo, stub, run_dir, "1", "en-fr", (char *)NULL);
            _exit(127);
        }
        setpgid(pid, pid);
        int up = 0;
        for (int i = 0; i < 1200 && !up; i++) {
            up = exists(started);
            if (!up) nanosleep(&(struct timespec){0, 50000000}, NULL);
        }
        CHECK(up, "the stand-in trainer started");
        kill(-pid, SIGINT);
        int status = 0;
        CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
        char *text = nt_proc_read_file(out_path, NULL);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 130, "Ctrl-C: demo status %d (want exit 130)\n%s", status,
              text ? text : "");
        CHECK(exists(saved), "the trainer saved before the demo ended");
        CHECK(text && strstr(text, "interrupted (SIGINT"), "Ctrl-C: says why: %s", text ? text : "");
        CHECK(!logged("eval"), "Ctrl-C: nothing evaluated");
        free(text);
    }

    /* make demo: DEMO_TASK chooses the task; TASK in the environment does not */
    {
        const char *args[] = {"-n", "-s", "-C", src_dir, "demo", "DEMO_TASK=fr-en", NULL};
        int rc = nt_proc_run("/usr/bin/make", args, &(nt_proc_io){.out = out, .out_cap = sizeof out, .err = err,
                                                                    .err_cap = sizeof err});
        CHECK(rc == 0 && strstr(out, "demo.sh build/bin/nextok-translate runs/demo-fr-en 10 fr-en"),
              "make demo DEMO_TASK=fr-en: exit %d\n%s%s", rc, out, err);
        const char *env[] = {"TASK=fr-en", NULL};
        const char *args2[] = {"-n", "-s", "-C", src_dir, "demo", NULL};
        rc = nt_proc_run("/usr/bin/make", args2, &(nt_proc_io){.env = env, .out = out, .out_cap = sizeof out,
                                                                .err = err, .err_cap = sizeof err});
        CHECK(rc == 0 && strstr(out, "demo.sh build/bin/nextok-translate runs/demo 10 en-fr"),
              "TASK=fr-en in the environment leaves make demo on en-fr: exit %d\n%s%s", rc, out, err);
    }

    nt_scratch_end();
    return nt_check_report("test_demo_script");
}
