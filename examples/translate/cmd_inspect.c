/* cmd_inspect.c - `nextok-translate inspect`: what a checkpoint holds. */
#include <math.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "core/alloc.h"
#include "train/checkpoint.h"
#include "train/dist.h"

void cmd_inspect_usage(FILE *out) {
    fprintf(out,
            "usage: nextok-translate inspect C\n"
            "\n"
            "Prints checkpoint C's architecture, sizes, parameter count, vocabulary, and for a full\n"
            "checkpoint its training step, tokens, time and best validation metric.\n");
}

int cmd_inspect(int argc, char **argv) {
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cmd_inspect_usage(stdout);
            return 0;
        }
        if (argv[i][0] == '-' || path) {
            fprintf(stderr, "nextok-translate inspect: %s \"%s\"\n\n", argv[i][0] == '-' ? "unknown option" : "unexpected argument",
                    argv[i]);
            cmd_inspect_usage(stderr);
            return 2;
        }
        path = argv[i];
    }
    if (!path) {
        fprintf(stderr, "nextok-translate inspect: which checkpoint?\n\n");
        cmd_inspect_usage(stderr);
        return 2;
    }
    nt_model *m = NULL;
    nt_vocab *v = NULL;
    if (nt_ckpt_load(path, &m, &v) != NT_OK) {
        fprintf(stderr, "nextok-translate inspect: %s\n", nt_errmsg());
        return 1;
    }
    nt_train_state *ts = nt_malloc(sizeof *ts);
    int has = ts ? cli_ckpt_train_state(path, ts) : -1;
    if (has < 0) {
        fprintf(stderr, "nextok-translate inspect: %s\n", ts ? nt_errmsg() : "out of memory");
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
    if (has) {
        nt_trainer_config tc = nt_trainer_config_default();
        int opts = ts->options[0] && nt_trainer_config_from_json(&tc, ts->options) == NT_OK;
        printf("step:         %lld updates (epoch %lld)\n", (long long)ts->step, (long long)ts->epoch);
        printf("trained on:   %lld tokens (source + target) in %.1f s\n", (long long)ts->tokens, ts->seconds);
        if (isfinite(ts->best_metric)) {
            int pct = opts && (tc.metric == NT_METRIC_TOKEN_ACC || tc.metric == NT_METRIC_EXACT_MATCH);
            printf("best metric:  %s %.6g%s at step %lld\n", opts ? nt_metric_name(tc.metric) : "?",
                   pct ? 100 * ts->best_metric : ts->best_metric, pct ? "%" : "", (long long)ts->best_step);
        } else {
            printf("best metric:  none (no evaluation yet)\n");
        }
        if (opts) {
            printf("optimizer:    %s, lr %g, %s schedule, warmup %lld\n", nt_optim_kind_name(tc.optim), tc.lr,
                   nt_sched_kind_name(tc.schedule), (long long)tc.warmup);
            printf("data:         train %s, valid %s\n", tc.train_path, tc.valid_path);
        }
    }
    printf("this build:   %s\n", nt_dist_build_info());
    nt_free(ts);
    nt_model_free(m);
    nt_vocab_free(v);
    return 0;
}
