"""`locus bench`: the JSON report validated against the committed schema (bench/schema.json), the engine's
original --json contract, the statistics and rates inside a report, every output format (table, JSON, CSV,
Markdown, HTML), saved reports read back (--report, --compare) and clear errors for bad input.

Runs are kept tiny (a few small ops, MiniLM at batch 1 and a short sequence, --budget 0.05 s): these tests
check the machinery, BENCHMARKS.md holds the measured numbers.
"""
import csv
import io
import json
import math

import pytest

from conftest import REPO, SANITIZED, run_json, run_locus

jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is needed to validate reports against bench/schema.json")

SCHEMA = json.loads((REPO / "bench" / "schema.json").read_text())
SMALL_OPS = "ReLU,Softmax,Sort,Gather,BCE"
FAST = ["--budget", "0.05", "--warmup", "0.01", "--no-progress"]


def validate(doc):
    jsonschema.validate(doc, SCHEMA, cls=jsonschema.Draft202012Validator)


@pytest.fixture(scope="module")
def ops_report(tmp_path_factory):
    d = tmp_path_factory.mktemp("bench")
    doc = run_json("bench", "--ops", SMALL_OPS, *FAST, "--json", "--save-json", d / "saved.json",
                   "--save-csv", d / "r.csv", "--save-md", d / "r.md", "--html", d / "r.html")
    return doc, d


def test_report_follows_schema(ops_report):
    doc, _ = ops_report
    validate(doc)
    assert doc["schema"] == "locus-bench" and doc["schema_version"] == 1
    assert doc["runtime"]["name"] == "locus"
    m = doc["machine"]
    for key in ("cpu", "memory_bytes", "gpus", "blas", "locus_version", "locus_commit", "compiler", "os"):
        assert key in m, f"machine description lacks {key}"
    assert m["cpu"]["cores"] >= 1 and m["cpu"]["model"]
    names = sorted({r["name"] for r in doc["results"]})
    assert names == sorted(SMALL_OPS.split(","))


def test_results_ran_checked_and_consistent(ops_report):
    doc, _ = ops_report
    for r in doc["results"]:
        what = f"{r['name']} {r['args']}"
        assert r["status"] == "ok", f"{what}: {r.get('error')}"
        assert r["check"]["status"] == "passed", f"{what}: result not checked against the reference"
        assert r["check"]["checked_values"] >= 1
        assert r["iterations"] >= 3 and r["warmup"] >= 1
        assert r["min_ms"] <= r["p10_ms"] <= r["median_ms"] <= r["p90_ms"] <= r["max_ms"], what
        assert r["min_ms"] > 0
        # rates follow from the counts and the median
        assert math.isclose(r["gbps"], r["bytes"] / (r["median_ms"] / 1000) / 1e9, rel_tol=1e-9), what
        if r["flops"] > 0:
            assert math.isclose(r["gflops"], r["flops"] / (r["median_ms"] / 1000) / 1e9, rel_tol=1e-9), what
        assert r["pct_roofline"] is not None and r["pct_roofline"] > 0, what
        if r["device"] == "cpu":  # nothing crosses to a device when everything runs on the host
            assert r["h2d_bytes_per_run"] == 0 and r["d2h_bytes_per_run"] == 0, what


def test_ceilings_and_energy_statement(ops_report):
    doc, _ = ops_report
    cpu = [d for d in doc["devices"] if d["device"] == "cpu"]
    assert len(cpu) == 1
    c = cpu[0]["ceilings"]
    assert math.isfinite(c["copy_gbps"]) and 0.1 < c["copy_gbps"] < 1e5
    assert math.isfinite(c["gemm_gflops"]["f32"]) and 0.1 < c["gemm_gflops"]["f32"] < 1e7
    e = cpu[0]["energy"]
    assert isinstance(e["available"], bool) and len(e["source"]) > 10
    if not e["available"]:
        assert e["source"].startswith("not measured")
        assert all(r["energy_j"] is None for r in doc["results"])


def test_engine_contract_model_json():
    """The engine's --json contract: median_ms, p90_ms, iterations and gflops at the top level."""
    doc = run_json("bench", "--model", "minilm-l6", "--batch", "1", "--seq", "16", "--threads", "2", "--no-probe",
                   *FAST, "--json")
    validate(doc)
    for key in ("median_ms", "p90_ms", "iterations", "gflops"):
        assert key in doc, f"top-level {key} missing"
    (r,) = doc["results"]
    assert r["kind"] == "model" and r["batch"] == 1 and r["seq"] == 16 and r["weights"] == "synthetic"
    assert r["status"] == "ok", r.get("error")
    assert doc["median_ms"] == r["median_ms"] and doc["gflops"] == r["gflops"]
    assert math.isclose(r["tokens_per_s"], 16 / (r["median_ms"] / 1000), rel_tol=1e-9)
    assert math.isclose(r["sequences_per_s"], 1 / (r["median_ms"] / 1000), rel_tol=1e-9)
    assert r["gflops"] > 0 and r["peak_memory_bytes"] > 0


def test_saved_formats(ops_report):
    doc, d = ops_report
    saved = json.loads((d / "saved.json").read_text())
    validate(saved)
    assert [r["name"] for r in saved["results"]] == [r["name"] for r in doc["results"]]

    rows = list(csv.DictReader(io.StringIO((d / "r.csv").read_text())))
    assert len(rows) == len(doc["results"])
    for row, r in zip(rows, doc["results"]):
        assert row["name"] == r["name"] and row["args"] == r["args"] and row["status"] == "ok"
        assert math.isclose(float(row["median_ms"]), r["median_ms"], rel_tol=1e-6)

    md = (d / "r.md").read_text()
    assert "| op | shapes |" in md and "|---" in md
    for name in SMALL_OPS.split(","):
        assert f"| {name} |" in md

    html = (d / "r.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "</html>" in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "") and "https://" not in html, \
        "the HTML report must not fetch anything from the network"
    assert 'data-chart="roofline"' in html


def test_table_and_report_rendering(ops_report):
    _, d = ops_report
    table = run_locus("bench", "--report", d / "saved.json", check=True).stdout
    assert "Operations" in table and "median ms" in table
    for name in SMALL_OPS.split(","):
        assert name in table
    csv_text = run_locus("bench", "--report", d / "saved.json", "--csv", check=True).stdout
    assert csv_text.splitlines()[0].startswith("runtime,variant,kind,name,args")


@pytest.mark.skipif(SANITIZED, reason="two timed runs are slow under the sanitizers")
def test_compare_two_runs(ops_report, tmp_path):
    """Two runs of the same workloads: the comparison prints the ratio of each median to the first's."""
    _, d = ops_report
    second = tmp_path / "second.json"
    run_locus("bench", "--ops", "ReLU,Softmax", *FAST, "--no-probe", "--save-json", second, check=True)
    out = run_locus("bench", "--compare", d / "saved.json", second, check=True).stdout
    assert "Side by side" in out
    first = json.loads((d / "saved.json").read_text())
    other = json.loads(second.read_text())
    for name in ("ReLU", "Softmax"):
        a = next(r for r in first["results"] if r["name"] == name)
        b = next(r for r in other["results"] if r["name"] == name)
        side = out[out.index("Side by side"):]
        line = next(ln for ln in side.splitlines() if ln.startswith(name + " "))
        assert f"{b['median_ms'] / a['median_ms']:.2f}" in line, line


def test_settings_recorded_and_named_in_comparisons(ops_report, tmp_path, monkeypatch):
    """A run under a LOCUS_* switch records it in runtime.settings (path-like values left out), and the
    side-by-side table names the setting in that run's columns."""
    _, d = ops_report
    first = json.loads((d / "saved.json").read_text())
    assert not any(k.startswith("LOCUS_FUSE") for k in first["runtime"].get("settings", {}))
    monkeypatch.setenv("LOCUS_FUSE_QKV", "0")
    monkeypatch.setenv("LOCUS_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("LOCUS_CUDA_GEMM_LOG", "1")
    second = tmp_path / "second.json"
    run_locus("bench", "--ops", "ReLU", *FAST, "--no-probe", "--save-json", second, check=True)
    doc = json.loads(second.read_text())
    validate(doc)
    settings = doc["runtime"]["settings"]
    assert settings.get("LOCUS_FUSE_QKV") == "0"
    assert "LOCUS_CACHE_DIR" not in settings, "a path-like value must not be recorded"
    assert "LOCUS_CUDA_GEMM_LOG" not in settings, "a logging switch changes nothing measured"
    assert not any(k.startswith("LOCUS_SANITIZED") for k in settings), "test-harness variables are not locus's switches"
    out = run_locus("bench", "--compare", d / "saved.json", second, check=True).stdout
    side = out[out.index("Side by side"):]
    assert "locus [LOCUS_FUSE_QKV=0]" in side.splitlines()[1], side.splitlines()[1]


def test_list_selects_without_running():
    doc = run_json("bench", "--list", "--suite", "full", "--json")
    validate(doc)
    ops = [r for r in doc["results"] if r["kind"] == "op"]
    models = [r for r in doc["results"] if r["kind"] == "model"]
    assert all(r["status"] == "skipped" for r in doc["results"])
    # the full suite: every op of the issue, the five text encoders on the 3 x 3 grid, ViT-B/16 per batch
    expected_ops = {"MatMul", "Linear", "Conv1d", "Conv2d", "Softmax", "LayerNorm", "ScaledDotProductAttention", "ReLU",
                    "LeakyReLU", "PReLU", "SeLU", "GELU", "Sigmoid", "Softplus", "Sum", "SumAll", "Argmax", "Sort",
                    "Concat", "Gather", "Scatter", "BCE"}
    assert {r["name"] for r in ops} == expected_ops
    assert {(r["name"], r["batch"], r["seq"]) for r in models} == {
        (m, b, s) for m in ("bert-base", "bert-large", "roberta-base", "xlm-roberta-base", "minilm-l6")
        for b in (1, 16, 32) for s in (32, 128, 512)} | {("vit-base", b, 197) for b in (1, 16, 32)}
    assert all(r["args"] == f"batch={r['batch']} image=224" for r in models if r["name"] == "vit-base")
    quick = run_json("bench", "--list", "--json")
    assert {r["name"] for r in quick["results"] if r["kind"] == "op"} == expected_ops, "quick suite covers every op"


@pytest.mark.parametrize("args,message", [
    (["--suite", "huge"], "--suite must be quick or full"),
    (["--batch", "0"], "--batch"),
    (["--seq", "12,x"], "--seq"),
    (["--budget", "-1"], "--budget"),
    (["--dtype", "i32"], "--dtype"),
    (["--device", "tpu"], "--device"),
    (["--frobnicate"], "unknown option"),
    (["--compare", "only-one.json"], "two or more"),
])
def test_usage_errors(args, message):
    proc = run_locus("bench", *args)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr


def test_bad_report_files(tmp_path):
    missing = tmp_path / "missing.json"
    proc = run_locus("bench", "--report", missing)
    assert proc.returncode == 1 and str(missing) in proc.stderr and "cannot open" in proc.stderr
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    proc = run_locus("bench", "--report", garbage)
    assert proc.returncode == 1 and str(garbage) in proc.stderr and "not valid JSON" in proc.stderr
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"schema": "something-else", "results": []}))
    proc = run_locus("bench", "--compare", other, other)
    assert proc.returncode == 1 and str(other) in proc.stderr and "locus-bench" in proc.stderr
    wrong_version = tmp_path / "v99.json"
    wrong_version.write_text(json.dumps({"schema": "locus-bench", "schema_version": 99}))
    proc = run_locus("bench", "--report", wrong_version)
    assert proc.returncode == 1 and "schema_version" in proc.stderr


def test_unknown_model_is_reported_not_crashed():
    proc = run_locus("bench", "--model", "no-such-model", "--batch", "1", "--seq", "8", "--no-probe", *FAST, "--json")
    assert proc.returncode == 1 and "1 workload failed" in proc.stderr
    doc = json.loads(proc.stdout)  # the report is still printed, with the reason
    validate(doc)
    (r,) = doc["results"]
    assert r["status"] in ("error", "unsupported") and "no-such-model" in r["error"]


def test_unknown_op_is_an_error():
    proc = run_locus("bench", "--ops", "ReLU,Frobnicate", "--no-progress")
    assert proc.returncode == 1 and "unknown op 'Frobnicate'" in proc.stderr
