#!/bin/sh
# RUSTC_WRAPPER for a quick fuzz build (see README.md): adds libFuzzer's coverage
# instrumentation (the flags `cargo fuzz build -s none` passes) to gleaner's own crates and the
# fuzz targets only, so the dependencies compiled for the main workspace are reused as they are.
rustc="$1"; shift
case " $* " in
  *" --crate-name gleaner_"* | *"fuzz_targets/"*)
    exec "$rustc" "$@" -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
      -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
      -Cllvm-args=-sanitizer-coverage-trace-compares -Cllvm-args=-simplifycfg-branch-fold-threshold=0 \
      --cfg fuzzing -Cdebug-assertions -Coverflow-checks ;;
esac
exec "$rustc" "$@"
