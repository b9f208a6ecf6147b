/* cli_run.h - test support for the tests that drive a program of $NT_BIN
 * (default build/bin): runs with stdout and stderr captured.
 *
 *     nt_cli_use("nextok-lm");
 *     const char *args[] = {"train", "--text", text, "--out", nt_scratch_path("run1"), NULL};
 *     CHECK(nt_cli_run(args) == 0, "train: %s", nt_cli_err);
 *     CHECK(strstr(nt_cli_out, "step=") != NULL, "summary line");
 */
#ifndef NT_TEST_CLI_RUN_H
#define NT_TEST_CLI_RUN_H

/* What the last run printed, NUL-terminated (cut at the size). */
extern char nt_cli_out[1 << 16], nt_cli_err[1 << 16];
/* The program's path. */
extern char nt_cli_bin[1024];

/* Runs $NT_BIN/<program> from now on. */
void nt_cli_use(const char *program);

/* Runs the program with args (NULL-terminated; argv[0] is added), `input` on
 * stdin (NULL: none) and `env` ("NAME=value", NULL-terminated, or NULL) added
 * to the environment. Returns the exit status (see support/proc.h). */
int nt_cli_run(const char *const *args);
int nt_cli_run_in(const char *input, const char *const *args);
int nt_cli_run_env(const char *const *env, const char *const *args);

/* The number after "key": in a one-line JSON object (a --json output), NAN
 * if the key is absent or no number follows it. */
double nt_cli_json_num(const char *json, const char *key);

#endif
