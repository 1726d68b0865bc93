#!/usr/bin/env bash
# The http input's answers follow delivery. With `ack: delivered` a request
# is answered only once its events reached the backend (here the loopback
# HTTP test server, failing with 500 at first). Under backpressure (a small
# memory buffer in front of a failing backend) requests are answered 503
# with Retry-After and nothing of them enters the pipeline; once the
# backend recovers, exactly the events of the requests answered 200 arrive,
# each once. With a filesystem buffer, a request's own events can be
# acknowledged before its handler returns (its batch closes the chunk):
# answered at once, with nothing left suspended at shutdown.
. "$(dirname "$0")/lib.sh"

BACKEND=$(free_port)
start_http_server "$BACKEND" status:500
wait_for 20 curl -fs -o /dev/null "http://127.0.0.1:$BACKEND/_stats" || fail "test server did not start"
PORT=$(free_port)

config() { # ACK MAX_MEMORY
    cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 100ms, http: off, grace: 1s}
pipelines:
  app:
    inputs:
      - {type: http, listen: 127.0.0.1:$PORT, ack: $1, ack_timeout: 30s, retry_after: 2s}
    outputs:
      - type: http
        url: http://127.0.0.1:$BACKEND/ingest
        retry: {initial_backoff: 100ms, max_backoff: 300ms}
        buffer: {type: memory, max_memory: $2}
YAML
}

# ==== ack: delivered ====
config delivered 8MiB
start_sluice -c "$T/sluice.yaml"
wait_for 20 grep -q "listening on" "$T/sluice.log" || fail "sluice did not start"
START=$(date +%s)
curl -s -o "$T/answer" -w '%{http_code}' --max-time 30 "http://127.0.0.1:$PORT/" \
    --data-binary $'{"seq":1,"run":"ack"}\n{"seq":2,"run":"ack"}' >"$T/status" &
CURL=$!
PIDS+=("$CURL")
sleep 2
kill -0 "$CURL" 2>/dev/null || fail "answered before delivery: $(cat "$T/status") $(cat "$T/answer")"
http_control "$BACKEND" '{"mode": "ok"}'
wait "$CURL"
[ "$(cat "$T/status")" = 200 ] || fail "ack: delivered answered $(cat "$T/status")"
[ $(($(date +%s) - START)) -ge 2 ] || fail "answered too early"
http_events_at_least "$BACKEND" 2 || fail "answered 200 but the backend has $(http_events "$BACKEND") events"
pass "ack: delivered answers 200 only after the backend took the events"
stop_sluice || fail "exit code $?"

# ==== Backpressure: 503 with Retry-After, and no loss ====
http_control "$BACKEND" '{"mode": "status:500"}'
config accepted 64KiB
start_sluice -c "$T/sluice.yaml"
wait_for 20 grep -q "listening on" "$T/sluice.log" || fail "sluice did not start"
/usr/bin/python3 - "$PORT" >"$T/sent.json" <<'PY' || fail "client"
import http.client, json, sys, time
accepted, refused, retry_after = [], 0, set()
conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
for r in range(200):
    body = "\n".join(json.dumps({"seq": r * 100 + i, "run": "bp", "pad": "x" * 200}) for i in range(100))
    conn.request("POST", "/", body, {"Content-Type": "application/x-ndjson"})
    resp = conn.getresponse()
    resp.read()
    if resp.status == 200:
        accepted.append(r)
    elif resp.status == 503:
        refused += 1
        retry_after.add(resp.getheader("Retry-After"))
        if refused >= 5:
            break
        conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
    else:
        raise SystemExit("unexpected status %d" % resp.status)
print(json.dumps({"accepted": accepted, "refused": refused, "retry_after": sorted(retry_after)}))
PY
python3 -c "
import json, sys
s = json.load(open('$T/sent.json'))
assert s['refused'] >= 1, s
assert s['retry_after'] == ['2'], s
assert len(s['accepted']) >= 1, s
" || fail "no 503 with Retry-After: 2 under backpressure: $(cat "$T/sent.json")"
http_control "$BACKEND" '{"mode": "ok"}'
EXPECTED=$(python3 -c "import json; print(100 * len(json.load(open('$T/sent.json'))['accepted']))")
wait_for 60 http_events_at_least "$BACKEND" $((EXPECTED + 2)) || fail "backend has $(http_events "$BACKEND") of $EXPECTED"
stop_sluice || fail "exit code $?"
http_stats "$BACKEND" | python3 -c "
import json, sys
s = json.load(sys.stdin)
sent = json.load(open('$T/sent.json'))
want = sorted(r * 100 + i for r in sent['accepted'] for i in range(100))
got = sorted(s['by_run']['bp'])
assert got == want, (len(got), len(want))
" || fail "delivered events differ from the accepted ones"
pass "under backpressure: $(python3 -c "import json; s=json.load(open('$T/sent.json')); print(len(s['accepted']), 'requests accepted,', s['refused'], 'answered 503 with Retry-After')"); exactly the accepted $EXPECTED events delivered, once"

# ==== Acknowledged inside the request: a filesystem buffer, small chunks ====
http_control "$BACKEND" '{"mode": "ok"}'
cat >"$T/fs.yaml" <<YAML
service: {flush_interval: 100ms, http: off, grace: 2s, chunk_size: 16KiB, storage: {path: $T/storage}}
pipelines:
  app:
    inputs:
      - {type: http, listen: 127.0.0.1:$PORT, ack: delivered, ack_timeout: 20s}
    outputs:
      - type: http
        url: http://127.0.0.1:$BACKEND/ingest
        buffer: {type: filesystem}
YAML
start_sluice -c "$T/fs.yaml"
wait_for 20 grep -q "listening on" "$T/sluice.log" || fail "sluice did not start: $(cat "$T/sluice.log")"
BEFORE=$(http_events "$BACKEND")
/usr/bin/python3 - "$PORT" >"$T/fs.json" <<'PY' || fail "client: $(cat "$T/fs.json")"
import http.client, json, sys, time
conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=20)
slow = 0
for r in range(40):
    body = "\n".join(json.dumps({"seq": r * 100 + i, "run": "fs", "pad": "y" * 300}) for i in range(100))
    t = time.time()
    conn.request("POST", "/", body, {"Content-Type": "application/x-ndjson"})
    resp = conn.getresponse()
    resp.read()
    if resp.status != 200:
        raise SystemExit("status %d" % resp.status)
    slow += time.time() - t > 5
print(json.dumps({"slow": slow}))
PY
[ "$(python3 -c "import json; print(json.load(open('$T/fs.json'))['slow'])")" = 0 ] || fail "answers waited: $(cat "$T/fs.json")"
wait_for 30 http_events_at_least "$BACKEND" $((BEFORE + 4000)) || fail "backend has $(($(http_events "$BACKEND") - BEFORE)) of 4000"
stop_sluice || fail "exit code $?"
pass "ack: delivered through a filesystem buffer: 40 requests of 100 answered without delay, 4000 events delivered"
