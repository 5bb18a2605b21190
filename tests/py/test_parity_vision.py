"""Parity of locus's ViT image classifiers with Hugging Face transformers, the independent oracle.

fixtures/models/vit-tiny-* are tiny random-weight ViTForImageClassification checkpoints built by
scripts/gen_fixtures.py, each with a preprocessor_config.json of one PIL resampling mode (nearest, bilinear,
bicubic, lanczos; ViTImageProcessor) or the shortest_edge resize + center crop form (CLIPImageProcessor).
expected.json lists the images (real photos of ../shared/fixtures/c2pa, relative to the repository root,
opened with PIL and convert("RGB"), no EXIF transpose) and HF's labels; expected.safetensors holds HF's
logits; pixel_values.npy holds the pixel_values HF's image processor produced for the first two images.

  * model parity: `locus classify DIR --pixel-values pixel_values.npy` feeds HF's exact pixel_values:
    logits within 1e-4;
  * end to end: `locus classify DIR IMAGE...` decodes and preprocesses the files itself: logits within 2e-3.
"""
import numpy as np
import pytest

from conftest import (REPO, command_help, data_items, device_args, load_model_fixture, max_abs_error,
                      model_fixture_names, require_locus, run_json, worst_position)

TOL_MODEL = 1e-4  # same pixel_values in, f32 logits out
TOL_END_TO_END = 2e-3  # locus's own JPEG/PNG decoding and PIL-exact resampling in front
VISION_FIXTURES = model_fixture_names(kind="vision")

if not VISION_FIXTURES:  # pragma: no cover - the fixtures are committed
    pytest.skip("no vision fixtures under fixtures/models (run scripts/gen_fixtures.py)", allow_module_level=True)


def check_labels(name, what, got_labels, want_labels, tol):
    """locus's labels (possibly a top-k) are HF's best ones, in HF's order unless tied within tol."""
    assert isinstance(got_labels, list) and got_labels, f"{name}: {what}: no labels in output"
    want_score = {w["label"]: w["score"] for w in want_labels}
    for rank, g in enumerate(got_labels):
        label = g.get("label")
        assert label in want_score, f"{name}: {what}: label {label!r} not in id2label {list(want_score)}"
        assert abs(float(g.get("score")) - want_score[label]) <= tol, (
            f"{name}: {what}: score of {label!r} is {g.get('score')}, HF's is {want_score[label]}")
        w = want_labels[rank]
        assert label == w["label"] or abs(want_score[label] - w["score"]) <= 2 * tol, (
            f"{name}: {what}: label at rank {rank} is {label!r}, HF's is {w['label']!r}")


def pixel_values_supported():
    return "--pixel-values" in command_help("classify")


@pytest.mark.parametrize("name", VISION_FIXTURES)
def test_logits_from_hf_pixel_values(name):
    """The model alone: HF's pixel_values (float32 (N, 3, H, W), C order) in, logits within 1e-4 out."""
    d, meta, t = load_model_fixture(name)
    require_locus()
    if not pixel_values_supported():
        pytest.skip("`locus classify --help` does not mention --pixel-values (the option that feeds HF's exact "
                    "pixel_values to the model); model-only parity cannot be checked")
    pv_path = d / meta["pixel_values_file"]
    n = np.load(pv_path).shape[0]
    out = run_json("classify", d, *device_args(), "--pixel-values", pv_path)
    items = data_items(out, n)
    got = np.asarray([item.get("logits") for item in items], dtype=np.float64)
    want = t["pixel_values_logits"]
    err = max_abs_error(got, want, f"{name}: logits from pixel_values.npy")
    assert err <= TOL_MODEL, (f"{name}: logits from HF's pixel_values: max abs error {err:.3g} > {TOL_MODEL:g} at "
                              f"(image, label) {worst_position(got, want)}")
    for i, item in enumerate(items):
        check_labels(name, f"pixel_values[{i}]", item.get("labels"), meta["labels"][i], TOL_MODEL)


@pytest.mark.parametrize("name", VISION_FIXTURES)
def test_logits_end_to_end_from_image_files(name):
    """Decoding + preprocessing + model: `locus classify DIR IMAGE...` on the real photos, logits within 2e-3
    of HF's (PIL decode, convert("RGB"), the image processor of preprocessor_config.json, the model)."""
    d, meta, t = load_model_fixture(name)
    files = meta["images"]
    missing = [f for f in files if not (REPO / f).is_file()]
    if missing:
        pytest.skip(f"test images not found: {missing} (they live in ../shared/fixtures/c2pa beside the repository)")
    out = run_json("classify", d, *device_args(), *files)  # run from the repository root: the paths are relative to it
    items = data_items(out, len(files))
    for i, item in enumerate(items):
        assert item.get("file") == files[i], f"{name}: item {i} names file {item.get('file')!r}, expected {files[i]!r}"
    got = np.asarray([item.get("logits") for item in items], dtype=np.float64)
    want = t["logits"]
    err = max_abs_error(got, want, f"{name}: logits")
    where = worst_position(got, want)
    assert err <= TOL_END_TO_END, (
        f"{name}: end-to-end logits max abs error {err:.3g} > {TOL_END_TO_END:g} on {files[where[0]]} "
        f"(resample {meta['image_processor'].get('resample')}, processor "
        f"{meta['image_processor'].get('image_processor_type')}); for scale: moving every pixel by one 8-bit level "
        f"moves these logits by up to {meta['logit_change_per_one_level_pixel_change']:.3g}")
    for i, item in enumerate(items):
        check_labels(name, files[i], item.get("labels"), meta["labels"][i], TOL_END_TO_END)
