"""BM25 over the indexed chunks, with scores normalised to 0..1 per query.

Raw BM25 grows with the query's length and the corpus' idf range, so it cannot be fused with a
cosine or compared across knowledge bases as it is. Each score is divided by the best score the
query could reach (every query term matched at saturation), which reads as "the share of the
query's information found in this chunk". Query terms the corpus never saw count at full idf, so
a question about something absent stays low.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
from scipy import sparse

from knowledge.text import tokens

K1 = 1.2
B = 0.75


class BM25:
    """Okapi BM25 (k1=1.2, b=0.75) as a sparse term-by-document weight matrix."""

    def __init__(self, documents: list[str]) -> None:
        counts = [Counter(tokens(text)) for text in documents]
        self.vocabulary: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        tfs: list[float] = []
        for doc, counter in enumerate(counts):
            for term, tf in counter.items():
                rows.append(self.vocabulary.setdefault(term, len(self.vocabulary)))
                cols.append(doc)
                tfs.append(tf)
        n_docs = max(len(documents), 1)
        lengths = np.array([sum(counter.values()) for counter in counts], dtype=np.float32)
        average = float(lengths.mean()) if len(lengths) and lengths.mean() > 0 else 1.0
        df = np.bincount(np.array(rows, dtype=np.int64), minlength=len(self.vocabulary))
        self.idf = np.log1p((n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
        self.unseen_idf = math.log1p((n_docs + 0.5) / 0.5)
        tf = np.array(tfs, dtype=np.float32)
        norm = K1 * (1 - B + B * lengths[np.array(cols, dtype=np.int64)] / average) if cols else tf
        weights = self.idf[np.array(rows, dtype=np.int64)] * tf * (K1 + 1) / (tf + norm) if cols else tf
        self.matrix = sparse.csr_matrix((weights, (rows, cols)), shape=(len(self.vocabulary), len(documents)),
                                        dtype=np.float32)
        self.size = len(documents)

    def scores(self, query: str) -> np.ndarray:
        """Normalised scores (0..1) of every document for ``query``."""
        terms = Counter(tokens(query))
        if not terms or not self.size:
            return np.zeros(self.size, dtype=np.float32)
        known = [(self.vocabulary[t], n) for t, n in terms.items() if t in self.vocabulary]
        ceiling = sum(n * (self.idf[self.vocabulary[t]] if t in self.vocabulary else self.unseen_idf)
                      for t, n in terms.items()) * (K1 + 1)
        if not known or ceiling <= 0:
            return np.zeros(self.size, dtype=np.float32)
        ids = np.array([i for i, _ in known])
        repeat = np.array([n for _, n in known], dtype=np.float32)
        raw = self.matrix[ids].T @ repeat
        return np.asarray(raw, dtype=np.float32).ravel() / np.float32(ceiling)
