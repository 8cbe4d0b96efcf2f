"""Merging and unmerging contacts through the real service on SQLite: what moves, what an unmerge
restores exactly, the refusals (409) that keep history consistent, and the one automatic merge (a
visitor confirming an address another contact writes from). The same paths run on PostgreSQL and a
real server in ``tests/engine/channels/test_one_thread.py``."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlmodel import select

from engine.channels import IncomingMessage, receive_incoming
from engine.models import (
    AuditEntry,
    Channel,
    Contact,
    ContactIdentity,
    ContactMerge,
    Conversation,
    OperatorCreate,
)
from engine.service import confirmation, conversations, merges, timeline
from engine.service.errors import Conflict, Invalid, NotFound
from engine.service.operators import create_operator
from engine.service.runtime import ServiceContext


def text(phone: str, body: str, sid: str) -> IncomingMessage:
    return IncomingMessage(channel=Channel.sms, external_id=phone, text=body, client_id=sid, phone=phone,
                           local="+15550000000")


async def operator(ctx: ServiceContext) -> int:
    def work(session: Any, _outbox: Any) -> int:
        return create_operator(session, OperatorCreate(email="merger@example.com", name="Mo",
                                                       password="correct-horse")).id
    return await ctx.act(work)


def snapshot(session: Any, *contact_ids: int) -> dict[str, Any]:
    """Everything a merge may touch, as plain values."""
    contacts = {c.id: (c.name, c.email, c.phone, c.vip, c.region, c.value)
                for c in session.exec(select(Contact).where(Contact.id.in_(contact_ids)))}
    owned = {c.id: c.contact_id for c in session.exec(select(Conversation))}
    identities = {i.id: (i.contact_id, i.channel, i.external_id)
                  for i in session.exec(select(ContactIdentity))}
    return {"contacts": contacts, "conversations": owned, "identities": identities}


@pytest.mark.anyio
async def test_a_merge_moves_everything_and_an_unmerge_restores_it_exactly(ctx: ServiceContext) -> None:
    actor = await operator(ctx)
    web, _token = await conversations.start(ctx, name="Dana")
    sms = await receive_incoming(ctx, text("+14155552671", "where is my parcel", "SM-m1"))
    await ctx.act(lambda s, _o: setattr(s.get(Contact, sms.contact_id), "vip", True))
    before = await ctx.read(snapshot, web.contact_id, sms.contact_id)

    merged = await merges.merge(ctx, web.contact_id, sms.contact_id, actor, "same parcel number")
    assert merged.moved["conversations"] == [sms.conversation_id]
    assert merged.moved["filled"] == {"phone": [None, "+14155552671"], "vip": [False, True]}
    view = await ctx.read(timeline.timeline, web.contact_id)
    assert {c.id for c in view.conversations} == {web.id, sms.conversation_id}
    assert [(i.channel, i.external_id) for i in view.identities] == [("sms", "+14155552671")]
    assert view.contact.vip and view.contact.phone == "+14155552671"
    assert [e.channel for e in view.entries if e.message.role == "visitor"] == ["sms"]
    source = await ctx.read(timeline.timeline, sms.contact_id)
    assert source.merged_into == web.contact_id and source.conversations == []
    # a later text from the number reaches the kept contact
    again = await receive_incoming(ctx, text("+14155552671", "any news?", "SM-m2"))
    assert again.contact_id == web.contact_id

    undone = await merges.unmerge(ctx, merged.id, actor, "two people after all")
    assert undone.undone_by == actor and undone.undone_at is not None
    assert await ctx.read(snapshot, web.contact_id, sms.contact_id) == before
    audit = await ctx.read(lambda s: [(a.action, a.target) for a in s.exec(select(AuditEntry))])
    assert audit == [("contact.merged", f"contact:{web.contact_id}"),
                     ("contact.unmerged", f"contact:{web.contact_id}")]
    with pytest.raises(Conflict, match="already undone"):
        await merges.unmerge(ctx, merged.id, actor)


@pytest.mark.anyio
async def test_refusals_keep_the_history_consistent(ctx: ServiceContext) -> None:
    actor = await operator(ctx)
    a = (await receive_incoming(ctx, text("+14155550101", "a", "SM-r1"))).contact_id
    b = (await receive_incoming(ctx, text("+14155550102", "b", "SM-r2"))).contact_id
    c = (await receive_incoming(ctx, text("+14155550103", "c", "SM-r3"))).contact_id
    with pytest.raises(Invalid, match="into itself"):
        await merges.merge(ctx, a, a, actor)
    with pytest.raises(NotFound, match="contact 999999"):
        await merges.merge(ctx, a, 999999, actor)
    first = await merges.merge(ctx, a, b, actor)
    with pytest.raises(Conflict, match=f"contact {b} was merged into contact {a}"):
        await merges.merge(ctx, c, b, actor)
    later = await merges.merge(ctx, c, a, actor)  # a (holding b's) goes into c
    with pytest.raises(Conflict, match=f"merge {later.id}"):
        await merges.unmerge(ctx, first.id, actor)  # b's rows sit with c now: that merge first
    await merges.unmerge(ctx, later.id, actor)
    await merges.unmerge(ctx, first.id, actor)
    owners = await ctx.read(lambda s: sorted(i.contact_id for i in s.exec(select(ContactIdentity).where(
        ContactIdentity.contact_id.in_((a, b, c))))))
    assert owners == sorted((a, b, c))


@pytest.mark.anyio
async def test_confirming_an_address_another_contact_writes_from_merges_them(ctx: ServiceContext) -> None:
    mail = IncomingMessage(channel=Channel.email, external_id="eve@example.com", text="refund?",
                           client_id="<e1@x>", email="eve@example.com", name="Eve")
    first = await receive_incoming(ctx, mail)
    web, _token = await conversations.start(ctx, name="Eve", email="eve@example.com")
    assert web.contact_id != first.contact_id  # typed: nothing joined yet
    codes: list[str] = []

    async def mailer(_to: str, _subject: str, body: str) -> str:
        codes.append(re.search(r"\b(\d{6})\b", body).group(1))
        return "<c@x>"

    await confirmation.request(ctx, web.id, Channel.email, "eve@example.com", mailer)
    await confirmation.confirm(ctx, web.id, Channel.email, codes[0])
    moved = await ctx.read(lambda s: s.get(Conversation, web.id).contact_id)
    assert moved == first.contact_id  # proved: the chat joins the customer who writes from it
    [row] = await ctx.read(lambda s: list(s.exec(select(ContactMerge))))
    assert row.actor_id is None and "confirmed eve@example.com" in row.reason
    verified = await ctx.read(lambda s: s.exec(select(ContactIdentity).where(
        ContactIdentity.external_id == "eve@example.com")).one().verified_at)
    assert verified is not None
    actor = await operator(ctx)
    await merges.unmerge(ctx, row.id, actor, "a shared family mailbox")
    assert await ctx.read(lambda s: s.get(Conversation, web.id).contact_id) == web.contact_id
