/* test_atomic_file.c - train/atomic_file.h: the target is replaced whole or
 * left as it was, and no temporary file is left behind either way. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/status.h"
#include "support/check.h"
#include "support/proc.h"
#include "train/atomic_file.h"

static int exists(const char *p) { return access(p, F_OK) == 0; }

static void tmp_name(char *buf, size_t cap, const char *path) {
    snprintf(buf, cap, "%s.tmp-%ld", path, (long)getpid());
}

int main(void) {
    const char *path = "test_atomic_file.txt";
    char tmp[256];
    tmp_name(tmp, sizeof tmp, path);
    remove(path);

    /* in one call: created, then replaced */
    CHECK(nt_atomic_file_write(path, "first\n", 6) == NT_OK, "%s", nt_errmsg());
    char *text = nt_proc_read_file(path, NULL);
    CHECK(text && strcmp(text, "first\n") == 0, "content \"%s\"", text ? text : "(none)");
    free(text);
    CHECK(nt_atomic_file_write(path, "second\n", 7) == NT_OK, "%s", nt_errmsg());
    text = nt_proc_read_file(path, NULL);
    CHECK(text && strcmp(text, "second\n") == 0, "replaced: \"%s\"", text ? text : "(none)");
    free(text);
    CHECK(!exists(tmp), "temporary file left after a write");

    /* streamed: nothing reaches the target before the commit; abort leaves it */
    nt_atomic_file af;
    CHECK(nt_atomic_file_open(&af, path) == NT_OK, "%s", nt_errmsg());
    fputs("third\n", af.f);
    CHECK(exists(tmp), "the temporary file is %s", tmp);
    nt_atomic_file_abort(&af);
    CHECK(!exists(tmp), "temporary file left after an abort");
    text = nt_proc_read_file(path, NULL);
    CHECK(text && strcmp(text, "second\n") == 0, "abort changed the target: \"%s\"", text ? text : "(none)");
    free(text);
    nt_atomic_file_abort(&af); /* released: a no-op */

    CHECK(nt_atomic_file_open(&af, path) == NT_OK, "%s", nt_errmsg());
    fputs("fourth\n", af.f);
    CHECK(nt_atomic_file_commit(&af) == NT_OK, "%s", nt_errmsg());
    text = nt_proc_read_file(path, NULL);
    CHECK(text && strcmp(text, "fourth\n") == 0, "committed: \"%s\"", text ? text : "(none)");
    free(text);
    CHECK(af.f == NULL && af.tmp == NULL, "released after the commit");

    /* a folder that does not exist: an error naming the file, nothing created */
    nt_status s = nt_atomic_file_write("test_atomic_file.missing/x.txt", "x", 1);
    CHECK(s == NT_ERR_IO && strstr(nt_errmsg(), "test_atomic_file.missing/x.txt.tmp-"), "missing folder: %d %s", s,
          nt_errmsg());

    /* the rename fails (the target is a folder that is not empty): the
     * temporary file goes, the target stays */
    const char *dir = "test_atomic_file.dir";
    mkdir(dir, 0777);
    nt_proc_write_file("test_atomic_file.dir/keep", "k", 1);
    char dtmp[256];
    tmp_name(dtmp, sizeof dtmp, dir);
    s = nt_atomic_file_write(dir, "x", 1);
    CHECK(s == NT_ERR_IO && strstr(nt_errmsg(), "cannot rename"), "rename over a folder: %d %s", s, nt_errmsg());
    CHECK(!exists(dtmp), "temporary file left after a failed rename");
    CHECK(exists("test_atomic_file.dir/keep"), "the folder was touched");
    remove("test_atomic_file.dir/keep");
    rmdir(dir);
    remove(path);
    return nt_check_report("test_atomic_file");
}
