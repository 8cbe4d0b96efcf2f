"""The out-of-scope calibration a knowledge base learns from itself: the evidence by hand on tiny
vectors, the pseudo-labels, and on a real index what it does to answer confidence."""

from __future__ import annotations

import json

import numpy as np
import pytest

from knowledge import scope


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float64)
    return vector / np.linalg.norm(vector)


def test_features_by_hand():
    similarities = np.array([0.9, 0.8, 0.7, 0.4])
    owners = np.array([0, 0, 1, 2])
    centroids = np.array([0.85, 0.7, 0.4])
    closest, margin, knn3, top2, centroid, centroid_margin = scope.features(similarities, owners, centroids)
    assert closest == pytest.approx(0.9)
    assert margin == pytest.approx(0.9 - 0.7)  # lead over the best vector of another entry
    assert knn3 == pytest.approx((0.9 + 0.8 + 0.7) / 3)
    assert top2 == pytest.approx((0.9 + 0.8) / 2)  # the top entry's two closest phrasings
    assert centroid == pytest.approx(0.85) and centroid_margin == pytest.approx(0.15)


def test_left_out_vectors_do_not_count():
    similarities = np.array([-np.inf, 0.6, 0.5])
    owners = np.array([0, 0, 1])
    closest, margin, knn3, top2, _, _ = scope.features(similarities, owners, np.array([-np.inf, 0.5]))
    assert closest == pytest.approx(0.6) and margin == pytest.approx(0.1)
    assert knn3 == pytest.approx(0.55) and top2 == pytest.approx(0.6)


def test_pseudo_labels_hold_out_the_example_then_its_entry():
    vectors = np.stack([unit(1, 0.1, 0), unit(1, 0, 0.1), unit(0, 1, 0), unit(0.1, 1, 0), unit(0, 0, 1)])
    owners = np.array([0, 0, 1, 1, 2])
    rows, labels = scope.pseudo_labels(vectors, owners, np.array([0]))
    assert labels.tolist() == [1.0, 0.0]
    answerable, unanswerable = rows
    # held out alone, vector 0 is closest to its sibling; with its entry gone, to entry 1
    assert answerable[0] == pytest.approx(float(vectors[0] @ vectors[1]))
    assert unanswerable[0] == pytest.approx(float(vectors[0] @ vectors[3]))
    assert answerable[4] == pytest.approx(float(vectors[0] @ vectors[1]))  # its entry's centroid without it
    assert answerable[0] > unanswerable[0]


def test_too_small_a_knowledge_base_keeps_the_global_confidence():
    vectors = np.stack([unit(1, 0), unit(0.9, 0.1), unit(0, 1), unit(0.1, 0.9)])
    assert scope.fit(vectors, np.array([0, 0, 1, 1])) is None  # two entries only


ENTRIES = [
    ("refund", ["can I get my money back", "refund please", "how do refunds work", "I want a refund"]),
    ("tracking", ["where is my parcel", "track my order", "when will my package arrive", "order status"]),
    ("password", ["reset my password", "I forgot my password", "can't log in", "change my password"]),
    (
        "invoice",
        ["send me an invoice", "where can I download my invoice", "I need a receipt", "copy of bill"],
    ),
    (
        "address",
        [
            "change my delivery address",
            "update shipping address",
            "wrong address on order",
            "ship to another address",
        ],
    ),
    ("cancel", ["cancel my order", "I want to cancel", "stop my order", "how do I cancel a purchase"]),
]


@pytest.fixture(scope="module")
def shop(tmp_path_factory, embedder):
    from knowledge import KnowledgeBase, KnowledgeIndex, load_path

    root = tmp_path_factory.mktemp("scope")
    kb = root / "shop.jsonl"
    kb.write_text(
        "".join(
            json.dumps({"id": title, "title": title, "examples": examples, "answer": f"[{title}]"}) + "\n"
            for title, examples in ENTRIES
        )
    )
    index_dir = root / "index"
    KnowledgeIndex.open(index_dir).ingest(load_path(kb), embedder, progress=False, roots=[kb])
    return kb, index_dir, KnowledgeBase(index_dir, embedder)


def test_an_index_with_examples_is_calibrated_at_ingest(shop):
    _, index_dir, knowledge_base = shop
    manifest = json.loads((index_dir / "manifest.json").read_text())
    assert manifest["scope"] == scope.VERSION
    assert (
        knowledge_base.index.scope is not None and len(knowledge_base.index.scope) == len(scope.FEATURES) + 1
    )
    inside, outside = knowledge_base.retrieve_many(["i'd like my money back", "what is the capital of peru"])
    assert inside.in_scope > 0.5 > outside.in_scope
    assert inside.confidence > outside.confidence
    assert inside.similarity > outside.similarity


def test_an_index_calibrated_by_an_older_recipe_is_recalibrated_on_the_next_ingest(shop, embedder):
    from knowledge import KnowledgeIndex, load_path

    kb, index_dir, _ = shop
    manifest_path = index_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest.pop("scope")
    manifest_path.write_text(json.dumps(manifest))
    stale = KnowledgeIndex.open(index_dir)
    assert stale.scope is None  # never used with the wrong features
    stats = stale.ingest(load_path(kb), embedder, progress=False, roots=[kb])
    assert stats.unchanged == len(ENTRIES) and stats.embedded == 0  # nothing re-embedded
    fresh = KnowledgeIndex.open(index_dir)
    assert fresh.version == manifest["version"] + 1 and fresh.scope is not None
