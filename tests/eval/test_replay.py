"""The replay drives the real detector turn by turn, with bot turns from the file as history or
answers from a knowledge base when one is given."""

from __future__ import annotations

import pytest

from eval.conversations import Conversation
from eval.metrics import outcomes, summary
from eval.replay import Replay
from handoff import Detector, HandoffConfig, Turn


@pytest.fixture(scope="module")
def detector(embedder):
    return Detector(HandoffConfig.load(), embedder)


def conversation(id_, texts, escalate=False, reason="none", turn=None) -> Conversation:
    turns = [Turn(role, text) for role, text in texts]
    return Conversation(id_, turns, escalate, reason, turn, "gold", "test")


MULTI = conversation(
    "multi",
    [
        ("user", "where is my order"),
        ("bot", "It ships in 2 days."),
        ("user", "ok and can I change the address?"),
        ("bot", "Yes, in My orders."),
        ("user", "this is useless, let me talk to a real person"),
    ],
    True,
    "explicit_request",
    1,
)
QUIET = conversation(
    "quiet",
    [("user", "how do I reset my password"), ("bot", "Use the login page."), ("user", "thanks, that worked")],
)
HANDED = conversation("handed", [("user", "hello"), ("agent", "Hi, I'm Sam."), ("user", "get me a human")])


def test_multi_turn_replay_escalates_at_the_right_user_turn(detector):
    results = Replay([MULTI, QUIET, HANDED], detector, progress=False).run()
    multi, quiet, handed = results
    assert [d.action for d in multi.decisions] == ["continue", "continue", "escalate"]
    assert multi.turn == 2 and multi.escalated.reasons[0] == "explicit_request"
    assert not quiet.predicted and len(quiet.decisions) == 2
    assert len(handed.decisions) == 1 and not handed.predicted  # the agent turn ends the replay
    m = summary(outcomes(results))
    assert m["confusion"] == {"tp": 1, "fp": 0, "tn": 2, "fn": 0}
    assert m["timing"] == {"early": 0, "on_time": 0, "late": 1}


def test_answers_give_live_confidence(detector):
    def answerer(questions):
        return [
            Turn("bot", f"answer to {q}", 0.02 if "weather" in q else 0.95, {"hits": []}) for q in questions
        ]

    talk = conversation(
        "kb",
        [
            ("user", "how do I reset my password"),
            ("bot", "file answer"),
            ("user", "what's the weather in Lisbon tomorrow"),
        ],
        True,
        "low_confidence",
        1,
    )
    replay = Replay([talk], detector, answerer, progress=False)
    first = replay.transcript(0, 1, offered=False)
    assert [t.confidence for t in first.turns] == [None, 0.95, None, 0.02]
    assert first.turns[1].text == "file answer"  # the file's bot turn stays as history
    [result] = replay.run()
    assert result.turn == 1 and result.escalated.reasons == ["low_confidence"]


def test_run_under_another_configuration_keeps_the_detector_config(detector):
    replay = Replay([MULTI], detector, progress=False)
    strict = HandoffConfig.load()
    strict.explicit_request.escalate_at = 0.99
    strict.explicit_request.offer_at = 0.99
    [result] = replay.run(strict)
    assert result.escalated is None or result.escalated.reasons[0] != "explicit_request"
    assert detector.config.explicit_request.escalate_at != 0.99
