"""Image decoding against PIL: locus's RGB must equal np.array(Image.open(f).convert("RGB")) for
every layout (real photographs from ../shared/fixtures/c2pa and the variants derived from them in
tests/data/images), and with --exif-transpose PIL.ImageOps.exif_transpose first. Hostile files
fail with one line naming the file, no sanitizer report."""
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import helper_binary

PIL = pytest.importorskip("PIL")
from PIL import Image, ImageOps  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "images"
FIXTURES = ROOT.parent / "shared" / "fixtures" / "c2pa"


BIN = helper_binary("test_image", env="LOCUS_TEST_IMAGE")
pytestmark = pytest.mark.skipif(BIN is None, reason="test_image binary not built (set LOCUS_BIN)")


def good_images():
    files = sorted(p for p in DATA.glob("*") if not p.name.startswith(("bad_", "unsupported_")))
    if FIXTURES.exists():
        files += sorted(FIXTURES.glob("*.jpg")) + sorted(FIXTURES.glob("*.png"))
    return files


def decode(path, tmp_path, exif=False):
    out = tmp_path / "out.rgb"
    cmd = [str(BIN), "--decode", str(path), str(out)] + (["--exif-transpose"] if exif else [])
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        if "not supported by this build" in p.stderr:
            pytest.skip(f"{path.name}: {p.stderr.strip()}")
        return None, p.stderr
    w, h = map(int, p.stdout.split())
    return np.fromfile(out, dtype=np.uint8).reshape(h, w, 3), p.stderr


def reference(path, exif=False):
    with Image.open(path) as im:
        if exif:
            im = ImageOps.exif_transpose(im)
        return np.asarray(im.convert("RGB"))


@pytest.mark.parametrize("path", good_images(), ids=lambda p: p.name)
def test_decode_matches_pil(path, tmp_path):
    got, err = decode(path, tmp_path)
    assert got is not None, err
    ref = reference(path)
    assert got.shape == ref.shape
    diff = np.abs(got.astype(int) - ref.astype(int))
    assert diff.max() == 0, f"{path.name}: {np.count_nonzero(diff)} values differ, max {diff.max()}"


@pytest.mark.parametrize("path", good_images(), ids=lambda p: p.name)
def test_exif_transpose_matches_pil(path, tmp_path):
    got, err = decode(path, tmp_path, exif=True)
    assert got is not None, err
    ref = reference(path, exif=True)
    assert got.shape == ref.shape and np.array_equal(got, ref), path.name


def test_exif_orientation_is_off_by_default(tmp_path):
    got, _ = decode(DATA / "orient6.jpg", tmp_path)
    assert got.shape[:2] == (32, 48)
    got, _ = decode(DATA / "orient6.jpg", tmp_path, exif=True)
    assert got.shape[:2] == (48, 32)


@pytest.mark.parametrize("path", sorted(DATA.glob("bad_*")), ids=lambda p: p.name)
def test_hostile_files_fail_cleanly(path, tmp_path):
    got, err = decode(path, tmp_path)
    assert got is None
    lines = [l for l in err.splitlines() if l.strip()]
    assert len(lines) == 1 and str(path) in lines[0], err
    assert "Sanitizer" not in err and "runtime error" not in err
    # PIL refuses these too.
    with pytest.raises(Exception):
        reference(path)


def test_bomb_message_names_the_limit(tmp_path):
    _, err = decode(DATA / "bad_bomb.png", tmp_path)
    assert "100000x100000" in err and "limit" in err


def test_animated_webp_is_refused_clearly(tmp_path):
    path = DATA / "unsupported_animated.webp"
    got, err = decode(path, tmp_path)
    assert got is None and str(path) in err and "animated" in err
