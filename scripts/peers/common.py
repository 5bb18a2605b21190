"""What the peers (torch_peer.py, onnx_peer.py) share with `locus bench`: the op cases (the public
mlx-benchmark suite's shapes, in the same layouts as locus), the model grid and built-in shapes, the
timing loop (warm-up, adaptive repetitions under a time budget, median / p10 / p90), peak memory,
energy counters (RAPL powercap, NVML via ctypes) and the report document of bench/schema.json.

Keep CASES identical to the table in src/bench/ops_suite.c: tests/py/test_bench_peers.py compares them
with `locus bench --list`.
"""
import ctypes
import math
import os
import platform
import re
import time
from datetime import datetime, timezone

SCHEMA_VERSION = 1

# (op, args, part of the quick suite)
CASES = [
    ("Argmax", "dim1=64x1024x128 axis=0", False),
    ("Argmax", "dim1=64x1024x128 axis=1", False),
    ("Argmax", "dim1=64x1024x128 axis=2", True),
    ("Argmax", "dim1=64x128x1024 axis=2", False),
    ("BCE", "dim1=1000000 dim2=1000000", True),
    ("BCE", "dim1=100000x32 dim2=100000x32", False),
    ("BCE", "dim1=100000x64x2 dim2=100000x64x2", False),
    ("BCE", "dim1=128x100000 dim2=128x100000", False),
    ("Concat", "dim1=1000000x64 dim2=1000000x32 axis=1", True),
    ("Concat", "dim1=1000000x64 dim2=1000000x128 axis=1", False),
    ("Concat", "dim1=1000000x64 dim2=1000000x64 axis=0", False),
    ("Concat", "dim1=64x1000000 dim2=64x1000000 axis=0", False),
    ("Conv1d", "dim1=100x256x3 dim2=8x3x3", True),
    ("Conv1d", "dim1=100x256x256 dim2=8x3x256", False),
    ("Conv1d", "dim1=16x1000x80 dim2=128x11x80", False),
    ("Conv1d", "dim1=16x1000x3 dim2=128x11x3", False),
    ("Conv2d", "dim1=100x256x256x3 dim2=8x3x3x3", False),
    ("Conv2d", "dim1=10x256x256x12 dim2=8x3x3x12", False),
    ("Conv2d", "dim1=1x256x256x128 dim2=8x3x3x128", False),
    ("Conv2d", "dim1=100x28x28x3 dim2=8x3x3x3", True),
    ("Conv2d", "dim1=1000x28x28x3 dim2=8x3x3x3", False),
    ("Gather", "dim1=64x256 dim2=10", False),
    ("Gather", "dim1=64x256 dim2=1000", True),
    ("Gather", "dim1=64x256 dim2=1000000", False),
    ("Gather", "dim1=1024x32 dim2=10", False),
    ("Gather", "dim1=1024x32 dim2=1000", False),
    ("Gather", "dim1=1024x32 dim2=1000000", False),
    ("GELU", "dim1=128x16x1024", True),
    ("GELU", "dim1=64x128x1024", False),
    ("LayerNorm", "dim1=64x128x1024", False),
    ("LayerNorm", "dim1=128x64x1024", True),
    ("LeakyReLU", "dim1=128x16x1024", True),
    ("LeakyReLU", "dim1=64x128x1024", False),
    ("Linear", "dim1=100x1024x32 dim2=32x1024 dim3=1024", True),
    ("Linear", "dim1=100x1024x64 dim2=64x1024 dim3=1024", False),
    ("Linear", "dim1=100x1024x256 dim2=256x1024 dim3=1024", False),
    ("Linear", "dim1=100x1024x512 dim2=512x1024 dim3=1024", False),
    ("Linear", "dim1=100x1x51200 dim2=51200x1 dim3=1", False),
    ("MatMul", "dim1=32x1x1000 dim2=32x1000x128", False),
    ("MatMul", "dim1=1000x64x256 dim2=256x32", True),
    ("MatMul", "dim1=1000x64x1024 dim2=1000x1024x32", False),
    ("MatMul", "dim1=1000x1024x64 dim2=1000x64x256", False),
    ("MatMul", "dim1=64x1000000 dim2=1000000x32", False),
    ("MatMul", "dim1=1000000x64 dim2=64x1024", False),
    ("PReLU", "dim1=128x16x1024 dim2=1", True),
    ("PReLU", "dim1=64x128x1024 dim2=1", False),
    ("ReLU", "dim1=128x16x1024", True),
    ("ReLU", "dim1=64x128x1024", False),
    ("ScaledDotProductAttention", "dim1=64x8x16x1024 dim2=64x8x16x1024 dim3=64x8x16x1024", True),
    ("ScaledDotProductAttention", "dim1=64x8x16x1024 dim2=64x8x64x1024 dim3=64x8x64x1024", False),
    ("ScaledDotProductAttention", "dim1=64x16x16x1024 dim2=64x16x16x1024 dim3=64x16x16x1024", False),
    ("ScaledDotProductAttention", "dim1=64x16x16x1024 dim2=64x16x64x1024 dim3=64x16x64x1024", False),
    ("Scatter", "dim1=64x16 dim2=10", False),
    ("Scatter", "dim1=64x16 dim2=1000", True),
    ("Scatter", "dim1=64x16 dim2=1000000", False),
    ("Scatter", "dim1=1024x32 dim2=10", False),
    ("Scatter", "dim1=1024x32 dim2=1000", False),
    ("Scatter", "dim1=1024x32 dim2=1000000", False),
    ("SeLU", "dim1=128x16x1024", True),
    ("SeLU", "dim1=64x128x1024", False),
    ("Sigmoid", "dim1=128x16x1024", True),
    ("Sigmoid", "dim1=64x128x1024", False),
    ("Softmax", "dim1=64x1000000 axis=-1", False),
    ("Softmax", "dim1=1000000x64 axis=-1", False),
    ("Softmax", "dim1=64x16x32x1024 axis=-1", False),
    ("Softmax", "dim1=128x16x32x1024 axis=-1", False),
    ("Softmax", "dim1=1024x16x32x128 axis=-1", False),
    ("Softmax", "dim1=1024x64x32x8 axis=-1", True),
    ("Softplus", "dim1=128x16x1024", True),
    ("Softplus", "dim1=64x128x1024", False),
    ("Sort", "dim1=64x128x1024 axis=0", False),
    ("Sort", "dim1=64x128x1024 axis=1", False),
    ("Sort", "dim1=64x128x1024 axis=2", True),
    ("Sum", "dim1=64x128x128x128 axis=0", False),
    ("Sum", "dim1=64x128x128x128 axis=1", False),
    ("Sum", "dim1=64x128x128x128 axis=2", False),
    ("Sum", "dim1=64x128x128x128 axis=3", True),
    ("SumAll", "dim1=64x128x128x128", False),
    ("SumAll", "dim1=1000000", True),
    ("SumAll", "dim1=1000000x128", False),
    ("SumAll", "dim1=128x1000000", False),
]

# Built-in shapes: the same as lc_model_synthetic (src/models/model.c).
MODELS = {
    "bert-base": dict(family="bert", vocab=30522, hidden=768, layers=12, heads=12, inter=3072, max_pos=512, type_vocab=2, pad=0),
    "bert-large": dict(family="bert", vocab=30522, hidden=1024, layers=24, heads=16, inter=4096, max_pos=512, type_vocab=2, pad=0),
    "roberta-base": dict(family="roberta", vocab=50265, hidden=768, layers=12, heads=12, inter=3072, max_pos=514, type_vocab=1, pad=1),
    "xlm-roberta-base": dict(family="xlm-roberta", vocab=250002, hidden=768, layers=12, heads=12, inter=3072, max_pos=514,
                             type_vocab=1, pad=1),
    "minilm-l6": dict(family="bert", vocab=30522, hidden=384, layers=6, heads=12, inter=1536, max_pos=512, type_vocab=2, pad=0),
    "vit-base": dict(family="vit", hidden=768, layers=12, heads=12, inter=3072, image=224, patch=16, max_pos=197),
}
QUICK_MODELS, QUICK_BATCHES, QUICK_SEQS = ["minilm-l6", "bert-base"], [1, 8], [128]
FULL_MODELS = ["bert-base", "bert-large", "roberta-base", "xlm-roberta-base", "minilm-l6", "vit-base"]
FULL_BATCHES, FULL_SEQS = [1, 16, 32], [32, 128, 512]

QUICK_BUDGET = dict(warmup_s=0.05, budget_s=0.25, min_iterations=3, max_iterations=200, target_ci_rel=0.02, energy_s=1.0)
FULL_BUDGET = dict(warmup_s=0.2, budget_s=2.0, min_iterations=5, max_iterations=1000, target_ci_rel=0.01, energy_s=1.0)


def parse_args(args):
    """'dim1=AxB dim2=C axis=1' -> ([[A, B], [C]], axis)"""
    dims, axis = [], 0
    for tok in args.split():
        k, v = tok.split("=")
        if k.startswith("dim"):
            dims.append([int(x) for x in v.split("x")])
        elif k == "axis":
            axis = int(v)
    return dims, axis


def select_cases(suite, names):
    if names and names.lower() == "none":
        return []
    wanted = None if not names or names.lower() == "all" else {n.lower() for n in names.split(",")}
    out = []
    for op, args, quick in CASES:
        if wanted is not None and op.lower() not in wanted:
            continue
        if suite == "full" or quick:
            out.append((op, args))
    return out


def numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def op_cost(op, args, esize):
    """(flops, minimum bytes) of one run, the same counts as src/bench/ops_suite.c."""
    dims, axis = parse_args(args)
    d1 = dims[0]
    e1 = numel(d1)
    if op == "MatMul":
        M, K, N = d1[-2], d1[-1], dims[1][-1]
        B = max(d1[0] if len(d1) > 2 else 1, dims[1][0] if len(dims[1]) > 2 else 1)
        return 2.0 * B * M * N * K, esize * (e1 + numel(dims[1]) + B * M * N)
    if op == "Linear":
        K, N = d1[-1], dims[1][1]
        R = e1 // K
        return 2.0 * R * N * K + R * N, esize * (e1 + N * K + N + R * N)
    if op in ("Conv1d", "Conv2d"):
        w = dims[1]
        if op == "Conv2d":
            N_, H, W, C = d1
            O, KH, KW, _ = w
            P = (H - KH + 1) * (W - KW + 1)
            ck = C * KH * KW
        else:
            N_, L, C = d1
            O, K, _ = w
            P = L - K + 1
            ck = C * K
        return 2.0 * N_ * O * P * ck, esize * (e1 + numel(w) + N_ * O * P)
    per = {"Softmax": 5, "LayerNorm": 8, "ReLU": 1, "LeakyReLU": 2, "SeLU": 4, "GELU": 8, "Sigmoid": 4, "Softplus": 4}
    if op in per:
        return per[op] * e1, esize * 2.0 * e1
    if op == "PReLU":
        return 2.0 * e1, esize * (2.0 * e1 + numel(dims[1]))
    if op == "ScaledDotProductAttention":
        B, H, Tq, D = d1
        Tk = dims[1][2]
        return 4.0 * B * H * Tq * Tk * D + 5.0 * B * H * Tq * Tk, esize * (B * H * (2.0 * Tq * D + 2.0 * Tk * D))
    if op in ("Sum", "SumAll", "Argmax"):
        outn = 1 if op == "SumAll" else e1 // d1[axis]
        return float(e1), esize * e1 + (8.0 if op == "Argmax" else esize) * outn
    if op == "Sort":
        return e1 * math.log2(d1[axis]), esize * 2.0 * e1
    if op == "Concat":
        return 0.0, esize * 2.0 * (e1 + numel(dims[1]))
    if op == "Gather":
        E, D = dims[1][0], d1[1]
        return 0.0, esize * 2.0 * E * D + 8.0 * E * D
    if op == "Scatter":
        N_, D = d1
        E = dims[1][0]
        return 0.0, esize * (2.0 * N_ * D + E * D) + 8.0 * E * D
    if op == "BCE":
        return 6.0 * e1, esize * 2.0 * e1 + esize
    raise ValueError(op)


def model_flops(cfg, B, T):
    """FLOPs of one encoder forward, the same formula as lc_model_flops (src/models/model.c)."""
    C, I = cfg["hidden"], cfg["inter"]
    layers = cfg["layers"] * (8.0 * B * T * C * C + 4.0 * B * T * C * I + 4.0 * B * T * T * C)
    if cfg["family"] == "vit":
        n = (cfg["image"] // cfg["patch"]) ** 2
        return 2.0 * B * n * C * (3 * cfg["patch"] * cfg["patch"]) + layers
    return layers


def model_points(name, batches, seqs):
    """The grid points of a model as (batch, tokens per sequence, args, image side or None): an image model
    runs once per batch size (its image fixes the token count), as in locus's model suite."""
    cfg = MODELS.get(name)
    if cfg and cfg["family"] == "vit":
        return [(B, cfg["max_pos"], f"batch={B} image={cfg['image']}", cfg["image"]) for B in batches]
    return [(B, T, f"batch={B} seq={T}", None) for B in batches for T in seqs]


def model_input_bytes(B, T, image):
    return 4.0 * B * 3 * image * image if image else 8.0 * B * T


def model_ids(B, T):
    """Token ids (B, T) as locus's model suite makes them: 100 + (i * 7919) % 900 over the flat index."""
    return [[100 + ((b * T + t) * 7919) % 900 for t in range(T)] for b in range(B)]


# ------------------------------------------------------------------------------------------------------
# Timing: the same loop as lc_bench_measure (src/bench/stats.c)
# ------------------------------------------------------------------------------------------------------
def percentile(sorted_values, q):
    n = len(sorted_values)
    if q <= 0:
        return sorted_values[0]
    if q >= 100:
        return sorted_values[-1]
    pos = q / 100.0 * (n - 1)
    lo = int(math.floor(pos))
    hi = min(lo + 1, n - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def stats(samples):
    s = sorted(samples)
    n = len(s)
    med = percentile(s, 50)
    mean = sum(s) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in s) / (n - 1)) if n > 1 else 0.0
    if n < 6 or med <= 0:
        ci = 1.0
    else:
        h = 0.98 * math.sqrt(n)
        lo = max(0, int(math.floor(n / 2 - h)))
        hi = min(n - 1, int(math.ceil(n / 2 + h)))
        ci = (s[hi] - s[lo]) / (2 * med)
    return dict(iterations=n, median_ms=med, p10_ms=percentile(s, 10), p90_ms=percentile(s, 90), mean_ms=mean,
                min_ms=s[0], max_ms=s[-1], stddev_ms=sd, median_ci_rel=ci)


def rss_peak_reset():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def rss_peak():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1]) * 1024.0
    except OSError:
        pass
    return None


def measure(run, sync, budget, timer=None, energy=None, memory=None, energy_s=0.0):
    """Warm up, then time `run` until the budget says stop. `timer` = (start, stop) device events (optional);
    `memory` = (reset, read) for device memory; `energy` an EnergyMeter or None, read around a window of its own
    of at least energy_s seconds after the timed runs (counters tick coarsely), as lc_bench_measure does."""
    t0 = time.perf_counter()
    warm = 0
    while True:
        run()
        sync()
        warm += 1
        if time.perf_counter() - t0 >= budget["warmup_s"] or warm >= 1000:
            break
    if memory:
        memory[0]()
    else:
        rss_peak_reset()
    samples = []
    start = time.perf_counter()
    while True:
        if timer:
            begin, end = timer
            begin.record()
            run()
            end.record()
            end.synchronize()
            samples.append(begin.elapsed_time(end))
        else:
            t = time.perf_counter()
            run()
            sync()
            samples.append((time.perf_counter() - t) * 1000.0)
        n = len(samples)
        if n >= budget["max_iterations"]:
            break
        if n < budget["min_iterations"]:
            continue
        if time.perf_counter() - start >= budget["budget_s"]:
            break
        if n >= 20 and n % 10 == 0 and stats(samples)["median_ci_rel"] <= budget["target_ci_rel"]:
            break
    out = stats(samples)
    e0 = e1 = None
    runs = 0
    if energy is not None and energy.available and energy_s > 0:
        sync()
        e0 = energy.read()
        t0 = time.perf_counter()
        while runs < 3 or time.perf_counter() - t0 < energy_s:
            run()
            runs += 1
        sync()
        e1 = energy.read()
    out["warmup"] = warm
    out["timing"] = "device-events" if timer else "host-clock"
    out["peak_memory_bytes"] = memory[1]() if memory else rss_peak()
    out["energy_j"] = (e1 - e0) / runs if e0 is not None and e1 is not None and e1 > e0 else None
    out["inferences_per_j"] = 1.0 / out["energy_j"] if out["energy_j"] else None
    return out


# ------------------------------------------------------------------------------------------------------
# Energy: RAPL powercap for the CPU, NVML total energy for NVIDIA GPUs
# ------------------------------------------------------------------------------------------------------
_nvml = None


def nvml():
    global _nvml
    if _nvml is None:
        try:
            lib = ctypes.CDLL("libnvidia-ml.so.1")
            if lib.nvmlInit_v2() != 0:
                raise OSError("nvmlInit failed")
            _nvml = lib
        except OSError:
            _nvml = False
    return _nvml or None


def nvml_driver():
    lib = nvml()
    if not lib:
        return None
    buf = ctypes.create_string_buffer(96)
    return buf.value.decode() if lib.nvmlSystemGetDriverVersion(buf, 96) == 0 else None


class EnergyMeter:
    def __init__(self, device):
        self.available = False
        self.source = "not measured"
        self._paths = []
        self._nvml_dev = None
        if device == "cpu":
            root = "/sys/class/powercap"
            if not os.path.isdir(root):
                self.source = (f"not measured: this machine exposes no RAPL counters ({root} is absent, as in most "
                               "virtual machines)")
                return
            denied = False
            for name in sorted(os.listdir(root)):
                if not re.fullmatch(r"intel-rapl:\d+", name):
                    continue
                p = os.path.join(root, name, "energy_uj")
                try:
                    with open(p) as f:
                        int(f.read())
                    self._paths.append(p)
                except PermissionError:
                    denied = True
                except (OSError, ValueError):
                    pass
            if self._paths:
                self.available = True
                self.source = f"RAPL powercap, {len(self._paths)} CPU package domain{'s' if len(self._paths) > 1 else ''}"
            elif denied:
                self.source = f"not measured: RAPL counters exist but are readable only by root ({root}/intel-rapl:*/energy_uj)"
            else:
                self.source = f"not measured: no RAPL package domain under {root}"
        else:
            lib = nvml()
            index = int(device.split(":")[1]) if ":" in device else 0
            if not lib:
                self.source = "not measured: NVML (libnvidia-ml.so.1) is not installed"
                return
            handle = ctypes.c_void_p()
            if lib.nvmlDeviceGetHandleByIndex_v2(index, ctypes.byref(handle)) != 0:
                self.source = f"not measured: NVML has no device {index}"
                return
            mj = ctypes.c_ulonglong()
            rc = lib.nvmlDeviceGetTotalEnergyConsumption(handle, ctypes.byref(mj))
            if rc != 0:
                self.source = f"not measured: this GPU does not report total energy through NVML (error {rc})"
                return
            self._nvml_dev = handle
            self.available = True
            self.source = f"NVML total energy counter, GPU {index}"

    def read(self):
        """Cumulative joules (wrap-around of RAPL counters is negligible over one measurement)."""
        if self._nvml_dev is not None:
            mj = ctypes.c_ulonglong()
            nvml().nvmlDeviceGetTotalEnergyConsumption(self._nvml_dev, ctypes.byref(mj))
            return mj.value / 1000.0
        total = 0
        for p in self._paths:
            with open(p) as f:
                total += int(f.read())
        return total / 1e6


# ------------------------------------------------------------------------------------------------------
# The report document
# ------------------------------------------------------------------------------------------------------
def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_bytes():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    return 0.0


def machine(blas, gpus, threads):
    return {
        "cpu": {"model": cpu_model(), "cores": os.cpu_count() or 1, "threads_used": max(1, threads)},
        "memory_bytes": memory_bytes(),
        "os": f"{platform.system()} {platform.release()} {platform.machine()}",
        "gpus": gpus,
        "blas": blas,
        "compiler": f"python {platform.python_version()}",
    }


def finite(x):
    """The value with every non-finite float replaced by None (JSON has no NaN or infinity)."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: finite(v) for k, v in x.items()}
    if isinstance(x, list):
        return [finite(v) for v in x]
    return x


def document(runtime, machine_desc, devices, results, suite, budget, command):
    doc = {
        "schema": "locus-bench",
        "schema_version": SCHEMA_VERSION,
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": command,
        "suite": suite,
        "runtime": runtime,
        "machine": machine_desc,
        "budget": budget,
        "devices": devices,
        "results": results,
    }
    if len(results) == 1 and results[0].get("status") == "ok":
        for k in ("median_ms", "p90_ms", "iterations", "gflops"):
            if k in results[0]:
                doc[k] = results[0][k]
    return finite(doc)


def write_document(doc, output):
    """The report as JSON to `output`, or to stdout when it is "-" (NaN and infinities refused)."""
    import json
    text = json.dumps(doc, indent=1, allow_nan=False)
    if output == "-":
        print(text)
    else:
        with open(output, "w") as f:
            f.write(text + "\n")


def result(kind, name, args, device, dtype, variant):
    return {"kind": kind, "name": name, "args": args, "device": device, "dtype": dtype, "variant": variant}


def add_rates(r, flops, nbytes, median_ms):
    sec = max(median_ms, 1e-9) / 1000.0
    r["flops"] = flops
    r["bytes"] = nbytes
    r["gflops"] = flops / sec / 1e9
    r["gbps"] = nbytes / sec / 1e9
    r["intensity"] = flops / nbytes if nbytes > 0 else None


def fill_model_result(r, m, cfg, B, T, image, weight_bytes, esize):
    """A timed model workload's report entry: the timing statistics m, rates against the minimum bytes
    (weights once, inputs, the hidden state out), tokens and sequences per second and per joule."""
    r["status"] = "ok"
    r.update(m)
    nbytes = weight_bytes + model_input_bytes(B, T, image) + esize * B * T * cfg["hidden"]
    add_rates(r, model_flops(cfg, B, T), nbytes, m["median_ms"])
    sec = m["median_ms"] / 1000.0
    r["tokens_per_s"] = B * T / sec
    r["sequences_per_s"] = B / sec
    r["sequences_per_j"] = B / m["energy_j"] if m["energy_j"] else None
    return r


def error_result(r, status, message):
    r["status"] = status
    r["error"] = (message or "failed").strip().splitlines()[0][:500] if message else "failed"
    return r


def budget_for(suite, args):
    b = dict(FULL_BUDGET if suite == "full" else QUICK_BUDGET)
    if args.budget:
        b["budget_s"] = args.budget
    if args.warmup:
        b["warmup_s"] = args.warmup
    if args.min_iters:
        b["min_iterations"] = args.min_iters
    if args.max_iters:
        b["max_iterations"] = args.max_iters
    return b


def add_common_arguments(p):
    p.add_argument("--suite", choices=["quick", "full"], default="quick")
    p.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    p.add_argument("--dtype", choices=["f32", "f16", "bf16"], default="f32")
    p.add_argument("--ops", default=None, help="comma-separated op names, or none")
    p.add_argument("--model", "--models", dest="models", default=None, help="comma-separated built-in shapes, or none")
    p.add_argument("--batch", default=None, help="comma-separated batch sizes")
    p.add_argument("--seq", default=None, help="comma-separated sequence lengths")
    p.add_argument("--threads", type=int, default=0, help="CPU threads (default: all cores)")
    p.add_argument("--budget", type=float, default=0.0)
    p.add_argument("--warmup", type=float, default=0.0)
    p.add_argument("--min-iters", type=int, default=0)
    p.add_argument("--max-iters", type=int, default=0)
    p.add_argument("-o", "--output", default="-", help="JSON report file (default: standard output)")


def plan(args):
    """(op cases, models, batches, seqs, suite label) from the arguments, with locus's defaults: an explicit
    model list without --ops runs models only, and the other way round ("none" for one of them leaves the
    suite's choice for the other)."""
    full = args.suite == "full"
    ops = args.ops
    models = args.models
    ops_given = ops is not None and ops.lower() != "none"
    models_given = models is not None and models.lower() != "none"
    if ops is None and models_given:
        ops = "none"
    cases = select_cases(args.suite, ops)
    if (models is not None and not models_given) or (models is None and ops_given):
        model_list = []
    elif models:
        model_list = models.split(",")
    else:
        model_list = FULL_MODELS if full else QUICK_MODELS
    batches = [int(x) for x in args.batch.split(",")] if args.batch else (FULL_BATCHES if full else QUICK_BATCHES)
    seqs = [int(x) for x in args.seq.split(",")] if args.seq else (FULL_SEQS if full else QUICK_SEQS)
    label = "custom" if (args.ops or args.models) else args.suite
    return cases, model_list, batches, seqs, label
