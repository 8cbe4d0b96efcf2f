"""Low answer confidence, streaks of weak answers, thanks that need no answer, and configured rules."""

from __future__ import annotations

from handoff import ContactInfo, HandoffConfig, Transcript, Turn
from handoff.signals import low_confidence, rules


def test_no_answer_confidence_says_nothing(detector):
    signal = next(
        s
        for s in detector.signals_for(Transcript([Turn("user", "what is the meaning of life")]))
        if s.name == "low_confidence"
    )
    assert signal.score == 0.0 and signal.evidence == []


def test_a_very_weak_answer_escalates(detector):
    transcript = Transcript(
        [Turn("user", "can you book me a table at a sushi place"), Turn("bot", "...", 0.03)]
    )
    decision = detector.decide(transcript)
    assert decision.action == "escalate"
    assert decision.reasons == ["low_confidence"]


def test_a_confident_answer_continues(detector):
    transcript = Transcript([Turn("user", "how do i get a refund"), Turn("bot", "Refunds go back ...", 0.97)])
    assert detector.decide(transcript).action == "continue"


def test_weak_answers_in_a_row_escalate_where_one_only_offers(detector):
    one = Transcript([Turn("user", "do you rent bikes"), Turn("bot", "Our shop ...", 0.3)])
    assert detector.decide(one).action == "offer"
    two = Transcript(
        [
            Turn("user", "do you rent bikes"),
            Turn("bot", "Our shop ...", 0.3),
            Turn("user", "I mean bicycles for a day"),
            Turn("bot", "Our shop ...", 0.28),
        ]
    )
    decision = detector.decide(two)
    assert decision.action == "escalate"
    assert any("weak answers in a row" in line for line in decision.signals[-1].evidence)


def test_thanks_with_a_weak_answer_does_not_escalate(detector):
    transcript = Transcript([Turn("user", "ok thanks!"), Turn("bot", "...", 0.05)])
    result = low_confidence(transcript, detector._message("ok thanks!"), detector.config)
    assert result.score < 0.5


def test_topic_rule_escalates_and_vip_lowers_thresholds(detector):
    config = HandoffConfig.load()
    config.rules.topics = ["legal"]
    transcript = Transcript([Turn("user", "hello")], contact=ContactInfo(topics=["Legal"]))
    assert rules(transcript, config).score == 1.0
    vip = Transcript(
        [Turn("user", "do you rent bikes"), Turn("bot", "Our shop ...", 0.4)], contact=ContactInfo(vip=True)
    )
    assert detector.decide(vip).action == "escalate"


def test_strong_answers_in_a_row_are_not_called_a_weak_streak(detector):
    transcript = Transcript([Turn("user", "do you ship to canada"), Turn("bot", "Yes, in 5 to 9 days.", 0.83),
                             Turn("user", "what about australia"), Turn("bot", "7 to 14 days.", 0.86)])
    signal = next(s for s in detector.signals_for(transcript) if s.name == "low_confidence")
    assert signal.evidence == ["answer confidence 0.86"]  # was "2 weak answers in a row (0.83, 0.86)"
