"""The handoff packet holds what a person needs to take over without asking again."""

from __future__ import annotations

from handoff import Transcript, Turn, build_packet


def test_packet_from_a_real_decision(detector):
    turns = [
        Turn("user", "Hi, my order #B77812 never arrived. I'm jo.doe@example.com"),
        Turn(
            "bot",
            "Parcels arrive within 5 days.",
            0.42,
            {"hits": [{"doc_id": "shipping", "title": "Delivery times", "score": 0.42}]},
        ),
        Turn("user", "that didn't help. call me on +44 20 7946 0958, this is ridiculous"),
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
    assert packet["summary"].startswith("Hi, my order #B77812 never arrived")
    assert "latest: that didn't help" in packet["summary"]
    assert packet["attempts"][0]["articles"][0]["doc_id"] == "shipping"
    assert packet["attempts"][0]["confidence"] == 0.42
    assert len(packet["sentiment_trend"]) == 2 and packet["sentiment_trend"][1] < 0
    first = packet["reasons"][0]
    assert first["name"] in decision.reasons and first["evidence"]
