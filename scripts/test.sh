#!/usr/bin/env bash
# Runs every check CI runs, installing what the tests need first:
# release build, default models, unit + integration tests, clippy and rustfmt.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
cargo build --release --locked -p gleaner
./target/release/gleaner models fetch
cargo test --release --locked --workspace
cargo fmt --all --check
cargo clippy --release --locked --workspace --all-targets -- -D warnings
