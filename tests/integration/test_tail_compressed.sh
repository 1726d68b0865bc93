#!/usr/bin/env bash
# Real logrotate with compress and delaycompress, and a glob that matches
# the rotated names (app.log*): compressed rotations are never read as text
# (no binary events); one that holds lines never read, because its file was
# rotated and compressed while sluice was down, is read decompressed from
# where it stopped. Every line exactly once.
. "$(dirname "$0")/lib.sh"
command -v logrotate >/dev/null || fail "logrotate is not installed (.ci/run installs it)"

mkdir -p "$T/logs"
: >"$T/logs/app.log"
cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 100ms, http: off, storage: {path: $T/state}}
pipelines:
  it:
    inputs: [{type: tail, path: ["$T/logs/app.log*"], read_from_head: true, rotate_wait: 1s}]
    outputs: [{type: file, path: $T/out.json}]
YAML
cat >"$T/lr.conf" <<CONF
$T/logs/app.log {
    create
    compress
    delaycompress
    rotate 50
    missingok
}
CONF
rotate() { logrotate -f -s "$T/lr.state" "$T/lr.conf" || fail "logrotate failed"; }
write() { # FROM COUNT
    python3 -c "
import sys
with open('$T/logs/app.log', 'a') as f:
    f.write(''.join(f'line {i}\n' for i in range($1, $1 + $2)))"
}

# Live: write, rotate, write... five times.
start_sluice -c "$T/sluice.yaml"
wait_for 10 grep -q "following 1 files" "$T/sluice.log" || fail "sluice did not start"
n=0
for k in 1 2 3 4 5; do
    write $n 2000
    n=$((n + 2000))
    sleep 0.3
    rotate
done
wait_for 20 lines_at_least "$T/out.json" $n || fail "live: $(line_count "$T/out.json") of $n"
sleep 1.5 # past rotate_wait, so rotated files are closed and forgotten
stop_sluice || fail "exit $?"
mv "$T/sluice.log" "$T/sluice.live.log"

# Down: lines go into app.log, which is rotated to app.log.1 and then
# compressed to app.log.2.gz before sluice comes back.
write $n 3000
n=$((n + 3000))
rotate
write $n 3000
n=$((n + 3000))
rotate
write $n 1000
n=$((n + 1000))
ls "$T/logs" | grep -q 'app.log.2.gz' || fail "logrotate made no app.log.2.gz: $(ls "$T/logs")"
start_sluice -c "$T/sluice.yaml"
wait_for 20 lines_at_least "$T/out.json" $n || fail "after downtime: $(line_count "$T/out.json") of $n"
sleep 0.5
stop_sluice || fail "exit $?"

# Down again, with the inode reuse the file system may or may not do made
# certain: app.log.1's inode is given to a compressed file of new lines
# (app.log.8.gz, found first), while a compressed copy of what it held,
# read to its end, lands in another (app.log.9.gz). The copy must still
# be known as read.
mv "$T/sluice.log" "$T/sluice.down1.log"
gzip -c "$T/logs/app.log.1" >"$T/logs/app.log.9.gz"
python3 -c "print(''.join(f'line {i}' + chr(10) for i in range($n, $n + 1000)), end='')" |
    gzip -c >"$T/new.gz"
mv "$T/logs/app.log.1" "$T/logs/app.log.8.gz"
cat "$T/new.gz" >"$T/logs/app.log.8.gz" # same inode, new content
n=$((n + 1000))
start_sluice -c "$T/sluice.yaml"
wait_for 20 lines_at_least "$T/out.json" $n || fail "after inode reuse: $(line_count "$T/out.json") of $n"
sleep 0.5
stop_sluice || fail "exit $?"
grep -q "app.log.9.gz: it is gzip-compressed and holds no lines sluice left unread" "$T/sluice.log" ||
    fail "the compressed copy of a stream read to its end was read again"
mv "$T/sluice.log" "$T/sluice.down2.log"
mv "$T/sluice.down1.log" "$T/sluice.log"

python3 - "$T/out.json" $n <<'PY' || fail "content"
import collections, json, re, sys
n = int(sys.argv[2])
msgs = [json.loads(l)["message"] for l in open(sys.argv[1])]
junk = [m for m in msgs if not re.fullmatch(r"line \d+", m)]
c = collections.Counter(msgs)
missing = [i for i in range(n) if c[f"line {i}"] == 0]
dups = sum(v - 1 for v in c.values())
print(f"{n} lines over 7 rotations with compress and delaycompress and a reused inode: {len(missing)} missing, "
      f"{dups} duplicated, {len(junk)} binary or foreign events")
assert not junk, junk[:3]
assert not missing and not dups, (missing[:10], dups)
PY
# Which message depends on whether the file system gave the new app.log the
# inode of the one compressed away (then the stream is known only by its
# content): either way it is read from where it stopped.
grep -q "app.log.2.gz is a compressed rotation of .*reading .* decompressed" "$T/sluice.log" ||
    fail "the compressed rotation was not read: $(grep -E 'gz|compress' "$T/sluice.log")"
grep -q "not reading .*app.log.[0-9]*.gz: it is gzip-compressed and holds no lines sluice left unread" "$T/sluice.live.log" ||
    fail "read compressed files were not said to be skipped"
pass "logrotate compress + delaycompress: no binary events, a compressed rotation never fully read is read decompressed, every line once"
