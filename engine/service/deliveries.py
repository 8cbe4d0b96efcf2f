"""Deliveries: a message's passage through an outside channel (``ChannelDelivery`` rows).

Inbound: the provider's id of each message taken in (providers redeliver; an email's thread names
them) and both addresses, so replies go back the way the visitor wrote. Outbound: the store is the
queue. A reply is sent once a row claims it (the row is unique per message, and each attempt is a
lease, so of several workers one sends); a failure is written on the row with the time of the next
attempt until the attempts are spent; a send the provider took sets ``Message.delivered_at`` and
publishes ``message.delivered``. The channel adapters (``engine.channels.inbox`` and ``outbound``)
do the talking to providers and call these for every write.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import exists, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from engine.bus import WORKERS, conversation_stream
from engine.events import DeliveryQueued, MessageDelivered
from engine.models import (
    Channel,
    ChannelDelivery,
    Conversation,
    DeliveryStatus,
    Direction,
    Message,
    Role,
    State,
    Visibility,
    utcnow,
)
from engine.service import reply_routes
from engine.service.channel_rules import WEB, Route
from engine.service.runtime import Outbox

CHANNELS = (Channel.sms, Channel.email, Channel.messenger, Channel.instagram)
OUTGOING_ROLES = (Role.bot, Role.operator, Role.system)
HORIZON = timedelta(hours=24)  # older undelivered messages are history, not a backlog to send
SWEEP_LIMIT = 200
PROVIDER_ID_LIMIT = 512  # ChannelDelivery.provider_id's width


# --- inbound --------------------------------------------------------------------------------------

def provider_key(provider_id: str) -> str:
    """The provider's id as stored: in full when it fits the column, else a stable digest."""
    if len(provider_id) <= PROVIDER_ID_LIMIT:
        return provider_id
    return "sha256:" + hashlib.sha256(provider_id.encode()).hexdigest()


def received_before(session: Session, channel: str, provider_id: str) -> Message | None:
    """The stored message this provider id already made, if any (providers redeliver)."""
    row = session.exec(select(ChannelDelivery).where(
        ChannelDelivery.channel == channel, ChannelDelivery.direction == Direction.inbound,
        ChannelDelivery.provider_id == provider_key(provider_id))).first()
    return session.get(Message, row.message_id) if row else None


def record_inbound(session: Session, _outbox: Outbox, message_id: int, conversation_id: int, channel: str,
                   provider_id: str, remote: str, local: str | None) -> None:
    """Keep the provider's id in full and both addresses: replies go back the same way."""
    session.add(ChannelDelivery(message_id=message_id, conversation_id=conversation_id, channel=channel,
                                direction=Direction.inbound, status=DeliveryStatus.received,
                                provider_id=provider_key(provider_id), remote=remote, local=local))


# --- outbound -------------------------------------------------------------------------------------

def open_channel_conversations(session: Session) -> list[int]:
    return list(session.exec(select(Conversation.id).where(
        col(Conversation.channel).in_(CHANNELS), Conversation.state != State.resolved)).all())


def channel_of(session: Session, conversation_id: int) -> str:
    conversation = session.get(Conversation, conversation_id)
    return conversation.channel if conversation else Channel.web.value


def due_messages(session: Session, now: datetime, conversation_id: int | None = None) -> list[int]:
    """Messages to send now (of one conversation, or all): channel replies nobody has claimed yet,
    and deliveries whose retry time or lease has come."""
    one = conversation_id is not None
    unclaimed = session.exec(
        select(Message.id).join(Conversation, Conversation.id == Message.conversation_id).where(
            col(Conversation.channel).in_(CHANNELS),
            or_(Conversation.state != State.resolved, col(Conversation.resolved_at) >= now - HORIZON),
            Message.visibility == Visibility.public, col(Message.role).in_(OUTGOING_ROLES),
            col(Message.delivered_at).is_(None), col(Message.created_at) >= now - HORIZON,
            ~exists().where(ChannelDelivery.message_id == Message.id),
            *([Message.conversation_id == conversation_id] if one else []))
        .order_by(col(Message.id)).limit(SWEEP_LIMIT)).all()
    retries = session.exec(select(ChannelDelivery.message_id).where(
        ChannelDelivery.direction == Direction.outbound,
        col(ChannelDelivery.status).in_((DeliveryStatus.pending, DeliveryStatus.sending)),
        col(ChannelDelivery.next_attempt_at) <= now,
        *([ChannelDelivery.conversation_id == conversation_id] if one else []))
        .order_by(col(ChannelDelivery.id)).limit(SWEEP_LIMIT)).all()
    return list(dict.fromkeys([*unclaimed, *retries]))


def route(session: Session, outbox: Outbox, conversation: Conversation, message: Message, *,
          by_person: bool = False, chosen: str | None = None, grace_seconds: float = 60.0) -> Route:
    """Decide the channel a public message to the customer leaves on (``channel_rules``), in the
    transaction that stores it, and queue its delivery: an outbound row due now with the address
    (and ours the customer wrote to), which any worker's dispatcher claims. A route to the widget
    needs no row. In a web conversation no dispatcher follows, ``delivery.queued`` on ``workers``
    has it sent at once. Raises ``channel_rules.Unroutable`` for a choice that cannot be met."""
    decided = reply_routes.decide(session, conversation, by_person=by_person, chosen=chosen,
                                  grace_seconds=grace_seconds)
    if decided.channel == WEB:
        return decided
    anchor = reply_routes.sender_on(session, conversation, decided.channel)
    now = utcnow()
    session.add(ChannelDelivery(message_id=message.id, conversation_id=conversation.id,
                                channel=decided.channel, direction=Direction.outbound,
                                status=DeliveryStatus.pending,
                                remote=decided.to, local=anchor.local if anchor else None,
                                next_attempt_at=now, created_at=now, updated_at=now))
    if conversation.channel not in CHANNELS:
        outbox.add(WORKERS, DeliveryQueued(conversation_id=conversation.id, message_id=message.id,
                                           channel=decided.channel))
    return decided


def claim(session: Session, _outbox: Outbox, message_id: int, lease: timedelta) -> int | None:
    """Take the message for one attempt; returns the attempt's number, or None if it is not ours
    to send (sent, given up, not yet due, or leased by another worker)."""
    now = utcnow()
    row = session.exec(select(ChannelDelivery).where(ChannelDelivery.message_id == message_id)
                       .with_for_update()).first()
    if row is None:
        message = session.get(Message, message_id)
        conversation = session.get(Conversation, message.conversation_id) if message else None
        if (message is None or conversation is None or conversation.channel not in CHANNELS
                or message.visibility != Visibility.public or message.role not in OUTGOING_ROLES):
            return None  # never send what is not a public reply on an outside channel
        row = ChannelDelivery(message_id=message_id, conversation_id=conversation.id,
                              channel=conversation.channel, direction=Direction.outbound,
                              status=DeliveryStatus.sending, attempts=1, next_attempt_at=now + lease)
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            return None  # another worker claimed it a moment ago
        return 1
    due = row.next_attempt_at is not None and row.next_attempt_at <= now
    if row.direction != Direction.outbound or row.status not in (DeliveryStatus.pending,
                                                                 DeliveryStatus.sending) or not due:
        return None
    row.status, row.attempts, row.next_attempt_at, row.updated_at = \
        DeliveryStatus.sending, row.attempts + 1, now + lease, now
    session.add(row)
    return row.attempts


def _row(session: Session, message_id: int) -> ChannelDelivery:
    return session.exec(select(ChannelDelivery).where(ChannelDelivery.message_id == message_id)).one()


def record_sent(session: Session, outbox: Outbox, message_id: int, provider_id: str | None) -> None:
    """The provider took the message: the row is sent, the message delivered, and it is announced."""
    now = utcnow()
    row = _row(session, message_id)
    row.status, row.provider_id, row.next_attempt_at, row.updated_at = \
        DeliveryStatus.sent, provider_id, None, now
    message = session.get(Message, message_id)
    message.delivered_at = now
    session.add(row)
    session.add(message)
    outbox.add(conversation_stream(message.conversation_id), MessageDelivered(
        conversation_id=message.conversation_id, seq=message.seq, message_id=message.id,
        channel=row.channel, delivered_at=now))


def record_failure(session: Session, _outbox: Outbox, message_id: int, error: str,
                   retry_in: timedelta | None) -> None:
    """Keep the error; schedule the next attempt, or mark the delivery failed (``retry_in`` None)."""
    now = utcnow()
    row = _row(session, message_id)
    row.error, row.updated_at = error, now
    row.status = DeliveryStatus.failed if retry_in is None else DeliveryStatus.pending
    row.next_attempt_at = None if retry_in is None else now + retry_in
    session.add(row)
