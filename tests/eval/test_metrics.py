"""Metric arithmetic against values worked out by hand."""

from __future__ import annotations

import pytest

from eval.metrics import Outcome, cost, summary, wilson


def outcome(gold, predicted, reason="none", predicted_reason=None, turn=None, predicted_turn=None):
    return Outcome(gold, predicted, reason, predicted_reason, turn, predicted_turn, "gold", "s")


ITEMS = [
    outcome(True, True, "explicit_request", "explicit_request", 0, 0),  # tp, on time, right reason
    outcome(True, True, "frustration", "low_confidence", 1, 2),  # tp, late, wrong reason
    outcome(True, True, "low_confidence", "low_confidence", 2, 1),  # tp, early
    outcome(True, False, "frustration"),  # fn
    outcome(False, True, predicted_reason="frustration", predicted_turn=0),  # fp
    outcome(False, False),
    outcome(False, False),
    outcome(False, False),  # tn
]


def test_summary_by_hand():
    m = summary(ITEMS)
    assert m["confusion"] == {"tp": 3, "fp": 1, "tn": 3, "fn": 1}
    assert m["precision"] == pytest.approx(0.75)
    assert m["recall"] == pytest.approx(0.75)
    assert m["f1"] == pytest.approx(0.75)
    assert m["accuracy"] == pytest.approx(6 / 8)
    assert m["false_escalation_rate"] == pytest.approx(0.25)
    assert m["reason_accuracy"] == pytest.approx(2 / 3)
    assert m["timing"] == {"early": 1, "on_time": 1, "late": 1}
    assert m["per_reason"]["frustration"]["n"] == 2
    assert m["per_reason"]["frustration"]["recall"] == pytest.approx(0.5)
    assert m["per_reason"]["explicit_request"]["recall"] == 1.0


def test_wilson_interval_known_value():
    low, high = wilson(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4)
    assert high == pytest.approx(0.9433, abs=1e-4)
    assert wilson(0, 0) == (0.0, 1.0)


def test_cost_weighs_misses():
    assert cost(ITEMS, missed=5, false=1) == pytest.approx((5 * 1 + 1 * 1) / 8)
