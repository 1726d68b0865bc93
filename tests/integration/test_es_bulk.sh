#!/usr/bin/env bash
# elasticsearch output against the Bulk API test double (tests/es_test_server.py):
# gzip, ApiKey, an index from a field and the date, create with generated
# ids; 200 items answered 429 are retried item by item; documents whose
# field conflicts with the mapping go to the dead letters with
# Elasticsearch's error type and reason; every other line is stored once.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/logs"
python3 - "$T/logs/app.log" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(3000):
        v = "not-a-number" if i % 100 == 50 else i
        f.write(json.dumps({"seq": i, "v": v, "svc": "Web", "msg": f"line {i} \"q\" \u00e9"}) + "\n")
PY
ES=$(free_port)
start_es_server "$ES" --api-key c2x1aWNlOnNlY3JldA==
curl -fs -X POST -d '{"item_429_every": 7, "item_429_count": 200}' "http://127.0.0.1:$ES/_test/faults" >/dev/null
cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 100ms, http: off, storage: {path: $T/state}}
pipelines:
  app:
    inputs: [{type: tail, path: ["$T/logs/app.log"], read_from_head: true, parser: json}]
    outputs:
      - type: elasticsearch
        hosts: [http://127.0.0.1:$ES]
        index: 'logs-\$\${svc}-%Y.%m.%d'   # a field, not an environment variable
        action: create
        generate_id: true
        compress: gzip
        api_key: \${ES_API_KEY}
        bulk_max_events: 500
        retry: {initial_backoff: 100ms, max_backoff: 500ms}
        dead_letter: {path: $T/dead.jsonl}
YAML
ES_API_KEY=c2x1aWNlOnNlY3JldA== start_sluice -c "$T/sluice.yaml"
wait_for 60 es_count_at_least "$ES" 2970 || fail "stored $(es_count "$ES") of 2970"
wait_for 20 lines_at_least "$T/dead.jsonl" 30 || fail "dead letters: $(line_count "$T/dead.jsonl")"
sleep 0.5
stop_sluice || fail "exit code $?"

curl -fs "http://127.0.0.1:$ES/_test/docs" >"$T/docs.json"
curl -fs "http://127.0.0.1:$ES/_test/stats" >"$T/stats.json"
python3 - "$T" <<'PY' || fail "documents"
import datetime, json, sys
t = sys.argv[1]
docs = json.load(open(f"{t}/docs.json"))
stats = json.load(open(f"{t}/stats.json"))
day = datetime.datetime.now(datetime.timezone.utc).strftime("%Y.%m.%d")
assert list(docs) == [f"logs-web-{day}"], list(docs)
d = next(iter(docs.values()))
seqs = sorted(s["seq"] for s in d.values())
want = [i for i in range(3000) if i % 100 != 50]
assert seqs == want, f"{len(seqs)} docs; missing {sorted(set(want) - set(seqs))[:5]}"
assert all(len(i) == 32 for i in d), "generated ids are 32 hex digits"
one = d[next(iter(d))]
assert one["@timestamp"].endswith("Z") and len(one["@timestamp"]) == 30, one
assert any(s["msg"] == 'line 1 "q" \u00e9' for s in d.values())
assert stats["statuses"].get("429") == 200, stats["statuses"]
assert stats["gzip_requests"] == stats["requests"] and stats["content_types"] == {"application/x-ndjson": stats["requests"]}, stats
assert stats["auth"] == "ApiKey c2x1aWNlOnNlY3JldA==", stats["auth"]
dead = [json.loads(l) for l in open(f"{t}/dead.jsonl")]
assert len(dead) == 30, len(dead)
assert sorted(x["event"]["seq"] for x in dead) == [i for i in range(3000) if i % 100 == 50]
for x in dead:
    assert x["output"] == "app.elasticsearch.0", x
    assert x["error"].startswith("HTTP 400 mapper_parsing_exception: failed to parse field [v] of type [long]"), x["error"]
    assert "caused by" in x["error"], x["error"]
print(f"{len(d)} stored once, 200 items retried after 429, 30 dead-lettered; {stats['requests']} bulk requests")
PY
grep -q "2970 documents stored, 0 already there (409 on create), 200 items retried, 30 failed" "$T/sluice.log" \
    || fail "counts: $(grep 'documents stored' "$T/sluice.log")"
stop_es_server
pass "bulk: 429 items retried alone, mapping conflicts dead-lettered with ES's reason, the rest stored once"
