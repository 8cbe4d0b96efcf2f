"""Retrieval on the sample knowledge base: ranking, dedupe, confidence, batching, reload."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from knowledge import KnowledgeBase, KnowledgeIndex, load_path

ROOT = Path(__file__).resolve().parents[2]


def demo_queries() -> list[dict]:
    with open(ROOT / "samples" / "retrieval_demo.jsonl") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def test_demo_questions_find_their_entry(sample_kb) -> None:
    queries = [q for q in demo_queries() if q["kb_id"]]
    results = sample_kb.retrieve_many([q["text"] for q in queries])
    pairs = list(zip(queries, results, strict=True))
    first = sum(r.hits[0].chunk.doc_id == q["kb_id"] for q, r in pairs)
    top3 = sum(q["kb_id"] in [h.chunk.doc_id for h in r.hits[:3]] for q, r in pairs)
    assert first / len(queries) >= 0.85 and top3 / len(queries) >= 0.95


def test_confidence_separates_unanswerable_questions(sample_kb) -> None:
    queries = demo_queries()
    results = sample_kb.retrieve_many([q["text"] for q in queries])
    answerable = [r.confidence for q, r in zip(queries, results, strict=True) if q["kb_id"]]
    unanswerable = [r.confidence for q, r in zip(queries, results, strict=True) if not q["kb_id"]]
    assert all(0.0 <= c <= 1.0 for c in answerable + unanswerable)
    assert sum(answerable) / len(answerable) - sum(unanswerable) / len(unanswerable) > 0.3
    pairs = [a > u for a in answerable for u in unanswerable]
    assert sum(pairs) / len(pairs) > 0.85  # AUROC


def test_hits_are_one_per_document_ranked_with_their_scores(sample_kb) -> None:
    retrieval = sample_kb.retrieve("how long does a refund take to reach my card", k=8)
    doc_ids = [hit.chunk.doc_id for hit in retrieval.hits]
    assert len(doc_ids) == len(set(doc_ids)) == 8
    assert [hit.rank for hit in retrieval.hits] == list(range(8))
    scores = [hit.score for hit in retrieval.hits]
    assert scores == sorted(scores, reverse=True)
    assert all(-1 <= hit.dense <= 1 and 0 <= hit.lexical <= 1 for hit in retrieval.hits)
    assert retrieval.hits[0].lexical > 0 and "refund" in retrieval.hits[0].chunk.doc_id


def test_batched_agrees_with_one_by_one(sample_kb) -> None:
    """int8 activations are quantised per batch, so scores move by a few hundredths, not more."""
    questions = ["can I pay with paypal", "my parcel arrived broken", "what's the weather in Oslo"]
    batched = sample_kb.retrieve_many(questions)
    for question, together in zip(questions, batched, strict=True):
        alone = sample_kb.retrieve(question)
        assert alone.hits[0].chunk.id == together.hits[0].chunk.id
        assert abs(alone.confidence - together.confidence) < 0.05
        assert abs(alone.hits[0].score - together.hits[0].score) < 0.05


def test_order_numbers_and_shouting_do_not_change_the_answer(sample_kb) -> None:
    plain = sample_kb.retrieve("how do I cancel my order")
    noisy = sample_kb.retrieve("HOW DO I CANCEL MY ORDER #LG-4418201 ??? email me at jo@example.com")
    assert plain.hits[0].chunk.doc_id == noisy.hits[0].chunk.doc_id


def test_reload_sees_a_new_version(sample_index: Path, embedder, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    shutil.copytree(sample_index, index_dir)
    knowledge_base = KnowledgeBase(index_dir, embedder)
    assert knowledge_base.reload() is False
    extra = tmp_path / "extra.jsonl"
    extra.write_text(json.dumps({"id": "pets:llama", "title": "Can I bring my llama to the shop?",
                                 "answer": "Llamas are welcome in the Stockport showroom."}) + "\n")
    KnowledgeIndex.open(index_dir).ingest(load_path(extra), embedder, progress=False)
    assert knowledge_base.reload() is True
    top = knowledge_base.retrieve("may my llama come along to the store").hits[0]
    assert top.chunk.doc_id == "pets:llama"


def test_empty_index_answers_nothing(tmp_path: Path, embedder) -> None:
    retrieval = KnowledgeBase(tmp_path / "none", embedder).retrieve("anything")
    assert (retrieval.hits, retrieval.confidence) == ([], 0.0)
