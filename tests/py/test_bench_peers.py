"""The peers of `locus bench` (scripts/peers/): the same workloads as locus (their op table equals
`locus bench --list`), the timing statistics against NumPy's percentiles, reports that follow the committed
schema, and `locus bench --compare` reading them. Each peer test is skipped, with the reason, where its
runtime (PyTorch; ONNX Runtime plus the onnx exporter package) is not installed.
"""
import importlib
import json
import subprocess
import sys

import pytest

from conftest import REPO, SANITIZED, run_json, run_locus

PEERS = REPO / "scripts" / "peers"
sys.path.insert(0, str(PEERS))
common = importlib.import_module("common")
jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is needed to validate reports against bench/schema.json")
SCHEMA = json.loads((REPO / "bench" / "schema.json").read_text())
FAST = ["--budget", "0.05", "--warmup", "0.01"]


def validate(doc):
    jsonschema.validate(doc, SCHEMA, cls=jsonschema.Draft202012Validator)


def test_peer_cases_match_locus():
    full = run_json("bench", "--list", "--suite", "full", "--json")
    locus_ops = [(r["name"], r["args"]) for r in full["results"] if r["kind"] == "op"]
    assert locus_ops == [(op, args) for op, args, _ in common.CASES]
    quick = run_json("bench", "--list", "--json")
    assert [(r["name"], r["args"]) for r in quick["results"] if r["kind"] == "op"] == common.select_cases("quick", None)
    locus_models = [(r["name"], r["args"], r["batch"], r["seq"]) for r in full["results"] if r["kind"] == "model"]
    peer_models = [(m, a, b, t) for m in common.FULL_MODELS
                   for b, t, a, _ in common.model_points(m, common.FULL_BATCHES, common.FULL_SEQS)]
    assert locus_models == peer_models


def test_peer_statistics_against_numpy():
    np = pytest.importorskip("numpy")
    rng = np.random.default_rng(3)
    for n in (1, 2, 5, 37, 400):
        x = rng.lognormal(0.0, 0.5, n).tolist()
        s = common.stats(x)
        assert s["median_ms"] == pytest.approx(float(np.percentile(x, 50)), rel=1e-12)
        assert s["p10_ms"] == pytest.approx(float(np.percentile(x, 10)), rel=1e-12)
        assert s["p90_ms"] == pytest.approx(float(np.percentile(x, 90)), rel=1e-12)
        assert s["mean_ms"] == pytest.approx(float(np.mean(x)), rel=1e-12)
        if n > 1:
            assert s["stddev_ms"] == pytest.approx(float(np.std(x, ddof=1)), rel=1e-9)


def test_peer_op_costs_match_locus(tmp_path):
    """The peers' FLOP and byte counts are locus's (so that GFLOP/s and GB/s compare like with like)."""
    doc = run_json("bench", "--ops", "MatMul,Linear,Conv1d,Softmax,Gather,Scatter,BCE,Sum,Argmax,Sort", "--no-probe",
                   *FAST, "--no-progress", "--json")
    for r in doc["results"]:
        assert r["status"] == "ok", r.get("error")
        flops, nbytes = common.op_cost(r["name"], r["args"], 4)
        assert flops == pytest.approx(r["flops"], rel=1e-12), r["name"]
        assert nbytes == pytest.approx(r["bytes"], rel=1e-12), r["name"]


def run_peer(script, *args, timeout=900):
    proc = subprocess.run([sys.executable, str(PEERS / script), *[str(a) for a in args]], capture_output=True, text=True,
                          timeout=timeout, cwd=str(REPO))
    assert proc.returncode == 0, f"{script} exited {proc.returncode}: {proc.stderr[-2000:]}"
    return proc


@pytest.mark.skipif(SANITIZED, reason="the peers do not involve the sanitized binary")
def test_torch_peer(tmp_path):
    pytest.importorskip("torch", reason="PyTorch is not installed")
    pytest.importorskip("transformers", reason="transformers is not installed")
    out = tmp_path / "torch.json"
    run_peer("torch_peer.py", "--ops", "ReLU,Softmax,Gather,Scatter,BCE,Conv1d", *FAST, "-o", out)
    doc = json.loads(out.read_text())
    validate(doc)
    assert doc["runtime"]["name"] == "pytorch"
    assert all(r["status"] == "ok" and r["variant"] == "eager" for r in doc["results"]), doc["results"]
    model = tmp_path / "torch-model.json"
    run_peer("torch_peer.py", "--model", "minilm-l6", "--batch", "1", "--seq", "16", *FAST, "-o", model)
    mdoc = json.loads(model.read_text())
    validate(mdoc)
    (r,) = mdoc["results"]
    assert r["status"] == "ok" and r["tokens_per_s"] > 0 and "median_ms" in mdoc

    # locus reads it side by side with its own run of the same workloads
    mine = tmp_path / "locus.json"
    run_locus("bench", "--ops", "ReLU,Softmax,Gather,Scatter,BCE,Conv1d", *FAST, "--no-progress", "--no-probe",
              "--save-json", mine, check=True)
    text = run_locus("bench", "--compare", mine, out, "--md", check=True).stdout
    assert "Side by side" in text and "x pytorch eager" in text
    for name in ("ReLU", "Softmax", "Gather", "Scatter", "BCE", "Conv1d"):
        row = next(ln for ln in text[text.index("Side by side"):].splitlines() if ln.startswith(f"| {name} "))
        ratio = row.rstrip(" |").split("|")[-1].strip()
        assert float(ratio) > 0, row


@pytest.mark.skipif(SANITIZED, reason="the peers do not involve the sanitized binary")
def test_onnx_peer(tmp_path):
    pytest.importorskip("torch", reason="PyTorch (the ONNX exporter) is not installed")
    pytest.importorskip("onnx", reason="the onnx package (needed by torch.onnx.export) is not installed")
    pytest.importorskip("onnxruntime", reason="ONNX Runtime is not installed")
    out = tmp_path / "ort.json"
    run_peer("onnx_peer.py", "--ops", "ReLU,MatMul,BCE,Sort", "--model", "minilm-l6", "--batch", "1", "--seq", "16",
             *FAST, "-o", out)
    doc = json.loads(out.read_text())
    validate(doc)
    assert doc["runtime"]["name"] == "onnxruntime"
    by = {(r["kind"], r["name"]): r for r in doc["results"]}
    for key in [("op", "ReLU"), ("op", "MatMul"), ("op", "BCE"), ("op", "Sort"), ("model", "minilm-l6")]:
        assert by[key]["status"] == "ok", by[key].get("error")


@pytest.mark.parametrize("args", [[], ["--ops", "none"], ["--model", "none"], ["--ops", "ReLU,Sort"],
                                  ["--model", "minilm-l6", "--batch", "1,2"], ["--suite", "full", "--ops", "none"],
                                  ["--suite", "full", "--ops", "all", "--model", "vit-base"]])
def test_peer_selection_matches_locus(args):
    """Given the same options, locus and the peers select the same workloads."""
    import argparse

    doc = run_json("bench", "--list", "--json", *args)
    mine = [(r["kind"], r["name"], r["args"]) for r in doc["results"]]
    p = argparse.ArgumentParser()
    common.add_common_arguments(p)
    cases, models, batches, seqs, _ = common.plan(p.parse_args(args))
    theirs = [("op", op, a) for op, a in cases]
    theirs += [("model", m, a) for m in models for _, _, a, _ in common.model_points(m, batches, seqs)]
    assert sorted(mine) == sorted(theirs)
