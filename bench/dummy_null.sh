#!/usr/bin/env bash
# Engine benchmark: dummy -> null for N events, RUNS times. Measured the way
# ../shared/bench/README.md measured our peers: the collector's own CPU
# (utime+stime from /proc/PID/stat) once all N events are processed, wall
# time from exec to the last event, peak RSS = VmHWM; median of the runs.
#
# usage: bench/dummy_null.sh [N] [RUNS]      (default 20000000 5)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
N=${1:-20000000}
RUNS=${2:-5}
BIN=${SLUICE_BIN:-build/bin/sluice}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

for run in $(seq "$RUNS"); do
    start=$(date +%s.%N)
    DUMMY_COUNT=$N "$BIN" -c conf/bench-null.yaml 2>"$T/log" &
    pid=$!
    for _ in $(seq 6000); do grep -q "emitted $N events" "$T/log" && break; sleep 0.01; done
    done_at=$(date +%s.%N)
    sleep 0.3   # the last chunk closes within flush_interval (100ms); idle costs no CPU
    cpu=$(proc_cpu "$pid")
    hwm=$(proc_hwm "$pid")
    kill -TERM "$pid"
    wait "$pid"
    grep -q "delivered $N events" "$T/log" || { echo "run $run: not every event delivered" >&2; exit 1; }
    python3 -c "
n, cpu, wall = $N, $cpu, $done_at - $start
print(f'{n / cpu / 1e6:.2f} {n / wall / 1e6:.2f} {cpu:.2f} {$hwm / 1024:.1f}')" >>"$T/results"
done

python3 - "$T/results" "$N" "$RUNS" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1])]
med = [statistics.median(c) for c in zip(*rows)]
print(f"dummy -> null, {int(sys.argv[2]):,} events, median of {sys.argv[3]} runs")
print(f"  {med[0]:.2f} M events per CPU-second")
print(f"  {med[1]:.2f} M events/s wall")
print(f"  {med[2]:.2f} CPU seconds")
print(f"  {med[3]:.1f} MiB peak RSS (VmHWM)")
for r in rows:
    print(f"  run: {r[0]:.2f} M/CPU-s  {r[1]:.2f} M/s  {r[2]:.2f} CPU-s  {r[3]:.1f} MiB")
PY
