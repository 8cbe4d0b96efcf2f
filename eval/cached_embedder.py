"""An embedder that remembers every text it embedded, so that the knowledge base and the detector
share one embedding per message across a whole evaluation (the dominant cost of a run)."""

from __future__ import annotations

import numpy as np
from tqdm import tqdm

from handoff.features import embedding_order

BATCH = 32
CHUNK = 1024


class CachedEmbedder:
    def __init__(self, embedder, progress: bool = False) -> None:
        self.inner = embedder
        self.dim = embedder.dim
        self.name = embedder.name
        self.backend = getattr(embedder, "backend", "")
        self.progress = progress
        self._vectors: dict[str, np.ndarray] = {}

    def vocabulary(self) -> frozenset[str]:
        """The inner embedder's tokenizer words, where it has them (``knowledge.spelling``)."""
        words = getattr(self.inner, "vocabulary", None)
        return words() if callable(words) else frozenset()

    def encode(self, texts: list[str], batch_size: int = BATCH) -> np.ndarray:
        """Unseen texts are embedded shortest first (less padding per batch), then looked up."""
        missing = sorted({text for text in texts if text not in self._vectors}, key=embedding_order)
        chunks = range(0, len(missing), CHUNK)
        show = self.progress and len(missing) > CHUNK
        for start in tqdm(chunks, desc="embedding", unit="chunk", disable=not show, leave=False):
            part = missing[start : start + CHUNK]
            self._vectors.update(zip(part, self.inner.encode(part, batch_size=batch_size), strict=True))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._vectors[text] for text in texts])
