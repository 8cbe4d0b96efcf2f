"""The facts the reply-channel rule needs, read from the store, and the rule applied to them.

``channel_rules.choose_route`` decides; this module only gathers what it decides on, inside the
transaction that stores the message (``deliveries.route`` records the outcome):

* the channel each message came or left on (:func:`message_channels`): a visitor message's inbound
  delivery, an outgoing message's delivery, else the widget for a web conversation;
* the channel the customer last used: their latest message in this conversation (what the bot or the
  system answers), or in any of their conversations (what a person replies to);
* the best address per outside channel (:func:`addresses`): the one the customer last wrote from,
  else an identity the channel reported or the visitor proved (a confirmed email). Never an address
  a visitor only typed: anyone can type anyone's, and the desk would then write to a stranger;
* whether the web visitor has the widget open (:func:`visitor_present`, ``VisitorPresence``: sockets
  counted over every worker and refreshed by each worker's tick, so a worker that died stops
  counting once ``presence_grace_seconds`` have passed).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import and_
from sqlmodel import Session, col, select

from engine.models import (
    Channel,
    ChannelDelivery,
    ContactIdentity,
    Conversation,
    Direction,
    Message,
    Role,
    VisitorPresence,
    utcnow,
)
from engine.service.channel_rules import WEB, Address, Route, RouteFacts, choose_route

OUTSIDE = tuple(c.value for c in Channel if c != Channel.web)


def message_channels(session: Session, conversation_ids: Iterable[int]) -> dict[int, str]:
    """message id -> the channel it came in or left on, for the messages of these conversations
    that went through an outside channel (the rest are the widget's, or not yet sent)."""
    ids = list(conversation_ids)
    if not ids:
        return {}
    rows = session.exec(select(ChannelDelivery.message_id, ChannelDelivery.channel).where(
        col(ChannelDelivery.conversation_id).in_(ids))).all()
    return {message_id: channel for message_id, channel in rows}


def last_used(session: Session, *, conversation_id: int | None = None,
              contact_id: int | None = None) -> str | None:
    """The channel of the customer's latest message in one conversation, or in all of a contact's."""
    query = select(Conversation.channel, ChannelDelivery.channel).select_from(Message).join(
        Conversation, col(Conversation.id) == Message.conversation_id).outerjoin(
        ChannelDelivery, and_(col(ChannelDelivery.message_id) == Message.id,
                              col(ChannelDelivery.direction) == Direction.inbound)).where(
        Message.role == Role.visitor)
    if conversation_id is not None:
        query = query.where(Message.conversation_id == conversation_id)
    else:
        query = query.where(Conversation.contact_id == contact_id)
    latest = query.order_by(col(Message.created_at).desc(), col(Message.id).desc()).limit(1)
    row = session.exec(latest).first()
    if row is None:
        return None
    conversation_channel, delivered_on = row
    return delivered_on or conversation_channel


def addresses(session: Session, contact_id: int) -> dict[str, Address]:
    """The best address of the contact on each outside channel (see the module's docstring)."""
    found: dict[str, Address] = {}
    wrote_from = session.exec(select(ChannelDelivery.channel, ChannelDelivery.remote).join(
        Conversation, col(Conversation.id) == ChannelDelivery.conversation_id).where(
        Conversation.contact_id == contact_id, ChannelDelivery.direction == Direction.inbound,
        col(ChannelDelivery.remote).is_not(None)).order_by(col(ChannelDelivery.id).desc()).limit(200)).all()
    for channel, remote in wrote_from:
        found.setdefault(channel, Address(channel, remote))
    identities = session.exec(select(ContactIdentity.channel, ContactIdentity.external_id).where(
        ContactIdentity.contact_id == contact_id).order_by(col(ContactIdentity.id).desc())).all()
    for channel, external_id in identities:
        if channel in OUTSIDE:
            found.setdefault(channel, Address(channel, external_id))
    return found


def visitor_present(session: Session, conversation_id: int, now: datetime, grace_seconds: float) -> bool:
    row = session.get(VisitorPresence, conversation_id)
    return row is not None and row.sockets > 0 and row.seen_at >= now - timedelta(seconds=grace_seconds)


def facts(session: Session, conversation: Conversation, *, by_person: bool,
          grace_seconds: float) -> RouteFacts:
    last = last_used(session, contact_id=conversation.contact_id) if by_person \
        else last_used(session, conversation_id=conversation.id)
    present = conversation.channel == WEB and visitor_present(session, conversation.id, utcnow(),
                                                              grace_seconds)
    return RouteFacts(conversation_channel=conversation.channel, last_used=last, visitor_present=present,
                      addresses=addresses(session, conversation.contact_id))


def _reached_elsewhere(session: Session, conversation_id: int) -> bool:
    """Whether anything came into this conversation by an outside channel (ix on conversation_id)."""
    return session.exec(select(ChannelDelivery.id).where(
        ChannelDelivery.conversation_id == conversation_id,
        ChannelDelivery.direction == Direction.inbound).limit(1)).first() is not None


def decide(session: Session, conversation: Conversation, *, by_person: bool, chosen: str | None = None,
           grace_seconds: float = 60.0) -> Route:
    """The route of a message about to be stored in ``conversation`` (``Unroutable`` for a choice the
    customer cannot be reached on). The bot's answer in a web chat that nothing reached by another
    channel is decided by one indexed lookup: the bot turn's hot path stays cheap (~0.15 ms)."""
    if not by_person and chosen is None and conversation.channel == WEB \
            and not _reached_elsewhere(session, conversation.id):
        return Route(WEB, None, "the customer last wrote in the chat")
    return choose_route(facts(session, conversation, by_person=by_person, grace_seconds=grace_seconds),
                        by_person=by_person, chosen=chosen)


def sender_on(session: Session, conversation: Conversation, channel: str) -> ChannelDelivery | None:
    """The customer's latest inbound delivery on ``channel``, in this conversation first, else in any
    of theirs: our address they wrote to, and (email) the mail a reply answers."""
    base = select(ChannelDelivery).where(ChannelDelivery.channel == channel,
                                         ChannelDelivery.direction == Direction.inbound)
    own = session.exec(base.where(ChannelDelivery.conversation_id == conversation.id)
                       .order_by(col(ChannelDelivery.id).desc())).first()
    if own is not None:
        return own
    return session.exec(base.join(Conversation, col(Conversation.id) == ChannelDelivery.conversation_id)
                        .where(Conversation.contact_id == conversation.contact_id)
                        .order_by(col(ChannelDelivery.id).desc())).first()
