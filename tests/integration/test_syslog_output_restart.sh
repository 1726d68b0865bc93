#!/usr/bin/env bash
# rsyslogd restarted in the middle of a stream over TCP and over TLS: the
# syslog output finds the closed connection before its next write,
# reconnects with backoff once rsyslog is back, and the stream continues to
# its last event. Plain syslog has no acknowledgement, so what rsyslog
# had not read from its socket when it stopped is lost (the kernel resets
# the connection and drops it); the test reports how many, asserts that
# they are all among the events written in the last flushes before the
# stop (nothing written after the stop is lost: those writes fail and are
# retried), and that no event is corrupted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/syslog_output_lib.sh"
N=8000
RATE=2000

make_certs
C=$(free_port) S=$(free_port)
rsyslog_config tcp:tcp:$C tls:tls:$S
start_rsyslog "$C"

common="message_key: seq, retry: {initial_backoff: 100ms, max_backoff: 300ms}"
cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 50ms, http: off, grace: 5s, exit_when_done: true, storage: {path: $T/state}}
pipelines:
  p:
    inputs: [{type: dummy, rate: $RATE, count: $N, record: {severity: notice}}]
    outputs:
      - {type: syslog, id: tcp, address: "tcp://127.0.0.1:$C", $common}
      - {type: syslog, id: tls, address: "tls://localhost:$S", tls: {ca_file: $T/ca.crt}, $common}
YAML
start_sluice -c "$T/sluice.yaml"
wait_for 10 lines_at_least "$T/tcp.jsonl" $((RATE * 3 / 2)) || fail "rsyslog got $(line_count "$T/tcp.jsonl") events"
stop_at=$(line_count "$T/tcp.jsonl")
kill -"${STOP_SIGNAL:-TERM}" "$RSYSLOG_PID"
wait "$RSYSLOG_PID" 2>/dev/null
sleep 0.5
start_rsyslog "$C"
echo "rsyslogd restarted after event ~$stop_at"
wait_for 30 bash -c "! kill -0 $SLUICE_PID 2>/dev/null" || fail "sluice did not finish"
wait "$SLUICE_PID" || fail "sluice exited with $?"
sleep 0.3
stop_rsyslog
grep -q "tcp: connected to tcp://127.0.0.1:$C again" "$T/sluice.log" || fail "tcp: no reconnect logged"
grep -q "tls: connected to tls://localhost:$S again" "$T/sluice.log" || fail "tls: no reconnect logged"
python3 - "$T" $N $((RATE / 20 * 4)) <<'PY' || fail "see above"
import json, sys
d, n, window = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ok = True
for name in ("tcp", "tls"):
    seqs = []
    for line in open(f"{d}/{name}.jsonl", encoding="utf-8"):
        r = json.loads(line)
        assert r["severity"] == "5" and r["app_name"] == "sluice", r
        seqs.append(int(r["msg"]))
    got = set(seqs)
    missing = sorted(set(range(n)) - got)
    dups = len(seqs) - len(got)
    span = f"{missing[0]}..{missing[-1]}" if missing else "none"
    print(f"{name}: {len(got)} of {n} events arrived, {len(missing)} lost ({span}), {dups} twice")
    if n - 1 not in got or got - set(range(n)):
        print(f"{name}: the stream did not continue to its end"); ok = False
    # What is lost is what rsyslog had not read when it stopped: the last
    # flushes before the stop, never more than a few chunks in a row.
    if missing and missing[-1] - missing[0] >= window:
        print(f"{name}: lost events span more than {window}"); ok = False
sys.exit(0 if ok else 1)
PY
pass "both reconnected and delivered to the last event"
