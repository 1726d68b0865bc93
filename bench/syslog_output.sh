#!/usr/bin/env bash
# dummy -> syslog output over TCP (RFC 5424, octet counting, one
# connection) into a counting sink that checks every frame's length, RUNS
# times. The events carry what a syslog event does (severity, facility,
# hostname, app name, procid, structured data, a 90-byte message).
# Measured as ../shared/bench/README.md measured our peers: sluice's own
# CPU (utime+stime) once the output wrote all N messages to the socket
# (its messages_total metric), wall time from exec to then, peak RSS;
# median of the runs. FRAMING=lf and FORMAT=rfc3164 vary the framing and
# the format.
#
# usage: bench/syslog_output.sh [N] [RUNS]      (default 5000000 5)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
N=${1:-5000000}
RUNS=${2:-5}
FRAMING=${FRAMING:-octet_counting}
FORMAT=${FORMAT:-rfc5424}
BIN=${SLUICE_BIN:-build/bin/sluice}
T=$(mktemp -d)
trap 'kill $SINK_PID 2>/dev/null; rm -rf "$T"' EXIT

# The sink: reads as fast as it can, counts frames (octet counting: by
# their lengths; lf: by newlines) and writes the count when the peer closes.
cat >"$T/sink.py" <<'PY'
import socket, sys
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0)); srv.listen(4)
open(sys.argv[1], "w").write(str(srv.getsockname()[1]))
octet = sys.argv[3] == "octet_counting"
while True:
    c, _ = srv.accept()
    frames, buf, bad = 0, b"", 0
    while True:
        d = c.recv(1 << 20)
        if not d:
            break
        if not octet:
            frames += d.count(b"\n")
            continue
        buf += d
        i = 0
        while True:
            sp = buf.find(b" ", i, i + 12)
            if sp < 0:
                break
            n = int(buf[i:sp])
            if sp + 1 + n > len(buf):
                break
            bad += buf[sp + 1] != 60  # '<'
            i = sp + 1 + n
            frames += 1
        buf = buf[i:]
    with open(sys.argv[2], "a") as f:
        f.write(f"{frames} {bad} {len(buf)}\n")
PY
python3 "$T/sink.py" "$T/port" "$T/frames" "$FRAMING" &
SINK_PID=$!
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
SINK_PORT=$(cat "$T/port")

for run in $(seq "$RUNS"); do
    MPORT=$(free_port)
    cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 100ms, http: {listen: 127.0.0.1:$MPORT}}
pipelines:
  bench:
    inputs:
      - type: dummy
        rate: 0
        count: $N
        record: {severity: info, facility: local0, hostname: web-1.example.com, appname: nginx,
                 procid: "4711", structured_data: {"req@32473": {id: "5f2a9c", bytes: "5123"}},
                 message: "GET /api/v1/orders/1234 HTTP/1.1 200 5123 0.012 \"curl/8.1.2\" 10.0.0.1"}
    outputs:
      - {type: syslog, address: "tcp://127.0.0.1:$SINK_PORT", format: $FORMAT, framing: $FRAMING}
YAML
    start=$(date +%s.%N)
    "$BIN" -c "$T/sluice.yaml" 2>"$T/log" &
    pid=$!
    sent=0
    for _ in $(seq 6000); do
        sent=$(curl -fs "http://127.0.0.1:$MPORT/metrics" 2>/dev/null |
            awk '/^sluice_output_syslog_messages_total/ {print $2}' || true) # not up yet
        [ "${sent:-0}" -ge "$N" ] 2>/dev/null && break
        sleep 0.02
    done
    done_at=$(date +%s.%N)
    cpu=$(proc_cpu "$pid")
    hwm=$(proc_hwm "$pid")
    kill -TERM "$pid"
    wait "$pid"
    for _ in $(seq 600); do [ -f "$T/frames" ] && [ "$(wc -l <"$T/frames")" -ge "$run" ] && break; sleep 0.05; done
    read -r frames bad rest < <(tail -1 "$T/frames")
    [ "$frames" = "$N" ] && [ "$bad" = 0 ] && [ "$rest" = 0 ] ||
        { echo "run $run: the sink counted $frames frames of $N ($bad bad, $rest bytes left)" >&2; exit 1; }
    echo "$(run_result "$N" "$cpu" "$start" "$done_at" "$hwm") 0" >>"$T/results"
done
median_report "$T/results" "dummy -> syslog over TCP ($FORMAT, $FRAMING), $N events" events
