#!/usr/bin/env bash
# syslog from real clients: util-linux logger (RFC 3164 and 5424, UDP, TCP
# with and without --octet-count, unix stream and datagram sockets) and
# rsyslogd forwarding over TCP with octet-counted framing. Every field of
# every message is checked.
. "$(dirname "$0")/lib.sh"
command -v logger >/dev/null || fail "logger is not installed"
command -v rsyslogd >/dev/null || fail "rsyslogd is not installed (.ci/run installs rsyslog)"

UDP=$(free_port)
TCP=$(free_port)
cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 50ms, http: off}
pipelines:
  it:
    inputs:
      - type: syslog
        listen: [udp://127.0.0.1:$UDP, tcp://127.0.0.1:$TCP, unix://$T/stream.sock, unix-dgram://$T/dgram.sock]
        source_key: peer
    outputs: [{type: file, path: $T/out.json}]
YAML
start_sluice -c "$T/sluice.yaml"
wait_for 10 grep -q "listening on unix-dgram" "$T/sluice.log" || fail "not listening"

logger --server 127.0.0.1 --port $TCP --tcp --rfc5424 --msgid M1 -t app -p local3.warning "tcp 5424"
logger --server 127.0.0.1 --port $TCP --tcp --rfc5424 --octet-count -t app -p user.err "tcp 5424 octet"
logger --server 127.0.0.1 --port $TCP --tcp --rfc3164 -t app -p daemon.info "tcp 3164"
logger --server 127.0.0.1 --port $UDP --udp --rfc5424 --sd-id probe@32473 --sd-param 'k="v\"q"' -t app "udp 5424"
logger --server 127.0.0.1 --port $UDP --udp --rfc3164 -t app -i "udp 3164"
logger --socket "$T/dgram.sock" --socket-errors=on --rfc5424 -t app "unix dgram 5424"
logger --socket "$T/stream.sock" --socket-errors=on --rfc3164 -t app "unix stream 3164" ||
    fail "logger could not write to the unix stream socket"
printf '<13>1 2026-11-26T08:00:00Z h app - - [broken sd\n<14>plain 3164 line\n' |
    python3 -c "import socket,sys; s=socket.create_connection(('127.0.0.1', $TCP)); s.sendall(sys.stdin.buffer.read()); s.close()"

# rsyslogd: receives on UDP, forwards to us over TCP, octet-counted.
RUDP=$(free_port)
mkdir -p "$T/rsyslog"
cat >"$T/rsyslog.conf" <<CONF
global(workDirectory="$T/rsyslog")
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="$RUDP")
action(type="omfwd" target="127.0.0.1" port="$TCP" protocol="tcp"
       TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")
CONF
rsyslogd -n -f "$T/rsyslog.conf" -i "$T/rsyslog.pid" >"$T/rsyslog.log" 2>&1 &
RS=$!
PIDS+=($RS)
sleep 1
logger --server 127.0.0.1 --port $RUDP --udp --rfc3164 -t fwd -p local0.notice "via rsyslog"
wait_for 20 lines_at_least "$T/out.json" 10 || fail "$(line_count "$T/out.json") messages: $(cat "$T/out.json")"
kill -TERM $RS; wait $RS 2>/dev/null
stop_sluice || fail "exit code $?"

python3 - "$T/out.json" "$(hostname)" "$T" <<'PY' || fail "fields"
import json, sys, time
host, t = sys.argv[2], sys.argv[3]
evs = {}
for line in open(sys.argv[1]):
    e = json.loads(line)
    evs[e["message"]] = e
def check(msg, **want):
    e = evs.get(msg)
    assert e, f"no event for {msg!r}: {list(evs)}"
    for k, v in want.items():
        if v is None:
            assert k not in e, f"{msg}: {k} should be absent: {e}"
        else:
            assert e.get(k) == v, f"{msg}: {k} = {e.get(k)!r}, want {v!r}"
    if "parse_error" not in want:
        assert "parse_error" not in e, e
    return e
e = check("tcp 5424", pri=156, facility="local3", severity="warning", hostname=host,
          appname="app", msgid="M1", procid=None)
assert e["structured_data"]["timeQuality"]["tzKnown"] == "1", e
assert abs(time.time() - time.mktime(time.strptime(e["time"][:19], "%Y-%m-%dT%H:%M:%S")) + time.timezone) < 300
assert e["peer"].startswith("127.0.0.1:"), e
check("tcp 5424 octet", pri=11, facility="user", severity="err", appname="app")
check("tcp 3164", pri=30, facility="daemon", severity="info", hostname=host, appname="app")
e = check("udp 5424", appname="app")
assert e["structured_data"]["probe@32473"] == {"k": 'v"q'}, e["structured_data"]
e = check("udp 3164", appname="app", hostname=host)
assert e["procid"].isdigit(), e
check("unix dgram 5424", appname="app", peer=f"{t}/dgram.sock")
check("unix stream 3164", appname="app", peer=f"{t}/stream.sock")
check("<13>1 2026-11-26T08:00:00Z h app - - [broken sd", parse_error=True, pri=13)
# No timestamp and no "tag:": kept whole and flagged, not taken apart.
check("plain 3164 line", pri=14, severity="info", appname=None, parse_error=True)
# rsyslog's %msg% keeps the space that followed "fwd:" in RFC 3164; as RFC
# 5424 says, MSG is everything after the separator.
check(" via rsyslog", pri=133, facility="local0", severity="notice", appname="fwd")
print(f"{len(evs)} messages, every field as sent")
PY
grep -q "received 10 messages; 2 did not parse" "$T/sluice.log" || fail "counters: $(grep received "$T/sluice.log")"
pass "logger (TCP LF and octet-counted, UDP, unix stream and datagram) and rsyslogd forwarding: every field"
