#!/usr/bin/env bash
# C2PA verification on a ~1 GB signed JPEG: wall time and peak resident memory of
# `locus verify` against `sha256sum` on the same file, plus the size the C2PA code adds.
#
#   scripts/bench_c2pa.sh [SIZE_MB] [WORKDIR]      defaults: 1024 MB, /tmp/locus-bench-c2pa
#   LOCUS_BIN=path/to/locus                         default build/locus
#   REPEAT=N                                        runs of each tool (median reported), default 5
#   C2PA_CERTS=dir                                  test certificates, default ../shared/fixtures/c2pa/certs
#
# How the big file is made (honestly: the signature covers every byte):
#   1. a noise image of about SIZE_MB / 4.1 megapixels (uniform noise does not compress: JPEG at
#      quality 100 without chroma subsampling takes ~4.1 bytes per pixel) is encoded by Pillow
#      (libjpeg-turbo) into one ordinary baseline JPEG;
#   2. c2pa-python (c2pa-rs) signs it with the ES256 test certificate, without a thumbnail, so the
#      manifest's c2pa.hash.data binds the whole ~1 GB of image data. Where c2pa-python is not
#      installed, `locus sign` signs it instead (its output is checked against c2pa-python in
#      tests/py/test_c2pa_sign*.py); the script says which signer it used.
# The file is then read once to warm the page cache, and both tools are timed from the cache
# (sha256sum reads and hashes every byte; locus verify reads the header segments, the manifest,
# then streams everything else through SHA-256). Run on an otherwise idle machine: nothing else
# compiling. Targets: locus time <= sha256sum time / 0.8, peak RSS < 32 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mb=${1:-1024}
work=${2:-/tmp/locus-bench-c2pa}
locus=${LOCUS_BIN:-build/locus}
repeat=${REPEAT:-5}
py=${PYTHON:-python3}
certs=${C2PA_CERTS:-../shared/fixtures/c2pa/certs}
mkdir -p "$work"
big=$work/signed_${size_mb}mb.jpg

[ -x "$locus" ] || { echo "bench_c2pa: $locus not built (make)"; exit 1; }
[ -x /usr/bin/time ] || { echo "bench_c2pa: needs GNU time (/usr/bin/time)"; exit 1; }

if [ ! -s "$big" ]; then
  echo "making a ${size_mb} MB signed JPEG in $work ..."
  "$py" - "$size_mb" "$work" "$certs" <<'PYEOF'
import math, sys, time
import numpy as np
from PIL import Image
size_mb, work, certs = int(sys.argv[1]), sys.argv[2], sys.argv[3]
side = int(math.sqrt(size_mb * 1e6 / 4.1))
t = time.time()
rng = np.random.default_rng(1)
img = Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8))
raw = f"{work}/plain_{size_mb}mb.jpg"
img.save(raw, "JPEG", quality=100, subsampling=0)
del img
print(f"  encoded {side}x{side} in {time.time() - t:.1f}s")
try:
    import c2pa
except ImportError:
    print("  c2pa-python is not installed: signing with locus sign")
    sys.exit(0)
ctx = c2pa.Context(c2pa.Settings.from_dict({"builder": {"thumbnail": {"enabled": False}},
                                            "verify": {"verify_after_sign": False}}))
info = c2pa.C2paSignerInfo(b"es256", open(f"{certs}/es256.pub", "rb").read(),
                           open(f"{certs}/es256.pem", "rb").read(), None)
manifest = {"claim_generator_info": [{"name": "locus-bench", "version": "1"}], "title": "big.jpg",
            "assertions": [{"label": "c2pa.actions", "data": {"actions": [{"action": "c2pa.created",
                "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"}]}}]}
t = time.time()
builder = c2pa.Builder(manifest, context=ctx)
with open(raw, "rb") as s, open(f"{work}/signed_{size_mb}mb.jpg", "w+b") as d:
    builder.sign(c2pa.Signer.from_info(info), "image/jpeg", s, d)
print(f"  signed by c2pa-python in {time.time() - t:.1f}s")
PYEOF
  plain=$work/plain_${size_mb}mb.jpg
  if [ ! -s "$big" ]; then
    /usr/bin/time -f "  signed by locus sign in %e s (peak RSS %M KB)" \
      "$locus" sign "$plain" -o "$big" --cert "$certs/es256.pub" --key "$certs/es256.pem" --alg es256
  fi
  rm -f "$plain"
fi
bytes=$(stat -c %s "$big")
echo "file: $big ($bytes bytes)"
"$locus" verify "$big" --trust "$certs/test_cert_root_bundle.pem" | tail -n 1
cat "$big" >/dev/null # page cache

# run TOOL...: prints "seconds max_rss_kb" for one run
run() {
  /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" >/dev/null 2>&1 || true
  cat "$work/time.txt"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
: >"$work/locus.txt"
: >"$work/sha.txt"
for i in $(seq "$repeat"); do
  run "$locus" verify "$big" >>"$work/locus.txt"
  run sha256sum "$big" >>"$work/sha.txt"
done
lt=$(cut -d' ' -f1 "$work/locus.txt" | median)
st=$(cut -d' ' -f1 "$work/sha.txt" | median)
lr=$(cut -d' ' -f2 "$work/locus.txt" | sort -n | tail -n1)
sr=$(cut -d' ' -f2 "$work/sha.txt" | sort -n | tail -n1)
ratio=$(awk -v a="$st" -v b="$lt" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')
mbps() { awk -v n="$bytes" -v t="$1" 'BEGIN {printf "%.0f", (t > 0 ? n / t / 1e6 : 0)}'; }

# Code size of the C2PA library: text + data + bss of its objects (liblocus_c2pa.a members).
lib=${LOCUS_C2PA_LIB:-$(dirname "$locus")/liblocus_c2pa.a}
code_size=$( [ -f "$lib" ] && size -t "$lib" | awk '/TOTALS/ {print $4}' || echo "?")

echo
echo "| what | median s (of $repeat) | MB/s | peak RSS MB |"
echo "|---|---|---|---|"
echo "| sha256sum | $st | $(mbps "$st") | $(awk -v k="$sr" 'BEGIN {printf "%.1f", k / 1024}') |"
echo "| locus verify | $lt | $(mbps "$lt") | $(awk -v k="$lr" 'BEGIN {printf "%.1f", k / 1024}') |"
echo
echo "locus verify speed / sha256sum speed: $ratio (target >= 0.80); peak RSS target < 32 MB"
echo "C2PA code (size -t $lib, text+data+bss): $code_size bytes (target <= 300 KB)"
echo "$(date -u +%Y-%m-%d) $(uname -n) $(nproc) cores; file $bytes bytes; command: scripts/bench_c2pa.sh $size_mb"
