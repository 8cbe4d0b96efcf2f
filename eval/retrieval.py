"""The retrieval evaluation of EVAL_FORMAT.md: load the query set, rank, measure.

Answerable queries give recall@1/3/5 and MRR (rank of the gold entry among retrieved documents;
absent from the top ``DEPTH`` counts as never found). With unanswerable queries present,
``auroc_answerable`` is how well the answer confidence separates the two groups.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.stats import rankdata
from tqdm import tqdm

from knowledge import InputError

DEPTH = 10
BATCH = 256


@dataclass
class Query:
    id: str
    text: str
    kb_id: str | None


@dataclass
class Outcome:
    query: Query
    ranked: list[str]
    confidence: float

    @property
    def rank(self) -> int | None:
        """0-based rank of the gold entry, None if not retrieved (or unanswerable)."""
        return self.ranked.index(self.query.kb_id) if self.query.kb_id in self.ranked else None


def load_queries(path: str | Path, known_ids: set[str] | None = None) -> list[Query]:
    """Every query of a JSONL file; a bad line stops with its file, line and field."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError as exc:
        raise InputError("no such file", path=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", path=str(path)) from exc
    queries: list[Query] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON ({exc.msg})", path=str(path), line=number) from exc
        if not isinstance(row, dict):
            raise InputError("expected a JSON object", path=str(path), line=number)
        query_id = row.get("id")
        if isinstance(query_id, bool) or not isinstance(query_id, str | int) or str(query_id) == "":
            raise InputError("required: a non-empty string", path=str(path), line=number, field="id")
        text = row.get("text")
        if not isinstance(text, str) or not text.strip():
            raise InputError("required: a non-empty string", path=str(path), line=number, field="text")
        if "kb_id" not in row:
            raise InputError("required (null when unanswerable)", path=str(path), line=number, field="kb_id")
        kb_id = row["kb_id"]
        if kb_id is not None and (not isinstance(kb_id, str | int) or isinstance(kb_id, bool)):
            raise InputError("expected a string or null", path=str(path), line=number, field="kb_id")
        kb_id = None if kb_id is None else str(kb_id)
        if known_ids is not None and kb_id is not None and kb_id not in known_ids:
            raise InputError(f"no knowledge-base entry {kb_id!r}", path=str(path), line=number, field="kb_id")
        queries.append(Query(id=str(query_id), text=text, kb_id=kb_id))
    if not queries:
        raise InputError("no queries in file", path=str(path))
    return queries


def run(queries: list[Query], knowledge_base, progress: bool = True) -> list[Outcome]:
    """Retrieve for every query in batches (one embedding call per batch)."""
    outcomes: list[Outcome] = []
    with tqdm(total=len(queries), desc="retrieving", unit="query", disable=not progress) as bar:
        for start in range(0, len(queries), BATCH):
            batch = queries[start:start + BATCH]
            for query, retrieval in zip(batch, knowledge_base.retrieve_many([q.text for q in batch], k=DEPTH),
                                        strict=True):
                outcomes.append(Outcome(query, [hit.chunk.doc_id for hit in retrieval.hits],
                                        retrieval.confidence))
            bar.update(len(batch))
    return outcomes


def metrics(outcomes: list[Outcome]) -> dict:
    answerable = [o for o in outcomes if o.query.kb_id is not None]
    ranks = [o.rank for o in answerable]
    n = len(answerable)

    def recall(k: int) -> float:
        return sum(1 for r in ranks if r is not None and r < k) / n if n else 0.0

    result: dict = {"n": n, "n_unanswerable": len(outcomes) - n, "recall_at_1": recall(1),
                    "recall_at_3": recall(3), "recall_at_5": recall(5),
                    "mrr": sum(1 / (r + 1) for r in ranks if r is not None) / n if n else 0.0}
    if n and len(outcomes) > n:
        result["auroc_answerable"] = auroc([o.confidence for o in outcomes],
                                           [o.query.kb_id is not None for o in outcomes])
    return result


def auroc(scores: list[float], positive: list[bool]) -> float:
    """Area under the ROC curve (Mann-Whitney U, ties counted half)."""
    labels = np.asarray(positive, dtype=bool)
    ranks = rankdata(np.asarray(scores, dtype=np.float64))
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def prediction_rows(outcomes: list[Outcome]) -> list[dict]:
    return [{"id": o.query.id, "kb_id": o.query.kb_id, "predicted": o.ranked[:5], "rank": o.rank,
             "confidence": round(o.confidence, 6)} for o in outcomes]
