#!/usr/bin/env bash
# The same real-world syslog messages (tests/syslog_corpus: rsyslog's own
# test messages, Cisco, ESXi, Docker, journald forwarders, malformed ones)
# go to a real rsyslogd and to sluice; every field sluice takes must be
# what rsyslog takes, except where the corpus's compare.py lists a
# deliberate difference with its reason.
. "$(dirname "$0")/lib.sh"
command -v rsyslogd >/dev/null || fail "rsyslogd is not installed (.ci/run installs rsyslog)"
C=$SLUICE_SOURCE_DIR/tests/syslog_corpus
export TZ=UTC

bash "$C/rsyslog_parse.sh" "$C/messages.txt" >"$T/rsyslog.jsonl" 2>"$T/rsyslog.err" ||
    fail "rsyslog: $(cat "$T/rsyslog.err")"

PORT=$(free_port)
cat >"$T/sluice.yaml" <<YAML
service: {http: off, flush_interval: 50ms, storage: {path: $T/state}}
pipelines:
  sys:
    inputs: [{type: syslog, listen: udp://127.0.0.1:$PORT}]
    outputs: [{type: file, path: $T/sluice.jsonl}]
YAML
start_sluice -c "$T/sluice.yaml"
wait_for 10 grep -q "listening on udp" "$T/sluice.log" || fail "sluice did not listen"
python3 - "$C/messages.txt" "$PORT" <<'PY'
import socket, sys, time
msgs = open(sys.argv[1], "rb").read().split(b"\n")
if msgs[-1] == b"":
    msgs.pop()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for m in msgs:
    s.sendto(m, ("127.0.0.1", int(sys.argv[2])))
    time.sleep(0.002)
PY
n=$(grep -c . "$C/messages.txt")
wait_for 20 lines_at_least "$T/sluice.jsonl" "$n" || fail "sluice wrote $(line_count "$T/sluice.jsonl") of $n"
stop_sluice || fail "exit $?"
python3 "$C/compare.py" "$C/messages.txt" "$T/rsyslog.jsonl" "$T/sluice.jsonl" >"$T/compare.out" ||
    fail "sluice and rsyslog disagree:
$(cat "$T/compare.out")"
pass "$(tail -1 "$T/compare.out")"
