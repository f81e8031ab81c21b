#!/usr/bin/env bash
# Runs fuzz targets for a fixed time each, one libFuzzer process at a time per target
# (-jobs=1, under `nice -n 19`), and appends one result line per target to fuzz/RESULTS.tsv:
# target, seconds, runs, coverage at 25/50/75/100% of the time, the run number of the last new
# coverage, and the crashes found (kept in fuzz/artifacts/TARGET/).
#
# usage: fuzz/run.sh SECONDS TARGET...
# Build first: RUSTC_BOOTSTRAP=1 cargo fuzz build -O -s none --fuzz-dir fuzz (see fuzz/README.md).
set -euo pipefail
cd "$(dirname "$0")"
secs="$1"; shift
bin_dir="target/x86_64-unknown-linux-gnu/release"
for t in "$@"; do
  mkdir -p "corpus/$t" "artifacts/$t" "logs/$t"
  log="logs/$t/fuzz-0.log"
  rm -f "$log"
  start=$(date +%s)
  # libFuzzer's job mode writes the worker's output to fuzz-0.log in the working directory.
  (cd "logs/$t" && nice -n 19 "../../$bin_dir/$t" "../../corpus/$t" \
      -jobs=1 -workers=1 -max_total_time="$secs" -rss_limit_mb=4096 -malloc_limit_mb=2048 -timeout=30 \
      -max_len=65536 -artifact_prefix="../../artifacts/$t/" -print_final_stats=1 >/dev/null 2>&1) || true
  took=$(( $(date +%s) - start ))
  # "#RUNS  NEW|REDUCE|pulse  cov: C ft: F ... exec/s: E" lines: coverage over time (runs / exec/s)
  stats=$(awk -v secs="$secs" '
    /cov: / { n=$1; sub("#","",n); for(i=1;i<=NF;i++){ if($i=="cov:") c=$(i+1); if($i=="exec/s:") e=$(i+1) }
              if (e>0) t=n/e; else t=0
              for(q=1;q<=4;q++) if (t <= secs*q/4) cov[q]=c
              if ($2=="NEW") lastnew=n
              runs=n; last=c }
    END { for(q=1;q<=4;q++) if(cov[q]=="") cov[q]=last
          printf "%s\t%s/%s/%s/%s\t%s", runs, cov[1], cov[2], cov[3], last, lastnew }' "$log")
  crashes=$(ls "artifacts/$t" | grep -c -E '^(crash|oom|timeout|leak)-' || true)
  printf "%s\t%s\t%s\t%s\n" "$t" "$took" "$stats" "$crashes" | tee -a RESULTS.tsv
done
