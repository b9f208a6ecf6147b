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
# script's repository), THREADS (default 2).
set -eu
if [ $# -lt 1 ]; then
    echo "usage: $0 RUN_DIR [TEXT]   (TEXT defaults to ../shared/data/tinyshakespeare.txt)" >&2
    exit 2
fi
RUN=$1
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
if [ $# -ge 2 ]; then
    TEXT=$2
elif [ -f ../shared/data/tinyshakespeare.txt ]; then
    TEXT=../shared/data/tinyshakespeare.txt
elif [ -f "$REPO/../shared/data/tinyshakespeare.txt" ]; then
    TEXT=$REPO/../shared/data/tinyshakespeare.txt
else
    # a git worktree: next to the main checkout
    TEXT=$(cd "$REPO" && cd "$(git rev-parse --git-common-dir 2>/dev/null || echo .)/.." && pwd)/../shared/data/tinyshakespeare.txt
fi
if [ ! -f "$TEXT" ]; then
    echo "$0: no text at $TEXT; pass it: $0 RUN_DIR path/to/tinyshakespeare.txt" >&2
    exit 2
fi
BIN=${NEXTOK_LM:-$REPO/build/bin/nextok-lm}
THREADS=${THREADS:-2}

start=$(date +%s.%N)
summary=$("$BIN" train --text "$TEXT" --out "$RUN" --overwrite \
    --layers 4 --heads 4 --d-model 128 --block-size 64 --batch-size 12 \
    --steps 2000 --optim adamw --lr 1e-3 --warmup 100 --schedule cosine --lr-min 1e-4 \
    --beta1 0.9 --beta2 0.99 --weight-decay 0.1 --clip 1 --dropout 0 \
    --valid-fraction 0.1 --eval-every 250 --eval-iters 20 --log-every 100 \
    --seed 1337 --threads "$THREADS" --progress lines)
end=$(date +%s.%N)
val=$(printf '%s\n' "$summary" | sed -n 's/.*val_loss=\([^ ]*\).*/\1/p' | tail -n 1)
echo "val_loss=$val seconds=$(echo "$start $end" | awk '{printf "%.1f", $2 - $1}')"
