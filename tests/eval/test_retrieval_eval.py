"""`baton eval retrieval` on the sample knowledge base: metrics.json, predictions, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.cli import main
from eval.retrieval import Outcome, Query, auroc, metrics

ROOT = Path(__file__).resolve().parents[2]
KB = ROOT / "samples" / "kb" / "faq.jsonl"


def test_metrics_by_hand() -> None:
    outcomes = [Outcome(Query("1", "a", "x"), ["x", "y"], 0.9),
                Outcome(Query("2", "b", "y"), ["x", "y"], 0.8),
                Outcome(Query("3", "c", "z"), ["x", "y"], 0.3),
                Outcome(Query("4", "d", None), ["x"], 0.5)]
    result = metrics(outcomes)
    assert result["n"] == 3 and result["recall_at_1"] == pytest.approx(1 / 3)
    assert result["recall_at_3"] == pytest.approx(2 / 3) and result["mrr"] == pytest.approx((1 + 0.5) / 3)
    assert result["auroc_answerable"] == pytest.approx(2 / 3)
    assert auroc([0.1, 0.1], [True, False]) == 0.5


def test_eval_retrieval_writes_metrics_and_predictions(tmp_path: Path) -> None:
    rows = [json.loads(line) for line in (ROOT / "samples" / "retrieval_demo.jsonl").read_text().splitlines()]
    faq_ids = {json.loads(line)["id"] for line in KB.read_text().splitlines() if line.strip()}
    queries = tmp_path / "queries.jsonl"
    kept = [row for row in rows if row["kb_id"] in faq_ids or row["kb_id"] is None]
    queries.write_text("".join(json.dumps(row) + "\n" for row in kept))
    out = tmp_path / "out"
    assert main(["eval", "retrieval", str(queries), "--kb", str(KB), "--out", str(out)]) == 0
    result = json.loads((out / "metrics.json").read_text())
    assert {"n", "recall_at_1", "recall_at_3", "recall_at_5", "mrr", "auroc_answerable"} <= set(result)
    assert isinstance(result["n"], int) and result["n"] > 20
    assert result["recall_at_1"] >= 0.8 and result["auroc_answerable"] >= 0.8
    assert 0 <= result["recall_at_1"] <= result["recall_at_3"] <= result["recall_at_5"] <= 1
    predictions = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert len(predictions) == len(queries.read_text().splitlines())
    assert {"id", "kb_id", "predicted", "rank", "confidence"} <= set(predictions[0])
    assert (out / "index" / "manifest.json").exists()


@pytest.mark.parametrize(("line", "field"), [
    ('{"id": "q1", "kb_id": null}', "text"),
    ('{"id": "q1", "text": "hi"}', "kb_id"),
    ('{"id": "q1", "text": "hi", "kb_id": "no-such-entry"}', "kb_id"),
    ('{"text": "hi", "kb_id": null}', "id"),
    ('{"id": "q1", "text": "hi", "kb_id": null', None),
])
def test_unusable_queries_exit_2_naming_line_and_field(tmp_path: Path, line: str, field: str | None,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    queries = tmp_path / "queries.jsonl"
    queries.write_text('{"id": "q0", "text": "where is my parcel", "kb_id": null}\n' + line + "\n")
    assert main(["eval", "retrieval", str(queries), "--kb", str(KB), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"{queries}:2" in err and (field is None or f"(field '{field}')" in err)
    assert not (tmp_path / "out" / "metrics.json").exists()
