#!/bin/sh
# byteflip.sh NEXTOK_TRANSLATE CHECKPOINT [N] [SEED] - issue 19's table check:
# N (default 600) copies of a real checkpoint, each with one byte at a random
# offset replaced by a random different value, each through
# `nextok-translate inspect` (10 s limit). Counts:
#   refused  - exit 1 with a message naming the file (the checksum, or a check)
#   crashes  - killed by a signal (exit >= 128), or any other exit status
#   hangs    - still running after 10 s
#   silent   - exit 0 with output different from the original's: a change
#              that went unnoticed (0 expected)
#   same     - exit 0, same output (the byte did not matter: e.g. padding
#              that the checksum header check still has to refuse - so with
#              a checksummed file this stays 0 too)
# Prints one summary line; exits 1 unless crashes, hangs and silent are 0.
# Needs only POSIX sh, od, dd, cmp, timeout (coreutils).
set -u
bin=$1; ckpt=$2; n=${3:-600}; seed=${4:-19}
work=$(mktemp -d /tmp/nt_byteflip.XXXXXX)
trap 'rm -rf "$work"' EXIT
size=$(wc -c < "$ckpt")
"$bin" inspect "$ckpt" > "$work/ref.out" 2>&1 || { echo "byteflip: $ckpt does not load"; exit 2; }
refused=0 crashes=0 hangs=0 silent=0 same=0
i=0
r=$seed
next() { r=$(( (r * 1103515245 + 12345) % 2147483648 )); }
while [ $i -lt "$n" ]; do
    next; off=$(( r % size ))
    next; delta=$(( 1 + r % 255 ))
    f="$work/flip-$i.h5"
    cp "$ckpt" "$f"
    old=$(dd if="$f" bs=1 skip="$off" count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
    new=$(( (${old:-0} + delta) % 256 ))
    printf "$(printf '\\%03o' "$new")" | dd of="$f" bs=1 seek="$off" count=1 conv=notrunc 2>/dev/null
    timeout 10 "$bin" inspect "$f" > "$work/out" 2>&1
    rc=$?
    if [ $rc -eq 124 ]; then hangs=$((hangs + 1)); echo "hang: offset $off"
    elif [ $rc -eq 1 ] && grep -q "flip-$i.h5" "$work/out"; then refused=$((refused + 1))
    elif [ $rc -eq 0 ]; then
        sed "s|$f|X|g" "$work/out" > "$work/a"; sed "s|$ckpt|X|g" "$work/ref.out" > "$work/b"
        if cmp -s "$work/a" "$work/b"; then
            same=$((same + 1)); echo "unrefused (same output): offset $off"
        else silent=$((silent + 1)); echo "SILENT CHANGE: offset $off"; fi
    else crashes=$((crashes + 1)); echo "crash (exit $rc): offset $off"; head -3 "$work/out"; fi
    rm -f "$f"
    i=$((i + 1))
done
echo "byteflip: $n files ($size bytes each): $refused refused with a message, $crashes crashes, $hangs hangs, $silent silent changes, $same unrefused with the same output"
[ $crashes -eq 0 ] && [ $hangs -eq 0 ] && [ $silent -eq 0 ]
