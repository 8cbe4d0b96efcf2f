"""One customer, one timeline: every message of every conversation of a contact, across channels
and time, with the channel each came or left on; the contact's identities, merge history and the
contacts that may be the same person (for an operator to merge); and the channels a reply in one
conversation can leave on. Read-only views for the console (``GET /api/operator/contacts/...``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_
from sqlmodel import Session, SQLModel, col, select

from engine.models import (
    ChannelDelivery,
    Contact,
    ContactIdentity,
    ContactMergePublic,
    ContactPublic,
    Conversation,
    Direction,
    Message,
    MessagePublic,
    State,
)
from engine.service import merges, reply_routes
from engine.service.channel_rules import WEB, choose_route
from engine.service.context import related_contacts
from engine.service.errors import NotFound

TIMELINE_LIMIT = 500
SEARCH_LIMIT = 20


class IdentityView(SQLModel):
    id: int
    channel: str
    external_id: str
    verified_at: datetime | None  # proved by the visitor; None: reported by the channel


class ConversationBrief(SQLModel):
    id: int
    channel: str
    state: State
    assignee_id: int | None
    subject: str | None
    created_at: datetime


class TimelineEntry(SQLModel):
    conversation_id: int
    channel: str  # how it came in or left: web, sms, email, messenger, instagram
    delivery_status: str | None = None  # an outgoing message on an outside channel: pending, sent, failed
    to: str | None = None  # that message's address
    message: MessagePublic


class ContactCard(SQLModel):
    """A contact as the merge picker lists it."""

    id: int
    name: str | None
    email: str | None
    phone: str | None
    identities: list[IdentityView]
    conversations: int
    merged_into: int | None  # the contact this one was merged into (it holds nothing now)


class Timeline(SQLModel):
    contact: ContactPublic
    merged_into: int | None
    identities: list[IdentityView]
    conversations: list[ConversationBrief]  # oldest first
    entries: list[TimelineEntry]  # oldest first; the latest TIMELINE_LIMIT messages
    merges: list[ContactMergePublic]  # newest first, undone ones included
    suggestions: list[ContactCard]  # other contacts sharing an email or a phone: merge candidates


class RouteView(SQLModel):
    channel: str
    to: str | None
    reason: str = ""


class RouteOptions(SQLModel):
    """Where a reply in this conversation leaves by default, and what the operator may choose."""

    default: RouteView
    options: list[RouteView]


def _identities(session: Session, contact_id: int) -> list[IdentityView]:
    rows = session.exec(select(ContactIdentity).where(ContactIdentity.contact_id == contact_id)
                        .order_by(col(ContactIdentity.id))).all()
    return [IdentityView(id=i.id, channel=i.channel, external_id=i.external_id, verified_at=i.verified_at)
            for i in rows]


def card(session: Session, contact: Contact) -> ContactCard:
    count = len(session.exec(select(Conversation.id).where(Conversation.contact_id == contact.id)).all())
    away = merges.merged_into(session, contact.id)
    return ContactCard(id=contact.id, name=contact.name, email=contact.email, phone=contact.phone,
                       identities=_identities(session, contact.id), conversations=count,
                       merged_into=away.target_id if away else None)


def timeline(session: Session, contact_id: int, limit: int = TIMELINE_LIMIT) -> Timeline:
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"contact {contact_id} does not exist")
    conversations = session.exec(select(Conversation).where(Conversation.contact_id == contact_id)
                                 .order_by(col(Conversation.created_at), col(Conversation.id))).all()
    by_id = {c.id: c for c in conversations}
    messages = list(session.exec(select(Message).where(col(Message.conversation_id).in_(list(by_id)))
                                 .order_by(col(Message.created_at).desc(), col(Message.id).desc())
                                 .limit(limit)).all()) if by_id else []
    messages.reverse()
    deliveries = {d.message_id: d for d in session.exec(select(ChannelDelivery).where(
        col(ChannelDelivery.message_id).in_([m.id for m in messages])))} if messages else {}
    entries = []
    for message in messages:
        row = deliveries.get(message.id)
        outgoing = row is not None and row.direction == Direction.outbound
        entries.append(TimelineEntry(
            conversation_id=message.conversation_id,
            channel=row.channel if row else by_id[message.conversation_id].channel,
            delivery_status=row.status if outgoing else None, to=row.remote if outgoing else None,
            message=MessagePublic.model_validate(message, from_attributes=True)))
    related = related_contacts(session, contact) - {contact_id}
    suggestions = [card(session, c) for c in session.exec(select(Contact).where(
        col(Contact.id).in_(related)).order_by(col(Contact.id))).all()] if related else []
    away = merges.merged_into(session, contact_id)
    return Timeline(
        contact=ContactPublic.model_validate(contact, from_attributes=True),
        merged_into=away.target_id if away else None, identities=_identities(session, contact_id),
        conversations=[ConversationBrief(id=c.id, channel=c.channel, state=c.state, assignee_id=c.assignee_id,
                                         subject=c.subject, created_at=c.created_at) for c in conversations],
        entries=entries, merges=merges.history(session, contact_id),
        suggestions=[s for s in suggestions if s.merged_into is None])


def search(session: Session, q: str) -> list[ContactCard]:
    """Contacts by id, or by a part of their name, email or phone, or of one of their identities
    (the merge picker)."""
    text = q.strip()
    if not text:
        return []
    pattern = f"%{text.lower()}%"
    found: list[int] = []
    if text.isdigit() and len(text) < 10 and session.get(Contact, int(text)) is not None:
        found.append(int(text))
    found += session.exec(select(Contact.id).where(or_(
        func.lower(Contact.name).like(pattern), func.lower(Contact.email).like(pattern),
        col(Contact.phone).like(pattern))).order_by(col(Contact.id).desc()).limit(SEARCH_LIMIT)).all()
    found += session.exec(select(ContactIdentity.contact_id).where(
        func.lower(ContactIdentity.external_id).like(pattern)).limit(SEARCH_LIMIT)).all()
    ids = list(dict.fromkeys(found))[:SEARCH_LIMIT]
    contacts = {c.id: c for c in session.exec(select(Contact).where(col(Contact.id).in_(ids))).all()}
    return [card(session, contacts[i]) for i in ids if i in contacts]


def route_options(session: Session, conversation_id: int, grace_seconds: float) -> RouteOptions:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    facts = reply_routes.facts(session, conversation, by_person=True, grace_seconds=grace_seconds)
    default = choose_route(facts, by_person=True)
    options = [RouteView(channel=WEB, to=None)] if conversation.channel == WEB else []
    options += [RouteView(channel=a.channel, to=a.to) for a in facts.addresses.values()]
    return RouteOptions(default=RouteView(channel=default.channel, to=default.to, reason=default.reason),
                        options=options)
