"""Retrieval: dense and lexical search fused per document, with a calibrated confidence.

Each document is scored by its best chunk. A chunk's dense score blends its single best vector
(the closest phrasing of a FAQ entry) with the centroid of all its vectors (what the phrasings
share); BM25 adds exact wording; where the index trained an entry classifier, its probability
re-ranks near neighbours. The confidence is built only from evidence that means the same on any
knowledge base of this model: the raw cosine of the best vector, the lexical overlap, the margin
over the next document. Whether both retrievers agree on the top document is reported beside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from knowledge import classifier, scope
from knowledge.documents import Chunk, is_faq_source
from knowledge.index import KnowledgeIndex
from knowledge.lexical import BM25
from knowledge.spelling import Speller
from knowledge.text import normalize

DENSE_WEIGHT = 0.7
LEXICAL_WEIGHT = 0.3
CLASSIFIER_WEIGHT = 0.3
CANDIDATES = 64
# Confidence: a logistic model of "the top document answers the question" in evidence that means
# the same on any knowledge base of this model, fitted once (docs/knowledge.md) and rounded.
CONFIDENCE_WEIGHTS = {"best": 7.0, "lexical": 4.0, "margin": 6.0}
CONFIDENCE_INTERCEPT = -4.9
MARGIN_CAP = 0.1
# A question against a passage scores lower than against another question of the same meaning.
PASSAGE_OFFSET = 0.1
# Weight, in log-odds, of the knowledge base's own out-of-scope calibration (knowledge/scope.py)
# beside the global confidence, where the index has one (chosen on bitext and held-out bots,
# docs/handoff.md).
SCOPE_WEIGHT = 0.7


@dataclass
class Hit:
    chunk: Chunk
    score: float
    dense: float
    lexical: float
    rank: int


@dataclass
class Retrieval:
    query: str
    hits: list[Hit] = field(default_factory=list)
    confidence: float = 0.0
    agreement: bool = False  # dense and lexical retrieval ranked the same document first
    similarity: float = 0.0  # raw cosine of the closest vector in the whole index (any document)
    in_scope: float | None = None  # the knowledge base's own calibration, where it has one


class KnowledgeBase:
    """The searchable form of an index folder; cheap to query, ``reload()`` after an ingest."""

    def __init__(self, index_dir: str | Path, embedder) -> None:
        self.index_dir = Path(index_dir)
        self.embedder = embedder
        self._load(KnowledgeIndex.open(self.index_dir))

    def _load(self, index: KnowledgeIndex) -> None:
        self.index = index
        self.chunks = index.chunks
        self.vectors = index.vectors
        owners = index.vector_chunks
        self._starts = np.searchsorted(owners, np.arange(len(self.chunks) + 1)) if len(owners) else \
            np.zeros(len(self.chunks) + 1, dtype=np.int64)
        self._doc_of_chunk = index.doc_of_chunk()
        centroids = np.zeros((len(self.chunks), self.vectors.shape[1]), dtype=np.float32)
        for position in range(len(self.chunks)):
            mean = self.vectors[self._starts[position]:self._starts[position + 1]].mean(axis=0)
            centroids[position] = mean / max(float(np.linalg.norm(mean)), 1e-9)
        self._centroids = centroids
        self._passage = np.repeat([not is_faq_source(entry.source) for entry in index.docs.values()],
                                  [len(entry.chunks) for entry in index.docs.values()]).astype(bool)
        self._lexical = BM25([_lexical_text(chunk) for chunk in self.chunks])
        self._speller = Speller(_speller_texts(self.chunks), _encoder_words(self.embedder))
        self._vector_docs = self._doc_of_chunk[index.vector_chunks]
        # Only a calibrated index reads the entry centroids (knowledge/scope.py).
        self._entry_centroids = None
        if index.scope is not None:
            centroids = scope.centroids(self.vectors, self._vector_docs, len(index.docs))
            self._entry_centroids = centroids.astype(np.float32)

    @property
    def version(self) -> int:
        return self.index.version

    def reload(self) -> bool:
        """Load the index again if ``baton ingest`` wrote a newer version; True if it did."""
        manifest = self.index_dir / "manifest.json"
        if not manifest.exists():
            return False
        fresh = KnowledgeIndex.open(self.index_dir)
        if fresh.version == self.version:
            return False
        self._load(fresh)
        return True

    def retrieve(self, query: str, k: int = 5) -> Retrieval:
        return self.retrieve_many([query], k)[0]

    def retrieve_many(self, queries: list[str], k: int = 5) -> list[Retrieval]:
        """One batched embedding and one FAISS search for all ``queries``."""
        if not queries:
            return []
        if not self.chunks:
            return [Retrieval(query=query) for query in queries]
        # What is searched: the question without ids and links, its typos corrected toward the
        # knowledge base's words (knowledge/spelling.py); ``Retrieval.query`` stays as typed.
        cleaned = [self._speller(normalize(query) or query) for query in queries]
        query_vectors = self.embedder.encode(cleaned)
        n_search = min(len(self.vectors), CANDIDATES)
        closest, neighbours = self.index.faiss_index.search(query_vectors, n_search)
        probabilities = (classifier.probabilities(query_vectors, *self.index.classifier)
                         if self.index.classifier is not None else None)
        retrievals = [self._rank(query, text, vector, row,
                                 None if probabilities is None else probabilities[i], k)
                      for i, (query, text, vector, row) in enumerate(zip(queries, cleaned, query_vectors,
                                                                         neighbours, strict=True))]
        self._calibrate(retrievals, query_vectors, closest, neighbours)
        return retrievals

    def _calibrate(self, retrievals: list[Retrieval], query_vectors: np.ndarray, closest: np.ndarray,
                   neighbours: np.ndarray) -> None:
        """The closest cosine of each query and, on a calibrated index, its in-scope probability
        blended into the confidence."""
        to_centroids = query_vectors @ self._entry_centroids.T if self._entry_centroids is not None else None
        for position, (retrieval, scores, row) in enumerate(zip(retrievals, closest, neighbours,
                                                                strict=True)):
            found = row >= 0
            retrieval.similarity = float(scores[0]) if found.any() else 0.0
            if to_centroids is None or not found.any() or not retrieval.hits:
                continue
            evidence = scope.features(scores[found].astype(np.float64), self._vector_docs[row[found]],
                                      to_centroids[position].astype(np.float64))
            retrieval.in_scope = scope.probability(evidence, self.index.scope)
            retrieval.confidence = blend(retrieval.confidence, retrieval.in_scope)

    def _rank(self, query: str, text: str, vector: np.ndarray, neighbours: np.ndarray,
              probabilities: np.ndarray | None, k: int) -> Retrieval:
        lexical_all = self._lexical.scores(text)
        dense_candidates = self.index.vector_chunks[neighbours[neighbours >= 0]]
        if len(lexical_all) > CANDIDATES:
            lexical_candidates = np.argpartition(-lexical_all, CANDIDATES)[:CANDIDATES]
        else:
            lexical_candidates = np.arange(len(lexical_all))
        lexical_candidates = lexical_candidates[lexical_all[lexical_candidates] > 0]
        candidates = np.unique(np.concatenate([dense_candidates, lexical_candidates]))
        # Every vector of every candidate chunk in one product, then the best per chunk.
        starts, ends = self._starts[candidates], self._starts[candidates + 1]
        rows = np.concatenate([np.arange(a, b) for a, b in zip(starts, ends, strict=True)])
        offsets = np.concatenate([[0], np.cumsum(ends - starts)[:-1]])
        best = np.maximum.reduceat(self.vectors[rows] @ vector, offsets)
        centroid = self._centroids[candidates] @ vector
        dense = 0.5 * best + 0.5 * centroid
        lexical = lexical_all[candidates]
        docs = self._doc_of_chunk[candidates]
        evidence = DENSE_WEIGHT * dense + LEXICAL_WEIGHT * lexical
        score = evidence + CLASSIFIER_WEIGHT * probabilities[docs] if probabilities is not None else evidence
        by_doc: dict[int, int] = {}
        for i in np.argsort(-score):
            by_doc.setdefault(int(docs[i]), int(i))
        ranked = list(by_doc.values())
        hits = [Hit(chunk=self.chunks[candidates[i]], score=float(score[i]), dense=float(dense[i]),
                    lexical=float(lexical[i]), rank=rank) for rank, i in enumerate(ranked[:k])]
        if not ranked:
            return Retrieval(query=query)
        top = ranked[0]
        # The margin is measured on similarity evidence alone: the classifier is sure of some
        # entry even for questions far from all of them.
        others = evidence[docs != docs[top]]
        margin = float(evidence[top] - (others.max() if len(others) else 0.0))
        lexical_top_doc = int(docs[int(np.argmax(lexical))]) if lexical.max() > 0 else -1
        dense_top_doc = int(docs[int(np.argmax(best))])
        confidence = calibrated_confidence(
            best=float(best[top]) + (PASSAGE_OFFSET if self._passage[candidates[top]] else 0.0),
            lexical=float(lexical[top]), margin=margin)
        return Retrieval(query=query, hits=hits, confidence=confidence,
                         agreement=lexical_top_doc == dense_top_doc == int(docs[top]))


def calibrated_confidence(best: float, lexical: float, margin: float) -> float:
    """Probability-like confidence (0..1) that the top document answers the question.

    ``best`` is the cosine of the closest vector, ``lexical`` the normalised BM25 share of the
    query found in the top document, ``margin`` its lead in similarity over the next document.
    Whether the two retrievers agree on the top document added nothing beyond ``lexical`` in the
    fit (and cost separation of unanswerable questions), so it is reported, not weighed.
    """
    z = (CONFIDENCE_WEIGHTS["best"] * best + CONFIDENCE_WEIGHTS["lexical"] * lexical
         + CONFIDENCE_WEIGHTS["margin"] * min(margin, MARGIN_CAP) + CONFIDENCE_INTERCEPT)
    return 1.0 / (1.0 + math.exp(-z))


def blend(confidence: float, in_scope: float) -> float:
    """The global confidence and the knowledge base's own in-scope probability, mixed in log-odds."""
    z = (1.0 - SCOPE_WEIGHT) * _logit(confidence) + SCOPE_WEIGHT * _logit(in_scope)
    return 1.0 / (1.0 + math.exp(-z))


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1.0 - 1e-6)
    return math.log(p / (1.0 - p))


def _speller_texts(chunks: list[Chunk]) -> list[str]:
    """The knowledge base's own words, which a typo is corrected toward."""
    return [text for chunk in chunks
            for text in (chunk.title, *chunk.heading_path, *chunk.examples, chunk.text)]


def _encoder_words(embedder) -> frozenset[str]:
    """The embedder's tokenizer words; none for an embedder that cannot say."""
    words = getattr(embedder, "vocabulary", None)
    return words() if callable(words) else frozenset()


def _lexical_text(chunk: Chunk) -> str:
    return " ".join([chunk.title, *chunk.heading_path, *chunk.examples, chunk.text])
