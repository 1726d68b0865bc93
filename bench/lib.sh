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

# free_port: a TCP port nothing listens on now, on 127.0.0.1.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
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
