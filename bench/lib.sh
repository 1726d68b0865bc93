# Helpers shared by the benchmark scripts (source me): how our peers were
# measured in ../shared/bench/README.md.

TICK=$(getconf CLK_TCK)

# proc_cpu PID: utime+stime in seconds, all threads.
proc_cpu() {
    awk -v t="$TICK" '{printf "%.3f", ($14 + $15) / t}' "/proc/$1/stat"
}

# proc_hwm PID: peak RSS (VmHWM) in KiB.
proc_hwm() {
    awk '/VmHWM/ {print $2}' "/proc/$1/status"
}

# free_port: a loopback port nothing uses now, below the ephemeral range.
free_port() {
    python3 "$(dirname "${BASH_SOURCE[0]}")/../tests/free_port.py"
}

# start_sink DIR: ../shared/bench/sink.py on a free port, logging to
# DIR/sink.log; sets SINK_PORT and SINK_PID (the caller kills it).
start_sink() {
    SINK_PORT=$(free_port)
    python3 "${SLUICE_SINK:-../shared/bench/sink.py}" --port "$SINK_PORT" --max-seconds 1800 \
        >"$1/sink.log" 2>&1 &
    SINK_PID=$!
    for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$SINK_PORT/_stats" && break; sleep 0.1; done
}

# wait_sink KEY N: poll the sink until its counter KEY (docs or points)
# reaches N (at most 10 minutes).
wait_sink() {
    for _ in $(seq 12000); do
        [ "$(curl -fs "http://127.0.0.1:$SINK_PORT/_stats" | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])")" -ge "$2" ] && return 0
        sleep 0.05
    done
    return 1
}

# run_result N CPU START END HWM: "events/CPU-s events/s CPU-s MiB" in millions.
run_result() {
    python3 -c "
n, cpu, wall, hwm = $1, $2, $4 - $3, $5
print(f'{n / cpu / 1e6:.3f} {n / wall / 1e6:.3f} {cpu:.2f} {hwm / 1024:.1f}')"
}

# measure N CONFIG LOG COMMAND...: run $BIN on CONFIG (stderr to LOG) until
# COMMAND (which waits for the Nth event somewhere) returns, then print
# run_result for that moment and stop sluice.
measure() {
    local n=$1 cfg=$2 log=$3 start pid done_at cpu hwm
    shift 3
    start=$(date +%s.%N)
    "$BIN" -c "$cfg" 2>"$log" &
    pid=$!
    "$@"
    done_at=$(date +%s.%N)
    cpu=$(proc_cpu "$pid")
    hwm=$(proc_hwm "$pid")
    kill -TERM "$pid"
    wait "$pid"
    run_result "$n" "$cpu" "$start" "$done_at" "$hwm"
}

# measure_until N LOG UNTIL COMMAND...: run COMMAND (its output to LOG)
# until UNTIL (a command without arguments) succeeds, then print run_result
# for that moment and stop COMMAND; when UNTIL fails, LOG's tail and exit 1.
measure_until() {
    local n=$1 log=$2 until=$3 start pid done_at cpu hwm
    shift 3
    start=$(date +%s.%N)
    "$@" >"$log" 2>&1 &
    pid=$!
    "$until" || { tail "$log" >&2; echo "stuck" >&2; kill -TERM "$pid"; exit 1; }
    done_at=$(date +%s.%N)
    cpu=$(proc_cpu "$pid")
    hwm=$(proc_hwm "$pid")
    kill -TERM "$pid"
    wait "$pid" || true
    run_result "$n" "$cpu" "$start" "$done_at" "$hwm"
}

# start_bench_sluice CONFIG LOG PATTERN: run $BIN on CONFIG (stderr to LOG)
# and wait, 5 s at most, for PATTERN in LOG (its listener is up); sets
# BENCH_PID.
start_bench_sluice() {
    "$BIN" -c "$1" 2>"$2" &
    BENCH_PID=$!
    for _ in $(seq 100); do grep -q "$3" "$2" && return 0; sleep 0.05; done
}

# events_counted MPORT: the events sluice's inputs took, from /metrics.
events_counted() {
    curl -fs "http://127.0.0.1:$1/metrics" | awk '/^sluice_input_events_total/ {print $2}'
}

# wait_events MPORT N: poll, 60 s at most, until the inputs took N events.
wait_events() {
    for _ in $(seq 3000); do [ "$(events_counted "$1")" -ge "$2" ] 2>/dev/null && return 0; sleep 0.02; done
}

# median_report RESULTS TITLE UNIT: the median of rows "per-CPU-s per-s
# CPU-s MiB missing" (millions of UNIT), then each run.
median_report() {
    python3 - "$1" "$2" "$3" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1])]
m = [statistics.median(c) for c in zip(*rows)]
unit = sys.argv[3]
print(sys.argv[2] + f", median of {len(rows)} runs:")
print(f"  {m[0]:.2f} M {unit} per CPU-second, {m[1]:.2f} M {unit}/s")
print(f"  {m[2]:.2f} CPU seconds, {m[3]:.1f} MiB peak RSS, missing: {int(max(r[4] for r in rows))} (worst run)")
for r in rows:
    print(f"  run: {r[0]:.2f} M/CPU-s  {r[1]:.2f} M/s  {r[2]:.2f} CPU-s  {r[3]:.1f} MiB")
PY
}

# A peer run beside ours (FLUENT_BIT=/path/to/fluent-bit, built as
# ../shared/bench/README.md says): start_fluent_bit CONF LOG PORT-TO-WAIT,
# and fluent_bit_counted MPORT, the records its inputs took.
start_fluent_bit() {
    "$FLUENT_BIT" -c "$1" >"$2" 2>&1 &
    BENCH_PID=$!
    for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$3/" && return 0; sleep 0.05; done
}

fluent_bit_counted() {
    curl -fs "http://127.0.0.1:$1/api/v1/metrics/prometheus" |
        awk '/^fluentbit_input_records_total/ {s += $2} END {print s + 0}'
}

wait_fluent_bit() {
    for _ in $(seq 3000); do [ "$(fluent_bit_counted "$1")" -ge "$2" ] 2>/dev/null && return 0; sleep 0.02; done
}

# fluent_bit_conf MPORT INPUT-LINES...: a classic config with the input
# given and the null output.
fluent_bit_conf() {
    local mport=$1
    shift
    printf '[SERVICE]\n    flush 0.2\n    http_server on\n    http_listen 127.0.0.1\n    http_port %s\n[INPUT]\n' "$mport"
    printf '    %s\n' "$@"
    printf '[OUTPUT]\n    name null\n    match *\n'
}

# ratio_report OURS PEERS: the medians' ratio of events per CPU-second.
ratio_report() {
    python3 - "$1" "$2" <<'PY'
import statistics, sys
med = [statistics.median(float(l.split()[0]) for l in open(f)) for f in sys.argv[1:3]]
print(f"  sluice / Fluent Bit, per CPU-second (medians, same runs interleaved): {med[0] / med[1]:.2f}x")
PY
}

# measure_run sluice|fluent-bit CONFIG MPORT N RESULTS CLIENT...: start the
# collector on CONFIG (its metrics on MPORT), run CLIENT, wait until its
# inputs took N events, and append "run_result missing" to RESULTS.
measure_run() {
    local kind=$1 cfg=$2 mport=$3 n=$4 results=$5 start done_at cpu hwm got
    shift 5
    if [ "$kind" = sluice ]; then
        start_bench_sluice "$cfg" "$T/log" "listening"
    else
        start_fluent_bit "$cfg" "$T/fb.log" "$mport"
        sleep 0.3
    fi
    start=$(date +%s.%N)
    "$@" >/dev/null
    if [ "$kind" = sluice ]; then wait_events "$mport" "$n"; else wait_fluent_bit "$mport" "$n"; fi
    done_at=$(date +%s.%N)
    cpu=$(proc_cpu "$BENCH_PID")
    hwm=$(proc_hwm "$BENCH_PID")
    if [ "$kind" = sluice ]; then got=$(events_counted "$mport"); else got=$(fluent_bit_counted "$mport"); fi
    kill -TERM "$BENCH_PID"
    wait "$BENCH_PID" || true
    echo "$(run_result "$got" "$cpu" "$start" "$done_at" "$hwm") $((n - got))" >>"$results"
}

# start_mock_kafka DIR: librdkafka's mock cluster (tests/mock_kafka beside
# $BIN's folder, or $SLUICE_MOCK_KAFKA), 1 broker, its commands read from
# fd 7 ("topic NAME PARTITIONS"); sets BROKERS and MOCK_PID (the caller
# kills it).
start_mock_kafka() {
    local mock=${SLUICE_MOCK_KAFKA:-$(dirname "$BIN")/../tests/mock_kafka}
    mkfifo "$1/mock.cmd"
    "$mock" "$1/bootstrap" 1 <"$1/mock.cmd" >"$1/mock.out" 2>"$1/mock.log" &
    MOCK_PID=$!
    exec 7>"$1/mock.cmd"
    for _ in $(seq 100); do [ -s "$1/bootstrap" ] && break; sleep 0.05; done
    BROKERS=$(cat "$1/bootstrap")
}
