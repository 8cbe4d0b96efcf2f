"""With every team closed, against a real server (uvicorn, WebSocket clients, SQLite and PostgreSQL):
the widget's hours before writing; the bot still answering; a visitor who asks for a person told
honestly when the team opens, in its own zone, never that someone is coming now; leave-a-message
with an address checked and kept on the contact; the conversation queued for the opening with its
packet, held there although an operator is online, routed when the clock reaches the opening, and
the operator's reply that morning mailed to the visitor who had left the page (their address
confirmed by the code it was sent). Berlin's Women's Day is respected: the desk opens with New York,
not on Berlin's Monday morning."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from tests.engine.channels.conftest import new_phone, post_sms
from tests.engine.conftest import receive_until
from tests.engine.hours.conftest import BERLIN_OPENS, NEW_YORK_OPENS, SUNDAY_NIGHT, Desk, set_hours

HANDOFF_NOTICE_START = "I'm bringing in a person"


def when(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def say(socket: Any, text: str) -> None:
    socket.send(f'{{"type": "message", "text": "{text}", "client_id": "{uuid.uuid4().hex}"}}')


def test_admin_sets_hours_and_wrong_ones_are_refused_naming_the_field(desk: Desk) -> None:
    desk.clock.at = SUNDAY_NIGHT
    berlin = desk.teams["Berlin"]
    with desk.http() as http:
        view = http.get(f"/api/admin/teams/{berlin}/hours", headers=desk.auth()).json()
        assert view["team"]["timezone"] == "Europe/Berlin" and view["team"]["holiday_subdivision"] == "BE"
        assert view["now"]["open"] is False and when(view["now"]["opens_at"]) == BERLIN_OPENS
        assert ["2027-03-08", "Women's Day"] in view["holidays"]

        wrong = {"timezone": "Mars/Olympus", "holiday_subdivision": "ZZ", "overlap": None, "backwards": None}
        for case in wrong:
            body: dict[str, Any] = {"timezone": "Europe/Berlin", "holiday_country": "DE"}
            if case in ("timezone", "holiday_subdivision"):
                body[case] = wrong[case]
            elif case == "overlap":
                body["weekly"] = [{"day": "mon", "opens": "09:00", "closes": "13:00"},
                                  {"day": "mon", "opens": "12:00", "closes": "17:00"}]
            else:
                body["weekly"] = [{"day": "tue", "opens": "17:00", "closes": "09:00"}]
            refused = set_hours(http, desk.admin, berlin, **body)
            assert refused.status_code == 422, (case, refused.text)
            wrong[case] = str(refused.json()["detail"])
        assert "not an IANA time zone" in wrong["timezone"]
        assert "not a subdivision of DE" in wrong["holiday_subdivision"]
        assert "overlap" in wrong["overlap"] and "not after it opens" in wrong["backwards"]
        bad_time = set_hours(http, desk.admin, berlin, timezone="Europe/Berlin",
                             weekly=[{"day": "mon", "opens": "9am", "closes": "17:00"}])
        assert bad_time.status_code == 422 and bad_time.json()["detail"][0]["loc"][-1] == "opens"
        assert set_hours(http, desk.admin, 999_999, timezone="Europe/Berlin").status_code == 404
        operator = desk.server.new_operator()["token"]
        assert set_hours(http, operator, berlin, timezone="Europe/Berlin").status_code == 403

        unchanged = http.get(f"/api/admin/teams/{berlin}/hours", headers=desk.auth()).json()
        assert unchanged["team"]["hours"] == view["team"]["hours"]  # nothing refused was stored
        audit = http.get("/api/admin/audit", params={"target": f"team:{berlin}"}, headers=desk.auth()).json()
        assert [e["action"] for e in audit] == ["team.hours", "team.created"]  # newest first
        assert audit[0]["reason"] == "after-hours tests"


def wait_until(read: Callable[[], Any], timeout: float = 15) -> Any:
    """``read()`` once it is truthy: for a state the server reaches on its own (a socket it saw close)."""
    deadline = time.monotonic() + timeout
    while not (found := read()):
        if time.monotonic() > deadline:
            raise AssertionError("the server never got there")
        time.sleep(0.05)
    return found


def test_every_team_closed_told_when_leave_a_message_queued_and_answered_by_email_next_morning(
        desk: Desk) -> None:
    desk.clock.at = SUNDAY_NIGHT
    with desk.http() as http:
        banner = http.get("/api/visitor/hours").json()  # before writing: no token needed
    assert banner["open"] is False and banner["timezone"] == "America/New_York"
    assert when(banner["opens_at"]) == NEW_YORK_OPENS  # Berlin's Monday is Women's Day
    assert "we open tomorrow at 9:00 (America/New_York time), in 18 hours" in banner["notice"]

    kim = desk.server.new_operator(name="Kim Night", capacity=50)
    kim_auth = desk.auth(kim["token"])
    started = desk.server.start_visitor()
    conversation_id = started["conversation_id"]
    path = f"/api/operator/conversations/{conversation_id}"
    visitor_auth = {"Authorization": f"Bearer {started['token']}"}
    address = f"ann-{uuid.uuid4().hex[:8]}@example.com"
    with desk.server.operator_socket(kim["token"]) as floor, desk.http() as http:
        http.post("/api/operator/presence", json={"status": "online"}, headers=kim_auth).raise_for_status()
        with desk.server.visitor_socket(started["token"]) as visitor:
            say(visitor, "can I get my money back?")
            answered = receive_until(visitor, lambda f: f["type"] == "message"
                                     and f["message"]["role"] == "bot")
            assert "original payment method" in answered[-1]["message"]["text"]  # the bot still answers

            say(visitor, "I want to talk to a human")
            frames = receive_until(visitor, lambda f: f["type"] == "message"
                                   and f["message"]["role"] == "system")
            notice = frames[-1]["message"]
            assert "nobody can answer you this minute" in notice["text"]
            assert "we open tomorrow at 9:00 (America/New_York time), in 18 hours" in notice["text"]
            assert "leave your email or phone number" in notice["text"]
            assert notice["quick_replies"] == ["Leave a message"]
            # routing has run (it publishes the queue after its pass): still queued, held for the opening
            held = receive_until(visitor, lambda f: f["type"] == "state"
                                 and (f.get("queue") or {}).get("opens_at") is not None)
            assert when(held[-1]["queue"]["opens_at"]) == NEW_YORK_OPENS and held[-1]["state"] == "queued"
            assert not any(f["type"] == "message" and f["message"]["text"].startswith(HANDOFF_NOTICE_START)
                           for f in frames + held)
            detail = http.get(path, headers=kim_auth).json()
            assert detail["conversation"]["state"] == "queued" and detail["packet"] is not None
            assert when(detail["conversation"]["held_until"]) == NEW_YORK_OPENS
            assert detail["queue"]["opens_at"] is not None and detail["queue"]["wait_seconds"] is None
            listed = http.get("/api/queue", headers=kim_auth).json()["entries"]
            assert {"conversation_id": conversation_id, "position": 1, "wait_seconds": None,
                    "opens_at": "2027-03-08T14:00:00Z"} in listed

            refusals = [http.post("/api/visitor/leave-message", headers=visitor_auth, json=body) for body in
                        ({}, {"phone": "12345"}, {"phone": "+49 30 1"}, {"email": "not-an-address"})]
            assert [r.status_code for r in refusals] == [422] * 4
            said = [str(r.json()["detail"]) for r in refusals]
            assert "give an email address or a phone number" in said[0]
            assert "with + and the country code" in said[1] and "not a valid phone number" in said[2]
            assert "email" in said[3]
            left = http.post("/api/visitor/leave-message", headers=visitor_auth,
                             json={"email": address.upper(), "phone": "+49 30 901820",
                                   "text": "Please answer about my refund"})
            assert left.status_code == 200, left.text
            body = left.json()
            assert body["email"] == address and body["phone"] == "+4930901820"
            assert body["confirmation"]["email"] == address
            assert "when we open tomorrow at 9:00 (America/New_York time)" in body["notice"]["text"]
            assert f"the code we have just sent to {address}" in body["notice"]["text"]
            assert when(body["held_until"]) == NEW_YORK_OPENS
            contact = http.get(path, headers=kim_auth).json()["contact"]
            assert (contact["email"], contact["phone"]) == (address, "+4930901820")

            mail = desk.mailbox.wait_for(lambda m: m["To"] == address)
            code = re.search(r"\b(\d{6})\b", mail.get_content()).group(1)
            http.post("/api/visitor/email/confirm", headers=visitor_auth,
                      json={"code": code}).raise_for_status()
        # the visitor closed the page; the server counts their socket gone
        route = f"{path}/route"
        wait_until(lambda: http.get(route, headers=kim_auth).json()["default"]["channel"] == "email")

        desk.clock.at = NEW_YORK_OPENS + timedelta(seconds=5)  # the next morning: the tick routes it
        assigned = receive_until(floor, lambda f: f.get("type") == "conversation.assigned"
                                 and f.get("conversation_id") == conversation_id)
        assert assigned[-1]["assignee_id"] == kim["operator"]["id"]
        after = http.get(path, headers=kim_auth).json()
        assert after["conversation"]["state"] == "assigned" and after["conversation"]["held_until"] is None
        assert any("after hours, queued for the opening" in t["reason"] for t in after["transitions"])

        http.post(f"{path}/reply", headers=kim_auth, json={
            "text": "Good morning! Your refund went out today.", "client_id": uuid.uuid4().hex,
        }).raise_for_status()
        reply = desk.mailbox.wait_for(lambda m: m["To"] == address and "refund went out" in m.get_content())
        assert "Good morning! Your refund went out today." in reply.get_content()


def test_desk_open_hides_nothing_and_a_holiday_alone_keeps_berlin_shut(desk: Desk) -> None:
    desk.clock.at = BERLIN_OPENS + timedelta(hours=1)  # Tuesday 10:00 in Berlin: open
    with desk.http() as http:
        assert http.get("/api/visitor/hours").json() == {
            "open": True, "timezone": "Europe/Berlin", "opens_at": None, "closes_at": "2027-03-09T16:00:00Z",
            "holiday": None, "notice": None}
        desk.clock.at = datetime.fromisoformat("2027-03-08T10:00:00+00:00")  # Berlin's Monday 11:00: holiday
        view = http.get(f"/api/admin/teams/{desk.teams['Berlin']}/hours", headers=desk.auth()).json()
    assert view["now"]["open"] is False and view["now"]["holiday"] == "Women's Day"
    assert when(view["now"]["opens_at"]) == BERLIN_OPENS


def test_an_sms_customer_after_hours_is_told_when_and_answered_where_they_wrote(desk: Desk) -> None:
    desk.clock.at = SUNDAY_NIGHT
    phone = new_phone()
    assert post_sms(desk.server, phone, "I want to talk to a human").status_code == 200
    sent = desk.provider.wait_for(lambda r: r.form().get("To") == phone)
    text = sent.form()["Body"]
    assert "we open tomorrow at 9:00 (America/New_York time), in 18 hours" in text
    assert text.endswith("We'll answer you here.") and "leave your email" not in text


def test_a_transfer_to_a_closed_team_is_held_for_its_opening_and_the_visitor_told_when(desk: Desk) -> None:
    """New York is open, Berlin shut for Women's Day: a conversation transferred to Berlin waits for
    Berlin's Tuesday morning, although a Berlin operator is online, and the visitor hears when, not
    "one moment, please"."""
    desk.clock.at = NEW_YORK_OPENS + timedelta(hours=1)  # Monday 10:00 in New York, 16:00 in Berlin
    nia = desk.server.new_operator(name="Nia York", team_id=desk.teams["New York"])
    bo = desk.server.new_operator(name="Bo Berlin", team_id=desk.teams["Berlin"])
    started = desk.server.start_visitor()
    conversation_id = started["conversation_id"]
    path = f"/api/operator/conversations/{conversation_id}"
    with desk.server.operator_socket(bo["token"]) as berlin, desk.http() as http, \
            desk.server.visitor_socket(started["token"]) as visitor:
        for person in (nia, bo):
            http.post("/api/operator/presence", json={"status": "online"},
                      headers=desk.auth(person["token"])).raise_for_status()
        http.post(f"{path}/claim", headers=desk.auth(nia["token"])).raise_for_status()
        moved = http.post(f"{path}/transfer", headers=desk.auth(nia["token"]),
                          json={"team_id": desk.teams["Berlin"], "note": "German invoice"})
        assert moved.status_code == 200, moved.text
        assert moved.json()["state"] == "queued" and when(moved.json()["held_until"]) == BERLIN_OPENS
        told = receive_until(visitor, lambda f: f["type"] == "message" and f["message"]["role"] == "system"
                             and "we open" in f["message"]["text"])[-1]["message"]
        assert "we open tomorrow at 9:00 (Europe/Berlin time), in 17 hours" in told["text"]
        assert told["quick_replies"] == ["Leave a message"]
        # routing has run since (it publishes the queue after its pass), and left it for the opening
        held = receive_until(visitor, lambda f: f["type"] == "state"
                             and (f.get("queue") or {}).get("opens_at") is not None)
        assert held[-1]["state"] == "queued" and when(held[-1]["queue"]["opens_at"]) == BERLIN_OPENS
        assert http.get(path, headers=desk.auth(bo["token"])).json()["conversation"]["assignee_id"] is None

        desk.clock.at = BERLIN_OPENS + timedelta(seconds=5)
        # (the floor saw Nia's claim before: the assignment looked for is the one after the opening)
        assigned = receive_until(berlin, lambda f: f.get("type") == "conversation.assigned"
                                 and f.get("conversation_id") == conversation_id
                                 and f.get("assignee_id") != nia["operator"]["id"])
        assert assigned[-1]["assignee_id"] == bo["operator"]["id"]
        after = http.get(path, headers=desk.auth(bo["token"])).json()
        assert any("closed, held for the opening" in t["reason"] for t in after["transitions"])
