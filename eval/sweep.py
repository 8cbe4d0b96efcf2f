"""Threshold search: the configuration with the lowest expected cost on a labelled set, where a
missed handoff costs ``missed`` and an unneeded one ``false`` (DESIGN.md: a miss costs more).

Coordinate descent over each signal's thresholds on a grid, re-running only the decisions of a
prepared ``Replay`` (no embedding, no retrieval), for at most ``ROUNDS`` passes or until one changes
nothing.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field

from eval.metrics import cost, outcomes, summary
from eval.replay import Replay
from handoff import HandoffConfig

# The thresholds that decide escalations; offer thresholds only matter through the explicit-request
# offer (asking again after an offer escalates) and the low-confidence streak.
PARAMETERS = (
    ("explicit_request", "escalate_at"),
    ("frustration", "escalate_at"),
    ("low_confidence", "escalate_at"),
    ("explicit_request", "offer_at"),
)
GRID = tuple(round(0.2 + 0.04 * step, 2) for step in range(20))  # 0.20 .. 0.96
ROUNDS = 2


@dataclass
class SweepResult:
    config: HandoffConfig
    cost: float
    start_cost: float
    steps: list[tuple[str, float, float]] = field(default_factory=list)  # (setting, value, cost)


def set_value(config: HandoffConfig, section: str, key: str, value: float) -> HandoffConfig | None:
    """A copy of ``config`` with one threshold changed; None where offer_at would pass escalate_at."""
    candidate = copy.deepcopy(config)
    setattr(getattr(candidate, section), key, value)
    part = getattr(candidate, section)
    return candidate if part.offer_at <= part.escalate_at else None


def sweep(
    replay: Replay, config: HandoffConfig, missed: float, false: float, subset: list[int] | None = None
) -> SweepResult:
    """Search ``config``'s thresholds on the conversations at ``subset`` (all by default)."""

    def evaluate(candidate: HandoffConfig) -> float:
        results = replay.run(candidate)
        chosen = results if subset is None else [results[i] for i in subset]
        return cost(outcomes(chosen), missed, false)

    best, best_cost = config, evaluate(config)
    result = SweepResult(config, best_cost, best_cost)
    for _ in range(ROUNDS):
        improved = False
        for section, key in PARAMETERS:
            for value in GRID:
                candidate = set_value(best, section, key, value)
                if candidate is None or getattr(getattr(best, section), key) == value:
                    continue
                value_cost = evaluate(candidate)
                if value_cost < best_cost - 1e-12:
                    best, best_cost, improved = candidate, value_cost, True
                    result.steps.append((f"{section}.{key}", value, value_cost))
        if not improved:
            break
    result.config, result.cost = best, best_cost
    return result


def split(n: int, seed: int = 7) -> tuple[list[int], list[int]]:
    """Two halves of ``range(n)`` at random (seeded): tune on one, report the other."""
    order = list(range(n))
    random.Random(seed).shuffle(order)
    return sorted(order[: n // 2]), sorted(order[n // 2 :])


def held_out_summary(replay: Replay, config: HandoffConfig, indices: list[int]) -> dict:
    results = replay.run(config)
    return summary(outcomes([results[i] for i in indices]))
