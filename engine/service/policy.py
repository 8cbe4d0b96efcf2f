"""The rules of the support floor: pure functions over small frozen snapshots.

Routing (who takes which queued conversation), the queue's wait estimates, presence timing and the
words a waiting visitor is told. Nothing here imports another service module or touches the store:
every rule is tested on plain values, and the modules above (``routing``, ``queue``, ``presence``,
``conversations``, ``workflow``) load the snapshots, call these and apply what they return.

Routing rules, in order:

1. Urgency orders the queue: VIP contacts, high-value contacts (customer value at or above
   ``high_value_threshold``) and a higher `priority` go first, and time already
   waited ages every conversation upward (``priority_step_seconds`` of waiting is worth one
   priority level), so nobody starves behind a stream of urgent arrivals.
2. An operator is eligible when online, below capacity, in one of the conversation's allowed
   teams (its own team, plus its backup once it has waited longer than the team's
   ``overflow_after_seconds``, and so on down the chain), speaking its language and, when the
   contact has a region, having that ``region:<code>`` skill.
3. Among eligible operators: most matching skills first (topics, channel), then least loaded
   (open conversations over capacity), then round robin (longest since last assignment).

Skills are plain strings with a prefix: ``lang:en``, ``channel:sms``, ``topic:billing``.
A conversation's ``lang:*`` skills are hard requirements (an operator who cannot read the
visitor cannot help); the rest only rank candidates.

The wait estimate replays what routing will do. Every online operator has ``capacity`` slots: a
free slot is free now; a busy one frees when its conversation ends. Queued conversations, most
urgent first, each take the earliest slot that could serve them, which then stays busy for one
more handle time. The wait is when that slot frees. When a busy conversation ends is uncertain,
and the first of twelve busy slots to free comes much sooner than the smallest *expected* end, so
the replay is run many times with handle times drawn from the recent ones (a busy conversation's
remaining time drawn among those longer than what it has run so far) and the median is reported.
Nobody online who could take it means no estimate (None), never a made-up number.
"""

from __future__ import annotations

import bisect
import heapq
import random
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from engine.settings import Settings

ONLINE = "online"
LANGUAGE_PREFIX = "lang:"
REGION_PREFIX = "region:"
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
    region: str | None = None  # the contact's: operators must have ``region:<region>``
    value: float | None = None  # the contact's customer value


@dataclass(frozen=True)
class Assignment:
    conversation_id: int
    operator_id: int
    reason: str


@dataclass(frozen=True)
class RoutingPolicy:
    priority_step_seconds: float = DEFAULT_PRIORITY_STEP_SECONDS
    vip_bonus: int = 1
    high_value_threshold: float = 1000.0
    high_value_bonus: int = 1


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
    """Higher goes first: priority levels (VIP adds ``vip_bonus``, a customer value at or above
    ``high_value_threshold`` adds ``high_value_bonus``) in seconds-of-wait units."""
    high_value = conversation.value is not None and conversation.value >= policy.high_value_threshold
    level = (conversation.priority + (policy.vip_bonus if conversation.vip else 0)
             + (policy.high_value_bonus if high_value else 0))
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
    """Team (with overflow as of ``at``), language and the contact's region allow this operator to take
    the conversation."""
    allowed = allowed_teams(conversation, teams, at)
    if allowed is not None and operator.team_id not in allowed:
        return False
    required = {s for s in conversation.skills if s.startswith(LANGUAGE_PREFIX)}
    if conversation.region:
        required.add(f"{REGION_PREFIX}{conversation.region}")
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


@dataclass
class Floor:
    """The support floor at one instant, as routing and the queue estimate read it."""

    queued: list[QueuedSnapshot]
    operators: list[OperatorSnapshot]
    teams: dict[int, TeamSnapshot]
    started: dict[int, list[datetime]]  # operator id -> when each open conversation was assigned
    last_seq: dict[int, int]  # queued conversation id -> its last seq (for queue events)
    # queued after hours, not routed (nor estimated) before its team opens: conversation id -> the opening
    held: dict[int, datetime] = field(default_factory=dict)


def policy_for(settings: Settings) -> RoutingPolicy:
    return RoutingPolicy(priority_step_seconds=settings.priority_step_seconds,
                         high_value_threshold=settings.high_value_threshold)


# --- the queue's wait estimate --------------------------------------------------------------

DEFAULT_HANDLE_SECONDS = 600.0  # before any conversation has been handled: ten minutes


@dataclass(frozen=True)
class HandleTimes:
    """Recent handle times (assignment to end), in seconds."""

    samples: Sequence[float] = ()
    default: float = DEFAULT_HANDLE_SECONDS
    _sorted: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_sorted", tuple(sorted(self.samples)))

    @property
    def mean(self) -> float:
        return statistics.fmean(self.samples) if self.samples else self.default

    def draw(self, rng: random.Random) -> float:
        return rng.choice(self._sorted) if self._sorted else self.default

    def draw_remaining(self, elapsed: float, rng: random.Random) -> float:
        """Time left for a conversation that has run ``elapsed`` seconds, drawn among the recent
        handle times longer than that (one already longer than all of them may end any moment)."""
        if not self._sorted:
            return max(0.0, self.default - elapsed)
        first = bisect.bisect_right(self._sorted, elapsed)
        if first == len(self._sorted):
            return 0.0
        return self._sorted[rng.randrange(first, len(self._sorted))] - elapsed


@dataclass(frozen=True)
class Estimate:
    conversation_id: int
    position: int
    wait_seconds: float | None


Slot = tuple[float, int]
"""(seconds from now until it frees, operator id): heap order is "frees first"."""


def _slots(operator: OperatorSnapshot, elapsed: Sequence[float], handle: HandleTimes,
           rng: random.Random) -> list[Slot]:
    """When each of the operator's ``capacity`` slots frees, in one draw. ``elapsed`` holds how
    long each open conversation has run. With more open conversations than capacity (manual
    claims), the first to end only bring the load back down."""
    ends = sorted(handle.draw_remaining(e, rng) for e in elapsed)
    surplus = max(0, len(ends) - operator.capacity)
    free_now = max(0, operator.capacity - len(ends))
    return [(0.0, operator.id)] * free_now + [(t, operator.id) for t in ends[surplus:]]


def _replay(order: Sequence[QueuedSnapshot], online: Mapping[int, OperatorSnapshot],
            elapsed: Mapping[int, Sequence[float]], teams: Mapping[int, TeamSnapshot],
            handle: HandleTimes, now: datetime, rng: random.Random) -> dict[int, float | None]:
    """One draw of the future: the wait of each queued conversation."""
    slots = [slot for op in online.values() for slot in _slots(op, elapsed[op.id], handle, rng)]
    heapq.heapify(slots)
    waits: dict[int, float | None] = {}
    for conversation in order:
        skipped: list[Slot] = []
        chosen: Slot | None = None
        while slots:
            slot = heapq.heappop(slots)
            at = now + timedelta(seconds=slot[0])
            if can_serve(online[slot[1]], conversation, teams, at):
                chosen = slot
                break
            skipped.append(slot)
        for slot in skipped:
            heapq.heappush(slots, slot)
        if chosen is None:
            waits[conversation.id] = None
            continue
        waits[conversation.id] = chosen[0]
        heapq.heappush(slots, (chosen[0] + handle.draw(rng), chosen[1]))
    return waits


def estimate(queued: Sequence[QueuedSnapshot], operators: Sequence[OperatorSnapshot],
             started: Mapping[int, Sequence[datetime]], teams: Mapping[int, TeamSnapshot],
             handle: HandleTimes, now: datetime, policy: RoutingPolicy = DEFAULT_POLICY,
             draws: int = 32, seed: int = 0) -> list[Estimate]:
    """Position and estimated wait (median over ``draws`` replays) of every queued conversation,
    in queue order. ``started[operator_id]`` holds when each of that operator's open
    conversations was assigned. Seeded, so the same state gives the same estimate."""
    rng = random.Random(seed)
    order = queue_order(queued, now, policy)
    online = {op.id: op for op in operators if op.status == ONLINE and op.capacity > 0}
    elapsed = {op_id: [(now - s).total_seconds() for s in started.get(op_id, ())] for op_id in online}
    runs = [_replay(order, online, elapsed, teams, handle, now, rng) for _ in range(draws)]
    results = []
    for position, conversation in enumerate(order, start=1):
        waits = [run[conversation.id] for run in runs]
        known = [w for w in waits if w is not None]
        wait = statistics.median(known) if known and len(known) == len(waits) else None
        results.append(Estimate(conversation.id, position, wait))
    return results


def minutes(wait: float | None) -> int | None:
    return None if wait is None else round(wait / 60)


MIN_REPLY_SAMPLES = 3


def typical_reply(samples: Sequence[float]) -> float | None:
    """What "typically replies in ..." says: the median of recent first responses (queued to a
    person's first reply, in seconds); None with fewer than ``MIN_REPLY_SAMPLES``, never a guess."""
    return statistics.median(samples) if len(samples) >= MIN_REPLY_SAMPLES else None


# --- presence timing ----------------------------------------------------------------------------

OFFLINE = "offline"
DEFAULT_GRACE_SECONDS = 60.0
HEARTBEATS_PER_GRACE = 4


@dataclass(frozen=True)
class PresenceSnapshot:
    operator_id: int
    status: str
    last_seen_at: datetime | None


def is_gone(last_seen_at: datetime | None, now: datetime,
            grace_seconds: float = DEFAULT_GRACE_SECONDS) -> bool:
    """Not seen by any worker for longer than the grace period."""
    return last_seen_at is None or (now - last_seen_at).total_seconds() > grace_seconds


def available(status: str, last_seen_at: datetime | None, now: datetime,
              grace_seconds: float = DEFAULT_GRACE_SECONDS) -> bool:
    """Someone a conversation can be handed to: online and seen within the grace period. A transfer
    or a reopen to anyone else would land on nobody, so it goes back to the queue instead."""
    return status == ONLINE and not is_gone(last_seen_at, now, grace_seconds)


def reopen_to(resolved_at: datetime | None, resolver_available: bool | None, now: datetime,
              window_seconds: float) -> str:
    """Where a visitor's message after resolution goes: within ``window_seconds`` of a resolution by
    a person it belongs to that person (``"operator"``, or ``"queue"`` when they are not available: a
    person was just helping, the bot should not pick it up); later, or when nobody owned it
    (``resolver_available`` None), to the bot."""
    if resolver_available is None or resolved_at is None or window_seconds <= 0 \
            or (now - resolved_at).total_seconds() > window_seconds:
        return "bot"
    return "operator" if resolver_available else "queue"


def expired(snapshots: Iterable[PresenceSnapshot], now: datetime,
            grace_seconds: float = DEFAULT_GRACE_SECONDS) -> list[int]:
    """Operators shown online or away who have been gone longer than the grace period: they
    become offline, and their open conversations return to the queue."""
    return sorted(s.operator_id for s in snapshots
                  if s.status != OFFLINE and is_gone(s.last_seen_at, now, grace_seconds))


# --- what a visitor is told ---------------------------------------------------------------------

HANDOFF_NOTICE = "I'm bringing in a person from our team to help you with this. You can keep writing here " \
    "in the meantime."
TALK_TO_PERSON = "Talk to a person"  # the quick reply of the bot's offer of a person
# Taking the offer in words, as on SMS or email where there is no button to tap: "yes please", "sure".
_TAKES_OFFER = re.compile(
    r"^(?:yes|yeah|yep|yup|sure|please|yes please|ok please|okay please|please do|go ahead|i would|"
    r"yes i would|i'd like that|yes i'd like that)(?:[ ,!.]+(?:please|thanks|thank you))*[ !.]*$"
)


def accepts_offer(text: str) -> bool:
    """Whether the visitor's answer to the bot's offer of a person takes it: the quick reply, or a
    plain yes ("yes please", "sure"); "ok" and "thanks" only acknowledge the answer."""
    words = " ".join(text.casefold().split())
    return words == TALK_TO_PERSON.casefold() or bool(_TAKES_OFFER.match(words))


def wait_notice(position: int, wait_seconds: float | None) -> str:
    """Where the visitor stands, told once routing has run and they are still waiting."""
    text = f"You're number {position} in line"
    if wait_seconds is not None:
        minutes = max(1, round(wait_seconds / 60))
        text += f", about {minutes} minute{'s' if minutes != 1 else ''}"
    return text + "."
