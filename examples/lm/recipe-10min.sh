#!/bin/sh
# recipe-10min.sh RUN_DIR [TEXT] [MINUTES] - nextok-lm's own recipe for a
# fixed wall-clock budget on 2 cores (default 10 minutes), aiming at a
# validation loss <= 1.47 per character on Tiny Shakespeare (what nanoGPT's
# GPU recipe, 6 layers x 384, context 256, 5,000 iterations of 64 x 256,
# reaches). Ends with one line: val_loss=<final validation loss>
# seconds=<wall time>.
#
# The recipe (the defaults below):
#  - SentencePiece BPE, 1,024 pieces learned from the training part (2.376
#    characters per token on this text): at the same context in tokens the
#    model sees ~2.4x the characters per position and per FLOP of the char
#    tokenizer. Losses are per character either way.
#  - the `10min` preset: 6 layers x 128, 4 heads, context 128 tokens (~300
#    characters), batch 16 windows = 2,048 tokens per update, 1.3M
#    parameters. By compute: ~1e14 FLOP in 10 minutes is compute-optimal
#    for ~1M parameters (Chinchilla's 20 tokens per parameter).
#  - AdamW lr 3e-3, 200 warm-up updates, cosine to 1e-4 over the budget
#    (`--minutes` alone: the schedule's end follows the clock), beta2 0.99,
#    weight decay 0.1, gradient clip 1, dropout 0.2, bf16 products (fp32
#    master weights; PRECISION=fp32 for the float32 run).
#
# What was measured (3 December 2026, 2 cores of an AMD EPYC, Zen 4 class,
# bf16; validation loss per character; the machine's quiet 10 minutes make
# ~6,550 updates of this preset with SentencePiece, ~5,400 with characters):
#   characters, no dropout, 10 minutes                5,374 updates  1.528
#   spm bpe 1024, dropout 0.1, 10 minutes (quiet)     6,553 updates  1.511
#   spm bpe 1024, dropout 0.2, 6,500 updates fixed    6,500 updates  1.508
#   spm, 6 x 192 (2.9M parameters), dropout 0.2,     3,100 updates  1.526
#     lr 2e-3 (a step costs ~1.5x the 6 x 128's: 0.7x its CPU time)
# The last three were the lead's runs at 16:09-16:50 with a cosine over
# the fixed update count (the number 10 quiet minutes give), one thread
# each on a shared machine: the loss at a fixed update count does not
# depend on the load. Validation flattens at ~1.51 from update ~5,000 while
# training loss keeps falling (~1.05-1.15 per character, the 31st pass over
# the text): more dropout moved it by 0.003; a 2.2x larger model for 0.7x
# the CPU time ended higher. 1.47 is out of reach of this budget so far.
# The hour: PRESET=60min recipe-10min.sh RUN "" 60 (6 x 192, context 256,
# 2.9M parameters): 9,711 updates, best validation 1.5141 at update 2,500
# (~15 minutes), 1.6934 at the end: it overfits; more time does not help.
#
# Environment: NEXTOK_LM (the binary), THREADS (default 2), PRECISION (fp32
# or bf16, default bf16 here), PRESET (default 10min), LR (default 3e-3), DROPOUT
# (default 0.2), TOKENIZER (char or spm, default spm), VOCAB (spm pieces,
# default 1024), SPM_TYPE (bpe or unigram, default bpe), EXTRA (more train
# flags).
set -eu
USAGE="RUN_DIR [TEXT] [MINUTES]"
HERE=$(cd "$(dirname "$0")" && pwd)
PRECISION=${PRECISION:-bf16}
. "$HERE/recipe-common.sh"
MINUTES=${3:-10}
PRESET=${PRESET:-10min}
LR=${LR:-3e-3}
DROPOUT=${DROPOUT:-0.2}
TOKENIZER=${TOKENIZER:-spm}
VOCAB=${VOCAB:-1024}
SPM_TYPE=${SPM_TYPE:-bpe}
case $TOKENIZER in
char) TOK_FLAGS="" ;;
spm) TOK_FLAGS="--tokenizer spm --vocab-size $VOCAB --spm-type $SPM_TYPE" ;;
*)
    echo "$0: TOKENIZER must be char or spm (got '$TOKENIZER')" >&2
    exit 2
    ;;
esac

# shellcheck disable=SC2086 # TOK_FLAGS, EXTRA: flags, split on spaces
recipe_run --text "$TEXT" --out "$RUN" --overwrite --preset "$PRESET" \
    --minutes "$MINUTES" --lr "$LR" --warmup 200 --schedule cosine --lr-min 1e-4 \
    --beta2 0.99 --weight-decay 0.1 --clip 1 --dropout "$DROPOUT" \
    --valid-fraction 0.1 --eval-every 250 --eval-iters 20 --log-every 100 \
    --seed 1337 --threads "$THREADS" --precision "$PRECISION" --progress lines $TOK_FLAGS ${EXTRA:-}
