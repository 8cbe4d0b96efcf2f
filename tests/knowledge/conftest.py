"""The sample knowledge base, indexed once for the knowledge tests."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_KB = ROOT / "samples" / "kb"


@pytest.fixture(scope="session")
def sample_index(embedder, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from knowledge import KnowledgeIndex, load_path

    index_dir = tmp_path_factory.mktemp("sample-index")
    KnowledgeIndex.open(index_dir).ingest(load_path(SAMPLE_KB), embedder, progress=False, roots=[SAMPLE_KB])
    return index_dir


@pytest.fixture(scope="session")
def sample_kb(sample_index: Path, embedder):
    from knowledge import KnowledgeBase

    return KnowledgeBase(sample_index, embedder)
