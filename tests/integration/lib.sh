# Helpers for the integration tests (source me). Every test runs the real
# binary ($SLUICE_BIN), keeps its state in a temporary directory, bounds
# every wait, and stops only the processes it started, by PID.
set -u
SLUICE_BIN=${SLUICE_BIN:-$(dirname "$0")/../../build/bin/sluice}
SLUICE_SOURCE_DIR=${SLUICE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d "${TMPDIR:-/tmp}/sluice-it.XXXXXX")
PIDS=()

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -KILL "$pid" 2>/dev/null
    done
    rm -rf "$T"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    [ -f "$T/sluice.log" ] && { echo "--- sluice log (last 30 lines)" >&2; tail -30 "$T/sluice.log" >&2; }
    exit 1
}

pass() {
    echo "PASS: $*"
}

# wait_for SECONDS COMMAND...: poll every 50 ms until COMMAND succeeds.
wait_for() {
    local limit=$1 i
    shift
    for ((i = 0; i < limit * 20; i++)); do
        "$@" && return 0
        sleep 0.05
    done
    return 1
}

# start_sluice ARGS...: run sluice in the background, log to $T/sluice.log;
# sets SLUICE_PID.
start_sluice() {
    "$SLUICE_BIN" "$@" >"$T/sluice.out" 2>"$T/sluice.log" &
    SLUICE_PID=$!
    PIDS+=("$SLUICE_PID")
}

# stop_sluice: SIGTERM, wait up to 30 s, and return sluice's exit code.
stop_sluice() {
    kill -TERM "$SLUICE_PID" 2>/dev/null
    local i
    for ((i = 0; i < 600; i++)); do
        kill -0 "$SLUICE_PID" 2>/dev/null || break
        sleep 0.05
    done
    kill -0 "$SLUICE_PID" 2>/dev/null && fail "sluice ignored SIGTERM for 30 s"
    wait "$SLUICE_PID"
}

line_count() {
    [ -f "$1" ] && wc -l <"$1" || echo 0
}

# lines_at_least FILE N: for wait_for.
lines_at_least() {
    [ "$(line_count "$1")" -ge "$2" ]
}
