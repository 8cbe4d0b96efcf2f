"""Routing's store side: load the floor's snapshots and apply the plan.

The rules are in :mod:`engine.service.policy` (pure functions over frozen snapshots); this module
reads the snapshots from the store (:func:`load_floor`, also the queue estimate's input) and runs
one routing pass (:func:`route`), assigning through ``conversations.route_to`` so the state
machine's invariants hold. What a pass is followed by (the queue's live positions, drafts for the
person who takes a conversation) is the workflow's (``engine.service.workflow``).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, select

from engine.models import Contact, Conversation, HandoffEvent, Operator, State, Status, Team, utcnow
from engine.service import conversations, locks, schedule
from engine.service.errors import Conflict
from engine.service.policy import (
    Assignment,
    Floor,
    OperatorSnapshot,
    QueuedSnapshot,
    TeamSnapshot,
    derive_skills,
    is_gone,
    plan,
    policy_for,
)
from engine.service.runtime import ServiceContext


def load_floor(session: Session, now: datetime, grace_seconds: float) -> Floor:
    """Snapshots from the store. An operator counts as online only if marked online and seen by
    a worker within the grace period; a queued conversation without stored skills gets them from
    its latest handoff packet. With nobody queued (the usual tick) nothing else is read: there is
    nothing to route or estimate, and the operators' loads are a row per open conversation."""
    rows = session.exec(select(Conversation, Contact).where(Conversation.contact_id == Contact.id,
                                                             Conversation.state == State.queued)).all()
    if not rows:
        return Floor([], [], {}, {}, {}, {})
    teams = {t.id: TeamSnapshot(id=t.id, skills=frozenset(t.skills), backup_team_id=t.backup_team_id,
                                overflow_after_seconds=t.overflow_after_seconds)
             for t in session.exec(select(Team)).all()}
    started: dict[int, list[datetime]] = defaultdict(list)
    for assignee_id, assigned_at in session.exec(
            select(Conversation.assignee_id, Conversation.assigned_at).where(
                Conversation.state == State.assigned, col(Conversation.assignee_id).is_not(None))).all():
        started[assignee_id].append(assigned_at or now)
    last_assigned = dict(session.exec(select(Conversation.assignee_id, func.max(Conversation.assigned_at))
                                      .where(col(Conversation.assignee_id).is_not(None))
                                      .group_by(Conversation.assignee_id)).all())
    operators = []
    for op in session.exec(select(Operator).where(Operator.status != Status.offline)).all():
        status = op.status if not is_gone(op.last_seen_at, now, grace_seconds) else Status.offline
        operators.append(OperatorSnapshot(id=op.id, status=status, skills=frozenset(op.skills),
                                          capacity=op.capacity, load=len(started[op.id]), team_id=op.team_id,
                                          last_assigned_at=last_assigned.get(op.id)))
    queued, last_seq, held = [], {}, {}
    packets = _latest_packets(session, [c.id for c, _ in rows if not c.skills])
    for conversation, contact in rows:
        if conversation.held_until is not None:  # after hours: waits for its team's opening
            held[conversation.id] = conversation.held_until
            last_seq[conversation.id] = conversation.last_seq
            continue
        skills = conversation.skills or derive_skills(packets.get(conversation.id),
                                                      channel=conversation.channel, tags=conversation.tags)
        queued.append(QueuedSnapshot(id=conversation.id, queued_at=conversation.queued_at or now,
                                     skills=frozenset(skills), team_id=conversation.team_id,
                                     priority=conversation.priority, vip=contact.vip,
                                     region=contact.region, value=contact.value))
        last_seq[conversation.id] = conversation.last_seq
    return Floor(queued, operators, teams, dict(started), last_seq, held)


def _latest_packets(session: Session, conversation_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The latest handoff packet of each conversation, in one query."""
    if not conversation_ids:
        return {}
    events = session.exec(select(HandoffEvent.conversation_id, HandoffEvent.packet).where(
        col(HandoffEvent.conversation_id).in_(conversation_ids), col(HandoffEvent.packet).is_not(None))
        .order_by(col(HandoffEvent.id))).all()
    return {conversation_id: packet for conversation_id, packet in events if packet}


async def route(ctx: ServiceContext, now: datetime | None = None) -> list[Assignment]:
    """One routing pass over the whole queue (a new arrival may not be the most urgent): release the
    conversations held after hours whose team has opened (business hours judged at ``now``, else by
    ``ctx.clock``), plan, then assign through ``conversations.route_to``, skipping a conversation
    claimed meanwhile (``Conflict``). Returns what it assigned. One pass at a time, across workers too."""
    async with locks.exclusive(ctx, "routing"):
        at = now or utcnow()
        await conversations.release_opened(ctx, await ctx.read(schedule.opened, now or ctx.clock()))
        floor = await ctx.read(load_floor, at, ctx.settings.presence_grace_seconds)
        done = []
        for assignment in plan(floor.queued, floor.operators, floor.teams, at, policy_for(ctx.settings)):
            try:
                await conversations.route_to(ctx, assignment.conversation_id, assignment.operator_id,
                                             assignment.reason)
            except Conflict:
                continue
            done.append(assignment)
    return done
