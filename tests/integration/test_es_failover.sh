#!/usr/bin/env bash
# elasticsearch output when things go wrong whole: the first of two hosts
# has nothing listening (the bulk goes to the second at once, the first
# sits out its cool-down), a request answered 503 and one answered 429 are
# retried, and a bulk larger than http.max_content_length (413) is split
# until its halves fit. Every event is stored exactly once, each with its
# routing and the ingest pipeline.
. "$(dirname "$0")/lib.sh"

ES=$(free_port)
DEAD=$(free_port)
start_es_server "$ES"
curl -fs -X POST -d '{"request_statuses": [503, 429], "max_content_length": 60000}' \
    "http://127.0.0.1:$ES/_test/faults" >/dev/null
cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 200ms, http: off, storage: {path: $T/state}}
pipelines:
  app:
    inputs: [{type: dummy, count: 2000, rate: 0, record: {message: "a log line of some length for the bulk body", app: Shop}}]
    outputs:
      - type: elasticsearch
        hosts: [http://127.0.0.1:$DEAD, http://127.0.0.1:$ES/]
        index: 'failover-%{app}'
        id_key: seq
        routing_key: app
        pipeline: 'enrich logs'
        host_cooldown: 1h
        retry: {initial_backoff: 100ms, max_backoff: 300ms}
YAML
start_sluice -c "$T/sluice.yaml"
wait_for 60 es_count_at_least "$ES" 2000 || fail "stored $(es_count "$ES") of 2000"
sleep 0.3
stop_sluice || fail "exit code $?"
curl -fs "http://127.0.0.1:$ES/_test/docs" >"$T/docs.json"
curl -fs "http://127.0.0.1:$ES/_test/stats" >"$T/stats.json"
stop_es_server
python3 - "$T" <<'PY' || fail "documents"
import json, sys
t = sys.argv[1]
d = json.load(open(f"{t}/docs.json"))["failover-shop"]
assert sorted(int(i) for i in d) == list(range(2000)), len(d)
assert sorted(s["seq"] for s in d.values()) == list(range(2000))
st = json.load(open(f"{t}/stats.json"))
assert max(st["bulk_sizes"]) <= 60000, max(st["bulk_sizes"])
assert st["routings"] == {"Shop": st["items"]} and st["pipelines"] == {"enrich logs": st["items"]}, st
print(f"2000 stored once in {len(st['bulk_sizes'])} accepted bulks of at most {max(st['bulk_sizes'])} bytes")
PY
grep -q "127.0.0.1:$DEAD: .*skipping it for 3600s, the bulk goes to the next host" "$T/sluice.log" \
    || fail "no failover logged"
grep -q "http://127.0.0.1:$DEAD failed 1 times" "$T/sluice.log" \
    || fail "the dead host was tried again during its cool-down: $(grep 'failed .* times' "$T/sluice.log")"
grep -q "HTTP 503" "$T/sluice.log" || fail "the 503 was not retried"
pass "failover to the live host, 503 and 429 retried, 413 split to fit; 2000 stored once"
