#!/bin/sh
# Builds the libFuzzer targets with clang and runs each for a bounded time.
# Any crash, leak or sanitizer report fails (libFuzzer exits non-zero).
#   scripts/fuzz.sh [SECONDS]
set -eu
seconds=${1:-30}
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-fuzz"
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DBINDSUP_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$build" -j"$(nproc)"
corpus="$build/corpus"
mkdir -p "$corpus"
cp "$root"/fuzz/corpus/* "$corpus"/
cd "$build"
echo "fuzzing the option, environment and address parsers for ${seconds}s"
./fuzz/options_fuzzer -max_total_time="$seconds" -timeout=5 -print_final_stats=1 "$corpus" \
  >"$build/fuzz.log" 2>&1 || { tail -n 40 "$build/fuzz.log"; exit 1; }
grep -E "^(stat::number_of_executed_units|Done)" "$build/fuzz.log" || true
