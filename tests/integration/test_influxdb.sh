#!/usr/bin/env bash
# influxdb output (api v1) against a real InfluxDB 1.x: log events written
# as points (tags and typed fields from the event, names that need every
# kind of escaping) and metric events (from exec's line-protocol input) are
# read back with /query: every tag, field type, value and timestamp exact.
# (Points with the same measurement, tags and time are one point in
# InfluxDB: the events are 10 ms apart.) Then a point whose field type conflicts with what is stored is answered
# "partial write: field type conflict" and goes to the dead letters with
# InfluxDB's message; the good points of its batch are written.
. "$(dirname "$0")/lib.sh"

start_influxd
curl -fsS -XPOST "http://127.0.0.1:$INFLUX_PORT/query" --data-urlencode 'q=CREATE DATABASE "sluice db"' >/dev/null
cat >"$T/metrics.sh" <<'SH'
printf 'cpu\\ load,host=a\\,b,dc\\=x=eu\\ 1 usage=1.5,count=3i,up=true,note="say \\"hi\\" \\\\o/" 1795667400123456789\n'
printf 'cpu\\ load,host=c usage=-2,count=-4i,up=false,note="" 1795667401000000000\n'
SH
cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 100ms, http: off, storage: {path: $T/state}}
pipelines:
  logs:
    inputs:
      - type: dummy
        count: 3
        rate: 100
        record: {message: 'GET /a "quoted" \\ back, x=1', "host name": "web 1,eu=x", region: eu,
                 "latency ms": 12.5, ok: true, count: 7, nested: {skip: 1}, empty: ""}
    outputs:
      - {type: influxdb, url: "http://127.0.0.1:$INFLUX_PORT", database: "sluice db",
         measurement: "app logs,v2", tag_keys: ["host name", region, empty]}
      - {type: file, path: $T/logs.json}
  metrics:
    inputs: [{type: exec, command: [sh, $T/metrics.sh], format: influx, oneshot: true}]
    outputs:
      - {type: influxdb, url: "http://127.0.0.1:$INFLUX_PORT/", database: "sluice db", compress: gzip}
YAML
start_sluice -c "$T/sluice.yaml"
wait_for 20 lines_at_least "$T/logs.json" 3 || fail "file output"
wait_for 20 grep -q '"cpu load"' <(influx_query "sluice db" 'SHOW MEASUREMENTS') || fail "no cpu load measurement"
sleep 0.5
stop_sluice || fail "exit code $?"

influx_query "sluice db" 'SELECT * FROM "app logs,v2"' >"$T/logs.q"
influx_query "sluice db" 'SHOW FIELD KEYS FROM "app logs,v2"' >"$T/logs.fk"
influx_query "sluice db" 'SHOW TAG KEYS FROM "app logs,v2"' >"$T/logs.tk"
influx_query "sluice db" 'SELECT * FROM "cpu load"' >"$T/cpu.q"
influx_query "sluice db" 'SHOW FIELD KEYS FROM "cpu load"' >"$T/cpu.fk"
python3 - "$T" <<'PY' || fail "points read back"
import json, sys
t = sys.argv[1]
def rows(name):
    r = json.load(open(f"{t}/{name}"))["results"][0]["series"][0]
    return [dict(zip(r["columns"], v)) for v in r["values"]]
sent = [json.loads(l) for l in open(f"{t}/logs.json")]
got = rows("logs.q")
assert len(got) == 3, got
import datetime
def ns(s):
    d = datetime.datetime.strptime(s[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return int(d.timestamp()) * 10**9 + int(s[20:29])
for g, s in zip(got, sent):
    assert g["time"] == ns(s["time"]), (g["time"], s["time"])
    assert g["message"] == 'GET /a "quoted" \\ back, x=1', g["message"]
    assert g["host name"] == "web 1,eu=x" and g["region"] == "eu", g
    assert g["latency ms"] == 12.5 and g["ok"] is True and g["count"] == 7 and g["seq"] == s["seq"], g
assert "nested" not in got[0] and "empty" not in got[0], got[0]
fk = dict(json.load(open(f"{t}/logs.fk"))["results"][0]["series"][0]["values"])
assert fk == {"count": "integer", "latency ms": "float", "message": "string", "ok": "boolean", "seq": "integer"}, fk
tk = [v[0] for v in json.load(open(f"{t}/logs.tk"))["results"][0]["series"][0]["values"]]
assert tk == ["host name", "region"], tk
cpu = rows("cpu.q")
assert cpu[0] == {"time": 1795667400123456789, "count": 3, "dc=x": "eu 1", "host": "a,b",
                  "note": 'say "hi" \\o/', "up": True, "usage": 1.5}, cpu[0]
assert cpu[1] == {"time": 1795667401000000000, "count": -4, "dc=x": None, "host": "c",
                  "note": "", "up": False, "usage": -2}, cpu[1]
fk = dict(json.load(open(f"{t}/cpu.fk"))["results"][0]["series"][0]["values"])
assert fk == {"count": "integer", "note": "string", "up": "boolean", "usage": "float"}, fk
print("3 log points and 2 metric points exact, with types, tags and timestamps")
PY

# A field type conflict: count is stored as an integer, these send strings
# for one point in a batch of three.
cat >"$T/conflict.yaml" <<YAML
service: {flush_interval: 100ms, http: off, storage: {path: $T/state2}}
pipelines:
  conflict:
    inputs:
      - {type: exec, command: [sh, -c, "printf 'app\\\\\\\\ logs\\\\\\\\,v2 count=1i 1\\\\napp\\\\\\\\ logs\\\\\\\\,v2 count=\\"seven\\" 2\\\\napp\\\\\\\\ logs\\\\\\\\,v2 count=3i 3\\\\n'"], format: influx, oneshot: true}
    outputs:
      - type: influxdb
        url: http://127.0.0.1:$INFLUX_PORT
        database: "sluice db"
        dead_letter: {path: $T/dead.jsonl}
      - type: influxdb
        id: nodb
        url: http://127.0.0.1:$INFLUX_PORT
        database: nope
        dead_letter: {path: $T/nodb.jsonl}
YAML
start_sluice -c "$T/conflict.yaml"
wait_for 20 lines_at_least "$T/dead.jsonl" 1 || fail "no dead letter for the conflicting point"
wait_for 20 lines_at_least "$T/nodb.jsonl" 3 || fail "points for a missing database not dead-lettered"
grep -q 'nodb: http://127.0.0.1:[0-9]*: HTTP 404: database not found: "nope" (create the database first): 3 points go to the dead letters' "$T/sluice.log" \
    || fail "no clear log line for the missing database: $(grep nodb "$T/sluice.log")"
sleep 0.5
stop_sluice || fail "exit code $?"
influx_query "sluice db" 'SELECT count FROM "app logs,v2" WHERE time < 10' >"$T/early.q"
stop_influxd
python3 - "$T" <<'PY' || fail "conflict"
import json, sys
t = sys.argv[1]
dead = [json.loads(l) for l in open(f"{t}/dead.jsonl")]
assert len(dead) == 1, dead
d = dead[0]
assert d["event"]["fields"] == {"count": "seven"}, d
assert d["error"].startswith("HTTP 400: partial write: field type conflict"), d["error"]
assert 'input field "count" on measurement "app logs,v2" is type string, already exists as type integer' in d["error"], d["error"]
r = json.load(open(f"{t}/early.q"))["results"][0]["series"][0]["values"]
assert r == [[1, 1], [3, 3]], r
print("conflict dead-lettered:", d["error"][:120])
PY
pass "InfluxDB 1.x: points exact through every escape; a type conflict dead-lettered with InfluxDB's message; a missing database said plainly"
