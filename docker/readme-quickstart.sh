#!/usr/bin/env bash
# The image's build step: runs the README's first command exactly as
# written (it installs the build dependencies, builds, and starts the
# default pipeline), waits for the pipeline's first event on stdout, and
# stops it. The image build is thus also the check that the quick start
# works on a bare Debian 12. Run from the source tree's root, as root.
set -euo pipefail
cmd=$(awk '/^```sh[ \t]*$/ { n++; next } n == 1 && /^```/ { exit } n == 1 { print }' README.md)
[ -n "$cmd" ] || { echo "readme-quickstart: no command in README.md" >&2; exit 1; }
echo "README command 1: $cmd"
out=$(mktemp) err=$(mktemp)
setsid bash -c "$cmd" >"$out" 2>"$err" </dev/null &
pid=$!
for ((i = 0; i < 1200; i++)); do
    grep -q '"message":"hello from sluice"' "$out" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
done
kill -TERM -- "-$pid" 2>/dev/null || true
wait "$pid" || true
if ! grep -q '"message":"hello from sluice"' "$out"; then
    echo "FAIL: the README's first command printed no event; last lines:" >&2
    tail -40 "$err" >&2
    exit 1
fi
echo "PASS: the README's first command built sluice and the default pipeline printed:"
grep -m1 'hello from sluice' "$out"
rm -f "$out" "$err"
