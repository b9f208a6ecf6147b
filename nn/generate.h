/* generate.h - text generation: the model's forward in a for-loop (greedy,
 * sampling, beam search), with a KV cache.
 *
 * Generation is sequence classification in a loop: run the decoder, take the
 * logits of the last position, choose a token, append it, repeat until <eos>
 * or max_new_tokens. The options carry HuggingFace generate()'s names.
 *
 *     nt_generate_config g = nt_generate_config_default();    // greedy, cache on
 *     g.num_beams = 4;  g.num_return_sequences = 2;  g.max_new_tokens = 40;
 *     const int32_t *src[2] = {ids0, ids1};  int len[2] = {7, 12};  // no specials
 *     nt_generate_result res;
 *     NT_TRY(nt_generate(&model->net, ctx, &res, &g, src, len, 2));
 *     nt_generate_seq *best = nt_generate_result_get(&res, 1, 0); // source 1, best
 *     // best->tokens[0 .. best->len): the output without <bos>/<eos>
 *     nt_generate_result_free(&res);
 *
 * Inputs: encoder-decoder models read `source <eos>` in the encoder and start
 * the decoder at <bos>; decoder-only models read the prompt `<bos> source
 * <sep>` (or, with raw_prompt, the source as given) and continue it. Rows
 * leave the batch when they finish, and the tokens chosen for a source (and
 * their scores) never depend on the other sources of the batch or on the
 * batch size: bitwise, at every ISA level (test_infer).
 *
 * The transformer runs nn/infer.h (no tape, KV cache, each source encoded
 * once, every row at its own positions, the weights streamed once per step
 * for all rows; bf16 weights when ctx's precision is NT_PREC_BF16). With
 * output_attentions, or use_cache 0 (the reference: the full forward on the
 * growing prefix), it runs the graph path of nn/model.h instead (padded
 * batches; the same tokens to float rounding).
 *
 * Scores: `score` is the sum over the generated tokens (<eos> included) of
 * log softmax of the logits after the repetition penalty and the n-gram ban
 * (temperature, top-k and top-p shape only what is drawn, not the score).
 * `score_norm` = score / length^length_penalty, length = tokens generated,
 * <eos> included; beam search ranks by it.
 *
 * Any model of the model interface (nn/net.h) generates through the same
 * code: nt_generate asks the model's decode_plan() which sources one
 * stepper takes (a batch of at most 256 rows), then runs its stepper() (the
 * transformer: nn/infer.h, KV cache, encoder run once) or, for a model that
 * only has next_logits(), a stepper that builds the sequences <bos> source
 * + generated and asks for the next-token logits of every live row at each
 * step. Streaming (on_token), suppressed tokens and the sliding window past
 * the model's context (context_keep) work the same for every model:
 * `nextok-lm sample`, `nextok-translate` and examples/custom all call
 * nt_generate.
 *
 * Strategies: do_sample -> sampling; else num_beams > 1 -> beam search; else
 * greedy. The loop itself is model-agnostic (nt_generate_run over an
 * nt_generate_stepper), so strategies can be run and tested on any
 * next-token distribution.
 */
#ifndef NT_GENERATE_H
#define NT_GENERATE_H

#include "core/tokens.h"
#include "nn/model.h"

/* The special token ids under generation's older names (core/tokens.h is the
 * one definition). */
enum { NT_GEN_PAD = NT_TOK_PAD, NT_GEN_BOS = NT_TOK_BOS, NT_GEN_EOS = NT_TOK_EOS, NT_GEN_UNK = NT_TOK_UNK,
       NT_GEN_SEP = NT_TOK_SEP };

typedef struct nt_generate_config {
    int max_new_tokens;        /* tokens generated at most, <eos> included (>= 1; default 64).
                                  Also capped by the model's max_len positions. */
    int do_sample;             /* 1: draw from the distribution (default 0) */
    float temperature;         /* > 0, sampling only (default 1) */
    int top_k;                 /* >= 0, 0 = off; sampling only (default 0) */
    float top_p;               /* (0, 1], 1 = off; sampling only (default 1) */
    int num_beams;             /* >= 1 (default 1); > 1 = beam search */
    float length_penalty;      /* alpha in score / length^alpha (default 1) */
    int num_return_sequences;  /* per source: 1 for greedy, <= num_beams for beams,
                                  any >= 1 independent draws when sampling (default 1) */
    float repetition_penalty;  /* > 0, 1 = off (default 1); over the generated tokens */
    int no_repeat_ngram_size;  /* >= 0, 0 = off; over the generated tokens */
    uint64_t seed;             /* sampling: draw j of every source uses its own stream: the
                                  generator seeded with seed, from position j * 2^40 (default 0) */
    int use_cache;             /* 1: KV cache (default); 0: rerun the full forward on the
                                  growing prefix (the reference path) */
    int output_attentions;     /* 1: return cross-attention weights (encoder-decoder; runs the
                                  graph path, nn/model.h, instead of nn/infer.h) */
    int raw_prompt;            /* decoder-only: 1 = read each source as the whole prompt
                                  (the caller adds <bos> if it wants one; no <sep>), 0 = the
                                  prompt is <bos> source <sep> (default) */
    const int32_t *suppress_tokens; /* ids never generated (HF's suppress_tokens): their logits
                                  are -inf before every strategy and in the scores; NULL = none.
                                  Suppressing <eos> makes every output run to its limit. */
    int n_suppress_tokens;     /* >= 0, ids in [0, V) */
    int context_keep;          /* 0 (default): the model's positions (nt_net.max_len) cap the
                                  tokens generated. > 0, decoder-only: a sliding window - once a
                                  row's sequence (prompt + generated) outgrows the model's context
                                  of max_len tokens, it restarts from its last context_keep tokens
                                  (<= max_len) and the model recomputes them ("crop and
                                  recompute"; context_keep = max_len: every token sees exactly the
                                  last max_len tokens); a longer prompt is cropped the same way,
                                  and only max_new_tokens limits the output. */
    int first_sequence;        /* sampling: the draws of this call are numbered from here (draw
                                  j uses stream first_sequence + j), so samples generated one call
                                  at a time equal those of one call (default 0) */
    /* Streaming (greedy and sampling; NT_ERR_ARG with beam search, whose tokens are not final
     * until the end): called for every token appended to an output (not <eos>), in step order,
     * with the source, the sequence index j (first_sequence not added) and the logits (V) the
     * token was chosen from (after suppress_tokens and the penalties, before temperature,
     * top-k and top-p). A status other than NT_OK stops generation and is returned wrapped. */
    nt_status (*on_token)(void *user, int source, int sequence, int32_t token, const float *logits);
    void *on_token_user;
} nt_generate_config;

nt_generate_config nt_generate_config_default(void);

/* Checks every field; NT_ERR_ARG naming the field, its value and the range
 * ("nt_generate: top_p 1.5 outside (0, 1]"). */
nt_status nt_generate_config_check(const nt_generate_config *cfg);

/* One output sequence. */
typedef struct nt_generate_seq {
    int32_t *tokens;   /* (len) without <bos>/<eos> */
    int len;
    int finished;      /* 1 if it ended with <eos>, 0 if a length limit stopped it */
    float score;       /* sum of log-probs of the generated tokens (<eos> included) */
    float score_norm;  /* score / (len + finished)^length_penalty */
    float *attn;       /* (attn_rows, attn_cols) or NULL: row k = cross-attention of the
                          step that produced output token k (<eos> included), averaged
                          over heads, last decoder layer; columns = source tokens + <eos> */
    int attn_rows, attn_cols;
} nt_generate_seq;

/* Results of one call, owned by this object (release with nt_generate_result_free). */
typedef struct nt_generate_result {
    int n_sources;
    int n_per_source;        /* num_return_sequences */
    /* seqs: per source best first; with beam search the finished sequences
     * (ended with <eos>) come before any a length limit cut, which appear only
     * when fewer than num_return_sequences finished ones were found */
    nt_generate_seq *seqs;   /* [n_sources * n_per_source], best first per source */
} nt_generate_result;

/* Sequence k (0 = best) of source i, or NULL if out of range. */
nt_generate_seq *nt_generate_result_get(const nt_generate_result *r, int i, int k);
/* Frees what r owns and zeroes it; NULL or an already freed result is a no-op. */
void nt_generate_result_free(nt_generate_result *r);

/* Generates for n sources, in batches the model takes (its decode_plan;
 * outputs never depend on the split). src[i] holds src_len[i] token ids without specials
 * (src_len[i] may be 0). ctx is the scratch arena of the decode steps: it is
 * reset (everything in it released) and its grad mode is off during the call.
 * On success *res owns the outputs; on error *res is zeroed and holds nothing.
 * Errors: NT_ERR_ARG for a bad config (see nt_generate_config_check), a NULL
 * argument, a token id outside [0, V), a source longer than the model's
 * max_len allows ("source 3: prompt of 260 tokens exceeds max_len 256"), or
 * output_attentions on a decoder-only model; NT_ERR_NOMEM; any status of the
 * model's forward. */
nt_status nt_generate(nt_net *net, nt_ctx *ctx, nt_generate_result *res,
                      const nt_generate_config *cfg, const int32_t *const *src, const int *src_len,
                      int n);

/* ---- the loop, independent of the network ------------------------------------
 * A stepper produces next-token logits for the live rows of a batch. Row i
 * starts as source i (one row per source); after each step the loop calls
 * select() with the rows it keeps (finished rows dropped, beams reordered by
 * parent, a row repeated to fork beams or samples). */
typedef struct nt_generate_stepper {
    void *user;
    int vocab_size;   /* V */
    int attn_cols;    /* > 0: step() can fill attention rows of this width */
    /* logits (n, V): next-token logits of row r given its generated prefix
     * tokens[r * stride .. r * stride + t) (t tokens so far, the same for
     * every live row). attn (n, attn_cols) or NULL: the cross-attention of
     * this step's query. */
    nt_status (*step)(void *user, float *logits, float *attn, const int32_t *tokens, int stride,
                      int n, int t);
    /* Row r becomes old row src_rows[r] for r < n_new (n_new may exceed the
     * current row count when rows fork; never more than n_sources *
     * max(num_beams, num_return_sequences)). */
    nt_status (*select)(void *user, const int *src_rows, int n_new);
    /* Releases the stepper (nt_generate_stepper_free calls it); NULL for a
     * stepper its caller owns. */
    void (*free)(struct nt_generate_stepper *st);
} nt_generate_stepper;

/* Runs the strategy of cfg over a stepper for n sources. max_tokens (or NULL)
 * caps source i at min(max_tokens[i], cfg->max_new_tokens) generated tokens.
 * Allocates all its buffers before the first step (none per token).
 * Same result and error contract as nt_generate; a status returned by the
 * stepper comes back wrapped ("nt_generate: step 3: ..."). */
nt_status nt_generate_run(const nt_generate_stepper *st, nt_generate_result *res,
                          const nt_generate_config *cfg, int n, const int *max_tokens);

/* Beam search whatever cfg->num_beams is (also 1, which nt_generate_run
 * treats as greedy; with length_penalty 0 the two agree). A source stops when
 * its num_beams kept hypotheses provably cannot be beaten by a live beam
 * (an exact bound, HF's early_stopping="never" behaviour, not its default
 * heuristic). */
nt_status nt_generate_run_beam(const nt_generate_stepper *st, nt_generate_result *res,
                               const nt_generate_config *cfg, int n, const int *max_tokens);

/* The model as a stepper, with its KV cache (cfg->use_cache) allocated once
 * for the batch: what nt_generate runs. *limits receives the per-source cap
 * on generated tokens that the model's max_len imposes (owned by the
 * stepper). Errors as nt_generate. Free with nt_generate_stepper_free. */
nt_status nt_generate_stepper_model(nt_model *m, nt_ctx *ctx, nt_generate_stepper **out,
                                    int **limits, const nt_generate_config *cfg,
                                    const int32_t *const *src, const int *src_len, int n);
/* The sliding window of cfg.context_keep, for steppers: the first position
 * of a row's window once its sequence holds n tokens, given the window's
 * start so far (0 at first). Unchanged while n - start <= context; past it,
 * the window restarts at the last min(keep, n) tokens. keep <= 0 or
 * context <= 0: no window (0). */
int nt_generate_window_start(int n, int start, int context, int keep);

/* The transformer's decode_plan (nn/net.h): checks the sources against m
 * (errors as nt_generate) and sets *take to how many of them, from the
 * first, one nt_generate_stepper_model takes: all of them on the no-grad
 * decoder (every row at its own positions); on the graph path (use_cache 0,
 * output_attentions) those whose padded rows fit max_len together. */
nt_status nt_generate_plan_model(nt_model *m, const nt_generate_config *cfg, const int32_t *const *src,
                                 const int *src_len, int n, int *take);

/* Sources every model can take: n >= 1, src and src_len not NULL, lengths
 * >= 0, ids in [0, V). NT_ERR_ARG naming the source and token. */
nt_status nt_generate_check_sources(int V, const int32_t *const *src, const int *src_len, int n);

/* Releases a stepper through its free() (NULL is a no-op). */
void nt_generate_stepper_free(nt_generate_stepper *st);

/* A stepper over a model's next_logits() (nn/net.h): row r's sequence is
 * <bos>, its source (or the source as given, cfg.raw_prompt), then the
 * tokens generated so far - or its sliding window (cfg.context_keep) - and
 * every step asks the model for the next-token logits of all live rows.
 * *limits caps each source at max_new_tokens, and, without a window, at
 * the model's max_len positions when it has one. NT_ERR_ARG if the model
 * has no next_logits; errors as nt_generate. */
nt_status nt_generate_stepper_net(nt_net *net, nt_ctx *ctx, nt_generate_stepper **out, int **limits,
                                  const nt_generate_config *cfg, const int32_t *const *src,
                                  const int *src_len, int n);

#endif
