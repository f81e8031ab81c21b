#!/usr/bin/env bash
# The preset regression on the 5,795 real records (too slow for CI: about 30 minutes on the
# 2-core machine): runs cases_real.txt with a gleaner binary and compares with real.sha256,
# the digests the pre-recipe binary (commit fd2d90b) wrote. Prints the comparison; exits 1 on
# a difference.
#   bash tests/regression/presets/check_real.sh [BIN] > tests/regression/presets/real-result.txt
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:-$here/../../../target/release/gleaner}"
pool="$(mktemp -d)/pool.json"
python3 "$here/pool.py" "$pool" 2>/dev/null
echo "# $(date -u +%F), $("$bin" --version), pool: 5,795 records"
got="$(bash "$here/capture.sh" "$bin" "$pool" "$here/cases_real.txt")"
status=0
while read -r digest name; do
  want="$(awk -v n="$name" '$2 == n {print $1}' "$here/real.sha256")"
  if [[ "$digest" == "$want" ]]; then echo "same  $name  $digest"; else echo "DIFF  $name  $digest (expected $want)"; status=1; fi
done <<< "$got"
exit $status
