#!/usr/bin/env bash
# W4: tail -> json -> elasticsearch into the Bulk API sink
# ../shared/bench/sink.py, on the 2,000,000-line JSON file, RUNS times.
# Reports sluice's documents per CPU-second (its own CPU when the sink has
# counted the Nth document), documents/s from start, CPU seconds and peak
# RSS (VmHWM), median of the runs. sluice's defaults, unless MAX_MEMORY
# sets the output's buffer.max_memory, CHUNK_SIZE service.chunk_size, or
# BULK the bulk_max_bytes.
#
# usage: [MAX_MEMORY=16MiB] [CHUNK_SIZE=512KiB] [BULK=5MiB] bench/es_bulk.sh [FILE] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
FILE=${1:-/tmp/w1.json}
RUNS=${2:-3}
BIN=${SLUICE_BIN:-build/bin/sluice}
[ -f "$FILE" ] || python3 ../shared/bench/gen.py json 2000000 "$FILE"
N=$(wc -l <"$FILE")
T=$(mktemp -d)
start_sink "$T"
PORT=$SINK_PORT
trap 'kill $SINK_PID 2>/dev/null; rm -rf "$T"' EXIT
cat "$FILE" >/dev/null

BUFFER_LINE=${MAX_MEMORY:+"        buffer: {max_memory: $MAX_MEMORY}"}
for run in $(seq "$RUNS"); do
    rm -rf "$T/state"
    cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 200ms, http: off, storage: {path: $T/state}${CHUNK_SIZE:+, chunk_size: $CHUNK_SIZE}}
pipelines:
  w4:
    inputs: [{type: tail, path: ["$FILE"], read_from_head: true}]
    filters: [{type: json}]
    outputs:
      - type: elasticsearch
        hosts: [http://127.0.0.1:$PORT]
        index: bench
        bulk_max_bytes: ${BULK:-5MiB}
$BUFFER_LINE
YAML
    curl -fs -X POST "http://127.0.0.1:$PORT/_reset?expect=$N" >/dev/null
    measure "$N" "$T/sluice.yaml" "$T/log" wait_sink docs "$N" >>"$T/results"
    grep -q "delivered $N events" "$T/log" || { echo "run $run: not every event delivered" >&2; tail -3 "$T/log" >&2; exit 1; }
done

python3 - "$T/results" "$N" "$RUNS" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1])]
m = [statistics.median(c) for c in zip(*rows)]
print(f"W4 tail -> json -> elasticsearch (bulk sink), {int(sys.argv[2]):,} lines, median of {sys.argv[3]} runs:")
print(f"  {m[0]:.3f} M documents per CPU-second (sluice alone)")
print(f"  {m[1]:.3f} M documents/s wall")
print(f"  {m[2]:.2f} CPU seconds, {m[3]:.1f} MiB peak RSS")
for r in rows:
    print(f"  run: {r[0]:.3f} M/CPU-s  {r[1]:.3f} M/s  {r[2]:.2f} CPU-s  {r[3]:.1f} MiB")
PY
