/* commands.h - the subcommands of nextok-lm (one file each) and their help. */
#ifndef NT_LM_COMMANDS_H
#define NT_LM_COMMANDS_H

#include <stdio.h>

int cmd_train(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_eval(int argc, char **argv);
void cmd_train_usage(FILE *out);
void cmd_sample_usage(FILE *out);
void cmd_eval_usage(FILE *out);

#endif
