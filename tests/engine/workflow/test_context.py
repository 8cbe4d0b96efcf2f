"""The contact's previous conversations on every channel: its own, once proven identities or an
operator's merge made the channels one contact; a typed email or phone shows nobody else's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from engine.models import Contact, ContactIdentity, Conversation, HandoffEvent, Message
from engine.service.context import contact_context
from engine.service.merges import merge_in_session
from engine.service.runtime import ServiceContext

pytestmark = pytest.mark.anyio
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def conversation(session: Session, contact: Contact, channel: str, days: int, text: str) -> Conversation:
    row = Conversation(contact_id=contact.id, channel=channel, token_hash=f"{contact.id}-{days}-{channel}",
                       created_at=T0 + timedelta(days=days), state="resolved", csat_score=4)
    session.add(row)
    session.flush()
    session.add(Message(conversation_id=row.id, seq=1, role="visitor", text=text))
    session.add(Message(conversation_id=row.id, seq=2, role="operator", visibility="internal", text="note"))
    return row


async def test_history_spans_every_channel_once_the_contacts_are_one(ctx: ServiceContext) -> None:
    def seed(session: Session, _outbox: object) -> dict[str, int]:
        web = Contact(name="Ann", email="ann@example.com", phone="+15550001")
        by_email = Contact(name="A. Lee")
        by_sms = Contact()
        stranger = Contact(name="Bob", email="bob@example.com")
        session.add_all([web, by_email, by_sms, stranger])
        session.flush()
        session.add_all([
            ContactIdentity(contact_id=by_email.id, channel="email", external_id="Ann@Example.com"),
            ContactIdentity(contact_id=by_sms.id, channel="sms", external_id="+15550001"),
            ContactIdentity(contact_id=stranger.id, channel="sms", external_id="+15559999")])
        old_web = conversation(session, web, "web", 1, "password reset please")
        mail = conversation(session, by_email, "email", 2, "invoice question")
        sms = conversation(session, by_sms, "sms", 3, "where is my parcel")
        conversation(session, stranger, "sms", 4, "not Ann")
        session.add(HandoffEvent(conversation_id=sms.id, action="escalate",
                                 packet={"summary": "late parcel"}))
        current = conversation(session, web, "web", 5, "hello again")
        return {"current": current.id, "old_web": old_web.id, "mail": mail.id, "sms": sms.id, "web": web.id,
                "by_email": by_email.id, "by_sms": by_sms.id}

    ids = await ctx.act(seed)
    # Ann's typed email and phone match the email and SMS contacts, but prove nothing: whoever typed
    # them sees only their own past conversation, not the history of the address's owner
    found = await ctx.read(contact_context, ids["current"])
    assert [c.id for c in found.conversations] == [ids["old_web"]]
    assert found.identities == []

    def join(session: Session, outbox: object) -> None:
        for source in (ids["by_email"], ids["by_sms"]):
            merge_in_session(session, outbox, ids["web"], source, None, "same customer")  # type: ignore[arg-type]

    await ctx.act(join)
    found = await ctx.read(contact_context, ids["current"])
    assert [c.id for c in found.conversations] == [ids["sms"], ids["mail"], ids["old_web"]]
    assert [c.channel for c in found.conversations] == ["sms", "email", "web"]
    assert found.conversations[0].summary == "late parcel"
    assert found.conversations[1].summary == "invoice question"
    assert found.conversations[0].messages == 2
    assert sorted((i.channel, i.external_id) for i in found.identities) == [
        ("email", "Ann@Example.com"), ("sms", "+15550001")]
