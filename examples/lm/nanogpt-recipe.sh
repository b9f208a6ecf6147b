#!/bin/sh
# nanogpt-recipe.sh RUN_DIR [TEXT] - nextok-lm on exactly nanoGPT's CPU recipe
# (its README, "I only have a macbook"): character-level Tiny Shakespeare,
# 4 layers, 4 heads, 128 channels, context 64, batch 12, 2,000 iterations,
# AdamW lr 1e-3 with 100 warm-up iterations and cosine decay to 1e-4,
# beta2 0.99, weight decay 0.1, gradient clip 1, dropout 0; validation = the
# last 10% of the text, evaluated every 250 iterations over 20 batches.
# Ends with one line: val_loss=<final validation loss> seconds=<wall time>,
# the wall time of the whole training process (start-up, evaluations and
# checkpoint writes included), as `time python train.py` measures nanoGPT.
#
# Environment: NEXTOK_LM (the binary; default build/bin/nextok-lm next to this
# script's repository), THREADS (default 2), PRECISION (fp32, the default, or
# bf16: the same recipe with the products on bf16 operands). Measured side
# by side (both at once, load average 15-18 on 2 cores of an AMD EPYC Zen 4):
# fp32 val_loss=1.8376 in 312 s, bf16 val_loss=1.8372 in 227 s (0.73x).
set -eu
USAGE="RUN_DIR [TEXT]"
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/recipe-common.sh"

recipe_run --text "$TEXT" --out "$RUN" --overwrite \
    --layers 4 --heads 4 --d-model 128 --block-size 64 --batch-size 12 \
    --steps 2000 --optim adamw --lr 1e-3 --warmup 100 --schedule cosine --lr-min 1e-4 \
    --beta1 0.9 --beta2 0.99 --weight-decay 0.1 --clip 1 --dropout 0 \
    --valid-fraction 0.1 --eval-every 250 --eval-iters 20 --log-every 100 \
    --seed 1337 --threads "$THREADS" --precision "$PRECISION" --progress lines
