#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing, build, and measure this machine with
# the built-in quick suite (synthetic BERT-base and MiniLM shapes, and the op suite).
# Extra arguments go to `locus bench` (e.g. --suite full, --html report.html).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
make -s
exec build/locus bench "$@"
