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


def test_a_follow_up_is_answered_with_the_question_it_follows_where_that_is_surer(detector):
    """As the bot does (knowledge.read_in_context): only a question that leans on the one before is
    read with it, and only a surer reading replaces its own answer."""
    asked = []

    def answerer(questions):
        asked.extend(questions)
        sure = {"do you ship to canada? and how long?": 0.9, "and how long?": 0.2}
        return [Turn("bot", f"answer to {q}", sure.get(q, 0.8 if "canada" in q else 0.1), {"hits": []})
                for q in questions]

    talk = conversation("follow", [("user", "do you ship to canada?"), ("bot", "Yes."),
                                   ("user", "and how long?"), ("bot", "5 days."),
                                   ("user", "what is the meaning of life?")])
    replay = Replay([talk], detector, answerer, progress=False)
    assert "do you ship to canada? and how long?" in asked
    assert not any("meaning of life" in q and "canada" in q for q in asked)  # it stands on its own
    bots = [t for t in replay.transcript(0, 2, offered=False).turns if t.role == "bot"]
    assert [t.confidence for t in bots] == [0.8, 0.9, 0.1]
    assert replay.answer("and how long?").confidence == 0.2  # read alone, as the baseline reads it
