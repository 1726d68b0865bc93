#!/usr/bin/env bash
# Tail workloads on the 2,000,000-line files from ../shared/bench/gen.py,
# read from the head, RUNS times, next to `cat FILE > /dev/null` and
# `wc -l FILE` in the same run:
#   WORKLOAD=w1 (default)  tail -> null               on the JSON file
#   WORKLOAD=w2            tail -> json -> null       on the JSON file
#   WORKLOAD=w2p           tail (parser: json) -> null on the JSON file
#   WORKLOAD=w3            tail -> regex(%{apache_combined}) -> null on the
#                          Apache file
# FILTERS (a YAML list) replaces the workload's filters; INPUT_EXTRA adds
# tail options (e.g. ", path_key: file"); CHUNK_SIZE and MAX_MEMORY replace
# sluice's defaults. Reports lines per
# CPU-second, lines/s and MB/s from start to the last line, CPU seconds and
# peak RSS (median), measured as ../shared/bench/README.md describes.
#
# usage: bench/tail_null.sh [FILE] [RUNS]   (FILE default /tmp/w1.json or
#        /tmp/w1.apache, generated with gen.py if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
WORKLOAD=${WORKLOAD:-w1}
case $WORKLOAD in
w1) kind=json default_filters="[]" title="W1 tail -> null" ;;
w2) kind=json default_filters="[{type: json}]" title="W2 tail -> json -> null" ;;
w2p) kind=json default_filters="[]" input_extra=", parser: json" title="W2 tail(parser: json) -> null" ;;
w3) kind=apache default_filters="[{type: regex, pattern: '%{apache_combined}'}]"
    title="W3 tail -> regex(apache_combined) -> null" ;;
*) echo "WORKLOAD is w1, w2, w2p or w3" >&2; exit 2 ;;
esac
FILTERS=${FILTERS:-$default_filters}
FILE=${1:-/tmp/w1.$kind}
RUNS=${2:-5}
BIN=${SLUICE_BIN:-build/bin/sluice}
[ -f "$FILE" ] || python3 ../shared/bench/gen.py "$kind" 2000000 "$FILE"
N=$(wc -l <"$FILE")
BYTES=$(stat -c %s "$FILE")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cat "$FILE" >/dev/null # into the page cache

for run in $(seq "$RUNS"); do
    rm -rf "$T/state"
    cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 200ms, http: off, storage: {path: $T/state}${CHUNK_SIZE:+, chunk_size: $CHUNK_SIZE}}
pipelines:
  w1:
    inputs: [{type: tail, path: ["$FILE"], read_from_head: true${input_extra:-}${INPUT_EXTRA:-}}]
    filters: $FILTERS
    outputs: [{type: null${MAX_MEMORY:+, buffer: {max_memory: $MAX_MEMORY\}}}]
YAML
    start=$(date +%s.%N)
    "$BIN" -c "$T/sluice.yaml" 2>"$T/log" &
    pid=$!
    # Done when the offsets table says the whole file is acknowledged.
    for _ in $(seq 6000); do
        off=$(awk '!/^#/ {print $5}' "$T/state/tail/w1.tail.0.offsets" 2>/dev/null || echo 0)
        [ "${off:-0}" -ge "$BYTES" ] && break
        sleep 0.01
    done
    done_at=$(date +%s.%N)
    cpu=$(proc_cpu "$pid")
    hwm=$(proc_hwm "$pid")
    kill -TERM "$pid"
    wait "$pid"
    grep -q "delivered $N events" "$T/log" || { echo "run $run: not every line delivered" >&2; tail -3 "$T/log" >&2; exit 1; }
    python3 -c "
n, b, cpu, wall = $N, $BYTES, $cpu, $done_at - $start
print(f'{n / cpu / 1e6:.2f} {n / wall / 1e6:.2f} {b / wall / 1e6:.0f} {cpu:.2f} {$hwm / 1024:.1f}')" >>"$T/results"
done

cat_s=$( { /usr/bin/time -f %e cat "$FILE" >/dev/null; } 2>&1 )
wc_s=$( { /usr/bin/time -f %e wc -l "$FILE" >/dev/null; } 2>&1 )
python3 - "$T/results" "$N" "$RUNS" "$BYTES" "$cat_s" "$wc_s" "$title" "$FILTERS" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1])]
n, runs, b, cat_s, wc_s = int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
m = [statistics.median(c) for c in zip(*rows)]
print(f"{sys.argv[7]}, {n:,} lines ({b / 1e6:.0f} MB), median of {runs} runs; filters {sys.argv[8]}:")
print(f"  {m[0]:.2f} M lines per CPU-second")
print(f"  {m[1]:.2f} M lines/s wall, {m[2]:.0f} MB/s")
print(f"  {m[3]:.2f} CPU seconds, {m[4]:.1f} MiB peak RSS")
print(f"  same run: cat {b / max(cat_s, 1e-3) / 1e6:.0f} MB/s ({cat_s:.2f} s), "
      f"wc -l {n / max(wc_s, 1e-3) / 1e6:.1f} M lines/s ({wc_s:.2f} s)")
for r in rows:
    print(f"  run: {r[0]:.2f} M/CPU-s  {r[1]:.2f} M/s  {r[2]:.0f} MB/s  {r[3]:.2f} CPU-s  {r[4]:.1f} MiB")
PY
