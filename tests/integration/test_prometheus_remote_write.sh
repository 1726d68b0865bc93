#!/usr/bin/env bash
# prometheus_remote_write into a real Prometheus 2.42
# (--web.enable-remote-write-receiver) and VictoriaMetrics at once: 10
# series get a sample every 100 ms for about 30 s, while Prometheus is
# stopped for 20 s and started again on the same storage. Every sample is
# read back exact from both (raw samples: a range selector at one instant
# in Prometheus, /api/v1/export in VictoriaMetrics): nothing lost, nothing
# twice. Then one request mixes fresh samples with one 3 hours old: the
# old one is "out of bounds" and a dead letter with Prometheus's message,
# the others are stored.
source "$(dirname "$0")/lib.sh"

command -v prometheus >/dev/null || fail "prometheus is not installed (.ci/run installs it)"
PPORT=$(free_port)
printf 'global: {}\n' >"$T/prometheus.yml"
start_prometheus() {
    prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/prom" \
        --web.listen-address="127.0.0.1:$PPORT" --web.enable-remote-write-receiver \
        --log.level=warn >>"$T/prom.log" 2>&1 &
    PROM_PID=$!
    PIDS+=($PROM_PID)
    wait_for 60 curl -fs -o /dev/null "http://127.0.0.1:$PPORT/-/ready" || fail "prometheus not ready: $(tail -5 "$T/prom.log")"
}
start_prometheus
start_victoriametrics

# Each run prints one sample per series: run number, stamped now; after
# RUNS runs, nothing.
cat >"$T/gen.py" <<'PY'
import os, sys, time
state, runs = sys.argv[1], int(sys.argv[2])
n = int(open(state).read()) + 1 if os.path.exists(state) else 1
if n <= runs:
    open(state, "w").write(str(n))
    ts = time.time_ns()
    for s in range(10):
        print(f"rw_test,series=s{s} value={n} {ts}")
PY
RUNS=250
cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 200ms, http: off, storage: {path: $T/state}}
pipelines:
  metrics:
    inputs:
      - {type: exec, command: [python3, "$T/gen.py", "$T/gen.state", "$RUNS"], interval: 100ms,
         format: influx}
    outputs:
      - type: prometheus_remote_write
        url: http://127.0.0.1:$PPORT/api/v1/write
        retry: {initial_backoff: 200ms, max_backoff: 2s}
        dead_letter: {path: $T/dead.jsonl}
      - type: prometheus_remote_write
        url: http://127.0.0.1:$VM_PORT/api/v1/write
  late:
    inputs: [{type: exec, command: [cat, "$T/late.lp"], format: influx, oneshot: true}]
    outputs:
      - type: prometheus_remote_write
        url: http://127.0.0.1:$PPORT/api/v1/write
        max_events: 2
        dead_letter: {path: $T/late-dead.jsonl}
YAML
: >"$T/late.lp"
start_sluice -c "$T/sluice.yaml"
runs_done() {
    local n
    n=$(cat "$T/gen.state" 2>/dev/null)
    [ "${n:-0}" -ge "$1" ]
}
wait_for 30 runs_done 50 || fail "the generator does not run: $(tail -5 "$T/sluice.log")"
kill -TERM "$PROM_PID"
wait "$PROM_PID" 2>/dev/null
sleep 20
start_prometheus
wait_for 120 runs_done "$RUNS" || fail "the generator stopped at $(cat "$T/gen.state")"

# raw_prom: "series value" lines of every stored sample.
raw_prom() {
    curl -fs "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode 'query=rw_test[1h]' |
        python3 -c '
import json, sys
for r in json.load(sys.stdin)["data"]["result"]:
    for t, v in r["values"]:
        print(r["metric"]["series"], v)'
}
raw_vm() {
    curl -fs "http://127.0.0.1:$VM_PORT/api/v1/export" --data-urlencode 'match[]=rw_test' |
        python3 -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    for v in r["values"]:
        print(r["metric"]["series"], int(v) if v == int(v) else v)'
}
expected() { for s in 0 1 2 3 4 5 6 7 8 9; do seq "$RUNS" | sed "s/^/s$s /"; done | sort; }
expected >"$T/expected"
prom_all() { raw_prom | sort >"$T/prom.txt"; cmp -s "$T/prom.txt" "$T/expected"; }
wait_for 60 prom_all || fail "Prometheus holds $(wc -l <"$T/prom.txt") samples, not $((RUNS * 10)): $(diff "$T/expected" "$T/prom.txt" | head -5)"
pass "Prometheus stopped 20 s mid-stream: all $((RUNS * 10)) samples stored, each once, exact"
vm_all() { raw_vm | sort >"$T/vm.txt"; cmp -s "$T/vm.txt" "$T/expected"; }
wait_for 60 vm_all || fail "VictoriaMetrics holds $(wc -l <"$T/vm.txt") samples: $(diff "$T/expected" "$T/vm.txt" | head -5)"
pass "VictoriaMetrics received the same $((RUNS * 10)) samples (read back with /api/v1/export)"

# One request: 4 fresh samples and one 3 hours old, the old one in the middle.
now=$(date +%s%N)
old=$((now - 3 * 3600 * 1000000000))
printf 'rw_late,n=1 value=1 %s\nrw_late,n=2 value=2 %s\nrw_late,n=3 value=3 %s\nrw_late,n=4 value=4 %s\nrw_late,n=5 value=5 %s\n' \
    "$now" "$now" "$old" "$now" "$now" >"$T/late.lp"
# And 8 samples of one series in 4 requests of 2 (max_events): sent one
# after another, or Prometheus would refuse the later-sent earlier ones.
for i in 1 2 3 4 5 6 7 8; do
    echo "rw_seq value=$i $((now - (9 - i) * 1000000000))"
done >>"$T/late.lp"
stop_sluice || fail "exit code $?"
start_sluice -c "$T/sluice.yaml"
wait_for 30 grep -qs 'out of bounds' "$T/late-dead.jsonl" || fail "the old sample is not a dead letter: $(tail -5 "$T/sluice.log")"
late() {
    curl -fs "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode 'query=sort(rw_late)' |
        python3 -c 'import json,sys; print(" ".join(r["value"][1] for r in json.load(sys.stdin)["data"]["result"]))'
}
wait_for 30 bash -c "[ \"\$(curl -fs 'http://127.0.0.1:$PPORT/api/v1/query' --data-urlencode 'query=count(rw_late)' | grep -o '\"[0-9]\"\]')\" = '\"4\"]' ]" ||
    fail "the fresh samples of the request were not stored: $(late)"
[ "$(late)" = "1 2 4 5" ] || fail "stored: $(late)"
seq_values=$(curl -fs "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode 'query=rw_seq[1m]' |
    python3 -c 'import json,sys; print(" ".join(v for r in json.load(sys.stdin)["data"]["result"] for _, v in r["values"]))')
[ "$seq_values" = "1 2 3 4 5 6 7 8" ] || fail "one series over 4 requests: $seq_values"
[ "$(wc -l <"$T/late-dead.jsonl")" = 1 ] || fail "more than the old sample was dead-lettered: $(cat "$T/late-dead.jsonl")"
grep -q '"n":"3"' "$T/late-dead.jsonl" || fail "the wrong event was dead-lettered: $(cat "$T/late-dead.jsonl")"
stop_sluice || fail "exit code $?"
pass "a sample 3 h old: a dead letter with Prometheus's message ($(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["error"][:70])' "$T/late-dead.jsonl")), the other 4 stored; one series over 4 requests stored in order"
[ -s "$T/dead.jsonl" ] && fail "the main stream has dead letters: $(head -3 "$T/dead.jsonl")"

# An answer that never comes: a proxy hands the first request to
# Prometheus, which stores it, and then says nothing. sluice times out and
# sends it again; Prometheus refuses it as out of order (a series with
# three samples); sluice counts it as delivered instead of dead-lettering.
XPORT=$(free_port)
python3 - "$XPORT" "$PPORT" >"$T/proxy.log" 2>&1 <<'PY' &
import sys, time, urllib.request, urllib.error
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
port, prom = int(sys.argv[1]), int(sys.argv[2])
state = {"n": 0}
class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        req = urllib.request.Request(f"http://127.0.0.1:{prom}/api/v1/write", body,
                                     {k: v for k, v in self.headers.items() if k.lower() != "host"})
        try:
            r = urllib.request.urlopen(req)
            status, text = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read()
        state["n"] += 1
        print("request", state["n"], "answered", status, text[:80], flush=True)
        if state["n"] == 1:
            time.sleep(5)  # stored; the answer never comes in time
            return
        self.send_response(status)
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)
ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
PIDS+=($!)
wait_for 20 bash -c "echo > /dev/tcp/127.0.0.1/$XPORT" 2>/dev/null || fail "the proxy did not start"
now=$(date +%s%N)
for i in 1 2 3; do echo "rw_amb value=$i $((now - (4 - i) * 1000000000))"; done >"$T/amb.lp"
cat >"$T/amb.yaml" <<YAML
service: {flush_interval: 100ms, http: off, storage: {path: $T/state-amb}}
pipelines:
  amb:
    inputs: [{type: exec, command: [cat, "$T/amb.lp"], format: influx, oneshot: true}]
    outputs:
      - type: prometheus_remote_write
        url: http://127.0.0.1:$XPORT/api/v1/write
        timeout: 1s
        retry: {initial_backoff: 200ms, max_backoff: 1s}
        dead_letter: {path: $T/amb-dead.jsonl}
YAML
start_sluice -c "$T/amb.yaml"
wait_for 30 grep -q "it was stored the first time" "$T/sluice.log" ||
    fail "the resent request was not counted as delivered: $(cat "$T/proxy.log"; tail -5 "$T/sluice.log")"
grep -q "request 2 answered 400 b'out of order sample" "$T/proxy.log" || fail "Prometheus did not answer out of order: $(cat "$T/proxy.log")"
stop_sluice || fail "exit code $?"
[ -s "$T/amb-dead.jsonl" ] && fail "dead letters: $(cat "$T/amb-dead.jsonl")"
amb=$(curl -fs "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode 'query=rw_amb[1m]' |
    python3 -c 'import json,sys; print(" ".join(v for r in json.load(sys.stdin)["data"]["result"] for _, v in r["values"]))')
[ "$amb" = "1 2 3" ] || fail "stored: $amb"
pass "no answer, then Prometheus's 400 out of order sample on the resend: counted as delivered, stored once"
kill -TERM "$PROM_PID"
wait "$PROM_PID" 2>/dev/null
stop_victoriametrics
true
