"""Knowledge benchmark: `ask` latency against the bare embed + search, ingest against the bare model.

A synthetic help centre of 10,000 chunks is built by recombining sentences of the sample
knowledge base and the Bitext answers into articles (one short section per chunk). Printed:

- `ask` (retrieve + compose through the built-in provider) p50 and p99, beside one query
  embedding plus one FAISS search measured on the same questions, interleaved, in the same run;
- ingest throughput in chunks/s beside the bare model's batch-encode throughput on the same texts;
- re-ingest of the unchanged knowledge base (must embed nothing).

Run: `make bench` or `.venv/bin/pytest -q -s tests/bench/test_knowledge_bench.py -m bench`.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
from pathlib import Path

import numpy as np
import pytest

from knowledge import KnowledgeBase, KnowledgeIndex, compose, load_path
from knowledge.chunking import chunk_document, split_sentences
from knowledge.index import views
from tests.bench.report import bench

ROOT = Path(__file__).resolve().parents[2]
CHUNKS = 10_000
SECTIONS_PER_ARTICLE = 10
QUESTIONS = 300


def sentence_pool(shared_data: Path) -> list[str]:
    texts = [doc.text for doc in load_path(ROOT / "samples" / "kb")]
    with open(shared_data / "bitext_kb.jsonl") as lines:
        texts += [json.loads(line)["answer"] for line in lines]
    sentences = {re.sub(r"\s+", " ", sentence.lstrip("#-* ")).strip()
                 for text in texts for sentence in split_sentences(text)}
    return sorted(s for s in sentences if 30 <= len(s) <= 220 and "{{" not in s)


def build_corpus(folder: Path, pool: list[str]) -> None:
    rng = random.Random(7)
    folder.mkdir(parents=True)
    for n in range(CHUNKS // SECTIONS_PER_ARTICLE):
        sections = []
        for _ in range(SECTIONS_PER_ARTICLE):
            first, second = rng.sample(pool, 2)
            heading = " ".join(first.split()[: rng.randint(3, 6)]).rstrip(".,;:")
            sections.append(f"## {heading}\n\n{first} {second}")
        title = " ".join(rng.choice(pool).split()[:5]).rstrip(".,;:")
        (folder / f"article-{n:04d}.md").write_text(f"# {title}\n\n" + "\n\n".join(sections) + "\n")


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


@pytest.mark.bench
def test_knowledge_bench(embedder, shared_data: Path, tmp_path: Path) -> None:
    pool = sentence_pool(shared_data)
    build_corpus(tmp_path / "kb", pool)
    documents = load_path(tmp_path / "kb")

    # Ingest vs the bare model on the same texts, same batch size.
    index_dir = tmp_path / "index"
    started = time.perf_counter()
    stats = KnowledgeIndex.open(index_dir).ingest(documents, embedder, progress=False)
    ingest_seconds = time.perf_counter() - started
    assert stats.chunks == CHUNKS
    sample_texts = [text for doc in documents[:150] for chunk in chunk_document(doc)
                    for text in views(chunk, False)]
    started = time.perf_counter()
    embedder.encode(sample_texts, batch_size=64)
    bare_rate = len(sample_texts) / (time.perf_counter() - started)
    ingest_rate = stats.chunks / ingest_seconds
    started = time.perf_counter()
    again = KnowledgeIndex.open(index_dir).ingest(documents, embedder, progress=False)
    reingest_seconds = time.perf_counter() - started
    assert again.embedded == 0 and again.unchanged == len(documents)

    # ask vs bare embed + search, interleaved per question.
    knowledge_base = KnowledgeBase(index_dir, embedder)
    with open(shared_data / "bitext_retrieval.jsonl") as lines:
        questions = [json.loads(line)["text"] for line in lines][:: 5197 // QUESTIONS][:QUESTIONS]
    faiss_index = knowledge_base.index.faiss_index

    async def measure() -> tuple[list[float], list[float]]:
        bare, full = [], []
        for question in questions[:10]:  # warm up both paths
            faiss_index.search(embedder.encode([question]), 5)
            await compose(question, knowledge_base.retrieve(question), [])
        for question in questions:
            started = time.perf_counter()
            faiss_index.search(embedder.encode([question]), 5)
            bare.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            await compose(question, knowledge_base.retrieve(question), [])
            full.append((time.perf_counter() - started) * 1000)
        return bare, full

    bare, full = asyncio.run(measure())
    p50_bare, p99_bare = percentile(bare, 50), percentile(bare, 99)
    p50_ask, p99_ask = percentile(full, 50), percentile(full, 99)
    print(f"\nknowledge bench: {stats.chunks} chunks in {len(documents)} articles, "
          f"backend {embedder.backend}, index {knowledge_base.index.manifest['index']}")
    print(f"  ask (retrieve + compose, built-in provider): p50 {p50_ask:.2f} ms, p99 {p99_ask:.2f} ms")
    print(f"  bare embed + FAISS search:                   p50 {p50_bare:.2f} ms, p99 {p99_bare:.2f} ms")
    print(f"  overhead at p50: {100 * (p50_ask / p50_bare - 1):.0f}% (goal < 30%)")
    print(f"  ingest: {ingest_rate:.0f} chunks/s ({ingest_seconds:.1f} s); bare model batch encode "
          f"{bare_rate:.0f} texts/s; ratio {ingest_rate / bare_rate:.2f} (goal >= 0.85)")
    print(f"  re-ingest unchanged: {reingest_seconds:.2f} s, {again.embedded} texts embedded")
    bench("ask_over_retrieve_p50", p50_ask / p50_bare, "ratio",
          f"bare embed + FAISS search p50 {p50_bare:.2f} ms, same run; goal < 1.3")
    bench("ask_p99_ms", p99_ask, "ms", f"bare embed + FAISS search p99 {p99_bare:.2f} ms")
    bench("ingest_over_batch_encode", ingest_rate / bare_rate, "ratio",
          f"bare batch encode {bare_rate:.0f} texts/s, same run; goal >= 0.85")
    bench("reingest_unchanged_seconds", reingest_seconds, "s", f"{again.embedded} texts embedded; goal 0")
