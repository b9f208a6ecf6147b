/* commands.h - the subcommands of nextok-translate (one file each: cmd_<name>.c).
 *
 * Each takes the arguments after its name (argv[0] is the subcommand name),
 * parses them with its option table (core/opts.h: --help comes from it) and
 * returns the process exit status: 0 on success, 1 on a runtime failure, 2 on
 * a usage error (the message and a line pointing to --help on stderr).
 */
#ifndef NT_TRANSLATE_COMMANDS_H
#define NT_TRANSLATE_COMMANDS_H

int cmd_data(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_translate(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_finetune(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_export_spm(int argc, char **argv);

#endif
