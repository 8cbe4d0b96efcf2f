"""A small softmax (multinomial logistic) classifier in numpy: the shipped signal models.

Trained by ``python -m handoff.train`` on the phrases in ``handoff/data``; a few kilobytes of
weights in an ``.npz``, deterministic to train (full-batch gradient descent from zeros), so a
retrain reproduces the shipped file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class SoftmaxModel:
    weights: np.ndarray  # (features, classes)
    bias: np.ndarray  # (classes,)
    classes: list[str]

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        logits = features.astype(np.float64) @ self.weights + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    def column(self, name: str) -> int:
        return self.classes.index(name)

    @classmethod
    def fit(
        cls,
        features: np.ndarray,
        labels: list[str],
        classes: list[str],
        l2: np.ndarray | float,
        steps: int = 600,
        rate: float = 0.5,
    ) -> SoftmaxModel:
        """Gradient descent on the mean cross-entropy plus ``l2`` (a scalar or one per feature),
        with classes weighted to balance, so that a rare class is not traded away."""
        x = features.astype(np.float64)
        target = np.zeros((len(labels), len(classes)))
        target[np.arange(len(labels)), [classes.index(label) for label in labels]] = 1.0
        counts = target.sum(axis=0)
        sample_weight = (target / np.maximum(counts, 1) * len(labels) / len(classes)).sum(axis=1)
        penalty = np.broadcast_to(np.asarray(l2, dtype=np.float64), (x.shape[1],))[:, None]
        model = cls(np.zeros((x.shape[1], len(classes))), np.zeros(len(classes)), list(classes))
        for _ in range(steps):
            error = (model.probabilities(x) - target) * sample_weight[:, None] / len(labels)
            model.weights -= rate * (x.T @ error + penalty * model.weights)
            model.bias -= rate * error.sum(axis=0)
        return model

    def save(self, path: str | Path) -> None:
        np.savez_compressed(
            path,
            weights=self.weights.astype(np.float32),
            bias=self.bias.astype(np.float32),
            classes=np.array(self.classes),
        )

    @classmethod
    def load(cls, path: str | Path) -> SoftmaxModel:
        with np.load(path) as data:
            return cls(
                data["weights"].astype(np.float64),
                data["bias"].astype(np.float64),
                [str(name) for name in data["classes"]],
            )
