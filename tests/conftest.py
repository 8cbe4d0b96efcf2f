"""Fixtures shared by every test package. Set the offline environment before anything imports
litellm, transformers or onnxruntime."""

from __future__ import annotations

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Most tests drive hundreds of requests from 127.0.0.1; the rate limits have their own tests
# (tests/engine/security), which turn them on with small windows.
os.environ.setdefault("BATON_RATE_LIMITS", "false")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data" / "dev"


@pytest.fixture(scope="session")
def embedder():
    """One embedder for the whole run: loading the model costs seconds."""
    from knowledge import Embedder

    return Embedder()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return SHARED_DATA
