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
    python3 "$SLUICE_SOURCE_DIR/tests/free_port.py" --release "$T/.ports"
    rm -rf "$T"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    [ -f "$T/sluice.log" ] && { echo "--- sluice log (last 30 lines)" >&2; tail -30 "$T/sluice.log" >&2; }
    # SLUICE_KEEP_FAILED=DIR keeps the failed test's files for a post-mortem.
    [ -n "${SLUICE_KEEP_FAILED:-}" ] && cp -a "$T" "$SLUICE_KEEP_FAILED/$(basename "$0" .sh).$$"
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
    # Emptied here, not by the background job's redirections: a wait_for
    # right after must not read what the previous run logged.
    : >"$T/sluice.out"
    : >"$T/sluice.log"
    "$SLUICE_BIN" "$@" >>"$T/sluice.out" 2>>"$T/sluice.log" &
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

# free_port: a loopback port (TCP and UDP) nothing uses now, below the
# ephemeral range and reserved for this test until it exits.
free_port() {
    python3 "$SLUICE_SOURCE_DIR/tests/free_port.py" --record "$T/.ports"
}

# start_http_server PORT [MODE]: the fault-injecting test server; sets HTTP_PID.
start_http_server() {
    python3 "$SLUICE_SOURCE_DIR/tests/http_test_server.py" --port "$1" --mode "${2:-ok}" \
        >"$T/http.log" 2>&1 &
    HTTP_PID=$!
    PIDS+=("$HTTP_PID")
    wait_for 20 curl -fs -o /dev/null "http://127.0.0.1:$1/_stats" || fail "test HTTP server did not start"
}

stop_http_server() {
    kill -TERM "$HTTP_PID" 2>/dev/null
    wait "$HTTP_PID" 2>/dev/null
}

# http_control PORT JSON
http_control() {
    curl -fs -X POST -d "$2" "http://127.0.0.1:$1/_control" >/dev/null || fail "control $2"
}

# http_stats PORT: the server's /_stats JSON on stdout.
http_stats() {
    curl -fs "http://127.0.0.1:$1/_stats"
}

# http_events PORT: events recorded so far.
http_events() {
    http_stats "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])'
}

# http_events_at_least PORT N: for wait_for.
http_events_at_least() {
    [ "$(http_events "$1" 2>/dev/null || echo 0)" -ge "$2" ]
}

# start_es_server PORT [ARGS...]: the Elasticsearch Bulk API test double;
# sets ES_PID.
start_es_server() {
    local port=$1
    shift
    python3 "$SLUICE_SOURCE_DIR/tests/es_test_server.py" --port "$port" "$@" >"$T/es.log" 2>&1 &
    ES_PID=$!
    PIDS+=("$ES_PID")
    wait_for 20 curl -fs -o /dev/null "http://127.0.0.1:$port/_test/stats" || fail "ES test double did not start"
}

# es_count PORT [INDEX]: documents stored.
es_count() {
    curl -fs "http://127.0.0.1:$1/${2:+$2/}_count" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])'
}

# es_count_at_least PORT N: for wait_for.
es_count_at_least() {
    [ "$(es_count "$1" 2>/dev/null || echo 0)" -ge "$2" ]
}

stop_es_server() {
    kill -TERM "$ES_PID" 2>/dev/null
    wait "$ES_PID" 2>/dev/null
}

. "$SLUICE_SOURCE_DIR/tests/services/influxdb.sh"

# start_influxd: InfluxDB 1.x (Debian influxdb) on free loopback ports, all
# state under $T/influxdb; sets INFLUX_PORT and INFLUX_PID.
start_influxd() {
    command -v influxd >/dev/null || fail "influxd is not installed (.ci/run installs influxdb)"
    INFLUX_PORT=$(free_port)
    local meta_port d=$T/influxdb
    meta_port=$(free_port)
    mkdir -p "$d"
    influxd_config "$d" "$INFLUX_PORT" "$meta_port" >"$d/influxdb.conf"
    influxd run -config "$d/influxdb.conf" -pidfile "$d/influxd.pid" >"$d/influxd.log" 2>&1 &
    INFLUX_PID=$!
    PIDS+=("$INFLUX_PID")
    wait_for 60 curl -fs -o /dev/null "http://127.0.0.1:$INFLUX_PORT/ping" \
        || { cat "$d/influxd.log" >&2; fail "influxd did not start"; }
}

stop_influxd() {
    kill -TERM "$INFLUX_PID" 2>/dev/null
    wait "$INFLUX_PID" 2>/dev/null
}

# influx_query DB QUERY: the JSON answer of /query (times in ns).
influx_query() {
    curl -fsS -G "http://127.0.0.1:$INFLUX_PORT/query" --data-urlencode "db=$1" \
        --data-urlencode epoch=ns --data-urlencode "q=$2"
}

# start_victoriametrics: VictoriaMetrics single node on a free loopback
# port, data under $T/vm; sets VM_PORT and VM_PID.
start_victoriametrics() {
    command -v victoria-metrics >/dev/null || fail "victoria-metrics is not installed (.ci/run installs it)"
    VM_PORT=$(free_port)
    victoria-metrics -storageDataPath="$T/vm" -httpListenAddr="127.0.0.1:$VM_PORT" \
        -search.latencyOffset=0s -search.disableCache -loggerLevel=WARN >"$T/vm.log" 2>&1 &
    VM_PID=$!
    PIDS+=("$VM_PID")
    wait_for 60 curl -fs -o /dev/null "http://127.0.0.1:$VM_PORT/health" \
        || { cat "$T/vm.log" >&2; fail "victoria-metrics did not start"; }
}

stop_victoriametrics() {
    kill -TERM "$VM_PID" 2>/dev/null
    wait "$VM_PID" 2>/dev/null
}

# start_carbon [PORT]: carbon-cache (Debian graphite-carbon) with whisper
# files under $T/carbon/storage/whisper, schema 1s:1h; plaintext on
# CARBON_PORT (TCP and UDP). Sets CARBON_PID and CARBON_WHISPER.
start_carbon() {
    command -v carbon-cache >/dev/null || fail "carbon-cache is not installed (.ci/run installs graphite-carbon)"
    local d=$T/carbon
    CARBON_PORT=${1:-${CARBON_PORT:-$(free_port)}}
    CARBON_WHISPER=$d/storage/whisper
    mkdir -p "$d/conf" "$CARBON_WHISPER" "$d/log"
    cat >"$d/conf/carbon.conf" <<CONF
[cache]
STORAGE_DIR = $d/storage/
LOCAL_DATA_DIR = $d/storage/whisper/
WHITELISTS_DIR = $d/storage/lists/
CONF_DIR = $d/conf/
LOG_DIR = $d/log/
PID_DIR = $d/
DATABASE = whisper
USER =
MAX_CACHE_SIZE = inf
MAX_UPDATES_PER_SECOND = 10000
MAX_CREATES_PER_MINUTE = inf
LINE_RECEIVER_INTERFACE = 127.0.0.1
LINE_RECEIVER_PORT = $CARBON_PORT
ENABLE_UDP_LISTENER = True
UDP_RECEIVER_INTERFACE = 127.0.0.1
UDP_RECEIVER_PORT = $CARBON_PORT
PICKLE_RECEIVER_INTERFACE = 127.0.0.1
PICKLE_RECEIVER_PORT = ${CARBON_PICKLE_PORT:=$(free_port)}
CACHE_QUERY_INTERFACE = 127.0.0.1
CACHE_QUERY_PORT = ${CARBON_QUERY_PORT:=$(free_port)}
LOG_LISTENER_CONN_SUCCESS = False
CARBON_METRIC_INTERVAL = 0
WHISPER_AUTOFLUSH = True
CONF
    printf '[default]\npattern = .*\nretentions = 1s:1h\n' >"$d/conf/storage-schemas.conf"
    rm -f "$d/carbon.pid"
    carbon-cache --config="$d/conf/carbon.conf" --pidfile="$d/carbon.pid" --debug start \
        >>"$d/carbon.out" 2>&1 &
    CARBON_PID=$!
    PIDS+=("$CARBON_PID")
    wait_for 60 bash -c "exec 3<>/dev/tcp/127.0.0.1/$CARBON_PORT" 2>/dev/null \
        || { cat "$d/carbon.out" >&2; fail "carbon-cache did not start"; }
}

stop_carbon() {
    kill -TERM "$CARBON_PID" 2>/dev/null
    wait "$CARBON_PID" 2>/dev/null
}

# start_mock_kafka N: librdkafka's mock cluster of N brokers
# (tests/kafka/mock_kafka) in a process of its own, commanded through fd 7
# (`echo "topic logs 3" >&7`, one "ok" per command in $T/mock.out); sets
# BROKERS to its bootstrap list.
start_mock_kafka() {
    local mock=${SLUICE_BUILD_DIR:-$SLUICE_SOURCE_DIR/build}/tests/mock_kafka
    if [ ! -x "$mock" ]; then
        mock=$T/mock_kafka
        gcc -O1 -o "$mock" "$SLUICE_SOURCE_DIR/tests/kafka/mock_kafka.c" \
            $(pkg-config --cflags --libs rdkafka) || fail "cannot build mock_kafka"
    fi
    mkfifo "$T/mock.cmd"
    "$mock" "$T/bootstrap" "$1" <"$T/mock.cmd" >"$T/mock.out" 2>"$T/mock.log" &
    PIDS+=($!)
    exec 7>"$T/mock.cmd"
    wait_for 20 test -s "$T/bootstrap" || fail "the mock Kafka cluster did not start"
    BROKERS=$(cat "$T/bootstrap")
}
