#!/usr/bin/env python3
"""ONNX Runtime peer of `locus bench`: the same op cases and model grid, exported from PyTorch to ONNX
(torch.onnx.export, TorchScript exporter, opset 17; needs the `onnx` package) and run by ONNX Runtime with
the CPU or CUDA execution provider through I/O binding (inputs placed on the device once, outputs left
there), timed the same way and written as the same JSON report (bench/schema.json).

    python3 scripts/peers/onnx_peer.py --suite quick --device cpu -o ort-cpu.json
    python3 scripts/peers/onnx_peer.py --device cuda -o ort-cuda.json
"""
import argparse
import io
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import torch_peer  # noqa: E402

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
import torch  # noqa: E402

NP_DTYPES = {"f32": np.float32, "f16": np.float16}


class Wrap(torch.nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, *xs):
        return self.fn(*xs)


class Encoder(torch.nn.Module):
    """A transformers encoder as a submodule (its weights become ONNX initializers), returning the last hidden
    state."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask):
        return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state


class VisionEncoder(torch.nn.Module):
    """A transformers image encoder as a submodule, returning the last hidden state."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, pixel_values):
        return self.model(pixel_values=pixel_values).last_hidden_state


def export(module, inputs, names, dynamic_axes=None):
    f = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, tuple(inputs), f, input_names=names, output_names=["out"], opset_version=17,
                          dynamic_axes=dynamic_axes, dynamo=False)
    return f.getvalue()


def bce_spelled_out(p, y):
    """torch.nn.functional.binary_cross_entropy (mean), logs clamped at -100 like PyTorch."""
    return -(y * torch.clamp(torch.log(p), min=-100.0) + (1 - y) * torch.clamp(torch.log(1 - p), min=-100.0)).mean()


class OrtRunner:
    def __init__(self, model_bytes, names, arrays, device, threads):
        so = ort.SessionOptions()
        if threads:
            so.intra_op_num_threads = threads
        so.log_severity_level = 3
        cuda = device.startswith("cuda")
        index = int(device.split(":")[1]) if ":" in device else 0
        providers = [("CUDAExecutionProvider", {"device_id": index})] if cuda else ["CPUExecutionProvider"]
        self.sess = ort.InferenceSession(model_bytes, so, providers=providers)
        if cuda and "CUDAExecutionProvider" not in self.sess.get_providers():
            raise RuntimeError("onnxruntime has no CUDA execution provider here")
        dev, idx = ("cuda", index) if cuda else ("cpu", 0)
        self.binding = self.sess.io_binding()
        self.values = []
        for n, a in zip(names, arrays):
            v = ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(a), dev, idx)
            self.values.append(v)
            self.binding.bind_ortvalue_input(n, v)
        self.binding.bind_output("out", dev, idx)
        self.cuda = cuda

    def __call__(self):
        self.sess.run_with_iobinding(self.binding)

    def sync(self):
        if self.cuda:
            self.binding.synchronize_outputs()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common.add_common_arguments(p)
    args = p.parse_args()
    if args.dtype == "bf16":
        sys.exit("onnx_peer: bf16 is not run (ONNX Runtime's CPU and CUDA providers lack most bf16 kernels)")
    device = args.device if args.device != "cuda" else "cuda:0"
    cuda = device.startswith("cuda")
    tdtype = torch_peer.DTYPES[args.dtype]
    esize = np.dtype(NP_DTYPES[args.dtype]).itemsize
    cases, models, batches, seqs, suite = common.plan(args)
    budget = common.budget_for(args.suite, args)
    energy = common.EnergyMeter(device)
    variant = "onnxruntime"
    results = []
    total = len(cases) + len(models) * len(batches) * len(seqs)
    done = 0

    def progress(what):
        nonlocal done
        done += 1
        if sys.stderr.isatty():
            sys.stderr.write(f"\r\033[K[{done}/{total}] {what[:80]}")
            sys.stderr.flush()

    def timed(runner, energy_s=0.0):
        return common.measure(runner, runner.sync, budget, energy=energy, energy_s=energy_s)

    for op, a in cases:
        progress(f"{op} {a}")
        r = common.result("op", op, a, device, args.dtype, variant)
        r["check"] = {"status": "skipped", "reference": "peer: ONNX Runtime itself is the reference"}
        try:
            inputs, fn = torch_peer.make_op(op, a, "cpu", tdtype)
            if op == "BCE":  # the exporter lacks aten::binary_cross_entropy: the same function spelled out
                fn = bce_spelled_out
            names = [f"x{i}" for i in range(len(inputs))]
            model = export(Wrap(fn).eval(), inputs, names)
            runner = OrtRunner(model, names, [t.numpy() for t in inputs], device, args.threads)
            m = timed(runner)
        except Exception as e:
            results.append(common.error_result(r, "unsupported", f"{type(e).__name__}: {e}"))
            continue
        r["status"] = "ok"
        r.update(m)
        flops, nbytes = common.op_cost(op, a, esize)
        common.add_rates(r, flops, nbytes, m["median_ms"])
        results.append(r)
        del runner, inputs

    for name in models:
        points = common.model_points(name, batches, seqs)
        if name not in common.MODELS:
            for B, T, a, image in points:
                r = common.result("model", name, a, device, args.dtype, variant)
                r.update(batch=B, seq=T)
                results.append(common.error_result(r, "unsupported", f"the peer knows no built-in shape '{name}'"))
            continue
        model, cfg = torch_peer.hf_model(name, "cpu", tdtype)
        weight_bytes = sum(t.numel() * t.element_size() for t in model.parameters())
        vision = cfg["family"] == "vit"
        try:
            if vision:
                px0 = torch.rand((1, 3, cfg["image"], cfg["image"]), dtype=tdtype)
                onnx_bytes = export(VisionEncoder(model).eval(), [px0], ["pixel_values"],
                                    dynamic_axes={"pixel_values": {0: "b"}, "out": {0: "b"}})
                names = ["pixel_values"]
            else:
                ids0 = torch.tensor(common.model_ids(1, 8), dtype=torch.int64)
                onnx_bytes = export(Encoder(model).eval(), [ids0, torch.ones_like(ids0)], ["input_ids", "attention_mask"],
                                    dynamic_axes={"input_ids": {0: "b", 1: "t"}, "attention_mask": {0: "b", 1: "t"},
                                                  "out": {0: "b", 1: "t"}})
                names = ["input_ids", "attention_mask"]
            export_error = None
        except Exception as e:
            export_error = f"{type(e).__name__}: {e}"
        del model
        for B, T, a, image in points:
            progress(f"{name} {a}")
            r = common.result("model", name, a, device, args.dtype, variant)
            r.update(batch=B, seq=T, weights="synthetic")
            if image:
                r["image"] = image
            r["check"] = {"status": "skipped", "reference": "peer: ONNX Runtime itself is the reference"}
            if export_error:
                results.append(common.error_result(r, "error", export_error))
                continue
            if T > cfg["max_pos"]:
                results.append(common.error_result(r, "skipped", f"sequence {T} exceeds the model's positions"))
                continue
            if vision:
                arrays = [np.random.default_rng(5).uniform(-1, 1, (B, 3, image, image)).astype(NP_DTYPES[args.dtype])]
            else:
                ids = np.array(common.model_ids(B, T), dtype=np.int64)
                arrays = [ids, np.ones_like(ids)]
            try:
                runner = OrtRunner(onnx_bytes, names, arrays, device, args.threads)
                m = timed(runner, budget["energy_s"])
            except Exception as e:
                results.append(common.error_result(r, "error", f"{type(e).__name__}: {e}"))
                continue
            results.append(common.fill_model_result(r, m, cfg, B, T, image, weight_bytes, esize))
            del runner
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K")

    gpus = []
    if cuda and torch.cuda.is_available():
        drv = common.nvml_driver()
        for i in range(torch.cuda.device_count()):
            pr = torch.cuda.get_device_properties(i)
            gpus.append({"index": i, "name": pr.name, "driver": drv, "memory_bytes": float(pr.total_memory)})
    threads = args.threads or os.cpu_count() or 1
    dev_desc = {"device": device, "name": gpus[0]["name"] if cuda and gpus else common.cpu_model(),
                "energy": {"available": energy.available, "source": energy.source}}
    if not cuda:
        dev_desc["threads"] = threads
    runtime = {"name": "onnxruntime", "version": ort.__version__,
               "libraries": {"providers": ",".join(ort.get_available_providers()), "exporter": f"torch {torch.__version__}"}}
    doc = common.document(runtime, common.machine("onnxruntime (MLAS)", gpus, threads), [dev_desc], results, suite,
                          budget, "python3 scripts/peers/onnx_peer.py " + " ".join(sys.argv[1:]))
    common.write_document(doc, args.output)


if __name__ == "__main__":
    main()
