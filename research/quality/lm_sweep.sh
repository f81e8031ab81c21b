#!/usr/bin/env bash
# The LM-embedder sweep behind the quality default (research/quality/README.md): for each
# (view, kept blocks of SmolLM2-135M-Instruct), train with `gleaner train quality` (CV over the
# training pairs, then the validation split once), and score four real Alpaca selections with
# the `sanity` example (mean score per file; share of CaR's IQS top picks among the pooled top).
#
#   research/quality/lm_sweep.sh [OUT_DIR] ["view:layers …"]
# Output: OUT_DIR/<view>_<layers>.{json,train.txt,sanity.txt}; a summary on stdout.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-/tmp/gleaner-quality-sweep}
runs=${2:-"response:4 chat:4 response:2 response:6 response:12"}
mkdir -p "$out"
cargo build --release -q -p gleaner -p gleaner-quality --example sanity
sel=data/alpaca-selections
for r in $runs; do
  view=${r%%:*}; layers=${r##*:}; m="$out/${view}_${layers}.json"
  target/release/gleaner train quality --train data/expert-revised/APE_score_train.csv \
    --valid data/expert-revised/APE_score_valid.csv --views "$view" --lm-layers "$layers" -o "$m" \
    2>&1 | tr '\r' '\n' | grep -v 'texts\]' | grep -v '^\s*$' > "$out/${view}_${layers}.train.txt"
  target/release/examples/sanity "$m" $sel/car_selected_1013.json $sel/cherry_ifd_top6pct_3111.json \
    $sel/lcg_multinomialnb_1k.json $sel/lcg_distilbert_lr1e-6_1k.json > "$out/${view}_${layers}.sanity.txt" 2>&1
  echo "== view $view, $layers blocks"
  grep -E 'cross-validation|valid pairwise|time:' "$out/${view}_${layers}.train.txt"
  grep -E '^(car|cherry|lcg)|share' "$out/${view}_${layers}.sanity.txt"
done
