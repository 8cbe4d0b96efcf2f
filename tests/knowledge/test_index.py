"""The index folder: manifest, incremental re-ingest, removal, versions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from knowledge import InputError, KnowledgeIndex, load_path


class CountingEmbedder:
    """The real embedder, counting how many texts it was asked to embed."""

    def __init__(self, embedder) -> None:
        self.inner, self.texts = embedder, 0
        self.name, self.dim, self.backend = embedder.name, embedder.dim, embedder.backend

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        self.texts += len(texts)
        return self.inner.encode(texts, batch_size=batch_size)


def faq(path: Path, *entries: tuple[str, str]) -> Path:
    path.write_text("".join(json.dumps({"id": i, "title": f"about {i}", "examples": [f"question on {i}"],
                                        "answer": answer}) + "\n" for i, answer in entries))
    return path


@pytest.fixture
def counting(embedder) -> CountingEmbedder:
    return CountingEmbedder(embedder)


def test_first_ingest_writes_manifest_and_vectors(tmp_path: Path, counting: CountingEmbedder) -> None:
    source = faq(tmp_path / "faq.jsonl", ("a", "Refunds take five days."), ("b", "We ship daily."))
    stats = KnowledgeIndex.open(tmp_path / "index").ingest(load_path(source), counting, progress=False)
    assert (stats.added, stats.updated, stats.unchanged, stats.removed, stats.chunks) == (2, 0, 0, 0, 2)
    assert stats.embedded == counting.texts == 6  # title, example, answer opening per entry
    manifest = json.loads((tmp_path / "index" / "manifest.json").read_text())
    assert manifest["model"] == counting.name and manifest["dim"] == counting.dim == 384
    assert manifest["version"] == 1 and manifest["index"] == "flat"
    assert set(manifest["documents"]) == {"a", "b"} and all(len(d["hash"]) == 24
                                                            for d in manifest["documents"].values())
    reopened = KnowledgeIndex.open(tmp_path / "index")
    assert reopened.faiss_index.ntotal == 6 and [c.id for c in reopened.chunks] == ["a#0", "b#0"]
    assert np.allclose(np.linalg.norm(reopened.vectors, axis=1), 1.0, atol=1e-4)


def test_reingest_unchanged_embeds_nothing_and_keeps_the_version(tmp_path: Path,
                                                                 counting: CountingEmbedder) -> None:
    source = faq(tmp_path / "faq.jsonl", ("a", "Refunds take five days."), ("b", "We ship daily."))
    KnowledgeIndex.open(tmp_path / "index").ingest(load_path(source), counting, progress=False)
    counting.texts = 0
    stats = KnowledgeIndex.open(tmp_path / "index").ingest(load_path(source), counting, progress=False)
    assert (stats.added, stats.updated, stats.unchanged, stats.removed, counting.texts) == (0, 0, 2, 0, 0)
    assert KnowledgeIndex.open(tmp_path / "index").version == 1


def test_changed_is_replaced_and_removed_disappears(tmp_path: Path, counting: CountingEmbedder) -> None:
    source = faq(tmp_path / "faq.jsonl", ("a", "Refunds take five days."), ("b", "We ship daily."),
                 ("c", "Open 9 to 5."))
    KnowledgeIndex.open(tmp_path / "index").ingest(load_path(source), counting, progress=False)
    counting.texts = 0
    faq(source, ("a", "Refunds take ten days."), ("b", "We ship daily."))
    stats = KnowledgeIndex.open(tmp_path / "index").ingest(load_path(source), counting, progress=False)
    assert (stats.added, stats.updated, stats.unchanged, stats.removed) == (0, 1, 1, 1)
    assert counting.texts == 3  # only entry a
    index = KnowledgeIndex.open(tmp_path / "index")
    assert index.version == 2 and set(index.docs) == {"a", "b"}
    assert index.docs["a"].chunks[0].text == "Refunds take ten days."
    assert index.faiss_index.ntotal == len(index.vector_chunks) == 6
    files = sorted(p.name for p in (tmp_path / "index").iterdir())
    assert "chunks-2.jsonl" in files and "chunks-1.jsonl" in files  # the previous version stays for readers


def test_other_sources_stay_when_one_is_reingested(tmp_path: Path, counting: CountingEmbedder) -> None:
    first = faq(tmp_path / "one.jsonl", ("a", "Refunds take five days."))
    second = faq(tmp_path / "two.jsonl", ("b", "We ship daily."))
    index = KnowledgeIndex.open(tmp_path / "index")
    index.ingest(load_path(first) + load_path(second), counting, progress=False)
    faq(second, ("c", "Open 9 to 5."))
    stats = KnowledgeIndex.open(tmp_path / "index").ingest(load_path(second), counting, progress=False)
    assert (stats.added, stats.removed, stats.unchanged) == (1, 1, 0)
    assert set(KnowledgeIndex.open(tmp_path / "index").docs) == {"a", "c"}


def test_a_file_removed_from_a_folder_disappears(tmp_path: Path, counting: CountingEmbedder) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "one.md").write_text("# One\n\nFirst article.\n")
    (folder / "two.md").write_text("# Two\n\nSecond article.\n")
    index = KnowledgeIndex.open(tmp_path / "index")
    index.ingest(load_path(folder), counting, progress=False, roots=[folder])
    (folder / "two.md").unlink()
    stats = KnowledgeIndex.open(tmp_path / "index").ingest(load_path(folder), counting, progress=False,
                                                           roots=[folder])
    assert (stats.removed, stats.unchanged) == (1, 1)
    assert set(KnowledgeIndex.open(tmp_path / "index").docs) == {"one"}


def test_duplicate_ids_across_sources_are_refused(tmp_path: Path, counting: CountingEmbedder) -> None:
    first = faq(tmp_path / "one.jsonl", ("a", "x"))
    second = faq(tmp_path / "two.jsonl", ("a", "y"))
    with pytest.raises(InputError, match="duplicate id 'a'"):
        KnowledgeIndex.open(tmp_path / "index").ingest(load_path(first) + load_path(second), counting,
                                                       progress=False)


def test_corrupt_manifest_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(InputError, match="corrupt manifest"):
        KnowledgeIndex.open(tmp_path)


def test_large_indexes_switch_to_hnsw(tmp_path: Path, counting: CountingEmbedder,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import knowledge.index

    monkeypatch.setattr(knowledge.index, "HNSW_MIN_VECTORS", 4)
    source = faq(tmp_path / "faq.jsonl", ("a", "Refunds take five days."), ("b", "We ship daily."))
    KnowledgeIndex.open(tmp_path / "index").ingest(load_path(source), counting, progress=False)
    index = KnowledgeIndex.open(tmp_path / "index")
    assert index.manifest["index"] == "hnsw" and index.faiss_index.hnsw.efSearch == 256
    _, found = index.faiss_index.search(index.vectors[:1], 3)
    assert found[0][0] == 0
