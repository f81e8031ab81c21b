#!/bin/sh
# RUSTC_WRAPPER for the fuzz build (see README.md): adds libFuzzer's coverage instrumentation
# (the flags `cargo fuzz build -s none` passes) to every crate compiled for the target (cargo
# must get `--target`, so that build scripts, proc macros and their dependencies, compiled for
# the host, stay plain), except the numeric kernels of the model stack (gemm, faer, candle),
# whose coverage says nothing about parsing and whose instrumented build is slow.
rustc="$1"; shift
case " $* " in
  *" --crate-type proc-macro"* | *" --crate-name build_script_"* | *" --crate-name gemm"* | *" --crate-name faer"* | \
  *" --crate-name pulp"* | *" --crate-name candle_core"* | *" --crate-name half"* | *" --crate-name tokenizers"*)
    exec "$rustc" "$@" ;;
  *" --crate-name zip "*" --target "*)
    # zip derives `arbitrary` under cfg(fuzzing), a dependency cargo adds only when it sees the
    # cfg in RUSTFLAGS, which this wrapper does not use: instrument it without the cfg
    exec "$rustc" "$@" -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
      -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
      -Cllvm-args=-sanitizer-coverage-trace-compares -Cllvm-args=-simplifycfg-branch-fold-threshold=0 ;;
  *" --target "*)
    exec "$rustc" "$@" -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
      -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
      -Cllvm-args=-sanitizer-coverage-trace-compares -Cllvm-args=-simplifycfg-branch-fold-threshold=0 \
      --cfg fuzzing ;;
esac
exec "$rustc" "$@"
