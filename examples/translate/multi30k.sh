#!/bin/sh
# multi30k.sh - what `make multi30k` runs: Multi30k (task 1, raw text) paired
# into TSV, a SentencePiece (joint unigram) translator trained from scratch
# within a time budget, BLEU/chrF on test2016 and test2017, a few translations.
# The recipe and its reasoning: docs/multi30k.md.
#
#   examples/translate/multi30k.sh BIN DATA_DIR RUN_DIR MINUTES SRC TGT
#
# DATA_DIR holds train.{de,en,fr}, val.*, test_2016_flickr.*, test_2017_flickr.*
# (see its README). Nothing of the corpus is copied into the repository: the
# TSV files go to RUN_DIR/data. MINUTES is the training budget (the clock of
# the training loop; the SentencePiece model and the evaluation come on
# top); the schedule follows it: with 15 minutes or less, batches of 2,048
# tokens (twice the updates: at equal tokens they train further early on)
# and a peak learning rate of 1e-3 after 200 warm-up updates, else batches
# of 4,096 tokens and 1e-3 after 400 (torch_mt.py's). docs/multi30k.md has
# the measurements behind both.
# PRECISION: bf16 (matrix products on bf16 operands, fp32 master weights;
# docs/precision.md) where the CPU has bf16 units (the avx512_bf16 or
# amx_bf16 flag in /proc/cpuinfo), else fp32 -- the emulated bf16 of a CPU
# without them is exact but slow; set PRECISION=fp32|bf16 to choose. Extra
# variables (for experiments): WARMUP, LR, BATCH_TOKENS (by the budget), VOCAB (8000),
# SPM_TYPE (unigram), BEAMS (4), LENGTH_PENALTY (0.6), EVAL_EVERY (200),
# TRAIN_ARGS (appended to train), BLEU_PY (a sacreBLEU-style scorer
# `BLEU_PY HYP REF`, e.g. shared/reference/bleu.py: its BLEU of the same
# hypothesis file is printed beside nextok's).
set -eu
BIN=${1:-build/bin/nextok-translate}
DATA=${2:-../shared/data/multi30k}
RUN=${3:-runs/multi30k-de-en}
MINUTES=${4:-30}
SRC=${5:-de}
TGT=${6:-en}
case "$MINUTES" in
    [0-9] | 1[0-5] | [0-9].* | 1[0-4].*) WARMUP=${WARMUP:-200} LR=${LR:-1e-3} BATCH_TOKENS=${BATCH_TOKENS:-2048} ;;
    *) WARMUP=${WARMUP:-400} LR=${LR:-1e-3} BATCH_TOKENS=${BATCH_TOKENS:-4096} ;;
esac
SPM_TYPE=${SPM_TYPE:-unigram}
VOCAB=${VOCAB:-8000}
BEAMS=${BEAMS:-4}
LENGTH_PENALTY=${LENGTH_PENALTY:-0.6}
EVAL_EVERY=${EVAL_EVERY:-200}
TRAIN_ARGS=${TRAIN_ARGS:-}
if [ -z "${PRECISION:-}" ]; then
    if grep -qwE 'avx512_bf16|amx_bf16' /proc/cpuinfo 2>/dev/null; then PRECISION=bf16; else PRECISION=fp32; fi
fi
BLEU_PY=${BLEU_PY:-}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
# the OpenMP wait policy: the CLI's own choice by load (its --help) unless set

say() { printf '\n== %s\n' "$*"; }

for split in train val test_2016_flickr test_2017_flickr; do
    for lang in "$SRC" "$TGT"; do
        if [ ! -r "$DATA/$split.$lang" ]; then
            echo "multi30k: $DATA/$split.$lang not found; set MULTI30K=DIR (the folder of train.de, train.en, ...)" >&2
            exit 1
        fi
    done
done

say "1/4 data: $SRC-$TGT pairs from $DATA ($RUN/data)"
for split in train val test_2016_flickr test_2017_flickr; do
    "$BIN" data --from-parallel "$DATA/$split.$SRC" "$DATA/$split.$TGT" --out "$RUN/data"
done

say "2/4 train: SentencePiece $SPM_TYPE $VOCAB (joint), d 256, 3+3 layers, 4 heads; $MINUTES minutes on $OMP_NUM_THREADS threads, $PRECISION, lr $LR, warm-up $WARMUP"
# shellcheck disable=SC2086 # TRAIN_ARGS is a list of options
"$BIN" train --train "$RUN/data/train.tsv" --valid "$RUN/data/val.tsv" --out "$RUN" --overwrite \
    --preset base --heads 4 --tokenizer spm --vocab-size "$VOCAB" --spm-type "$SPM_TYPE" --spm-joint \
    --minutes "$MINUTES" --lr "$LR" --lr-min 5e-5 --warmup "$WARMUP" --beta2 0.98 --weight-decay 0.01 \
    --clip 1 --label-smoothing 0.1 --dropout 0.1 --batch-tokens "$BATCH_TOKENS" --precision "$PRECISION" \
    --eval-every "$EVAL_EVERY" --eval-exact-max -1 --metric loss --log-every 50 $TRAIN_ARGS

say "3/4 eval: test2016 and test2017, beam $BEAMS, length penalty $LENGTH_PENALTY (cased, detokenized, 13a)"
for split in test_2016_flickr test_2017_flickr; do
    echo "-- $split"
    "$BIN" eval --checkpoint "$RUN/checkpoint-best.h5" --test "$RUN/data/$split.tsv" \
        --num-beams "$BEAMS" --length-penalty "$LENGTH_PENALTY" | tee "$RUN/eval-$split.txt"
    if [ -n "$BLEU_PY" ]; then
        # the same translations as a file, scored by the external scorer too
        "$BIN" translate --checkpoint "$RUN/checkpoint-best.h5" --input "$DATA/$split.$SRC" \
            --num-beams "$BEAMS" --length-penalty "$LENGTH_PENALTY" >"$RUN/hyp-$split.$TGT"
        printf '   %s on %s: ' "$BLEU_PY" "$RUN/hyp-$split.$TGT"
        python3 "$BLEU_PY" "$RUN/hyp-$split.$TGT" "$DATA/$split.$TGT"
    fi
done

say "4/4 translate: the first lines of test2016"
head -n 6 "$DATA/test_2016_flickr.$SRC" >"$RUN/examples.$SRC"
head -n 6 "$DATA/test_2016_flickr.$TGT" >"$RUN/examples.ref"
"$BIN" translate --checkpoint "$RUN/checkpoint-best.h5" --input "$RUN/examples.$SRC" \
    --num-beams "$BEAMS" --length-penalty "$LENGTH_PENALTY" >"$RUN/examples.hyp"
paste "$RUN/examples.$SRC" "$RUN/examples.hyp" "$RUN/examples.ref" | while IFS="$(printf '\t')" read -r s h r; do
    printf '  %s\n  -> %s\n     (reference: %s)\n' "$s" "$h" "$r"
done
echo
echo "report: $RUN/report.html; the SentencePiece model: nextok-translate export-spm $RUN/checkpoint-best.h5 spm.model"
