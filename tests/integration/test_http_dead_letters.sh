#!/usr/bin/env bash
# A server that answers 400 for some events: out_http splits the batch until
# the refused events are alone, and exactly those go to the dead-letter file
# with the server's reason; every other event is delivered once.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
start_http_server "$PORT" refuse_seq
http_control "$PORT" '{"mod": 100, "rem": 7}'
N=5000

cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 100ms, chunk_size: 128KiB, http: off}
pipelines:
  it:
    inputs: [{type: dummy, rate: 0, count: $N}]
    outputs:
      - type: http
        url: http://127.0.0.1:$PORT/bulk
        dead_letter: {path: $T/dead.jsonl}
YAML
start_sluice -c "$T/sluice.yaml"
wait_for 60 http_events_at_least "$PORT" $((N - N / 100)) || fail "$(http_events "$PORT") events"
wait_for 20 lines_at_least "$T/dead.jsonl" $((N / 100)) || fail "$(line_count "$T/dead.jsonl") dead letters"
stop_sluice || fail "exit code $?"

python3 - "$T/dead.jsonl" "$N" <<'PY' || fail "dead letters"
import json, sys
n = int(sys.argv[2])
dead = [json.loads(l) for l in open(sys.argv[1])]
seqs = sorted(d["event"]["seq"] for d in dead)
assert seqs == [s for s in range(n) if s % 100 == 7], f"dead-lettered seqs: {seqs[:10]}..."
for d in dead:
    assert d["pipeline"] == "it" and d["output"] == "it.http.0", d
    want = f'HTTP 400: {{"error": {{"type": "mapper_parsing_exception", "reason": "event seq={d["event"]["seq"]} is refused"}}}}'
    assert d["error"] == want, (d["error"], want)
    assert d["time"].endswith("Z") and d["event"]["time"].endswith("Z")
print(f"{len(dead)} dead letters, each with the server's reason")
PY
http_stats "$PORT" | python3 -c "
import json, sys
s = json.load(sys.stdin)
seqs = sorted(s['by_run']['0'])
assert seqs == [x for x in range($N) if x % 100 != 7], len(seqs)
print(f\"{s['requests']} requests for $N events\")
" || fail "delivered set"
grep -q "it.http.0: delivered $((N - N / 100)) events" "$T/sluice.log" || fail "summary"
pass "400 for 1 event in 100: exactly those $((N / 100)) dead-lettered with the server's reason, the rest delivered once"
