/* trainer_opts.h - the trainer's command-line options (--steps, --lr, ...),
 * one table for every CLI that trains: `nextok-lm train` and
 * `nextok-translate train|finetune`. The pair trainer (the translator) gets
 * its pair-only options on top: batches sized in tokens, length buckets,
 * exact match at evaluation, frozen parameters.
 *
 *     nt_trainer_config given = nt_trainer_config_default();   // the help shows these defaults
 *     nt_opt topts[EX_TRAINER_NOPTS];
 *     ex_trainer_opts(topts, &given, EX_TRAINER_TEXT);
 *     nt_opt opts[] = {..., {.kind = NT_OPT_GROUP, .help = "trainer options:", .dest = topts}, {0}};
 *     ... nt_opts_parse(&cmd, argc, argv) ...
 *     ex_trainer_budget_apply(&given, &cmd);
 *     // on --resume: the stored options, then the flags given now on top
 *     ex_trainer_opts_copy(&stored, topts, &given);
 */
#ifndef NT_EXAMPLES_TRAINER_OPTS_H
#define NT_EXAMPLES_TRAINER_OPTS_H

#include "core/opts.h"
#include "train/trainer.h"

/* Which trainer: text windows (nextok-lm) or sentence pairs (nextok-translate). */
enum { EX_TRAINER_TEXT, EX_TRAINER_PAIRS };

/* Room for the table with every option and its end entry. */
#define EX_TRAINER_NOPTS 40

/* The trainer's options as a table bound to *tc (the defaults shown in the
 * help are tc's values now), ending with a zero entry; `which` adds the pair
 * trainer's options. For a command's table to include with an NT_OPT_GROUP
 * entry whose .dest is out. */
void ex_trainer_opts(nt_opt out[EX_TRAINER_NOPTS], nt_trainer_config *tc, int which);

/* Copies into dst the trainer options that were given on the command line
 * (table: from ex_trainer_opts bound to src, after nt_opts_parse). */
void ex_trainer_opts_copy(nt_trainer_config *dst, const nt_opt *table, const nt_trainer_config *src);

/* The budget rule after parsing: --minutes alone clears the step budget,
 * --steps alone clears the time budget; a default warmup that would not fit
 * in --steps becomes a tenth of it. */
void ex_trainer_budget_apply(nt_trainer_config *tc, const nt_opts *cmd);

#endif
