#!/usr/bin/env bash
# A round trip: syslog messages into sluice's syslog input, out of its
# syslog output into a real rsyslogd, compared with the same messages sent
# to rsyslogd directly. Every property rsyslog parses (time with its zone
# and fraction, hostname, app-name, procid, msgid, structured data with
# escapes, severity, facility, msg) must be the same both ways: RFC 5424
# in and out, and RFC 3164 in and out.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/syslog_output_lib.sh"
N=1000

D5=$(free_port) D3=$(free_port) V5=$(free_port) V3=$(free_port) I5=$(free_port) I3=$(free_port)
rsyslog_config direct5424:tcp:$D5 direct3164:tcp:$D3 via5424:tcp:$V5 via3164:tcp:$V3
start_rsyslog "$D5"
cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 50ms, http: off, grace: 2s, storage: {path: $T/state}}
pipelines:
  rfc5424:
    inputs: [{type: syslog, listen: "tcp://127.0.0.1:$I5", format: rfc5424}]
    outputs: [{type: syslog, address: "tcp://127.0.0.1:$V5"}]
  rfc3164:
    inputs: [{type: syslog, listen: "tcp://127.0.0.1:$I3", format: rfc3164}]
    outputs: [{type: syslog, address: "tcp://127.0.0.1:$V3", format: rfc3164, framing: lf}]
YAML
start_sluice -c "$T/sluice.yaml"
wait_for 10 grep -q "listening on tcp://127.0.0.1:$I3" "$T/sluice.log" || fail "sluice did not listen"

python3 - $N "$D5" "$I5" "$D3" "$I3" <<'PY'
import socket, sys
n = int(sys.argv[1])
texts = ["plain", "caf\u00e9 \u65e5\u672c\u8a9e \U0001f680", "tab\there", "q\"uote ] [x]"]
sds = ["-", '[a@1 k="v"]', '[meta@32473 seq="%d" v="a\\"b\\\\c\\]d \u00e9"][origin ip="10.1.2.3"]',
       '[x@2 empty=""]']
zones = [("", "Z"), ("", "+02:00"), ("", "-07:30"), (".5", "Z"), (".123456", "+05:30"), (".001", "Z")]
def m5424(i):
    frac, zone = zones[i % len(zones)]
    ts = "2026-03-%02dT%02d:%02d:%02d%s%s" % (1 + i % 28, i % 24, i % 60, (i * 7) % 60, frac, zone)
    sd = sds[i % len(sds)].replace("%d", str(i))
    return "<%d>1 %s host%d.example.com app%d %s %s %s m%d %s" % (
        i % 192, ts, i % 9, i % 4, str(100 + i) if i % 3 else "-", "ID%d" % i if i % 2 else "-",
        sd, i, texts[i % len(texts)])
def m3164(i):
    mon = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][i % 12]
    tag = "app%d[%d]" % (i % 4, 200 + i) if i % 2 else "app%d" % (i % 4)
    return "<%d>%s %2d %02d:%02d:%02d host%d %s: m%d %s" % (
        i % 192, mon, 1 + i % 28, i % 24, i % 60, i % 60, i % 9, tag, i, texts[i % len(texts)])
def send(port, msgs):
    s = socket.create_connection(("127.0.0.1", int(port)))
    s.sendall(b"".join(b"%d %s" % (len(m), m) for m in (x.encode() for x in msgs)))
    s.close()
a = [m5424(i) for i in range(n)]
b = [m3164(i) for i in range(n)]
send(sys.argv[2], a); send(sys.argv[3], a); send(sys.argv[4], b); send(sys.argv[5], b)
PY
for f in direct5424 via5424 direct3164 via3164; do
    wait_for 20 lines_at_least "$T/$f.jsonl" $N || fail "$f: rsyslog has $(line_count "$T/$f.jsonl") of $N"
done
stop_sluice || fail "sluice exited with $?"
stop_rsyslog
python3 - "$T" $N <<'PY' || fail "the round trip changed fields"
import json, sys
d, n = sys.argv[1], int(sys.argv[2])
ok = True
for fmt in ("5424", "3164"):
    rows = {}
    for side in ("direct", "via"):
        rows[side] = {}
        for line in open(f"{d}/{side}{fmt}.jsonl", encoding="utf-8"):
            r = json.loads(line)
            rows[side][r["msg"].split()[0]] = r
    bad = [(k, r, rows["via"].get(k)) for k, r in rows["direct"].items() if rows["via"].get(k) != r]
    for k, a, b in bad[:5]:
        print(f"{fmt} {k}: direct {a}\n{fmt} {k}: via    {b}")
    sd = sum(r["sd"] != "-" for r in rows["via"].values())
    print(f"rfc{fmt}: {len(rows['direct'])} direct, {len(rows['via'])} via sluice, {len(bad)} differ; "
          f"{sd} with structured data")
    ok &= not bad and len(rows["direct"]) == n == len(rows["via"])
sys.exit(0 if ok else 1)
PY
pass "every field unchanged through sluice"
