"""Frustration: cues, profanity, shouting, sentiment, and the visitor or the bot repeating."""

from __future__ import annotations

import pytest

from handoff import Transcript, Turn
from handoff.lexicon import canonical, frustration_cues


@pytest.mark.parametrize(
    "text",
    [
        "this is useless, you're not helping",
        "that didn't help at all!!",
        "WHY IS MY ORDER STILL NOT HERE",
        "where is my damn refund",
        "I want to file a formal complaint",
    ],
)
def test_frustrated_messages_escalate(detector, text):
    decision = detector.decide(Transcript(turns=[Turn("user", text)]))
    assert decision.action == "escalate", decision.explanation
    assert "frustration" in decision.reasons
    signal = next(s for s in decision.signals if s.name == "frustration")
    assert signal.evidence


@pytest.mark.parametrize(
    "text",
    [
        "thanks so much, great help",
        "could you please check my order status",
        "I'm sorry to bother you again, one more question",
    ],
)
def test_calm_messages_score_low(detector, text):
    decision = detector.decide(Transcript(turns=[Turn("user", text)]))
    assert decision.scores["frustration"] < 0.5
    assert decision.action == "continue"


def test_cues_are_readable():
    raw = "THIS IS A JOKE!!! fucking useless"
    cues = frustration_cues(raw, canonical(raw))
    kinds = {cue.split(":")[0] for cue in cues}
    assert {"profanity", "says", "repeated punctuation"} <= kinds


def test_placeholders_are_not_shouting():
    raw = "[NAME] and [NAME] were great in the final"
    assert not any(cue.startswith("shouting") for cue in frustration_cues(raw, canonical(raw)))


def test_a_visitor_repeating_themselves_raises_frustration(detector):
    question = "how do I change the delivery address on my order"
    once = Transcript(turns=[Turn("user", question)])
    twice = Transcript(
        turns=[
            Turn("user", question),
            Turn("bot", "Go to My orders and choose Edit.", 0.6),
            Turn("user", "how can I change the delivery address on my order"),
        ]
    )
    first = next(s for s in detector.signals_for(once) if s.name == "frustration")
    second = next(s for s in detector.signals_for(twice) if s.name == "frustration")
    assert second.score >= first.score + 0.2
    assert any("repeats an earlier message" in line for line in second.evidence)


def test_the_bot_repeating_its_answer_is_evidence(detector):
    answer = "You can reset your password from the login page."
    turns = [
        Turn("user", "I can't log in"),
        Turn("bot", answer, 0.7),
        Turn("user", "it says my link expired"),
        Turn("bot", answer, 0.7),
        Turn("user", "and now?"),
    ]
    signal = next(s for s in detector.signals_for(Transcript(turns=turns)) if s.name == "frustration")
    assert "the bot gave the same answer twice" in signal.evidence
