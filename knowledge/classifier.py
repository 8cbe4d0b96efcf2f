"""A linear classifier from question vectors to knowledge-base entries, trained at ingest.

Nearest-neighbour search over example questions treats every example alike; a multinomial
logistic regression on the same vectors learns which directions separate one entry from its
neighbours ("get an invoice" vs "check an invoice"), which is what a few-shot FAQ needs. It is
trained only when the knowledge base has example questions and few enough entries for it to
stay cheap, and it only re-ranks: similarity and word overlap still decide the confidence.
On the dev set it added 2 points of recall@1 when trained on half of the examples and tested
on the rest (docs/knowledge.md).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

MAX_CLASSES = 2000
C = 10.0  # inverse L2 strength, scikit-learn's convention
MAX_ITERATIONS = 200


def train(vectors: np.ndarray, labels: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Softmax regression weights ``(dim, n_classes)`` and biases, by L-BFGS."""
    n, dim = vectors.shape
    onehot = np.zeros((n, n_classes), dtype=np.float64)
    onehot[np.arange(n), labels] = 1.0
    x = vectors.astype(np.float64)

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        weights = theta[: dim * n_classes].reshape(dim, n_classes)
        bias = theta[dim * n_classes:]
        logits = x @ weights + bias
        logits -= logits.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(logits).sum(axis=1, keepdims=True))
        probs = np.exp(logits - log_norm)
        value = C * -(onehot * (logits - log_norm)).sum() + 0.5 * (weights**2).sum()
        delta = C * (probs - onehot)
        grad = np.concatenate([(x.T @ delta + weights).ravel(), delta.sum(axis=0)])
        return float(value), grad

    result = minimize(loss, np.zeros(dim * n_classes + n_classes), jac=True, method="L-BFGS-B",
                      options={"maxiter": MAX_ITERATIONS})
    weights = result.x[: dim * n_classes].reshape(dim, n_classes).astype(np.float32)
    return weights, result.x[dim * n_classes:].astype(np.float32)


def probabilities(queries: np.ndarray, weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Class probabilities per query row."""
    logits = queries @ weights + bias
    logits -= logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)
