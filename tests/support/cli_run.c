/* cli_run.c - running a program of $NT_BIN with its output captured. */
#include "cli_run.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"

char nt_cli_out[1 << 16], nt_cli_err[1 << 16];
char nt_cli_bin[1024];

void nt_cli_use(const char *program) {
    const char *b = getenv("NT_BIN");
    snprintf(nt_cli_bin, sizeof nt_cli_bin, "%s/%s", b ? b : "build/bin", program);
}

static int run(const char *input, const char *const *env, const char *const *args) {
    nt_proc_io io = {.input = input, .env = env, .out = nt_cli_out, .out_cap = sizeof nt_cli_out,
                     .err = nt_cli_err, .err_cap = sizeof nt_cli_err};
    return nt_proc_run(nt_cli_bin, args, &io);
}

int nt_cli_run(const char *const *args) { return run(NULL, NULL, args); }
int nt_cli_run_in(const char *input, const char *const *args) { return run(input, NULL, args); }
int nt_cli_run_env(const char *const *env, const char *const *args) { return run(NULL, env, args); }

double nt_cli_json_num(const char *json, const char *key) {
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(json, pat);
    if (!p) return NAN;
    char *end;
    double v = strtod(p + strlen(pat), &end);
    return end == p + strlen(pat) ? NAN : v;
}
