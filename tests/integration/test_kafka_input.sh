#!/usr/bin/env bash
# The kafka input on its own, on librdkafka's mock cluster, with messages
# from another producer (kcat):
#   1. foreign messages: JSON objects, JSON that is not an object, bad JSON,
#      and a message with sluice's headers, read with format json, raw and
#      msgpack — each becomes exactly the event the contract says, bad
#      values kept with parse_error: true and counted, nothing dropped;
#      with topic_key, partition_key, offset_key, key_field and headers_key,
#      log events carry the message's metadata, metric events do not;
#   2. backpressure: 20,000 messages into an http output whose server
#      answers 503. The input pauses its partitions (it stops reading: the
#      messages read stay well under 20,000 while the lag stays) and, once
#      the server answers, every message arrives exactly once;
#   3. rebalances (cooperative-sticky): a consumer joining the group and
#      leaving it makes nothing read twice, nothing skipped.
. "$(dirname "$0")/lib.sh"

start_mock_kafka 1
printf 'topic ext 1\ntopic bp 3\ntopic meta 1\n' >&7
wait_for 10 lines_at_least "$T/mock.out" 3 || fail "mock: no answer"
[ "$(sort -u "$T/mock.out")" = ok ] || fail "mock: $(cat "$T/mock.out")"

# ---- 1. Foreign messages.
before=$(date +%s)
printf '%s\n' '{"a":1,"b":"x"}' '[1,2]' '42' 'not json {' '{"nested":{"k":[true,null]}}' |
    kcat -P -b "$BROKERS" -t ext || fail "kcat"
printf '%s\n' '{"name":"m","kind":"gauge","tags":{},"fields":{"value":1.5}}' |
    kcat -P -b "$BROKERS" -t ext -H sluice.kind=metric -H sluice.time=1796188362341000123 || fail "kcat"
printf '%s\n' 'k1:{"c":3,"topic":"mine"}' 'k2:oops' |
    kcat -P -b "$BROKERS" -t meta -K: -H trace=abc -H trace=def || fail "kcat"
printf '%s\n' '{"d":4}' | kcat -P -b "$BROKERS" -t meta || fail "kcat"
printf '%s\n' '{"name":"m","kind":"gauge","tags":{},"fields":{"value":2}}' |
    kcat -P -b "$BROKERS" -t meta -H sluice.kind=metric || fail "kcat"
MPORT=$(free_port)
cat >"$T/foreign.yaml" <<YAML
service: {flush_interval: 100ms, http: {listen: 127.0.0.1:$MPORT}, storage: {path: $T/state}}
pipelines:
  json:
    inputs: [{type: kafka, brokers: ["$BROKERS"], group_id: j, topics: [ext], format: json}]
    outputs: [{type: file, path: $T/json.out, time_key: time}]
  raw:
    inputs: [{type: kafka, brokers: ["$BROKERS"], group_id: r, topics: ["^e.t\$"], format: raw}]
    outputs: [{type: file, path: $T/raw.out}]
  mpk:
    inputs: [{type: kafka, brokers: ["$BROKERS"], group_id: m, topics: [ext], format: msgpack}]
    outputs: [{type: file, path: $T/mpk.out}]
  meta:
    inputs:
      - {type: kafka, brokers: ["$BROKERS"], group_id: md, topics: [meta], topic_key: topic,
         partition_key: partition, offset_key: offset, key_field: key, headers_key: headers}
    outputs: [{type: file, path: $T/meta.out}]
YAML
start_sluice -c "$T/foreign.yaml"
all6() { lines_at_least "$T/json.out" 6 && lines_at_least "$T/raw.out" 6 && lines_at_least "$T/mpk.out" 6 &&
    lines_at_least "$T/meta.out" 4; }
wait_for 30 all6 || fail "read $(line_count "$T/json.out"), $(line_count "$T/raw.out"), $(line_count "$T/mpk.out") of 6"
metric() { curl -fs "http://127.0.0.1:$MPORT/metrics" | awk -v m="$1" -v id="$2" '$1 ~ "^"m"[{]" && $1 ~ "id=\""id"\"" {print $2}'; }
pe_json=$(metric sluice_input_kafka_parse_errors_total json.kafka.0)
pe_mpk=$(metric sluice_input_kafka_parse_errors_total mpk.kafka.0)
msgs=$(metric sluice_input_kafka_messages_total raw.kafka.0)
stop_sluice || fail "exit code $?"
PYTHONPATH=$SLUICE_SOURCE_DIR/tests/integration python3 - "$T" "$before" "$pe_json" "$pe_mpk" "$msgs" <<'PY' || fail "foreign messages"
import json, sys, datetime
t, before = sys.argv[1], int(sys.argv[2])
pe_json, pe_mpk, msgs = (float(x) for x in sys.argv[3:6])
def load(name):
    out = []
    for line in open(f"{t}/{name}.out"):
        e = json.loads(line)
        ts = e.pop("time")
        out.append((ts, e))
    return out
j = load("json")
assert [e for _, e in j] == [
    {"a": 1, "b": "x"},
    {"message": "[1,2]"},
    {"message": "42"},
    {"message": "not json {", "parse_error": True},
    {"nested": {"k": [True, None]}},
    {"name": "m", "kind": "gauge", "tags": {}, "fields": {"value": 1.5}},
], j
assert j[5][0] == "2026-12-02T05:12:42.341000123Z", j[5][0]
for ts, _ in j[:5]:
    sec = datetime.datetime.fromisoformat(ts[:19]).replace(tzinfo=datetime.timezone.utc).timestamp()
    assert before - 2 <= sec <= before + 30, f"CreateTime {ts}, produced at {before}"
r = [e for _, e in load("raw")]
assert [e["message"] for e in r][:5] == ['{"a":1,"b":"x"}', "[1,2]", "42", "not json {",
                                         '{"nested":{"k":[true,null]}}'], r
assert all(set(e) == {"message"} for e in r), r
m = [e for _, e in load("mpk")]
assert all(e.get("parse_error") is True for e in m) and len(m) == 6, m
assert (pe_json, pe_mpk, msgs) == (1, 6, 6), (pe_json, pe_mpk, msgs)
import jsonl
md = jsonl.read(f"{t}/meta.out")
for e in md:
    e.pop("time")
hdr = {"trace": "def"}  # a map: the last of a repeated header wins
assert md == [
    {"c": 3, "topic": "meta", "partition": 0, "offset": 0, "key": "k1", "headers": hdr},
    {"message": "oops", "parse_error": True, "topic": "meta", "partition": 0, "offset": 1,
     "key": "k2", "headers": hdr},
    {"d": 4, "topic": "meta", "partition": 0, "offset": 2},
    {"name": "m", "kind": "gauge", "tags": {}, "fields": {"value": 2}},
], md
print("foreign messages: json, raw and msgpack as the contract says; parse errors 1 and 6; "
      "topic, partition, offset, key and headers on log events only")
PY

# ---- 2. Backpressure.
N=20000
python3 -c "
import sys
for i in range($N):
    print('{\"seq\": %d, \"message\": \"backpressure test event with some text to fill the buffer\"}' % i)
" | kcat -P -b "$BROKERS" -t bp -z lz4 || fail "kcat"
PORT=$(free_port)
start_http_server "$PORT" status:503
MPORT=$(free_port)
cat >"$T/bp.yaml" <<YAML
service: {flush_interval: 100ms, chunk_size: 16KiB, grace: 20s,
          http: {listen: 127.0.0.1:$MPORT}, storage: {path: $T/state}}
pipelines:
  bp:
    inputs: [{type: kafka, brokers: ["$BROKERS"], group_id: bp, topics: [bp], batch_size: 100}]
    outputs:
      - type: http
        url: http://127.0.0.1:$PORT/ingest
        buffer: {type: memory, max_memory: 256KiB}
        retry: {initial_backoff: 100ms, max_backoff: 300ms}
YAML
start_sluice -c "$T/bp.yaml"
paused() { [ "$(metric sluice_input_paused bp.kafka.0)" = 1 ]; }
wait_for 30 paused || fail "the input did not pause"
sleep 1
read1=$(metric sluice_input_kafka_messages_total bp.kafka.0)
sleep 1.5
read2=$(metric sluice_input_kafka_messages_total bp.kafka.0)
lag=$(metric sluice_input_kafka_lag_messages bp.kafka.0)
unacked=$(metric sluice_input_kafka_unacked_messages bp.kafka.0)
[ "$read1" = "$read2" ] || fail "read on while paused: $read1 then $read2"
[ "${read2%.*}" -lt $((N / 2)) ] || fail "read $read2 of $N while the output was down"
[ "${lag%.*}" -gt 0 ] || fail "lag $lag while paused"
[ "${unacked%.*}" -eq "${read2%.*}" ] || fail "$unacked unacknowledged of $read2 read, none delivered"
echo "paused: $read2 of $N read, lag $lag, $unacked unacknowledged"
http_control "$PORT" '{"mode": "ok"}'
wait_for 60 http_events_at_least "$PORT" $N || fail "only $(http_events "$PORT") of $N delivered"
wait_for 10 eval '[ "$(metric sluice_input_kafka_unacked_messages bp.kafka.0)" = 0 ]' ||
    fail "$(metric sluice_input_kafka_unacked_messages bp.kafka.0) still unacknowledged"
stop_sluice || fail "exit code $?"
http_stats "$PORT" | python3 -c "
import json, sys
seqs = json.load(sys.stdin)['by_run']['0']
assert sorted(seqs) == list(range($N)), f'{len(seqs)} events, {len(set(seqs))} distinct of $N'
" || fail "events"

# ---- 3. Rebalances: a second consumer joins (cooperative-sticky: it takes
# 3 of the 6 partitions) and leaves once what it read is acknowledged;
# nothing may be read twice or skipped. (The mock cluster refuses commits
# while its group rebalances, which a real broker accepts from the current
# generation: the acknowledged offsets are committed before each change.)
echo "topic rb 6" >&7
wait_for 10 lines_at_least "$T/mock.out" 3 || fail "mock: no answer"
produce() { # FROM TO; keyed by seq, since keyless messages stick to one
    # partition at a time and could all land on one consumer's
    seq "$1" "$2" | sed 's/.*/&:{"seq": &}/' | kcat -P -K: -b "$BROKERS" -t rb || fail "kcat"
}
for c in a b; do
    cat >"$T/rb-$c.yaml" <<YAML
service: {flush_interval: 100ms, http: off, storage: {path: $T/state-$c}}
pipelines:
  rb:
    inputs:
      - type: kafka
        brokers: ["$BROKERS"]
        group_id: rb
        topics: [rb]
        rdkafka: {auto.commit.interval.ms: 500, session.timeout.ms: 3000,
                  heartbeat.interval.ms: 300, partition.assignment.strategy: cooperative-sticky}
    outputs: [{type: file, path: $T/rb-$c.out}]
YAML
done
consumer() { # a|b
    "$SLUICE_BIN" -c "$T/rb-$1.yaml" >>"$T/rb-$1.log" 2>&1 &
    PIDS+=($!)
    printf -v "rb_$1" %s $!
}
total() { [ $(($(line_count "$T/rb-a.out") + $(line_count "$T/rb-b.out"))) -ge "$1" ]; }
produce 0 599
consumer a
wait_for 30 total 600 || fail "consumer a read $(line_count "$T/rb-a.out") of 600"
sleep 1.5
consumer b
wait_for 30 grep -q "assigned 3 partitions" "$T/rb-b.log" || fail "consumer b got no partitions"
wait_for 10 grep -q "revoked 3 partitions" "$T/rb-a.log" || fail "consumer a gave none up"
produce 600 1199
wait_for 30 total 1200 || fail "read $(line_count "$T/rb-a.out") + $(line_count "$T/rb-b.out") of 1200"
sleep 1.5
kill -TERM "$rb_b"
wait "$rb_b" || fail "consumer b exit code $?"
wait_for 30 grep -q "assigned 3 partitions" "$T/rb-a.log" || fail "consumer a did not take b's partitions back"
produce 1200 1799
wait_for 30 total 1800 || fail "read $(line_count "$T/rb-a.out") + $(line_count "$T/rb-b.out") of 1800"
sleep 1
kill -TERM "$rb_a"
wait "$rb_a" || fail "consumer a exit code $?"
python3 - "$T" <<'PY' || fail "rebalance"
import json, sys
t = sys.argv[1]
seqs = {c: [json.loads(l)["seq"] for l in open(f"{t}/rb-{c}.out")] for c in "ab"}
every = sorted(seqs["a"] + seqs["b"])
assert every == list(range(1800)), \
    f"{len(every)} read, {len(set(every))} distinct of 1800 (a {len(seqs['a'])}, b {len(seqs['b'])})"
assert 0 < len(seqs["b"]) < 1200, len(seqs["b"])
print(f"rebalances: 1800 messages read once (a {len(seqs['a'])}, b {len(seqs['b'])})")
PY
pass "foreign messages kept as the contract says; backpressure pauses the partitions, loses nothing; a rebalance reads nothing twice"
