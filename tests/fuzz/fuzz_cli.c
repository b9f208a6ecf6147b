/* fuzz_cli.c - nextok-translate's option handling as the commands run it:
 * the input is an argument vector (NUL-separated), parsed with the trainer
 * options (cli_trainer_option), presets (cli_preset), number parsing
 * (cli_parse_double), the budget rule and nt_trainer_config_check; then the
 * resulting options through their JSON form (stored in every checkpoint's
 * /train and read back on resume). Parsers print their complaints on
 * stderr; they must not crash, and an accepted config must survive JSON. */
#include <string.h>

#include "examples/translate/cli.h"
#include "fuzz.h"

/* nextok-translate's main.c (its number parsers, the dispatcher table),
 * with its main renamed: the harness calls the parsers, not the commands. */
#define main nextok_translate_main
#include "examples/translate/main.c"
#undef main

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
    cli_budget_seen seen = {0};
    nt_model_config mc = nt_model_config_default();
    int bad = 0;
    for (int i = 1; i < argc && !bad; i++) {
        int r = cli_trainer_option(&tc, &seen, argc, argv, &i);
        if (r < 0) bad = 1;
        else if (r == 0 && strcmp(argv[i], "--preset") == 0 && i + 1 < argc) bad = !cli_preset(argv[++i], &mc);
        else if (r == 0 && strcmp(argv[i], "--d-model") == 0 && i + 1 < argc) {
            double d;
            if (cli_parse_double("--d-model", argv[++i], 1, 1 << 16, &d)) mc.d_model = (int)d;
        }
    }
    if (!bad) {
        cli_budget_apply(&tc, &seen);
        if (nt_trainer_config_check(&tc) == NT_OK) {
            char json[NT_TRAIN_OPTIONS_MAX];
            if (nt_trainer_config_to_json(&tc, json, sizeof json) == NT_OK) {
                nt_trainer_config back = nt_trainer_config_default();
                if (nt_trainer_config_from_json(&back, json) != NT_OK)
                    fuzz_fail("own JSON refused: %s (%s)", nt_errmsg(), json);
            }
        }
    }
    for (int i = 1; i < argc; i++) { /* the integer flags of every command */
        long l;
        unsigned long long u;
        nt_cli_parse_int(argv[i], argv[i], -1000, 1000000, &l);
        nt_cli_parse_u64(argv[i], argv[i], &u);
    }
    mc.vocab_size = 40;
    nt_model_config_check(&mc);
    /* the JSON reader on raw bytes (a checkpoint's /train options string) */
    nt_trainer_config any = nt_trainer_config_default();
    nt_trainer_config_from_json(&any, buf);
    free(buf);
    return 0;
}
