/* cli.h - what the nextok-translate subcommands share: option parsing (the
 * trainer's options, model presets), reading corpora, batched translation of
 * untrusted lines, and the HTML report of a run.
 *
 *     cli_translator tr;
 *     if (cli_translator_open(&tr, "runs/demo/checkpoint-best.h5") != NT_OK) ...
 *     tr.gen.num_beams = 4;
 *     const char *lines[2] = {"forty-two", "seven hundred"};
 *     cli_hyp hyps[2];                       // one per line (gen.num_return_sequences each)
 *     cli_translate(&tr, lines, 2, hyps, 1);  // 1: print per-line problems on stderr
 *     puts(hyps[0].text[0]);                  // "quarante-deux"
 *     cli_hyps_free(hyps, 2);
 *     cli_translator_close(&tr);
 *
 * Every function returns an nt_status with nt_errmsg() set (the callers
 * print it and exit 1), or for the parsers 1 / 0 / -1 as documented.
 */
#ifndef NT_TRANSLATE_CLI_H
#define NT_TRANSLATE_CLI_H

#include <stdio.h>

#include "../common/run_dir.h"
#include "../common/trainer_opts.h"
#include "core/opts.h"
#include "data/corpus.h"
#include "data/tokenizer.h"
#include "data/tsv.h"
#include "nn/generate.h"
#include "nn/model.h"
#include "train/trainer.h"

/* ---- options ------------------------------------------------------------------ */

/* The trainer's options: ex_trainer_opts(..., EX_TRAINER_PAIRS) (examples/common/trainer_opts.h). */

/* The decoding options shared by translate and eval, bound to *g. */
#define CLI_GENERATE_NOPTS 11
void cli_generate_opts(nt_opt out[CLI_GENERATE_NOPTS], nt_generate_config *g);
/* Checks the combination (e.g. --top-k without --do-sample is fine, --nbest
 * above --num-beams is not): -1 if fine, else prints the usage error and returns 2. */
int cli_generate_check(const nt_opts *cmd, const nt_generate_config *g);

/* Model presets, in the order of cli_preset_choices() ("tiny|small|base").
 * Sets arch encdec (vocab_size left 0). */
enum { CLI_PRESET_TINY, CLI_PRESET_SMALL, CLI_PRESET_BASE };
const char *cli_preset_choices(void);
void cli_preset(int which, nt_model_config *mc);

/* Sets the thread count from --threads (0: keep OpenMP's default). */
void cli_threads(long n);

/* nt_errmsg() without the library functions it names first ("nt_tsv_read: "):
 * what a user of the CLI reads. */
const char *cli_errmsg(void);

/* The OpenMP wait policy in force, for --help (examples/common/omp_policy.h). */
const char *cli_omp_policy_help(void);

/* ---- corpora ------------------------------------------------------------------ */

/* Reads one or more TSV files (comma-separated in `paths`) into *out, one
 * table of pairs in file order; "FILE*K" takes FILE's pairs K times
 * (upsampling a small file). NT_ERR_IO / NT_ERR_FORMAT naming file:line,
 * NT_ERR_ARG for a bad repeat count. */
typedef struct cli_pairs {
    int n;
    const char **src, **tgt;  /* (n) point into the tables */
    nt_tsv **tables;
    int n_tables;
} cli_pairs;
nt_status cli_pairs_read(cli_pairs *out, const char *paths);

/* The notes on what reading t repaired (a byte-order mark dropped, spaces
 * around fields trimmed; see data/tsv.h), one line each on stderr. */
void cli_tsv_notes(const nt_tsv *t);
void cli_pairs_free(cli_pairs *p);

/* The tokenizer for `name` ("char", "word" or "auto": word unless the texts
 * hold more than CLI_AUTO_WORD_MAX distinct words, then char). */
#define CLI_AUTO_WORD_MAX 1000
#define CLI_AUTO_WORD_MAX_TEXT "1000"
nt_status cli_tokenizer_choose(const char *name, const cli_pairs *p, nt_tokenizer_kind *out);

/* Corpus of pairs p encoded with v; warns on stderr about <unk> ids. */
nt_status cli_corpus(nt_corpus **out, const cli_pairs *p, const nt_vocab *v, const char *what);

/* ---- translation ---------------------------------------------------------------- */

typedef struct cli_translator {
    nt_model *model;
    nt_vocab *vocab;
    nt_ctx *ctx;
    nt_generate_config gen;   /* greedy by default, max_new_tokens = the model's max_len */
    int batch;                /* sources per nt_generate call (default 32) */
    /* a number-translation model (data/numbers.h's nt_numbers_vocab): a line
     * with tokens outside the vocabulary is rejected, naming them (other
     * models read them as <unk>, with a warning) */
    int numbers;
    int normalize;            /* normalise each line first (default: numbers) */
} cli_translator;

/* Loads a checkpoint (full or weights-only). */
nt_status cli_translator_open(cli_translator *t, const char *ckpt);
void cli_translator_close(cli_translator *t);

/* The translations of one source line. */
typedef struct cli_hyp {
    int n;             /* hypotheses (num_return_sequences), 0 if the line was rejected */
    char **text;       /* (n) UTF-8, best first */
    float *score;      /* (n) score_norm of each */
    int *finished;     /* (n) 1 if it ended with <eos>, 0 if the length limit cut it (ranked
                          after every finished one, see nn/generate.h) */
    char error[240];   /* why the line was rejected, "" if it was not */
    /* with gen.output_attentions: the best hypothesis' tokens and weights */
    int n_src_tokens, n_out_tokens;
    char **src_tokens, **out_tokens; /* with <eos> */
    float *attn;                     /* (n_out_tokens, n_src_tokens) */
} cli_hyp;

#define CLI_NORMALIZE_HELP                                                                                     \
    "number models (whose vocabulary holds only number words or digits): read each line as typed. By default it " \
    "is normalised first: letters to lower case, spaces around and repeated dropped, a space or hyphen between "  \
    "tens and units, 'and' and commas (en), 'et' and plural s (fr), spaces in the compound (de), thousands "       \
    "separators (digits), all written as the training data writes them (docs/translate.md)"

/* Translates n lines into hyps[0..n). A line that is invalid UTF-8, cannot
 * be tokenized, is too long for the model or (a number model) holds tokens
 * outside the vocabulary gets hyps[i].n = 0 and an error
 * (printed on stderr with its 1-based number line0 + i when `verbose`); an
 * empty line gets n = 0 and no error; the other lines are translated. Returns an error only for failures that are
 * not about a line (memory, the model). */
nt_status cli_translate(cli_translator *t, const char *const *lines, int n, cli_hyp *hyps,
                        int line0, int verbose);
void cli_hyps_free(cli_hyp *hyps, int n);

/* ---- report -------------------------------------------------------------------- */

/* Writes run_dir/report.html from run_dir/metrics.jsonl, the summary of
 * checkpoint `ckpt` (its /train state when present) and cross-attention
 * heatmaps of up to n_samples sources of `samples_tsv` (NULL or unreadable:
 * no heatmaps, a note on stderr). *written receives the report's path. */
nt_status cli_report_write(const char *run_dir, const char *ckpt, const char *samples_tsv, int n_samples,
                           char *written, size_t cap);

/* ---- training (train, train --resume, finetune) ---------------------------------- */

/* Prints what is about to be trained, runs the trainer on (model, vocab,
 * train, valid) with *tc, writes the report and prints where everything is.
 * Returns the exit status: 0 (budget reached, early stop, or interrupted with
 * a checkpoint saved), 1 on failure (message printed). */
int cli_run_training(const char *cmd, nt_trainer_config *tc, nt_model *model, const nt_vocab *vocab,
                     const cli_pairs *train, const cli_pairs *valid);

/* RUN's checkpoints, metrics and report (--overwrite, --resume): examples/common/run_dir.h. */

/* ---- checkpoints ---------------------------------------------------------------- */

/* The /train state of a checkpoint if it has one: 1 and *ts filled, 0 if
 * the file is weights-only; -1 on error (nt_errmsg set). */
int cli_ckpt_train_state(const char *path, nt_train_state *ts);

#endif
