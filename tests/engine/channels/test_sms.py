"""SMS end to end against a real server: a signed Twilio-shaped webhook in, the bot's answer out
through the local stand-in for Twilio's REST API, operators' replies too, notes never."""

from __future__ import annotations

import time
import uuid

from tests.engine.channels.conftest import (
    OUR_NUMBER,
    SMS_SID,
    SMS_TOKEN,
    Provider,
    basic_auth,
    new_phone,
    operator_get,
    operator_post,
    post_sms,
)
from tests.engine.conftest import Server


def to(phone: str):  # noqa: ANN201 (a predicate)
    return lambda r: r.path.endswith("/Messages.json") and r.form().get("To") == phone


def test_sms_in_bot_answer_out(channel_server: Server, provider: Provider) -> None:
    phone = new_phone()
    response = post_sms(channel_server, phone, "how long does shipping take?")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert "<Response></Response>" in response.text

    sent = provider.wait_for(to(phone))
    assert sent.path == f"/2010-04-01/Accounts/{SMS_SID}/Messages.json"
    assert basic_auth(sent) == (SMS_SID, SMS_TOKEN)
    form = sent.form()
    assert form["From"] == OUR_NUMBER  # the number the visitor texted
    assert "3 to 5 business days" in form["Body"]
    assert "https://help.example.com/shipping" in form["Body"]  # the citation as a link


def test_bad_signature_is_refused_and_nothing_stored(channel_server: Server, provider: Provider) -> None:
    phone = new_phone()
    response = post_sms(channel_server, phone, "hello", token="not-the-token")
    assert response.status_code == 403
    assert "X-Twilio-Signature" in response.json()["detail"]
    with channel_server.http() as client:
        unsigned = client.post("/webhooks/sms", data={"From": phone, "Body": "hi", "MessageSid": "SM1"})
    assert unsigned.status_code == 403
    time.sleep(0.5)
    assert provider.matching(to(phone)) == []


def test_missing_field_is_named(channel_server: Server) -> None:
    from engine.channels import sms

    fields = {"To": OUR_NUMBER, "Body": "hello", "MessageSid": "SM" + uuid.uuid4().hex}
    url = f"{channel_server.base_url}/webhooks/sms"
    with channel_server.http() as client:
        response = client.post("/webhooks/sms", data=fields,
                               headers={"X-Twilio-Signature": sms.signature(SMS_TOKEN, url, fields.items())})
    assert response.status_code == 422
    assert "'From'" in response.json()["detail"][0]["msg"]


def test_same_message_sid_twice_is_stored_once(channel_server: Server, provider: Provider) -> None:
    phone, sid = new_phone(), "SM" + uuid.uuid4().hex
    assert post_sms(channel_server, phone, "when will my order arrive", sid=sid).status_code == 200
    provider.wait_for(to(phone))
    assert post_sms(channel_server, phone, "when will my order arrive", sid=sid).status_code == 200
    time.sleep(1.0)  # a second bot answer would have gone out by now
    assert len(provider.matching(to(phone))) == 1

    operator = channel_server.new_operator()
    conversation_id = conversation_of(channel_server, phone)
    detail = operator_get(channel_server, operator["token"], f"/api/operator/conversations/{conversation_id}")
    visitor = [m for m in detail["messages"] if m["role"] == "visitor"]
    assert [m["text"] for m in visitor] == ["when will my order arrive"]
    assert detail["conversation"]["channel"] == "sms"


def test_operator_reply_goes_out_by_sms_and_a_note_does_not(channel_server: Server,
                                                            provider: Provider) -> None:
    phone = new_phone()
    post_sms(channel_server, phone, "how do I reset my password")
    provider.wait_for(to(phone))
    conversation_id = conversation_of(channel_server, phone)
    operator = channel_server.new_operator(name="Rita")
    token = operator["token"]

    operator_post(channel_server, token, f"/api/operator/conversations/{conversation_id}/note",
                  {"text": "internal: customer sounds annoyed, check order SECRET-42"})
    reply = operator_post(channel_server, token, f"/api/operator/conversations/{conversation_id}/reply",
                          {"text": "Hi, Rita here. I have reset it for you.", "client_id": uuid.uuid4().hex})
    provider.wait_for(lambda r: to(phone)(r) and "Rita here" in r.form()["Body"])
    provider.wait_for(lambda r: to(phone)(r) and "Rita joined" in r.form()["Body"])  # the system notice
    time.sleep(1.0)  # give a wrongly sent note the time to arrive
    bodies = [r.form()["Body"] for r in provider.matching(to(phone))]
    assert not any("SECRET-42" in body for body in bodies)

    detail = operator_get(channel_server, token, f"/api/operator/conversations/{conversation_id}")
    by_id = {m["id"]: m for m in detail["messages"]}
    assert by_id[reply["id"]]["delivered_at"] is not None
    note = next(m for m in detail["messages"] if m["visibility"] == "internal")
    assert note["delivered_at"] is None


def conversation_of(server: Server, phone: str) -> int:
    """The SMS conversation of ``phone``, found the way an operator would: through its contact."""
    from sqlmodel import Session, select

    from engine.db import make_engine
    from engine.models import ContactIdentity, Conversation

    engine = make_engine(server.settings.database_url)
    try:
        with Session(engine) as session:
            contact_id = session.exec(select(ContactIdentity.contact_id).where(
                ContactIdentity.channel == "sms", ContactIdentity.external_id == phone)).one()
            return session.exec(select(Conversation.id).where(Conversation.contact_id == contact_id)).one()
    finally:
        engine.dispose()
