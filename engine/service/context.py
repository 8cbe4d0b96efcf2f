"""The contact's context beside the conversation an operator has open: who they are on each
channel, and their previous conversations on every channel.

The same person often arrives as several contacts (the widget with an email, later an SMS from a
phone). Only what proves it joins them into one contact: an identity a channel reported or the
visitor confirmed with a code links automatically, and an operator merges the rest
(`merges.py`). The history shown as the customer's is therefore that one contact's own
conversations: an email or a phone a visitor merely typed proves nothing, and showing the
conversations of whoever owns that address would hand an impostor's operator someone else's history.
Contacts that share a typed email or phone are offered as merge suggestions instead
(`related_contacts`, read by `timeline.py`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_
from sqlmodel import Session, SQLModel, col, select

from engine.models import (
    Channel,
    Contact,
    ContactIdentity,
    ContactPublic,
    Conversation,
    HandoffEvent,
    Message,
    Role,
    State,
    Visibility,
)
from engine.service.errors import NotFound

HISTORY_LIMIT = 50


class IdentityPublic(SQLModel):
    contact_id: int
    channel: str
    external_id: str


class PastConversation(SQLModel):
    id: int
    contact_id: int
    channel: str
    state: State
    subject: str | None
    tags: list[str]
    created_at: datetime
    resolved_at: datetime | None
    csat_score: int | None
    messages: int
    summary: str | None  # the handoff packet's summary, else the visitor's first words


class ContactContext(SQLModel):
    contact: ContactPublic
    identities: list[IdentityPublic]
    conversations: list[PastConversation]  # newest first, the current one excluded


def _keys(contact: Contact, identities: list[ContactIdentity]) -> tuple[set[str], set[str]]:
    """Email addresses and phone numbers that name this person."""
    emails = {contact.email.lower()} if contact.email else set()
    phones = {contact.phone} if contact.phone else set()
    for identity in identities:
        if identity.channel == Channel.email:
            emails.add(identity.external_id.lower())
        elif identity.channel == Channel.sms:
            phones.add(identity.external_id)
    return emails, phones


def related_contacts(session: Session, contact: Contact) -> set[int]:
    """The contact and every contact that shares an email, a phone or a channel identity with it,
    typed details included: candidates for an operator to merge, never history by themselves."""
    own = list(session.exec(select(ContactIdentity).where(ContactIdentity.contact_id == contact.id)).all())
    emails, phones = _keys(contact, own)
    related = {contact.id}
    if emails or phones:
        related |= set(session.exec(select(Contact.id).where(or_(
            func.lower(Contact.email).in_(emails), col(Contact.phone).in_(phones)))).all())
    channel, external = ContactIdentity.channel, col(ContactIdentity.external_id)
    matches = [(channel == Channel.email) & func.lower(external).in_(emails),
               (channel == Channel.sms) & external.in_(phones)]
    matches += [(channel == i.channel) & (external == i.external_id) for i in own]
    related |= set(session.exec(select(ContactIdentity.contact_id).where(or_(*matches))).all())
    return related


def _summary(session: Session, conversation_id: int) -> str | None:
    event = session.exec(select(HandoffEvent).where(HandoffEvent.conversation_id == conversation_id,
                                                    col(HandoffEvent.packet).is_not(None))
                         .order_by(col(HandoffEvent.id).desc())).first()
    if event and event.packet and event.packet.get("summary"):
        return str(event.packet["summary"])
    first = session.exec(select(Message.text).where(Message.conversation_id == conversation_id,
                                                    Message.role == Role.visitor,
                                                    Message.visibility == Visibility.public)
                         .order_by(col(Message.seq))).first()
    return first[:200] if first else None


def contact_context(session: Session, conversation_id: int) -> ContactContext:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    contact = session.get(Contact, conversation.contact_id)
    identities = session.exec(select(ContactIdentity).where(ContactIdentity.contact_id == contact.id)
                              .order_by(col(ContactIdentity.id))).all()
    counts = dict(session.exec(select(Message.conversation_id, func.count()).join(
        Conversation, Conversation.id == Message.conversation_id).where(
        Conversation.contact_id == contact.id).group_by(Message.conversation_id)).all())
    others = session.exec(select(Conversation).where(Conversation.contact_id == contact.id,
                                                     Conversation.id != conversation_id)
                          .order_by(col(Conversation.created_at).desc(), col(Conversation.id).desc())
                          .limit(HISTORY_LIMIT)).all()
    return ContactContext(
        contact=ContactPublic.model_validate(contact, from_attributes=True),
        identities=[IdentityPublic(contact_id=i.contact_id, channel=i.channel, external_id=i.external_id)
                    for i in identities],
        conversations=[PastConversation(
            id=c.id, contact_id=c.contact_id, channel=c.channel, state=c.state, subject=c.subject,
            tags=c.tags, created_at=c.created_at, resolved_at=c.resolved_at, csat_score=c.csat_score,
            messages=counts.get(c.id, 0), summary=_summary(session, c.id)) for c in others],
    )
