# recipe-common.sh - what the language-model recipe scripts share; sourced
# (`. recipe-common.sh`) by nanogpt-recipe.sh and recipe-10min.sh after they
# set USAGE (their argument line) and HERE (their directory). Arguments:
# RUN_DIR [TEXT]. Sets RUN, TEXT (the second argument if given and not empty,
# else ../shared/data/tinyshakespeare.txt, next to the checkout or to the
# main checkout of a git worktree), BIN (NEXTOK_LM, default the build's
# nextok-lm), THREADS (default 2), PRECISION (default fp32; bf16 runs the
# products on bf16 operands, `nextok-lm train --help`), and defines
# recipe_run: runs `$BIN train ARGS...` and prints the one summary line
#   val_loss=<final validation loss> seconds=<wall time of the process>
# (start-up, evaluations and checkpoint writes included, as `time python
# train.py` measures nanoGPT).
if [ $# -lt 1 ]; then
    echo "usage: $0 $USAGE   (TEXT defaults to ../shared/data/tinyshakespeare.txt)" >&2
    exit 2
fi
RUN=$1
REPO=$(cd "$HERE/../.." && pwd)
if [ $# -ge 2 ] && [ -n "$2" ]; then
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
PRECISION=${PRECISION:-fp32}
case $PRECISION in
fp32 | bf16) ;;
*)
    echo "$0: PRECISION must be fp32 or bf16 (got '$PRECISION')" >&2
    exit 2
    ;;
esac

recipe_run() {
    start=$(date +%s.%N)
    summary=$("$BIN" train "$@")
    end=$(date +%s.%N)
    val=$(printf '%s\n' "$summary" | sed -n 's/.*val_loss=\([^ ]*\).*/\1/p' | tail -n 1)
    echo "val_loss=$val seconds=$(echo "$start $end" | awk '{printf "%.1f", $2 - $1}')"
}
