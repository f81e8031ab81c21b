#!/usr/bin/env bash
# gleaner dedup vs datasketch MinHash-LSH and a numpy exact dedup, same data, same run.
#
#   bash bench/dedup_vs_datasketch.sh                 # every real record once (~7,700 rows)
#   bash bench/dedup_vs_datasketch.sh --rows 100000   # replicated (see the script's docstring)
#
# Builds the release binary, creates the pinned venv (.venv-dedup: datasketch, numpy, scipy),
# then appends to bench/results/dedup.csv and bench/results/machine_dedup.txt. Run it on a quiet
# machine (check `uptime`): the numbers are only comparable without other load.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
cargo build --release --locked --workspace >&2  # --workspace: the features every other build uses
PY="$(bash bench/dedup_env.sh | tail -1)"
"$PY" bench/dedup_vs_datasketch.py "$@"
