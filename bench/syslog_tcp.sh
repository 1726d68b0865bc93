#!/usr/bin/env bash
# W5: syslog over TCP -> null with ../shared/bench/tcpgen.py sending the
# 2,000,000-line RFC 3164 file from gen.py on one connection as fast as we
# take it, RUNS times. Reports messages per CPU-second, messages/s (first
# byte to the last message counted), CPU seconds, peak RSS, and loss (sent
# minus counted: TCP must lose nothing). Median of the runs.
#
# usage: bench/syslog_tcp.sh [FILE] [RUNS]  (FILE default /tmp/w5.syslog,
#        generated with gen.py syslog 2000000 if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
FILE=${1:-/tmp/w5.syslog}
RUNS=${2:-5}
BIN=${SLUICE_BIN:-build/bin/sluice}
[ -f "$FILE" ] || python3 ../shared/bench/gen.py syslog 2000000 "$FILE"
N=$(wc -l <"$FILE")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

for run in $(seq "$RUNS"); do
    PORT=$(free_port)
    MPORT=$(free_port)
    cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 200ms, http: {listen: 127.0.0.1:$MPORT}}
pipelines:
  w5:
    inputs: [{type: syslog, listen: [tcp://127.0.0.1:$PORT]}]
    outputs: [{type: null}]
YAML
    start_bench_sluice "$T/sluice.yaml" "$T/log" "listening on tcp"
    start=$(date +%s.%N)
    python3 ../shared/bench/tcpgen.py "$FILE" --port "$PORT" >"$T/gen.json"
    wait_events "$MPORT" "$N"
    done_at=$(date +%s.%N)
    cpu=$(proc_cpu "$BENCH_PID")
    hwm=$(proc_hwm "$BENCH_PID")
    got=$(events_counted "$MPORT")
    kill -TERM "$BENCH_PID"
    wait "$BENCH_PID"
    sent=$(python3 -c "import json; print(json.load(open('$T/gen.json'))['sent_lines'])")
    python3 -c "
n, cpu, wall = $got, $cpu, $done_at - $start
print(f'{n / cpu / 1e6:.3f} {n / wall / 1e6:.3f} {cpu:.2f} {$hwm / 1024:.1f} {$sent - n}')" >>"$T/results"
done

python3 - "$T/results" "$N" "$RUNS" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1])]
m = [statistics.median(c) for c in zip(*rows)]
print(f"W5 syslog TCP -> null, {int(sys.argv[2]):,} messages, median of {sys.argv[3]} runs:")
print(f"  {m[0]:.2f} M messages per CPU-second, {m[1]:.2f} M messages/s")
print(f"  {m[2]:.2f} CPU seconds, {m[3]:.1f} MiB peak RSS, lost: {int(max(r[4] for r in rows))} (worst run)")
for r in rows:
    print(f"  run: {r[0]:.2f} M/CPU-s  {r[1]:.2f} M/s  {r[2]:.2f} CPU-s  {r[3]:.1f} MiB  lost {int(r[4])}")
PY
