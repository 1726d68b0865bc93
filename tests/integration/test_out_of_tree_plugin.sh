#!/usr/bin/env bash
# The SDK as a third party sees it: install sluice to a temporary prefix,
# build docs/examples/out_lines against it with pkg-config only, and load it
# from a plugins_path.
. "$(dirname "$0")/lib.sh"

BUILD=${SLUICE_BUILD_DIR:-$SLUICE_SOURCE_DIR/build}
cmake --install "$BUILD" --prefix "$T/prefix" >"$T/install.log" 2>&1 || fail "install: $(tail "$T/install.log")"
pc=$(find "$T/prefix" -name sluice.pc | head -1)
[ -n "$pc" ] || fail "no sluice.pc installed"
export PKG_CONFIG_PATH=$(dirname "$pc")
inc=$(pkg-config --variable=includedir sluice)
[ "$(realpath "$inc")" = "$(realpath "$T/prefix/include")" ] || fail "pkg-config includedir: $inc"
[ -f "$inc/sluice/sluice.h" ] && [ -f "$inc/sluice/version.h" ] || fail "SDK headers not installed"

mkdir "$T/plugins"
cp "$SLUICE_SOURCE_DIR"/docs/examples/out_lines/{lines.c,Makefile} "$T/plugins/"
make -C "$T/plugins" CC="${SLUICE_C_COMPILER:-cc}" CFLAGS="-O2 -Wall -Wextra -Werror ${SLUICE_C_FLAGS:-}" >"$T/make.log" 2>&1 ||
    fail "out-of-tree build: $(cat "$T/make.log")"
[ -f "$T/plugins/out_lines.so" ] || fail "no out_lines.so"
pass "example plugin built out of tree with pkg-config --cflags sluice"

cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 100ms, http: off, plugins_path: [$T/plugins]}
pipelines:
  it:
    inputs: [{type: dummy, rate: 0, count: 500, record: {message: hi}}]
    outputs: [{type: lines, path: $T/lines.txt, field: seq}]
YAML
"$T/prefix/bin/sluice" validate -c "$T/sluice.yaml" >/dev/null 2>"$T/err" || fail "validate: $(cat "$T/err")"
"$T/prefix/bin/sluice" plugins | grep -q "lines .*Example" && fail "plugins without a path must not list it"
SLUICE_PLUGINS_PATH=$T/plugins "$T/prefix/bin/sluice" plugins | grep -q "^  lines " || fail "SLUICE_PLUGINS_PATH not searched"

SLUICE_BIN=$T/prefix/bin/sluice
start_sluice -c "$T/sluice.yaml"
wait_for 20 lines_at_least "$T/lines.txt" 500 || fail "got $(line_count "$T/lines.txt") lines"
stop_sluice || fail "exit code $?"
[ "$(cat "$T/lines.txt")" = "$(seq 0 499)" ] || fail "lines.txt content"
pass "installed sluice loaded the out-of-tree plugin from plugins_path and it got 500 events"
