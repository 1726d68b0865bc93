#!/usr/bin/env bash
# The opentelemetry input fed by the real OpenTelemetry JavaScript SDK
# (tests/node, pinned 0.203 / 2.0 on Node.js 20): logs and metrics through
# the OTLP/HTTP exporters in protobuf and JSON, gzipped or not, with the
# SDK's chunked bodies. Every event is checked field by field at a file
# output; counts exact. Then bad input: undecodable protobuf and JSON
# (400), a wrong content type (415), /v1/traces (404), an oversize body
# (413), a partially rejected request (200 with partial_success); and
# under backpressure the SDK is answered 503 with Retry-After and retries
# until its records are in, none lost or doubled.
. "$(dirname "$0")/lib.sh"

NODE_DIR=$SLUICE_SOURCE_DIR/tests/node
[ -d "$NODE_DIR/node_modules/@opentelemetry/sdk-logs" ] ||
    fail "the OpenTelemetry SDK is not installed: npm ci --prefix tests/node (.ci/run does it)"
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
OUT=$T/out.json

cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 100ms, http: off, grace: 2s}
pipelines:
  otel:
    inputs:
      - {type: opentelemetry, listen: 127.0.0.1:$PORT, max_body_size: 64KiB}
    outputs:
      - {type: file, path: $OUT, format: json}
YAML
start_sluice -c "$T/sluice.yaml"
wait_for 20 grep -q "listening for OTLP" "$T/sluice.log" || fail "sluice did not start: $(cat "$T/sluice.log")"

node "$NODE_DIR/otlp_logs.js" "$URL" proto 30 >"$T/logs1" || fail "SDK logs proto: $(cat "$T/logs1")"
node "$NODE_DIR/otlp_logs.js" "$URL" json 20 gzip >"$T/logs2" || fail "SDK logs json+gzip: $(cat "$T/logs2")"
node "$NODE_DIR/otlp_logs.js" "$URL" proto 10 gzip >"$T/logs3" || fail "SDK logs proto+gzip: $(cat "$T/logs3")"
node "$NODE_DIR/otlp_metrics.js" "$URL" proto >"$T/metrics1" || fail "SDK metrics proto: $(cat "$T/metrics1")"
node "$NODE_DIR/otlp_metrics.js" "$URL" json gzip >"$T/metrics2" || fail "SDK metrics json+gzip: $(cat "$T/metrics2")"
pass "the OpenTelemetry JS SDK exported 60 log records and 2 metric batches, protobuf and JSON, gzipped or not"

# ==== Bad input ====
post() { # PATH CONTENT-TYPE DATA-FILE [CURL-ARGS...]
    local path=$1 type=$2 data=$3
    shift 3
    curl -s -o "$T/answer" -D "$T/headers" -w '%{http_code}' "$URL$path" -H "Content-Type: $type" \
        --data-binary @"$data" "$@"
}
printf '\x0a\x05\x0a\x03\x0a' >"$T/truncated.pb"
[ "$(post /v1/logs application/x-protobuf "$T/truncated.pb")" = 400 ] || fail "truncated protobuf: $(cat "$T/answer")"
printf '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"x"}]}]}]}' >"$T/bad.json"
[ "$(post /v1/logs application/json "$T/bad.json")" = 400 ] || fail "bad timeUnixNano: $(cat "$T/answer")"
grep -q 'resourceLogs\[0\].scopeLogs\[0\].logRecords\[0\].timeUnixNano' "$T/answer" ||
    fail "400 does not say where: $(cat "$T/answer")"
printf '{"resourceLogs":[' >"$T/cut.json"
[ "$(post /v1/logs application/json "$T/cut.json")" = 400 ] || fail "cut JSON"
[ "$(post /v1/logs text/plain "$T/bad.json")" = 415 ] || fail "text/plain was not 415"
[ "$(post /v1/traces application/x-protobuf "$T/truncated.pb")" = 404 ] || fail "/v1/traces was not 404"
grep -q "traces are not collected" "$T/answer" || fail "404 for traces does not say why"
head -c 70000 /dev/zero >"$T/big"
[ "$(post /v1/logs application/x-protobuf "$T/big")" = 413 ] || fail "70 KB body was not 413"
# One good data point and one histogram without bounds' buckets: partial success.
cat >"$T/partial.json" <<'JSON'
{"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"curl"}}]},
 "scopeMetrics":[{"metrics":[
  {"name":"good.gauge","gauge":{"dataPoints":[{"timeUnixNano":"1700000000000000000","asDouble":1.5}]}},
  {"name":"bad.histogram","histogram":{"aggregationTemporality":2,"dataPoints":[
    {"timeUnixNano":"1700000000000000000","count":"3","bucketCounts":["1","2"],"explicitBounds":[1,2,3]}]}}
 ]}]}]}
JSON
[ "$(post /v1/metrics application/json "$T/partial.json")" = 200 ] || fail "partial request: $(cat "$T/answer")"
python3 -c "
import json, sys
a = json.load(open('$T/answer'))
ps = a['partialSuccess']
assert str(ps['rejectedDataPoints']) == '1', a
assert 'bad.histogram' in ps['errorMessage'], a
" || fail "no partialSuccess for the rejected point: $(cat "$T/answer")"
pass "400 with where for undecodable bodies, 415, 404 for traces, 413, 200 with partialSuccess"

stop_sluice || fail "sluice exit code $?"

python3 - "$OUT" "$T/metrics1" <<'PY' || fail "events at the file output"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
logs = [e for e in ev if "kind" not in e]
metrics = [e for e in ev if "kind" in e]
assert len(logs) == 60, len(logs)
sev = [("INFO", 9), ("WARN", 13), ("ERROR", 17)]
seen = {}
for e in logs:
    n = int(e["message"].split()[1])
    seen[n] = seen.get(n, 0) + 1
    assert e["time"] == "2023-11-14T22:%02d:%02d.123456789Z" % ((13 * 60 + 20 + n) // 60 % 60, (20 + n) % 60), e
    assert e["observed_time"].endswith(".124456789Z"), e
    assert (e["severity_text"], e["severity_number"]) == sev[n % 3], e
    a = e["attributes"]
    assert a == {"str": "value %d" % n, "int": n, "double": n + 0.5, "bool": n % 2 == 0,
                 "str_array": ["a", "b"], "int_array": [1, 2, n],
                 "map": {"key": "value %d" % n, "n": n, "inner": {"deep": True}}}, a
    assert e["resource"] == {"service.name": "sluice-test", "service.version": "1.2.3",
                             "host.name": "test-host"}, e["resource"]
    assert e["scope"] == {"name": "sluice-test-logger", "version": "0.1.0"}, e["scope"]
    if n % 2 == 0:
        assert e["trace_id"] == "4bf92f3577b34da6a3ce929d%08x" % n and e["span_id"] == "00f067aa%08x" % n, e
        assert e["flags"] == 1, e
    else:
        assert "trace_id" not in e and "span_id" not in e and "flags" not in e, e
# records 0-29, 0-19 and 0-9: each n seen once per batch that held it
assert seen == {n: (n < 30) + (n < 20) + (n < 10) for n in range(30)}, seen

sdk = json.load(open(sys.argv[2]))
rec = {m["name"]: m for m in sdk["metrics"]}
assert len([m for m in metrics if m["name"] == "good.gauge"]) == 1
metrics = [m for m in metrics if m["name"] != "good.gauge"]
assert len(metrics) == 12, [m["name"] for m in metrics]  # 6 points, twice
base = {"service.name": "sluice-test", "service.version": "1.2.3", "host.name": "test-host",
        "job": "sluice-test"}
def pts(name):
    return sorted((json.dumps(m["tags"], sort_keys=True), m["kind"], json.dumps(m["fields"], sort_keys=True))
                  for m in metrics if m["name"] == name)
def want(kind, tags, fields):
    return (json.dumps({**base, **tags}, sort_keys=True), kind, json.dumps(fields, sort_keys=True))
assert pts("test.requests") == sorted([want("counter", {"route": "/a", "status": "200"}, {"value": 5}),
                                       want("counter", {"route": "/b", "status": "500"}, {"value": 4})] * 2), pts("test.requests")
assert pts("test.queue.depth") == [want("gauge", {"queue": "q1"}, {"value": 7})] * 2
assert pts("test.temperature") == sorted([want("gauge", {"sensor": "s1"}, {"value": 21.5}),
                                          want("gauge", {"sensor": "s2"}, {"value": -3.25})] * 2)
assert pts("test.latency") == [want("histogram", {"method": "GET"},
        {"count": 7, "sum": 1365.0, "bucket_10": 2, "bucket_50": 3, "bucket_100": 5,
         "bucket_500": 6, "bucket_+Inf": 7})] * 2, pts("test.latency")
PY
pass "60 log records and 12 data points, field by field; resource, scope, trace context, histogram buckets"

# ==== Backpressure: 503 with Retry-After, and the SDK's retries lose nothing ====
BACKEND=$(free_port)
start_http_server "$BACKEND" status:503
wait_for 20 curl -fs -o /dev/null "http://127.0.0.1:$BACKEND/_stats" || fail "test server did not start"
cat >"$T/bp.yaml" <<YAML
service: {flush_interval: 100ms, http: off, grace: 1s}
pipelines:
  otel:
    inputs:
      - {type: opentelemetry, listen: 127.0.0.1:$PORT, retry_after: 1s}
    outputs:
      - type: http
        url: http://127.0.0.1:$BACKEND/ingest
        retry: {initial_backoff: 100ms, max_backoff: 200ms}
        buffer: {type: memory, max_memory: 64KiB}
YAML
start_sluice -c "$T/bp.yaml"
wait_for 20 grep -q "listening for OTLP" "$T/sluice.log" || fail "sluice did not start"
node "$NODE_DIR/otlp_logs.js" "$URL" proto 200 >"$T/bp1" || fail "first batch: $(cat "$T/bp1")"
( sleep 3; http_control "$BACKEND" '{"mode": "ok"}' ) &
PIDS+=($!)
node "$NODE_DIR/otlp_logs.js" "$URL" json 100 >"$T/bp2" || fail "the SDK gave up under backpressure: $(cat "$T/bp2")"
wait_for 30 http_events_at_least "$BACKEND" 300 || fail "backend has $(http_events "$BACKEND") of 300"
stop_sluice || fail "exit code $?"
[ "$(http_events "$BACKEND")" -eq 300 ] || fail "backend has $(http_events "$BACKEND") events, expected 300"
grep -Eq "[1-9][0-9]* while busy" "$T/sluice.log" || fail "no request was answered 503: $(grep 'http server' "$T/sluice.log")"
python3 -c "
import json
r = json.load(open('$T/bp2'))
assert r['exported'] == 100 and r['failed'] == 0, r
" || fail "second batch: $(cat "$T/bp2")"
pass "under backpressure the SDK was answered 503 and retried: 300 records delivered, exactly"
