#!/usr/bin/env bash
# out_http over HTTPS: certificates are verified by default (a self-signed
# server is refused and retried), tls.ca_file makes it trusted; basic auth,
# a bearer token from the environment and extra headers reach the server.
. "$(dirname "$0")/lib.sh"

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1" -keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1 ||
    fail "openssl could not make a certificate"
PORT=$(free_port)
python3 "$SLUICE_SOURCE_DIR/tests/http_test_server.py" --port "$PORT" \
    --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" >"$T/http.log" 2>&1 &
PIDS+=($!)
wait_for 20 curl -fsk -o /dev/null "https://127.0.0.1:$PORT/_stats" || fail "HTTPS test server did not start"
stats() { curl -fsk "https://127.0.0.1:$PORT/_stats"; }
events() { stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])'; }
events_at_least() { [ "$(events)" -ge "$1" ]; }

config() { # EXTRA...
    cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 100ms, http: off, grace: 1s}
pipelines:
  it:
    inputs: [{type: dummy, rate: 0, count: 100}]
    outputs:
      - type: http
        url: https://127.0.0.1:$PORT/ingest
        retry: {initial_backoff: 100ms, max_backoff: 200ms}
        ${1:-}
        ${2:-}
        ${3:-}
YAML
}

config
start_sluice -c "$T/sluice.yaml"
wait_for 20 grep -q "SSL certificate problem" "$T/sluice.log" || fail "an unknown certificate was not refused: $(tail -3 "$T/sluice.log")"
stop_sluice
[ "$(events)" -eq 0 ] || fail "events delivered to an unverified server"
pass "a self-signed server is refused by default (tls.verify: true)"

export SLUICE_TEST_TOKEN=s3cret-token
config "tls: {ca_file: $T/cert.pem}" 'bearer_token: ${SLUICE_TEST_TOKEN}' "headers: {X-Tenant: blue}"
start_sluice -c "$T/sluice.yaml"
wait_for 20 events_at_least 100 || fail "trusted CA: $(events) events"
stop_sluice || fail "exit code $?"
stats | python3 -c "
import json, sys
s = json.load(sys.stdin)
assert s['authorization'] == 'Bearer s3cret-token', s['authorization']
assert s['headers'].get('X-Tenant') == 'blue', s['headers']
" || fail "bearer token / headers"
pass "with tls.ca_file the server is trusted; bearer token from \${VAR} and X-Tenant header sent"

config "tls: {verify: false}" "user: alice" "password: wonderland"
start_sluice -c "$T/sluice.yaml"
wait_for 20 events_at_least 200 || fail "verify false: $(events) events"
stop_sluice || fail "exit code $?"
stats | python3 -c "
import base64, json, sys
auth = json.load(sys.stdin)['authorization']
assert auth == 'Basic ' + base64.b64encode(b'alice:wonderland').decode(), auth
" || fail "basic auth"
pass "tls.verify: false accepts it; basic auth sent"
