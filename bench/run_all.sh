#!/usr/bin/env bash
# Side-by-side benchmarks: embeddings (sentence-transformers vs gleaner), IFD scoring (HF f32 vs
# llama.cpp vs gleaner), PCA + k-means (scikit-learn vs gleaner-cluster).
#
#   bash bench/run_all.sh [--quick] [--force] [--no-build] [--skip-embed] [--skip-ifd] [--skip-cluster]
#
# Writes bench/results/{embed,ifd,cluster}.csv and bench/results/machine.txt (see bench/README.md).
# Sizes (environment): EMBED_N (2000), IFD_N (1000), IFD_REF_LIMIT (empty = all IFD_N pairs),
# IFD_LLAMA_LIMIT (empty = all), CLUSTER_ROWS (50000), THREADS (nproc). --quick = smoke sizes (10 texts, 6 pairs with the
# reference on 3, 3000 rows) to check that everything runs; its numbers mean nothing.
# Before each step it waits (up to LOAD_WAIT seconds, default 300) for the 1-minute load average
# to fall to LOAD_MAX (1.5); if it does not, it stops, unless --force (then the results say
# loaded=yes and machine.txt carries a warning; with --force it does not wait unless LOAD_WAIT
# is set). Stop other builds and jobs first.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PY:-$ROOT/.venv-ref/bin/python}"
THREADS="${THREADS:-$(nproc)}"
RES="$ROOT/bench/results"
LOAD_MAX="${LOAD_MAX:-1.5}"
EMBED_N="${EMBED_N:-2000}"
IFD_N="${IFD_N:-1000}"
IFD_REF_LIMIT="${IFD_REF_LIMIT:-}"
CLUSTER_ROWS="${CLUSTER_ROWS:-50000}"
FORCE=() BUILD=1 DO_EMBED=1 DO_IFD=1 DO_CLUSTER=1

for a in "$@"; do
  case "$a" in
    --quick) EMBED_N=10 IFD_N=6 IFD_REF_LIMIT=3 CLUSTER_ROWS=3000 ;;
    --force) FORCE=(--force) ;;
    --no-build) BUILD=0 ;;
    --skip-embed) DO_EMBED=0 ;;
    --skip-ifd) DO_IFD=0 ;;
    --skip-cluster) DO_CLUSTER=0 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "unknown option $a" >&2; exit 2 ;;
  esac
done
# with --force, do not wait for a quiet machine unless LOAD_WAIT is set
if [ ${#FORCE[@]} -gt 0 ]; then LOAD_WAIT="${LOAD_WAIT:-0}"; else LOAD_WAIT="${LOAD_WAIT:-300}"; fi

log() { echo "[bench $(date -u +%H:%M:%S)] $*" >&2; }
load1() { cut -d' ' -f1 /proc/loadavg; }

# wait for the machine to be quiet (our own previous step also raises the 1-min average)
wait_quiet() {
  local waited=0
  while awk -v l="$(load1)" -v m="$LOAD_MAX" 'BEGIN { exit !(l > m) }'; do
    if [ "$waited" -ge "$LOAD_WAIT" ]; then
      if [ ${#FORCE[@]} -gt 0 ]; then
        log "WARNING: load $(load1) > $LOAD_MAX after ${waited}s; continuing because of --force"
        return 0
      fi
      log "load $(load1) > $LOAD_MAX after ${waited}s: other jobs are running; stop them or pass --force"
      exit 2
    fi
    [ "$waited" -eq 0 ] && log "waiting for the 1-min load average ($(load1)) to fall to $LOAD_MAX ..."
    sleep 10
    waited=$((waited + 10))
  done
}

[ -x "$PY" ] || { echo "no $PY: run bash scripts/ref-env.sh first" >&2; exit 1; }
if [ "$BUILD" = 1 ]; then
  log "cargo build --release -p gleaner"
  cargo build --release -q -p gleaner
fi
GLEANER="$ROOT/target/release/gleaner"
[ -x "$GLEANER" ] || { echo "no $GLEANER (cargo build --release -p gleaner)" >&2; exit 1; }

# pyarrow reads gleaner's Parquet embeddings; the reference venv does not pin it, so install it
# into bench/work/pydeps (gitignored) rather than changing the venv.
if [ "$DO_EMBED" = 1 ] && ! "$PY" -c 'import pyarrow' 2>/dev/null \
   && ! PYTHONPATH="$ROOT/bench/work/pydeps" "$PY" -c 'import pyarrow' 2>/dev/null; then
  log "installing pyarrow into bench/work/pydeps"
  "$PY" -m pip install --quiet --target "$ROOT/bench/work/pydeps" pyarrow
fi

mkdir -p "$RES"
M="$RES/machine.txt"
{
  echo "bench/run_all.sh $* at $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "git: $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet 2>/dev/null || echo ' (dirty work tree)')"
  echo "sizes: EMBED_N=$EMBED_N IFD_N=$IFD_N IFD_REF_LIMIT=${IFD_REF_LIMIT:-all} CLUSTER_ROWS=$CLUSTER_ROWS THREADS=$THREADS"
  echo "cpu: $(lscpu | sed -n 's/^Model name:[ \t]*//p'); nproc $(nproc); $(free -h | sed -n 2p)"
  echo "uptime at start: $(uptime)"
  echo "gleaner: $("$GLEANER" --version); rustc: $(rustc --version 2>/dev/null)"
  echo
} > "$M"

export OMP_NUM_THREADS="$THREADS" OPENBLAS_NUM_THREADS="$THREADS" MKL_NUM_THREADS="$THREADS" RAYON_NUM_THREADS="$THREADS"

if [ "$DO_EMBED" = 1 ]; then
  wait_quiet
  log "embed: $EMBED_N texts"
  "$PY" bench/embed/bench_embed.py --n "$EMBED_N" --threads "$THREADS" --gleaner "$GLEANER" \
    --out "$RES/embed.csv" --machine "$M" "${FORCE[@]}"
fi

if [ "$DO_IFD" = 1 ]; then
  wait_quiet
  log "ifd: $IFD_N pairs (reference on ${IFD_REF_LIMIT:-all})"
  REF=()
  [ -n "$IFD_REF_LIMIT" ] && REF=(--ref-limit "$IFD_REF_LIMIT")
  [ -n "${IFD_LLAMA_LIMIT:-}" ] && REF+=(--llama-limit "$IFD_LLAMA_LIMIT")
  "$PY" bench/ifd/bench_ifd.py --n "$IFD_N" "${REF[@]}" --threads "$THREADS" --gleaner "$GLEANER" \
    --out "$RES/ifd.csv" --machine "$M" --pairs-out "$RES/ifd_pairs.jsonl" "${FORCE[@]}"
fi

if [ "$DO_CLUSTER" = 1 ]; then
  wait_quiet
  log "cluster: $CLUSTER_ROWS rows"
  # bench_cluster.py writes bench/cluster/results.csv and bench/cluster/machine.txt itself
  "$PY" bench/cluster/bench_cluster.py --rows "$CLUSTER_ROWS" --threads "$THREADS"
  cp bench/cluster/results.csv "$RES/cluster.csv"
  { echo "== bench_cluster =="; cat bench/cluster/machine.txt; echo; } >> "$M"
fi

echo "uptime at end: $(uptime)" >> "$M"
log "done: $(ls "$RES" | tr '\n' ' ')"
