/* fuzz_cli.c - the option parser as the commands run it: the input is an
 * argument vector (NUL-separated) parsed with nt_opts against a table of
 * every kind (the trainer's table, the decoder's, enums, lists, fixed-size
 * strings), then the budget rule and nt_trainer_config_check; an accepted
 * config must survive its JSON form (stored in every checkpoint's /train and
 * read back on resume). Usage errors print on stderr; nothing may crash. */
#include <stdio.h>
#include <string.h>

#include "core/opts.h"
#include "examples/translate/cli.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *buf = malloc(size + 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    buf[size] = 0;
    char *argv[64];
    int argc = 0;
    argv[argc++] = "train";
    for (size_t i = 0; i <= size && argc < 63;) {
        argv[argc++] = buf + i;
        i += strlen(buf + i) + 1;
    }
    argv[argc] = NULL;
    nt_trainer_config tc = nt_trainer_config_default();
    nt_generate_config g = nt_generate_config_default();
    nt_opt trainer_opts[EX_TRAINER_NOPTS], gen_opts[CLI_GENERATE_NOPTS];
    ex_trainer_opts(trainer_opts, &tc, EX_TRAINER_PAIRS);
    cli_generate_opts(gen_opts, &g);
    const char *path = NULL, *list[4];
    int n_list = 0, flag = 0, mode = 0;
    char fixed[8];
    nt_opt opts[] = {
        {"--path", NT_OPT_STRING, &path, .help = "a string"},
        {"--fixed", NT_OPT_CHARS, fixed, 0, sizeof fixed, .help = "a fixed-size string"},
        {"--item", NT_OPT_LIST, list, 0, 4, .count = &n_list, .help = "repeatable"},
        {"--flag", NT_OPT_FLAG, &flag, .help = "a flag"},
        {"--mode", NT_OPT_ENUM, &mode, .choices = "a|bb|ccc", .help = "an enum"},
        {.kind = NT_OPT_GROUP, .help = "trainer:", .dest = trainer_opts},
        {.kind = NT_OPT_GROUP, .help = "decoding:", .dest = gen_opts},
        {0}};
    const char *args[2];
    nt_opts cmd = {"fuzz", "usage: fuzz [options] [X]", NULL, opts, .positional = "X", .args = args, .max_args = 2};
    FILE *devnull = fopen("/dev/null", "w");
    FILE *saved = stderr;
    if (devnull) stderr = devnull;
    int rc = nt_opts_parse(&cmd, argc, argv);
    if (rc < 0) {
        ex_trainer_budget_apply(&tc, &cmd);
        if (nt_trainer_config_check(&tc) == NT_OK) {
            char json[NT_TRAIN_OPTIONS_MAX];
            if (nt_trainer_config_to_json(&tc, json, sizeof json) == NT_OK) {
                nt_trainer_config back = nt_trainer_config_default();
                if (nt_trainer_config_from_json(&back, json) != NT_OK)
                    fuzz_fail("own JSON refused: %s (%s)", nt_errmsg(), json);
            }
        }
        nt_generate_config_check(&g);
    } else if (rc != 0 && rc != 2) {
        fuzz_fail("nt_opts_parse returned %d", rc);
    }
    stderr = saved;
    if (devnull) fclose(devnull);
    /* the JSON reader on raw bytes (a checkpoint's /train options string) */
    nt_trainer_config any = nt_trainer_config_default();
    nt_trainer_config_from_json(&any, buf);
    free(buf);
    return 0;
}
