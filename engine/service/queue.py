"""The queue as visitors see it: a position and an honest estimate of the wait.

The estimate replays what routing will do. Every online operator has ``capacity`` slots: a free
slot is free now; a busy one frees when its conversation ends. Queued conversations, most urgent
first, each take the earliest slot that could serve them (team, overflow and language as in
`routing`), which then stays busy for one more handle time. The wait is when that slot frees.

When a busy conversation ends is uncertain, and the first of twelve busy slots to free comes much
sooner than the smallest *expected* end (a minimum of expectations overestimates short waits by
minutes). So the replay is run many times with handle times drawn from the recent ones (a busy
conversation's remaining time drawn among those longer than what it has run so far), and the
median wait is reported. Nobody online who could take it means no estimate (None), never a
made-up number.

`tests/engine/workflow/test_queue_simulation.py` holds these estimates against the waits that a
simulated shift actually produces.
"""

from __future__ import annotations

import asyncio
import bisect
import heapq
import logging
import random
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from weakref import WeakKeyDictionary

from sqlmodel import Session, col, select

from engine.bus import OPERATORS, EventBus, conversation_stream
from engine.events import ConversationChanged, QueueInfo, QueueUpdated
from engine.models import Conversation, State, utcnow
from engine.service import drafts, presence, routing
from engine.service.routing import (
    DEFAULT_POLICY,
    ONLINE,
    OperatorSnapshot,
    QueuedSnapshot,
    RoutingPolicy,
    TeamSnapshot,
    can_serve,
    queue_order,
)
from engine.service.runtime import ServiceContext
from engine.settings import Settings

log = logging.getLogger(__name__)
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

    def info(self) -> QueueInfo:
        return QueueInfo(position=self.position, wait_seconds=self.wait_seconds)


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


# --- the store side: estimates for the API, live updates, the periodic task --------------------

def handle_times(session: Session, limit: int) -> HandleTimes:
    """The ``limit`` most recent handle times: assignment to resolution of resolved conversations."""
    rows = session.exec(select(Conversation.assigned_at, Conversation.resolved_at).where(
        Conversation.state == State.resolved, col(Conversation.assigned_at).is_not(None),
        col(Conversation.resolved_at).is_not(None), col(Conversation.assigned_at) <= Conversation.resolved_at)
        .order_by(col(Conversation.resolved_at).desc()).limit(limit)).all()
    return HandleTimes(tuple((resolved - assigned).total_seconds() for assigned, resolved in rows))


@dataclass(frozen=True)
class QueueView:
    estimates: list[Estimate]
    last_seq: dict[int, int]

    def info(self, conversation_id: int) -> QueueInfo | None:
        found = next((e for e in self.estimates if e.conversation_id == conversation_id), None)
        return found.info() if found else None


def current(session: Session, settings: Settings, now: datetime | None = None) -> QueueView:
    """Every queued conversation's position and estimated wait, as of ``now``."""
    at = now or utcnow()
    floor = routing.load_floor(session, at, settings.presence_grace_seconds)
    handle = handle_times(session, settings.handle_time_samples)
    estimates = estimate(floor.queued, floor.operators, floor.started, floor.teams, handle, at,
                         routing.policy_for(settings))
    return QueueView(estimates, floor.last_seq)


_SENT: WeakKeyDictionary[EventBus, dict[int, tuple[int, int | None]]] = WeakKeyDictionary()
"""What each queued visitor was last told (position, wait in minutes) through a bus, so that the
periodic task speaks only when something changed. Per worker, like the sockets it feeds."""


def _minutes(wait: float | None) -> int | None:
    return None if wait is None else round(wait / 60)


async def publish(ctx: ServiceContext, now: datetime | None = None) -> QueueView:
    """Tell operators the queue (``queue.updated``) and each queued visitor their position and
    wait (a ``conversation.updated`` on the conversation's stream, which the visitor socket sends
    as ``state``), where either changed since last told."""
    view = await ctx.read(current, ctx.settings, now)
    sent = _SENT.setdefault(ctx.bus, {})
    changed = {}
    for e in view.estimates:
        told = (e.position, _minutes(e.wait_seconds))
        if sent.get(e.conversation_id) != told:
            sent[e.conversation_id] = told
            changed[e.conversation_id] = e
    for gone in set(sent) - {e.conversation_id for e in view.estimates}:
        del sent[gone]
        changed[gone] = None
    if not changed:
        return view
    positions = {e.conversation_id: e.info() for e in view.estimates}
    await ctx.bus.publish(OPERATORS, QueueUpdated(queued=len(view.estimates), positions=positions))
    for conversation_id, e in changed.items():
        if e is None:
            continue
        await ctx.bus.publish(conversation_stream(conversation_id), ConversationChanged(
            type="conversation.updated", conversation_id=conversation_id,
            seq=view.last_seq.get(conversation_id, 0), state=State.queued, from_state=State.queued,
            actor="system", reason="queue position", queue=e.info()))
    return view


async def tick(ctx: ServiceContext, now: datetime | None = None) -> None:
    """One periodic pass: presence (heartbeats, grace expiry and hand-back), routing (overflow,
    freed capacity; it publishes the queue's live update), then drafts (uses of drafts, and drafts
    for visitor messages that arrived while a person has the conversation)."""
    await presence.sweep(ctx, now)
    await routing.route(ctx, now=now)
    await drafts.tick(ctx)


async def run(ctx: ServiceContext) -> None:
    """The periodic task that create_app's lifespan starts; runs until cancelled."""
    while True:
        try:
            await tick(ctx)
        except Exception:
            log.exception("operator workflow tick failed; retrying next interval")
        await asyncio.sleep(ctx.settings.routing_interval_seconds)
