#!/usr/bin/env bash
# Every YAML example in README.md and docs/*.md that is a whole
# configuration (it has `pipelines:`) passes `sluice validate`, so that no
# documented example can rot. Variables it names get placeholder values;
# state goes to a temporary storage.path through an including wrapper, so
# the test needs no root.
source "$(dirname "$0")/lib.sh"

n=0 skipped=0
for doc in "$SLUICE_SOURCE_DIR"/README.md "$SLUICE_SOURCE_DIR"/docs/*.md; do
    # Split the fenced ```yaml blocks (indented ones too) into files.
    awk -v out="$T/$(basename "$doc" .md)" '
        /^[ \t]*```yaml[ \t]*$/ { inside = 1; k++; match($0, /^[ \t]*/); indent = RLENGTH;
                                  file = sprintf("%s.%02d.yaml", out, k); next }
        /^[ \t]*```[ \t]*$/ && inside { inside = 0; close(file); next }
        inside { print substr($0, indent + 1) > file }' "$doc"
done
shopt -s nullglob
for block in "$T"/*.yaml; do
    if ! grep -q '^pipelines:' "$block"; then
        skipped=$((skipped + 1))
        continue
    fi
    for var in $(grep -o '\${[A-Za-z_][A-Za-z0-9_]*' "$block" | cut -c3- | sort -u); do
        case $var in
        *URL) export "$var=https://placeholder.invalid/$var" ;;
        *) export "$var=placeholder-$var" ;;
        esac
    done
    mkdir -p "$T/state"
    printf 'includes: [%s]\nservice: {storage: {path: %s/state}}\n' "$(basename "$block")" "$T" \
        >"$T/wrap-$(basename "$block")"
    # A block that sets its own storage.path is validated as it is.
    target="$T/wrap-$(basename "$block")"
    grep -q 'storage:' "$block" && target=$block
    "$SLUICE_BIN" validate -c "$target" >"$T/out" 2>&1 ||
        fail "$(basename "$block") does not validate:
$(cat "$block")
---
$(cat "$T/out")"
    n=$((n + 1))
done
[ "$n" -ge 4 ] || fail "only $n whole configurations found in the docs"
pass "$n documented configurations validate ($skipped fragments skipped)"
