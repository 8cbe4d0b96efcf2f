"""``baton export-onnx``: build the int8 ONNX form of the embedding model, reproducibly.

The embedder builds the same export on first use into its cache folder; this command does it
ahead of time (or into ``--out``) and checks it against the torch model.
"""

from __future__ import annotations

import argparse
from pathlib import Path

CHECK_TEXTS = ("where is my parcel", "I want my money back for the broken blender",
               "Refunds go back to the original payment method within five business days.",
               "can i change the delivery address after ordering?")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("export-onnx", help="export the embedding model to int8 ONNX")
    parser.add_argument("--model", help="sentence-transformers model folder (default: the bundled MiniLM)")
    parser.add_argument("--out", help="folder to write (default: the embedder's cache folder)")
    parser.add_argument("--no-quantize", action="store_true", help="keep float32 weights")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from knowledge import Embedder, InputError
    from knowledge.embedder import default_model_path
    from knowledge.onnx_model import MODEL_FILE, OnnxEncoder, cache_root, export, fingerprint, supported

    model_dir = Path(args.model) if args.model else default_model_path()
    if not supported(model_dir):
        raise InputError("not a transformer + mean-pooling sentence-transformers folder", path=str(model_dir))
    target = Path(args.out) if args.out else cache_root() / fingerprint(model_dir)
    export(model_dir, target, quantize=not args.no_quantize)
    onnx_vectors = OnnxEncoder(target).encode(list(CHECK_TEXTS))
    torch_vectors = Embedder(str(model_dir), backend="torch").encode(list(CHECK_TEXTS))
    cosine = (onnx_vectors * torch_vectors).sum(axis=1)
    size = (target / MODEL_FILE).stat().st_size / 1e6
    print(f"baton export-onnx: {target / MODEL_FILE} ({size:.1f} MB); cosine to torch "
          f"min {float(np.min(cosine)):.4f}, mean {float(np.mean(cosine)):.4f}")
    return 0
