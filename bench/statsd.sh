#!/usr/bin/env bash
# StatsD over UDP -> null: bench/statsd_gen.py sends N lines (10,000 series
# of every type, some with tags and sample rates) in ~1400-byte datagrams
# at RATE lines/s, RUNS times. Reports lines per CPU-second (sluice's
# utime+stime once the last datagram is in), the lines sluice counted, the
# kernel's drops (udp_dropped, from SO_RXQ_OVFL: must be 0 at 200 k/s) and
# peak RSS. Median of the runs. RATE=0 sends as fast as Python can.
#
# usage: [RATE=200000] bench/statsd.sh [N] [RUNS]   (default 2000000 3)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
N=${1:-2000000}
RUNS=${2:-3}
RATE=${RATE:-200000}
BIN=${SLUICE_BIN:-build/bin/sluice}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

for run in $(seq "$RUNS"); do
    PORT=$(free_port)
    cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 200ms, http: off}
pipelines:
  statsd:
    inputs: [{type: statsd, listen: [udp://127.0.0.1:$PORT], flush_interval: 1s}]
    outputs: [{type: null}]
YAML
    "$BIN" -c "$T/sluice.yaml" 2>"$T/log" &
    pid=$!
    for _ in $(seq 100); do grep -q "listening on udp" "$T/log" && break; sleep 0.05; done
    python3 bench/statsd_gen.py --port "$PORT" --lines "$N" --rate "$RATE" >"$T/gen.json"
    sleep 0.5 # what is still queued in the socket; idle costs no CPU
    cpu=$(proc_cpu "$pid")
    hwm=$(proc_hwm "$pid")
    kill -TERM "$pid"
    wait "$pid"
    got=$(sed -n 's/.*received \([0-9]*\) lines.*/\1/p' "$T/log")
    dropped=$(sed -n 's/.*udp_dropped \([0-9]*\),.*/\1/p' "$T/log")
    python3 -c "
import json
g = json.load(open('$T/gen.json'))
print(f\"{$got / $cpu / 1e6:.3f} {$cpu:.2f} {$hwm / 1024:.1f} {$got} {$dropped} {g['lines']} {g['rate']}\")" >>"$T/results"
done

python3 - "$T/results" "$N" "$RUNS" "$RATE" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1])]
m = [statistics.median(c) for c in zip(*rows)]
rate = int(sys.argv[4])
print(f"StatsD UDP -> null, {int(sys.argv[2]):,} lines at {'full speed' if rate == 0 else f'{rate:,} lines/s'}, median of {sys.argv[3]} runs:")
print(f"  {m[0]:.2f} M lines per CPU-second, {m[1]:.2f} CPU seconds, {m[2]:.1f} MiB peak RSS")
print(f"  udp_dropped: {int(max(r[4] for r in rows))} (worst run); lines counted/sent: {int(min(r[3] for r in rows))}/{int(m[5])}")
for r in rows:
    print(f"  run: {r[0]:.2f} M/CPU-s  {r[1]:.2f} CPU-s  {r[2]:.1f} MiB  counted {int(r[3])}  dropped {int(r[4])}  sent at {int(r[6])} lines/s")
PY
