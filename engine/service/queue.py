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

from dataclasses import dataclass
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
    estimates: list[Estimate]
    last_seq: dict[int, int]

    def info(self, conversation_id: int) -> QueueInfo | None:
        found = next((e for e in self.estimates if e.conversation_id == conversation_id), None)
        return info(found) if found else None


def current(session: Session, settings: Settings, now: datetime | None = None) -> QueueView:
    """Every queued conversation's position and estimated wait, as of ``now``."""
    at = now or utcnow()
    floor = load_floor(session, at, settings.presence_grace_seconds)
    handle = handle_times(session, settings.handle_time_samples)
    estimates = estimate(floor.queued, floor.operators, floor.started, floor.teams, handle, at,
                         policy_for(settings))
    return QueueView(estimates, floor.last_seq)


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
    changed = {}
    for e in view.estimates:
        told = (e.position, minutes(e.wait_seconds))
        if sent.get(e.conversation_id) != told:
            sent[e.conversation_id] = told
            changed[e.conversation_id] = e
    for gone in set(sent) - {e.conversation_id for e in view.estimates}:
        del sent[gone]
        changed[gone] = None
    if not changed:
        return view
    positions = {e.conversation_id: info(e) for e in view.estimates}
    await ctx.bus.publish(OPERATORS, QueueUpdated(queued=len(view.estimates), positions=positions))
    for conversation_id, e in changed.items():
        if e is None:
            continue
        await ctx.bus.publish(conversation_stream(conversation_id), ConversationChanged(
            type="conversation.updated", conversation_id=conversation_id,
            seq=view.last_seq.get(conversation_id, 0), state=State.queued, from_state=State.queued,
            actor="system", reason="queue position", queue=info(e)))
    return view
