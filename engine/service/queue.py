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

import heapq
import random
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from engine.events import QueueInfo
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

DEFAULT_HANDLE_SECONDS = 600.0  # before any conversation has been handled: ten minutes


@dataclass(frozen=True)
class HandleTimes:
    """Recent handle times (assignment to end), in seconds."""

    samples: Sequence[float] = ()
    default: float = DEFAULT_HANDLE_SECONDS

    @property
    def mean(self) -> float:
        return statistics.fmean(self.samples) if self.samples else self.default

    def draw(self, rng: random.Random) -> float:
        return rng.choice(self.samples) if self.samples else self.default

    def draw_remaining(self, elapsed: float, rng: random.Random) -> float:
        """Time left for a conversation that has run ``elapsed`` seconds, drawn among the recent
        handle times longer than that (one already longer than all of them may end any moment)."""
        longer = [s for s in self.samples if s > elapsed] if self.samples else [self.default]
        return max(0.0, rng.choice(longer) - elapsed) if longer else 0.0


@dataclass(frozen=True)
class Estimate:
    conversation_id: int
    position: int
    wait_seconds: float | None

    def info(self) -> QueueInfo:
        return QueueInfo(position=self.position, wait_seconds=self.wait_seconds)


@dataclass(order=True, frozen=True)
class _Slot:
    free_at: datetime
    operator_id: int = field(compare=False)


def _slots(operator: OperatorSnapshot, started: Sequence[datetime], handle: HandleTimes, now: datetime,
           rng: random.Random) -> list[_Slot]:
    """When each of the operator's ``capacity`` slots frees, in one draw. With more open
    conversations than capacity (manual claims), the first to end only bring the load back down."""
    ends = sorted(now + timedelta(seconds=handle.draw_remaining((now - s).total_seconds(), rng))
                  for s in started)
    surplus = max(0, len(ends) - operator.capacity)
    free_now = max(0, operator.capacity - len(ends))
    return [_Slot(now, operator.id)] * free_now + [_Slot(t, operator.id) for t in ends[surplus:]]


def _replay(order: Sequence[QueuedSnapshot], online: Mapping[int, OperatorSnapshot],
            started: Mapping[int, Sequence[datetime]], teams: Mapping[int, TeamSnapshot],
            handle: HandleTimes, now: datetime, rng: random.Random) -> dict[int, float | None]:
    """One draw of the future: the wait of each queued conversation."""
    slots = [slot for op in online.values() for slot in _slots(op, started.get(op.id, ()), handle, now, rng)]
    heapq.heapify(slots)
    waits: dict[int, float | None] = {}
    for conversation in order:
        skipped: list[_Slot] = []
        chosen: _Slot | None = None
        while slots:
            slot = heapq.heappop(slots)
            if can_serve(online[slot.operator_id], conversation, teams, slot.free_at):
                chosen = slot
                break
            skipped.append(slot)
        for slot in skipped:
            heapq.heappush(slots, slot)
        if chosen is None:
            waits[conversation.id] = None
            continue
        waits[conversation.id] = (chosen.free_at - now).total_seconds()
        heapq.heappush(slots, _Slot(chosen.free_at + timedelta(seconds=handle.draw(rng)), chosen.operator_id))
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
    runs = [_replay(order, online, started, teams, handle, now, rng) for _ in range(draws)]
    results = []
    for position, conversation in enumerate(order, start=1):
        waits = [run[conversation.id] for run in runs]
        known = [w for w in waits if w is not None]
        wait = statistics.median(known) if known and len(known) == len(waits) else None
        results.append(Estimate(conversation.id, position, wait))
    return results
