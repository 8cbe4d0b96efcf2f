"""The int8 ONNX form of a sentence-transformers model, and the encoder that runs it.

One query through torch costs about 12 ms here; the same model exported to ONNX, its weights
quantised to int8 and run by plain onnxruntime costs about a fifth of that, with cosine to the
torch vectors above 0.985 (tests/knowledge/test_onnx.py). The export is reproducible
(``baton export-onnx``) and is otherwise built on first use into a cache folder keyed by the
model's files, so a fresh clone needs no binary in git and nothing from the network.

Mean pooling and L2 normalisation are part of the exported graph, exactly as sentence-transformers
computes them (masked mean over the last hidden state, then unit length).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np

MODEL_FILE = "model.int8.onnx"
META_FILE = "baton-onnx.json"
OPSET = 17
RECIPE = 2  # bump when export() changes, so cached exports are rebuilt


def cache_root() -> Path:
    """``$BATON_CACHE_DIR/onnx`` or ``~/.cache/baton/onnx``."""
    base = os.environ.get("BATON_CACHE_DIR") or Path.home() / ".cache" / "baton"
    return Path(base) / "onnx"


def supported(model_dir: Path) -> bool:
    """True for the plain shape this exporter handles: transformer, mean pooling, normalise."""
    try:
        modules = json.loads((model_dir / "modules.json").read_text())
        pooling = json.loads((model_dir / modules[1]["path"] / "config.json").read_text())
    except (OSError, IndexError, KeyError, json.JSONDecodeError):
        return False
    kinds = [module["type"].rsplit(".", 1)[-1] for module in modules]
    return (kinds[:2] == ["Transformer", "Pooling"] and set(kinds[2:]) <= {"Normalize"}
            and pooling.get("pooling_mode_mean_tokens") is True
            and not any(value is True for key, value in pooling.items()
                        if key.startswith("pooling_mode") and key != "pooling_mode_mean_tokens"))


def cached_export(model_dir: Path) -> Path:
    """The folder holding the int8 export of ``model_dir``, exporting it first if needed."""
    target = cache_root() / fingerprint(model_dir)
    if not (target / META_FILE).exists():
        export(model_dir, target)
    return target


def export(model_dir: Path, target: Path, quantize: bool = True) -> Path:
    """Export ``model_dir`` to ONNX (int8 weights when ``quantize``) with its tokenizer, into
    ``target``. Written to a temporary folder first and renamed, so concurrent first uses race
    harmlessly."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=target.parent))
    try:
        hf_logging.disable_progress_bar()
        # Eager attention traces to plain ops; the tracer's warnings are about export-time shapes.
        model = AutoModel.from_pretrained(str(model_dir), local_files_only=True, attn_implementation="eager")
        encoder = _pooled_encoder_class()(model).eval()
        sample = {"input_ids": torch.ones((2, 8), dtype=torch.long),
                  "attention_mask": torch.ones((2, 8), dtype=torch.long),
                  "token_type_ids": torch.zeros((2, 8), dtype=torch.long)}
        float_path = work / "model.onnx"
        dims = {name: {0: "batch", 1: "tokens"} for name in sample}
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(encoder, tuple(sample.values()), str(float_path), input_names=list(sample),
                              output_names=["embedding"], dynamic_axes={**dims, "embedding": {0: "batch"}},
                              opset_version=OPSET, dynamo=False)
        if quantize:
            logging.disable(logging.WARNING)  # its advice to pre-process applies to conv nets
            try:
                # Per-channel weights keep cosine to torch near 0.99 (per-tensor: 0.96); 7-bit range
                # avoids int16 saturation on CPUs without VNNI; the embedding table (Gather) is
                # most of the size: 23 MB quantised, 59 MB not.
                quantize_dynamic(str(float_path), str(work / MODEL_FILE), weight_type=QuantType.QInt8,
                                 op_types_to_quantize=["MatMul", "Gather"], per_channel=True,
                                 reduce_range=True)
            finally:
                logging.disable(logging.NOTSET)
            float_path.unlink()
        else:
            float_path.rename(work / MODEL_FILE)
        shutil.copy2(model_dir / "tokenizer.json", work / "tokenizer.json")
        config = json.loads((model_dir / "sentence_bert_config.json").read_text())
        max_length = config.get("max_seq_length", 256)
        (work / META_FILE).write_text(json.dumps({"source": str(model_dir), "max_seq_length": max_length,
                                                  "quantized": quantize, "opset": OPSET}, indent=1))
        if target.exists():
            shutil.rmtree(target)
        os.replace(work, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


class OnnxEncoder:
    """Tokenise with the model's fast tokenizer, run the exported graph with onnxruntime."""

    def __init__(self, export_dir: Path) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        meta = json.loads((export_dir / META_FILE).read_text())
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        # Idle worker threads spin-wait by default, which takes the CPU from the database write and
        # the event loop that follow each query on a 2-core machine.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(str(export_dir / MODEL_FILE), options,
                                                    providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(export_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=int(meta["max_seq_length"]))
        self.tokenizer.enable_padding()
        self.dim = int(self.session.get_outputs()[0].shape[-1])

    def encode(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        feed = {"input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64)}
        return self.session.run(None, feed)[0]


def fingerprint(model_dir: Path) -> str:
    """Changes when any model file changes (name, size, mtime), cheap enough for every start."""
    digest = hashlib.sha256(f"{RECIPE}:{model_dir.resolve()}".encode())
    for path in sorted(model_dir.rglob("*")):
        if path.is_file():
            stat = path.stat()
            digest.update(f"{path.relative_to(model_dir)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return f"{model_dir.name}-{digest.hexdigest()[:16]}"


def _pooled_encoder_class():
    import torch

    class PooledEncoder(torch.nn.Module):
        """Transformer + masked mean pooling + L2 normalisation, as one graph."""

        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask,
                                token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    return PooledEncoder

