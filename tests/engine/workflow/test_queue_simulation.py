"""Wait estimates against the waits that actually happen, in a simulated shift.

A discrete-event simulation with seeded Poisson arrivals and log-normal handle times drives the
real routing policy (`policy.plan`); every visitor who has to wait is told `policy.estimate` at
the moment they join the queue, and that is compared with the wait they then get. The same is
done for the naive "position times mean handle time" that many widgets show, which the test
requires to fail the bound that the product's estimator meets, and for that divided by the
number of slots, which does well on a uniform desk but not once skills split it.
"""

from __future__ import annotations

import heapq
import math
import random
import statistics
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import pytest

from engine.service.policy import HandleTimes, OperatorSnapshot, QueuedSnapshot, estimate, plan, queue_order

START = datetime(2026, 1, 5, 9, 0, 0)


@dataclass
class Shift:
    """One simulated shift; the parameters describe a busy support desk."""

    seed: int
    operators: int = 4
    capacity: int = 3
    mean_handle: float = 720.0  # seconds, with three conversations at once
    sigma: float = 0.6  # log-normal spread of handle times
    arrivals_per_hour: float = 57.0  # ~95% of the desk's throughput
    hours: float = 8.0
    vip_share: float = 0.05
    german_share: float = 0.0  # visitors writing German; only operator 1 reads it
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def handle_time(self) -> float:
        mu = _lognormal_mu(self.mean_handle, self.sigma)
        return self.rng.lognormvariate(mu, self.sigma)


def _lognormal_mu(mean: float, sigma: float) -> float:
    return math.log(mean) - sigma * sigma / 2


@dataclass
class Outcome:
    estimated: list[float] = field(default_factory=list)
    naive: list[float] = field(default_factory=list)
    rate: list[float] = field(default_factory=list)
    actual: list[float] = field(default_factory=list)


def simulate(shift: Shift) -> Outcome:
    rng = shift.rng
    history = deque((shift.handle_time() for _ in range(30)), maxlen=50)  # yesterday's handle times
    ops = {i: OperatorSnapshot(id=i, capacity=shift.capacity,
                               skills=frozenset({"lang:en", "lang:de"} if i == 1 else {"lang:en"}))
           for i in range(1, shift.operators + 1)}
    started: dict[int, list[datetime]] = {i: [] for i in ops}
    queued: dict[int, QueuedSnapshot] = {}
    told: dict[int, tuple[float, float, float]] = {}
    outcome = Outcome()
    events: list[tuple[datetime, int, str, int, datetime | None]] = []
    counter = 0

    def push(at: datetime, kind: str, ref: int, extra: datetime | None = None) -> None:
        nonlocal counter
        counter += 1
        heapq.heappush(events, (at, counter, kind, ref, extra))

    t = START
    end = START + timedelta(hours=shift.hours)
    next_id = 0
    while True:
        t += timedelta(seconds=rng.expovariate(shift.arrivals_per_hour / 3600))
        if t >= end:
            break
        next_id += 1
        push(t, "arrive", next_id)

    while events:
        now, _, kind, ref, extra = heapq.heappop(events)
        if kind == "arrive":
            language = "lang:de" if rng.random() < shift.german_share else "lang:en"
            queued[ref] = QueuedSnapshot(id=ref, queued_at=now, vip=rng.random() < shift.vip_share,
                                         skills=frozenset({language}))
        else:  # a conversation handled by operator `ref` ends
            started[ref].remove(extra)
            history.append((now - extra).total_seconds())
            ops[ref] = replace(ops[ref], load=len(started[ref]))
        for assignment in plan(list(queued.values()), list(ops.values()), {}, now):
            conversation = queued.pop(assignment.conversation_id)
            op = ops[assignment.operator_id]
            started[op.id].append(now)
            ops[op.id] = replace(op, load=op.load + 1, last_assigned_at=now)
            push(now + timedelta(seconds=shift.handle_time()), "end", op.id, now)
            if conversation.id in told:
                est, naive, rate = told.pop(conversation.id)
                outcome.estimated.append(est)
                outcome.naive.append(naive)
                outcome.rate.append(rate)
                outcome.actual.append((now - conversation.queued_at).total_seconds())
        if kind == "arrive" and ref in queued:
            handle = HandleTimes(tuple(history))
            mine = {e.conversation_id: e for e in estimate(list(queued.values()), list(ops.values()), started,
                                                             {}, handle, now)}
            position = [c.id for c in queue_order(queued.values(), now)].index(ref) + 1
            slots = shift.operators * shift.capacity
            told[ref] = (mine[ref].wait_seconds, position * handle.mean, position * handle.mean / slots)
    return outcome


def accuracy(estimated: list[float], actual: list[float]) -> tuple[float, float]:
    """Mean absolute error (seconds) and the share of estimates within 50% of the actual wait."""
    mae = statistics.fmean(abs(e - a) for e, a in zip(estimated, actual, strict=True))
    within = statistics.fmean(abs(e - a) <= 0.5 * a for e, a in zip(estimated, actual, strict=True))
    return mae, within


SCENARIOS = {"one language": 0.0, "a fifth of visitors write German, one operator reads it": 0.2}
SEEDS = range(3)


@pytest.fixture(scope="module", params=list(SCENARIOS))
def scenario(request: pytest.FixtureRequest) -> tuple[str, list[Outcome]]:
    share = SCENARIOS[request.param]
    return request.param, [simulate(Shift(seed=seed, german_share=share)) for seed in SEEDS]


def test_estimates_hold_against_simulated_waits(scenario: tuple[str, list[Outcome]]) -> None:
    name, outcomes = scenario
    actual = [a for o in outcomes for a in o.actual]
    mean_wait = statistics.fmean(actual)
    mae, within = accuracy([e for o in outcomes for e in o.estimated], actual)
    naive_mae, naive_within = accuracy([e for o in outcomes for e in o.naive], actual)
    rate_mae, rate_within = accuracy([e for o in outcomes for e in o.rate], actual)
    print(f"\nqueue estimates, {name}: {len(actual)} waits in {len(SEEDS)} simulated shifts, mean actual "
          f"wait {mean_wait:.0f} s. estimator: MAE {mae:.0f} s, within 50% {within:.0%}; "
          f"naive position x mean handle: MAE {naive_mae:.0f} s, within 50% {naive_within:.0%}; "
          f"position x mean handle / slots: MAE {rate_mae:.0f} s, within 50% {rate_within:.0%}")
    assert len(actual) >= 600  # the desk is busy enough that many visitors wait
    assert within >= 0.7 and mae <= 0.3 * mean_wait
    assert not (naive_within >= 0.7 and naive_mae <= 0.3 * mean_wait)
    assert mae <= rate_mae * 1.05  # never clearly worse than dividing by the slots...
    if SCENARIOS[name]:
        assert mae < 0.85 * rate_mae  # ...and clearly better once skills split the desk


def test_every_waiting_visitor_gets_an_estimate(scenario: tuple[str, list[Outcome]]) -> None:
    assert all(e is not None and e >= 0 for o in scenario[1] for e in o.estimated)
