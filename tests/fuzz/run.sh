#!/bin/sh
# run.sh BIN_DIR SECONDS [TARGET...] - runs each libFuzzer harness for SECONDS
# over a working copy of its seed corpus (tests/fuzz/corpus/<target>/ is read,
# never written). Crashes, leaks, timeouts (> 25 s an input) and OOMs
# (> 2 GB) land in $OUT/artifacts/ as crash-*, leak-*, timeout-*, oom-*; the
# script exits 1 if any target found one. Add each finding, once fixed, to
# tests/fuzz/regress/<target>/ so that test_fuzz_replay keeps checking it.
set -u
bin=$1; secs=$2; shift 2
root=$(cd "$(dirname "$0")" && pwd)
out=$(cd "$bin/.." && pwd)/fuzz-out
targets=${*:-"tsv text tokenizer ckpt_raw ckpt_edit cli"}
mkdir -p "$out/artifacts"
status=0
for t in $targets; do
    mkdir -p "$out/corpus/$t"
    log="$out/$t.log"
    printf '%-10s %4ss ... ' "$t" "$secs"
    OMP_NUM_THREADS=1 NT_MEM_LIMIT=256M ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
        "$bin/fuzz_$t" -max_total_time="$secs" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$out/artifacts/$t-" "$out/corpus/$t" "$root/corpus/$t" >"$log" 2>&1
    rc=$?
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
    if [ $rc -eq 0 ]; then
        echo "ok, ${runs:-?} runs, 0 crashes"
    else
        status=1
        echo "FAILED (exit $rc): see $log and $out/artifacts/"
        grep -m3 -E 'ERROR|SUMMARY|fuzz invariant' "$log" | sed 's/^/    /'
    fi
done
exit $status
