"""The shipped model weights come from the shipped phrases: retraining reproduces them.

Closely, not bit for bit: the int8 ONNX embeddings may differ in the last digits between
onnxruntime builds and thread counts, so weights are compared by relative error and the models by
the decisions they make on the training phrases.
"""

from __future__ import annotations

import numpy as np

from handoff.linear import SoftmaxModel
from handoff.train import DATA, phrases, train


def test_retraining_reproduces_the_shipped_weights(embedder, tmp_path):
    train(embedder, tmp_path)
    probe = phrases("human_requests.txt") + phrases("contact_requests.txt") + phrases("other_messages.txt")
    vectors = embedder.encode(probe)
    for name in ("explicit_request.npz", "frustration.npz"):
        shipped, fresh = SoftmaxModel.load(DATA / name), SoftmaxModel.load(tmp_path / name)
        assert shipped.classes == fresh.classes
        error = np.linalg.norm(shipped.weights - fresh.weights) / np.linalg.norm(shipped.weights)
        assert error < 0.05, f"{name}: relative weight difference {error:.3f}"
    shipped, fresh = SoftmaxModel.load(DATA / "explicit_request.npz"), SoftmaxModel.load(
        tmp_path / "explicit_request.npz")
    before, after = shipped.probabilities(vectors), fresh.probabilities(vectors)
    assert np.abs(before - after).max() < 0.05
    assert (before.argmax(axis=1) == after.argmax(axis=1)).mean() > 0.99
