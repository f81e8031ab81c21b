#!/usr/bin/env bash
# How long the selection report takes to load in headless Chromium (Debian's `chromium`).
#
#   bench/report/load_time.sh REPORT.html [RUNS] [OUT.csv]
#
# For each run, a fresh Chromium profile opens the page with --dump-dom (which returns once the
# page has loaded and its script has run) and the page's own Navigation Timing is read: the
# script appends `loadEventEnd - startTime` (ms, measured by the browser from navigation start
# to the end of the load event) to a copy of the page as <body data-load-ms>. The wall time of
# the whole Chromium process (start-up included) is recorded too. Writes a CSV with the machine
# description and prints the median load time.
#
# The check on the 5,795 distinct real records of data/alpaca-selections (run on a quiet machine):
#   python3 tests/regression/presets/pool.py /tmp/pool6k.json
#   ./target/release/gleaner run car /tmp/pool6k.json -o /tmp/car6k.json
#   bench/report/load_time.sh /tmp/car6k.json.gleaner/report.html 5 bench/results/report_load.csv
set -euo pipefail
PAGE=${1:?usage: load_time.sh REPORT.html [RUNS] [OUT.csv]}
RUNS=${2:-5}
OUT=${3:-/dev/stdout}
BROWSER=${GLEANER_CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
[ -n "$BROWSER" ] || { echo "error: no chromium (apt-get install -y chromium)" >&2; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# a copy of the page that records its own load time once the load event has ended
python3 - "$PAGE" "$TMP/page.html" <<'PY'
import sys
src, dst = sys.argv[1], sys.argv[2]
html = open(src, encoding="utf-8").read()
probe = ("<script>addEventListener('load',function(){setTimeout(function(){var n=performance.getEntriesByType('navigation')[0];"
         "document.body.setAttribute('data-load-ms',(n.loadEventEnd-n.startTime).toFixed(1));},0);});</script>")
open(dst, "w", encoding="utf-8").write(html.replace("</body>", probe + "</body>"))
PY
{
  echo "# machine: $(uname -srm); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(nproc) cpus; load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# browser: $("$BROWSER" --version 2>/dev/null | head -1)"
  echo "# page: $PAGE ($(stat -c %s "$PAGE") bytes)"
  echo "run,load_ms,process_wall_ms"
  for i in $(seq 1 "$RUNS"); do
    prof="$TMP/profile-$i"
    t0=$(date +%s%N)
    dom=$("$BROWSER" --headless --no-sandbox --disable-gpu --disable-background-networking \
      --disable-component-update --disable-sync --no-first-run --user-data-dir="$prof" \
      --virtual-time-budget=10000 --dump-dom "file://$TMP/page.html" 2>/dev/null)
    t1=$(date +%s%N)
    ms=$(printf '%s' "$dom" | grep -o 'data-load-ms="[0-9.]*"' | head -1 | grep -o '[0-9.]*' || true)
    [ -n "$ms" ] || { echo "error: the page did not report its load time (run $i)" >&2; exit 1; }
    echo "$i,$ms,$(( (t1 - t0) / 1000000 ))"
  done
} | tee "$TMP/out.csv" > "$OUT"
python3 - "$TMP/out.csv" <<'PY'
import statistics, sys
rows = [l.strip().split(",") for l in open(sys.argv[1]) if l[0].isdigit()]
load = [float(r[1]) for r in rows]; wall = [float(r[2]) for r in rows]
print(f"median load {statistics.median(load):.0f} ms (max {max(load):.0f}); median Chromium process wall {statistics.median(wall):.0f} ms; goal < 3000 ms", file=sys.stderr)
PY
