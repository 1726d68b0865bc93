#!/usr/bin/env bash
# syslog over TCP under backpressure: the backend is down and the buffer
# tiny, so sluice must stop reading the socket (the sender blocks, its
# kernel buffers fill) instead of growing; once the backend is up, every
# message arrives, none lost.
. "$(dirname "$0")/lib.sh"

N=100000
TCP=$(free_port)
PORT=$(free_port)
cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 50ms, chunk_size: 16KiB, http: off}
pipelines:
  it:
    inputs: [{type: syslog, listen: [tcp://127.0.0.1:$TCP]}]
    outputs:
      - type: http
        url: http://127.0.0.1:$PORT/ingest
        buffer: {max_memory: 64KiB}
        retry: {initial_backoff: 100ms, max_backoff: 300ms}
YAML
start_sluice -c "$T/sluice.yaml"
wait_for 10 grep -q "listening on tcp" "$T/sluice.log" || fail "not listening"
python3 - "$TCP" "$N" "$T/sent" <<'PY' &
import socket, sys
port, n, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
s = socket.create_connection(("127.0.0.1", port))
data = b"".join(b"<13>Nov 26 08:00:00 host app[1]: message %d with some padding text\n" % i
                for i in range(n))
sent = 0
s.settimeout(60)
while sent < len(data):
    k = s.send(data[sent:sent + 65536])
    sent += k
    with open(out, "w") as f:
        f.write(str(sent))
s.close()
with open(out, "w") as f:
    f.write(f"done {sent}")
PY
SENDER=$!
PIDS+=($SENDER)
sleep 3
sent=$(cat "$T/sent")
total=$(python3 -c "print(sum(len(b'<13>Nov 26 08:00:00 host app[1]: message %d with some padding text\n' % i) for i in range($N)))")
case "$sent" in done*) fail "the sender was never blocked: sluice kept reading while paused";; esac
grep -q "paused [0-9]* times" "$T/sluice.log" || true
rss=$(awk '/VmRSS/ {print $2}' "/proc/$SLUICE_PID/status")
echo "backend down for 3 s: sender blocked after $sent of $total bytes; sluice RSS $((rss / 1024)) MiB"
if [ "${SLUICE_SANITIZED:-0}" != 1 ]; then
    [ "$rss" -lt 65536 ] || fail "RSS $rss KiB while paused"
fi

start_http_server "$PORT"
wait "$SENDER" || fail "sender failed"
wait_for 60 http_events_at_least "$PORT" $N || fail "$(http_events "$PORT") of $N messages"
stop_sluice || fail "exit code $?"
http_stats "$PORT" | python3 -c "
import json, sys
s = json.load(sys.stdin)
assert s['events'] == $N, s['events']
" || fail "count"
pass "TCP paused under backpressure (sender blocked at $sent bytes), then all $N messages delivered"
