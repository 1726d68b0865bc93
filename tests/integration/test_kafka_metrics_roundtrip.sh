#!/usr/bin/env bash
# Metric events cross Kafka exactly: an agent makes metric events
# (log_to_metrics: a counter, a gauge and a histogram with labels, from
# dummy logs it then discards; and internal_metrics) and writes each to a
# file itself and to Kafka in both formats (json and msgpack topics, one
# partition each, so order is kept). An aggregator reads both topics back
# into files. The files must be byte for byte the same as the agent's own
# (MessagePack and JSON, time in ns): kind, name, tags, field values and
# their types, timestamps. The aggregator's pipelines have a filter that
# marks log events only: a metric coming back as a log would differ.
. "$(dirname "$0")/lib.sh"

start_mock_kafka 1
echo "topic mjson 1" >&7
echo "topic mpack 1" >&7
wait_for 10 lines_at_least "$T/mock.out" 2 || fail "mock: no answer"
[ "$(sort -u "$T/mock.out")" = ok ] || fail "mock: $(cat "$T/mock.out")"

cat >"$T/agent.yaml" <<YAML
service: {flush_interval: 100ms, http: off, storage: {path: $T/agent-state}}
pipelines:
  gen:
    inputs:
      - {type: dummy, rate: 200, count: 300, record: {path: /api, code: 200, took: 0.25}}
      - {type: internal_metrics, interval: 300ms}
    filters:
      - type: log_to_metrics
        interval: 250ms
        discard_logs: true
        metrics:
          - {name: requests_total, type: counter, labels: [path, code]}
          - {name: last_seq, type: gauge, field: seq, labels: [path]}
          - {name: took_seconds, type: histogram, field: took, buckets: [0.1, 0.5, 1]}
    outputs:
      - {type: file, path: $T/direct.json, format: json}
      - {type: file, path: $T/direct.mpk, format: msgpack}
      - {type: kafka, brokers: ["$BROKERS"], topic: mjson, format: json}
      - {type: kafka, brokers: ["$BROKERS"], topic: mpack, format: msgpack}
YAML
cat >"$T/aggregator.yaml" <<YAML
service: {flush_interval: 100ms, http: off, storage: {path: $T/agg-state}}
pipelines:
  fromjson:
    inputs: [{type: kafka, brokers: ["$BROKERS"], group_id: a, topics: [mjson], format: json}]
    filters: [{type: modify, set: {arrived_as_log: true}}]
    outputs: [{type: file, path: $T/via.json, format: json}]
  frommsgpack:
    inputs: [{type: kafka, brokers: ["$BROKERS"], group_id: b, topics: [mpack], format: msgpack}]
    filters: [{type: modify, set: {arrived_as_log: true}}]
    outputs: [{type: file, path: $T/via.mpk, format: msgpack}]
YAML

start_sluice -c "$T/agent.yaml"

sleep 2.5
stop_sluice || fail "agent exit code $?"
start_sluice -c "$T/aggregator.yaml"
size() { stat -c %s "$1" 2>/dev/null || echo 0; }
same_size() { [ "$(size "$T/via.json")" -eq "$(size "$T/direct.json")" ] &&
    [ "$(size "$T/via.mpk")" -eq "$(size "$T/direct.mpk")" ]; }
wait_for 30 same_size || fail "via Kafka: $(size "$T/via.json") and $(size "$T/via.mpk") bytes"
sleep 0.3
stop_sluice || fail "aggregator exit code $?"

cmp "$T/direct.json" "$T/via.json" || fail "JSON events differ"
cmp "$T/direct.mpk" "$T/via.mpk" || fail "MessagePack events differ"
python3 - "$T" <<'PY' || fail "events"
import json, sys
t = sys.argv[1]
ev = [json.loads(l) for l in open(f"{t}/via.json")]
names = {e["name"] for e in ev}
for n in ("requests_total", "last_seq", "took_seconds"):
    assert n in names, f"no {n} in {sorted(names)}"
assert any(n.startswith("sluice_") for n in names), "no internal metrics"
assert all(set(e) >= {"time", "name", "kind", "tags", "fields"} for e in ev)
assert not any("arrived_as_log" in e for e in ev)
last = [e for e in ev if e["name"] == "requests_total"][-1]
assert last["tags"] == {"path": "/api", "code": "200"}, last
assert last["kind"] == "counter" and last["fields"] == {"value": 300}, last
h = [e for e in ev if e["name"] == "took_seconds"][-1]
assert h["kind"] == "histogram" and h["fields"]["count"] == 300, h
assert h["fields"]["sum"] == 75.0 and isinstance(h["fields"]["sum"], float), h
print(f"{len(ev)} metric events identical through Kafka (json and msgpack), "
      f"{len(names)} series names")
PY
pass "metric events round-trip through Kafka exactly"
