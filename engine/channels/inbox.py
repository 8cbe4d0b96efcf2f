"""Where SMS, email and Messenger messages join the widget's path: find the contact by the channel's
name for them, pick the conversation to continue, then store the message through the conversation
service's visitor turn (``workflow.take``; the webhook then runs ``workflow.answer_later``).

One contact may have several identities (a phone, an email address, a Messenger id); an email
from the address a contact already gave, or a text from their phone, reaches that same contact.
A conversation continues (reopening it if it was resolved) unless it was resolved more than
``channel_reopen_hours`` ago; then a new one starts. Everything for one sender happens under one
lock (``engine.service.locks``), so two texts arriving together never open two conversations.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from engine.channels.base import IncomingMessage, client_id_for
from engine.channels.records import ChannelDelivery, DeliveryStatus, Direction
from engine.models import Contact, ContactIdentity, Conversation, Message, State, utcnow
from engine.service import conversations, workflow
from engine.service.conversations import Accepted
from engine.service.locks import exclusive
from engine.service.runtime import Outbox, ServiceContext
from knowledge.errors import InputError

log = logging.getLogger(__name__)

PROVIDER_ID_LIMIT = 512  # ChannelDelivery.provider_id's width
TRUNCATED = "\n[message shortened: the rest was longer than this inbox keeps]"


@dataclass
class Inbound:
    """A stored channel message (``accepted.duplicate`` when the provider sent it before), or the
    rating a visitor gave a resolved conversation (``rated``; no message is stored then)."""

    accepted: Accepted | None
    conversation_id: int
    contact_id: int
    rated: int | None = None

    @property
    def new(self) -> bool:
        """A message the bot has yet to answer."""
        return self.accepted is not None and not self.accepted.duplicate


async def receive_incoming(ctx: ServiceContext, incoming: IncomingMessage) -> Inbound:
    """Store ``incoming`` once, in the conversation it belongs to. The caller acknowledges the
    provider as soon as this returns and runs the bot's turn after (``workflow.answer_later``). A
    bare score sent to a resolved conversation answers its "Rate us from 1 to 5" and does not reopen
    it."""
    text = fit(incoming.text, ctx.settings.max_message_chars)
    async with exclusive(ctx, f"inbox:{incoming.channel.value}:{incoming.external_id}"):
        seen = await ctx.read(received_before, incoming)
        if seen is not None:
            conversation = await ctx.read(lambda s: s.get(Conversation, seen.conversation_id))
            return Inbound(Accepted(seen, duplicate=True), seen.conversation_id, conversation.contact_id)
        contact_id = await ctx.act(ensure_contact, incoming)
        window = timedelta(hours=ctx.settings.channel_reopen_hours)
        conversation_id = await ctx.read(conversation_to_continue, contact_id, incoming, window)
        score = rating(text)
        if conversation_id is not None and score is not None \
                and await ctx.read(lambda s: s.get(Conversation, conversation_id).state == State.resolved):
            await conversations.record_csat(ctx, conversation_id, score, None)
            return Inbound(None, conversation_id, contact_id, rated=score)
        if conversation_id is None:
            subject = incoming.subject[:200] if incoming.subject else None
            conversation, _token = await conversations.start(ctx, contact_id=contact_id,
                                                             channel=incoming.channel.value, subject=subject)
            conversation_id = conversation.id
        accepted = await workflow.take(ctx, conversation_id, text,
                                              client_id_for(incoming.channel, incoming.client_id))
        if not accepted.duplicate:
            await ctx.act(record_inbound, accepted.message, incoming)
    return Inbound(accepted, conversation_id, contact_id)


RATING = re.compile(r"^\s*([1-5])\s*(/\s*5|stars?|\*+)?\s*[.!]*\s*$", re.IGNORECASE)


def rating(text: str) -> int | None:
    """The score in a bare answer to "Rate us from 1 to 5" (``5``, ``4/5``, ``3 stars``)."""
    match = RATING.match(text)
    return int(match.group(1)) if match else None


def fit(text: str, limit: int) -> str:
    """Text the service will take: refused when empty, shortened (and marked) when too long, since a
    provider cannot resend a shorter one."""
    text = text.strip()
    if not text:
        raise InputError("the message has no text", field="text")
    if len(text) > limit:
        text = text[: limit - len(TRUNCATED)].rstrip() + TRUNCATED
    return text


def provider_key(provider_id: str) -> str:
    """The provider's id as stored: in full when it fits the column, else a stable digest."""
    if len(provider_id) <= PROVIDER_ID_LIMIT:
        return provider_id
    return "sha256:" + hashlib.sha256(provider_id.encode()).hexdigest()


def received_before(session: Session, incoming: IncomingMessage) -> Message | None:
    """The stored message this provider id already made, if any (providers redeliver)."""
    row = session.exec(select(ChannelDelivery).where(
        ChannelDelivery.channel == incoming.channel.value, ChannelDelivery.direction == Direction.inbound,
        ChannelDelivery.provider_id == provider_key(incoming.client_id))).first()
    return session.get(Message, row.message_id) if row else None


def ensure_contact(session: Session, _outbox: Outbox, incoming: IncomingMessage) -> int:
    """The contact this channel identity names, linking it to a contact with the same email address
    or phone number, or a new contact. Fills in a name, email or phone the contact lacked."""
    identity = session.exec(select(ContactIdentity).where(
        ContactIdentity.channel == incoming.channel.value,
        ContactIdentity.external_id == incoming.external_id)).first()
    contact = session.get(Contact, identity.contact_id) if identity else None
    if contact is None and incoming.email:
        contact = session.exec(select(Contact).where(func.lower(Contact.email) == incoming.email.lower())
                               .order_by(col(Contact.id))).first()
    if contact is None and incoming.phone:
        contact = session.exec(select(Contact).where(Contact.phone == incoming.phone)
                               .order_by(col(Contact.id))).first()
    if contact is None:
        contact = Contact()
    contact.name = contact.name or incoming.name
    contact.email = contact.email or (incoming.email.lower() if incoming.email else None)
    contact.phone = contact.phone or incoming.phone
    session.add(contact)
    session.flush()
    if identity is None:
        session.add(ContactIdentity(contact_id=contact.id, channel=incoming.channel.value,
                                    external_id=incoming.external_id))
    return contact.id


def conversation_to_continue(session: Session, contact_id: int, incoming: IncomingMessage,
                             window: timedelta) -> int | None:
    """The thread an email answers, else the contact's latest conversation on this channel; None
    when there is none or it was resolved longer than ``window`` ago."""
    candidate = None
    if incoming.thread:
        keys = [provider_key(ref) for ref in incoming.thread]
        candidate = session.exec(select(Conversation).join(
            ChannelDelivery, col(ChannelDelivery.conversation_id) == Conversation.id).where(
            ChannelDelivery.channel == incoming.channel.value, col(ChannelDelivery.provider_id).in_(keys),
            Conversation.contact_id == contact_id).order_by(col(ChannelDelivery.id).desc())).first()
    if candidate is None:
        candidate = session.exec(select(Conversation).where(
            Conversation.contact_id == contact_id, Conversation.channel == incoming.channel.value)
            .order_by(col(Conversation.id).desc())).first()
    if candidate is None:
        return None
    if candidate.state == State.resolved and candidate.resolved_at is not None \
            and candidate.resolved_at < utcnow() - window:
        return None
    return candidate.id


def record_inbound(session: Session, _outbox: Outbox, message: Message, incoming: IncomingMessage) -> None:
    """Keep the provider's id in full and both addresses: replies go back the same way."""
    session.add(ChannelDelivery(message_id=message.id, conversation_id=message.conversation_id,
                                channel=incoming.channel.value, direction=Direction.inbound,
                                status=DeliveryStatus.received, provider_id=provider_key(incoming.client_id),
                                remote=incoming.external_id, local=incoming.local))
