#!/usr/bin/env bash
# The syslog output against a real rsyslogd over UDP, TCP (octet counting
# and LF framing) and TLS (a CA and certificate made here), RFC 5424 and
# RFC 3164: 5,000 events each, every field rsyslog parses (time, hostname,
# app-name, procid, msgid, structured data, severity, facility, msg with
# non-ASCII and control characters) exact on the other side, each event
# once. TLS verification is on by default: an output without the CA is
# refused by its own check and sends nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/syslog_output_lib.sh"
CHECK=$SLUICE_SOURCE_DIR/tests/integration/syslog_output_check.py
N=5000

make_certs
U5=$(free_port) U3=$(free_port) C5=$(free_port) C3=$(free_port) S5=$(free_port) S3=$(free_port)
rsyslog_config udp5424:udp:$U5 udp3164:udp:$U3 tcp5424:tcp:$C5 tcp3164:tcp:$C3 \
    tls5424:tls:$S5 tls3164:tls:$S3
start_rsyslog "$C5"

python3 "$CHECK" gen $N "$T/events.ndjson"
tls="tls: {ca_file: $T/ca.crt}"
cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 50ms, http: off, grace: 1s, storage: {path: $T/state}}
pipelines:
  out:
    inputs: [{type: tail, path: $T/events.ndjson, read_from_head: true, parser: json}]
    outputs:
      - {type: file, path: $T/sluice.jsonl, time_key: time}
      - {type: syslog, address: "udp://127.0.0.1:$U5"}
      - {type: syslog, address: "udp://127.0.0.1:$U3", format: rfc3164}
      - {type: syslog, address: "tcp://127.0.0.1:$C5"}
      - {type: syslog, address: "tcp://127.0.0.1:$C3", format: rfc3164, framing: lf}
      - {type: syslog, address: "tls://localhost:$S5", $tls}
      - {type: syslog, address: "tls://127.0.0.1:$S3", format: rfc3164, framing: lf, $tls}
  unverified:
    inputs: [{type: dummy, count: 1, rate: 100, record: {message: must not arrive}}]
    outputs: [{type: syslog, id: no-ca, address: "tls://127.0.0.1:$S5"}]
YAML
start_sluice -c "$T/sluice.yaml"
for f in udp5424 udp3164 tcp5424 tcp3164 tls5424 tls3164; do
    wait_for 20 lines_at_least "$T/$f.jsonl" $N || fail "$f: rsyslog has $(line_count "$T/$f.jsonl") of $N"
done
wait_for 10 grep -q "no-ca: .*certificate not trusted" "$T/sluice.log" ||
    fail "the output without the CA did not refuse the certificate"
stop_sluice
stop_rsyslog
for f in udp5424 udp3164 tcp5424 tcp3164 tls5424 tls3164; do
    out=$(python3 "$CHECK" check "rfc${f#???}" "$T/events.ndjson" "$T/sluice.jsonl" "$T/$f.jsonl") ||
        fail "$f: $out"
    pass "$f: $out"
done
grep -q "must not arrive" "$T"/*.jsonl && fail "an unverified TLS connection delivered"
pass "no CA, no delivery: $(grep -m1 -o 'certificate not trusted: [^)]*' "$T/sluice.log")"
