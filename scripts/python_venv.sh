#!/usr/bin/env bash
# Creates (once) the virtual environment the Python tests and benchmarks use, `.venv-test/`
# under the repository, with pinned packages from PyPI, then builds the `gleaner` wheel
# (maturin, release) and installs it. Idempotent: a second run only rebuilds the wheel, which
# cargo keeps incremental. Prints the venv's python path on the last line.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-test
# The versions the suite was tested with (Ray: README "Scaling out").
PINS=(maturin==1.16.0 pytest==9.2.0 pyarrow==26.0.1 datasets==5.2.0 polars==2.1.0 "ray[data]==2.60.0")
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
stamp="$VENV/.pins"
if [ "$(cat "$stamp" 2>/dev/null)" != "${PINS[*]}" ]; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PINS[@]}" >&2
    echo "${PINS[*]}" > "$stamp"
fi
target="${CARGO_TARGET_DIR:-target}"
rm -rf "$target/wheels"
"$VENV/bin/maturin" build --release --locked --quiet --interpreter "$VENV/bin/python" >&2
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps "$target"/wheels/gleaner-*.whl >&2
echo "$VENV/bin/python"
