#!/usr/bin/env bash
# IFD through the CLI, Python datasets.map and Ray Data (2 actors), one run, same rows.
# Builds the release binary and the wheel into .venv-test/ first (scripts/python_venv.sh).
#   bench/python_ray/run.sh [--n 1000] [--batch 128] [--force]
# Writes bench/results/python_ray_ifd.csv and bench/results/machine_python_ray_ifd.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --locked --workspace >&2
PY=$(./scripts/python_venv.sh | tail -n 1)
exec "$PY" bench/python_ray/bench_python_ray_ifd.py "$@"
