#!/usr/bin/env bash
# Runs every case of cases.txt with a gleaner binary and prints `sha256  case` lines.
#   bash tests/regression/presets/capture.sh BIN [IN] [CASES] > expected.sha256
# The expected digests (expected.sha256, real.sha256) were captured with the binary built from
# commit fd2d90b, before the presets became recipes, so the tests pin that behaviour.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$1"
input="${2:-$here/../../../data/sample/alpaca_en_demo.json}"
cases="${3:-$here/cases.txt}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
while IFS=$'\t' read -r name args; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  out="$work/$name"
  args="${args//IN/$input}"
  args="${args//OUT/$out}"
  args="${args//WORK/$work}"
  # shellcheck disable=SC2086
  NO_COLOR=1 "$bin" $args 2> "$work/$name.stderr" || { cat "$work/$name.stderr" >&2; exit 1; }
  echo "$(sha256sum < "$out" | cut -d' ' -f1)  $name"
done < "$cases"
