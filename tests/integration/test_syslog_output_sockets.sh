#!/usr/bin/env bash
# The syslog output over unix sockets (stream with octet counting, and
# datagrams as /dev/log takes them) and UDP's size limit, into sluice's own
# syslog input (rsyslog's imuxsock rewrites local messages, so it cannot
# show them unchanged): every event arrives once with its fields; a message
# over max_udp_size is cut at a character boundary and counted.
. "$(dirname "$0")/lib.sh"
N=2000
RPORT=$(free_port)
cat >"$T/recv.yaml" <<YAML
service: {flush_interval: 100ms, http: off, storage: {path: $T/recv-state}}
pipelines:
  r:
    inputs: [{type: syslog, listen: ["unix://$T/stream.sock", "unix-dgram://$T/dgram.sock", "udp://127.0.0.1:$RPORT"]}]
    outputs: [{type: file, path: $T/got.jsonl}]
YAML
"$SLUICE_BIN" -c "$T/recv.yaml" >"$T/recv.out" 2>"$T/recv.log" &
RECV=$!
PIDS+=($RECV)
wait_for 10 test -S "$T/dgram.sock" || fail "the receiver did not listen: $(cat "$T/recv.log")"

MPORT=$(free_port)
# One pipeline per socket, each with its own events.
cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 100ms, http: {listen: 127.0.0.1:$MPORT}, storage: {path: $T/state}}
pipelines:
  stream:
    inputs: [{type: dummy, rate: 4000, count: $N, record: {message: "über stream ✓", appname: app, procid: "7", msgid: S}}]
    outputs: [{type: syslog, address: "unix://$T/stream.sock"}]
  dgram:
    inputs: [{type: dummy, rate: 4000, count: $N, record: {message: "über dgram ✓", appname: app, procid: "8", msgid: D}}]
    outputs: [{type: syslog, address: "unix-dgram://$T/dgram.sock"}]
  big:
    inputs: [{type: dummy, rate: 0, count: 3, record: {message: "$(printf 'é%.0s' $(seq 600))", appname: big, msgid: B}}]
    outputs: [{type: syslog, address: "udp://127.0.0.1:$RPORT", max_udp_size: 600}]
YAML
start_sluice -c "$T/sluice.yaml"
wait_for 30 lines_at_least "$T/got.jsonl" $((2 * N + 3)) || fail "received $(line_count "$T/got.jsonl") of $((2 * N + 3))"
truncated=$(curl -fs "http://127.0.0.1:$MPORT/metrics" | awk '/^sluice_output_syslog_truncated_total/ && /big/ {print $2}')
stop_sluice || fail "exit $?"
python3 - "$T/got.jsonl" $N <<'PY' || fail "what arrived"
import collections, json, sys
n = int(sys.argv[2])
evs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
by = collections.Counter(e.get("msgid") for e in evs)
assert by == {"S": n, "D": n, "B": 3}, by
for e in evs:
    if e["msgid"] == "S":
        assert (e["message"], e["appname"], e["procid"]) == ("über stream ✓", "app", "7"), e
    elif e["msgid"] == "D":
        assert (e["message"], e["appname"], e["procid"]) == ("über dgram ✓", "app", "8"), e
    else:
        m = e["message"]
        assert set(m) == {"é"} and 0 < len(m) < 600, len(m)
        assert not e.get("parse_error"), e
big = [e for e in evs if e["msgid"] == "B"][0]["message"]
print(f"{n} over a unix stream, {n} over unix datagrams, fields exact; 3 datagrams cut, "
      f"their message {len(big.encode())} of 1200 bytes, still valid UTF-8")
PY
[ "$truncated" = 3 ] || fail "truncated_total: '$truncated', expected 3"
pass "unix stream and datagram sockets: every event once, fields exact; UDP messages over max_udp_size cut at a character boundary and counted (3)"
