"""The CLI on a GPU: `locus embed --device cuda` in f32, f16 and bf16 against what Hugging Face transformers
computed (fixtures/models/*/expected.safetensors), `locus classify --device cuda` against the CPU, and
`locus info` naming the device, `locus bench --device cuda` counting what crosses between host and device. The f32 parity of every text fixture on the GPU is the team's
tests/py/test_parity_text.py run with LOCUS_TEST_DEVICE=cuda (scripts/gpu-check does both).

Tolerances (norm-wise relative error over the real tokens): f32 1e-4, f16 and bf16 1e-2.
Skipped, with the reason, where the binary has no CUDA backend or sees no GPU (CI).
"""
import numpy as np
import pytest

from conftest import data_items, load_model_fixture, model_fixture_names, run_json, run_locus

TEXT_FIXTURES = model_fixture_names(kind="text")
CLASSIFIERS = model_fixture_names(kind="text", predicate=lambda m: "id2label" in m)
TOL = {"f32": 1e-4, "f16": 1e-2, "bf16": 1e-2}


def cuda_devices():
    try:
        info = run_json("info", "--json")
    except Exception as e:  # pragma: no cover - reported by the skip below
        pytest.skip(f"locus info --json failed: {e}")
    if not info.get("cuda_compiled"):
        pytest.skip("locus was built without the CUDA backend")
    devs = [d for d in info.get("devices", []) if str(d.get("name", "")).startswith("cuda")]
    if not devs:
        pytest.skip("no CUDA device visible")
    return devs


def rel_err(got, want):
    den = np.linalg.norm(want)
    return float(np.linalg.norm(got - want) / (den if den > 0 else 1.0))


def test_info_lists_the_gpu():
    devs = cuda_devices()
    assert devs[0].get("description"), f"cuda device without a description: {devs[0]}"


@pytest.mark.parametrize("dtype", ["f32", "f16", "bf16"])
@pytest.mark.parametrize("name", TEXT_FIXTURES)
def test_embed_hidden_states_on_cuda(name, dtype):
    cuda_devices()
    d, meta, tensors = load_model_fixture(name)
    if "last_hidden_state" not in tensors:
        pytest.skip(f"{name}: no last_hidden_state in the fixture")
    texts = meta["texts"]
    out = run_json("embed", d, "--device", "cuda", "--dtype", dtype, "--pooling", "none", *texts)
    items = data_items(out, len(texts))
    got_all, want_all = [], []
    for i in range(len(texts)):
        n = len(meta["model_input_ids"][i])
        got = np.asarray(items[i]["last_hidden_state"], dtype=np.float64)
        assert got.shape[0] == n, f"{name}: text {i}: {got.shape[0]} rows for {n} tokens"
        got_all.append(got)
        want_all.append(tensors["last_hidden_state"][i, :n].astype(np.float64))
    err = rel_err(np.concatenate(got_all), np.concatenate(want_all))
    assert err <= TOL[dtype], f"{name} {dtype} on cuda: relative error {err:.3g} > {TOL[dtype]:g}"


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classify_on_cuda_matches_cpu(name):
    cuda_devices()
    d, meta, _ = load_model_fixture(name)
    texts = meta["texts"]
    cpu = data_items(run_json("classify", d, "--device", "cpu", *texts), len(texts))
    gpu = data_items(run_json("classify", d, "--device", "cuda", *texts), len(texts))
    for i in range(len(texts)):
        a = np.asarray(cpu[i].get("logits"), dtype=np.float64)
        b = np.asarray(gpu[i].get("logits"), dtype=np.float64)
        assert a.shape == b.shape and a.size, f"{name}: text {i}: logits {a.shape} vs {b.shape}"
        assert rel_err(b, a) <= 1e-4, f"{name}: text {i}: cuda logits {b} vs cpu {a}"


def test_bench_counts_host_device_copies():
    """An op with a CUDA kernel moves nothing between host and device per timed run; one that runs
    through the host (sort has no CUDA kernel) copies its result up on every run, and the
    table says so under the rows."""
    cuda_devices()
    doc = run_json("bench", "--device", "cuda", "--ops", "ReLU,Sort", "--model", "none", "--no-probe",
                   "--budget", "0.05", "--warmup", "0.01", "--no-progress", "--json")
    rows = {r["name"]: r for r in doc["results"]}
    relu, srt = rows["ReLU"], rows["Sort"]
    assert relu["status"] == "ok" and srt["status"] == "ok", (relu.get("error"), srt.get("error"))
    assert relu["h2d_bytes_per_run"] == 0 and relu["d2h_bytes_per_run"] == 0, relu
    # sort of a (64, 128, 1024) f32 tensor: its 32 MiB result goes up on every run (the input's host
    # copy, made on the first run, stays with its buffer)
    assert srt["h2d_bytes_per_run"] >= 32 << 20, srt
    table = run_locus("bench", "--device", "cuda", "--ops", "Sort", "--model", "none", "--no-probe",
                      "--budget", "0.05", "--warmup", "0.01", "--no-progress").stdout
    assert "MB host to device" in table, table
