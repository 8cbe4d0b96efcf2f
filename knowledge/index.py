"""The knowledge index on disk: chunks, their vectors and a FAISS index in one folder.

``manifest.json`` names the model, the dimension, each document's content hash and the data
files of the current version. Data files carry the version in their name and the manifest is
replaced last (atomically), so a worker reloading mid-ingest sees the old version or the new one,
never a mix. Re-ingesting reuses the vectors of unchanged documents (nothing is embedded for
them), re-embeds changed ones and drops documents that vanished from a re-ingested source.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
from tqdm import tqdm

from knowledge import classifier, scope
from knowledge.chunking import chunk_document, split_sentences
from knowledge.documents import Chunk, Document
from knowledge.errors import InputError
from knowledge.text import normalize

FORMAT = 1
# What is embedded per chunk; bump when views() changes so old indexes are re-embedded.
RECIPE = 1
# Exact search up to this many vectors; HNSW beyond (see docs/knowledge.md for the measurement).
HNSW_MIN_VECTORS = 20_000
HNSW_NEIGHBOURS = 32
OPENING_CHARS = 200


@dataclass
class IngestStats:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    chunks: int = 0
    embedded: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        return (f"added {self.added}, updated {self.updated}, unchanged {self.unchanged}, "
                f"removed {self.removed} documents; {self.chunks} chunks, {self.embedded} vectors "
                f"embedded in {self.seconds:.1f} s")


@dataclass
class _DocEntry:
    hash: str
    source: str
    title: str
    chunks: list[Chunk]
    vectors: np.ndarray  # (n, dim)
    owners: list[int]  # per vector: position of its chunk within ``chunks``


def views(chunk: Chunk, faq: bool) -> list[str]:
    """The texts embedded for one chunk, each its own vector pointing back to the chunk.

    A FAQ entry gets its title, every example question and the opening of its answer, so a
    visitor's question meets the closest phrasing rather than an average of all of them. An
    article chunk gets one vector of its title, heading path and text.
    """
    if faq:
        texts = [chunk.title, *chunk.examples, _opening(chunk.text)]
    else:
        context = " / ".join(dict.fromkeys(part for part in (chunk.title, *chunk.heading_path) if part))
        texts = [f"{context}: {chunk.text}" if context else chunk.text]
    cleaned = list(dict.fromkeys(text for text in (normalize(text) for text in texts) if text))
    return cleaned or [chunk.title or chunk.text]  # a chunk that is only ids or links still gets a vector


def _opening(text: str) -> str:
    opening = ""
    for sentence in split_sentences(text):
        if opening and len(opening) + len(sentence) > OPENING_CHARS:
            break
        opening = f"{opening} {sentence}".strip()
    return opening[: OPENING_CHARS * 2]


class KnowledgeIndex:
    """A folder holding one knowledge base; ``open`` it, ``ingest`` documents into it."""

    def __init__(self, directory: Path, manifest: dict, docs: dict[str, _DocEntry]) -> None:
        self.directory = directory
        self.manifest = manifest
        self.docs = docs
        self.chunks: list[Chunk] = [chunk for entry in docs.values() for chunk in entry.chunks]
        self.vector_chunks = _vector_owners(docs)
        self.faiss_index: faiss.Index | None = None
        self.classifier: tuple[np.ndarray, np.ndarray] | None = None
        self.scope: np.ndarray | None = None  # out-of-scope calibration (knowledge/scope.py)

    @property
    def version(self) -> int:
        return int(self.manifest.get("version", 0))

    @classmethod
    def open(cls, directory: str | Path) -> KnowledgeIndex:
        """The index in ``directory``; an empty one if the folder holds none yet."""
        directory = Path(directory)
        manifest_path = directory / "manifest.json"
        if not manifest_path.exists():
            return cls(directory, {"format": FORMAT, "version": 0, "documents": {}}, {})
        try:
            manifest = json.loads(manifest_path.read_text())
        except json.JSONDecodeError as exc:
            raise InputError(f"corrupt manifest ({exc.msg})", path=str(manifest_path)) from exc
        if manifest.get("format") != FORMAT:
            raise InputError(f"index format {manifest.get('format')} is not {FORMAT}; re-ingest into a new "
                             "folder", path=str(manifest_path), field="format")
        files = manifest["files"]
        with np.load(directory / files["vectors"]) as data:
            vectors, owners = data["vectors"], data["owners"]
            trained = (data["class_weights"], data["class_bias"]) if "class_weights" in data else None
            calibration = data.get("scope") if manifest.get("scope") == scope.VERSION else None
        chunk_rows = [json.loads(line) for line in (directory / files["chunks"]).read_text().splitlines()]
        docs: dict[str, _DocEntry] = {}
        position = 0
        for doc_id, meta in manifest["documents"].items():
            n_chunks, n_vectors = meta["chunks"], meta["vectors"]
            chunks = [Chunk.from_dict(row) for row in chunk_rows[meta["first_chunk"]:][:n_chunks]]
            doc_owners = owners[position:position + n_vectors] - meta["first_chunk"]
            docs[doc_id] = _DocEntry(meta["hash"], meta["source"], meta["title"], chunks,
                                     vectors[position:position + n_vectors], doc_owners.tolist())
            position += n_vectors
        index = cls(directory, manifest, docs)
        index.faiss_index = faiss.read_index(str(directory / files["faiss"]))
        index.classifier = trained
        index.scope = calibration
        return index

    @property
    def vectors(self) -> np.ndarray:
        """Every vector in index order (row i belongs to chunk ``vector_chunks[i]``)."""
        if not self.docs:
            return np.zeros((0, int(self.manifest.get("dim", 0))), dtype=np.float32)
        return np.concatenate([entry.vectors for entry in self.docs.values()]).astype(np.float32)

    def doc_of_chunk(self) -> np.ndarray:
        """For each chunk in ``chunks`` order, the position of its document in ``docs``."""
        return np.repeat(np.arange(len(self.docs)), [len(entry.chunks) for entry in self.docs.values()])

    def ingest(self, documents: list[Document], embedder, progress: bool = True,
               roots: list[str | Path] | None = None) -> IngestStats:
        """Bring the index up to date with ``documents`` and write a new version.

        Documents previously loaded from one of ``roots`` (files, or folders and everything
        under them; by default the sources of ``documents``) that are not in ``documents`` any
        more are removed. Documents from other sources stay as they are.
        """
        started = time.perf_counter()
        stats = IngestStats()
        same_model = self.manifest.get("model") == embedder.name and self.manifest.get("recipe") == RECIPE
        old = self.docs if same_model else {}
        root_paths = [Path(root).resolve() for root in (roots or {doc.source for doc in documents})]
        incoming: dict[str, Document | None] = {}
        for doc in documents:
            if doc.id in incoming:
                raise InputError(f"duplicate id {doc.id!r} (also in {incoming[doc.id].source})",
                                 path=doc.source, field="id")
            incoming[doc.id] = doc
        docs: dict[str, _DocEntry] = {}
        for doc_id, entry in self.docs.items():
            if doc_id not in incoming and not _under(entry.source, root_paths):
                if same_model:
                    docs[doc_id] = entry
                else:
                    incoming[doc_id] = None  # kept, but must be re-embedded: handled below
        stats.removed = sum(1 for doc_id, entry in self.docs.items()
                            if doc_id not in incoming and doc_id not in docs)
        pending: list[tuple[str, Document, list[Chunk], list[str], list[int]]] = []
        moved = False  # an unchanged document now loaded from another file: only the manifest changes
        for doc_id, doc in incoming.items():
            if doc is None:
                raise InputError(f"index was built with {self.manifest.get('model')!r}; re-ingest every "
                                 f"source with {embedder.name!r} (document {doc_id!r} is not in this run)",
                                 path=str(self.directory), field="model")
            digest = doc.content_hash()
            previous = old.get(doc_id)
            if previous is not None and previous.hash == digest:
                moved = moved or previous.source != doc.source
                previous.source = doc.source
                docs[doc_id] = previous
                stats.unchanged += 1
                continue
            if doc_id in self.docs:
                stats.updated += 1
            else:
                stats.added += 1
            chunks = chunk_document(doc)
            texts: list[str] = []
            owners: list[int] = []
            for position, chunk in enumerate(chunks):
                chunk_views = views(chunk, doc.is_faq)
                texts.extend(chunk_views)
                owners.extend([position] * len(chunk_views))
            pending.append((doc_id, doc, chunks, texts, owners))
        all_texts = [text for *_, texts, _ in pending for text in texts]
        vectors = _encode(embedder, all_texts, progress)
        stats.embedded = len(all_texts)
        offset = 0
        for doc_id, doc, chunks, texts, owners in pending:
            docs[doc_id] = _DocEntry(doc.content_hash(), doc.source, doc.title, chunks,
                                     vectors[offset:offset + len(texts)], owners)
            offset += len(texts)
        stale = self.manifest.get("scope") != scope.VERSION  # calibrated by an older recipe, or never
        if stats.added or stats.updated or stats.removed or moved or not self.version or stale:
            self._write(docs, embedder)
        stats.chunks = len(self.chunks)
        stats.seconds = time.perf_counter() - started
        return stats

    def _write(self, docs: dict[str, _DocEntry], embedder) -> None:
        """Write a new version next to the current one, then switch the manifest to it."""
        self.directory.mkdir(parents=True, exist_ok=True)
        version = self.version + 1
        files = {"vectors": f"vectors-{version}.npz", "chunks": f"chunks-{version}.jsonl",
                 "faiss": f"index-{version}.faiss"}
        self.docs = docs
        self.chunks = [chunk for entry in docs.values() for chunk in entry.chunks]
        self.vector_chunks = _vector_owners(docs)
        dim = int(embedder.dim)
        self.manifest["dim"] = dim
        vectors = self.vectors
        self.faiss_index = build_faiss(vectors)
        arrays = {"vectors": vectors, "owners": self.vector_chunks}
        self.classifier = self._train_classifier(vectors)
        if self.classifier is not None:
            arrays["class_weights"], arrays["class_bias"] = self.classifier
        self.scope = self._fit_scope(vectors)
        if self.scope is not None:
            arrays["scope"] = self.scope
        np.savez(self.directory / files["vectors"], **arrays)
        with open(self.directory / files["chunks"], "w") as out:
            out.writelines(json.dumps(chunk.to_dict()) + "\n" for chunk in self.chunks)
        faiss.write_index(self.faiss_index, str(self.directory / files["faiss"]))
        documents: dict[str, dict] = {}
        first_chunk = 0
        for doc_id, entry in docs.items():
            documents[doc_id] = {"hash": entry.hash, "source": entry.source, "title": entry.title,
                                 "first_chunk": first_chunk, "chunks": len(entry.chunks),
                                 "vectors": len(entry.owners)}
            first_chunk += len(entry.chunks)
        previous_files = self.manifest.get("files", {})
        self.manifest = {"format": FORMAT, "version": version, "model": embedder.name, "dim": dim,
                         "backend": getattr(embedder, "backend", None), "recipe": RECIPE,
                         "scope": scope.VERSION,
                         "index": "hnsw" if len(vectors) >= HNSW_MIN_VECTORS else "flat",
                         "n_documents": len(docs), "n_chunks": len(self.chunks), "n_vectors": len(vectors),
                         "updated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                         "files": files, "documents": documents}
        tmp = self.directory / "manifest.json.tmp"
        tmp.write_text(json.dumps(self.manifest, indent=1))
        os.replace(tmp, self.directory / "manifest.json")
        _remove_stale(self.directory, keep={*files.values(), *previous_files.values()})


    def _fit_scope(self, vectors: np.ndarray) -> np.ndarray | None:
        """The knowledge base's own out-of-scope calibration, where entries have example questions."""
        if not any(chunk.examples for chunk in self.chunks):
            return None
        return scope.fit(vectors, self.doc_of_chunk()[self.vector_chunks])

    def _train_classifier(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """Train the entry classifier when there are example questions to learn from."""
        has_examples = any(chunk.examples for chunk in self.chunks)
        if not has_examples or not 2 <= len(self.docs) <= classifier.MAX_CLASSES:
            return None
        labels = self.doc_of_chunk()[self.vector_chunks]
        return classifier.train(vectors, labels, len(self.docs))


def build_faiss(vectors: np.ndarray) -> faiss.Index:
    """Exact inner product while small; HNSW (inner product) from ``HNSW_MIN_VECTORS`` on."""
    dim = vectors.shape[1]
    if len(vectors) >= HNSW_MIN_VECTORS:
        index = faiss.IndexHNSWFlat(dim, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 256
    else:
        index = faiss.IndexFlatIP(dim)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def _encode(embedder, texts: list[str], progress: bool, batch_size: int = 64) -> np.ndarray:
    """Embed in batches under one progress bar (the model's own bar knows nothing of the total)."""
    if not texts:
        return np.zeros((0, int(embedder.dim)), dtype=np.float32)
    # Sorting by length keeps padding, hence wasted work, low within a batch.
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.empty((len(texts), int(embedder.dim)), dtype=np.float32)
    with tqdm(total=len(texts), desc="embedding", unit="text", disable=not progress, leave=False) as bar:
        for start in range(0, len(texts), batch_size):
            batch = order[start:start + batch_size]
            out[batch] = embedder.encode([texts[i] for i in batch], batch_size=batch_size)
            bar.update(len(batch))
    return out


def _vector_owners(docs: dict[str, _DocEntry]) -> np.ndarray:
    """For each vector in index order, the position of its chunk in the flat chunk list."""
    owners: list[int] = []
    first = 0
    for entry in docs.values():
        owners.extend(first + owner for owner in entry.owners)
        first += len(entry.chunks)
    return np.array(owners, dtype=np.int64)


def _under(source: str, roots: list[Path]) -> bool:
    path = Path(source).resolve()
    return any(path == root or root in path.parents for root in roots)


def _remove_stale(directory: Path, keep: set[str]) -> None:
    for path in directory.iterdir():
        if path.name.split("-")[0] in ("vectors", "chunks", "index") and path.name not in keep:
            path.unlink(missing_ok=True)
