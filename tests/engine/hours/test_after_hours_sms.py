"""After hours with a phone number and no email, against a real server (uvicorn, WebSocket clients,
the Twilio stand-in, SQLite and PostgreSQL): the visitor leaves a number, receives the code by SMS,
a wrong code is refused and texts nothing, the right one confirms the number; they leave the page,
and the operator's reply the next morning arrives by SMS at that number, from the desk's number.
A module of its own: its desk has no operators left over from the email test."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from tests.engine.channels.conftest import OUR_NUMBER, new_berlin_phone
from tests.engine.conftest import receive_until
from tests.engine.hours.conftest import NEW_YORK_OPENS, SUNDAY_NIGHT, Desk
from tests.engine.hours.test_after_hours import say, wait_until


def test_a_phone_left_after_hours_is_confirmed_by_sms_and_answered_by_sms_next_morning(desk: Desk) -> None:
    desk.clock.at = SUNDAY_NIGHT
    typed, number = new_berlin_phone()
    kim = desk.server.new_operator(name="Kim Morning", capacity=50)
    kim_auth = desk.auth(kim["token"])
    started = desk.server.start_visitor()
    conversation_id = started["conversation_id"]
    path = f"/api/operator/conversations/{conversation_id}"
    visitor_auth = {"Authorization": f"Bearer {started['token']}"}
    with desk.server.operator_socket(kim["token"]) as floor, desk.http() as http:
        http.post("/api/operator/presence", json={"status": "online"}, headers=kim_auth).raise_for_status()
        with desk.server.visitor_socket(started["token"]) as visitor:
            say(visitor, "I want to talk to a human")
            receive_until(visitor, lambda f: f["type"] == "message" and f["message"]["role"] == "system"
                          and "nobody can answer you this minute" in f["message"]["text"])
            left = http.post("/api/visitor/leave-message", headers=visitor_auth,
                             json={"phone": typed, "text": "Please call about my refund"})
            assert left.status_code == 200, left.text
            body = left.json()
            assert body["phone"] == number and body["email"] is None and body["confirmation"] is None
            assert body["phone_confirmation"]["phone"] == number
            assert body["phone_confirmation"]["verified"] is False
            assert f"Enter the code we have just texted to {number}" in body["notice"]["text"]
            assert "reach you by SMS" in body["notice"]["text"]

            sent = desk.provider.wait_for(lambda r: r.form().get("To") == number)
            assert sent.form()["From"] == OUR_NUMBER
            text = sent.form()["Body"]
            assert text.startswith("Your confirmation code is ") and len(text) <= 160
            code = re.search(r"\b(\d{6})\b", text).group(1)

            wrong = http.post("/api/visitor/phone/confirm", headers=visitor_auth,
                              json={"code": f"{(int(code) + 1) % 10**6:06d}"})
            assert wrong.status_code == 422
            assert wrong.json()["detail"][0]["msg"] == "the confirmation code is wrong (4 tries left)"
            right = http.post("/api/visitor/phone/confirm", headers=visitor_auth, json={"code": code})
            assert right.status_code == 200, right.text
            assert right.json()["phone"] == number and right.json()["verified"] is True
            contact = http.get(path, headers=kim_auth).json()["contact"]
            assert contact["phone"] == number
        # the visitor closed the page: with no email confirmed, a person's reply goes by SMS
        route = f"{path}/route"
        wait_until(lambda: http.get(route, headers=kim_auth).json()["default"]["channel"] == "sms")
        assert http.get(route, headers=kim_auth).json()["default"]["to"] == number

        desk.clock.at = NEW_YORK_OPENS + timedelta(seconds=5)  # the next morning: the tick routes it
        assigned = receive_until(floor, lambda f: f.get("type") == "conversation.assigned"
                                 and f.get("conversation_id") == conversation_id)
        assert assigned[-1]["assignee_id"] == kim["operator"]["id"]
        http.post(f"{path}/reply", headers=kim_auth, json={
            "text": "Good morning! Your refund went out today.", "client_id": uuid.uuid4().hex,
        }).raise_for_status()
        reply = desk.provider.wait_for(lambda r: r.form().get("To") == number
                                       and "refund went out" in r.form().get("Body", ""))
        assert reply.form()["Body"] == "Good morning! Your refund went out today."
        assert reply.form()["From"] == OUR_NUMBER
    # the number got the code and the reply, nothing else (the wrong code texted nothing)
    assert [r.form()["Body"] for r in desk.provider.texts_to(number)] == [text, reply.form()["Body"]]
