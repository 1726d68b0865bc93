#!/usr/bin/env bash
# out_http against a server that fails on demand: 500s, 429 with
# Retry-After, requests that hang past the timeout, connections closed
# mid-response, and bodies as gzip / JSON arrays. Every event must arrive
# exactly once in every case.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
start_http_server "$PORT"
N=3000

# run_phase RUN CONTROL_JSON EXTRA_OUTPUT_OPTIONS
run_phase() {
    local run=$1 control=$2 extra=$3
    http_control "$PORT" "$control"
    cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 100ms, chunk_size: 64KiB, http: off, grace: 20s}
pipelines:
  it:
    inputs: [{type: dummy, rate: 0, count: $N, record: {run: $run, message: "fault test"}}]
    outputs:
      - type: http
        url: http://127.0.0.1:$PORT/ingest
        timeout: 1s
        retry: {initial_backoff: 100ms, max_backoff: 500ms}
        $extra
YAML
    start_sluice -c "$T/sluice.yaml"
    wait_for 60 http_events_at_least "$PORT" $((run * N)) || fail "run $run: $(http_events "$PORT") events"
    stop_sluice || fail "run $run: exit code $?"
    http_stats "$PORT" | python3 -c "
import json, sys
runs = json.load(sys.stdin)['by_run']
seqs = sorted(runs.get('$run', []))
assert seqs == list(range($N)), f'run $run: {len(seqs)} events, {len(set(seqs))} distinct'
" || fail "run $run: not every seq exactly once"
}

run_phase 1 '{"mode": "status:500", "fail_requests": 3}' ""
grep -q "HTTP 500: {\"error\":\"injected failure\"}); retry 1" "$T/sluice.log" || fail "500 not retried"
pass "HTTP 500 on 3 requests: retried, $N events exactly once"

run_phase 2 '{"mode": "status:429", "fail_requests": 2, "retry_after": 1}' ""
grep -q "retry 1 in 1000 ms (Retry-After)" "$T/sluice.log" || fail "Retry-After not honoured: $(grep retry "$T/sluice.log" | head -3)"
pass "HTTP 429 with Retry-After: 1 waited 1000 ms, $N events exactly once"

run_phase 3 '{"mode": "hang", "fail_requests": 2, "hang_seconds": 3, "retry_after": null}' ""
grep -q "Timeout was reached\|timed out" "$T/sluice.log" || fail "no timeout seen"
pass "requests hanging past the 1 s timeout: retried, $N events exactly once"

run_phase 4 '{"mode": "close", "fail_requests": 2}' ""
grep -Eq "failed \((Empty reply from server|Weird server reply|Received HTTP/0.9|Unsupported HTTP|Server returned nothing|Failure when receiving)" "$T/sluice.log" ||
    fail "no transport error seen: $(grep failed "$T/sluice.log" | head -2)"
pass "connections closed mid-response: retried, $N events exactly once"

run_phase 5 '{"mode": "ok"}' "compress: gzip"
run_phase 6 '{"mode": "ok"}' "format: json_array"
http_stats "$PORT" | python3 -c "
import json, sys
ct = json.load(sys.stdin)['content_types']
assert ct.get('application/json', 0) > 0 and ct.get('application/x-ndjson', 0) > 0, ct
" || fail "content types"
pass "gzip NDJSON and JSON array bodies decoded by the server, $N events each exactly once"
