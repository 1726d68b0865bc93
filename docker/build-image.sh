#!/usr/bin/env bash
# Build localhost/sluice:latest with podman and nothing from a registry:
# the base is a Debian 12 root made here by mmdebstrap from the machine's
# own apt sources and imported as localhost/debian:bookworm-slim (made
# once, kept), and the build uses --pull=never. The packages the build
# stage installs come from the same mirrors. Run as root from anywhere;
# TAG=... names the image. See docs/container.md.
set -euo pipefail
cd "$(dirname "$0")/.."
base=localhost/debian:bookworm-slim
tag=${TAG:-localhost/sluice:latest}
revision=${REVISION:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
command -v podman >/dev/null || { echo "build-image: needs podman (apt-get install podman runc)"; exit 1; }

if ! podman image exists "$base"; then
    command -v mmdebstrap >/dev/null || { echo "build-image: needs mmdebstrap"; exit 1; }
    sources=()
    for s in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -s "$s" ] && sources+=("$s")
    done
    echo "== $base: mmdebstrap --variant=minbase bookworm (from ${sources[*]})"
    mmdebstrap --quiet --variant=minbase --format=tar \
        --aptopt='Acquire::Check-Valid-Until "false"' --aptopt='Acquire::Check-Date "false"' \
        bookworm - "${sources[@]}" | podman import - "$base" >/dev/null
fi

echo "== $tag: podman build (the build stage runs the README's first command)"
start=$(date +%s)
podman build --pull=never --network=host --format docker --build-arg BASE="$base" \
    --build-arg REVISION="$revision" \
    -f docker/Dockerfile -t "$tag" .
size=$(podman image inspect "$tag" --format '{{.Size}}')
echo "built $tag in $(($(date +%s) - start)) s: $((size / 1000000)) MB ($size bytes) uncompressed"
