/* trainer_opts.c - the trainer's options table, shared by the CLIs that train. */
#include "trainer_opts.h"

#include <string.h>

/* auto, bar, lines, off -> nt_trainer_config.progress */
static const int PROGRESS_VALUES[4] = {-1, 1, 0, -2};

#define TC(f) ((void *)&tc->f)
void ex_trainer_opts(nt_opt out[EX_TRAINER_NOPTS], nt_trainer_config *tc, int which) {
    /* pairs: 1 for the options of the pair trainer only */
    const struct {
        int pairs;
        nt_opt o;
    } rows[] = {
        {0, {"--steps", NT_OPT_INT64, TC(steps), 0, 1e15, .help = "optimizer updates in total"}},
        {0, {"--minutes", NT_OPT_DOUBLE, TC(minutes), 0, 1e7, .arg = "M", .def = "none",
             .help = "wall-clock budget; given alone it replaces --steps"}},
        {1, {"--batch-tokens", NT_OPT_INT, TC(batch_tokens), 0, 1e8, .small = 1, .help = "padded tokens per micro-batch"}},
        {1, {"--batch-sentences", NT_OPT_INT, TC(batch_sentences), 0, 1e7, .small = 1,
             .help = "sentences per micro-batch cap, 0 = none"}},
        {0, {"--accum", NT_OPT_INT, TC(accum), 1, 1e6, .small = 1, .help = "micro-batches per update"}},
        {1, {"--buckets", NT_OPT_INT, TC(buckets), 0, 1e6, .small = 1,
             .help = "length buckets of the batcher, 0 = its default"}},
        {0, {"--optim", NT_OPT_ENUM, TC(optim), .choices = "sgd|adam|adamw", .help = "optimizer"}},
        {0, {"--lr", NT_OPT_DOUBLE, TC(lr), 0, 1e3, .help = "peak learning rate"}},
        {0, {"--lr-min", NT_OPT_DOUBLE, TC(lr_min), 0, 1e3, .help = "floor of the cosine"}},
        {0, {"--schedule", NT_OPT_ENUM, TC(schedule), .choices = "constant|cosine|inv_sqrt",
             .help = "learning-rate schedule"}},
        {0, {"--warmup", NT_OPT_INT64, TC(warmup), 0, 1e15,
             .help = "linear warmup updates (when it would not fit in --steps: a tenth of them)"}},
        {0, {"--beta1", NT_OPT_DOUBLE, TC(beta1), 0, 1, .help = "Adam beta1"}},
        {0, {"--beta2", NT_OPT_DOUBLE, TC(beta2), 0, 1, .help = "Adam beta2"}},
        {0, {"--eps", NT_OPT_DOUBLE, TC(eps), 0, 1, .help = "Adam epsilon"}},
        {0, {"--weight-decay", NT_OPT_DOUBLE, TC(weight_decay), 0, 10, .help = "AdamW/SGD weight decay"}},
        {0, {"--momentum", NT_OPT_DOUBLE, TC(momentum), 0, 1, .help = "SGD momentum"}},
        {0, {"--nesterov", NT_OPT_FLAG, TC(nesterov), .help = "SGD: Nesterov momentum"}},
        {0, {"--decay-all", NT_OPT_FLAG, TC(decay_all), .help = "weight-decay biases, LayerNorms and embeddings too"}},
        {0, {"--clip", NT_OPT_FLOAT, TC(clip), 0, 1e6, .help = "global gradient-norm limit, 0 = off"}},
        {0, {"--label-smoothing", NT_OPT_FLOAT, TC(label_smoothing), 0, 0.999, .help = "training loss only"}},
        {0, {"--dropout", NT_OPT_FLOAT, TC(dropout), 0, 0.999, .help = "dropout rate"}},
        {0, {"--precision", NT_OPT_ENUM, TC(precision), .choices = "fp32|bf16",
             .help = "bf16: matrix products on bf16 operands with fp32 accumulation, fp32 master weights, optimizer "
                     "and LayerNorm/softmax/loss (docs/precision.md; the CPU's bf16 units where it has them)"}},
        {0, {"--eval-every", NT_OPT_INT64, TC(eval_every), 0, 1e15, .help = "updates between evaluations, 0 = at the end"}},
        {0, {"--log-every", NT_OPT_INT64, TC(log_every), 0, 1e15, .help = "updates between log lines, 0 = none"}},
        {0, {"--save-every", NT_OPT_INT64, TC(save_every), 0, 1e15,
             .help = "updates between checkpoint-last saves, 0 = at evaluations"}},
        {0, {"--patience", NT_OPT_INT, TC(patience), 0, 1e6, .small = 1,
             .help = "evaluations without improvement before stopping, 0 = off"}},
        {0, {"--metric", NT_OPT_ENUM, TC(metric),
             .choices = which == EX_TRAINER_PAIRS ? "loss|ppl|token_acc|exact_match" : "loss|ppl|token_acc",
             .help = "early stopping and checkpoint-best (a tie moves it to the later evaluation)"}},
        {0, {"--target", NT_OPT_DOUBLE, TC(target), 0, 1e6,
             .help = "stop once an evaluation's --metric reaches this (accuracies as fractions), 0 = off"}},
        {1, {"--eval-exact-max", NT_OPT_INT, TC(eval_exact_max), -1, 1e9, .small = 1,
             .help = "validation sentences decoded for exact match: 0 all, -1 none"}},
        {1, {"--eval-max-new-tokens", NT_OPT_INT, TC(eval_max_new_tokens), 0, 1e6, .small = 1,
             .help = "decoding limit at evaluation, 0 = auto"}},
        {0, {"--seed", NT_OPT_U64, TC(seed), .help = "data order, dropout and initialisation"}},
        {0, {"--progress", NT_OPT_ENUM, TC(progress), .choices = "auto|bar|lines|off", .values = PROGRESS_VALUES,
             .help = "auto: a bar on a terminal, lines otherwise"}},
        {1, {"--freeze", NT_OPT_CHARS, TC(freeze), 0, NT_TRAINER_PATH_MAX, .arg = "LIST",
             .help = "comma-separated parameter-name prefixes not to train"}},
    };
    _Static_assert(sizeof rows / sizeof *rows < EX_TRAINER_NOPTS, "EX_TRAINER_NOPTS");
    int n = 0;
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
        if (!rows[i].pairs || which == EX_TRAINER_PAIRS) out[n++] = rows[i].o;
    memset(&out[n], 0, sizeof out[n]);
}
#undef TC

void ex_trainer_opts_copy(nt_trainer_config *dst, const nt_opt *table, const nt_trainer_config *src) {
    for (const nt_opt *o = table; o->kind; o++)
        if (o->given) {
            size_t off = (size_t)((const char *)o->dest - (const char *)src);
            memcpy((char *)dst + off, o->dest, nt_opt_size(o));
        }
}

void ex_trainer_budget_apply(nt_trainer_config *tc, const nt_opts *cmd) {
    int steps = nt_opts_given(cmd, "--steps"), minutes = nt_opts_given(cmd, "--minutes");
    if (minutes && !steps) tc->steps = 0;
    if (steps && !minutes) tc->minutes = 0;
    if (!nt_opts_given(cmd, "--warmup") && tc->steps > 0 && tc->warmup >= tc->steps) tc->warmup = tc->steps / 10;
}
