"""The HTML report renders in a real browser: headless Chromium (Debian's chromium package) takes a
screenshot, which must not be blank, and dumps the DOM, whose SVG charts must hold the expected series:
latency against batch and sequence for the model, the roofline with each op placed on it, the bandwidth
chart of data-movement ops, and the comparison chart with the PyTorch peer when it is installed.
"""
import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser

import pytest

from conftest import REPO, SANITIZED, run_locus

FAST = ["--budget", "0.05", "--warmup", "0.01", "--no-progress"]


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("Chromium is not installed (Debian package chromium; scripts/deps.sh test installs it)")


def browser(*args, timeout=120):
    cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
           "--disable-extensions", "--disable-dev-shm-usage", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


class Charts(HTMLParser):
    """Collects each <svg class="chart">: its data-chart kind, attributes and the data-series names inside."""

    def __init__(self):
        super().__init__()
        self.charts = []
        self.depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg" and "chart" in (a.get("class") or "").split():
            self.charts.append({"kind": a.get("data-chart"), "attrs": a, "series": [], "marks": 0})
        elif self.charts and tag == "g" and a.get("class") == "series":
            self.charts[-1]["series"].append(a.get("data-series"))
        elif self.charts and tag in ("circle", "rect", "polyline"):
            self.charts[-1]["marks"] += 1


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    d = tmp_path_factory.mktemp("html")
    ops = d / "ops.json"
    models = d / "models.json"
    run_locus("bench", "--ops", "MatMul,Softmax,ReLU,Concat,Gather", *FAST, "--save-json", ops, check=True)
    run_locus("bench", "--model", "minilm-l6", "--batch", "1,2", "--seq", "8,16", *FAST, "--save-json", models,
              check=True)
    files = [ops, models]
    peer = None
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
        if not SANITIZED:
            peer = d / "torch.json"
            proc = subprocess.run([sys.executable, str(REPO / "scripts" / "peers" / "torch_peer.py"), "--model",
                                   "minilm-l6", "--batch", "1,2", "--seq", "8,16", "--budget", "0.05", "-o", str(peer)],
                                  capture_output=True, text=True, timeout=600)
            assert proc.returncode == 0, proc.stderr[-2000:]
    except ImportError:
        peer = None
    # one locus document with both runs (a single run would do the same with --ops and --model together)
    merged = json.loads(ops.read_text())
    merged["results"] += json.loads(models.read_text())["results"]
    both = d / "locus.json"
    both.write_text(json.dumps(merged))
    html = d / "report.html"
    args = ["bench", "--compare", both, peer, "--html", html] if peer else ["bench", "--report", both, "--html", html]
    run_locus(*args, check=True)
    return html, peer is not None


def test_html_is_self_contained(report):
    html, _ = report
    text = html.read_text()
    assert "<script src" not in text and "<link" not in text
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text), "no external resources"


def test_chromium_screenshot_not_blank(report, tmp_path):
    from PIL import Image

    html, _ = report
    shot = tmp_path / "shot.png"
    proc = browser(f"--screenshot={shot}", "--window-size=1300,2400", html.as_uri())
    assert shot.is_file(), f"Chromium wrote no screenshot: {proc.stderr[-1500:]}"
    img = Image.open(shot).convert("RGB")
    assert img.size == (1300, 2400)
    colors = img.getcolors(maxcolors=1 << 20)
    assert colors is not None and len(colors) > 50, "the page renders as (nearly) one colour"
    # not blank: a good share of non-white pixels, and some of them coloured (the chart series)
    px = img.load()
    w, h = img.size
    nonwhite = coloured = 0
    for y in range(0, h, 4):
        for x in range(0, w, 4):
            r, g, b = px[x, y]
            if r < 240 or g < 240 or b < 240:
                nonwhite += 1
            if max(r, g, b) - min(r, g, b) > 60:
                coloured += 1
    total = (w // 4) * (h // 4)
    assert nonwhite > total * 0.02, f"only {nonwhite} of {total} sampled pixels are not white"
    assert coloured > 200, f"only {coloured} coloured pixels: the charts did not draw"


def test_chromium_dom_has_charts_and_series(report):
    html, with_peer = report
    proc = browser("--dump-dom", html.as_uri())
    assert proc.returncode == 0 and "<svg" in proc.stdout, proc.stderr[-1500:]
    parser = Charts()
    parser.feed(proc.stdout)
    charts = parser.charts
    kinds = [c["kind"] for c in charts]
    assert "latency" in kinds and "roofline" in kinds and "bandwidth" in kinds

    latency = next(c for c in charts if c["kind"] == "latency" and c["attrs"].get("data-axis") == "seq")
    assert latency["attrs"].get("data-model") == "minilm-l6"
    assert {"locus B=1", "locus B=2"} <= set(latency["series"])
    assert latency["marks"] >= 4  # two points per series at least
    by_batch = next(c for c in charts if c["kind"] == "latency" and c["attrs"].get("data-axis") == "batch")
    assert {"locus T=8", "locus T=16"} <= set(by_batch["series"])

    roof = next(c for c in charts if c["kind"] == "roofline")
    assert roof["attrs"].get("data-device") == "cpu"
    assert {"MatMul", "Softmax", "ReLU"} <= set(roof["series"])

    bw = next(c for c in charts if c["kind"] == "bandwidth")
    assert {"Concat", "Gather"} <= set(bw["series"])

    if with_peer:
        assert "pytorch eager B=1" in latency["series"] and "pytorch eager T=16" in by_batch["series"]
        comp = next(c for c in charts if c["kind"] == "comparison")
        assert comp["series"] == ["pytorch eager"]
        assert comp["marks"] >= 4
    else:
        assert "comparison" not in kinds
