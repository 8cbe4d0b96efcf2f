"""The inbox through the real service on SQLite: contacts found by identity (never by an address a
visitor only typed), phones in E.164; conversations continued, reopened or started afresh;
redeliveries stored once. And, against a real server, one person reaching us by SMS and by email
with both conversations in their history once an operator merged them."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from engine.channels import IncomingMessage, receive_incoming
from engine.channels.inbox import rating
from engine.db import make_engine
from engine.models import Channel, Contact, ContactIdentity, Conversation, Message, State, utcnow
from engine.service import confirmation, conversations, workflow
from engine.service.runtime import ServiceContext
from tests.engine.channels.conftest import (
    Mailbox,
    new_phone,
    operator_get,
    operator_post,
    post_email,
    post_sms,
)
from tests.engine.channels.test_sms import conversation_of
from tests.engine.conftest import Server


def sms(phone: str, text: str, sid: str, **fields: Any) -> IncomingMessage:
    return IncomingMessage(channel=Channel.sms, external_id=phone, text=text, client_id=sid, phone=phone,
                           local="+15550000000", **fields)


@pytest.mark.anyio
async def test_a_recent_conversation_reopens_an_old_one_does_not(ctx: ServiceContext) -> None:
    phone = new_phone()
    first = await receive_incoming(ctx, sms(phone, "where is my parcel", "SM1"))
    again = await receive_incoming(ctx, sms(phone, "hello?", "SM2"))
    assert again.conversation_id == first.conversation_id and again.contact_id == first.contact_id

    await conversations.resolve(ctx, first.conversation_id, actor="system")
    reopened = await receive_incoming(ctx, sms(phone, "one more thing", "SM3"))
    assert reopened.conversation_id == first.conversation_id
    state = await ctx.read(lambda s: s.get(Conversation, first.conversation_id).state)
    assert state == State.bot

    await conversations.resolve(ctx, first.conversation_id, actor="system")
    hours = ctx.settings.channel_reopen_hours

    def age(session: Any, _outbox: Any) -> None:
        row = session.get(Conversation, first.conversation_id)
        row.resolved_at = utcnow() - timedelta(hours=hours + 1)
        session.add(row)

    await ctx.act(age)
    fresh = await receive_incoming(ctx, sms(phone, "new problem", "SM4"))
    assert fresh.conversation_id != first.conversation_id and fresh.contact_id == first.contact_id


@pytest.mark.anyio
async def test_a_score_after_resolution_is_the_rating_not_a_new_question(ctx: ServiceContext) -> None:
    phone = new_phone()
    first = await receive_incoming(ctx, sms(phone, "where is my parcel", "SM-R1"))
    await conversations.resolve(ctx, first.conversation_id, actor="system")  # asks "Rate us from 1 to 5"
    for _ in range(2):  # the provider may deliver it twice
        rated = await receive_incoming(ctx, sms(phone, "4/5", "SM-R2"))
        assert rated.rated == 4 and rated.accepted is None and rated.conversation_id == first.conversation_id
    conversation = await ctx.read(lambda s: s.get(Conversation, first.conversation_id))
    assert conversation.state == State.resolved and conversation.csat_score == 4
    visitor = await ctx.read(lambda s: s.exec(select(Message.text).where(
        Message.conversation_id == first.conversation_id, Message.role == "visitor")).all())
    assert visitor == ["where is my parcel"]
    later = await receive_incoming(ctx, sms(phone, "5 more questions though", "SM-R3"))
    assert later.accepted is not None and later.conversation_id == first.conversation_id  # reopened


@pytest.mark.parametrize(("text", "score"), [("5", 5), (" 4/5 ", 4), ("3 stars", 3), ("1!", 1), ("2 *", 2),
                                             ("6", None), ("5 more questions", None), ("", None)])
def test_rating(text: str, score: int | None) -> None:
    assert rating(text) == score


@pytest.mark.anyio
async def test_redelivery_is_stored_once_even_after_the_conversation_moved_on(ctx: ServiceContext) -> None:
    phone = new_phone()
    first = await receive_incoming(ctx, sms(phone, "refund please", "SM-A"))
    await conversations.resolve(ctx, first.conversation_id, actor="system")
    redelivered = await receive_incoming(ctx, sms(phone, "refund please", "SM-A"))
    assert redelivered.accepted.duplicate
    assert redelivered.accepted.message.id == first.accepted.message.id
    count = await ctx.read(lambda s: len(s.exec(select(Message).where(Message.role == "visitor")).all()))
    assert count == 1


@pytest.mark.anyio
async def test_simultaneous_first_messages_make_one_contact_and_one_conversation(ctx: ServiceContext) -> None:
    phone = new_phone()
    results = await asyncio.gather(*(receive_incoming(ctx, sms(phone, f"part {i}", f"SM-{i}"))
                                     for i in range(4)))
    assert len({r.conversation_id for r in results}) == 1
    contacts = await ctx.read(lambda s: s.exec(select(ContactIdentity).where(
        ContactIdentity.external_id == phone)).all())
    assert len(contacts) == 1


@pytest.mark.anyio
async def test_an_email_a_visitor_only_typed_never_links_their_mail(ctx: ServiceContext) -> None:
    """Anyone can type any address into the widget: the mail of its owner must not join the typist's
    contact (nor, with one thread per customer, show up in the typist's chat)."""
    web, _token = await conversations.start(ctx, name="Ann", email="Ann@Example.com")
    incoming = IncomingMessage(channel=Channel.email, external_id="ann@example.com", text="hi",
                               client_id="<1@x>", email="ann@example.com", name="Ann Lee")
    inbound = await receive_incoming(ctx, incoming)
    assert inbound.contact_id != web.contact_id
    assert inbound.conversation_id != web.id
    typist = await ctx.read(lambda s: s.get(Contact, web.contact_id))
    assert typist.name == "Ann" and typist.email == "ann@example.com"  # a contact detail, nothing more


@pytest.mark.anyio
async def test_mail_from_a_verified_address_joins_that_contacts_thread(ctx: ServiceContext) -> None:
    web, _token = await conversations.start(ctx, name="Ann")
    sent: list[str] = []

    async def mailer(_to: str, _subject: str, text: str) -> str:
        sent.append(text)
        return "<code@x>"

    await confirmation.request(ctx, web.id, Channel.email, "ann@example.com", mailer)
    code = re.search(r"\b(\d{6})\b", sent[0]).group(1)
    await confirmation.confirm(ctx, web.id, Channel.email, code)
    await workflow.take(ctx, web.id, "hello from the widget", "w-1")

    incoming = IncomingMessage(channel=Channel.email, external_id="Ann@Example.com", text="my order?",
                               client_id="<2@x>", email="ann@example.com", name="Ann Lee")
    inbound = await receive_incoming(ctx, incoming)
    assert inbound.contact_id == web.contact_id
    assert inbound.conversation_id == web.id  # one thread: the chat she was in a moment ago continues
    contact = await ctx.read(lambda s: s.get(Contact, web.contact_id))
    assert contact.name == "Ann"  # what the contact already said stays


@pytest.mark.anyio
async def test_one_phone_number_written_two_ways_is_one_identity(ctx: ServiceContext) -> None:
    first = await receive_incoming(ctx, sms("+14155552671", "hi", "SM-e164-1"))
    again = await receive_incoming(ctx, sms("+1 (415) 555-2671", "me again", "SM-e164-2"))
    assert again.contact_id == first.contact_id and again.conversation_id == first.conversation_id
    stored = await ctx.read(lambda s: s.exec(select(ContactIdentity.external_id).where(
        ContactIdentity.contact_id == first.contact_id)).all())
    assert stored == ["+14155552671"]


@pytest.mark.anyio
async def test_empty_and_oversized_texts(ctx: ServiceContext) -> None:
    from knowledge.errors import InputError

    with pytest.raises(InputError, match="no text"):
        await receive_incoming(ctx, sms(new_phone(), "   ", "SM-empty"))
    long = await receive_incoming(ctx, sms(new_phone(), "x" * 5000, "SM-long"))
    assert len(long.accepted.message.text) == ctx.settings.max_message_chars
    assert long.accepted.message.text.endswith("longer than this inbox keeps]")


def test_sms_and_email_of_one_person_share_a_history_once_merged(channel_server: Server,
                                                                  mailbox: Mailbox) -> None:
    phone, address = new_phone(), f"cy.{new_phone()[5:]}@customer.example"
    assert post_sms(channel_server, phone, "when will my order arrive").status_code == 200
    sms_conversation = conversation_of(channel_server, phone)
    engine = make_engine(channel_server.settings.database_url)
    try:
        with Session(engine) as session:  # the contact's email, as an operator's edit or a CRM import sets it
            contact = session.get(Contact, session.get(Conversation, sms_conversation).contact_id)
            contact.email = address
            session.add(contact)
            session.commit()
            contact_id = contact.id
    finally:
        engine.dispose()

    response = post_email(channel_server, **{"from": f"Cy <{address}>"}, subject="My order", text="Any news?",
                          message_id=f"<{new_phone()}@customer.example>")
    assert response.status_code == 200
    email_conversation = response.json()["conversation_id"]
    assert email_conversation != sms_conversation

    operator = channel_server.new_operator()
    path = f"/api/operator/conversations/{email_conversation}"
    mail_contact = operator_get(channel_server, operator["token"], path)["contact"]["id"]
    assert mail_contact != contact_id  # an address on a contact proves nothing: no automatic link
    timeline = operator_get(channel_server, operator["token"],
                            f"/api/operator/contacts/{contact_id}/timeline")
    assert [s["id"] for s in timeline["suggestions"]] == [mail_contact]  # offered to merge instead
    operator_post(channel_server, operator["token"], f"/api/operator/contacts/{contact_id}/merge",
                  {"source_id": mail_contact, "reason": "same customer: the order number matches"})

    detail = operator_get(channel_server, operator["token"], path)
    assert detail["contact"]["id"] == contact_id and detail["contact"]["phone"] == phone
    assert [(c["id"], c["channel"]) for c in detail["history"]] == [(sms_conversation, "sms")]
    context = operator_get(channel_server, operator["token"], f"{path}/context")
    assert {(i["channel"], i["external_id"]) for i in context["identities"]} == {("sms", phone),
                                                                                  ("email", address)}
