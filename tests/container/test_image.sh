#!/usr/bin/env bash
# The container image, run with podman as users run it: its layout and
# metadata; the default configuration printing its first event; a mounted
# configuration with a mounted third-party plugin (the SDK example, built
# against the installed SDK); `podman healthcheck run` healthy, unhealthy
# while an output fails, healthy again; SIGTERM flushing; and a filesystem
# buffer on the volume keeping every event across a stop and a restart.
# The image is localhost/sluice:latest, (re)built by docker/build-image.sh
# when it was not built from this commit. Containers use the host's
# network namespace (loopback addresses only) or none.
. "$(dirname "$0")/../integration/lib.sh"
command -v podman >/dev/null || fail "podman is not installed (.ci/run installs podman and runc)"
export CONTAINERS_CONF=${CONTAINERS_CONF:-$SLUICE_SOURCE_DIR/tests/container/containers.conf}
IMG=localhost/sluice:latest
head=$(git -C "$SLUICE_SOURCE_DIR" rev-parse HEAD 2>/dev/null || echo unknown)
built=$(podman image inspect "$IMG" --format '{{index .Labels "org.opencontainers.image.revision"}}' 2>/dev/null || true)
if [ "$built" != "$head" ]; then
    echo "building $IMG for $head (it was built for '${built:-nothing}')"
    REVISION=$head bash "$SLUICE_SOURCE_DIR/docker/build-image.sh" >"$T/build.log" 2>&1 ||
        fail "image build: $(tail -20 "$T/build.log")"
fi
NAMES=()
cleanup_containers() {
    local n
    for n in "${NAMES[@]}"; do podman rm -f -t 0 "$n" >/dev/null 2>&1; done
    podman volume rm -f "sluice-test-$$" >/dev/null 2>&1
}
trap 'cleanup_containers; cleanup' EXIT
fail() { # with what the containers logged
    local n
    echo "FAIL: $*" >&2
    for n in "${NAMES[@]}"; do
        echo "--- podman logs $n (last 20 lines)" >&2
        podman logs "$n" 2>&1 | tail -20 >&2
    done
    exit 1
}
run() { # NAME ARGS...: start a container in the background
    local name=$1-$$
    shift
    NAMES+=("$name")
    podman run -d --name "$name" "$@" >/dev/null || fail "podman run $name"
}
logs_have() { podman logs "$1-$$" 2>&1 | grep -q "$2"; }
health() { podman healthcheck run "$1-$$" >/dev/null 2>&1; }

# ---- What the image is
size=$(podman image inspect "$IMG" --format '{{.Size}}')
[ "$size" -lt 40000000 ] || fail "image is $size bytes, over 40 MB"
meta=$(podman image inspect "$IMG" --format \
    '{{.Config.User}}|{{.Config.StopSignal}}|{{range $k, $v := .Config.ExposedPorts}}{{$k}}{{end}}|{{range $k, $v := .Config.Volumes}}{{$k}}{{end}}|{{.Config.Entrypoint}}|{{.Config.Healthcheck.Test}}')
[ "$meta" = "10001:10001|SIGTERM|2020/tcp|/var/lib/sluice|[/usr/bin/sluice]|[CMD /usr/bin/sluice healthcheck -c /etc/sluice/sluice.yaml]" ] ||
    fail "image metadata: $meta"
podman image inspect "$IMG" --format '{{.Config.Env}}' | grep -q 'SLUICE_PLUGINS_PATH=/usr/lib/sluice/plugins.d' ||
    fail "no SLUICE_PLUGINS_PATH"
cid=$(podman create "$IMG")
NAMES+=("$cid")
podman export "$cid" | tar -t >"$T/files"
for f in usr/bin/sluice usr/lib/sluice/plugins/in_tail.so usr/lib/sluice/plugins/out_elasticsearch.so \
    etc/sluice/sluice.yaml usr/lib/sluice/plugins.d/ var/lib/sluice/ etc/ssl/certs/ca-certificates.crt; do
    grep -qx "$f" "$T/files" || fail "the image has no /$f"
done
! grep -qE '^(bin/sh|usr/bin/perl|usr/share/locale/)' "$T/files" || fail "the image carries a shell or perl"
echo "image: $((size / 1000000)) MB, $(grep -c '\.so' "$T/files") shared objects, runs as 10001, no shell"

# ---- The default configuration: first event on stdout, healthy, SIGTERM
start=$(date +%s%N)
run default --network=none "$IMG"
wait_for 20 logs_have default '"message":"hello from sluice"' || fail "default: no event: $(podman logs default-$$ 2>&1 | tail)"
first_ms=$((($(date +%s%N) - start) / 1000000))
health default || fail "default: healthcheck says unhealthy"
podman stop -t 20 "default-$$" >/dev/null
code=$(podman inspect "default-$$" --format '{{.State.ExitCode}}')
[ "$code" = 0 ] || fail "default: exit code $code after SIGTERM"
logs_have default "Terminated: stopping inputs and flushing" || fail "default: SIGTERM not handled"
pass "default config: first event on stdout ${first_ms} ms after podman run, healthy, exit 0 on SIGTERM"

# ---- A mounted configuration and a mounted third-party plugin
cmake --install "${SLUICE_BUILD_DIR:-$SLUICE_SOURCE_DIR/build}" --prefix "$T/prefix" >"$T/install.log" 2>&1 ||
    fail "install: $(tail "$T/install.log")"
export PKG_CONFIG_PATH=$(dirname "$(find "$T/prefix" -name sluice.pc | head -1)")
mkdir -p "$T/plugin" "$T/out"
cp "$SLUICE_SOURCE_DIR"/docs/examples/out_lines/{lines.c,Makefile} "$T/plugin/"
make -C "$T/plugin" >"$T/make.log" 2>&1 || fail "plugin build: $(cat "$T/make.log")"
chown 10001:10001 "$T/out"
http_port=$(free_port)
mon_port=$(free_port)
start_http_server "$http_port"
# Each start emits 2000 events tagged with its run; the file is rewritten
# in place, so the container's bind mount sees the new run.
write_config() {
    cat >"$T/mounted.yaml" <<YAML
service:
  flush_interval: 200ms
  grace: 2s
  http: {listen: "127.0.0.1:$mon_port"}
  storage: {path: /var/lib/sluice}
pipelines:
  app:
    inputs: [{type: dummy, rate: 400, count: 2000, record: {message: from a mounted config, run: $1}}]
    outputs:
      - {type: lines, path: /out/lines.txt}
      - type: http
        url: http://127.0.0.1:$http_port/ingest
        format: ndjson
        retry: {initial_backoff: 50ms, max_backoff: 100ms}
        buffer: {type: filesystem}
YAML
}
write_config 1
podman volume create "sluice-test-$$" >/dev/null
mounts=(--network=host -v "$T/mounted.yaml:/etc/sluice/sluice.yaml:ro"
    -v "$T/plugin/out_lines.so:/usr/lib/sluice/plugins.d/out_lines.so:ro"
    -v "$T/out:/out" -v "sluice-test-$$:/var/lib/sluice")
run mounted "${mounts[@]}" "$IMG"
wait_for 30 lines_at_least "$T/out/lines.txt" 2000 || fail "the plugin wrote $(line_count "$T/out/lines.txt") of 2000 lines"
[ "$(sort -u "$T/out/lines.txt")" = "from a mounted config" ] || fail "plugin output: $(sort -u "$T/out/lines.txt" | head -3)"
wait_for 20 http_events_at_least "$http_port" 2000 || fail "http got $(http_events "$http_port") of 2000"
health mounted || fail "mounted: unhealthy while every output delivers"
pass "mounted config and plugins.d/out_lines.so (built against the installed SDK): 2000 lines, 2000 events over HTTP, healthy"

# ---- Unhealthy while an output fails, and healthy again
http_control "$http_port" '{"mode": "status:503"}'
write_config 2
podman stop -t 20 "mounted-$$" >/dev/null
podman start "mounted-$$" >/dev/null
done_runs() { [ "$(podman logs "mounted-$$" 2>&1 | grep -c 'emitted 2000 events; done')" -ge "$1" ]; }
wait_for 30 done_runs 2 || fail "run 2 did not emit its 2000 events"
wait_for 30 bash -c "! podman healthcheck run mounted-$$ >/dev/null 2>&1" ||
    fail "still healthy while every request gets 503: $(curl -s "127.0.0.1:$mon_port/health")"
reason=$(curl -s "127.0.0.1:$mon_port/health")
echo "$reason" | grep -q '"status":"failing"' || fail "health: $reason"
pass "unhealthy while the HTTP output gets 503: $reason"

# ---- SIGTERM with the backend down: the buffered chunks stay on the
# volume; a restart with the backend back delivers every event.
podman stop -t 20 "mounted-$$" >/dev/null
code=$(podman inspect "mounted-$$" --format '{{.State.ExitCode}}')
[ "$code" = 0 ] || fail "exit code $code after SIGTERM"
podman logs "mounted-$$" 2>&1 | grep -q "Terminated: stopping inputs and flushing" || fail "SIGTERM not handled"
held=$(podman volume inspect "sluice-test-$$" --format '{{.Mountpoint}}')
chunks=$(find "$held" -name '*.chunk' 2>/dev/null | wc -l)
[ "$chunks" -gt 0 ] || fail "no chunk files on the volume after SIGTERM with the backend down: $(find "$held" | head)"
http_control "$http_port" '{"mode": "ok"}'
write_config 3
podman start "mounted-$$" >/dev/null
wait_for 30 http_events_at_least "$http_port" 6000 || fail "after restart: $(http_events "$http_port") of 6000 events"
wait_for 30 health mounted || fail "not healthy again once the backend is back"
sleep 1
http_stats "$http_port" | python3 -c '
import json, sys
s = json.load(sys.stdin)
runs = {r: sorted(v) for r, v in s["by_run"].items()}
assert s["events"] == 6000, s["events"]
for r in ("1", "2", "3"):
    assert runs.get(r) == list(range(2000)), (r, len(runs.get(r, [])))
print("received: runs 1, 2, 3 with seq 0..1999 each, exactly once")
' || fail "what the backend received"
pass "SIGTERM with the backend down kept $chunks chunk files on the volume; the restart delivered them: run 2's 2000 events, with runs 1 and 3, each exactly once; healthy again"
