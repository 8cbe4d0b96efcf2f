"""The queue as visitors and operators see it: positions and honest wait estimates, read from the store
and published live.

The estimate itself is a pure rule (:func:`engine.service.policy.estimate`, replaying routing over
the floor many times with recent handle times); here it is read (:func:`current`, always outside
any write transaction) and told (:func:`publish`: ``queue.updated`` for operators, a ``state``
frame for each visitor whose position or wait changed). The workflow publishes after every routing
pass, so a visitor is never told a position that routing is about to change.

`tests/engine/workflow/test_queue_simulation.py` holds these estimates against the waits that a
simulated shift actually produces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from engine.bus import OPERATORS, conversation_stream
from engine.events import ConversationChanged, QueueInfo, QueueUpdated
from engine.models import Conversation, State, utcnow
from engine.service.policy import Estimate, HandleTimes, estimate, minutes, policy_for
from engine.service.routing import load_floor
from engine.service.runtime import ServiceContext
from engine.settings import Settings


def handle_times(session: Session, limit: int) -> HandleTimes:
    """The ``limit`` most recent handle times: assignment to resolution of resolved conversations."""
    rows = session.exec(select(Conversation.assigned_at, Conversation.resolved_at).where(
        Conversation.state == State.resolved, col(Conversation.assigned_at).is_not(None),
        col(Conversation.resolved_at).is_not(None), col(Conversation.assigned_at) <= Conversation.resolved_at)
        .order_by(col(Conversation.resolved_at).desc()).limit(limit)).all()
    return HandleTimes(tuple((resolved - assigned).total_seconds() for assigned, resolved in rows))


def info(estimate: Estimate) -> QueueInfo:
    return QueueInfo(position=estimate.position, wait_seconds=estimate.wait_seconds)


@dataclass(frozen=True)
class QueueView:
    """The queue's estimates, and the conversations held after hours (no estimate: they wait for the
    opening, ``held``), placed after the routable ones in the order of their opening."""

    estimates: list[Estimate]
    last_seq: dict[int, int]
    held: dict[int, datetime] = field(default_factory=dict)

    def held_info(self) -> dict[int, QueueInfo]:
        ordered = sorted(self.held.items(), key=lambda item: (item[1], item[0]))
        return {conversation_id: QueueInfo(position=len(self.estimates) + number, opens_at=opens_at)
                for number, (conversation_id, opens_at) in enumerate(ordered, start=1)}

    def info(self, conversation_id: int) -> QueueInfo | None:
        if conversation_id in self.held:
            return self.held_info()[conversation_id]
        found = next((e for e in self.estimates if e.conversation_id == conversation_id), None)
        return info(found) if found else None


def current(session: Session, settings: Settings, now: datetime | None = None) -> QueueView:
    """Every queued conversation's position and estimated wait, as of ``now``."""
    at = now or utcnow()
    floor = load_floor(session, at, settings.presence_grace_seconds)
    if not floor.queued and not floor.held:
        return QueueView([], {}, {})
    handle = handle_times(session, settings.handle_time_samples)
    estimates = estimate(floor.queued, floor.operators, floor.started, floor.teams, handle, at,
                         policy_for(settings))
    return QueueView(estimates, floor.last_seq, floor.held)


def queue_info(session: Session, settings: Settings, conversation: Conversation) -> QueueInfo | None:
    """One conversation's position and estimated wait (the order routing uses); None unless queued."""
    if conversation.state != State.queued:
        return None
    return current(session, settings).info(conversation.id)


async def publish(ctx: ServiceContext, now: datetime | None = None) -> QueueView:
    """Tell operators the queue (``queue.updated``) and each queued visitor their position and
    wait (a ``conversation.updated`` on the conversation's stream, which the visitor socket sends
    as ``state``), where either changed since last told."""
    view = await ctx.read(current, ctx.settings, now)
    sent = ctx.worker.told  # per worker, like the sockets it feeds
    positions = {e.conversation_id: info(e) for e in view.estimates} | view.held_info()
    changed: dict[int, QueueInfo | None] = {}
    for conversation_id, where in positions.items():
        told = (where.position, minutes(where.wait_seconds), where.opens_at)
        if sent.get(conversation_id) != told:
            sent[conversation_id] = told
            changed[conversation_id] = where
    for gone in set(sent) - set(positions):
        del sent[gone]
        changed[gone] = None
    if not changed:
        return view
    await ctx.bus.publish(OPERATORS, QueueUpdated(queued=len(positions), positions=positions))
    for conversation_id, where in changed.items():
        if where is None:
            continue
        await ctx.bus.publish(conversation_stream(conversation_id), ConversationChanged(
            type="conversation.updated", conversation_id=conversation_id,
            seq=view.last_seq.get(conversation_id, 0), state=State.queued, from_state=State.queued,
            actor="system", reason="queue position", queue=where))
    return view
