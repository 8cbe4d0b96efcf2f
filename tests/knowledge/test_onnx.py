"""The int8 ONNX export against the torch model it came from."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.cli import main
from knowledge import Embedder
from knowledge.onnx_model import MODEL_FILE, OnnxEncoder


@pytest.fixture(scope="module")
def texts(shared_data: Path) -> list[str]:
    with open(shared_data / "bitext_retrieval.jsonl") as lines:
        questions = [json.loads(line)["text"] for line in lines][::97]
    with open(shared_data / "bitext_kb.jsonl") as lines:
        answers = [json.loads(line)["answer"] for line in lines][:10]
    return questions + answers


def test_export_command_builds_an_int8_model_close_to_torch(tmp_path: Path, texts: list[str],
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export-onnx", "--out", str(tmp_path / "onnx")]) == 0
    assert "cosine to torch" in capsys.readouterr().out
    size = (tmp_path / "onnx" / MODEL_FILE).stat().st_size
    assert 15e6 < size < 30e6  # int8: about a quarter of the 90 MB float weights
    exported = OnnxEncoder(tmp_path / "onnx").encode(texts)
    reference = Embedder(backend="torch").encode(texts)
    cosine = (exported * reference).sum(axis=1)
    assert np.allclose(np.linalg.norm(exported, axis=1), 1.0, atol=1e-4)
    assert cosine.mean() >= 0.985 and cosine.min() >= 0.95


def test_default_embedder_runs_onnx(embedder, texts: list[str]) -> None:
    assert embedder.backend == "onnx" and embedder.dim == 384
    vectors = embedder.encode(texts[:5], batch_size=2)
    assert vectors.dtype == np.float32 and vectors.shape == (5, 384)
    assert embedder.encode([]).shape == (0, 384)
