"""A web visitor's email is confirmed by one code sent to it, against the real SMTP server of
tests/engine/channels (aiosmtpd) on SQLite and PostgreSQL: exactly one mail carries the code, a
wrong, expired or used-up code is a 422 saying which, a resend replaces the code and is rate-limited
(429, then it recovers), the right code makes the address a verified identity, and nothing else is
ever mailed to the address, before or after it is confirmed."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from email.message import EmailMessage

import httpx
from sqlmodel import Session, select

from engine.db import make_engine
from engine.models import Confirmation, ContactIdentity, Conversation
from tests.engine.channels.conftest import SUPPORT, Mailbox, operator_post, post_email
from tests.engine.conftest import Server, free_port
from tests.engine.security.conftest import bearer, new_client_id
from tests.engine.security.test_limits import WINDOW, refused, wait_out

WRONG = "the confirmation code is wrong"
USED_UP = "5 wrong codes were tried: ask for a new one"
EXPIRED = "the confirmation code has expired: ask for a new one"


def new_address() -> str:
    return f"visitor.{uuid.uuid4().hex[:10]}@customer.example"


def mails_to(mailbox: Mailbox, address: str) -> list[EmailMessage]:
    return [mail for mail in list(mailbox.messages) if address in str(mail["To"])]


def code_in(mail: EmailMessage) -> str:
    found = re.search(r"\b(\d{6})\b", mail.get_content())
    assert found, mail.get_content()
    return found.group(1)


def ask(http: httpx.Client, token: str, address: str) -> httpx.Response:
    return http.post("/api/visitor/email", headers=bearer(token), json={"email": address})


def confirm(http: httpx.Client, token: str, code: str) -> httpx.Response:
    return http.post("/api/visitor/email/confirm", headers=bearer(token), json={"code": code})


def refusal(response: httpx.Response) -> str:
    """The message of a 422 the service gave."""
    assert response.status_code == 422, response.text
    return response.json()["detail"][0]["msg"]


def identity(server: Server, conversation_id: int) -> ContactIdentity | None:
    engine = make_engine(server.settings.database_url)
    with Session(engine) as session:
        contact_id = session.get(Conversation, conversation_id).contact_id
        found = session.exec(select(ContactIdentity).where(ContactIdentity.contact_id == contact_id,
                                                          ContactIdentity.channel == "email")).first()
    engine.dispose()
    return found


def stored_codes(server: Server) -> list[str]:
    engine = make_engine(server.settings.database_url)
    with Session(engine) as session:
        hashes = [row.code_hash for row in session.exec(select(Confirmation))]
    engine.dispose()
    return hashes


def test_one_code_is_mailed_and_the_right_one_verifies(channel_server: Server, mailbox: Mailbox) -> None:
    address = new_address()
    visitor = channel_server.start_visitor()
    with channel_server.http() as http:
        asked = ask(http, visitor["token"], address.upper())
        assert asked.status_code == 202, asked.text
        assert asked.json()["email"] == address and asked.json()["verified"] is False
        mail = mailbox.wait_for(lambda m: address in str(m["To"]))
        assert mail["Subject"] == "Your confirmation code" and mail["Auto-Submitted"] == "auto-generated"
        assert SUPPORT in mail["From"]
        code = code_in(mail)
        assert code not in " ".join(stored_codes(channel_server))  # only its HMAC is stored
        assert identity(channel_server, visitor["conversation_id"]) is None  # not verified yet

        wrong = f"{(int(code) + 1) % 10**6:06d}"
        assert refusal(confirm(http, visitor["token"], wrong)) == f"{WRONG} (4 tries left)"
        right = confirm(http, visitor["token"], code)
        assert right.status_code == 200, right.text
        assert right.json()["email"] == address and right.json()["verified"] is True
        verified = identity(channel_server, visitor["conversation_id"])
        assert verified is not None and verified.external_id == address and verified.verified_at is not None
        assert datetime.fromisoformat(right.json()["verified_at"]) == verified.verified_at
        # used once: the code is gone
        assert refusal(confirm(http, visitor["token"], code)).startswith("no confirmation code is pending")
    assert len(mails_to(mailbox, address)) == 1


def test_wrong_codes_are_counted_and_a_resend_replaces_the_code(channel_server: Server,
                                                                mailbox: Mailbox) -> None:
    address = new_address()
    visitor = channel_server.start_visitor()
    with channel_server.http() as http:
        assert ask(http, visitor["token"], address).status_code == 202
        first = code_in(mailbox.wait_for(lambda m: address in str(m["To"])))
        wrong = f"{(int(first) + 1) % 10**6:06d}"
        answers = [refusal(confirm(http, visitor["token"], wrong)) for _ in range(5)]
        assert answers[0] == f"{WRONG} (4 tries left)"
        assert answers[-1] == f"{WRONG} and {USED_UP}"
        # used up: even the right code is refused now
        assert refusal(confirm(http, visitor["token"], first)) == USED_UP

        assert ask(http, visitor["token"], address).status_code == 202
        mailbox.wait_for(lambda m: len(mails_to(mailbox, address)) == 2)
        second = code_in(mails_to(mailbox, address)[-1])
        if second != first:  # one in a million they match; then only the second half can be shown
            assert refusal(confirm(http, visitor["token"], first)).startswith(WRONG)
        assert confirm(http, visitor["token"], second).status_code == 200


def test_bad_addresses_and_codes_are_refused(channel_server: Server, mailbox: Mailbox) -> None:
    visitor = channel_server.start_visitor()
    with channel_server.http() as http:
        for bad in ("not-an-address", "a@b", "ann@customer.example\r\nBcc: all@elsewhere.example",
                    "ann@customer.example\nSubject: hi", "x" * 330 + "@customer.example"):
            answer = ask(http, visitor["token"], bad)
            assert answer.status_code == 422, answer.text
            assert answer.json()["detail"][0]["loc"][-1] == "email"
        for bad in ("12345", "1234567", "12a456", " 123456"):
            answer = confirm(http, visitor["token"], bad)
            assert answer.status_code == 422, answer.text
            assert answer.json()["detail"][0]["loc"][-1] == "code"
        assert http.post("/api/visitor/email", json={"email": new_address()}).status_code == 401
    assert not [m for m in mailbox.messages if "elsewhere.example" in str(m["To"]) + str(m["Bcc"])]


def test_an_expired_code_is_refused(limited: Callable[..., Server], mailbox: Mailbox) -> None:
    server = limited(smtp_host="127.0.0.1", smtp_port=mailbox.port, email_code_minutes=1 / 60,
                     limit_email_codes="1000/second")
    address = new_address()
    visitor = server.start_visitor()
    with server.http() as http:
        asked = ask(http, visitor["token"], address)
        assert asked.status_code == 202, asked.text
        code = code_in(mailbox.wait_for(lambda m: address in str(m["To"])))
        expires = datetime.fromisoformat(asked.json()["expires_at"])
        time.sleep(max(0.0, expires.timestamp() - time.time()) + 0.2)  # the point: the code's time passes
        assert refusal(confirm(http, visitor["token"], code)) == EXPIRED
        assert identity(server, visitor["conversation_id"]) is None


def test_resends_are_limited_per_conversation_and_per_address(limited: Callable[..., Server],
                                                              mailbox: Mailbox) -> None:
    server = limited(smtp_host="127.0.0.1", smtp_port=mailbox.port, limit_email_codes=f"2/{WINDOW}")
    address = new_address()
    visitor, other = server.start_visitor(), server.start_visitor()
    with server.http() as http:
        assert [ask(http, visitor["token"], address).status_code for _ in range(2)] == [202, 202]
        over = ask(http, visitor["token"], address)
        retry_after = refused(over)
        assert "confirmation codes sent" in over.json()["detail"]
        # the address is counted too: another conversation cannot send it more
        refused(ask(http, other["token"], address))
        # another address from the other conversation is its own count
        elsewhere = new_address()
        assert ask(http, other["token"], elsewhere).status_code == 202
        mailbox.wait_for(lambda m: elsewhere in str(m["To"]))
        assert len(mails_to(mailbox, address)) == 2
        wait_out(retry_after)
        assert ask(http, visitor["token"], address).status_code == 202
        mailbox.wait_for(lambda m: len(mails_to(mailbox, address)) == 3)
        assert confirm(http, visitor["token"], code_in(mails_to(mailbox, address)[-1])).status_code == 200


def test_an_unconfirmed_address_gets_nothing_but_the_code(channel_server: Server, mailbox: Mailbox) -> None:
    address = new_address()
    visitor = channel_server.start_visitor(email=address)
    with channel_server.http() as http:
        assert ask(http, visitor["token"], address).status_code == 202
        mailbox.wait_for(lambda m: address in str(m["To"]))
        answered = http.post("/api/visitor/messages", headers=bearer(visitor["token"]),
                             json={"text": "how long does shipping take?", "client_id": new_client_id()})
        assert answered.status_code == 200 and answered.json()["replies"]
    operator = channel_server.new_operator()
    path = f"/api/operator/conversations/{visitor['conversation_id']}/reply"
    operator_post(channel_server, operator["token"], path, {"text": "Hello from a person"})
    # an email conversation after it: once its reply has arrived, the dispatcher has been past the
    # web conversation's replies, and none of them became an email
    sender = new_address()
    inbound = post_email(channel_server, **{"from": sender}, to=SUPPORT, subject="Shipping",
                         text="how long does shipping take?",
                         message_id=f"<{uuid.uuid4().hex}@customer.example>")
    assert inbound.status_code == 200, inbound.text
    mailbox.wait_for(lambda m: m["To"] == sender)
    assert [m["Subject"] for m in mails_to(mailbox, address)] == ["Your confirmation code"]


def test_a_code_smtp_did_not_take_is_withdrawn(limited: Callable[..., Server]) -> None:
    server = limited(smtp_host="127.0.0.1", smtp_port=free_port())  # nothing listens there
    visitor = server.start_visitor()
    with server.http() as http:
        answer = ask(http, visitor["token"], new_address())
        assert answer.status_code == 503, answer.text
        assert answer.json()["detail"].startswith("the mail could not be sent (SMTP 127.0.0.1:")
        assert stored_codes(server) == []
        assert refusal(confirm(http, visitor["token"], "123456")).startswith("no confirmation code")


def test_wrong_codes_sent_at_once_are_each_counted(channel_server: Server, mailbox: Mailbox) -> None:
    """Guessing in parallel buys no extra tries: after ten wrong codes at once the right one fails."""
    address = new_address()
    visitor = channel_server.start_visitor()
    with channel_server.http() as http:
        assert ask(http, visitor["token"], address).status_code == 202
        code = code_in(mailbox.wait_for(lambda m: address in str(m["To"])))
    wrong = [f"{(int(code) + step) % 10**6:06d}" for step in range(1, 11)]

    def guess(attempt: str) -> int:
        with channel_server.http() as client:
            return confirm(client, visitor["token"], attempt).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        assert list(pool.map(guess, wrong)) == [422] * 10
    with channel_server.http() as http:
        assert refusal(confirm(http, visitor["token"], code)) == USED_UP
