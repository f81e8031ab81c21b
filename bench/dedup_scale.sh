#!/usr/bin/env bash
# Scale run of `gleaner dedup --method minhash`: N rows (default 1,000,000) made by replicating
# the real Alpaca records (replica k > 0 gets "[k] " before its instruction), wall time and
# peak RSS appended to bench/results/dedup_scale.csv (+ machine_dedup.txt).
#
#   bash bench/dedup_scale.sh [ROWS]
#
# Memory: the signatures take ROWS x 128 x 4 bytes (512 MB at 1M rows) plus the shingle sets
# kept for verification (4 bytes per shingle, ~100-150 per Alpaca record) and the rows'
# texts while they are shingled.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
ROWS="${1:-1000000}"
cargo build --release --locked --workspace >&2  # --workspace: the features every other build uses
python3 bench/dedup_vs_datasketch.py --rows "$ROWS" --skip-datasketch \
  --csv bench/results/dedup_scale.csv --work bench/work/dedup-scale
