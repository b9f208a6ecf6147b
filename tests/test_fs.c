/* test_fs.c - nt_fs_mkdirs (core/fs.h): mkdir -p with errors that name the part. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/fs.h"
#include "support/check.h"
#include "support/proc.h"
#include "support/scratch.h"

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int main(void) {
    CHECK(nt_scratch_begin("nt_fs"), "mkdtemp");
    char deep[1100], file[1100], under[1200];
    snprintf(deep, sizeof deep, "%s/a/b/c", nt_scratch);
    CHECK(nt_fs_mkdirs(deep) == NT_OK && is_dir(deep), "a/b/c created: %s", nt_errmsg());
    CHECK(nt_fs_mkdirs(deep) == NT_OK, "existing folder is fine: %s", nt_errmsg());
    snprintf(deep, sizeof deep, "%s/a/b/c/", nt_scratch);
    CHECK(nt_fs_mkdirs(deep) == NT_OK, "trailing slash: %s", nt_errmsg());

    snprintf(file, sizeof file, "%s/file", nt_scratch);
    nt_proc_write_file(file, "x", 1);
    CHECK(nt_fs_mkdirs(file) == NT_ERR_IO && strstr(nt_errmsg(), "is not a directory"), "a file in the way: %s",
          nt_errmsg());
    snprintf(under, sizeof under, "%s/sub", file);
    CHECK(nt_fs_mkdirs(under) == NT_ERR_IO && strstr(nt_errmsg(), "cannot create directory") &&
              strstr(nt_errmsg(), "/file"),
          "a part is a file: %s", nt_errmsg());
    CHECK(nt_fs_mkdirs("") == NT_ERR_ARG && nt_fs_mkdirs(NULL) == NT_ERR_ARG, "empty name");
    static char huge[5000];
    memset(huge, 'a', sizeof huge - 1);
    CHECK(nt_fs_mkdirs(huge) == NT_ERR_ARG, "over-long name");
    nt_scratch_end();
    return nt_check_report("test_fs");
}
