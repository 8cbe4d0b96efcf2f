"""Evaluate a prepared replay: metrics.json, predictions.jsonl and report.html in one folder.

Shared by `baton eval handoff` and `baton eval cross` (each bot's folder), so both write the same files.
"""

from __future__ import annotations

import json
import time
from pathlib import Path


def evaluate(replay, out: Path, started: float, *, data: str, kb: str | None) -> dict:
    """Run a prepared replay and write ``out``/metrics.json, predictions.jsonl and report.html."""
    from eval.metrics import metrics, outcomes
    from eval.report import write_report

    results = replay.run()
    result = metrics(outcomes(results))
    result["seconds"] = round(time.perf_counter() - started, 2)
    result["data"], result["kb"] = str(data), kb
    (out / "metrics.json").write_text(json.dumps(result, indent=2) + "\n")
    with open(out / "predictions.jsonl", "w") as handle_out:
        handle_out.writelines(json.dumps(prediction(r)) + "\n" for r in results)
    write_report(out / "report.html", results, result, replay)
    return result


def prediction(result) -> dict:
    """One predictions.jsonl line: the contract's fields, then the gold label and the evidence."""
    escalated = result.escalated
    shown = escalated or (result.decisions[-1] if result.decisions else None)
    conversation = result.conversation
    return {
        "id": conversation.id,
        "escalate": escalated is not None,
        "reasons": escalated.reasons if escalated else [],
        "turn": result.turn,
        "scores": shown.scores if shown else {},
        "peak_scores": result.peak_scores(),
        "explanation": shown.explanation if shown else "",
        "evidence": shown.evidence if shown else {},
        "actions": [d.action for d in result.decisions],
        "gold": {
            "escalate": conversation.escalate,
            "reason": conversation.reason,
            "escalate_turn": conversation.escalate_turn,
            "label_strength": conversation.label_strength,
            "source": conversation.source,
        },
    }
