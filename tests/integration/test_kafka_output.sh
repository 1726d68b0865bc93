#!/usr/bin/env bash
# The kafka output against librdkafka's mock cluster (tests/kafka/mock_kafka,
# three brokers), read back with kcat: every event once, with its kind and
# time in headers and its key; a broker down for 3 s and injected produce
# errors lose nothing and duplicate nothing (idempotent producer); a full
# librdkafka queue is backpressure, not a loss; a message too large for
# the brokers goes to the dead letters with librdkafka's error name.
. "$(dirname "$0")/lib.sh"
command -v kcat >/dev/null || fail "kcat is not installed (.ci/run installs it)"
start_mock_kafka 3
BS=$BROKERS
mock() { echo "$*" >&7; }
mock topic logs 3
mock topic big 1

# consume TOPIC: every message as a JSON line with its headers and key.
consume() {
    kcat -C -b "$BS" -t "$1" -o beginning -e -q -f '%k\t%h\t%s\n' 2>/dev/null
}

run_sluice() { # CONFIG_BODY: dummy → kafka, exits once every event is delivered
    cat >"$T/sluice.yaml"
    "$SLUICE_BIN" -c "$T/sluice.yaml" --once >"$T/sluice.out" 2>"$T/sluice.log" &
    SLUICE_PID=$!
    PIDS+=("$SLUICE_PID")
}

# ---- 20,000 events; broker 1 down for 3 s, then 5 injected produce errors
run_sluice <<YAML
service: {flush_interval: 100ms, http: off, storage: {path: $T/state}}
pipelines:
  p:
    inputs: [{type: dummy, rate: 5000, count: 20000, record: {message: hello kafka, user: u}}]
    outputs:
      - type: kafka
        brokers: [$BS]
        topic: logs
        key: seq
        # See test_kafka_pipeline.sh: the mock does not check the sequence
        # numbers of an idempotent producer, so one request in flight.
        rdkafka: {max.in.flight.requests.per.connection: 1}
        retry: {initial_backoff: 100ms, max_backoff: 500ms}
YAML
sleep 1
mock down 1
sleep 3
mock up 1
mock errors 0 5 6
wait "$SLUICE_PID" || fail "sluice exited $?: $(tail -5 "$T/sluice.log")"
consume logs >"$T/logs.tsv"
python3 - "$T/logs.tsv" 20000 <<'PY' || fail "what Kafka holds"
import json, sys
n = int(sys.argv[2])
seen = {}
for line in open(sys.argv[1], encoding="utf-8"):
    key, headers, value = line.rstrip("\n").split("\t", 2)
    ev = json.loads(value)
    h = dict(kv.split("=", 1) for kv in headers.split(","))
    assert "sluice.kind" not in h, h  # a log event: no kind header
    assert int(h["sluice.time"]) > 1.7e18, h
    assert ev["message"] == "hello kafka" and ev["user"] == "u", ev
    assert key == str(ev["seq"]), (key, ev)
    seen[ev["seq"]] = seen.get(ev["seq"], 0) + 1
missing = [i for i in range(n) if i not in seen]
dups = sum(c - 1 for c in seen.values())
print(f"{n} events: {len(missing)} missing, {dups} duplicated")
assert not missing and not dups, (missing[:5], dups)
PY
pass "20000 events through a broker outage and injected NOT_LEADER errors: each once, with key and headers"

# ---- a fatal error of the idempotent producer (an out-of-order sequence
# the broker will not accept): the producer is made anew and what it had
# not confirmed is sent again; re-sent messages may be duplicates.
run_sluice <<YAML
service: {flush_interval: 100ms, http: off, storage: {path: $T/state1}}
pipelines:
  p:
    inputs: [{type: dummy, rate: 4000, count: 12000, record: {message: fatal}}]
    outputs:
      - {type: kafka, brokers: [$BS], topic: fatal, retry: {initial_backoff: 100ms, max_backoff: 500ms}}
YAML
mock topic fatal 3
sleep 1
mock errors 0 1 45
wait "$SLUICE_PID" || fail "sluice exited $?: $(tail -5 "$T/sluice.log")"
grep -q "the producer failed for good (OUT_OF_ORDER_SEQUENCE_NUMBER" "$T/sluice.log" ||
    fail "no fatal error: $(grep -i kafka "$T/sluice.log" | tail -5)"
grep -q "a new producer replaces the one that failed" "$T/sluice.log" || fail "no new producer"
consume fatal >"$T/fatal.tsv"
dups=$(python3 - "$T/fatal.tsv" 12000 <<'PY'
import json, sys
seen = {}
for line in open(sys.argv[1]):
    seq = json.loads(line.rstrip("\n").split("\t", 2)[2])["seq"]
    seen[seq] = seen.get(seq, 0) + 1
missing = [i for i in range(int(sys.argv[2])) if i not in seen]
assert not missing, f"{len(missing)} missing: {missing[:5]}"
print(sum(c - 1 for c in seen.values()))
PY
) || fail "after the fatal error: $dups"
pass "a fatal idempotence error: producer made anew, 12000 of 12000 events there ($dups sent twice, unconfirmed when it failed)"

# ---- backpressure: a queue of 1000 messages and a slow broker
mock rtt 1 100
mock rtt 2 100
mock rtt 3 100
run_sluice <<YAML
service: {flush_interval: 100ms, grace: 60s, http: off, storage: {path: $T/state2}}
pipelines:
  p:
    inputs: [{type: dummy, rate: 0, count: 10000, record: {message: queued}}]
    outputs:
      - {type: kafka, brokers: [$BS], topic: slow, max_queue_messages: 1000,
         rdkafka: {batch.num.messages: 200}}
YAML
mock topic slow 2
wait "$SLUICE_PID" || fail "sluice exited $?: $(tail -5 "$T/sluice.log")"
n=$(consume slow | wc -l)
[ "$n" = 10000 ] || fail "slow: $n of 10000 messages"
grep -Eq "10000 messages acknowledged by the brokers, 0 failed for good, 0 to be sent again; the queue was full [1-9][0-9]* times" "$T/sluice.log" ||
    fail "the queue was never full: $(grep acknowledged "$T/sluice.log")"
pass "10000 events through a 1000-message librdkafka queue on slow brokers: all there (the flushes waited)"
mock rtt 1 0
mock rtt 2 0
mock rtt 3 0

# ---- a message the brokers refuse for good: dead letters
run_sluice <<YAML
service: {flush_interval: 100ms, http: off, storage: {path: $T/state3}}
pipelines:
  p:
    inputs:
      - {type: dummy, rate: 0, count: 1, record: {message: "$(head -c 3000 /dev/zero | tr '\0' x)"}}
      - {type: dummy, rate: 0, count: 3, record: {message: small}}
    outputs:
      - type: kafka
        brokers: [$BS]
        topic: big
        format: raw
        rdkafka: {message.max.bytes: 2000}
        dead_letter: {path: $T/dead.jsonl}
YAML
wait "$SLUICE_PID" || fail "sluice exited $?: $(tail -5 "$T/sluice.log")"
[ "$(consume big | wc -l)" = 3 ] || fail "big: $(consume big | wc -l) messages, expected the 3 small ones"
grep -q "MSG_SIZE_TOO_LARGE" "$T/dead.jsonl" || fail "dead letters: $(head -c 300 "$T/dead.jsonl")"
pass "a message over message.max.bytes is dead-lettered with MSG_SIZE_TOO_LARGE; the others delivered"
exec 7>&-
