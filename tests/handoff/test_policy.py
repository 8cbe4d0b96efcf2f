"""The policy: thresholds from configuration, offer before escalating once, reasons in order."""

from __future__ import annotations

from handoff import HandoffConfig
from handoff.policy import decide
from handoff.signals import SignalResult


def signals(explicit=0.0, frustration=0.0, low=0.0, rule=0.0) -> list[SignalResult]:
    return [
        SignalResult("explicit_request", explicit, ["e"]),
        SignalResult("rule", rule, []),
        SignalResult("frustration", frustration, ["f"]),
        SignalResult("low_confidence", low, ["l"]),
    ]


def test_nothing_reaches_a_threshold():
    decision = decide(signals(0.1, 0.1, 0.1), HandoffConfig())
    assert decision.action == "continue" and decision.reasons == []
    assert decision.scores["frustration"] == 0.1


def test_offer_once_then_a_second_request_escalates():
    config = HandoffConfig()
    level = config.explicit_request.offer_at + 0.01
    assert decide(signals(explicit=level), config).action == "offer"
    again = decide(signals(explicit=level), config, offered=True)
    assert again.action == "escalate"
    assert "already offered" in again.explanation


def test_no_second_offer_for_other_signals():
    config = HandoffConfig()
    level = config.frustration.offer_at + 0.01
    assert decide(signals(frustration=level), config).action == "offer"
    assert decide(signals(frustration=level), config, offered=True).action == "continue"
    high = decide(signals(frustration=config.frustration.escalate_at), config, offered=True)
    assert high.action == "escalate"


def test_reasons_ordered_by_margin_over_threshold():
    config = HandoffConfig()
    decision = decide(signals(explicit=0.99, frustration=config.frustration.escalate_at, low=0.6), config)
    assert decision.action == "escalate"
    assert decision.reasons[:2] == ["explicit_request", "frustration"]
    assert decision.reasons[-1] == "low_confidence"  # offer level only
    assert decision.explanation.startswith("hand over to a person: explicit request")


def test_thresholds_come_from_configuration():
    config = HandoffConfig()
    config.low_confidence.escalate_at = 0.5
    assert decide(signals(low=0.55), config).action == "escalate"
    config.low_confidence.escalate_at = 0.9
    config.low_confidence.offer_at = 0.8
    assert decide(signals(low=0.55), config).action == "continue"


def test_vip_escalates_at_the_offer_threshold():
    config = HandoffConfig()
    level = config.frustration.offer_at + 0.01
    assert decide(signals(frustration=level), config, vip=True).action == "escalate"
