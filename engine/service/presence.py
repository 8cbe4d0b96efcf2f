"""Presence: online, away, offline, and what happens to an operator's conversations.

* ``online``: takes new conversations (routing only picks online operators seen recently).
* ``away``: keeps the conversations they own, gets no new ones.
* ``offline`` (chosen), or online/away with no live connection for longer than the grace period:
  their open conversations go back to the queue (through the conversation service), so a visitor
  is never left with an owner who is gone. A short drop (a reload, a flaky network) inside the
  grace period changes nothing.

Connections are counted per worker by `PresenceTracker` (an operator may have several tabs);
each worker's periodic task writes ``last_seen_at`` for the operators connected to it, so the
decision reads only the database and holds with many workers. An operator who was never online
(status ``offline`` from the start) and claims by hand through the API keeps what they claimed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import func
from sqlmodel import Session, col, select

from engine.bus import OPERATORS
from engine.events import PresenceUpdated
from engine.models import Conversation, Operator, State, Status, utcnow
from engine.service import conversations, routing
from engine.service.errors import Conflict, Invalid
from engine.service.runtime import Outbox, ServiceContext

DEFAULT_GRACE_SECONDS = 60.0
HEARTBEATS_PER_GRACE = 4
HANDBACK_ACTOR = "system"


@dataclass(frozen=True)
class PresenceSnapshot:
    operator_id: int
    status: str
    last_seen_at: datetime | None


def is_gone(last_seen_at: datetime | None, now: datetime,
            grace_seconds: float = DEFAULT_GRACE_SECONDS) -> bool:
    """Not seen by any worker for longer than the grace period."""
    return last_seen_at is None or (now - last_seen_at).total_seconds() > grace_seconds


def expired(snapshots: Iterable[PresenceSnapshot], now: datetime,
            grace_seconds: float = DEFAULT_GRACE_SECONDS) -> list[int]:
    """Operators shown online or away who have been gone longer than the grace period: they
    become offline, and their open conversations return to the queue."""
    return sorted(s.operator_id for s in snapshots
                  if s.status != Status.offline and is_gone(s.last_seen_at, now, grace_seconds))


class PresenceTracker:
    """Live WebSocket connections per operator on this worker (several tabs count once)."""

    def __init__(self) -> None:
        self._connections: dict[int, int] = {}

    def connected(self, operator_id: int) -> int:
        self._connections[operator_id] = self._connections.get(operator_id, 0) + 1
        return self._connections[operator_id]

    def disconnected(self, operator_id: int) -> int:
        left = max(0, self._connections.get(operator_id, 0) - 1)
        if left:
            self._connections[operator_id] = left
        else:
            self._connections.pop(operator_id, None)
        return left

    def live(self) -> set[int]:
        return set(self._connections)


TRACKER = PresenceTracker()
"""This worker's connections: one per process, like the sockets it counts."""


def connected(operator_id: int) -> None:
    """Called by the operator WebSocket when it opens; the next periodic tick marks them seen."""
    TRACKER.connected(operator_id)


def disconnected(operator_id: int) -> None:
    """Called by the operator WebSocket when it closes. Nothing is handed back here: the periodic
    task does it once the operator has been unseen for longer than the grace period."""
    TRACKER.disconnected(operator_id)


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


def roster(session: Session) -> list[RosterEntry]:
    """Every operator with status and load (open conversations against capacity), by name."""
    load = dict(session.exec(select(Conversation.assignee_id, func.count()).where(
        Conversation.state == State.assigned).group_by(Conversation.assignee_id)).all())
    return [RosterEntry(id=o.id, name=o.name, status=o.status, team_id=o.team_id, capacity=o.capacity,
                        open=load.get(o.id, 0), last_seen_at=o.last_seen_at)
            for o in session.exec(select(Operator).order_by(col(Operator.name), col(Operator.id))).all()]


def _set(session: Session, outbox: Outbox, operator_id: int, status: Status, now: datetime,
         seen: bool) -> list[int]:
    operator = session.get(Operator, operator_id)
    if operator is None:
        return []
    if seen:
        operator.last_seen_at = now
    changed = operator.status != status
    operator.status = status
    session.add(operator)
    if changed:
        outbox.add(OPERATORS, PresenceUpdated(operator_id=operator_id, status=status.value))
    return open_conversations(session, operator_id) if status == Status.offline else []


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
    """Mark gone operators offline; returns the conversations to hand back."""
    handback: list[int] = []
    for operator_id in gone(session, now, grace_seconds):
        handback += _set(session, outbox, operator_id, Status.offline, now, seen=False)
    return handback


async def _hand_back(ctx: ServiceContext, conversation_ids: list[int], reason: str) -> None:
    for conversation_id in conversation_ids:
        try:
            await conversations.requeue(ctx, conversation_id, actor=HANDBACK_ACTOR, reason=reason)
        except Conflict:
            continue  # resolved or taken over meanwhile: nothing to hand back


async def set_status(ctx: ServiceContext, operator_id: int, status: str, now: datetime | None = None) -> None:
    """The operator chose a status. Going offline hands their conversations back at once; going
    online counts as being seen and routes the queue to them."""
    try:
        chosen = Status(status)
    except ValueError:
        raise Invalid(f"status must be online, away or offline, got {status!r}") from None
    at = now or utcnow()
    handback = await ctx.act(_set, operator_id, chosen, at, chosen != Status.offline)
    await _hand_back(ctx, handback, "the operator went offline")
    if chosen == Status.online:
        await routing.route(ctx, now=at)


async def sweep(ctx: ServiceContext, now: datetime | None = None) -> list[int]:
    """One periodic pass: mark this worker's connected operators seen, then expire those gone
    longer than the grace period and hand their conversations back. Returns those handed back."""
    at = now or utcnow()
    grace = ctx.settings.presence_grace_seconds
    # write only when needed: a heartbeat a few times per grace period, an expiry when one is due
    due = await ctx.read(stale, TRACKER.live(), at, grace / HEARTBEATS_PER_GRACE)
    if due:
        await ctx.act(mark_seen, due, at)
    if not await ctx.read(gone, at, grace):
        return []
    handback = await ctx.act(expire, at, grace)
    await _hand_back(ctx, handback, "the operator's connection was lost")
    return handback
