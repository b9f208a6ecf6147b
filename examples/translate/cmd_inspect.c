/* cmd_inspect.c - `nextok-translate inspect`: what a checkpoint holds. */
#include <math.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "core/alloc.h"
#include "train/checkpoint.h"
#include "train/dist.h"

/* The SentencePiece model of an spm vocabulary: how it was trained, and a
 * sample of its pieces (the first learned ones, after the specials and bytes). */
static void print_spm(const nt_spm *sp, const nt_vocab *v) {
    nt_spm_info info;
    nt_spm_get_info(sp, &info);
    const uint8_t *b;
    size_t nb;
    nt_spm_bytes(sp, &b, &nb);
    int bytes = 0, control = 0, first = -1;
    for (int i = 0; i < nt_spm_size(sp); i++) {
        nt_spm_piece_kind k = nt_spm_piece_kind_of(sp, i);
        bytes += k == NT_SPM_BYTE;
        control += k == NT_SPM_CONTROL;
        if (first < 0 && (k == NT_SPM_NORMAL || k == NT_SPM_USER_DEFINED)) first = i;
    }
    printf("sentencepiece: %s, %d pieces (%d control, %d bytes), byte fallback %s, character coverage %g,\n"
           "              normalization %s, %zu bytes in /vocab/spm_model (export-spm writes it)\n",
           info.type, nt_spm_size(sp), control, bytes, info.byte_fallback ? "on" : "off", info.character_coverage,
           info.normalization, nb);
    int same = 1;
    for (int i = 0; i < nt_spm_size(sp) && same; i++) same = strcmp(nt_spm_piece(sp, i), nt_vocab_token(v, i)) == 0;
    printf("ids:          %s\n", same ? "checkpoint ids = SentencePiece ids (specials at 0..4)"
                                        : "SentencePiece ids mapped around the specials 0..4 (data/vocab.h)");
    if (first >= 0) {
        printf("pieces:       ");
        int col = 14;
        for (int i = first; i < nt_spm_size(sp) && i < first + 24; i++) {
            const char *p = nt_spm_piece(sp, i);
            if (col + (int)strlen(p) > 100) break;
            col += printf("%s ", p);
        }
        printf("...\n");
    }
}

int cmd_inspect(int argc, char **argv) {
    const char *path = NULL;
    nt_opt none[] = {{0}};
    nt_opts cmd = {"nextok-translate inspect", "usage: nextok-translate inspect C",
                   "Prints checkpoint C's architecture, sizes, parameter count, vocabulary, and for a full checkpoint "
                   "its training step, tokens, time and best validation metric.",
                   .opts = none, .positional = "C", .args = &path, .max_args = 1, .min_args = 1};
    int rc = nt_opts_parse(&cmd, argc, argv);
    if (rc >= 0) return rc;
    nt_model *m = NULL;
    nt_vocab *v = NULL;
    if (nt_ckpt_load(path, &m, &v) != NT_OK) {
        fprintf(stderr, "nextok-translate inspect: %s\n", cli_errmsg());
        return 1;
    }
    nt_train_state *ts = nt_malloc(sizeof *ts);
    int has = ts ? cli_ckpt_train_state(path, ts) : -1;
    if (has < 0) {
        fprintf(stderr, "nextok-translate inspect: %s\n", ts ? cli_errmsg() : "out of memory");
        nt_free(ts), nt_model_free(m), nt_vocab_free(v);
        return 1;
    }
    const nt_model_config *c = &m->cfg;
    printf("checkpoint:   %s (%s)\n", path, has ? "full: weights, optimizer, training state" : "weights only");
    printf("architecture: %s\n", c->arch == NT_ARCH_ENCDEC ? "encdec (encoder-decoder)" : "decoder (decoder-only)");
    printf("d_model:      %d\nheads:        %d\nlayers:       %d encoder, %d decoder\nmax_len:      %d\n", c->d_model,
           c->heads, c->enc_layers, c->dec_layers, c->max_len);
    printf("parameters:   %lld\n", (long long)nt_model_num_params(m));
    printf("vocabulary:   %d tokens (%s tokenizer, 5 specials)\n", nt_vocab_size(v),
           nt_tokenizer_kind_name(nt_vocab_kind(v)));
    if (nt_vocab_kind(v) == NT_TOKENIZER_WORD) /* /vocab attribute split_digits (data/tokenizer.h) */
        printf("digits:       %s\n", nt_vocab_split_digits(v)
                                          ? "split_digits: every digit a token of its own (\"123\" -> \"\xE2\x96\x81" "1 2 3\")"
                                          : "digit runs are part of their word (a vocabulary from before split_digits)");
    if (nt_vocab_spm(v)) print_spm(nt_vocab_spm(v), v);
    if (nt_vocab_spm_src(v)) /* --spm-separate: the model above is the target's */
        printf("source model: SentencePiece, %d pieces in /vocab/spm_model_src (export-spm --side source); the "
               "target model above has ids 0..%d, the source pieces ids %d..%d\n",
               nt_spm_size(nt_vocab_spm_src(v)), nt_vocab_target_size(v) - 1, nt_vocab_target_size(v),
               nt_vocab_size(v) - 1);
    if (has) {
        nt_trainer_config tc = nt_trainer_config_default();
        int opts = ts->options[0] && nt_trainer_config_from_json(&tc, ts->options) == NT_OK;
        printf("step:         %lld updates (epoch %lld)\n", (long long)ts->step, (long long)ts->epoch);
        printf("trained on:   %lld tokens (source + target) in %.1f s\n", (long long)ts->tokens, ts->seconds);
        if (isfinite(ts->best_metric)) {
            int pct = opts && (tc.metric == NT_TRAINER_METRIC_TOKEN_ACC || tc.metric == NT_TRAINER_METRIC_EXACT_MATCH);
            printf("best metric:  %s %.6g%s at step %lld\n", opts ? nt_trainer_metric_name(tc.metric) : "?",
                   pct ? 100 * ts->best_metric : ts->best_metric, pct ? "%" : "", (long long)ts->best_step);
        } else {
            printf("best metric:  none (no evaluation yet)\n");
        }
        if (opts) {
            printf("optimizer:    %s, lr %g, %s schedule, warmup %lld\n", nt_optim_kind_name(tc.optim), tc.lr,
                   nt_schedule_kind_name(tc.schedule), (long long)tc.warmup);
            printf("data:         train %s, valid %s\n", tc.train_path, tc.valid_path);
        }
    }
    printf("this build:   %s\n", nt_dist_build_info());
    nt_free(ts);
    nt_model_free(m);
    nt_vocab_free(v);
    return 0;
}
