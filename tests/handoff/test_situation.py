"""Signals that read the situation (issue 9), on hand-written transcripts: one-word requests, polite
complaints about the service, dislikes that are not complaints, problem reports, and a visitor who
comes back after a long silence and asks again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from handoff import Transcript, Turn

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def after_greeting(text: str) -> Transcript:
    """The message as the visitor's second turn, the bot having greeted them (and answered well)."""
    return Transcript(
        turns=[
            Turn("user", "hi"),
            Turn("bot", "Hello! How can I help?", 0.9),
            Turn("user", text),
            Turn("bot", "Here is what I found.", 0.9),
        ]
    )


def frustration(decision) -> float:
    return decision.scores["frustration"]


@pytest.mark.parametrize(
    "text", ["agent", "Agent!", "human", "operator", "representative", "agnet", "supervisor"]
)
def test_one_word_requests_escalate(detector, text):
    decision = detector.decide(Transcript(turns=[Turn("user", text)]))
    assert decision.action == "escalate", decision.explanation
    assert decision.reasons[0] == "explicit_request"


@pytest.mark.parametrize(
    "text",
    [
        "I'm sorry, but this is the third time I've asked about my refund and it still hasn't arrived",
        "I'm a bit disappointed with your service, my order is two weeks late",
        "Thanks, but I'm afraid that didn't help, my account is still locked",
        "with respect, your support has been terrible this week",
        "with respect, your answer doesn't address my question",
    ],
)
def test_polite_complaints_about_the_service_escalate(detector, text):
    decision = detector.decide(after_greeting(text))
    assert decision.action == "escalate", decision.explanation
    assert decision.reasons[0] == "frustration"


def test_counting_earlier_messages_is_persisting(detector):
    """"My fourth message about the same problem" is the visitor coming back, said politely: a person
    is offered at least (escalated once it names the service, as "for the third time" is)."""
    decision = detector.decide(after_greeting("kindly note this is my fourth message about the same problem"))
    assert decision.action == "offer", decision.explanation
    assert decision.reasons == ["frustration"]
    aimed = detector.decide(after_greeting("kindly note this is my fourth message about the same order"))
    assert aimed.action == "escalate", aimed.explanation


@pytest.mark.parametrize(
    "text",
    [
        "I hate horror films",
        "I don't want the red one",
        "they're scary movies, I don't like them",
        "not a fan of musicals, to be honest",
        "I didn't really care for that one",
        "that movie was awful",
    ],
)
def test_dislikes_of_a_product_are_not_frustration(detector, text):
    decision = detector.decide(after_greeting(text))
    assert decision.action != "escalate", decision.explanation
    assert frustration(decision) < detector.config.frustration.escalate_at


@pytest.mark.parametrize(
    "feeling, complaint",
    [
        ("terrible weather today, is my parcel delayed?", "terrible delivery today, is my parcel delayed?"),
        ("awful traffic here, will my order be late?", "awful service here, will my order be late?"),
    ],
)
def test_a_feeling_about_something_else_is_not_a_complaint_where_the_service_is_named(
        detector, feeling, complaint):
    """The harsh word qualifies the weather, not the parcel the same message asks about: no handoff,
    not even an offer; the same sentence with the word on the service escalates."""
    assert detector.decide(after_greeting(feeling)).action == "continue"
    assert detector.decide(after_greeting(complaint)).action == "escalate"


def test_the_same_harsh_word_counts_when_aimed_at_the_service(detector):
    taste = frustration(detector.decide(after_greeting("that movie was awful")))
    service = frustration(detector.decide(after_greeting("your service is awful")))
    assert service >= detector.config.frustration.escalate_at > taste


def test_a_problem_report_is_not_yet_frustration_but_the_same_words_after_an_answer_are(detector):
    first = detector.decide(Transcript(turns=[Turn("user", "my card isn't working")]))
    assert first.action != "escalate", first.explanation
    later = Transcript(
        turns=[
            Turn("user", "my card isn't working"),
            Turn("bot", "Try removing and re-adding the card in the app.", 0.8),
            Turn("user", "it still doesn't work"),
            Turn("bot", "Try removing and re-adding the card in the app, then restart it.", 0.8),
        ]
    )
    decision = detector.decide(later)
    assert decision.action == "escalate", decision.explanation
    assert any(line.startswith("persisting") for line in decision.signals[2].evidence)


def repeated(pause: timedelta, second: str = "how do I reset my password please") -> Transcript:
    asked = START
    answered = asked + timedelta(seconds=4)
    again = answered + pause
    return Transcript(
        turns=[
            Turn("user", "how do I reset my password", at=asked),
            Turn("bot", "Use the 'Forgot password' link on the login page.", 0.8, at=answered),
            Turn("user", second, at=again),
            Turn("bot", "You can change it under Settings, Security.", 0.8),
        ]
    )


def test_a_pause_then_a_repeat_escalates_where_a_quick_repeat_does_not(detector):
    quick = detector.decide(repeated(timedelta(seconds=20)))
    late = detector.decide(repeated(timedelta(minutes=35)))
    assert quick.action != "escalate", quick.explanation
    assert late.action == "escalate", late.explanation
    assert frustration(late) >= frustration(quick) + 0.15
    signal = next(s for s in late.signals if s.name == "frustration")
    assert any("35 min of silence" in line for line in signal.evidence)


def test_hello_after_a_long_wait_escalates(detector):
    waited = detector.decide(repeated(timedelta(minutes=15), second="hello??"))
    assert waited.action == "escalate", waited.explanation
    assert any(
        "without a reply" in line
        for line in next(s for s in waited.signals if s.name == "frustration").evidence
    )


def test_pause_is_read_from_times_with_or_without_a_zone():
    naive = START.replace(tzinfo=None)
    transcript = Transcript(
        turns=[Turn("bot", "Hi!", at=naive), Turn("user", "hello?", at=START + timedelta(minutes=3))]
    )
    assert transcript.pause_before_last_user() == 180.0
    assert (
        Transcript(turns=[Turn("bot", "Hi!"), Turn("user", "hello?", at=START)]).pause_before_last_user()
        is None
    )


@pytest.mark.parametrize("text", ["asdkjh", "??", "...", "hi there", "lol", "hmmm"])
def test_greetings_and_keyboard_mash_ask_again_instead_of_handing_over(detector, text):
    decision = detector.decide(Transcript(turns=[Turn("user", text), Turn("bot", "Sorry?", 0.02)]))
    assert decision.action != "escalate", decision.explanation
    signal = next(s for s in decision.signals if s.name == "low_confidence")
    assert signal.score < detector.config.low_confidence.offer_at


@pytest.mark.parametrize("text", ["strengths of the premium plan", "pdf", "what is an sms code"])
def test_real_words_are_not_a_keyboard_mash(text):
    from handoff.lexicon import gibberish

    assert not gibberish(text)


def test_a_plain_first_question_is_not_frustration(detector):
    for text in ("cancel", "why did my transfer fail?", "I have been charged twice"):
        decision = detector.decide(Transcript(turns=[Turn("user", text), Turn("bot", "Here is how.", 0.9)]))
        assert decision.scores["frustration"] < detector.config.frustration.offer_at, text


@pytest.mark.parametrize(
    "text",
    ["Still waiting on a refund.", "Do you know why my card payment did not work?",
     "my deposit from a week ago still isn't there!! I need the money"],
)
def test_an_opening_problem_report_offers_and_the_same_after_an_answer_escalates(detector, text):
    opening = detector.decide(Transcript(turns=[Turn("user", text)]))
    assert opening.action != "escalate", opening.explanation
    assert frustration(opening) <= 0.5
    again = detector.decide(Transcript(turns=[
        Turn("user", "where is my refund"), Turn("bot", "Refunds take 5 days.", 0.9), Turn("user", text)]))
    assert again.action == "escalate", again.explanation
    assert again.reasons[0] == "frustration"
