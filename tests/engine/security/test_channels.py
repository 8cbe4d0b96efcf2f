"""The public endpoints cannot be used to send mail, and webhook fields an attacker controls are
checked: a visitor cannot start an email conversation or make replies go to an address they typed;
CR/LF in a subject is refused (and could not reach a header anyway); ``NumMedia`` is a small
number. Against the real SMTP server and provider stand-in of tests/engine/channels."""

from __future__ import annotations

import secrets
import uuid

from engine.channels.email import reply_subject
from tests.engine.channels.conftest import SUPPORT, Mailbox, operator_get, operator_post, post_email
from tests.engine.conftest import Server
from tests.engine.security.conftest import bearer, new_client_id, post_sms_fields


def test_a_visitor_cannot_make_the_server_send_email(channel_server: Server, mailbox: Mailbox) -> None:
    target = f"victim.{uuid.uuid4().hex[:8]}@elsewhere.example"
    with channel_server.http() as http:
        relay = http.post("/api/visitor/conversations",
                          json={"channel": "email", "email": target, "subject": "You won"})
        assert relay.status_code == 422, relay.text
        assert {e["loc"][-1] for e in relay.json()["detail"]} == {"channel", "subject"}

        # the email a web visitor types is a contact detail: replies stay in the widget
        web = http.post("/api/visitor/conversations", json={"email": target}).json()
        answered = http.post("/api/visitor/messages", headers=bearer(web["token"]),
                             json={"text": "how long does shipping take?", "client_id": new_client_id()})
        assert answered.status_code == 200 and answered.json()["replies"]
    operator = channel_server.new_operator()
    path = f"/api/operator/conversations/{web['conversation_id']}/reply"
    operator_post(channel_server, operator["token"], path, {"text": "Hello from a person"})

    # a real email conversation after it: once its reply has arrived, the dispatcher has been past
    # the web conversation's replies, and none of them became an email
    sender = f"ann.{uuid.uuid4().hex[:8]}@customer.example"
    inbound = post_email(channel_server, **{"from": sender}, to=SUPPORT, subject="Shipping",
                         text="how long does shipping take?",
                         message_id=f"<{uuid.uuid4().hex}@customer.example>")
    assert inbound.status_code == 200, inbound.text
    mailbox.wait_for(lambda mail: mail["To"] == sender)
    assert [mail for mail in mailbox.messages if target in str(mail["To"])] == []


def test_line_breaks_in_a_subject_are_refused(channel_server: Server, mailbox: Mailbox) -> None:
    sender = f"bo.{uuid.uuid4().hex[:8]}@customer.example"
    for subject in ("Hello\r\nBcc: everyone@elsewhere.example", "Hello\nX-Injected: 1", "Hello\u2028there"):
        refused = post_email(channel_server, **{"from": sender}, to=SUPPORT, subject=subject, text="hi",
                             message_id=f"<{uuid.uuid4().hex}@customer.example>")
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"][0]["loc"][-1] == "subject"
        assert "one line" in refused.json()["detail"][0]["msg"]
    # a subject stored before this check still makes a one-line reply subject
    stored = "Hello\r\nBcc: everyone@elsewhere.example"
    assert reply_subject(stored) == "Re: Hello Bcc: everyone@elsewhere.example"


def test_num_media_must_be_a_small_number(channel_server: Server) -> None:
    phone = f"+1555{secrets.randbelow(10**7):07d}"
    for value in ("abc", "3000000", "-1", "²", "11"):
        refused = post_sms_fields(channel_server, From=phone, Body="", NumMedia=value)
        assert refused.status_code == 422, refused.text
        error = refused.json()["detail"][0]
        assert error["loc"] == ["NumMedia"] and "from 0 to 10" in error["msg"] and repr(value) in error["msg"]
    accepted = post_sms_fields(channel_server, From=phone, Body="", NumMedia="2",
                               MediaUrl0="https://media.example/a.jpg", MediaUrl1="https://media.example/b.jpg")
    assert accepted.status_code == 200, accepted.text
    operator = channel_server.new_operator()
    listed = operator_get(channel_server, operator["token"], "/api/operator/conversations?state=all")
    mine = next(s for s in listed if s["contact"]["phone"] == phone)
    detail = operator_get(channel_server, operator["token"],
                          f"/api/operator/conversations/{mine['conversation']['id']}")
    # links that are not Twilio's are not followed
    assert [m["text"] for m in detail["messages"] if m["role"] == "visitor"] == [
        "\n".join(f"[a file was not kept: https://media.example/{name} could not be fetched (the link is not "
                  "the provider's, so it was not followed)]" for name in ("a.jpg", "b.jpg"))]
