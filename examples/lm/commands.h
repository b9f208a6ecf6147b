/* commands.h - the subcommands of nextok-lm (one file each). */
#ifndef NT_LM_COMMANDS_H
#define NT_LM_COMMANDS_H

int cmd_train(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_eval(int argc, char **argv);

#endif
