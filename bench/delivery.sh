#!/usr/bin/env bash
# Delivery benchmark: dummy -> http (NDJSON) into ../shared/bench/sink.py, once
# with buffer.type memory and once with filesystem (fsync: interval), N
# events each, RUNS times. Reports sluice's events per CPU-second, events/s
# from start to the Nth event at the sink, CPU seconds and peak RSS (VmHWM),
# median of the runs, and the filesystem/memory ratios from the same session.
#
# usage: [MAX_MEMORY=16MiB] bench/delivery.sh [N] [RUNS]     (default 2000000 3)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
N=${1:-2000000}
RUNS=${2:-3}
BIN=${SLUICE_BIN:-build/bin/sluice}
T=$(mktemp -d)
start_sink "$T"
PORT=$SINK_PORT
trap 'kill $SINK_PID 2>/dev/null; rm -rf "$T"' EXIT

run() { # BUFFER
    cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 200ms, http: off, storage: {path: $T/storage}}
pipelines:
  bench:
    inputs:
      - type: dummy
        rate: 0
        count: $N
        record: {message: "a benchmark event of typical length for an application log line"}
    outputs:
      - type: http
        url: http://127.0.0.1:$PORT/write
        buffer: {type: $1, fsync: interval${MAX_MEMORY:+, max_memory: $MAX_MEMORY}}
YAML
    curl -fs -X POST "http://127.0.0.1:$PORT/_reset?expect=$N" >/dev/null
    measure "$N" "$T/sluice.yaml" "$T/log" wait_sink points "$N"
}

for buffer in memory filesystem; do
    for _ in $(seq "$RUNS"); do run $buffer >>"$T/$buffer"; done
done

python3 - "$T" "$N" "$RUNS" <<'PY'
import statistics, sys
d, n, runs = sys.argv[1], int(sys.argv[2]), sys.argv[3]
med = {}
for b in ("memory", "filesystem"):
    rows = [list(map(float, l.split())) for l in open(f"{d}/{b}")]
    med[b] = [statistics.median(c) for c in zip(*rows)]
    m = med[b]
    print(f"dummy -> http (NDJSON), buffer {b}, {n:,} events, median of {runs}:")
    print(f"  {m[0]:.3f} M events per CPU-second, {m[1]:.3f} M events/s, {m[2]:.2f} CPU-s, {m[3]:.1f} MiB peak RSS")
m, f = med["memory"], med["filesystem"]
print(f"filesystem/memory: CPU per event x{m[0] / f[0]:.2f}, throughput x{f[1] / m[1]:.2f}, peak RSS x{f[3] / m[3]:.2f}")
PY
