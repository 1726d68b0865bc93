#!/usr/bin/env bash
# statsd from real clients: Debian's python3-statsd (UDP, TCP, pipelines;
# counters with sample rates, gauges with deltas and below zero, timers,
# sets) and Node's hot-shots (DogStatsD tags over UDP, Telegraf-style tags
# over TCP), every event checked field by field at the file output after
# the final flush at SIGTERM. Then a garbage flood over UDP whose 1,000
# valid increments all count, and a slow TCP client holding half a line
# that does not stall a UDP sender.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
$PY -c 'import statsd' 2>/dev/null || fail "python3-statsd is not installed (.ci/run installs it)"
command -v node >/dev/null || fail "node is not installed"
NODE_DIR=$SLUICE_SOURCE_DIR/tests/node
[ -d "$NODE_DIR/node_modules/hot-shots" ] ||
    fail "hot-shots is not installed: npm ci --prefix tests/node (.ci/run does it)"

UDP=$(free_port)
TCP=$(free_port)
cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 50ms, http: off}
pipelines:
  it:
    inputs:
      - type: statsd
        listen: [udp://127.0.0.1:$UDP, tcp://127.0.0.1:$TCP]
        flush_interval: 1h
        percentiles: [50, 90, 99.9]
    outputs: [{type: file, path: $T/out.json}]
YAML
start_sluice -c "$T/sluice.yaml"
wait_for 10 grep -q "listening on tcp" "$T/sluice.log" || fail "not listening"

$PY - "$UDP" "$TCP" <<'PY' || fail "python statsd client"
import random, sys, time
import statsd
random.random = lambda: 0.0  # every sampled call is sent, with its @rate
udp, tcp = int(sys.argv[1]), int(sys.argv[2])
c = statsd.StatsClient("127.0.0.1", udp, prefix="py")
for _ in range(50):
    c.incr("hits", rate=0.1)          # py.hits:1|c|@0.1
c.incr("hits", 5)
c.decr("hits", 2)                     # 500 + 5 - 2
c.gauge("temp", 20)
c.gauge("temp", 5, delta=True)        # +5|g
c.gauge("temp", -3, delta=True)       # -3|g
c.gauge("below", -7)                  # 0|g and -7|g in one datagram
for ms in (10, 20, 30, 40, 50):
    c.timing("rt", ms)                # 10.000000|ms
c.timing("rt_sampled", 100, rate=0.5)
c.timing("rt_sampled", 300, rate=0.5)
for v in ("a", "b", "a", "c"):
    c.set("visitors", v)
with c.pipeline() as p:               # ten lines in one datagram
    for _ in range(10):
        p.incr("piped")
t = statsd.TCPStatsClient("127.0.0.1", tcp, prefix="pytcp")
for _ in range(100):
    t.incr("hits")
t.gauge("temp", 3.5)
t.timing("rt", 7)
t.set("visitors", "x")
with t.pipeline() as p:
    p.incr("piped", 2)
    p.incr("piped", 3)
t.close()
PY
(cd "$NODE_DIR" && node statsd_hotshots.js 127.0.0.1 "$UDP" udp) || fail "hot-shots over UDP"
(cd "$NODE_DIR" && node statsd_hotshots.js 127.0.0.1 "$TCP" tcp telegraf) || fail "hot-shots over TCP"
# Every line is in once the counts in the log's last line add up: stop.
sleep 0.5
stop_sluice || fail "exit code $?"

$PY - "$T/out.json" <<'PY' || fail "events"
import json, math, sys
evs = {}
for line in open(sys.argv[1]):
    e = json.loads(line)
    key = (e["name"], e["kind"], tuple(sorted(e["tags"].items())))
    assert key not in evs, f"twice: {key}"
    assert set(e) == {"time", "name", "kind", "tags", "fields"}, e
    evs[key] = e["fields"]
def check(name, kind, fields, **tags):
    key = (name, kind, tuple(sorted(tags.items())))
    got = evs.pop(key, None)
    assert got is not None, f"no event {key}; have {sorted(evs)}"
    # mean and stddev are computed online (Welford): equal to 1e-12
    assert got.keys() == fields.keys() and all(
        math.isclose(got[k], fields[k], rel_tol=1e-12, abs_tol=1e-12) for k in fields), \
        f"{key}: {got} != {fields}"
def summary(values, weight=1):
    v = sorted(values)
    n = len(v)
    mean = sum(v) / n
    rank = lambda p: v[max(0, math.ceil(p / 100 * n) - 1)]
    return {"count": n * weight, "sum": sum(v) * weight, "lower": v[0], "upper": v[-1],
            "mean": mean, "stddev": math.sqrt(sum((x - mean) ** 2 for x in v) / n),
            "median": v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2,
            "p50": rank(50), "p90": rank(90), "p99_9": rank(99.9)}

check("py.hits", "counter", {"value": 503})
check("py.temp", "gauge", {"value": 22})
check("py.below", "gauge", {"value": -7})
check("py.rt", "gauge", summary([10, 20, 30, 40, 50]))
check("py.rt_sampled", "gauge", summary([100, 300], weight=2))
check("py.visitors", "gauge", {"value": 3})
check("py.piped", "counter", {"value": 10})
check("pytcp.hits", "counter", {"value": 100})
check("pytcp.temp", "gauge", {"value": 3.5})
check("pytcp.rt", "gauge", summary([7]))
check("pytcp.visitors", "gauge", {"value": 1})
check("pytcp.piped", "counter", {"value": 5})
for proto in ("udp", "tcp"):
    g = {"client": "hotshots", "proto": proto}
    check("hs.requests", "counter", {"value": 4}, route="/a", code="200", **g)
    if proto == "udp":
        check("hs.requests", "counter", {"value": 6}, route="/b", canary="true", **g)
    else:
        check("hs.requests", "counter", {"value": 6}, route="/b", **g)
    check("hs.queue", "gauge", {"value": 12}, **g)
    check("hs.latency", "gauge", summary([100, 200, 300, 400]), **g)
    check("hs.size", "gauge", summary([7]), **g)
    check("hs.dist", "gauge", summary([9]), **g)
    check("hs.users", "gauge", {"value": 2}, **g)
assert not evs, f"unexpected events: {evs}"
print("every event as sent")
PY
grep -q "parse_errors 0, unsupported 0, udp_dropped 0, series_refused 0" "$T/sluice.log" ||
    fail "counters: $(grep received "$T/sluice.log")"
pass "python3-statsd (UDP, TCP) and hot-shots (DogStatsD tags over UDP, Telegraf tags over TCP): every field"

# ---- A garbage flood with 1,000 valid increments among 100,000 bad lines,
# flushed every 200 ms; then a slow TCP client holding half a line while a
# UDP sender goes on.
rm -f "$T/out.json"
cat >"$T/flood.yaml" <<YAML
service: {flush_interval: 50ms, http: off}
pipelines:
  it:
    inputs:
      - type: statsd
        listen: [udp://127.0.0.1:$UDP, tcp://127.0.0.1:$TCP]
        flush_interval: 200ms
    outputs: [{type: file, path: $T/out.json}]
YAML
start_sluice -c "$T/flood.yaml"
wait_for 10 grep -q "listening on tcp" "$T/sluice.log" || fail "not listening (flood)"
$PY - "$UDP" >"$T/flood.json" <<'PY' || fail "flood sender"
import json, random, socket, sys, time
rnd = random.Random(7)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
addr = ("127.0.0.1", int(sys.argv[1]))
alphabet = bytes(b for b in range(256) if b not in b":\n\r_")
bad_forms = [b"x:abc|c", b"x:1|zz", b"x:1", b"x:1|c|@2", b":1|c", b"x,tag:1|c", b"x:1|c|#a:1|#b:2"]
lines, bad, unsupported, good = [], 0, 0, 0
for i in range(100000):
    r = rnd.random()
    if r < 0.8:   # random bytes without ':' (never a metric), never empty
        lines.append(bytes(rnd.choice(alphabet) for _ in range(rnd.randint(1, 60))))
        bad += 1
    elif r < 0.98:
        lines.append(rnd.choice(bad_forms))
        bad += 1
    else:
        lines.append(b"_e{1,1}:a|b" if r < 0.99 else b"_sc|svc|0")
        unsupported += 1
    if i % 100 == 0:
        lines.append(b"flood.ok:1|c")
        good += 1
sent, dgram = 0, []
for l in lines:
    if sum(len(x) + 1 for x in dgram) + len(l) > 1400:
        s.sendto(b"\n".join(dgram), addr)
        sent += 1
        dgram = []
        if sent % 50 == 0:
            time.sleep(0.002)
    dgram.append(l)
s.sendto(b"\n".join(dgram), addr)
print(json.dumps({"bad": bad, "unsupported": unsupported, "good": good, "lines": len(lines)}))
PY

# The slow client: half a line, held while 200 UDP increments go through.
exec 7<>"/dev/tcp/127.0.0.1/$TCP"
printf 'slow.half:1|' >&7
$PY -c "
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(200):
    s.sendto(b'udp.during:1|c', ('127.0.0.1', $UDP))
"
during() {
    grep '"udp.during"' "$T/out.json" 2>/dev/null | tail -1 | grep -q '"value":200}'
}
wait_for 10 during || fail "a UDP sender stalled behind a slow TCP client: $(grep udp.during "$T/out.json" | tail -1)"
printf 'c\n' >&7
exec 7>&-
wait_for 10 grep -q '"slow.half"' "$T/out.json" || fail "the slow client's line"
sleep 0.3
stop_sluice || fail "exit code $?"

$PY - "$T/out.json" "$T/flood.json" "$T/sluice.log" <<'PY' || fail "flood"
import json, re, sys
want = json.load(open(sys.argv[2]))
last, ok_events = {}, []
for line in open(sys.argv[1]):
    e = json.loads(line)
    last[e["name"]] = e
    if e["name"] == "flood.ok":
        ok_events.append(e["fields"]["value"])
names = set(last)
assert names == {"flood.ok", "udp.during", "slow.half"}, names
assert ok_events and ok_events[-1] == want["good"] == 1000, ok_events
assert ok_events == sorted(ok_events), f"a cumulative counter went down: {ok_events}"
assert last["udp.during"]["fields"] == {"value": 200}, last["udp.during"]
assert last["slow.half"]["fields"] == {"value": 1}, last["slow.half"]
assert all(e["kind"] == "counter" and e["tags"] == {} for e in last.values())
log = open(sys.argv[3]).read()
m = re.search(r"received (\d+) lines \(\d+ datagrams\); parse_errors (\d+), unsupported (\d+), "
              r"udp_dropped (\d+)", log)
assert m, "no counters in the log"
lines, bad, unsupported, dropped = map(int, m.groups())
assert dropped == 0, f"{dropped} datagrams dropped by the kernel"
assert bad == want["bad"], f"parse_errors {bad}, sent {want['bad']}"
assert unsupported == want["unsupported"], f"unsupported {unsupported}, sent {want['unsupported']}"
assert lines == want["lines"] + 200 + 1, f"lines {lines}"
warns = re.findall(r"udp://127\.0\.0\.1:\d+: a line from 127\.0\.0\.1:\d+ does not parse: "
                   r"(.*); skipped \((\d+) so far", log)
assert 1 <= len(warns) <= 3, f"{len(warns)} parse warnings: rate limit"
assert warns[0][1] == "1", warns[0]
print(f"{want['good']} valid among {want['bad']} bad and {want['unsupported']} unsupported lines: "
      f"all counted; {len(warns)} warning(s)")
PY
pass "garbage flood: 1000 valid increments counted exactly, parse_errors and unsupported exact; a slow TCP client does not stall UDP"
