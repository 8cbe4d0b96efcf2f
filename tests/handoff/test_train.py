"""The shipped model weights come from the shipped phrases: retraining reproduces them."""

from __future__ import annotations

import numpy as np

from handoff.linear import SoftmaxModel
from handoff.train import DATA, train


def test_retraining_reproduces_the_shipped_weights(embedder, tmp_path):
    train(embedder, tmp_path)
    for name in ("explicit_request.npz", "frustration.npz"):
        shipped, fresh = SoftmaxModel.load(DATA / name), SoftmaxModel.load(tmp_path / name)
        assert shipped.classes == fresh.classes
        assert np.allclose(shipped.weights, fresh.weights, atol=2e-3), name
        assert np.allclose(shipped.bias, fresh.bias, atol=2e-3), name
