"""The policy: signal scores become a Decision (continue, offer or escalate) with ordered reasons.

A score at its signal's ``escalate_at`` escalates; one at ``offer_at`` offers a person, once per
conversation; once an offer was made, asking about a person again (explicit request at offer level,
in words a pattern recognises: the request model alone reads topics as often as intent) escalates,
while other offer-level scores just continue (a long conversation would otherwise escalate on its
first mildly negative turn). A VIP contact escalates at the offer thresholds. Reasons are ordered by
how far each score passes its threshold, ties going to the order in ``PRIORITY``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from handoff.config import HandoffConfig
from handoff.signals import SignalResult

Action = Literal["continue", "offer", "escalate"]
PRIORITY = ("explicit_request", "rule", "frustration", "low_confidence")
RULE_THRESHOLDS = (0.5, 1.0)


@dataclass
class Decision:
    action: Action
    reasons: list[str] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    explanation: str = ""
    signals: list[SignalResult] = field(default_factory=list)


def thresholds(config: HandoffConfig, name: str) -> tuple[float, float]:
    """(offer_at, escalate_at) of one signal."""
    if name == "rule":
        return RULE_THRESHOLDS
    section = getattr(config, name)
    return section.offer_at, section.escalate_at


def decide(
    signals: list[SignalResult], config: HandoffConfig, *, offered: bool = False, vip: bool = False
) -> Decision:
    scores = {signal.name: signal.score for signal in signals}
    rule_vip = vip and config.rules.vip_escalate
    escalating, offering = [], []
    for signal in signals:
        offer_at, escalate_at = thresholds(config, signal.name)
        if rule_vip and signal.name != "rule":
            escalate_at = offer_at
        if signal.score >= escalate_at:
            escalating.append((signal.score - escalate_at, signal))
        elif signal.score >= offer_at:
            offering.append((signal.score - offer_at, signal))
    if offered:  # one offer per conversation; asking about a person again after it escalates
        escalating += [
            item for item in offering if item[1].name == "explicit_request" and not item[1].model_only
        ]
        offering = [item for item in offering if item[1].name != "explicit_request"]
    if escalating:
        action: Action = "escalate"
    elif offering and not offered:
        action = "offer"
    else:
        return Decision("continue", [], scores, "no signal reached its threshold", signals)
    ranked = _ranked(escalating) + _ranked(offering)
    reasons = [signal.name for signal in ranked]
    lead = ranked[0]
    why = "; ".join(lead.evidence[:2]) or f"score {lead.score:.2f}"
    verb = {"escalate": "hand over to a person", "offer": "offer a person"}[action]
    if offered and lead.score < thresholds(config, lead.name)[1]:
        why += " (a person was already offered)"
    return Decision(action, reasons, scores, f"{verb}: {lead.name.replace('_', ' ')}: {why}", signals)


def _ranked(items: list[tuple[float, SignalResult]]) -> list[SignalResult]:
    return [signal for _, signal in sorted(items, key=lambda item: (-item[0], PRIORITY.index(item[1].name)))]
