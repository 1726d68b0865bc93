#!/usr/bin/env bash
# rsyslog_parse.sh CORPUS [> out.jsonl]
#
# Shows how the locally installed rsyslogd parses each line of CORPUS.
# Every line of CORPUS is one raw syslog message; it is sent, byte for byte
# (without the line separator), as one UDP datagram to a private rsyslogd
# that uses its default parser chain (rsyslog.rfc5424, then rsyslog.rfc3164).
# For each line one JSON object is written to stdout, in corpus order, with
# rsyslog's view of the message (the template's property(format="jsonf")
# output, unchanged).
#
# If rsyslogd produces nothing for a line within the wait limit, a placeholder
# {"_corpus_line":N,"_error":"..."} is written instead so that line N of the
# output always belongs to line N of the corpus.
#
# Environment:
#   RSYSLOGD          rsyslogd binary (default: rsyslogd from PATH)
#   RSYSLOG_TZ        TZ given to rsyslogd (default: UTC); BSD timestamps
#                     carry no zone and are read in this zone
#   RSYSLOG_WAIT_SEC  seconds to wait for each output line (default: 5)
#   KEEP_TMP=1        keep the temporary directory (path printed to stderr)
#
# Needs: bash, python3, rsyslogd with imudp. All state is in a mktemp -d
# directory; rsyslogd runs in the foreground (-n) with its own config and
# pid file and is stopped by its PID at the end.

set -euo pipefail

die() { echo "rsyslog_parse.sh: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: $0 CORPUS_FILE"
CORPUS=$1
[ -f "$CORPUS" ] && [ -r "$CORPUS" ] || die "cannot read corpus file '$CORPUS'"

RSYSLOGD=${RSYSLOGD:-rsyslogd}
command -v "$RSYSLOGD" >/dev/null 2>&1 || die "rsyslogd not found (set RSYSLOGD)"
command -v python3 >/dev/null 2>&1 || die "python3 not found"
WAIT_SEC=${RSYSLOG_WAIT_SEC:-5}
case $WAIT_SEC in ''|*[!0-9]*) die "RSYSLOG_WAIT_SEC must be a whole number" ;; esac

TMP=$(mktemp -d "${TMPDIR:-/tmp}/rsyslog_parse.XXXXXX")
RS_PID=

cleanup() {
    if [ -n "$RS_PID" ] && kill -0 "$RS_PID" 2>/dev/null; then
        kill -TERM "$RS_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$RS_PID" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$RS_PID" 2>/dev/null; then
            echo "rsyslog_parse.sh: rsyslogd $RS_PID did not stop on TERM, sending KILL" >&2
            kill -KILL "$RS_PID" 2>/dev/null || true
        fi
        wait "$RS_PID" 2>/dev/null || true
    fi
    if [ "${KEEP_TMP:-0}" = 1 ]; then
        echo "rsyslog_parse.sh: kept $TMP" >&2
    else
        rm -rf "$TMP"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$TMP/work"

# A free UDP port on 127.0.0.1 (tiny race between closing and rsyslogd binding).
PORT=$(python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()')

# imuxsock is not loaded, so no /dev/log is touched. Internal rsyslogd
# messages stay in the default ruleset and go to internal.log; corpus
# messages go through ruleset "corpus" only.
# net.enableDNS="off": where rsyslog falls back to the sender's name it uses
# the sender IP (127.0.0.1) instead of a reverse-DNS result, so the output
# does not depend on /etc/hosts.
cat > "$TMP/rsyslog.conf" <<EOF
global(
    workDirectory="$TMP/work"
    net.enableDNS="off"
)
module(load="imudp")

template(name="sluice_json" type="list" option.jsonf="on") {
    property(outname="pri"             name="pri"             format="jsonf")
    property(outname="syslogfacility"  name="syslogfacility"  format="jsonf")
    property(outname="syslogseverity"  name="syslogseverity"  format="jsonf")
    property(outname="timereported"    name="timereported"    format="jsonf" dateFormat="rfc3339")
    property(outname="timegenerated"   name="timegenerated"   format="jsonf" dateFormat="rfc3339")
    property(outname="hostname"        name="hostname"        format="jsonf")
    property(outname="fromhost-ip"     name="fromhost-ip"     format="jsonf")
    property(outname="syslogtag"       name="syslogtag"       format="jsonf")
    property(outname="programname"     name="programname"     format="jsonf")
    property(outname="app-name"        name="app-name"        format="jsonf")
    property(outname="procid"          name="procid"          format="jsonf")
    property(outname="msgid"           name="msgid"           format="jsonf")
    property(outname="structured-data" name="structured-data" format="jsonf")
    property(outname="msg"             name="msg"             format="jsonf")
    property(outname="rawmsg"          name="rawmsg"          format="jsonf")
}

ruleset(name="corpus") {
    action(type="omfile" file="$TMP/out.jsonl" template="sluice_json")
}

input(type="imudp" address="127.0.0.1" port="$PORT" ruleset="corpus")

*.* action(type="omfile" file="$TMP/internal.log")
EOF

"$RSYSLOGD" -N1 -f "$TMP/rsyslog.conf" >"$TMP/check.log" 2>&1 \
    || { cat "$TMP/check.log" >&2; die "rsyslogd rejected the generated config"; }

TZ=${RSYSLOG_TZ:-UTC} "$RSYSLOGD" -n -f "$TMP/rsyslog.conf" -i "$TMP/rsyslogd.pid" \
    >"$TMP/rsyslogd.stdout" 2>"$TMP/rsyslogd.stderr" &
RS_PID=$!

# Wait (max 10 s) until rsyslogd is alive, has written its pid file and has
# a UDP socket bound to 127.0.0.1:PORT.
PORT_HEX=$(printf '%04X' "$PORT")
ready=0
for _ in $(seq 1 100); do
    if ! kill -0 "$RS_PID" 2>/dev/null; then
        break
    fi
    if [ -s "$TMP/rsyslogd.pid" ] && grep -q " 0100007F:$PORT_HEX " /proc/net/udp 2>/dev/null; then
        ready=1
        break
    fi
    sleep 0.1
done
if [ $ready -ne 1 ]; then
    echo "---- rsyslogd stderr ----" >&2
    cat "$TMP/rsyslogd.stderr" >&2 || true
    echo "---- internal.log ----" >&2
    cat "$TMP/internal.log" >&2 2>/dev/null || true
    if kill -0 "$RS_PID" 2>/dev/null; then
        die "rsyslogd (pid $RS_PID) did not start listening on udp 127.0.0.1:$PORT within 10 s"
    else
        die "rsyslogd exited during startup"
    fi
fi
if [ "$(cat "$TMP/rsyslogd.pid")" != "$RS_PID" ]; then
    echo "rsyslog_parse.sh: note: pid file says $(cat "$TMP/rsyslogd.pid"), started pid is $RS_PID" >&2
fi

# Send the corpus one datagram at a time; after each, wait until out.jsonl has
# grown by one line (bounded), then print the new line. Output goes to stdout.
python3 - "$CORPUS" "$PORT" "$TMP/out.jsonl" "$WAIT_SEC" "$RS_PID" <<'PY'
import json, os, socket, sys, time

corpus, port, outpath, wait_sec, rs_pid = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])

with open(corpus, "rb") as f:
    data = f.read()
lines = data.split(b"\n")
if lines and lines[-1] == b"":
    lines.pop()          # file ends with a line separator

def read_lines():
    try:
        with open(outpath, "rb") as f:
            buf = f.read()
    except FileNotFoundError:
        return []
    # only complete lines count
    return buf.split(b"\n")[:-1]

def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
out = sys.stdout.buffer
seen = 0
missing = 0
for n, msg in enumerate(lines, 1):
    if msg == b"":
        out.write(json.dumps({"_corpus_line": n, "_error": "empty corpus line, not sent"}).encode() + b"\n")
        continue
    sock.sendto(msg, ("127.0.0.1", port))
    deadline = time.monotonic() + wait_sec
    got = None
    while True:
        cur = read_lines()
        if len(cur) > seen:
            if len(cur) > seen + 1:
                sys.stderr.write("rsyslog_parse.sh: corpus line %d produced %d output lines; keeping the first\n"
                                 % (n, len(cur) - seen))
            got = cur[seen]
            seen = len(cur)
            break
        if time.monotonic() >= deadline:
            break
        if not alive(rs_pid):
            sys.stderr.write("rsyslog_parse.sh: rsyslogd died while processing corpus line %d\n" % n)
            sys.exit(1)
        time.sleep(0.005)
    if got is None:
        missing += 1
        sys.stderr.write("rsyslog_parse.sh: no output for corpus line %d within %d s\n" % (n, wait_sec))
        out.write(json.dumps({"_corpus_line": n, "_error": "no output from rsyslogd within %d s" % wait_sec}).encode() + b"\n")
    else:
        out.write(got + b"\n")
    out.flush()

if missing:
    sys.stderr.write("rsyslog_parse.sh: %d of %d lines produced no output\n" % (missing, len(lines)))
PY
