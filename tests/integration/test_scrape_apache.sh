#!/usr/bin/env bash
# Metrics scraped from an Apache access log: a generated log of known
# content ("combined" plus %D, the latency in microseconds, and a few lines
# that are not access-log lines at all) is tailed, parsed by the regex
# filter's %{apache_combined} and turned by log_to_metrics into a counter of
# requests by status and method, a sum of bytes by status, a latency
# histogram and a gauge, sent to another pipeline's file output. Every
# count, sum and bucket must be exact, the logs all delivered, the
# malformed lines kept and tagged.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/logs"
python3 - "$T/logs/access.log" "$T/expected.json" <<'PY'
import json, random, sys
rnd = random.Random(7)
buckets = [5000, 10000, 50000, 100000, 500000, 1000000]
req, byts, hist, last = {}, {}, {"count": 0, "sum": 0, "b": [0] * (len(buckets) + 1)}, None
with open(sys.argv[1], "w") as f:
    for i in range(5000):
        if i % 500 == 250:
            f.write(f"malformed line {i} with no request in it\n")
            continue
        status = rnd.choice([200, 200, 200, 201, 301, 304, 404, 500, 503])
        method = rnd.choice(["GET", "GET", "POST", "PUT", "DELETE"])
        size = "-" if status == 304 else str(rnd.randint(0, 500000))
        lat = rnd.choice([rnd.randint(100, 5000), rnd.randint(5001, 200000), rnd.randint(200001, 3000000)])
        agent = rnd.choice(['Mozilla/5.0 (X11; Linux x86_64) \\"quoted\\"', "curl/7.88.1", "-"])
        f.write(f'10.0.{i % 256}.{i % 7} - - [26/Nov/2026:10:{i // 100 % 60:02d}:{i % 60:02d} +0100] '
                f'"{method} /api/v1/items/{i}?q=a%20b HTTP/1.1" {status} {size} '
                f'"https://example.com/ref" "{agent}" {lat}\n')
        req[(str(status), method)] = req.get((str(status), method), 0) + 1
        if size != "-":
            byts[str(status)] = byts.get(str(status), 0) + int(size)
        hist["count"] += 1
        hist["sum"] += lat
        hist["b"][next((k for k, b in enumerate(buckets) if lat <= b), len(buckets))] += 1
        last = lat
json.dump({"req": [[s, m, n] for (s, m), n in req.items()], "bytes": byts, "hist": hist,
           "buckets": buckets, "last": last}, open(sys.argv[2], "w"))
PY

cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 100ms, http: off, storage: {path: $T/state}}
pipelines:
  access:
    inputs: [{type: tail, path: ["$T/logs/*.log"], read_from_head: true}]
    filters:
      - type: regex
        pattern: '%{apache_combined} (?<latency_us>\d+)$'
        types: {latency_us: int}
        on_no_match: tag
      - type: log_to_metrics
        emit_to: scraped
        interval: 1h
        metrics:
          - {name: http_requests_total, type: counter, labels: [status, method], when: {status: '^\d{3}$'}}
          - {name: http_response_bytes_total, type: counter, field: bytes, labels: [status]}
          - name: http_request_duration_microseconds
            type: histogram
            field: latency_us
            buckets: [5000, 10000, 50000, 100000, 500000, 1000000]
          - {name: http_last_latency_microseconds, type: gauge, field: latency_us}
    outputs: [{type: file, path: $T/logs.json}]
  scraped:
    outputs: [{type: file, path: $T/metrics.json}]
YAML
start_sluice -c "$T/sluice.yaml"
wait_for 30 lines_at_least "$T/logs.json" 5000 || fail "logs: $(line_count "$T/logs.json") of 5000"
stop_sluice || fail "exit code $?"

python3 - "$T" <<'PY' || fail "scraped metrics differ"
import json, sys
t = sys.argv[1]
exp = json.load(open(f"{t}/expected.json"))
logs = [json.loads(l) for l in open(f"{t}/logs.json")]
assert len(logs) == 5000, len(logs)
bad = [l for l in logs if l.get("regex_no_match")]
assert len(bad) == 10 and all(l["message"].startswith("malformed line") for l in bad), bad[:2]
ok = [l for l in logs if not l.get("regex_no_match")]
assert ok[0]["time"] == "2026-11-26T09:00:00.000000000Z", ok[0]["time"]
assert all("bytes" not in l for l in ok if l["status"] == 304)
assert any(l["agent"].endswith('\\"quoted\\"') for l in ok)

ms = [json.loads(l) for l in open(f"{t}/metrics.json")]
by = {}
for m in ms:
    key = (m["name"], tuple(sorted(m["tags"].items())))
    assert key not in by, f"series twice: {key}"  # interval is 1h: one emission, at stop
    by[key] = m
req = {k[1]: m["fields"]["value"] for k, m in by.items() if k[0] == "http_requests_total"}
want = {tuple(sorted({"status": s, "method": me}.items())): n for s, me, n in exp["req"]}
assert req == want, (req, want)
assert sum(req.values()) == 4990
byts = {dict(k[1])["status"]: m["fields"]["value"] for k, m in by.items() if k[0] == "http_response_bytes_total"}
assert byts == {s: float(v) for s, v in exp["bytes"].items()}, (byts, exp["bytes"])
h = by[("http_request_duration_microseconds", ())]
assert h["kind"] == "histogram"
f = h["fields"]
assert f["count"] == exp["hist"]["count"] == 4990 and f["sum"] == exp["hist"]["sum"], f
cum = 0
for b, n in zip(exp["buckets"] + ["+Inf"], exp["hist"]["b"]):
    cum += n
    assert f[f"bucket_{b}"] == cum, (b, f[f"bucket_{b}"], cum)
assert by[("http_last_latency_microseconds", ())]["fields"]["value"] == exp["last"]
print(f"{len(ms)} series exact; {len(req)} request counters; histogram {f['count']} observations")
PY
pass "apache log scraped into exact counters, sums, histogram buckets and a gauge"
