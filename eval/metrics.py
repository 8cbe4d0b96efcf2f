"""Figures of the handoff evaluation (EVAL_FORMAT.md): the confusion matrix and what follows from it,
recall per gold reason with Wilson intervals, reason accuracy, timing, and the same split by label
strength and by source."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from eval.replay import Result

SIGNAL_REASONS = ("explicit_request", "frustration", "low_confidence")


@dataclass(frozen=True)
class Outcome:
    """What the metrics need of one replayed conversation."""

    gold: bool
    predicted: bool
    reason: str
    predicted_reason: str | None
    escalate_turn: int | None
    predicted_turn: int | None
    label_strength: str
    source: str


def outcomes(results: Iterable[Result]) -> list[Outcome]:
    out = []
    for result in results:
        conversation, escalated = result.conversation, result.escalated
        out.append(
            Outcome(
                conversation.escalate,
                escalated is not None,
                conversation.reason,
                escalated.reasons[0] if escalated and escalated.reasons else None,
                conversation.escalate_turn,
                result.turn,
                conversation.label_strength,
                conversation.source,
            )
        )
    return out


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a proportion (95% by default); (0, 1) when n is 0."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _ratio(a: int, b: int) -> float:
    return a / b if b else 0.0


def summary(items: list[Outcome]) -> dict:
    """The metrics.json figures for ``items``."""
    tp = sum(o.gold and o.predicted for o in items)
    fp = sum(not o.gold and o.predicted for o in items)
    tn = sum(not o.gold and not o.predicted for o in items)
    fn = sum(o.gold and not o.predicted for o in items)
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    per_reason = {}
    for reason in SIGNAL_REASONS:
        group = [o for o in items if o.gold and o.reason == reason]
        hits = sum(o.predicted for o in group)
        low, high = wilson(hits, len(group))
        per_reason[reason] = {
            "n": len(group),
            "recall": _ratio(hits, len(group)),
            "recall_low": round(low, 4),
            "recall_high": round(high, 4),
        }
    true_positives = [o for o in items if o.gold and o.predicted]
    timing = {"early": 0, "on_time": 0, "late": 0}
    for o in true_positives:
        delta = (o.predicted_turn or 0) - (o.escalate_turn or 0)
        timing["early" if delta < 0 else "on_time" if delta == 0 else "late"] += 1
    return {
        "n": len(items),
        "precision": precision,
        "recall": recall,
        "f1": _ratio(2 * precision * recall, precision + recall),
        "accuracy": _ratio(tp + tn, len(items)),
        "false_escalation_rate": _ratio(fp, fp + tn),
        "confusion": {"tp": tp, "fp": fp, "tn": tn, "fn": fn},
        "per_reason": per_reason,
        "reason_accuracy": _ratio(
            sum(o.predicted_reason == o.reason for o in true_positives), len(true_positives)
        ),
        "timing": timing,
    }


def metrics(items: list[Outcome]) -> dict:
    """``summary`` of everything, plus the same by label strength and by source."""
    result = summary(items)
    result["by_label_strength"] = {
        strength: summary([o for o in items if o.label_strength == strength])
        for strength in sorted({o.label_strength for o in items})
    }
    result["by_source"] = {
        source: summary([o for o in items if o.source == source])
        for source in sorted({o.source for o in items})
    }
    return result


def cost(items: list[Outcome], missed: float, false: float) -> float:
    """Expected cost per conversation: a missed handoff costs ``missed``, an unneeded one ``false``."""
    fn = sum(o.gold and not o.predicted for o in items)
    fp = sum(not o.gold and o.predicted for o in items)
    return _ratio(missed * fn + false * fp, len(items))
