#!/bin/sh
# demo.sh - what `make demo` runs: the en-fr number corpus, a translator
# trained from scratch within a time budget, its scores on two held-out test
# sets, a few translations and the report.
#
#   examples/translate/demo.sh BIN RUN_DIR MINUTES
#
# Held-out means held out: the two test sets are drawn first, and the
# validation and training files are drawn around them (data --exclude), so
# no test number is ever trained on. The length-stratified draw takes every
# number below 100 (there are only 10 + 90); half of them are moved to the
# training data, so that the model has seen a lone one- or two-word number at
# all, and the other half stay held out.
set -eu
BIN=${1:-build/bin/nextok-translate}
RUN=${2:-runs/demo}
MINUTES=${3:-10}
DATA=$RUN/data
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
# Threads sleep instead of spinning while they wait: on a machine with other
# work (or a laptop) spinning OpenMP threads can make training 3x slower.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}

say() { printf '\n== %s\n' "$*"; }

say "1/5 data: en-fr numbers 0..999,999 ($DATA)"
"$BIN" data --task en-fr --out "$DATA/length" --sampling length --train 0 --valid 0 --test 1000 --seed 101
# numbers below 100 are those without "hundred" or "thousand": every second one goes to training
mkdir -p "$DATA/test-length" "$DATA/lone"
awk -F '\t' -v lone="$DATA/lone/train.tsv" -v test="$DATA/test-length/test.tsv" \
    '$1 !~ /hundred|thousand/ && ++n % 2 == 0 { print > lone; next } { print > test }' "$DATA/length/test.tsv"
echo "moved $(wc -l <"$DATA/lone/train.tsv") of the numbers below 100 to training; $(wc -l <"$DATA/test-length/test.tsv") held out"
"$BIN" data --task en-fr --out "$DATA/test-uniform" --sampling uniform --train 0 --valid 0 --test 1000 --seed 102 \
    --exclude "$DATA/length/test.tsv"
EXCL="--exclude $DATA/length/test.tsv --exclude $DATA/test-uniform/test.tsv"
"$BIN" data --task en-fr --out "$DATA/valid" --sampling length --train 0 --valid 0 --test 600 --seed 103 $EXCL
EXCL="$EXCL --exclude $DATA/valid/test.tsv"
# The bulk: length-stratified, so every number below 100,000 that is not held
# out is in it, and 100,000 six-digit numbers.
"$BIN" data --task en-fr --out "$DATA/main" --sampling length --train 200000 --valid 0 --test 0 --seed 1 $EXCL
# Short numbers are few (1,000 below 1,000) but a quarter of the length-
# stratified test: every number below 1,000 that the held-out and validation
# files leave (--train all: 587 with these seeds), and four-digit ones, are
# repeated in the training list so that the model sees them often.
"$BIN" data --task en-fr --out "$DATA/short" --sampling uniform --max 999 --train all --valid 0 --test 0 --seed 11 $EXCL
"$BIN" data --task en-fr --out "$DATA/mid" --sampling uniform --max 9999 --train 8000 --valid 0 --test 0 --seed 12 $EXCL
TRAIN="$DATA/main/train.tsv,$DATA/short/train.tsv*20,$DATA/mid/train.tsv*2,$DATA/lone/train.tsv*20"

say "2/5 train: from scratch, $MINUTES minutes on $OMP_NUM_THREADS threads ($RUN)"
"$BIN" train --train "$TRAIN" --valid "$DATA/valid/test.tsv" --out "$RUN" --overwrite \
    --preset small --tokenizer word --minutes "$MINUTES" \
    --lr 2e-3 --warmup 150 --dropout 0 --label-smoothing 0.1 --batch-tokens 4096 \
    --eval-every 500 --log-every 50 --metric exact_match

say "3/5 eval: held-out numbers, drawn uniformly over 0..999,999"
"$BIN" eval --checkpoint "$RUN/checkpoint-best.h5" --test "$DATA/test-uniform/test.tsv"
say "    eval: held-out numbers, drawn uniformly over digit lengths 1..6"
"$BIN" eval --checkpoint "$RUN/checkpoint-best.h5" --test "$DATA/test-length/test.tsv"

say "4/5 translate"
printf '%s\n' "seven" "forty-two" "eighty" "three hundred and seventy-one" \
    "one thousand, two hundred and thirty-four" "eighty thousand" \
    "nine hundred and ninety-nine thousand, nine hundred and ninety-nine" >"$RUN/examples.txt"
"$BIN" translate --checkpoint "$RUN/checkpoint-best.h5" --input "$RUN/examples.txt" >"$RUN/examples.fr"
paste "$RUN/examples.txt" "$RUN/examples.fr" | while IFS="$(printf '\t')" read -r en fr; do
    printf '  %-70s -> %s\n' "$en" "$fr"
done

say "5/5 report: $RUN/report.html (open it in a browser; it fetches nothing)"
