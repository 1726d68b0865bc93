#!/usr/bin/env bash
# The http input, fed by real clients: curl (JSON object, array, NDJSON,
# gzip, text, InfluxDB line protocol with precision), Python's
# logging.handlers.HTTPHandler (a form) and Debian's python3-influxdb
# client (the InfluxDB 1.x write API). Every event is checked field by
# field at a file output. Then what must be refused, whole: malformed JSON
# (400 naming line and column, nothing of the request kept), bodies over
# max_body_size (413, also a gzip bomb), an unknown Content-Encoding (415),
# no credentials (401), GET (405), an unknown path (404); a slow client
# that holds its connection does not stall the others; HTTPS.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
$PY -c 'import influxdb' 2>/dev/null || fail "python3-influxdb is not installed (.ci/run installs it)"
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
OUT=$T/out.json

cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 100ms, http: off, grace: 2s}
pipelines:
  app:
    inputs:
      - type: http
        listen: 127.0.0.1:$PORT
        paths: [/logs, /python]
        path_key: path
        remote_addr_key: peer
        headers: [X-Request-Id]
        max_body_size: 64KiB
        idle_timeout: 3s
        user: alice
        password: wonderland
    outputs:
      - {type: file, path: $OUT, format: json}
YAML
start_sluice -c "$T/sluice.yaml"
wait_for 20 grep -q "listening on" "$T/sluice.log" || fail "sluice did not start: $(cat "$T/sluice.log")"

# post PATH CURL-ARGS...: the status code, the body in $T/answer.
post() {
    local path=$1
    shift
    curl -s -o "$T/answer" -w '%{http_code}' -u alice:wonderland "$URL$path" "$@"
}
expect() { # STATUS GOT WHAT
    [ "$2" = "$1" ] || fail "$3: status $2, expected $1 ($(cat "$T/answer" 2>/dev/null))"
}

# ==== Accepted bodies ====
expect 200 "$(post /logs -H 'Content-Type: application/json' -H 'X-Request-Id: r1' \
    --data-binary '{"msg":"object","n":1,"nested":{"a":[1,2]}}')" "JSON object"
grep -q '"accepted":1' "$T/answer" || fail "answer: $(cat "$T/answer")"
expect 200 "$(post /logs -H 'Content-Type: application/json' \
    --data-binary '[{"msg":"array","n":2},{"msg":"array","n":3}]')" "JSON array"
printf '{"msg":"ndjson","n":4}\r\n\n{"msg":"ndjson","n":5}\n' >"$T/nd"
expect 200 "$(post /logs -H 'Content-Type: application/x-ndjson' --data-binary @"$T/nd")" "NDJSON"
# curl -d says "form", but the body is JSON lines: read as such.
expect 200 "$(post /logs --data-binary @"$T/nd")" "NDJSON sent as a form by curl -d"
printf '{"msg":"gzip","n":6}\n{"msg":"gzip","n":7}\n' | gzip >"$T/gz"
expect 200 "$(post /logs -H 'Content-Encoding: gzip' --data-binary @"$T/gz")" "gzip NDJSON"
expect 200 "$(post /logs -H 'Content-Type: text/plain' --data-binary $'plain one\nplain two\n')" "text"
expect 204 "$(post '/write?db=x&precision=s' --data-binary $'cpu,host=h1 usage=0.5,n=3i 1700000000\n# comment\nmem free=2')" "line protocol v1"
expect 204 "$(post '/api/v2/write?org=o&bucket=b&precision=ms' --data-binary 'disk,dev=sda used=7u 1700000000123')" "line protocol v2"

$PY - "$PORT" <<'PY' || fail "Python HTTPHandler"
import logging, logging.handlers, sys
h = logging.handlers.HTTPHandler("127.0.0.1:%s" % sys.argv[1], "/python", method="POST",
                                 credentials=("alice", "wonderland"))
log = logging.getLogger("shop.checkout")
log.addHandler(h)
log.setLevel(logging.INFO)
log.warning("payment %s declined", "p-42")
log.info("done")
PY
$PY - "$PORT" <<'PY' || fail "python3-influxdb"
import sys
from influxdb import InfluxDBClient
c = InfluxDBClient(host="127.0.0.1", port=int(sys.argv[1]), username="alice", password="wonderland",
                   database="metrics")
ok = c.write_points([
    {"measurement": "requests", "tags": {"route": "/a b"}, "time": 1700000001000000000,
     "fields": {"count": 12, "latency": 0.25, "ok": True, "note": "x\"y"}},
], time_precision="n")
assert ok
PY

# ==== Refused bodies: whole, with where and what ====
printf '{"msg":"bad","n":100}\n{"msg":"bad","n":101}\n{"msg": "bad" "n":102}\n' >"$T/bad"
expect 400 "$(post /logs -H 'Content-Type: application/x-ndjson' --data-binary @"$T/bad")" "malformed NDJSON"
grep -q 'line 3, column 15' "$T/answer" || fail "400 does not name line 3, column 15: $(cat "$T/answer")"
grep -q '"accepted":0' "$T/answer" || fail "400 does not say nothing was accepted"
expect 400 "$(post /logs -H 'Content-Type: application/json' --data-binary $'[\n  {"n":103},\n  {"n":104,}\n]')" "malformed array"
grep -q 'line 3, column' "$T/answer" || fail "no line/column: $(cat "$T/answer")"
expect 400 "$(post /logs -H 'Content-Type: application/json' --data-binary '[{"n":105}, 7]')" "array of a number"
expect 400 "$(post /write --data-binary $'ok v=1\nbroken')" "malformed line protocol"
grep -q 'line 2' "$T/answer" || fail "line protocol 400 does not name line 2: $(cat "$T/answer")"
expect 400 "$(post '/write?precision=fortnight' --data-binary 'ok v=1')" "bad precision"
head -c 70000 /dev/zero | tr '\0' 'a' >"$T/big"
expect 413 "$(post /logs -H 'Content-Type: text/plain' --data-binary @"$T/big")" "over max_body_size"
expect 413 "$(post /logs -H 'Content-Type: text/plain' -H 'Transfer-Encoding: chunked' --data-binary @"$T/big")" "chunked over max_body_size"
head -c 10000000 /dev/zero | gzip >"$T/bomb"
expect 413 "$(post /logs -H 'Content-Encoding: gzip' -H 'Content-Type: text/plain' --data-binary @"$T/bomb")" "gzip bomb"
expect 415 "$(post /logs -H 'Content-Encoding: br' --data-binary '{"n":106}')" "unknown encoding"
expect 400 "$(post /logs -H 'Content-Encoding: gzip' --data-binary 'not gzip')" "corrupt gzip"
expect 401 "$(curl -s -o "$T/answer" -w '%{http_code}' "$URL/logs" --data-binary '{"n":107}')" "no credentials"
expect 401 "$(curl -s -o "$T/answer" -w '%{http_code}' -u alice:wrong "$URL/logs" --data-binary '{"n":108}')" "wrong password"
expect 405 "$(curl -s -o "$T/answer" -w '%{http_code}' -u alice:wonderland "$URL/logs")" "GET"
expect 404 "$(post /elsewhere --data-binary '{"n":109}')" "unknown path"
pass "malformed, oversized, unauthenticated and misdirected requests refused whole, with where and what"

# ==== A slow client holds only its own connection ====
$PY - "$PORT" >"$T/slow.log" 2>&1 <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /logs HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\nAuthorization: Basic YWxpY2U6d29uZGVybGFuZA==\r\n\r\n{\"slow\":")
time.sleep(6)
try:
    print("answer:", s.recv(200))
except OSError as e:
    print("closed:", e)
PY
SLOW=$!
PIDS+=("$SLOW")
sleep 0.3
START=$(date +%s%N)
for i in 1 2 3 4 5; do
    expect 200 "$(post /logs --max-time 2 -H 'Content-Type: application/json' --data-binary "{\"msg\":\"beside slow\",\"n\":$((199 + i))}")" "request beside a slow client"
done
ELAPSED_MS=$((($(date +%s%N) - START) / 1000000))
[ "$ELAPSED_MS" -lt 2000 ] || fail "5 requests beside a slow client took $ELAPSED_MS ms"
wait "$SLOW"
grep -q "^answer: b''\|^closed" "$T/slow.log" || fail "the slow client was not cut off by idle_timeout: $(cat "$T/slow.log")"
pass "a client holding a half-sent body does not stall others; idle_timeout closes it"

stop_sluice || fail "sluice exit code $?"

# ==== What arrived, field by field ====
$PY - "$OUT" <<'PY' || fail "events at the file output"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
logs = [e for e in ev if "kind" not in e]
metrics = {e["name"]: e for e in ev if "kind" in e}
by_n = {e["n"]: e for e in logs if "n" in e}
# 1 object + 2 array + 2 NDJSON + 2 NDJSON-as-form + 2 gzip + 2 text + 2 python + 5 beside slow
assert len(logs) == 18, (len(logs), logs)
o = by_n[1]
assert o["msg"] == "object" and o["nested"] == {"a": [1, 2]}, o
assert o["path"] == "/logs" and o["peer"].startswith("127.0.0.1:") and o["X-Request-Id"] == "r1", o
assert by_n[2]["msg"] == "array" and by_n[3]["msg"] == "array"
assert sum(1 for e in logs if e.get("msg") == "ndjson") == 4
assert {e["n"] for e in logs if e.get("msg") == "ndjson"} == {4, 5}
assert by_n[6]["msg"] == "gzip" and by_n[7]["msg"] == "gzip"
assert [e["message"] for e in logs if "message" in e] == ["plain one", "plain two"]
assert not any(e.get("n", 0) >= 100 and e.get("n", 0) < 200 for e in logs), "a refused request leaked"
assert sorted(e["n"] for e in logs if e.get("msg") == "beside slow") == [200, 201, 202, 203, 204]
py = [e for e in logs if e.get("path") == "/python"]
assert len(py) == 2, py
assert py[0]["name"] == "shop.checkout" and py[0]["levelname"] == "WARNING", py[0]
assert py[0]["msg"] == "payment %s declined" and py[0]["args"] == "('p-42',)", py[0]
assert py[1]["levelname"] == "INFO" and py[1]["msg"] == "done"
cpu = metrics["cpu"]
assert cpu["time"] == "2023-11-14T22:13:20.000000000Z" and cpu["tags"] == {"host": "h1"}, cpu
assert cpu["fields"] == {"usage": 0.5, "n": 3}, cpu
assert metrics["mem"]["fields"] == {"free": 2.0}
disk = metrics["disk"]
assert disk["time"] == "2023-11-14T22:13:20.123000000Z" and disk["fields"] == {"used": 7}, disk
r = metrics["requests"]
assert r["time"] == "2023-11-14T22:13:21.000000000Z", r
assert r["tags"] == {"route": "/a b"}, r
assert r["fields"] == {"count": 12, "latency": 0.25, "ok": True, "note": 'x"y'}, r
assert len(metrics) == 4 and len(ev) == 22, (len(metrics), len(ev))
PY
pass "18 log events and 4 metrics from curl, Python's HTTPHandler and python3-influxdb, field by field"

# ==== HTTPS with a bearer token ====
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1" -keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1 ||
    fail "openssl could not make a certificate"
rm -f "$OUT"
export SLUICE_TEST_TOKEN=t0ken
cat >"$T/tls.yaml" <<YAML
service: {flush_interval: 100ms, http: off, grace: 2s}
pipelines:
  app:
    inputs:
      - type: http
        listen: 127.0.0.1:$PORT
        bearer_token: \${SLUICE_TEST_TOKEN}
        tls: {cert_file: $T/cert.pem, key_file: $T/key.pem}
    outputs:
      - {type: file, path: $OUT, format: json}
YAML
start_sluice -c "$T/tls.yaml"
wait_for 20 grep -q "listening on https" "$T/sluice.log" || fail "no HTTPS listener: $(cat "$T/sluice.log")"
expect 200 "$(curl -s -o "$T/answer" -w '%{http_code}' --cacert "$T/cert.pem" -H 'Authorization: Bearer t0ken' \
    "https://127.0.0.1:$PORT/" --data-binary '{"tls":1}')" "HTTPS with the token"
expect 401 "$(curl -s -o "$T/answer" -w '%{http_code}' --cacert "$T/cert.pem" -H 'Authorization: Bearer nope' \
    "https://127.0.0.1:$PORT/" --data-binary '{"tls":2}')" "HTTPS with a wrong token"
curl -s -o /dev/null "http://127.0.0.1:$PORT/" --data-binary '{"tls":3}' && fail "plain HTTP answered on a TLS listener"
stop_sluice || fail "sluice exit code $?"
[ "$(grep -c '"tls":1' "$OUT")" -eq 1 ] && [ "$(line_count "$OUT")" -eq 1 ] || fail "HTTPS events: $(cat "$OUT")"
pass "HTTPS with a bearer token from the environment; a wrong token is 401"

# ==== Client certificates: tls.ca_file requires one signed by it ====
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=test CA" \
    -keyout "$T/ca.key" -out "$T/ca.pem" >/dev/null 2>&1 || fail "openssl: CA"
openssl req -newkey rsa:2048 -nodes -subj "/CN=client" -keyout "$T/client.key" \
    -out "$T/client.csr" >/dev/null 2>&1 || fail "openssl: client key"
openssl x509 -req -in "$T/client.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
    -days 2 -out "$T/client.pem" >/dev/null 2>&1 || fail "openssl: client certificate"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=stranger" \
    -keyout "$T/stranger.key" -out "$T/stranger.pem" >/dev/null 2>&1 || fail "openssl: stranger"
rm -f "$OUT"
cat >"$T/mtls.yaml" <<YAML
service: {flush_interval: 100ms, http: off, grace: 2s}
pipelines:
  app:
    inputs:
      - type: http
        listen: 127.0.0.1:$PORT
        tls: {cert_file: $T/cert.pem, key_file: $T/key.pem, ca_file: $T/ca.pem}
    outputs:
      - {type: file, path: $OUT, format: json}
YAML
start_sluice -c "$T/mtls.yaml"
wait_for 20 grep -q "listening on https" "$T/sluice.log" || fail "no HTTPS listener: $(cat "$T/sluice.log")"
mtls() { # ARGS...: the status of a POST with these curl arguments
    curl -s -o "$T/answer" -w '%{http_code}' --cacert "$T/cert.pem" "$@" "https://127.0.0.1:$PORT/" \
        --data-binary "{\"mtls\":\"$#\"}"
}
expect 200 "$(mtls --cert "$T/client.pem" --key "$T/client.key")" "a client certificate signed by ca_file"
expect 403 "$(mtls)" "no client certificate"
expect 403 "$(mtls --cert "$T/stranger.pem" --key "$T/stranger.key")" "a self-signed client certificate"
stop_sluice || fail "sluice exit code $?"
[ "$(line_count "$OUT")" -eq 1 ] || fail "events with client certificates: $(cat "$OUT")"
pass "tls.ca_file: a certificate signed by it is required (none, or a stranger's: 403)"
