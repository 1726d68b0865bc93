#!/usr/bin/env bash
# exec: the interval is honoured, a timeout kills the whole process group,
# a run is skipped (and counted) while the previous one is still going, and
# the three formats: lines (with env, cwd, exit code and stderr fields),
# JSON objects, and InfluxDB line protocol into metric events with tags and
# typed fields (a bad line kept with parse_error).
. "$(dirname "$0")/lib.sh"

cat >"$T/metrics.lp" <<'LP'
# a comment
cpu,host=web\ 1,region=eu\,west usage=0.5,count=3i,big=18446744073709551615u,ok=true,note="say \"hi\"" 1700000000123456789
mem free=1024i
not line protocol
LP
MARK=sluice-exec-$$-$RANDOM
cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 50ms, http: off}
pipelines:
  lines:
    inputs:
      - type: exec
        command: 'echo "out \$FOO"; pwd; echo oops >&2; exit 3'
        oneshot: true
        env: {FOO: bar}
        cwd: $T
        exit_code_key: exit_code
        stderr_key: stderr
    outputs: [{type: file, path: $T/lines.json}]
  json:
    inputs: [{type: exec, command: ["printf", '{"a":1,"b":"x","code":"mine"}\nnot json\n'], oneshot: true, format: json, exit_code_key: code}]
    outputs: [{type: file, path: $T/json.json}]
  influx:
    inputs: [{type: exec, command: [cat, $T/metrics.lp], oneshot: true, format: influx}]
    outputs: [{type: file, path: $T/influx.json}]
  ticks:
    inputs: [{type: exec, command: "date +%s%N", interval: 200ms}]
    outputs: [{type: file, path: $T/ticks.json}]
  slow:
    inputs: [{type: exec, command: "sleep 0.45; echo done", interval: 100ms}]
    outputs: [{type: file, path: $T/slow.json}]
  hang:
    inputs: [{type: exec, command: "sh -c 'sleep 30; echo $MARK' & sleep 30", timeout: 300ms, interval: 5s}]
    outputs: [{type: null}]
YAML
start_sluice -c "$T/sluice.yaml"
started=$(date +%s%N)
sleep 2.1
elapsed_ms=$(( ($(date +%s%N) - started) / 1000000 ))
stop_sluice || fail "exit code $?"

PYTHONPATH=$SLUICE_SOURCE_DIR/tests/integration python3 - "$T" "$elapsed_ms" <<'PY' || fail "events"
import json, sys
t, elapsed = sys.argv[1], int(sys.argv[2])
import jsonl
def read(name):
    return jsonl.read(f"{t}/{name}.json")
lines = read("lines")
assert [e["message"] for e in lines] == ["out bar", t], lines
assert all(e["exit_code"] == 3 and e["stderr"] == "oops\n" for e in lines), lines
js = read("json")
assert js[0]["a"] == 1 and js[0]["b"] == "x" and js[0]["code"] == 0, js
assert js[1]["message"] == "not json" and js[1]["parse_error"] is True, js
inf = read("influx")
cpu = next(e for e in inf if e.get("name") == "cpu")
assert cpu["kind"] == "untyped"
assert cpu["tags"] == {"host": "web 1", "region": "eu,west"}, cpu["tags"]
assert cpu["fields"] == {"usage": 0.5, "count": 3, "big": 18446744073709551615, "ok": True,
                         "note": 'say "hi"'}, cpu["fields"]
assert cpu["time"] == "2023-11-14T22:13:20.123456789Z", cpu["time"]
mem = next(e for e in inf if e.get("name") == "mem")
assert mem["fields"] == {"free": 1024} and mem["tags"] == {}
bad = [e for e in inf if e.get("parse_error")]
assert [e["message"] for e in bad] == ["not line protocol"], bad
assert len(inf) == 3, inf
ticks = read("ticks")
# Every 200 ms from the start: about elapsed/200 + 1 runs.
want = elapsed // 200 + 1
assert want - 3 <= len(ticks) <= want + 1, (len(ticks), want)
# Runs keep to the interval on average; one started late under load may be
# followed closely by the next on schedule, but never two at once.
gaps = [int(b["message"]) - int(a["message"]) for a, b in zip(ticks, ticks[1:])]
assert 150e6 < sum(gaps) / len(gaps) < 300e6 and min(gaps) > 20e6, gaps
slow = read("slow")
assert 2 <= len(slow) <= 5, slow
print(f"{len(ticks)} runs at a 200 ms interval in {elapsed} ms; {len(slow)} slow runs")
PY
grep -q "slow.exec.0: [0-9]* runs: [01] failed, 0 timed out, [1-9][0-9]* skipped" "$T/sluice.log" || fail "overlap not skipped: $(grep 'slow.exec' "$T/sluice.log")"
grep -q "hang.exec.0: command killed after the 300 ms timeout" "$T/sluice.log" || fail "no timeout"
grep -q "lines.exec.0: command exited with status 3; stderr: oops" "$T/sluice.log" || fail "exit status not logged"
sleep 0.2
pgrep -f "$MARK" >/dev/null && fail "the timed-out command's process group survived"
pass "exec: interval, timeout kills the process group, overlap skipped, lines/json/influx exact"
