#!/usr/bin/env bash
# Reproduces the numbers in research/quality/README.md for gleaner's own quality scorer.
#   1. trains on CaR's expert-revised train split, reports CV / valid pairwise accuracy,
#      training time and parameter count (stderr);
#   2. checks the result is byte-identical to the shipped default model;
#   3. scores the real-Alpaca selections (rows/s, mean/median score, Spearman vs response
#      length and vs CaR's IQS score).
# Usage: research/quality/eval.sh [OUT_DIR]   (from anywhere; needs SmolLM2-135M-Instruct installed)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-/tmp/gleaner-quality-eval}
mkdir -p "$out"
data=data/expert-revised
cargo build --release -p gleaner-quality --example train_quality --example sanity
if [ -x target/release/gleaner ] && target/release/gleaner train quality --help >/dev/null 2>&1; then
  # The CLI and the example run the same library call (gleaner_quality::train_files).
  /usr/bin/time -v target/release/gleaner train quality --train $data/APE_score_train.csv \
    --valid $data/APE_score_valid.csv -o "$out/model.json" 2> >(tee "$out/train.log" >&2)
else
  /usr/bin/time -v target/release/examples/train_quality $data/APE_score_train.csv \
    $data/APE_score_valid.csv "$out/model.json" 2> >(tee "$out/train.log" >&2)
fi
python3 - "$out/model.json" crates/quality/assets/default.json <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
same_meta = all(a[k] == b[k] for k in ("format", "kind", "version", "embedder", "features", "training"))
diff = max(abs(x - y) for k in ("mean", "scale", "weights") for x, y in zip(a[k], b[k]))
print(f"vs shipped default: header/training identical: {same_meta}; max |difference| of numbers: {diff:.3g}")
PY
target/release/examples/sanity "$out/model.json" data/alpaca-selections/car_selected_1013.json \
  data/alpaca-selections/cherry_ifd_top6pct_3111.json data/alpaca-selections/lcg_multinomialnb_1k.json \
  data/alpaca-selections/lcg_distilbert_lr1e-6_1k.json | tee "$out/sanity.txt"
