#!/usr/bin/env python3
"""PyTorch peer of `locus bench`: the same op cases and model grid, timed the same way, written as the same
JSON report (bench/schema.json), so that `locus bench --compare locus.json torch.json` can put them side by
side.

Variants: eager (always), cuda-graphs (torch.cuda.CUDAGraph capture and replay, CUDA only) and compile
(torch.compile; default on CUDA only, as compiling on a small CPU takes minutes). Models are Hugging Face
transformers encoders built from a config with random weights, attention through SDPA.

    python3 scripts/peers/torch_peer.py --suite quick --device cpu -o torch-cpu.json
    python3 scripts/peers/torch_peer.py --device cuda --variants eager,cuda-graphs,compile -o torch-cuda.json
"""
import argparse
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

DTYPES = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}


def make_op(op, args, device, dtype):
    """(inputs, fn) with fn(*inputs) running the op once, in locus's layouts (see src/bench/ops_suite.c)."""
    dims, axis = common.parse_args(args)
    g = torch.Generator(device="cpu").manual_seed(1)

    def rand(shape, lo=-1.0, hi=1.0):
        return (torch.rand(shape, generator=g) * (hi - lo) + lo).to(device=device, dtype=dtype)

    d1 = dims[0]
    if op == "MatMul":
        return [rand(d1), rand(dims[1])], torch.matmul
    if op == "Linear":
        K, N = d1[-1], dims[1][1]
        return [rand(d1), rand([N, K]), rand([N])], F.linear
    if op == "Conv1d":
        N_, L, C = d1
        O, K, _ = dims[1]
        return [rand([N_, C, L]), rand([O, C, K])], F.conv1d
    if op == "Conv2d":
        N_, H, W, C = d1
        O, KH, KW, _ = dims[1]
        return [rand([N_, C, H, W]), rand([O, C, KH, KW])], F.conv2d
    if op == "Softmax":
        return [rand(d1)], lambda x: F.softmax(x, dim=axis)
    if op == "LayerNorm":
        return [rand(d1)], lambda x: F.layer_norm(x, (x.shape[-1],), eps=1e-5)
    if op == "ScaledDotProductAttention":
        return [rand(d1), rand(dims[1]), rand(dims[2])], F.scaled_dot_product_attention
    if op == "ReLU":
        return [rand(d1)], F.relu
    if op == "LeakyReLU":
        return [rand(d1)], lambda x: F.leaky_relu(x, 0.01)
    if op == "PReLU":
        return [rand(d1), rand(dims[1], 0.0, 0.5)], F.prelu
    if op == "SeLU":
        return [rand(d1)], F.selu
    if op == "GELU":
        return [rand(d1)], F.gelu
    if op == "Sigmoid":
        return [rand(d1)], torch.sigmoid
    if op == "Softplus":
        return [rand(d1)], lambda x: F.softplus(x, beta=1.0, threshold=20.0)
    if op == "Sum":
        return [rand(d1)], lambda x: torch.sum(x, dim=axis)
    if op == "SumAll":
        return [rand(d1)], torch.sum
    if op == "Argmax":
        return [rand(d1)], lambda x: torch.argmax(x, dim=axis)
    if op == "Sort":
        return [rand(d1)], lambda x: torch.sort(x, dim=axis).values
    if op == "Concat":
        return [rand(d1), rand(dims[1])], lambda a, b: torch.cat([a, b], dim=axis)
    if op in ("Gather", "Scatter"):
        N_, D = d1
        E = dims[1][0]
        idx = torch.randint(0, N_, (E,), generator=g)
        index = idx[:, None].expand(E, D).contiguous().to(device)
        if op == "Gather":
            return [rand(d1), index], lambda x, i: torch.gather(x, 0, i)
        table = rand(d1)
        vals = table[idx.to(device)]  # duplicate targets receive equal values, as in locus
        zeros = torch.zeros(d1, device=device, dtype=dtype)
        return [zeros, index, vals], lambda z, i, v: torch.scatter(z, 0, i, v)
    if op == "BCE":
        y = torch.randint(0, 2, d1, generator=g).to(device=device, dtype=dtype)
        return [rand(d1, 0.001, 0.999), y], F.binary_cross_entropy
    raise ValueError(f"unknown op {op}")


def hf_model(name, device, dtype):
    from transformers import BertConfig, BertModel, RobertaConfig, RobertaModel, XLMRobertaConfig, XLMRobertaModel

    c = common.MODELS[name]
    if c["family"] == "vit":
        from transformers import ViTConfig, ViTModel

        cfg = ViTConfig(hidden_size=c["hidden"], num_hidden_layers=c["layers"], num_attention_heads=c["heads"],
                        intermediate_size=c["inter"], image_size=c["image"], patch_size=c["patch"],
                        attn_implementation="sdpa")
        return ViTModel(cfg, add_pooling_layer=False).eval().to(device=device, dtype=dtype), c
    kw = dict(vocab_size=c["vocab"], hidden_size=c["hidden"], num_hidden_layers=c["layers"],
              num_attention_heads=c["heads"], intermediate_size=c["inter"], max_position_embeddings=c["max_pos"],
              type_vocab_size=c["type_vocab"], pad_token_id=c["pad"], attn_implementation="sdpa")
    if c["family"] == "bert":
        m = BertModel(BertConfig(**kw), add_pooling_layer=False)
    elif c["family"] == "roberta":
        m = RobertaModel(RobertaConfig(**kw), add_pooling_layer=False)
    else:
        m = XLMRobertaModel(XLMRobertaConfig(**kw), add_pooling_layer=False)
    return m.eval().to(device=device, dtype=dtype), c


class Runner:
    """One workload in one variant: eager, cuda-graphs or compile."""

    def __init__(self, fn, inputs, variant, device):
        self.inputs = inputs
        self.graph = None
        self.fn = fn
        if variant == "compile":
            self.fn = torch.compile(fn)
        if variant == "cuda-graphs":
            s = torch.cuda.Stream()
            s.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(s):
                for _ in range(3):
                    fn(*inputs)
            torch.cuda.current_stream().wait_stream(s)
            self.graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(self.graph):
                self.out = fn(*inputs)

    def __call__(self):
        if self.graph is not None:
            self.graph.replay()
        else:
            self.fn(*self.inputs)


def model_inputs(cfg, B, T, image, device, dtype):
    """(inputs, fn) of one forward: ids and mask like locus's model suite, or pixel values for an image model."""
    if image:
        g = torch.Generator(device="cpu").manual_seed(5)
        return [(torch.rand((B, 3, image, image), generator=g) * 2 - 1).to(device=device, dtype=dtype)], "pixels"
    ids = torch.tensor(common.model_ids(B, T), dtype=torch.int64, device=device)
    return [ids, torch.ones_like(ids)], "ids"


def time_workload(runner, device, budget, energy, energy_s=0.0):
    cuda = device.startswith("cuda")
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    timer = (torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) if cuda else None
    memory = None
    if cuda:
        memory = (torch.cuda.reset_peak_memory_stats, lambda: float(torch.cuda.max_memory_allocated()))
    with torch.inference_mode():
        return common.measure(runner, sync, budget, timer=timer, energy=energy, memory=memory, energy_s=energy_s)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common.add_common_arguments(p)
    p.add_argument("--variants", default=None, help="eager,cuda-graphs,compile (default: eager on CPU, all on CUDA)")
    p.add_argument("--tf32", choices=("off", "on", "torch-default"), default="off",
                   help="f32 matrix products and convolutions in TF32 on CUDA: off (default; plain f32, as locus computes "
                        "unless LOCUS_CUDA_MATH=tf32), on, or PyTorch's own defaults (TF32 convolutions, f32 products)")
    args = p.parse_args()
    if args.tf32 != "torch-default":
        torch.backends.cuda.matmul.allow_tf32 = args.tf32 == "on"
        torch.backends.cudnn.allow_tf32 = args.tf32 == "on"
    device = args.device if args.device != "cuda" else "cuda:0"
    cuda = device.startswith("cuda")
    if cuda and not torch.cuda.is_available():
        sys.exit("torch_peer: CUDA is not available to this PyTorch")
    if args.threads:
        torch.set_num_threads(args.threads)
    variants = args.variants.split(",") if args.variants else (["eager", "cuda-graphs", "compile"] if cuda else ["eager"])
    for v in variants:
        if v not in ("eager", "cuda-graphs", "compile"):
            sys.exit(f"torch_peer: unknown variant {v}")
        if v == "cuda-graphs" and not cuda:
            sys.exit("torch_peer: cuda-graphs needs --device cuda")
    dtype = DTYPES[args.dtype]
    esize = torch.tensor([], dtype=dtype).element_size()
    cases, models, batches, seqs, suite = common.plan(args)
    budget = common.budget_for(args.suite, args)
    energy = common.EnergyMeter(device)
    results = []
    total = (len(cases) + len(models) * len(batches) * len(seqs)) * len(variants)
    done = 0

    def progress(what):
        nonlocal done
        done += 1
        if sys.stderr.isatty():
            sys.stderr.write(f"\r\033[K[{done}/{total}] {what[:80]}")
            sys.stderr.flush()

    for variant in variants:
        for op, a in cases:
            progress(f"{variant} {op} {a}")
            r = common.result("op", op, a, device, args.dtype, variant)
            r["check"] = {"status": "skipped", "reference": "peer: PyTorch itself is the reference"}
            try:
                inputs, fn = make_op(op, a, device, dtype)
                with torch.inference_mode():
                    runner = Runner(fn, inputs, variant, device)
                m = time_workload(runner, device, budget, energy)
            except Exception as e:  # an op this runtime cannot run (or run in this variant) is reported
                results.append(common.error_result(r, "unsupported" if isinstance(e, (NotImplementedError, RuntimeError)) else "error", f"{type(e).__name__}: {e}"))
                if cuda:
                    torch.cuda.empty_cache()
                continue
            r["status"] = "ok"
            r.update(m)
            flops, nbytes = common.op_cost(op, a, esize)
            common.add_rates(r, flops, nbytes, m["median_ms"])
            results.append(r)
            del inputs, runner
            if cuda:
                torch.cuda.empty_cache()
        for name in models:
            points = common.model_points(name, batches, seqs)
            if name not in common.MODELS:
                for B, T, a, image in points:
                    r = common.result("model", name, a, device, args.dtype, variant)
                    r.update(batch=B, seq=T)
                    results.append(common.error_result(r, "unsupported", f"the peer knows no built-in shape '{name}'"))
                continue
            model, cfg = hf_model(name, device, dtype)
            weight_bytes = sum(t.numel() * t.element_size() for t in model.parameters())
            for B, T, a, image in points:
                progress(f"{variant} {name} {a}")
                r = common.result("model", name, a, device, args.dtype, variant)
                r.update(batch=B, seq=T, weights="synthetic")
                if image:
                    r["image"] = image
                r["check"] = {"status": "skipped", "reference": "peer: transformers itself is the reference"}
                if T > cfg["max_pos"]:
                    results.append(common.error_result(r, "skipped", f"sequence {T} exceeds the model's positions"))
                    continue
                inputs, kind = model_inputs(cfg, B, T, image, device, dtype)

                def fwd(*xs):
                    if kind == "pixels":
                        return model(pixel_values=xs[0]).last_hidden_state
                    return model(input_ids=xs[0], attention_mask=xs[1]).last_hidden_state

                try:
                    with torch.inference_mode():
                        runner = Runner(fwd, inputs, variant, device)
                    m = time_workload(runner, device, budget, energy, budget["energy_s"])
                except Exception as e:
                    results.append(common.error_result(r, "error", f"{type(e).__name__}: {e}"))
                    continue
                results.append(common.fill_model_result(r, m, cfg, B, T, image, weight_bytes, esize))
                del runner
            del model
            if cuda:
                torch.cuda.empty_cache()
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K")

    gpus = []
    if torch.cuda.is_available():
        drv = common.nvml_driver()
        for i in range(torch.cuda.device_count()):
            pr = torch.cuda.get_device_properties(i)
            gpus.append({"index": i, "name": pr.name, "driver": drv, "memory_bytes": float(pr.total_memory)})
    cfg_text = torch.__config__.show()
    blas = re.search(r"BLAS_INFO=([^,\s]+)", cfg_text)
    blas = blas.group(1) if blas else "unknown"
    threads = torch.get_num_threads()
    dev_desc = {"device": device, "name": torch.cuda.get_device_name(device) if cuda else common.cpu_model(),
                "energy": {"available": energy.available, "source": energy.source}}
    if not cuda:
        dev_desc["threads"] = threads
    runtime = {"name": "pytorch", "version": torch.__version__,
               "libraries": {"cuda": torch.version.cuda or "", "cudnn": str(torch.backends.cudnn.version() or "")}}
    try:
        import transformers
        runtime["libraries"]["transformers"] = transformers.__version__
    except ImportError:
        pass
    doc = common.document(runtime, common.machine(f"pytorch {blas}", gpus, threads), [dev_desc], results, suite, budget,
                          "python3 scripts/peers/torch_peer.py " + " ".join(sys.argv[1:]))
    common.write_document(doc, args.output)


if __name__ == "__main__":
    main()
