"""pixel_values against Hugging Face's image processors (the PIL backends of transformers).

For each preprocessor_config.json below and each image (the real photographs of
../shared/fixtures/c2pa and the variants in tests/data/images), locus's pixel_values
(`test_image --preprocess CONFIG IMAGE OUT`) must be within 1/255 of HF's after undoing the
normalisation scale: |locus - hf| * std <= rescale_factor. The resampling is meant to be
PIL's exactly, so the share of bit-identical values is reported too, and lc_image_resize is
compared with PIL's Image.resize directly for every filter, shrinking and growing.
"""
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import helper_binary

PIL = pytest.importorskip("PIL")
transformers = pytest.importorskip("transformers")
from PIL import Image, ImageOps  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "images"
FIXTURES = ROOT.parent / "shared" / "fixtures" / "c2pa"


BIN = helper_binary("test_image", env="LOCUS_TEST_IMAGE")
pytestmark = pytest.mark.skipif(BIN is None, reason="test_image binary not built (set LOCUS_BIN)")

IMAGENET_DEFAULT = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
IMAGENET_STANDARD = ([0.5, 0.5, 0.5], [0.5, 0.5, 0.5])
CLIP = ([0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711])


def cfg(kind, **kw):
    c = {"image_processor_type": kind, "do_resize": True, "do_rescale": True, "rescale_factor": 1 / 255,
         "do_normalize": True}
    c.update(kw)
    return c


CONFIGS = {
    # google/vit-base-patch16-224
    "vit": cfg("ViTImageProcessor", size={"height": 224, "width": 224}, resample=2,
               image_mean=IMAGENET_STANDARD[0], image_std=IMAGENET_STANDARD[1]),
    # facebook/deit-base-distilled-patch16-224
    "deit": cfg("DeiTImageProcessor", size={"height": 256, "width": 256}, resample=3, do_center_crop=True,
                crop_size={"height": 224, "width": 224}, image_mean=IMAGENET_DEFAULT[0],
                image_std=IMAGENET_DEFAULT[1]),
    # facebook/convnext-tiny-224
    "convnext": cfg("ConvNextImageProcessor", size={"shortest_edge": 224}, crop_pct=0.875, resample=3,
                    image_mean=IMAGENET_DEFAULT[0], image_std=IMAGENET_DEFAULT[1]),
    "convnext384": cfg("ConvNextImageProcessor", size={"shortest_edge": 384}, resample=3,
                       image_mean=IMAGENET_DEFAULT[0], image_std=IMAGENET_DEFAULT[1]),
    # openai/clip-vit-base-patch32
    "clip": cfg("CLIPImageProcessor", size={"shortest_edge": 224}, do_center_crop=True,
                crop_size={"height": 224, "width": 224}, resample=3, do_convert_rgb=True,
                image_mean=CLIP[0], image_std=CLIP[1]),
    # facebook/dinov2-small (BitImageProcessor)
    "dinov2": cfg("BitImageProcessor", size={"shortest_edge": 256}, do_center_crop=True,
                  crop_size={"height": 224, "width": 224}, resample=3, image_mean=IMAGENET_DEFAULT[0],
                  image_std=IMAGENET_DEFAULT[1]),
    "siglip": cfg("SiglipImageProcessor", size={"height": 384, "width": 384}, resample=3,
                  image_mean=IMAGENET_STANDARD[0], image_std=IMAGENET_STANDARD[1]),
    "beit": cfg("BeitImageProcessor", size={"height": 224, "width": 224}, resample=2, do_center_crop=False,
                image_mean=IMAGENET_STANDARD[0], image_std=IMAGENET_STANDARD[1]),
    # Each remaining PIL filter, and odd sizes.
    "vit_nearest": cfg("ViTImageProcessor", size={"height": 197, "width": 233}, resample=0),
    "vit_lanczos": cfg("ViTImageProcessor", size={"height": 224, "width": 160}, resample=1),
    "vit_box": cfg("ViTImageProcessor", size={"height": 100, "width": 300}, resample=4),
    "vit_hamming": cfg("ViTImageProcessor", size={"height": 301, "width": 99}, resample=5),
    # An old-style config: integer size, feature_extractor_type.
    "legacy": {"feature_extractor_type": "ViTFeatureExtractor", "size": 224, "resample": 2, "do_resize": True,
               "do_normalize": True, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5]},
    # Crop larger than the resized image: zero padding.
    "clip_pad": cfg("CLIPImageProcessor", size={"shortest_edge": 40}, do_center_crop=True,
                    crop_size={"height": 64, "width": 48}, resample=3, image_mean=CLIP[0], image_std=CLIP[1]),
    "no_rescale": cfg("ViTImageProcessor", size={"height": 64, "width": 64}, resample=2, do_rescale=False,
                      image_mean=[120.0, 110.0, 100.0], image_std=[60.0, 61.0, 62.0]),
    "no_normalize": cfg("ViTImageProcessor", size={"height": 64, "width": 64}, resample=3, do_normalize=False),
}


def hf_processor(config):
    import transformers as t
    kind = config.get("image_processor_type") or config.get("feature_extractor_type")
    name = kind.replace("FeatureExtractor", "ImageProcessor") + "Pil"
    cls = getattr(t, name, None)
    if cls is None:
        pytest.skip(f"transformers {t.__version__} has no {name}")
    kw = {k: v for k, v in config.items() if k not in ("image_processor_type", "feature_extractor_type")}
    return cls(**kw)


def hf_pixel_values(config, path, exif=False):
    with Image.open(path) as im:
        if exif:
            im = ImageOps.exif_transpose(im)
        im = im.convert("RGB")
        out = hf_processor(config)(im, return_tensors="np")["pixel_values"]
    return np.asarray(out[0], dtype=np.float32)


def locus_pixel_values(config, path, tmp_path, exif=False):
    cfg_path = tmp_path / "preprocessor_config.json"
    cfg_path.write_text(json.dumps(config))
    out = tmp_path / "pv.f32"
    cmd = [str(BIN), "--preprocess", str(cfg_path), str(path), str(out)] + (["--exif-transpose"] if exif else [])
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if p.returncode != 0 and "not supported by this build" in p.stderr:
        return None  # WebP without libwebp: the decode tests report it as skipped
    assert p.returncode == 0, p.stderr
    shape = tuple(int(x) for x in p.stdout.split())
    return np.fromfile(out, dtype=np.float32).reshape(shape)


def tolerance(config):
    """1/255 of the pixel range, in the units of pixel_values."""
    tol = np.full(3, 1.0)
    if config.get("do_rescale", True):
        tol *= config.get("rescale_factor", 1 / 255) * 1.0001
    else:
        tol *= 1.0001
    if config.get("do_normalize", True):
        tol /= np.asarray(config.get("image_std", [0.5, 0.5, 0.5]), dtype=np.float64)
    return tol


def compare(config, path, tmp_path, exif=False):
    got = locus_pixel_values(config, path, tmp_path, exif)
    if got is None:
        return None
    ref = hf_pixel_values(config, path, exif)
    assert got.shape == ref.shape, f"{path.name}: shape {got.shape} vs HF {ref.shape}"
    diff = np.abs(got.astype(np.float64) - ref.astype(np.float64))
    worst = (diff.max(axis=(1, 2)) / tolerance(config)).max()
    exact = float(np.mean(got == ref))
    assert worst <= 1.0, f"{path.name}: max diff {diff.max():.6g} is {worst:.2f}x the 1/255 tolerance"
    # The resampling reproduces PIL's arithmetic, so nearly everything is bit-identical.
    assert exact >= 0.999, f"{path.name}: only {exact:.4%} of values bit-identical"
    return exact


PHOTOS = sorted(FIXTURES.glob("*.jpg")) + sorted(FIXTURES.glob("*.png")) if FIXTURES.exists() else []
VARIANTS = sorted(p for p in DATA.glob("*") if not p.name.startswith(("bad_", "unsupported_"))) \
    if DATA.exists() else []


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_real_photos(name, tmp_path):
    if not PHOTOS:
        pytest.skip("../shared/fixtures/c2pa not present")
    exact = [compare(CONFIGS[name], p, tmp_path) for p in PHOTOS]
    print(f"{name}: bit-identical share per photo {[round(e, 4) for e in exact]}")


@pytest.mark.parametrize("name", ["vit", "deit", "convnext", "clip", "vit_lanczos", "vit_nearest", "clip_pad"])
def test_derived_variants(name, tmp_path):
    if not VARIANTS:
        pytest.skip("tests/data/images missing (scripts/gen_test_images.py)")
    for p in VARIANTS:
        compare(CONFIGS[name], p, tmp_path)


def test_exif_transpose_then_preprocess(tmp_path):
    for p in [DATA / "orient6.jpg", DATA / "orient5.jpg", DATA / "orient6.png"] + (
            [FIXTURES / "no_alg.jpg"] if (FIXTURES / "no_alg.jpg").exists() else []):
        compare(CONFIGS["clip"], p, tmp_path, exif=True)


PIL_MAJOR = int(PIL.__version__.split(".")[0])


def vertical_first(w_in, h_in, w, h):
    """Pillow 13's pass order (locus follows it): vertical first when the height shrinks and loses
    more than twice as many pixels as the width. Pillow 12 and older always go horizontal first."""
    return w != w_in and h < h_in and 2 * (w_in - w) < h_in - h


@pytest.mark.parametrize("filt", [0, 1, 2, 3, 4, 5])
def test_resize_matches_pil_exactly(filt, tmp_path):
    srcs = [DATA / "photo.jpg", DATA / "tiny.png", DATA / "wide.png"] + PHOTOS[:1]
    sizes = [(224, 224), (37, 500), (1, 1), (300, 17), (513, 342), (64, 171)]
    for src in srcs:
        with Image.open(src) as im:
            im = im.convert("RGB")
            for w, h in sizes:
                if PIL_MAJOR < 13 and filt != 0 and vertical_first(im.width, im.height, w, h):
                    continue  # this Pillow filters the two axes in the other order
                out = tmp_path / "r.rgb"
                p = subprocess.run([str(BIN), "--resize", str(src), str(w), str(h), str(filt), str(out)],
                                   capture_output=True, text=True, timeout=120)
                assert p.returncode == 0, p.stderr
                got = np.fromfile(out, dtype=np.uint8).reshape(h, w, 3)
                ref = np.asarray(im.resize((w, h), resample=filt))
                d = np.abs(got.astype(int) - ref.astype(int))
                assert d.max() <= 1, f"{src.name} -> {w}x{h} filter {filt}: max diff {d.max()}"
                assert np.mean(d == 0) > 0.999, f"{src.name} -> {w}x{h} filter {filt}: {np.mean(d == 0)} exact"
