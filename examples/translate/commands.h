/* commands.h - the subcommands of nextok-translate (one file each: cmd_<name>.c).
 *
 * Each takes the arguments after its name (argv[0] is the subcommand name)
 * and returns the process exit status: 0 on success, 1 on a runtime failure,
 * 2 on a usage error (after printing the message and the usage to stderr).
 */
#ifndef NT_TRANSLATE_COMMANDS_H
#define NT_TRANSLATE_COMMANDS_H

#include <stdio.h>

int cmd_data(int argc, char **argv);
void cmd_data_usage(FILE *out);
int cmd_train(int argc, char **argv);
void cmd_train_usage(FILE *out);
int cmd_translate(int argc, char **argv);
void cmd_translate_usage(FILE *out);
int cmd_eval(int argc, char **argv);
void cmd_eval_usage(FILE *out);
int cmd_finetune(int argc, char **argv);
void cmd_finetune_usage(FILE *out);
int cmd_inspect(int argc, char **argv);
void cmd_inspect_usage(FILE *out);
int cmd_report(int argc, char **argv);
void cmd_report_usage(FILE *out);
int cmd_export_spm(int argc, char **argv);
void cmd_export_spm_usage(FILE *out);

/* Parses a non-negative decimal int for flag `flag` ("--train"); prints a
 * message and returns 0 on failure. Shared by the subcommands. */
int nt_cli_parse_int(const char *flag, const char *value, long min, long max, long *out);
int nt_cli_parse_u64(const char *flag, const char *value, unsigned long long *out);

#endif
