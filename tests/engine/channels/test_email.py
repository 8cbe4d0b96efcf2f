"""Email against a real server and a real SMTP server: a thread held together by Message-ID,
In-Reply-To and References; only the new text of a reply is stored."""

from __future__ import annotations

import uuid

import pytest

from engine.channels.email import InboundEmail, automatic, html_to_text, parse, strip_quoted
from tests.engine.channels.conftest import SUPPORT, Mailbox, operator_get, post_email
from tests.engine.conftest import Server


def new_address() -> str:
    return f"ann.{uuid.uuid4().hex[:8]}@customer.example"


def to(address: str):  # noqa: ANN201 (a predicate)
    return lambda mail: mail["To"] == address


def test_email_thread(channel_server: Server, mailbox: Mailbox) -> None:
    address, first_id = new_address(), f"<{uuid.uuid4().hex}@customer.example>"
    first = post_email(channel_server, **{"from": f"Ann Lee <{address}>"}, to=SUPPORT,
                       subject="Delivery time", text="Hi,\nhow long does shipping take?\n\nThanks, Ann",
                       message_id=first_id)
    assert first.status_code == 200, first.text
    answer = mailbox.wait_for(to(address))
    assert answer["Subject"] == "Re: Delivery time"
    assert answer["In-Reply-To"] == first_id
    assert answer["References"] == first_id
    assert SUPPORT in answer["From"]
    assert "3 to 5 business days" in answer.get_content()
    assert answer["Auto-Submitted"] == "auto-replied"  # the bot wrote it: out-of-office replies stay quiet

    second_id = f"<{uuid.uuid4().hex}@customer.example>"
    quoted = "\n".join(f"> {line}" for line in answer.get_content().splitlines())
    reply_text = (f"Great, and can I get my money back if it is late?\n\n"
                  f"On Tue, 24 Nov 2026 at 16:30, Shop Support <\n{SUPPORT}> wrote:\n{quoted}\n")
    second = post_email(channel_server, **{"from": f"Ann Lee <{address}>"}, to=SUPPORT,
                        subject="Re: Delivery time", text=reply_text, message_id=second_id,
                        in_reply_to=answer["Message-ID"], references=f"{first_id} {answer['Message-ID']}")
    assert second.json()["conversation_id"] == first.json()["conversation_id"]

    follow_up = mailbox.wait_for(lambda m: to(address)(m) and m["In-Reply-To"] == second_id)
    assert follow_up["Subject"] == "Re: Delivery time"
    assert follow_up["References"].split() == [first_id, answer["Message-ID"], second_id]
    assert "original payment method" in follow_up.get_content()

    operator = channel_server.new_operator()
    detail = operator_get(channel_server, operator["token"],
                          f"/api/operator/conversations/{first.json()['conversation_id']}")
    visitor = [m["text"] for m in detail["messages"] if m["role"] == "visitor"]
    assert visitor == ["Hi,\nhow long does shipping take?\n\nThanks, Ann",
                       "Great, and can I get my money back if it is late?"]
    assert detail["contact"]["email"] == address and detail["contact"]["name"] == "Ann Lee"
    assert detail["conversation"]["subject"] == "Delivery time"


def test_email_webhook_refusals(channel_server: Server) -> None:
    mail = {"from": new_address(), "text": "hello", "message_id": f"<{uuid.uuid4().hex}@x>"}
    with channel_server.http() as client:
        no_token = client.post("/webhooks/email", json=mail)
        bad_token = client.post("/webhooks/email?token=guess", json=mail)
    assert no_token.status_code == 403 and bad_token.status_code == 403
    missing = post_email(channel_server, **{"from": new_address(), "text": "hello"})
    assert missing.status_code == 422
    assert any(error["loc"][-1] == "message_id" for error in missing.json()["detail"])
    empty = post_email(channel_server, **{"from": new_address(), "message_id": "<1@x>", "text": " "})
    assert empty.status_code == 422 and "text" in empty.json()["detail"][0]["msg"]


@pytest.mark.parametrize(("text", "expected"), [
    ("Yes please.\n\nOn Mon, 23 Nov 2026, 09:12 Support <help@shop.example> wrote:\n> Shall I?\n",
     "Yes please."),
    ("Merci !\n\nLe lun. 23 nov. 2026 à 09:12, Support <help@shop.example> a écrit :\n> Bonjour\n",
     "Merci !"),
    ("Danke\n\nAm Mo., 23. Nov. 2026 um 09:12 Uhr schrieb Support <help@shop.example>:\n> Hallo\n",
     "Danke"),
    ("Order 1234 please\n\n-----Original Message-----\nFrom: Support\nSent: Monday\n\nold text",
     "Order 1234 please"),
    ("see below\n\n________________________________\nFrom: Support <help@shop.example>\nSent: Monday\n",
     "see below"),
    ("fine\n\nFrom: Support <help@shop.example>\nSent: Monday, 23 November 2026 09:12\nTo: Ann\n\nold",
     "fine"),
    ("thx\n\nSent from my iPhone", "thx"),
    ("Answer inline\n> quoted question\nmy answer\n-- \nAnn Lee\nACME Corp", "Answer inline\nmy answer"),
    ("On the invoice I see two charges. Can you check?", "On the invoice I see two charges. Can you check?"),
])
def test_quoted_text_is_stripped(text: str, expected: str) -> None:
    assert strip_quoted(text) == expected


def test_html_mail_without_text_part() -> None:
    html = ('<div dir="ltr">Where is my <b>order</b>?<br>It is late.</div><br>'
            '<div class="gmail_quote"><div>On Mon, Support wrote:</div>'
            '<blockquote>old<div>x</div></blockquote></div>')
    assert html_to_text(html) == "Where is my order?\nIt is late."
    incoming = parse(InboundEmail.model_validate({"from": "Bo <BO@Example.com>", "html": html,
                                                   "message_id": "<m1@example.com>", "in_reply_to": "<a@s>",
                                                   "references": "<r1@s> <a@s>"}))
    assert incoming.external_id == "bo@example.com" and incoming.name == "Bo"
    assert incoming.thread == ("<a@s>", "<a@s>", "<r1@s>")




def test_out_of_office_replies_are_not_answered(channel_server: Server, mailbox: Mailbox) -> None:
    address = new_address()
    response = post_email(channel_server, **{"from": address}, subject="Automatic reply: Delivery time",
                          text="I am out of the office until Monday.", message_id=f"<{uuid.uuid4().hex}@x>",
                          headers={"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"})
    assert response.status_code == 200
    assert "Auto-Submitted: auto-replied" in response.json()["ignored"]
    with pytest.raises(AssertionError, match="no such email"):
        mailbox.wait_for(to(address), timeout=1.5)


@pytest.mark.parametrize(("sender", "headers", "reason"), [
    ("ann@x.com", {}, None),
    ("ann@x.com", {"Auto-Submitted": "No"}, None),
    ("ann@x.com", {"auto-submitted": "auto-generated"}, "Auto-Submitted: auto-generated"),
    ("ann@x.com", {"Precedence": "bulk"}, "Precedence: bulk"),
    ("ann@x.com", {"X-Autoreply": "yes"}, "x-autoreply header"),
    ("MAILER-DAEMON@mx.example", {}, "sent from mailer-daemon"),
])
def test_automatic_mail_is_recognised(sender: str, headers: dict[str, str], reason: str | None) -> None:
    mail = InboundEmail.model_validate({"from": sender, "text": "x", "message_id": "<1@x>",
                                        "headers": headers})
    assert automatic(mail) == reason
