"""The handoff packet holds what a person needs to take over without asking again: what the
visitor needs, numbers that read one way, and only the bot answers the visitor saw."""

from __future__ import annotations

from handoff import Transcript, Turn, build_packet
from handoff.packet import read_need
from handoff.policy import Decision
from handoff.signals import SignalResult


def test_packet_from_a_real_decision(detector):
    turns = [
        Turn("user", "Hi, my order #B77812 never arrived. I'm jo.doe@example.com"),
        Turn("bot", "Parcels arrive within 5 days.", 0.42,
             {"hits": [{"doc_id": "shipping", "title": "Delivery times", "score": 0.42}]}),
        Turn("user", "that didn't help. I already checked with my neighbours and the safe place."),
        Turn("bot", "Check with your neighbours.", 0.4),
        Turn("user", "call me on +44 20 7946 0958, this is ridiculous, I want a human"),
    ]
    transcript = Transcript(turns=turns)
    decision = detector.decide(transcript)
    packet = build_packet(transcript, decision).to_dict()
    assert packet["action"] == "escalate"
    assert packet["entities"] == {
        "order_numbers": ["B77812"],
        "emails": ["jo.doe@example.com"],
        "phones": ["+44 20 7946 0958"],
    }
    # the problem in the visitor's words; the complaint and the request are not the problem
    assert packet["problem"] == "Hi, my order #B77812 never arrived."
    assert packet["tried"] == ["I already checked with my neighbours and the safe place."]
    assert packet["asked_for_person"] is True
    assert packet["summary"] == (
        "Hi, my order #B77812 never arrived. Gave: order B77812, email jo.doe@example.com, "
        "phone +44 20 7946 0958. Already tried: I already checked with my neighbours and the safe place. "
        "Asked for a person.")
    # the last user turn has no bot reply yet: both answers were seen and both are listed
    assert [a["answer"] for a in packet["attempts"]] == ["Parcels arrive within 5 days.",
                                                         "Check with your neighbours."]
    assert packet["attempts"][0]["articles"][0]["doc_id"] == "shipping"
    assert len(packet["sentiment_trend"]) == 3 and packet["sentiment_trend"][2] < 0
    first = packet["reasons"][0]
    assert first["name"] == decision.reasons[0] and first["evidence"]
    assert first["measure"] == "strength" and first["value"] == round(decision.scores[first["name"]], 3)


def test_the_unsent_candidate_is_not_what_the_bot_tried_and_confidence_reads_one_way():
    """On escalation the engine does not send the candidate answer, so the packet does not list it;
    a weak answer is reported by its confidence, not by the inverted signal score beside it."""
    transcript = Transcript(turns=[
        Turn("user", "how do I descale the coffee machine"),
        Turn("bot", "Coffee machines come with a two-year warranty.", 0.04),
    ])
    signal = SignalResult("low_confidence", 0.96, ["answer confidence 0.04"])
    decision = Decision("escalate", ["low_confidence"], {"low_confidence": 0.96}, "weak answer", [signal])
    packet = build_packet(transcript, decision).to_dict()
    assert packet["attempts"] == []
    [reason] = packet["reasons"]
    assert (reason["measure"], reason["value"]) == ("answer confidence", 0.04)
    assert "0.96" not in repr(packet)
    assert packet["problem"] == "how do I descale the coffee machine"
    # the same transcript when the bot continues: the answer was sent, so it is listed
    sent = build_packet(transcript, Decision("continue", [], {}, "", [])).to_dict()
    assert [a["answer"] for a in sent["attempts"]] == ["Coffee machines come with a two-year warranty."]


def test_need_keeps_new_details_and_drops_repeats_greetings_and_bare_requests():
    need = read_need([
        "hello",
        "My blender LG-482913 stopped working after a week",
        "my blender stopped working after one week!!",
        "I've tried resetting it and unplugging it overnight",
        "It makes a burning smell now as well",
        "agent",
        "thanks",
    ])
    assert need.problem == ("My blender LG-482913 stopped working after a week. "
                            "It makes a burning smell now as well")
    assert need.tried == ["I've tried resetting it and unplugging it overnight"]
    assert need.entities["order_numbers"] == ["LG-482913"]
    assert need.asked_for_person
    assert not read_need(["how long do refunds take?"]).asked_for_person


def test_a_plain_want_of_a_person_is_noted_and_the_summary_reads_as_sentences():
    """"I want a person" is the request, not the problem; the problem, typed without a full stop, is
    given one before what follows it in the summary."""
    need = read_need(["I was charged twice for order LG-555123", "I want a person"])
    assert need.problem == "I was charged twice for order LG-555123"
    assert need.asked_for_person
    assert need.summary() == ("I was charged twice for order LG-555123. Gave: order LG-555123. "
                              "Asked for a person.")
