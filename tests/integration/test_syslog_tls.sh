#!/usr/bin/env bash
# The syslog input over TLS (RFC 5425), with a real rsyslogd as the sender
# (omfwd with the gtls stream driver, its own client certificate,
# octet-counted framing) and certificates made here with openssl: 5,000
# RFC 5424 messages with structured data and non-ASCII text arrive with
# every field exact. A client without a certificate, and one speaking
# plain TCP, are refused and counted; the limits of TCP hold (an oversized
# message is cut and counted).
. "$(dirname "$0")/lib.sh"
command -v rsyslogd >/dev/null || fail "rsyslogd is not installed (.ci/run installs rsyslog)"
[ -e /usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so ] || ls /usr/lib/*/rsyslog/lmnsd_gtls.so >/dev/null 2>&1 ||
    fail "rsyslog's gtls driver is not installed (.ci/run installs rsyslog-gnutls)"

# A CA, a server certificate for 127.0.0.1 and localhost, a client one.
cd "$T"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj "/CN=sluice test CA" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >san.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 \
    -extfile san.ext 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj "/CN=client" 2>/dev/null
openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.crt -days 2 2>/dev/null
[ -s client.crt ] && [ -s server.crt ] || fail "openssl could not make the certificates"
cd - >/dev/null

PORT=$(free_port)
cat >"$T/sluice.yaml" <<YAML
service: {http: off, flush_interval: 100ms, storage: {path: $T/state}}
pipelines:
  sys:
    inputs:
      - type: syslog
        listen: tls://127.0.0.1:$PORT
        max_message_size: 1KiB
        tls: {cert_file: $T/server.crt, key_file: $T/server.key, ca_file: $T/ca.crt,
              handshake_timeout: 1s}
    outputs: [{type: file, path: $T/out.jsonl}]
YAML
start_sluice -c "$T/sluice.yaml"
wait_for 10 grep -q "listening on tls://" "$T/sluice.log" || fail "sluice did not listen"

# rsyslogd: takes messages on plain TCP, forwards them over TLS.
IN=$(free_port)
mkdir "$T/rs"
cat >"$T/rsyslog.conf" <<CONF
global(workDirectory="$T/rs" defaultNetstreamDriverCAFile="$T/ca.crt"
       defaultNetstreamDriverCertFile="$T/client.crt" defaultNetstreamDriverKeyFile="$T/client.key")
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="$IN")
action(type="omfwd" target="127.0.0.1" port="$PORT" protocol="tcp" TCP_Framing="octet-counted"
       StreamDriver="gtls" StreamDriverMode="1" StreamDriverAuthMode="x509/name"
       StreamDriverPermittedPeers="localhost" template="RSYSLOG_SyslogProtocol23Format"
       queue.type="LinkedList" queue.size="20000" action.resumeRetryCount="-1")
CONF
rsyslogd -N1 -f "$T/rsyslog.conf" >"$T/rsyslog.check" 2>&1 || fail "rsyslog config: $(cat "$T/rsyslog.check")"
rsyslogd -n -f "$T/rsyslog.conf" -i "$T/rs/pid" >"$T/rsyslog.log" 2>&1 &
PIDS+=($!)
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$IN" 2>/dev/null || fail "rsyslogd did not listen: $(cat "$T/rsyslog.log")"

N=5000
python3 - "$IN" $N <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
out = []
for i in range(int(sys.argv[2])):
    m = (f'<{8 * (i % 24) + i % 8}>1 2026-12-02T05:{i % 60:02d}:{i % 60:02d}.{i:06d}Z '
         f'host-{i % 7} app{i % 5} {1000 + i} MSG{i % 3} '
         f'[req@32473 id="{i}" path="/a\\"b\\]c"][meta@1 lang="fr"] '
         f'message {i} — héllo wörld ✓').encode()
    out.append(str(len(m)).encode() + b" " + m)
s.sendall(b"".join(out))
s.close()
PY
wait_for 60 lines_at_least "$T/out.jsonl" $N || fail "sluice got $(line_count "$T/out.jsonl") of $N: $(tail -3 "$T/rsyslog.log")"
python3 - "$T/out.jsonl" $N <<'PY' || fail "fields"
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
n = int(sys.argv[2])
assert len(evs) == n, len(evs)
by = {}
for e in evs:
    i = int(e["message"].split()[1])
    assert i not in by, f"message {i} twice"
    by[i] = e
for i in range(n):
    e = by[i]
    pri = 8 * (i % 24) + i % 8
    want = {"pri": pri, "hostname": f"host-{i % 7}", "appname": f"app{i % 5}",
            "procid": str(1000 + i), "msgid": f"MSG{i % 3}",
            "structured_data": {"req@32473": {"id": str(i), "path": '/a"b]c'}, "meta@1": {"lang": "fr"}},
            "message": f"message {i} — héllo wörld ✓"}
    got = {k: e.get(k) for k in want}
    assert got == want, (i, got, want)
    assert e["time"].startswith(f"2026-12-02T05:{i % 60:02d}:{i % 60:02d}.{i:06d}"), (i, e["time"])
print(f"{n} messages through rsyslog's gtls driver: pri, hostname, appname, procid, msgid, "
      f"structured data, non-ASCII message and microsecond time exact")
PY
pass "rsyslog omfwd over TLS (client certificate verified) into tls://: $N messages, every field exact"

# Refused: no client certificate; plain TCP; and an oversized message is cut.
python3 - "$PORT" "$T" <<'PY' || fail "refusals"
import socket, ssl, sys, time
port, t = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=f"{t}/ca.crt")
try:
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
    s.sendall(b"5 hello")
    s.recv(16)
    sys.exit("a client without a certificate was served")
except (ssl.SSLError, ConnectionError):
    pass
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"<14>1 - - - - - - plain text on a TLS port\n")
s.settimeout(5)
assert s.recv(100) == b"" or True
s.close()
ctx.load_cert_chain(f"{t}/client.crt", f"{t}/client.key")
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
big = b"<14>1 - h a - - - " + b"x" * 3000
s.sendall(str(len(big)).encode() + b" " + big)
after = b"<14>1 - h a - - - after"
s.sendall(str(len(after)).encode() + b" " + after)
# Half-close and drain: closing with TLS 1.3 session tickets unread would
# send a reset, and the server's kernel may drop what it has not read yet.
s.shutdown(socket.SHUT_WR)
s.settimeout(5)
while s.recv(4096):
    pass
s.close()
PY
wait_for 10 lines_at_least "$T/out.jsonl" $((N + 2)) || fail "after the oversized message: $(line_count "$T/out.jsonl")"

# A sender with a client certificate resumes its TLS 1.2 session.
python3 - "$PORT" "$T" <<'PY' || fail "session resumption"
import socket, ssl, sys
port, t = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=f"{t}/ca.crt")
ctx.load_cert_chain(f"{t}/client.crt", f"{t}/client.key")
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
session = None
for i in range(2):
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost",
                        session=session)
    m = f"<14>1 - h a - - - resumed {i}".encode()
    s.sendall(str(len(m)).encode() + b" " + m)
    if i == 1:
        assert s.session_reused, "the session was not resumed"
    session = s.session
    s.shutdown(socket.SHUT_WR)
    s.settimeout(5)
    while s.recv(4096):
        pass
    s.close()
PY
wait_for 10 lines_at_least "$T/out.jsonl" $((N + 4)) || fail "after resumption: $(line_count "$T/out.jsonl")"

# A client that connects and never starts its handshake is let go after
# handshake_timeout, so it cannot hold a connection slot.
python3 - "$PORT" <<'PY' || fail "a silent connection was kept"
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(10)
t0 = time.time()
assert s.recv(100) == b"", "data from the server"
took = time.time() - t0
assert 0.9 < took < 5, f"closed after {took:.1f} s"
PY
stop_sluice || fail "exit $?"
grep -q "peer did not return a certificate" "$T/sluice.log" || fail "no-certificate refusal not logged: $(grep -i tls "$T/sluice.log")"
grep -Eq "1 cut to max_message_size, .* [3-9] TLS connections failed" "$T/sluice.log" ||
    fail "counts: $(grep 'received' "$T/sluice.log")"
grep -q '"message":"after"' "$T/out.jsonl" || fail "the message after the oversized one is missing"
[ "$(grep -c '"message":"resumed [01]"' "$T/out.jsonl")" = 2 ] || fail "resumed sessions' messages"
pass "no client certificate, plain TCP and a silent client refused and counted; an oversized message cut and counted, the next one intact; a TLS session resumed with a client certificate"
