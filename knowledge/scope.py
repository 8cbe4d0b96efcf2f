"""Out-of-scope calibration learnt from the knowledge base alone, at ingest.

One cosine threshold does not carry across knowledge bases: a bot whose entries are close to each
other (Banking77's 50 card and transfer intents) meets unanswerable questions that look just like
answerable ones, while a bot of 15 unrelated intents can use a low bar (Larson et al. 2019 and
Zhang et al. 2021 found the same on CLINC150 and Banking77: thresholds tuned on one split do not
transfer). Every knowledge base with example questions carries its own labelled evidence:

* an example held out of its entry (leave-one-example-out) is a question the entry answers;
* an example with its whole entry held out (leave-one-entry-out) is a question on the same topic
  that the rest of the knowledge base cannot answer, the hard in-domain case.

A logistic model over nearest-neighbour evidence (the kNN detectors of the OOS literature: the
closest vector, the lead of its entry over the next entry, the mean of the three closest vectors,
the mean of the entry's two closest vectors) is fitted on those pseudo-labels, so the same evidence
reads as "answerable" on a loose knowledge base and as "doubtful" on a tight one. No labelled query
is ever used.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

VERSION = 1  # bump when FEATURES change: an index written before is re-calibrated on its next ingest
FEATURES = ("closest", "entry_margin", "knn3", "entry_top2", "centroid", "centroid_margin")
MIN_HELD_OUT = 20  # vectors needed before the knowledge base's own evidence is trusted
MAX_HELD_OUT = 2000  # vectors held out at most (a fixed, evenly spaced sample beyond that)
L2 = 1.0  # ridge on the weights (the pseudo-labels are a few hundred rows)


def centroids(vectors: np.ndarray, owners: np.ndarray, n_entries: int) -> np.ndarray:
    """The normalised mean of each entry's vectors (what its phrasings share)."""
    sums = np.zeros((n_entries, vectors.shape[1]), dtype=np.float64)
    np.add.at(sums, owners, vectors)
    return sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-9)


def features(similarities: np.ndarray, owners: np.ndarray, centroid_similarities: np.ndarray) -> np.ndarray:
    """Evidence of one query: its cosine to knowledge-base vectors (``owners``: the entry of each;
    vectors left out of the search: -inf) and to every entry's centroid (entries left out: -inf)."""
    order = np.argsort(-similarities)
    top = order[0]
    entry = owners[top]
    closest = float(similarities[top])
    others = similarities[owners != entry]
    others = others[np.isfinite(others)]
    top3 = similarities[order[:3]]
    same = similarities[order][owners[order] == entry][:2]
    ranked = np.sort(centroid_similarities[np.isfinite(centroid_similarities)])[::-1]
    return np.array([
        closest,
        closest - float(others.max()) if len(others) else closest,
        float(top3[np.isfinite(top3)].mean()),
        float(same[np.isfinite(same)].mean()),
        float(ranked[0]),
        float(ranked[0] - ranked[1]) if len(ranked) > 1 else float(ranked[0]),
    ])


def pseudo_labels(vectors: np.ndarray, owners: np.ndarray, held: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of evidence for each held-out vector: once without itself (label 1, answerable), once
    without its whole entry (label 0, unanswerable)."""
    n_entries = int(owners.max()) + 1
    sums = np.zeros((n_entries, vectors.shape[1]), dtype=np.float64)
    np.add.at(sums, owners, vectors)
    unit = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-9)
    rows, labels = [], []
    for i in held:
        entry = owners[i]
        similarities = vectors @ vectors[i]
        to_centroids = unit @ vectors[i]
        alone = similarities.copy()
        alone[i] = -np.inf
        rest = sums[entry] - vectors[i]  # the entry's centroid without the held-out phrasing
        centroids_alone = to_centroids.copy()
        centroids_alone[entry] = float(rest @ vectors[i]) / max(float(np.linalg.norm(rest)), 1e-9)
        rows.append(features(alone, owners, centroids_alone))
        labels.append(1.0)
        without_entry = similarities.copy()
        without_entry[owners == entry] = -np.inf
        centroids_without = to_centroids.copy()
        centroids_without[entry] = -np.inf
        rows.append(features(without_entry, owners, centroids_without))
        labels.append(0.0)
    return np.array(rows), np.array(labels)


def fit(vectors: np.ndarray, owners: np.ndarray) -> np.ndarray | None:
    """The calibration ``[intercept, weights...]``, or None when the knowledge base has fewer than
    three entries or too few phrasings to hold any out.

    ``owners``: the entry of each vector. Every vector of an entry with more than one phrasing
    (title, examples, answer opening) is held out in turn.
    """
    entries, counts = np.unique(owners, return_counts=True)
    held = np.flatnonzero(np.isin(owners, entries[counts > 1]))
    if len(entries) < 3 or len(held) < MIN_HELD_OUT:
        return None
    if len(held) > MAX_HELD_OUT:
        held = held[np.linspace(0, len(held) - 1, MAX_HELD_OUT).astype(int)]
    x, y = pseudo_labels(vectors.astype(np.float64), owners, held)
    x = np.hstack([np.ones((len(x), 1)), x])

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        z = x @ theta
        p = 1.0 / (1.0 + np.exp(-z))
        value = float(np.logaddexp(0.0, z).sum() - (y * z).sum() + 0.5 * L2 * (theta[1:] ** 2).sum())
        grad = x.T @ (p - y)
        grad[1:] += L2 * theta[1:]
        return value, grad

    return minimize(loss, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B").x


def probability(evidence: np.ndarray, calibration: np.ndarray) -> float:
    """How likely the query is answerable by this knowledge base, by its own calibration."""
    z = float(calibration[0] + evidence @ calibration[1:])
    return 1.0 / (1.0 + np.exp(-z))
