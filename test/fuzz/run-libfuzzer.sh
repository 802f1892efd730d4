#!/usr/bin/env bash
# Builds and runs the libFuzzer targets of the C++ parsers for a bounded
# time (FUZZ_SECONDS, default 30 per target). Any crash is saved in
# test/fuzz/crashes/ and must become a regression input in the corpus.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${FUZZ_SECONDS:-30}"
. test/fuzz/need-clang.sh
out=node_modules/.cache/sigkit-fuzz
mkdir -p "$out" test/fuzz/crashes
for target in parse_stat; do
  bin="$out/${target}_fuzzer"
  clang++ -std=c++17 -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -o "$bin" "test/fuzz/${target}_fuzzer.cc" native/proc_parse.cc
  work="$out/corpus-$target"
  mkdir -p "$work"
  cp -n test/fuzz/corpus/$target/* "$work/" 2>/dev/null || true
  echo "== libFuzzer $target for ${seconds}s"
  "$bin" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 -artifact_prefix=test/fuzz/crashes/ \
    "$work" test/fuzz/corpus/$target 2>&1 | grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::new_units_added|==[0-9]+==|SUMMARY|Done)' || true
  # The fuzzer exits non-zero on a crash; grep above must not hide it.
  "$bin" -runs=0 test/fuzz/corpus/$target >/dev/null 2>&1
done
# A crash the fuzzer saved fails the run until it is fixed and moved into the
# corpus as a regression input.
if ls test/fuzz/crashes/ 2>/dev/null | grep -q .; then
  echo "libFuzzer found crashes: $(ls test/fuzz/crashes/)" >&2
  exit 1
fi
