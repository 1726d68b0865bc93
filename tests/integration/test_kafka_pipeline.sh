#!/usr/bin/env bash
# Agents and aggregators through Kafka, with failures on every side: an
# agent tails a file into the kafka output; aggregators (the kafka input in
# one consumer group) write to the Elasticsearch test double with ids from
# the line's file and offset. On librdkafka's mock cluster (3 brokers, 6
# partitions), while lines are written steadily:
#   1. broker 1 is down for 10 s, then produce requests fail (NOT_LEADER);
#   2. the aggregator is killed with -9 and restarted, twice;
#   3. a second aggregator joins the group (a rebalance), then leaves it.
# Every line must be stored, exactly once (the ids); Kafka must hold every
# line exactly once (the idempotent producer); and the documents sent again
# (answered 409 by the double: offsets not committed when a consumer died or
# gave its partitions away) may only come from the kills and the rebalance.
. "$(dirname "$0")/lib.sh"

SLUICE_BUILD_DIR=${SLUICE_BUILD_DIR:-$(dirname "$SLUICE_BIN")/..}
RATE=500

kfail() {
    local f
    for f in "$T"/*.log; do
        echo "--- $(basename "$f") (last 15 lines)" >&2
        tail -15 "$f" >&2
    done
    fail "$@"
}

# ---- The mock cluster, commanded through a FIFO held open here.
start_mock_kafka 3
mock() {
    local before
    before=$(line_count "$T/mock.out")
    echo "$*" >&7
    wait_for 10 lines_at_least "$T/mock.out" $((before + 1)) || kfail "mock: no answer to '$*'"
    [ "$(tail -1 "$T/mock.out")" = ok ] || kfail "mock: '$*': $(tail -1 "$T/mock.out")"
}
mock topic logs 6
# uncommitted: the messages after the group's committed offsets, or
# nothing (exit 1) when the mock cannot tell now.
uncommitted() {
    local before
    before=$(line_count "$T/mock.out")
    echo "uncommitted aggregators logs" >&7
    wait_for 20 lines_at_least "$T/mock.out" $((before + 1)) || return 1
    tail -1 "$T/mock.out" | sed -n 's/^ok //p'
}
# caught_up SECONDS: wait until no message is left uncommitted.
caught_up() {
    local i
    for ((i = 0; i < $1 * 2; i++)); do
        [ "$(uncommitted)" = 0 ] && return 0
        sleep 0.5
    done
    return 1
}

ES=$(free_port)
start_es_server "$ES"
mkdir -p "$T/logs"
: >"$T/logs/app.log"

cat >"$T/agent.yaml" <<YAML
service: {flush_interval: 100ms, http: off, storage: {path: $T/agent-state}}
pipelines:
  ship:
    inputs: [{type: tail, path: ["$T/logs/app.log"], read_from_head: true,
              path_key: file, offset_key: offset}]
    outputs:
      - type: kafka
        brokers: ["$BROKERS"]
        topic: logs
        key: offset
        # One request in flight: librdkafka's mock checks no sequence numbers
        # for a producer that is idempotent but not transactional, so a batch
        # it accepts after refusing an earlier one (the injected errors) makes
        # librdkafka count the refused one as delivered (an implicit ack). A
        # real broker answers OUT_OF_ORDER_SEQUENCE_NUMBER instead.
        rdkafka: {reconnect.backoff.max.ms: 1000, max.in.flight.requests.per.connection: 1}
        retry: {initial_backoff: 100ms, max_backoff: 1s}
YAML
aggregator_yaml() { # NAME
    cat <<YAML
service: {flush_interval: 100ms, http: off, storage: {path: $T/$1-state}}
pipelines:
  store:
    inputs:
      - type: kafka
        brokers: ["$BROKERS"]
        group_id: aggregators
        topics: [logs]
        rdkafka: {session.timeout.ms: 3000, heartbeat.interval.ms: 300,
                  auto.commit.interval.ms: 1000, reconnect.backoff.max.ms: 1000}
    outputs:
      - type: elasticsearch
        hosts: [http://127.0.0.1:$ES]
        index: logs
        action: create
        generate_id: true
        id_fields: [file, offset]
        retry: {initial_backoff: 100ms, max_backoff: 500ms}
YAML
}
aggregator_yaml agg1 >"$T/agg1.yaml"
aggregator_yaml agg2 >"$T/agg2.yaml"

# run NAME: start sluice with $T/NAME.yaml; its pid in the variable NAME.
run() {
    "$SLUICE_BIN" -c "$T/$1.yaml" >>"$T/$1.log" 2>&1 &
    PIDS+=($!)
    printf -v "$1" %s $!
}
redelivered() {
    curl -fs "http://127.0.0.1:$ES/_test/stats" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["statuses"].get("409", 0))'
}
progress() { # N: wait until N more documents are stored
    local want=$(($(es_count "$ES") + $1))
    wait_for 25 es_count_at_least "$ES" "$want" || kfail "stuck at $(es_count "$ES") documents"
}

start=$SECONDS
run agent
run agg1
python3 "$SLUICE_SOURCE_DIR/tests/integration/log_writer.py" "$T/logs/app.log" --rate $RATE \
    --count 1000000 --done "$T/written" &
WRITER=$!
PIDS+=($WRITER)
progress 200
echo "[$((SECONDS - start)) s] flowing; broker 1 down for 10 s"

mock down 1
sleep 10
mock up 1
mock errors 0 5 6
progress 1000
calm=$(redelivered)
echo "[$((SECONDS - start)) s] broker back, produce errors injected; $calm documents sent again"

for kill in 1 2; do
    kill -KILL "$agg1"
    wait "$agg1" 2>/dev/null
    run agg1
    progress 500
    echo "[$((SECONDS - start)) s] aggregator killed with -9 ($kill) and restarted"
done
killed=$(redelivered)

run agg2
wait_for 20 grep -q "assigned [1-9]" "$T/agg2.log" || kfail "the second aggregator got no partitions"
progress 500
kill -TERM "$agg2"
wait "$agg2" || kfail "aggregator 2 exit code $?"
echo "[$((SECONDS - start)) s] a second aggregator joined the group and left it"

kill -TERM "$WRITER"
wait "$WRITER"
N=$(line_count "$T/logs/app.log")
wait_for 30 es_count_at_least "$ES" "$N" || kfail "stored $(es_count "$ES") of $N"
# Every line is stored, but the aggregator may still be reading again what
# the commits refused during the rebalance left uncommitted: stopped now, it
# would leave that for the group's next member. Wait until its commits
# reach the end of every partition.
echo "[$((SECONDS - start)) s] every line stored; $(uncommitted) messages not committed yet"
caught_up 30 || kfail "the group's commits stop $(uncommitted) messages short of the end"
kill -TERM "$agent" "$agg1"
wait "$agent" || kfail "agent exit code $?"
wait "$agg1" || kfail "aggregator exit code $?"
echo "[$((SECONDS - start)) s] the agent and the aggregator stopped"

curl -fs "http://127.0.0.1:$ES/_test/docs" >"$T/docs.json"
curl -fs "http://127.0.0.1:$ES/_test/stats" >"$T/stats.json"
timeout 30 kcat -b "$BROKERS" -C -t logs -e -q -f '%k\n' >"$T/keys.txt" 2>"$T/kcat.log" ||
    kfail "kcat could not read the topic"
# The aggregators left the group with every offset committed: nothing is
# left to read for it.
timeout 30 kcat -b "$BROKERS" -G aggregators -X auto.offset.reset=earliest -e -q -f '%o\n' logs >"$T/left.txt" \
    2>>"$T/kcat.log" || kfail "kcat could not join the group"
[ "$(line_count "$T/left.txt")" -eq 0 ] || kfail "$(line_count "$T/left.txt") messages not committed"
python3 - "$T" "$N" "$calm" "$killed" <<'PY' || kfail "counts"
import json, sys
t, n, calm, killed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
path = f"{t}/logs/app.log"
ends, off = [], 0
for i, line in enumerate(open(path, "rb")):
    assert line == b"line %d\n" % i, f"file line {i}: {line!r}"
    off += len(line)
    ends.append(off)
assert len(ends) == n, f"the file has {len(ends)} lines"
docs = json.load(open(f"{t}/docs.json"))["logs"]
got = sorted((d["offset"], d["message"], d["file"]) for d in docs.values())
want = [(e, "line %d" % i, path) for i, e in enumerate(ends)]
assert len(docs) == n, f"{len(docs)} documents for {n} lines"
assert got == want, "documents differ from the lines"
keys = open(f"{t}/keys.txt").read().split()
assert len(keys) == n and sorted(map(int, keys)) == ends, \
    f"Kafka holds {len(keys)} messages, {len(set(keys))} distinct, for {n} lines"
st = json.load(open(f"{t}/stats.json"))["statuses"]
again = st.get("409", 0)
assert set(st) <= {"201", "409"}, f"statuses {st}"
assert st["201"] == n, f"{st['201']} created"
assert calm == 0, f"{calm} documents sent again before any consumer died"
print(f"{n} lines stored once; Kafka holds each once; sent again: {killed} after the kills, "
      f"{again - killed} after the rebalance")
PY
pass "broker down, produce errors, 2 x kill -9 and a rebalance: every line stored once"
