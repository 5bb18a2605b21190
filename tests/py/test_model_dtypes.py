"""Half-precision compute on the CPU (--dtype f16 / bf16): weights and activations are stored in the narrow
type and every op widens to f32 internally, so outputs track Hugging Face's f32 outputs to the precision of
the storage type. Bound: 2e-2 relative to the output's scale for f16, 5e-2 for bf16 (8 mantissa bits),
after two or three layers of rounding."""
import numpy as np
import pytest

from conftest import data_items, load_model_fixture, run_json

CASES = [("bert-odd-cased", "f16", 2e-2), ("bert-odd-cased", "bf16", 5e-2), ("roberta-tiny", "f16", 2e-2),
         ("xlmr-cls", "bf16", 5e-2), ("distilbert-tiny", "f16", 2e-2)]


@pytest.mark.parametrize("name,dtype,tol", CASES)
def test_half_precision_hidden_states(name, dtype, tol):
    d, meta, t = load_model_fixture(name)
    texts = meta["texts"]
    out = run_json("embed", d, "--pooling", "none", "--dtype", dtype, *texts)
    items = data_items(out, len(texts))
    want_all = t["last_hidden_state"]
    mask = t["attention_mask"]
    for i, item in enumerate(items):
        got = np.asarray(item["last_hidden_state"], dtype=np.float64)
        n = int(mask[i].sum())
        want = want_all[i, :n].astype(np.float64)
        assert got.shape == want.shape, f"{name} {dtype} text {i}: shape {got.shape} vs {want.shape}"
        scale = float(np.max(np.abs(want)))
        err = float(np.max(np.abs(got - want)))
        assert err <= tol * scale, f"{name} {dtype} text {i}: max error {err:.3g} > {tol} x {scale:.3g}"
        # and not trivially equal to f32: the narrow type really was used
    f32 = run_json("embed", d, "--pooling", "none", *texts[:1])
    half = run_json("embed", d, "--pooling", "none", "--dtype", dtype, *texts[:1])
    assert f32["data"][0]["last_hidden_state"] != half["data"][0]["last_hidden_state"], \
        f"--dtype {dtype} gave bit-identical f32 output: the dtype was not applied"


@pytest.mark.parametrize("name", ["bert-odd-cased", "roberta-cls", "distilbert-tiny", "xlmr-tiny"])
def test_fused_qkv_projection_matches_hf(name, monkeypatch):
    """LOCUS_FUSE_QKV=1 stacks Q, K and V into one GEMM (the GPU default) and attends through strided views
    of its output; on the CPU that path must give Hugging Face's hidden states to 1e-4 as well."""
    monkeypatch.setenv("LOCUS_FUSE_QKV", "1")
    d, meta, t = load_model_fixture(name)
    texts = meta["texts"]
    items = data_items(run_json("embed", d, "--pooling", "none", *texts), len(texts))
    mask = t["attention_mask"]
    for i, item in enumerate(items):
        n = int(mask[i].sum())
        got = np.asarray(item["last_hidden_state"], dtype=np.float64)
        err = float(np.max(np.abs(got - t["last_hidden_state"][i, :n])))
        assert err <= 1e-4, f"{name} fused QKV, text {i}: max error {err:.3g}"
