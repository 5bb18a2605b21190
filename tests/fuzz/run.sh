#!/usr/bin/env bash
# Bounded fuzzing of every libFuzzer target (tests/fuzz/fuzz_*.c), built with ASan + UBSan by
# `make fuzz` into build-fuzz/. Each target runs for SECONDS on a copy of its committed seed corpus,
# tests/fuzz/corpus/<target>/ (or tests/fuzz/corpus/<target without the fuzz_ prefix>/); new inputs it
# finds go to a scratch directory, not into the repository. A crash, leak, timeout or sanitizer
# report fails the run; the reproducer is kept in build-fuzz/artifacts/<target>/.
#   tests/fuzz/run.sh [SECONDS]        default 20
#   FUZZ_TARGETS="fuzz_a fuzz_b"       only these
set -uo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-20}
# Build everything; if some other part of the tree does not compile, still build each target alone
# so one broken target does not hide the others (a target that cannot be built fails the run).
if ! make -s fuzz; then
  echo "fuzz: full build failed; building the targets one by one"
  for src in tests/fuzz/fuzz_*.c; do
    cmake --build build-fuzz --target "$(basename "$src" .c)" -j "$(nproc)" >/dev/null 2>&1 ||
      echo "fuzz: $(basename "$src" .c) does not build"
  done
fi
targets=()
if [ -n "${FUZZ_TARGETS:-}" ]; then
  read -r -a targets <<<"$FUZZ_TARGETS"
else
  for src in tests/fuzz/fuzz_*.c; do
    [ -e "$src" ] || continue
    targets+=("$(basename "$src" .c)")
  done
fi
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz: no targets"
  exit 0
fi
failed=()
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for t in "${targets[@]}"; do
  bin=build-fuzz/$t
  if [ ! -x "$bin" ]; then
    echo "fuzz: $t was not built"
    failed+=("$t")
    continue
  fi
  seeds=tests/fuzz/corpus/$t
  [ -d "$seeds" ] || seeds=tests/fuzz/corpus/${t#fuzz_}
  work=$scratch/$t
  mkdir -p "$work" "build-fuzz/artifacts/$t"
  [ -d "$seeds" ] && cp -r "$seeds"/. "$work"/ 2>/dev/null
  echo "=== $t: ${seconds}s, $(ls "$work" | wc -l) seeds"
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
      -print_final_stats=1 -artifact_prefix="build-fuzz/artifacts/$t/" "$work" >"$scratch/$t.log" 2>&1
  rc=$?
  tail -n 12 "$scratch/$t.log" | grep -E "stat::number_of_executed_units|stat::peak_rss_mb|ERROR|SUMMARY|Done" || true
  if [ $rc -ne 0 ]; then
    echo "fuzz: $t FAILED (exit $rc); log:"
    grep -E -A 30 "ERROR|==[0-9]+==|runtime error" "$scratch/$t.log" | head -60
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}"
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran ${seconds}s without a finding"
