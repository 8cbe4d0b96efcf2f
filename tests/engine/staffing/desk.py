"""A simulated support desk for the staffing tests: seeded Poisson arrivals, log-normal handle times,
and the real routing policy (``policy.plan``) assigning visitors to operators who hold several chats.

``run_desk`` serves a list of arrivals with a fixed roster and says, for each visitor, who took them
and when; it both writes the seeded week of stored traffic and checks what a forecast promises.
"""

from __future__ import annotations

import heapq
import math
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from engine.db import create_all, make_engine
from engine.models import Contact, Conversation, Operator, Transition
from engine.service.policy import OperatorSnapshot, QueuedSnapshot, plan

WEEK_START = datetime(2024, 3, 4, tzinfo=UTC)  # a Monday, far from the rows other tests write
MEAN_HANDLE = 720.0  # seconds with three chats at once
SIGMA = 0.6  # log-normal spread: a coefficient of variation of about 0.66
SEED_OPERATORS = 10


def busy_desk_rate(weekday: int, hour: int) -> float:
    """Visitors per hour handed to people: a weekday peak late morning and mid-afternoon, quiet
    nights, weekends at about 40%."""
    if hour < 7 or hour >= 22:
        base = 2.0
    elif hour < 9:
        base = 12.0 + 10.0 * (hour - 7)
    elif hour < 18:
        base = 42.0 + 14.0 * math.sin((hour - 9) / 9 * math.pi) - (10.0 if hour == 12 else 0.0)
    else:
        base = 30.0 - 5.0 * (hour - 18)
    return base * (0.4 if weekday >= 5 else 1.0)


def lognormal(rng: random.Random, mean: float = MEAN_HANDLE, sigma: float = SIGMA) -> float:
    return rng.lognormvariate(math.log(mean) - sigma * sigma / 2, sigma)


def poisson_arrivals(rng: random.Random, rate_per_hour: float, start: datetime,
                     hours: float) -> list[datetime]:
    arrivals, t, end = [], start, start + timedelta(hours=hours)
    if rate_per_hour <= 0:
        return arrivals
    while True:
        t += timedelta(seconds=rng.expovariate(rate_per_hour / 3600))
        if t >= end:
            return arrivals
        arrivals.append(t)


@dataclass(frozen=True)
class Served:
    arrived: datetime
    assigned: datetime
    resolved: datetime
    operator: int

    @property
    def wait(self) -> float:
        return (self.assigned - self.arrived).total_seconds()


def run_desk(arrivals: Sequence[datetime], handle: Callable[[], float], operators: int,
             capacity: int = 3) -> list[Served]:
    """Serve ``arrivals`` (sorted) with ``operators`` online all along, each up to ``capacity``."""
    ops = {i: OperatorSnapshot(id=i, capacity=capacity, skills=frozenset({"lang:en"}))
           for i in range(1, operators + 1)}
    queued: dict[int, QueuedSnapshot] = {}
    events: list[tuple[datetime, int, str, int]] = []
    for n, when in enumerate(arrivals):
        events.append((when, n, "arrive", n))
    heapq.heapify(events)
    counter = len(arrivals)
    served: list[Served] = []
    while events:
        now, _, kind, ref = heapq.heappop(events)
        if kind == "arrive":
            queued[ref] = QueuedSnapshot(id=ref, queued_at=now, skills=frozenset({"lang:en"}))
        else:
            ops[ref] = replace(ops[ref], load=ops[ref].load - 1)
        if not queued:
            continue
        for assignment in plan(list(queued.values()), list(ops.values()), {}, now):
            visitor = queued.pop(assignment.conversation_id)
            op = ops[assignment.operator_id]
            ops[op.id] = replace(op, load=op.load + 1, last_assigned_at=now)
            end = now + timedelta(seconds=handle())
            served.append(Served(arrived=visitor.queued_at, assigned=now, resolved=end, operator=op.id))
            counter += 1
            heapq.heappush(events, (end, counter, "end", op.id))
    return served


def answered_within(rate_per_hour: float, handle: Callable[[], float], operators: int, capacity: int,
                    rng: random.Random, answer_seconds: float = 30.0, hours: float = 100.0,
                    warm_up: float = 2.0) -> float:
    """Steady-state share of visitors answered within ``answer_seconds`` at a constant rate."""
    start = WEEK_START
    arrivals = poisson_arrivals(rng, rate_per_hour, start, hours)
    counted = [s for s in run_desk(arrivals, handle, operators, capacity)
               if s.arrived >= start + timedelta(hours=warm_up)]
    return sum(s.wait <= answer_seconds for s in counted) / len(counted)


def seeded_week(seed: int = 7, start: datetime = WEEK_START) -> list[Served]:
    """A week of traffic from ``start`` (on the hour), following the profile by the weekday and hour
    of each hour, served by ten operators with three chats each."""
    rng = random.Random(seed)
    hours = [start + timedelta(hours=slot) for slot in range(168)]
    arrivals = [a for hour in hours
                for a in poisson_arrivals(rng, busy_desk_rate(hour.weekday(), hour.hour), hour, 1)]
    return run_desk(arrivals, lambda: lognormal(rng), SEED_OPERATORS)


TOPICS = ("billing", "billing", "billing", "shipping", "shipping", "account")


def store(url: str, served: list[Served], names: Sequence[str] = (), issues: bool = False) -> None:
    """Write ``served`` as the service would have: queued, assigned, resolved, with transitions.
    ``names`` name the operators (``Desk n`` otherwise); ``issues`` gives each conversation a tag
    and topic and most of them a rating, for a report to show."""
    engine = make_engine(url)
    create_all(engine)
    tag = uuid.uuid4().hex[:8]
    with Session(engine) as session:
        contact = Contact(name=f"staffing-{tag}")
        named = [*names, *(f"Desk {i}" for i in range(len(names) + 1, SEED_OPERATORS + 1))]
        ops = [Operator(email=f"desk{i}-{tag}@example.com", name=named[i - 1], password_hash="x", capacity=3)
               for i in range(1, SEED_OPERATORS + 1)]
        session.add_all([contact, *ops])
        session.flush()
        for n, s in enumerate(served):
            topic = TOPICS[n % len(TOPICS)]
            if issues:  # a visitor each, a few of whom come back
                who = n - 41 if n % 10 == 0 and n >= 41 else n  # back an hour or so later
                contact = Contact(name=f"visitor {n}", email=f"visitor{who}-{tag}@example.com")
                session.add(contact)
                session.flush()
            row = Conversation(contact_id=contact.id, state="resolved", token_hash=uuid.uuid4().hex,
                               created_at=s.arrived - timedelta(minutes=2), queued_at=s.arrived,
                               assigned_at=s.assigned, resolved_at=s.resolved,
                               first_human_response_at=s.assigned + timedelta(seconds=20 + n % 7 * 15),
                               assignee_id=ops[s.operator - 1].id,
                               tags=[topic] if issues else [], skills=[f"topic:{topic}"] if issues else [],
                               csat_score=(5, 4, 5, 3, None, 4, 2, 5)[n % 8] if issues else None)
            session.add(row)
            session.flush()
            if issues and n % 2 == 0:  # beside it, one the bot resolved alone
                kept = Conversation(contact_id=contact.id, state="resolved", token_hash=uuid.uuid4().hex,
                                    created_at=s.arrived - timedelta(minutes=9), tags=[topic],
                                    resolved_at=s.arrived - timedelta(minutes=6))
                session.add(kept)
                session.flush()
                session.add(Transition(conversation_id=kept.id, from_state="bot", to_state="resolved",
                                       actor="bot", created_at=s.arrived - timedelta(minutes=6)))
            session.add_all([
                Transition(conversation_id=row.id, from_state="bot", to_state="queued", actor="bot",
                           created_at=s.arrived),
                Transition(conversation_id=row.id, from_state="queued", to_state="assigned", actor="system",
                           created_at=s.assigned),
                Transition(conversation_id=row.id, from_state="assigned", to_state="resolved",
                           actor=f"operator:{ops[s.operator - 1].id}", created_at=s.resolved)])
        session.commit()
    engine.dispose()
