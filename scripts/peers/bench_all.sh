#!/usr/bin/env bash
# One benchmark run for BENCHMARKS.md: `locus bench` and then the PyTorch and ONNX Runtime peers on the
# same workloads, one after the other on the same machine, then the side-by-side comparison.
#
#   scripts/peers/bench_all.sh DEVICE [SUITE] [OUTDIR]      DEVICE: cpu or cuda; SUITE: quick (default) or full
# Environment:
#   LOCUS=build/locus     the locus binary
#   PYTHON=python3        the interpreter with torch, transformers, onnx and onnxruntime
#   THREADS=N             CPU threads for all three runtimes (default: every core)
#   EXTRA="..."           more `locus bench` / peer options, e.g. EXTRA="--dtype f16" or EXTRA="--ops none"
#   TORCH_VARIANTS=...    the PyTorch peer's variants (default: eager on CPU; eager,cuda-graphs,compile on CUDA)
# Writes OUTDIR/{locus,torch,ort}.json, OUTDIR/compare.md (the tables BENCHMARKS.md quotes), OUTDIR/report.html,
# OUTDIR/run.txt (date, machine, the exact commands). A peer that cannot run (package missing, no CUDA
# execution provider) is reported in run.txt and left out of the comparison.
set -uo pipefail
cd "$(dirname "$0")/../.."
dev=${1:?usage: bench_all.sh cpu|cuda [quick|full] [OUTDIR]}
suite=${2:-quick}
out=${3:-bench-out-$dev-$suite}
LOCUS=${LOCUS:-build/locus}
PY=${PYTHON:-python3}
threads=()
[ -n "${THREADS:-}" ] && threads=(--threads "$THREADS")
extra=(${EXTRA:-})
mkdir -p "$out"
log() { echo "$*" | tee -a "$out/run.txt"; }
: >"$out/run.txt"
log "date: $(date -u +%FT%TZ)"
log "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
command -v nvidia-smi >/dev/null && log "gpu: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1)"
log "locus: $("$LOCUS" --version 2>&1)"

files=()
cmd=("$LOCUS" bench --device "$dev" --suite "$suite" "${threads[@]}" "${extra[@]}" --no-progress --save-json "$out/locus.json")
log "command: ${cmd[*]}"
"${cmd[@]}" >"$out/locus.txt" 2>"$out/locus.err" && files+=("$out/locus.json") || { log "locus bench failed: $(tail -1 "$out/locus.err")"; exit 1; }

variants=()
[ -n "${TORCH_VARIANTS:-}" ] && variants=(--variants "$TORCH_VARIANTS")
cmd=("$PY" scripts/peers/torch_peer.py --device "$dev" --suite "$suite" "${threads[@]}" "${variants[@]}" "${extra[@]}" -o "$out/torch.json")
log "command: ${cmd[*]}"
if "${cmd[@]}" 2>"$out/torch.err"; then files+=("$out/torch.json"); else log "PyTorch peer did not run: $(tail -1 "$out/torch.err")"; fi

cmd=("$PY" scripts/peers/onnx_peer.py --device "$dev" --suite "$suite" "${threads[@]}" "${extra[@]}" -o "$out/ort.json")
log "command: ${cmd[*]}"
if "${cmd[@]}" 2>"$out/ort.err"; then files+=("$out/ort.json"); else log "ONNX Runtime peer did not run: $(tail -1 "$out/ort.err")"; fi

if [ ${#files[@]} -gt 1 ]; then
    "$LOCUS" bench --compare "${files[@]}" --md >"$out/compare.md" && "$LOCUS" bench --compare "${files[@]}" --html "$out/report.html" >/dev/null
else
    "$LOCUS" bench --report "${files[0]}" --md >"$out/compare.md" && "$LOCUS" bench --report "${files[0]}" --html "$out/report.html" >/dev/null
fi
log "done: $out/compare.md, $out/report.html"
