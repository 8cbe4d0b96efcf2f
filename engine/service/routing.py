"""Routing: who takes which queued conversation.

The policy is pure functions over small frozen snapshots, so every rule is tested without a
database; `route` and `route_all` are the thin layer that loads snapshots and applies the
plan through the conversation service (the one place state changes).

Rules, in order:

1. Urgency orders the queue: VIP contacts and a higher `priority` go first, and time already
   waited ages every conversation upward (``priority_step_seconds`` of waiting is worth one
   priority level), so nobody starves behind a stream of urgent arrivals.
2. An operator is eligible when online, below capacity, in one of the conversation's allowed
   teams (its own team, plus its backup once it has waited longer than the team's
   ``overflow_after_seconds``, and so on down the chain) and speaking its language.
3. Among eligible operators: most matching skills first (topics, channel), then least loaded
   (open conversations over capacity), then round robin (longest since last assignment).

Skills are plain strings with a prefix: ``lang:en``, ``channel:sms``, ``topic:billing``.
A conversation's ``lang:*`` skills are hard requirements (an operator who cannot read the
visitor cannot help); the rest only rank candidates.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, select

from engine import locks
from engine.models import Contact, Conversation, HandoffEvent, Operator, State, Status, Team, utcnow
from engine.service import conversations, drafts, presence
from engine.service.errors import Conflict
from engine.service.runtime import ServiceContext
from engine.settings import Settings

ONLINE = "online"
LANGUAGE_PREFIX = "lang:"
DEFAULT_PRIORITY_STEP_SECONDS = 300.0


@dataclass(frozen=True)
class OperatorSnapshot:
    """What routing needs to know of one operator at one instant."""

    id: int
    status: str = ONLINE
    skills: frozenset[str] = frozenset()
    capacity: int = 3
    load: int = 0
    team_id: int | None = None
    last_assigned_at: datetime | None = None

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.load)


@dataclass(frozen=True)
class TeamSnapshot:
    id: int
    skills: frozenset[str] = frozenset()
    backup_team_id: int | None = None
    overflow_after_seconds: float | None = None


@dataclass(frozen=True)
class QueuedSnapshot:
    """One conversation waiting in the queue."""

    id: int
    queued_at: datetime
    skills: frozenset[str] = frozenset()
    team_id: int | None = None
    priority: int = 0
    vip: bool = False


@dataclass(frozen=True)
class Assignment:
    conversation_id: int
    operator_id: int
    reason: str


@dataclass(frozen=True)
class RoutingPolicy:
    priority_step_seconds: float = DEFAULT_PRIORITY_STEP_SECONDS
    vip_bonus: int = 1


DEFAULT_POLICY = RoutingPolicy()


def derive_skills(packet: Mapping[str, Any] | None, *, channel: str | None = None,
                  language: str | None = None, tags: Iterable[str] = ()) -> list[str]:
    """Skills a conversation asks for, from its handoff packet, channel and language.

    Topic tags come from the knowledge hits the bot retrieved (``packet["topics"]``, and any
    ``tags`` of the articles listed under ``packet["attempts"]``) and from the conversation's own
    tags; the result is sorted so that it is stable in storage.
    """
    skills: set[str] = set()
    packet = packet or {}
    language = language or packet.get("language")
    if language:
        skills.add(f"{LANGUAGE_PREFIX}{str(language).lower().split('-')[0]}")
    channel = channel or packet.get("channel")
    if channel:
        skills.add(f"channel:{str(channel).lower()}")
    topics: list[str] = list(tags) + list(packet.get("topics") or [])
    for attempt in packet.get("attempts") or []:
        for article in (attempt.get("articles") or []) if isinstance(attempt, Mapping) else []:
            if isinstance(article, Mapping):
                topics.extend(article.get("tags") or [])
    skills.update(f"topic:{str(t).strip().lower()}" for t in topics if str(t).strip())
    return sorted(skills)


def waited_seconds(conversation: QueuedSnapshot, now: datetime) -> float:
    return max(0.0, (now - conversation.queued_at).total_seconds())


def urgency(conversation: QueuedSnapshot, now: datetime, policy: RoutingPolicy = DEFAULT_POLICY) -> float:
    """Higher goes first: priority levels (VIP adds ``vip_bonus``) in seconds-of-wait units."""
    level = conversation.priority + (policy.vip_bonus if conversation.vip else 0)
    return level * policy.priority_step_seconds + waited_seconds(conversation, now)


def queue_order(queued: Iterable[QueuedSnapshot], now: datetime,
                policy: RoutingPolicy = DEFAULT_POLICY) -> list[QueuedSnapshot]:
    """The queue as operators and visitors see it: most urgent first, ties by arrival then id."""
    return sorted(queued, key=lambda c: (-urgency(c, now, policy), c.queued_at, c.id))


def allowed_teams(conversation: QueuedSnapshot, teams: Mapping[int, TeamSnapshot],
                  now: datetime) -> set[int] | None:
    """Teams whose members may take the conversation; None means anyone.

    Starts with the conversation's team and follows ``backup_team_id`` each time the
    cumulative wait passes the current team's ``overflow_after_seconds``.
    """
    if conversation.team_id is None:
        return None
    waited = waited_seconds(conversation, now)
    allowed: set[int] = set()
    threshold = 0.0
    current_id: int | None = conversation.team_id
    while current_id is not None and current_id not in allowed:
        allowed.add(current_id)
        team = teams.get(current_id)
        if team is None or team.backup_team_id is None or team.overflow_after_seconds is None:
            break
        threshold += team.overflow_after_seconds
        if waited < threshold:
            break
        current_id = team.backup_team_id
    return allowed


def overflowed(conversation: QueuedSnapshot, teams: Mapping[int, TeamSnapshot], now: datetime) -> bool:
    """Whether the conversation may now go beyond its own team."""
    allowed = allowed_teams(conversation, teams, now)
    return allowed is not None and len(allowed) > 1


def can_serve(operator: OperatorSnapshot, conversation: QueuedSnapshot, teams: Mapping[int, TeamSnapshot],
              at: datetime) -> bool:
    """Team (with overflow as of ``at``) and language allow this operator to take the conversation."""
    allowed = allowed_teams(conversation, teams, at)
    if allowed is not None and operator.team_id not in allowed:
        return False
    required = {s for s in conversation.skills if s.startswith(LANGUAGE_PREFIX)}
    return required <= operator_skills(operator, teams)


def eligible(operator: OperatorSnapshot, conversation: QueuedSnapshot, teams: Mapping[int, TeamSnapshot],
             now: datetime) -> bool:
    """Can take it right now: online, below capacity, and `can_serve`."""
    return operator.status == ONLINE and operator.free > 0 and can_serve(operator, conversation, teams, now)


def operator_skills(operator: OperatorSnapshot, teams: Mapping[int, TeamSnapshot]) -> frozenset[str]:
    """An operator has their own skills and their team's."""
    team = teams.get(operator.team_id) if operator.team_id is not None else None
    return operator.skills | (team.skills if team else frozenset())


def _rank(operator: OperatorSnapshot, conversation: QueuedSnapshot, teams: Mapping[int, TeamSnapshot],
          turn: Mapping[int, int]) -> tuple[Any, ...]:
    matched = len(conversation.skills & operator_skills(operator, teams))
    load_ratio = operator.load / operator.capacity if operator.capacity else 1.0
    last = operator.last_assigned_at.timestamp() if operator.last_assigned_at else float("-inf")
    return (-matched, load_ratio, operator.load, turn.get(operator.id, -1), last, operator.id)


def pick_operator(conversation: QueuedSnapshot, operators: Iterable[OperatorSnapshot],
                  teams: Mapping[int, TeamSnapshot], now: datetime,
                  turn: Mapping[int, int] | None = None) -> OperatorSnapshot | None:
    """Best eligible operator for one conversation, or None when nobody can take it now.

    ``turn`` orders operators already assigned within the current pass (they share the same
    ``now``, so the timestamps alone cannot tell who went last).
    """
    candidates = [op for op in operators if eligible(op, conversation, teams, now)]
    if not candidates:
        return None
    return min(candidates, key=lambda op: _rank(op, conversation, teams, turn or {}))


@dataclass
class _Plan:
    operators: dict[int, OperatorSnapshot]
    assignments: list[Assignment] = field(default_factory=list)
    turn: dict[int, int] = field(default_factory=dict)


def plan(queued: Iterable[QueuedSnapshot], operators: Sequence[OperatorSnapshot],
         teams: Mapping[int, TeamSnapshot], now: datetime,
         policy: RoutingPolicy = DEFAULT_POLICY) -> list[Assignment]:
    """Assign as much of the queue as free capacity allows, most urgent first.

    Each assignment updates the chosen operator's load and last-assignment time, so the next
    pick in the same pass sees it (that is what makes ties go round robin).
    """
    state = _Plan({op.id: op for op in operators})
    for conversation in queue_order(queued, now, policy):
        chosen = pick_operator(conversation, state.operators.values(), teams, now, state.turn)
        if chosen is None:
            continue
        outside_team = conversation.team_id is not None and chosen.team_id != conversation.team_id
        reason = "overflow" if outside_team else "routed"
        state.assignments.append(Assignment(conversation.id, chosen.id, reason))
        state.operators[chosen.id] = replace(chosen, load=chosen.load + 1, last_assigned_at=now)
        state.turn[chosen.id] = len(state.assignments)
    return state.assignments



# --- the thin layer: load snapshots, apply the plan through the conversation service -----------

@dataclass
class Floor:
    """The support floor at one instant, as routing and the queue estimate read it."""

    queued: list[QueuedSnapshot]
    operators: list[OperatorSnapshot]
    teams: dict[int, TeamSnapshot]
    started: dict[int, list[datetime]]  # operator id -> when each open conversation was assigned
    last_seq: dict[int, int]  # queued conversation id -> its last seq (for queue events)


def load_floor(session: Session, now: datetime, grace_seconds: float) -> Floor:
    """Snapshots from the store. An operator counts as online only if marked online and seen by
    a worker within the grace period; a queued conversation without stored skills gets them from
    its latest handoff packet."""
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
        status = op.status if not presence.is_gone(op.last_seen_at, now, grace_seconds) else Status.offline
        operators.append(OperatorSnapshot(id=op.id, status=status, skills=frozenset(op.skills),
                                          capacity=op.capacity, load=len(started[op.id]), team_id=op.team_id,
                                          last_assigned_at=last_assigned.get(op.id)))
    queued, last_seq = [], {}
    rows = session.exec(select(Conversation, Contact).where(Conversation.contact_id == Contact.id,
                                                             Conversation.state == State.queued)).all()
    packets = _latest_packets(session, [c.id for c, _ in rows if not c.skills])
    for conversation, contact in rows:
        skills = conversation.skills or derive_skills(packets.get(conversation.id),
                                                      channel=conversation.channel, tags=conversation.tags)
        queued.append(QueuedSnapshot(id=conversation.id, queued_at=conversation.queued_at or now,
                                     skills=frozenset(skills), team_id=conversation.team_id,
                                     priority=conversation.priority, vip=contact.vip))
        last_seq[conversation.id] = conversation.last_seq
    return Floor(queued, operators, teams, dict(started), last_seq)


def _latest_packets(session: Session, conversation_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The latest handoff packet of each conversation, in one query."""
    if not conversation_ids:
        return {}
    events = session.exec(select(HandoffEvent.conversation_id, HandoffEvent.packet).where(
        col(HandoffEvent.conversation_id).in_(conversation_ids), col(HandoffEvent.packet).is_not(None))
        .order_by(col(HandoffEvent.id))).all()
    return {conversation_id: packet for conversation_id, packet in events if packet}


def policy_for(settings: Settings) -> RoutingPolicy:
    return RoutingPolicy(priority_step_seconds=settings.priority_step_seconds)


async def route(ctx: ServiceContext, conversation_id: int | None = None,
                now: datetime | None = None) -> list[Assignment]:
    """Called by the conversation service when a conversation becomes ``queued``, and by the
    periodic task (``conversation_id=None``) for overflow and freed capacity.

    Plans over the whole queue (a new arrival may not be the most urgent), assigns through
    ``conversations.route_to`` and returns what it assigned; a conversation claimed meanwhile
    (``Conflict``) is skipped. Then the queue's new positions and waits are published.
    """
    from engine.service import queue  # queue builds on this module: imported here (a cycle)

    async with locks.exclusive(ctx, "routing"):  # one pass at a time, across workers too
        at = now or utcnow()
        floor = await ctx.read(load_floor, at, ctx.settings.presence_grace_seconds)
        done = []
        for assignment in plan(floor.queued, floor.operators, floor.teams, at, policy_for(ctx.settings)):
            try:
                await conversations.route_to(ctx, assignment.conversation_id, assignment.operator_id,
                                             assignment.reason)
            except Conflict:
                continue
            done.append(assignment)
    await queue.publish(ctx, at)
    if conversation_id is not None:
        drafts.schedule(ctx, conversation_id)  # the handoff: draft replies for whoever takes it
    return done
