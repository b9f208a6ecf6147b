/* run_dir.h - the folder of a training run (RUN) for the CLIs that train:
 * what --resume names, and replacing a run (--overwrite).
 *
 *     char file[NT_TRAINER_PATH_MAX], dir[NT_TRAINER_PATH_MAX];
 *     if (!ex_run_resume_paths(resume, file, dir, sizeof file)) ... "--resume: path too long"
 *     if (!ex_run_dir_clear("nextok-lm", "train", out_dir, overwrite)) return 1;   // message printed
 */
#ifndef NT_EXAMPLES_RUN_DIR_H
#define NT_EXAMPLES_RUN_DIR_H

#include <stddef.h>

/* --resume RUN|FILE: the checkpoint to continue (RUN/checkpoint-last.h5, or
 * FILE) into file, the run folder (RUN, or FILE's folder) into dir, both of
 * cap bytes. 0 if the path is too long for them. */
int ex_run_resume_paths(const char *resume, char *file, char *dir, size_t cap);

/* Makes run_dir ready for a new run: if it holds a run's files (checkpoints,
 * metrics.jsonl, report.html) they are removed with `overwrite`, else it
 * refuses; a run in progress there (train/runlock.h) is never touched.
 * Returns 1 when ready, 0 after printing why not on stderr ("PROG CMD: ...",
 * pointing to 'PROG train --resume RUN'). Under mpirun only rank 0 looks. */
int ex_run_dir_clear(const char *prog, const char *cmd, const char *run_dir, int overwrite);

/* 1 if path names an existing file (of any kind) / a folder. */
int ex_file_exists(const char *path);
int ex_is_dir(const char *path);

#endif
