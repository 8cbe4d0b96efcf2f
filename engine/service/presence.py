"""Presence: online, away, offline, and what happens to an operator's conversations.

* ``online``: takes new conversations (routing only picks online operators seen recently).
* ``away``: keeps the conversations they own, gets no new ones.
* ``offline`` (chosen), or online/away with no live connection for longer than the grace period:
  ``presence.updated`` says so, and the workflow puts their open conversations back in the queue
  (through the conversation service), so a visitor is never left with an owner who is gone. A
  short drop (a reload, a flaky network) inside the grace period changes nothing.

Connections are counted per worker on ``ctx.worker.connections`` (an operator may have several tabs);
each worker's periodic task writes ``last_seen_at`` for the operators connected to it, so the
decision reads only the database and holds with many workers. An operator who was never online
(status ``offline`` from the start) and claims by hand through the API keeps what they claimed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from engine.bus import OPERATORS, conversation_stream
from engine.events import PresenceUpdated, Viewing
from engine.models import Conversation, Operator, State, Status, VisitorPresence, utcnow
from engine.service.errors import Invalid, NotFound
from engine.service.policy import (
    DEFAULT_GRACE_SECONDS,
    HEARTBEATS_PER_GRACE,
    PresenceSnapshot,
    available,
    expired,
)
from engine.service.runtime import Outbox, ServiceContext

CHOSEN_OFFLINE = "the operator went offline"
CONNECTION_LOST = "the operator's connection was lost"
SEEN_CHUNK = 1000  # conversation ids per heartbeat UPDATE (bound parameters: under every backend's limit)


def connected(ctx: ServiceContext, operator_id: int) -> None:
    """Called by the operator WebSocket when it opens; the next periodic tick marks them seen."""
    ctx.worker.connections.opened(operator_id)


def disconnected(ctx: ServiceContext, operator_id: int) -> None:
    """Called by the operator WebSocket when it closes. Nothing is handed back here: the periodic
    task does it once the operator has been unseen for longer than the grace period."""
    ctx.worker.connections.closed(operator_id)


def _visitor_sockets(session: Session, _outbox: Outbox, conversation_id: int, change: int,
                     at: datetime) -> None:
    """Count one visitor socket more or less; the row is made by the first (two at once: one wins
    the insert, the other counts on the row it made)."""
    query = select(VisitorPresence).where(
        VisitorPresence.conversation_id == conversation_id).with_for_update()
    row = session.exec(query).first()
    if row is None:
        try:
            with session.begin_nested():
                session.add(VisitorPresence(conversation_id=conversation_id, sockets=max(0, change),
                                            seen_at=at))
            return
        except IntegrityError:
            row = session.exec(query).one()
    row.sockets, row.seen_at = max(0, row.sockets + change), at
    session.add(row)


async def visitor_connected(ctx: ServiceContext, conversation_id: int) -> None:
    """The visitor WebSocket opened: the visitor is on the page (``VisitorPresence``, read by the
    reply-channel rule, ``channel_rules``: a person's reply reaches a visitor who left by email or SMS)."""
    ctx.worker.visitors.opened(conversation_id)
    await ctx.act(_visitor_sockets, conversation_id, 1, utcnow())


async def visitor_disconnected(ctx: ServiceContext, conversation_id: int) -> None:
    """The visitor WebSocket closed (the page was closed or left): counted at once, no grace period,
    since the reply a person writes next should reach the visitor where they still are."""
    ctx.worker.visitors.closed(conversation_id)
    await ctx.act(_visitor_sockets, conversation_id, -1, utcnow())


def visitors_seen(session: Session, _outbox: Outbox, conversation_ids: Iterable[int], now: datetime) -> None:
    """The heartbeat of the widgets open on this worker: one UPDATE per ``SEEN_CHUNK`` rows, in id
    order (two workers take the row locks in the same order). Loading every row into the ORM to set
    one column held the write lock, and the GIL, for 70-95 ms of CPU with 2,000 widgets open (4.5-5.5
    ms this way, SQLite), every ``grace / HEARTBEATS_PER_GRACE`` seconds: messages stored meanwhile
    waited behind it (docs/scaling.md, the delivery pass)."""
    ids = sorted(conversation_ids)
    for start in range(0, len(ids), SEEN_CHUNK):
        session.execute(update(VisitorPresence)
                        .where(col(VisitorPresence.conversation_id).in_(ids[start:start + SEEN_CHUNK]))
                        .values(seen_at=now).execution_options(synchronize_session=False))


async def viewing(ctx: ServiceContext, conversation_id: int, operator_id: int, on: bool) -> None:
    """Tell the operators following a conversation that ``operator_id`` has it open (or left it): the
    collision warning. Nothing is stored; it goes on the internal stream, so no visitor sees it."""
    if await ctx.read(lambda session: session.get(Conversation, conversation_id)) is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    await ctx.bus.publish(conversation_stream(conversation_id, internal=True),
                          Viewing(conversation_id=conversation_id, operator_id=operator_id, on=on))


# --- store side ---------------------------------------------------------------------------------

def open_conversations(session: Session, operator_id: int) -> list[int]:
    return list(session.exec(select(Conversation.id).where(Conversation.assignee_id == operator_id,
                                                           Conversation.state == State.assigned)
                             .order_by(col(Conversation.id))).all())


class RosterEntry(BaseModel):
    """One operator as the supervisor view and the transfer dialog show them."""

    id: int
    name: str
    status: Status
    team_id: int | None
    capacity: int
    open: int  # conversations they own now
    last_seen_at: datetime | None
    available: bool = False  # a transfer to them lands on them (policy.available), not back in the queue


def roster(session: Session, now: datetime | None = None,
           grace_seconds: float = DEFAULT_GRACE_SECONDS) -> list[RosterEntry]:
    """Every operator with status and load (open conversations against capacity), by name."""
    at = now or utcnow()
    load = dict(session.exec(select(Conversation.assignee_id, func.count()).where(
        Conversation.state == State.assigned).group_by(Conversation.assignee_id)).all())
    return [RosterEntry(id=o.id, name=o.name, status=o.status, team_id=o.team_id, capacity=o.capacity,
                        open=load.get(o.id, 0), last_seen_at=o.last_seen_at,
                        available=available(o.status, o.last_seen_at, at, grace_seconds))
            for o in session.exec(select(Operator).order_by(col(Operator.name), col(Operator.id))).all()]


def _set(session: Session, outbox: Outbox, operator_id: int, status: Status, now: datetime, *,
         seen: bool, reason: str) -> None:
    """Store the status and announce it (the workflow hands back an offline operator's conversations
    and routes the queue to one who came online)."""
    operator = session.get(Operator, operator_id)
    if operator is None:
        return
    if seen:
        operator.last_seen_at = now
    operator.status = status
    session.add(operator)
    outbox.add(OPERATORS, PresenceUpdated(operator_id=operator_id, status=status.value, reason=reason))


def stale(session: Session, operator_ids: Iterable[int], now: datetime, every: float) -> list[int]:
    """Of ``operator_ids``, those last seen more than ``every`` seconds ago (or never)."""
    ids = list(operator_ids)
    if not ids:
        return []
    rows = session.exec(select(Operator.id, Operator.last_seen_at).where(col(Operator.id).in_(ids))).all()
    return sorted(i for i, seen in rows if seen is None or (now - seen).total_seconds() >= every)


def mark_seen(session: Session, outbox: Outbox, operator_ids: Iterable[int], now: datetime) -> None:
    """Heartbeat for the operators connected to this worker."""
    ids = list(operator_ids)
    for operator in session.exec(select(Operator).where(col(Operator.id).in_(ids))).all() if ids else []:
        operator.last_seen_at = now
        session.add(operator)


def gone(session: Session, now: datetime, grace_seconds: float) -> list[int]:
    rows = session.exec(select(Operator).where(Operator.status != Status.offline)).all()
    return expired([PresenceSnapshot(o.id, o.status, o.last_seen_at) for o in rows], now, grace_seconds)


def expire(session: Session, outbox: Outbox, now: datetime, grace_seconds: float) -> list[int]:
    """Mark gone operators offline; returns who they were."""
    operator_ids = gone(session, now, grace_seconds)
    for operator_id in operator_ids:
        _set(session, outbox, operator_id, Status.offline, now, seen=False, reason=CONNECTION_LOST)
    return operator_ids


async def set_status(ctx: ServiceContext, operator_id: int, status: str, now: datetime | None = None) -> None:
    """The operator chose a status. Going online or away counts as being seen; the workflow hands
    their conversations back at once when they go offline, and routes the queue when they come online."""
    try:
        chosen = Status(status)
    except ValueError:
        raise Invalid(f"status must be online, away or offline, got {status!r}") from None
    await ctx.act(_set, operator_id, chosen, now or utcnow(), seen=chosen != Status.offline,
                  reason=CHOSEN_OFFLINE if chosen == Status.offline else "chosen")


async def sweep(ctx: ServiceContext, now: datetime | None = None) -> list[int]:
    """One periodic pass: mark this worker's connected operators seen, then mark offline those gone
    longer than the grace period (the workflow hands their conversations back). Returns who went."""
    at = now or utcnow()
    grace = ctx.settings.presence_grace_seconds
    # write only when needed: a heartbeat a few times per grace period, an expiry when one is due
    due = await ctx.read(stale, ctx.worker.connections.live(), at, grace / HEARTBEATS_PER_GRACE)
    if due:
        await ctx.act(mark_seen, due, at)
    visitors = ctx.worker.visitors.live()
    if visitors and (ctx.worker.visitors_seen_at is None
                     or (at - ctx.worker.visitors_seen_at).total_seconds() >= grace / HEARTBEATS_PER_GRACE):
        await ctx.act(visitors_seen, visitors, at)  # the widgets open here are still open
        ctx.worker.visitors_seen_at = at
    if not await ctx.read(gone, at, grace):
        return []
    return await ctx.act(expire, at, grace)
