#!/usr/bin/env bash
# influxdb output, api v2 (/api/v2/write with org, bucket, token, precision),
# against a real VictoriaMetrics, which accepts that API: metric events and
# log events as points, read back with /api/v1/export, where each field is
# a series <measurement>_<field> labelled with the tags. Values, labels and
# millisecond timestamps exact.
. "$(dirname "$0")/lib.sh"

start_victoriametrics
cat >"$T/metrics.sh" <<'SH'
now=$(date +%s)
printf 'disk,host=web-1,mount=/var used=12.5,inodes=42i %s000000000\n' "$now"
printf 'disk,host=web-2,mount=/ used=99,inodes=7i %s500000000\n' "$now"
SH
cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 100ms, http: off, storage: {path: $T/state}}
pipelines:
  metrics:
    inputs: [{type: exec, command: [sh, $T/metrics.sh], format: influx, oneshot: true}]
    outputs:
      - {type: influxdb, api: v2, url: "http://127.0.0.1:$VM_PORT", org: acme, bucket: ops,
         token: secret, precision: ms, compress: gzip}
      - {type: file, path: $T/metrics.json}
  logs:
    inputs: [{type: dummy, count: 1, rate: 0, record: {message: hello, status: 503, app: shop}}]
    outputs:
      - {type: influxdb, api: v2, url: "http://127.0.0.1:$VM_PORT", org: acme, bucket: ops,
         measurement: access, tag_keys: [app], precision: ms}
      - {type: file, path: $T/logs.json}
YAML
start_sluice -c "$T/sluice.yaml"
wait_for 20 lines_at_least "$T/metrics.json" 2 || fail "metrics file"
wait_for 20 lines_at_least "$T/logs.json" 1 || fail "logs file"
sleep 0.5
stop_sluice || fail "exit code $?"
grep -q "metrics.influxdb.0: 2 points written, 0 refused" "$T/sluice.log" || fail "metric points not written"
grep -q "logs.influxdb.0: 1 points written, 0 refused" "$T/sluice.log" || fail "log point not written"
curl -fs "http://127.0.0.1:$VM_PORT/internal/force_flush" >/dev/null
sleep 1
curl -fs "http://127.0.0.1:$VM_PORT/api/v1/export" --data-urlencode 'match[]={__name__=~"disk_.+|access_.+"}' >"$T/export.jsonl"
stop_victoriametrics
python3 - "$T" <<'PY' || fail "exported series"
import datetime, json, sys
t = sys.argv[1]
series = {}
for l in open(f"{t}/export.jsonl"):
    s = json.loads(l)
    m = dict(s["metric"])
    name = m.pop("__name__")
    m.pop("db", None)  # VictoriaMetrics labels v2 writes with the bucket
    series[(name, tuple(sorted(m.items())))] = list(zip(s["timestamps"], s["values"]))
def ms(line):
    s = json.loads(line)["time"]
    d = datetime.datetime.strptime(s[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return int(d.timestamp()) * 1000 + int(s[20:23])
mt = [ms(l) for l in open(f"{t}/metrics.json")]
lt = ms(open(f"{t}/logs.json").readline())
want = {
    ("disk_used", (("host", "web-1"), ("mount", "/var"))): [(mt[0], 12.5)],
    ("disk_inodes", (("host", "web-1"), ("mount", "/var"))): [(mt[0], 42)],
    ("disk_used", (("host", "web-2"), ("mount", "/"))): [(mt[1], 99)],
    ("disk_inodes", (("host", "web-2"), ("mount", "/"))): [(mt[1], 7)],
    ("access_status", (("app", "shop"),)): [(lt, 503)],
    ("access_seq", (("app", "shop"),)): [(lt, 0)],
    # VictoriaMetrics keeps numbers only: a string field becomes 0.
    ("access_message", (("app", "shop"),)): [(lt, 0)],
}
assert series == want, (series, want)
print(f"{len(series)} series exact in VictoriaMetrics")
PY
pass "api v2 into VictoriaMetrics: values, labels and millisecond timestamps exact"
