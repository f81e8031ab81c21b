#!/usr/bin/env bash
# The Python environment of the dedup benchmark and of the datasketch golden fixture:
# datasketch and numpy (and scipy, which datasketch's LSH parameter search integrates with),
# pinned, in .venv-dedup/ (gitignored). Idempotent: a second run only checks the imports.
#
#   bash bench/dedup_env.sh          # prints the venv's python path on the last line
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${DEDUP_VENV:-$ROOT/.venv-dedup}"
PINS=(datasketch==2.0.0 numpy==2.4.6 scipy==1.17.1)
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c "import datasketch, numpy, scipy" 2>/dev/null \
  || [ "$(cat "$VENV/PINS" 2>/dev/null)" != "${PINS[*]}" ]; then
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PINS[@]}" >&2
  echo "${PINS[*]}" >"$VENV/PINS"
fi
echo "$VENV/bin/python"
