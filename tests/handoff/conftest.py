"""A detector for the whole session, on the shared embedder and the shipped configuration."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def detector(embedder):
    from handoff import Detector, HandoffConfig

    return Detector(HandoffConfig.load(), embedder)
