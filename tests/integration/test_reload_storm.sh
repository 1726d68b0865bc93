#!/usr/bin/env bash
# Hot reload under fire. tail, syslog over TCP and dummy feed three
# outputs: a file with a filesystem buffer (in every version), an http
# output whose server is down (retrying all along) and a third that the two
# configuration versions swap: version 1 has file output c; version 2 adds
# a modify filter and file output d, removes c, and changes the syslog
# listener's source_key (the socket and its connection stay). 50 SIGHUPs
# alternate the versions while events flow. Then:
#   - every tail line, syslog message and dummy seq is in the kept output
#     exactly once, and in c and d at most once each;
#   - sluice never stopped, and the configuration in force is the last one
#     sent (GET /api/v1/reload, /api/v1/pipelines);
#   - a configuration with an error is refused with its file:line:col,
#     shown by GET /api/v1/reload, and the running one keeps running.
. "$(dirname "$0")/lib.sh"

HTTP=$(free_port)
SYSLOG=$(free_port)
DOWN=$(free_port)
mkdir -p "$T/logs"
: >"$T/logs/app.log"

version() { # N
    local c_or_d filter="" source_key="source_key: peer"
    if [ "$1" = 1 ]; then
        c_or_d="{type: file, id: c, path: $T/c.jsonl}"
    else
        c_or_d="{type: file, id: d, path: $T/d.jsonl}"
        filter="filters: [{type: modify, add: {version: two}}]"
        source_key="source_key: sender"
    fi
    cat <<YAML
service: {flush_interval: 100ms, grace: 2s, http: {listen: 127.0.0.1:$HTTP}, storage: {path: $T/state}}
pipelines:
  main:
    inputs:
      - {type: tail, id: tail, path: ["$T/logs/app.log"], read_from_head: true}
      - {type: syslog, id: syslog, listen: ["tcp://127.0.0.1:$SYSLOG"], $source_key}
      - {type: dummy, id: dummy, rate: 200, record: {message: dummy}}
    $filter
    outputs:
      - {type: file, id: kept, path: $T/kept.jsonl, buffer: {type: filesystem}}
      - type: http
        id: down
        url: http://127.0.0.1:$DOWN/ingest
        buffer: {max_memory: 64MiB}
        retry: {initial_backoff: 100ms, max_backoff: 500ms}
      - $c_or_d
YAML
}
install_version() { # N: replace the file at once, as an operator's tool does
    version "$1" >"$T/next.yaml"
    mv "$T/next.yaml" "$T/sluice.yaml"
}
reload_status() {
    curl -fs "http://127.0.0.1:$HTTP/api/v1/reload"
}

install_version 1
start_sluice -c "$T/sluice.yaml"
wait_for 10 curl -fs -o /dev/null "http://127.0.0.1:$HTTP/health" || fail "sluice did not start"

python3 "$SLUICE_SOURCE_DIR/tests/integration/log_writer.py" "$T/logs/app.log" --rate 400 \
    --count 1000000 --done "$T/written" &
WRITER=$!
PIDS+=($WRITER)
# One TCP connection for the whole test: a reload must not close it.
python3 - "$SYSLOG" "$T/syslog.sent" "$T/stop" <<'PY' &
import os, socket, sys, time
port, sent_path, stop = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.create_connection(("127.0.0.1", port))
n = 0
deadline = time.time() + 600
try:
    while time.time() < deadline and not os.path.exists(stop):
        for _ in range(4):
            s.sendall(b"<14>1 - host app - - - syslog %d\n" % n)
            n += 1
        time.sleep(0.01)
except (BrokenPipeError, ConnectionResetError) as e:
    open(sent_path + ".error", "w").write(str(e))
finally:
    open(sent_path, "w").write(str(n))
PY
SENDER=$!
PIDS+=($SENDER)
wait_for 10 lines_at_least "$T/kept.jsonl" 200 || fail "nothing delivered before the reloads"

for i in $(seq 1 50); do
    install_version $(((i % 2) + 1))
    kill -HUP "$SLUICE_PID"
    sleep 0.2
    kill -0 "$SLUICE_PID" 2>/dev/null || fail "sluice died after SIGHUP $i"
done
# The 50th sent version 1: wait until the last reload has run.
wait_for 10 sh -c "curl -fs http://127.0.0.1:$HTTP/api/v1/pipelines | grep -q '\"c\"'" ||
    fail "version 1 is not in force after the last SIGHUP"
# What the reloads stopped is freed as it finishes, not kept until exit.
wait_for 10 sh -c "curl -fs http://127.0.0.1:$HTTP/api/v1/reload |
    grep -q '\"draining_outputs\":0,\"stopped_instances\":0'" ||
    fail "stopped instances are kept: $(reload_status)"
sleep 1
kill -TERM "$WRITER"
touch "$T/stop"
wait "$WRITER" 2>/dev/null
wait "$SENDER" 2>/dev/null
[ -e "$T/syslog.sent.error" ] && fail "the syslog connection broke: $(cat "$T/syslog.sent.error")"
LINES=$(line_count "$T/logs/app.log")
SENT=$(cat "$T/syslog.sent")
reload_status >"$T/status.json" || fail "GET /api/v1/reload"
curl -fs "http://127.0.0.1:$HTTP/api/v1/pipelines" >"$T/pipelines.json" || fail "GET /api/v1/pipelines"

# A configuration with an error: refused with its place; the old one runs on.
install_version 1
sed -i 's/type: modify/type: modfy/; s/{type: file, id: c,/{type: flie, id: c,/' "$T/sluice.yaml"
bad_line=$(grep -n 'type: flie' "$T/sluice.yaml" | cut -d: -f1)
before=$(line_count "$T/kept.jsonl")
kill -HUP "$SLUICE_PID"
wait_for 10 sh -c "curl -fs http://127.0.0.1:$HTTP/api/v1/reload | grep -q refused" ||
    fail "the bad configuration was not refused: $(reload_status)"
reload_status >"$T/refused.json"
wait_for 10 lines_at_least "$T/kept.jsonl" $((before + 100)) || fail "events stopped after the refused reload"

install_version 1
kill -HUP "$SLUICE_PID"
total=$((LINES + SENT))
stop_sluice || fail "exit code $?"

python3 - "$T" "$LINES" "$SENT" "$bad_line" "$(cd "$T" && pwd)/sluice.yaml" <<'PY' || fail "counts"
import collections, json, re, sys
t, lines, sent, bad_line, cfg_path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]

def load(name):
    try:
        return [json.loads(l) for l in open(f"{t}/{name}")]
    except FileNotFoundError:
        return []

def keys(events):
    out = []
    for e in events:
        m = e.get("message", "")
        if "seq" in e and m == "dummy":
            out.append(("dummy", e["seq"]))
        elif m.startswith("syslog "):
            out.append(("syslog", int(m.split()[1])))
        elif m.startswith("line "):
            out.append(("tail", int(m.split()[1])))
        else:
            raise AssertionError(f"unexpected event {e}")
    return out

kept = keys(load("kept.jsonl"))
count = collections.Counter(kept)
dups = [k for k, n in count.items() if n > 1]
assert not dups, f"{len(dups)} events twice in the kept output, e.g. {dups[:5]}"
tail = {n for s, n in count if s == "tail"}
syslog = {n for s, n in count if s == "syslog"}
dummy = {n for s, n in count if s == "dummy"}
assert tail == set(range(lines)), f"tail: {len(tail)} of {lines} lines"
assert syslog == set(range(sent)), f"syslog: {len(syslog)} of {sent} messages"
assert dummy == set(range(len(dummy))), f"dummy seqs not contiguous: {len(dummy)}, max {max(dummy)}"
for name in ("c.jsonl", "d.jsonl"):
    c = collections.Counter(keys(load(name)))
    twice = [k for k, n in c.items() if n > 1]
    assert not twice, f"{name}: {len(twice)} events twice"
    assert c, f"{name}: nothing delivered"
d = load("d.jsonl")
assert all(e.get("version") == "two" for e in d), "d got an event without the filter"
assert any(e.get("sender") for e in d) and any(e.get("peer") for e in load("c.jsonl")), \
    "the syslog listener's new source_key was not applied"

st = json.load(open(f"{t}/status.json"))
assert st["last"]["result"] == "ok", st
assert st["reloads"] >= 10 and st["failures"] == 0, st
pl = json.load(open(f"{t}/pipelines.json"))
ids = [o["id"] for p in pl["pipelines"] for o in p["outputs"]]
filters = [f["plugin"] for p in pl["pipelines"] for f in p["filters"]]
assert ids == ["kept", "down", "c"] and filters == [], (ids, filters)

bad = json.load(open(f"{t}/refused.json"))
assert bad["last"]["result"] == "refused" and bad["failures"] == 1, bad
errs = bad["last"]["errors"]
want = f"{cfg_path}:{bad_line}:"
assert any(e.startswith(want) and "flie" in e for e in errs), (want, errs)
print(f"{st['reloads']} reloads for 50 SIGHUPs; kept output: {lines} tail lines, {sent} syslog "
      f"messages, {len(dummy)} dummy events, each once; c and d: no duplicates")
print(f"refused: {errs[0]}")
PY
grep -q "the running one stays in force" "$T/sluice.log" || fail "the refusal was not logged"
pass "50 SIGHUPs alternating two versions while tail, syslog TCP and dummy flowed: every event once, the last version in force; a bad configuration refused with its place, the old one running"
