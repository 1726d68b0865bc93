#!/usr/bin/env bash
# docs/emitting.md's examples, run as written against the four inputs they
# name (syslog, http, opentelemetry, statsd), with the clients installable
# here: Python's logging handlers and Debian's python3-statsd, the
# OpenTelemetry JS SDK and hot-shots (tests/node), logger, curl and bash.
# The blocks are taken from the document itself (only the ports are
# changed to free ones), so the page cannot drift from what works. The
# Go, Java and C examples need toolchains or a /dev/log this test does not
# own, and the page says so.
. "$(dirname "$0")/lib.sh"

DOC=$SLUICE_SOURCE_DIR/docs/emitting.md
NODE_DIR=$SLUICE_SOURCE_DIR/tests/node
[ -d "$NODE_DIR/node_modules/hot-shots" ] || fail "npm ci --prefix tests/node has not run (.ci/run does it)"
/usr/bin/python3 -c 'import statsd' || fail "python3-statsd is not installed (.ci/run installs it)"
SYSLOG=$(free_port)
HTTP=$(free_port)
OTLP=$(free_port)
STATSD=$(free_port)
OUT=$T/out.json

# block LANG TEXT: the first ```LANG block of the page containing TEXT,
# with the page's ports replaced by this test's.
block() {
    python3 - "$DOC" "$1" "$2" <<PY
import re, sys
doc, lang, text = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3]
for b in re.findall(r"^\`\`\`" + lang + r"\n(.*?)^\`\`\`", doc, re.M | re.S):
    if text in b:
        for port, mine in (("5514", "$SYSLOG"), ("9880", "$HTTP"), ("4318", "$OTLP"), ("8125", "$STATSD")):
            b = b.replace(port, mine)
        sys.stdout.write(b)
        break
else:
    sys.exit("no %s block with %r in %s" % (lang, text, sys.argv[1]))
PY
}

cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 100ms, http: off, grace: 2s}
pipelines:
  app:
    inputs:
      - {type: syslog, listen: ["udp://127.0.0.1:$SYSLOG", "tcp://127.0.0.1:$SYSLOG"]}
      - {type: http, listen: "127.0.0.1:$HTTP", paths: [/logs], path_key: path}
      - {type: opentelemetry, listen: "127.0.0.1:$OTLP"}
      - {type: statsd, listen: ["udp://127.0.0.1:$STATSD", "tcp://127.0.0.1:$STATSD"], flush_interval: 1h}
    outputs:
      - {type: file, path: $OUT, format: json}
YAML
start_sluice -c "$T/sluice.yaml"
wait_for 20 grep -q "listening for OTLP" "$T/sluice.log" || fail "sluice did not start: $(cat "$T/sluice.log")"
wait_for 20 grep -q "listening on http" "$T/sluice.log" || fail "no http input"

cd "$T"
block python SysLogHandler >ex_syslog.py && /usr/bin/python3 ex_syslog.py || fail "Python SysLogHandler example"
block python mapLogRecord >ex_http.py && /usr/bin/python3 ex_http.py || fail "Python HTTPHandler example"
block python StatsClient >ex_statsd.py && /usr/bin/python3 ex_statsd.py || fail "Python statsd example"
{ block js LoggerProvider; echo "shutdown();"; } >otel.js && NODE_PATH=$NODE_DIR/node_modules node otel.js ||
    fail "Node.js OpenTelemetry example"
block js hot-shots >hotshots.js && NODE_PATH=$NODE_DIR/node_modules node hotshots.js || fail "hot-shots example"
bash -c "$(block sh 'logger -n')" || fail "logger example"
bash -c "$(block sh '"upload done"')" || fail "curl NDJSON example"
bash -c "$(block sh '/write?precision=s')" || fail "curl line protocol example"
printf '{"message":"from a file","n":1}\n{"message":"from a file","n":2}\n' >events.ndjson
bash -c "$(block sh 'gzip -c events.ndjson')" || fail "curl gzip example"
bash -c "$(block sh '/dev/udp/')" || fail "bash /dev/udp example"
cd - >/dev/null

# Everything but statsd's aggregates (emitted at stop) is in by now.
wait_for 20 lines_at_least "$OUT" 10 || fail "only $(line_count "$OUT") events arrived"
stop_sluice || fail "sluice exit code $?"

python3 - "$OUT" <<'PY' || fail "the examples' events"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
logs = [e for e in ev if "kind" not in e]
metrics = [e for e in ev if "kind" in e]
def one(pred, what):
    found = [e for e in ev if pred(e)]
    assert len(found) == 1, (what, found)
    return found[0]
# syslog: Python's SysLogHandler and logger
e = one(lambda e: e.get("appname") == "myapp" and "facility" in e, "SysLogHandler")
assert e["facility"] == "local0" and e["severity"] == "warning" and e["message"] == "WARNING disk 91% full", e
e = one(lambda e: e.get("appname") == "myjob", "logger")
assert e["message"] == "backup done in 42 s" and e["severity"] == "warning", e
# http: the HTTPHandler subclass, curl NDJSON, curl gzip, line protocol
e = one(lambda e: e.get("logger") == "myapp", "HTTPHandler")
assert e["message"] == "disk 91% full" and e["level"] == "WARNING" and e["path"] == "/logs", e
assert len([e for e in logs if e.get("message") in ("backup done", "upload done")]) == 2
assert sorted(e["n"] for e in logs if e.get("message") == "from a file") == [1, 2]
e = one(lambda e: e.get("name") == "backup" and "bytes" in e.get("fields", {}), "line protocol")
assert e["fields"] == {"seconds": 42.0, "bytes": 1048576}, e
# OpenTelemetry: the log record and the counter
e = one(lambda e: e.get("message") == "disk 91% full" and "severity_number" in e, "OTLP log")
assert e["severity_text"] == "WARN" and e["attributes"] == {"disk.used_pct": 91}, e
assert e["resource"]["service.name"] == "myapp", e
e = one(lambda e: e.get("name") == "requests" and e.get("tags", {}).get("job") == "myapp", "OTLP counter")
assert e["kind"] == "counter" and e["fields"] == {"value": 1} and e["tags"]["route"] == "/a", e
# statsd: python3-statsd, hot-shots and bash, aggregated
def series(name, tags):
    return one(lambda e: e.get("name") == name and e.get("tags") == tags and e.get("kind"), name + str(tags))
assert series("myapp.requests", {})["fields"] == {"value": 1}
assert series("myapp.queue", {})["fields"] == {"value": 5}
assert series("myapp.latency", {})["fields"]["sum"] == 12.5
assert series("myapp.a", {})["fields"] == {"value": 1} and series("myapp.b", {})["fields"] == {"value": 1}
assert series("myapp.requests", {"env": "prod", "route": "/a"})["fields"] == {"value": 1}
assert series("myapp.queue", {"env": "prod"})["fields"] == {"value": 7}
assert series("myapp.latency", {"env": "prod"})["fields"]["sum"] == 12.5
assert series("myapp.size", {"env": "prod"})["fields"]["sum"] == 300
assert series("backup.seconds", {})["fields"]["sum"] == 42
print(len(ev), "events")
PY
pass "docs/emitting.md: the Python, Node.js, logger, curl and bash examples deliver what the page says"
