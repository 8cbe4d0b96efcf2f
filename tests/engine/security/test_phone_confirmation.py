"""A web visitor's phone is confirmed by one code sent to it by SMS, through the Twilio stand-in of
tests/engine/channels, on SQLite and PostgreSQL: the same mechanism as the email code (HMAC'd code,
wrong tries counted, limits), with numbers checked by ``phonenumbers`` and kept in E.164. Exactly
one SMS carries the code; a bad number or code is a 422 naming the field or saying why; resends are
rate-limited per conversation and per number (429) apart from the email count; a provider that does
not take the SMS is a 503 and the code is withdrawn (leave-a-message then keeps the number for the
team); a desk without SMS is a 409. An unconfirmed
number (and a wrong code) gets nothing but the code; a confirmed one becomes a verified ``sms``
identity, merging the contact that already texts from it."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

import httpx
from sqlmodel import Session, select

from engine.db import make_engine
from engine.models import ContactIdentity, Conversation
from tests.engine.channels.conftest import (
    OUR_NUMBER,
    SMS_SID,
    SMS_TOKEN,
    Mailbox,
    Provider,
    new_berlin_phone,
    new_phone,
    operator_get,
    operator_post,
    post_sms,
)
from tests.engine.conftest import Server, free_port
from tests.engine.security.conftest import bearer, new_client_id
from tests.engine.security.test_email_confirmation import WRONG, new_address, refusal, stored_codes
from tests.engine.security.test_limits import WINDOW, refused


def ask(http: httpx.Client, token: str, phone: str) -> httpx.Response:
    return http.post("/api/visitor/phone", headers=bearer(token), json={"phone": phone})


def confirm(http: httpx.Client, token: str, code: str) -> httpx.Response:
    return http.post("/api/visitor/phone/confirm", headers=bearer(token), json={"code": code})


def code_of(provider: Provider, number: str) -> str:
    text = provider.wait_for(lambda r: r.form().get("To") == number).form()["Body"]
    found = re.search(r"\b(\d{6})\b", text)
    assert found, text
    return found.group(1)


def contact_of(server: Server, conversation_id: int) -> tuple[int, list[ContactIdentity]]:
    """The conversation's contact and its SMS identities."""
    engine = make_engine(server.settings.database_url)
    with Session(engine) as session:
        contact_id = session.get(Conversation, conversation_id).contact_id
        found = list(session.exec(select(ContactIdentity).where(ContactIdentity.contact_id == contact_id,
                                                               ContactIdentity.channel == "sms")))
    engine.dispose()
    return contact_id, found


def sms_settings(provider_url: str) -> dict[str, str]:
    return {"sms_provider_url": provider_url, "sms_account_sid": SMS_SID, "sms_auth_token": SMS_TOKEN,
            "sms_from": OUR_NUMBER}


def test_one_code_is_texted_and_the_right_one_verifies(channel_server: Server, provider: Provider) -> None:
    typed, number = new_berlin_phone()
    visitor = channel_server.start_visitor()
    with channel_server.http() as http:
        asked = ask(http, visitor["token"], typed)
        assert asked.status_code == 202, asked.text
        assert asked.json()["phone"] == number and asked.json()["verified"] is False
        sent = provider.wait_for(lambda r: r.form().get("To") == number).form()
        assert sent["From"] == OUR_NUMBER and len(sent["Body"]) <= 160
        code = code_of(provider, number)
        assert code not in " ".join(stored_codes(channel_server))  # only its HMAC is stored
        assert contact_of(channel_server, visitor["conversation_id"])[1] == []  # not verified yet

        assert refusal(confirm(http, visitor["token"], f"{(int(code) + 1) % 10**6:06d}")) == \
            f"{WRONG} (4 tries left)"
        right = confirm(http, visitor["token"], code)
        assert right.status_code == 200, right.text
        assert right.json()["phone"] == number and right.json()["verified"] is True
        [verified] = contact_of(channel_server, visitor["conversation_id"])[1]
        assert verified.external_id == number and verified.verified_at is not None
        assert datetime.fromisoformat(right.json()["verified_at"]) == verified.verified_at
        assert refusal(confirm(http, visitor["token"], code)) == \
            "no confirmation code is pending: ask for one with POST /api/visitor/phone"
    assert len(provider.texts_to(number)) == 1


def test_bad_numbers_and_codes_are_refused(channel_server: Server, provider: Provider) -> None:
    visitor = channel_server.start_visitor()
    with channel_server.http() as http:
        said = {}
        for bad in ("12345", "+49 30 1", "+1 555 000 0000", "+49 30 1234\n5678", "+49 30 1234\x005678",
                    "9" * 41, "", "call me"):
            answer = ask(http, visitor["token"], bad)
            assert answer.status_code == 422, (bad, answer.text)
            assert answer.json()["detail"][0]["loc"][-1] == "phone"
            said[bad] = answer.json()["detail"][0]["msg"]
        assert "with + and the country code" in said["12345"]
        assert "+49 30 1 is not a valid phone number" in said["+49 30 1"]
        for bad in ("12345", "1234567", "12a456", " 123456"):
            answer = confirm(http, visitor["token"], bad)
            assert answer.status_code == 422 and answer.json()["detail"][0]["loc"][-1] == "code"
        assert http.post("/api/visitor/phone", json={"phone": new_berlin_phone()[0]}).status_code == 401
        assert http.post("/api/visitor/phone/confirm", json={"code": "123456"}).status_code == 401
    assert not provider.texts_to("+49301")


def test_a_wrong_code_and_an_unconfirmed_phone_get_nothing_but_the_code(channel_server: Server,
                                                                        provider: Provider) -> None:
    typed, number = new_berlin_phone()
    visitor = channel_server.start_visitor()
    with channel_server.http() as http:
        assert ask(http, visitor["token"], typed).status_code == 202
        code = code_of(provider, number)
        assert refusal(confirm(http, visitor["token"], f"{(int(code) + 1) % 10**6:06d}")).startswith(WRONG)
        answered = http.post("/api/visitor/messages", headers=bearer(visitor["token"]),
                             json={"text": "how long does shipping take?", "client_id": new_client_id()})
        assert answered.status_code == 200 and answered.json()["replies"]
    operator = channel_server.new_operator()
    path = f"/api/operator/conversations/{visitor['conversation_id']}"
    route = operator_get(channel_server, operator["token"], f"{path}/route")["default"]
    assert route["channel"] == "web" and "no confirmed email or phone" in route["reason"]
    operator_post(channel_server, operator["token"], f"{path}/reply", {"text": "Hello from a person"})
    # an SMS conversation after it: once its reply has gone out, the dispatcher has been past the web
    # conversation's reply, and it did not become a text to the unconfirmed number
    sender = new_phone()
    assert post_sms(channel_server, sender, "how long does shipping take?").status_code == 200
    provider.wait_for(lambda r: r.form().get("To") == sender)
    [only] = provider.texts_to(number)
    assert code in only.form()["Body"]


def test_a_confirmed_number_that_texted_before_joins_its_contact(channel_server: Server,
                                                                 provider: Provider) -> None:
    """The visitor proved they own the number an SMS conversation comes from: one customer, merged."""
    typed, number = new_berlin_phone()
    assert post_sms(channel_server, number, "is my parcel on its way?").status_code == 200
    provider.wait_for(lambda r: r.form().get("To") == number)  # the bot answered the text
    visitor = channel_server.start_visitor()
    with channel_server.http() as http:
        assert ask(http, visitor["token"], typed).status_code == 202
        found = provider.wait_for(lambda r: r.form().get("To") == number
                                  and "confirmation code" in r.form().get("Body", ""))
        code = re.search(r"\b(\d{6})\b", found.form()["Body"]).group(1)
        assert confirm(http, visitor["token"], code).status_code == 200
    # the web conversation now belongs to the contact whose identity the inbound text made, verified
    _, identities = contact_of(channel_server, visitor["conversation_id"])
    assert [(i.external_id, i.verified_at is not None) for i in identities] == [(number, True)]


def test_codes_are_limited_per_conversation_and_per_number_apart_from_email(
        limited: Callable[..., Server], provider: Provider, mailbox: Mailbox) -> None:
    server = limited(smtp_host="127.0.0.1", smtp_port=mailbox.port, limit_email_codes=f"2/{WINDOW}",
                     **sms_settings(provider.url))
    typed, number = new_berlin_phone()
    visitor, other = server.start_visitor(), server.start_visitor()
    with server.http() as http:
        assert [ask(http, visitor["token"], typed).status_code for _ in range(2)] == [202, 202]
        over = ask(http, visitor["token"], number)
        refused(over)
        assert "confirmation codes sent" in over.json()["detail"]
        refused(ask(http, other["token"], typed))  # the number is counted too
        elsewhere = new_berlin_phone()[1]
        assert ask(http, other["token"], elsewhere).status_code == 202
        # an email code is a count of its own: a visitor may confirm both
        address = new_address()
        mailed = http.post("/api/visitor/email", headers=bearer(visitor["token"]), json={"email": address})
        assert mailed.status_code == 202, mailed.text
        provider.wait_for(lambda r: r.form().get("To") == elsewhere)
    assert len(provider.texts_to(number)) == 2


def test_a_code_the_provider_did_not_take_is_withdrawn_and_a_desk_without_sms_says_so(
        limited: Callable[..., Server]) -> None:
    down = limited(**sms_settings(f"http://127.0.0.1:{free_port()}"))  # nothing listens there
    visitor = down.start_visitor()
    with down.http() as http:
        answer = ask(http, visitor["token"], new_berlin_phone()[0])
        assert answer.status_code == 503, answer.text
        assert answer.json()["detail"].startswith("the SMS could not be sent (SMS provider: ")
        assert stored_codes(down) == []
        assert refusal(confirm(http, visitor["token"], "123456")).startswith("no confirmation code")
        # leave-a-message is not lost to the outage: the number is kept for the team to call
        typed, number = new_berlin_phone()
        left = http.post("/api/visitor/leave-message", headers=bearer(visitor["token"]),
                         json={"phone": typed, "text": "call me please"})
        assert left.status_code == 200, left.text
        assert left.json()["phone"] == number and left.json()["phone_confirmation"] is None
        assert "The team will see your number" in left.json()["notice"]["text"]
        assert stored_codes(down) == []

    without = limited()
    visitor = without.start_visitor()
    typed, number = new_berlin_phone()
    with without.http() as http:
        answer = ask(http, visitor["token"], typed)
        assert answer.status_code == 409 and "does not send SMS" in answer.json()["detail"]
        left = http.post("/api/visitor/leave-message", headers=bearer(visitor["token"]),
                         json={"phone": typed})
    assert left.status_code == 200, left.text
    assert left.json()["phone"] == number and left.json()["phone_confirmation"] is None
    assert f"The team will see your number, {number}, to call or text you." in left.json()["notice"]["text"]
