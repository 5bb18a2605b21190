#!/usr/bin/env bash
# Every test of locus: build, unit tests, Python differential/parity tests against independent
# oracles (Hugging Face tokenizers/transformers outputs, c2pa-python, PIL), then the same under
# AddressSanitizer + UBSan, then a bounded fuzzing pass over the parsers.
#   scripts/test.sh            everything
#   FUZZ_SECONDS=N             seconds per fuzz target (default 20)
#   LOCUS_SKIP_ASAN=1          skip the sanitizer pass (local iteration only)
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test || exit 1
py=${PYTHON:-python3}
jobs=$(nproc)
failed=()

step() { echo; echo "=== $*"; }

step "build (release)"
make -s all JOBS="$jobs" || exit 1

step "unit tests (release)"
(cd build && ctest --output-on-failure -j "$jobs") || failed+=("unit")

step "python tests (release)"
LOCUS_BIN=$PWD/build/locus $py -m pytest -q -rs tests/py || failed+=("python")

if [ "${LOCUS_SKIP_ASAN:-0}" != 1 ]; then
  step "build (AddressSanitizer + UBSan)"
  make -s asan JOBS="$jobs" || exit 1
  step "unit tests (ASan + UBSan)"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j "$jobs") || failed+=("unit-asan")
  step "python tests (ASan + UBSan binary)"
  ASAN_OPTIONS=detect_leaks=1 LOCUS_BIN=$PWD/build-asan/locus LOCUS_SANITIZED=1 \
    $py -m pytest -q -rs -m "not slow" tests/py || failed+=("python-asan")
fi

if [ -f tests/fuzz/run.sh ]; then
  step "fuzzing (${FUZZ_SECONDS:-20} s per target)"
  tests/fuzz/run.sh "${FUZZ_SECONDS:-20}" || failed+=("fuzz")
fi

echo
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
echo "all test stages passed (skipped tests are listed above as SKIPPED, not counted as passed)"
