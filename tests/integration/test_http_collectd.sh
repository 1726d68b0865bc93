#!/usr/bin/env bash
# collectd (Debian's, in the foreground with its own config) posting its
# metrics to the http input with write_http in JSON: every value becomes a
# metric event. Fixed values are fed through collectd's unixsock plugin
# (PUTVAL with set timestamps) and checked field by field; the values of
# collectd's own `load` and `memory` readers arrive as well.
. "$(dirname "$0")/lib.sh"

command -v collectd >/dev/null || fail "collectd is not installed (.ci/run installs collectd-core)"
PORT=$(free_port)
OUT=$T/out.json
cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 100ms, http: off, grace: 2s}
pipelines:
  metrics:
    inputs:
      - {type: http, listen: 127.0.0.1:$PORT}
    outputs:
      - {type: file, path: $OUT, format: json}
YAML
start_sluice -c "$T/sluice.yaml"
wait_for 20 grep -q "listening on" "$T/sluice.log" || fail "sluice did not start"

D=$T/cd
mkdir -p "$D"
sed -e "s|@DIR@|$D|g" -e "s|@PORT@|$PORT|g" -e "s|@PATH@|/collectd|g" -e "s|@FORMAT@|JSON|g" \
    "$SLUICE_SOURCE_DIR/tests/collectd/collectd.conf.in" >"$D/collectd.conf"
collectd -f -C "$D/collectd.conf" >"$D/stdout.log" 2>&1 &
CD_PID=$!
PIDS+=("$CD_PID")
wait_for 20 test -S "$D/collectd.sock" || fail "collectd did not start: $(cat "$D/collectd.log" "$D/stdout.log" 2>/dev/null)"

python3 - "$D/collectd.sock" <<'PY' || fail "PUTVAL through collectd's unixsock"
import socket, sys
lines = [
    'PUTVAL "sluice-test/test-a/gauge-answer" interval=1 1700000000.250:42.25',
    'PUTVAL "sluice-test/test-a/gauge-answer" interval=1 1700000001:43',
    'PUTVAL "sluice-test/net/if_octets-eth0" interval=1 1700000000:1000:2000',
    'PUTVAL "sluice-test/test/derive-requests" interval=1 1700000000:77',
    'PUTVAL "sluice-test/test-b/gauge" interval=1 1700000000:U',
]
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rw")
for l in lines:
    f.write(l + "\n")
    f.flush()
    answer = f.readline()
    assert answer.startswith("0 "), (l, answer)
PY

have_all() {
    [ -f "$OUT" ] && grep -q '"test_derive"' "$OUT" && grep -q '"load_shortterm"' "$OUT" &&
        [ "$(grep -c '"test_gauge"' "$OUT")" -ge 2 ]
}
wait_for 30 have_all || fail "collectd's values did not all arrive: $(head -c 2000 "$OUT" 2>/dev/null) $(tail -5 "$D/collectd.log")"
kill -TERM "$CD_PID"
wait "$CD_PID" 2>/dev/null
stop_sluice || fail "sluice exit code $?"
grep -q "HTTP Error code" "$D/collectd.log" && fail "collectd saw an HTTP error: $(grep 'HTTP Error' "$D/collectd.log" | head -3)"

python3 - "$OUT" <<'PY' || fail "collectd's events"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
assert all(e["kind"] in ("gauge", "counter") for e in ev), ev[:3]
fixed = [e for e in ev if e["time"].startswith("2023-11-14T22:13:2")]
by = sorted((e["name"], e["time"], json.dumps(e["tags"], sort_keys=True), e["kind"],
             e["fields"]["value"]) for e in fixed)
want = sorted([
    ("test_gauge", "2023-11-14T22:13:20.250000000Z",
     '{"host": "sluice-test", "plugin_instance": "a", "type_instance": "answer"}', "gauge", 42.25),
    ("test_gauge", "2023-11-14T22:13:21.000000000Z",
     '{"host": "sluice-test", "plugin_instance": "a", "type_instance": "answer"}', "gauge", 43),
    ("net_if_octets_rx", "2023-11-14T22:13:20.000000000Z",
     '{"host": "sluice-test", "type_instance": "eth0"}', "counter", 1000),
    ("net_if_octets_tx", "2023-11-14T22:13:20.000000000Z",
     '{"host": "sluice-test", "type_instance": "eth0"}', "counter", 2000),
    ("test_derive", "2023-11-14T22:13:20.000000000Z",
     '{"host": "sluice-test", "type_instance": "requests"}', "counter", 77),
])
assert by == want, by
load = [e for e in ev if e["name"] == "load_shortterm"]
assert load and load[0]["kind"] == "gauge" and load[0]["tags"] == {"host": "sluice-test"}, load[:1]
mem = {e["tags"].get("type_instance") for e in ev if e["name"] == "memory"}
assert {"used", "free"} <= mem, mem
print(len(ev), "events")
PY
pass "collectd write_http JSON: 5 fixed values exact (an unknown U skipped), load and memory readings as metrics"
