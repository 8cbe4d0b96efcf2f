"""Staffing forecast: how many operators each hour of the week needs to meet a service level.

Pure rules over plain values (no database): ``engine.service.queries.staffing_traffic`` reads the
stored traffic, this module turns it into a forecast.

The model is Erlang C adjusted for concurrent chats. An operator who holds ``concurrency`` chats
at once is ``concurrency`` servers, and each chat holds one server for its handle time as it was
measured (first assignment to resolution) while operators worked at that concurrency, so the
slowdown of juggling several chats is already in the handle time. ``n`` operators are
``floor(n * concurrency)`` servers; the forecast is the smallest ``n`` whose Erlang C service level
(share of visitors answered within ``answer_seconds``) reaches the target. Erlang C assumes
exponential handle times; real chat handle times vary less than that (a log-normal with a
coefficient of variation below one), so it errs on the side of one operator too many, never too
few. ``tests/engine/staffing/test_forecast_simulation.py`` holds it within one operator of what a
simulation of the same traffic through the real routing policy needs.

Why not ``pyworkforce``: its ``ErlangC`` is the same formula for one interval, but importing the
package loads its scheduling and rostering modules, which need OR-Tools and pandas (well over
100 MB installed) for what is a dozen lines here; it has no notion of concurrent chats, and its
waiting probability is not defined (it returns values outside 0..1) when the servers do not
exceed the offered traffic, which a search from zero operators must handle.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from knowledge.errors import InputError

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
HOUR = timedelta(hours=1)
DEFAULT_HANDLE_SECONDS = 600.0  # when the window holds no handled conversation at all
MAX_OPERATORS = 1000  # a search bound far beyond any desk; reaching it means the input is absurd


@dataclass(frozen=True)
class Target:
    """A service level: ``share`` of visitors answered within ``answer_seconds`` of joining the queue."""

    share: float = 0.8
    answer_seconds: float = 30.0

    def __post_init__(self) -> None:
        if not 0 < self.share < 1:
            raise InputError(f"the service level must be between 0 and 1 (exclusive), got {self.share}",
                             field="service_level")
        if not 0 <= self.answer_seconds <= 86400:
            raise InputError(f"the answer time must be 0 to 86400 seconds, got {self.answer_seconds}",
                             field="answer_seconds")


@dataclass(frozen=True)
class Handled:
    """One conversation an operator handled: when it was first assigned and when it was resolved."""

    operator_id: int
    assigned_at: datetime
    resolved_at: datetime

    @property
    def seconds(self) -> float:
        return (self.resolved_at - self.assigned_at).total_seconds()


@dataclass(frozen=True)
class Traffic:
    """What the store recorded in ``[start, end)``: when conversations joined the queue, and what
    operators handled. ``capacity`` maps operator ids to their configured concurrent-chat limit."""

    start: datetime
    end: datetime
    arrivals: Sequence[datetime]
    handled: Sequence[Handled]
    capacity: dict[int, int] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Cell:
    """One hour of the week: the mean arrivals in that hour and the operators it needs."""

    weekday: int  # 0 = Monday
    hour: int
    arrivals_per_hour: float
    operators: int
    service_level: float | None  # what that many operators achieve (None: no traffic)
    occupancy: float | None


@dataclass(frozen=True)
class OperatorFigures:
    operator_id: int
    name: str
    handled: int
    mean_handle_seconds: float
    concurrency: float  # time-weighted mean chats open while the operator had at least one
    capacity: int | None


@dataclass(frozen=True)
class Forecast:
    start: datetime
    end: datetime
    timezone: str
    target: Target
    handle_seconds: float
    concurrency: float
    arrivals: int
    cells: list[Cell]  # 7 x 24, Monday 00:00 first
    operators: list[OperatorFigures]

    def cell(self, weekday: int, hour: int) -> Cell:
        return self.cells[weekday * 24 + hour]

    @property
    def peak(self) -> int:
        return max((c.operators for c in self.cells), default=0)

    @property
    def operator_hours(self) -> int:
        return sum(c.operators for c in self.cells)


def zone(name: str) -> tzinfo:
    """An IANA time zone by name (``Europe/Berlin``), refused with the name when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"unknown time zone {name!r} (expected an IANA name such as Europe/Berlin)",
                         field="tz") from None


def erlang_c(traffic: float, servers: int) -> float:
    """Probability that an arrival waits (Erlang C), by the stable Erlang B recursion; 1 when the
    servers cannot keep up (``servers <= traffic``)."""
    if traffic <= 0:
        return 0.0
    if servers <= traffic:
        return 1.0
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = traffic * blocking / (k + traffic * blocking)
    return servers * blocking / (servers - traffic * (1 - blocking))


def service_level(arrivals_per_hour: float, handle_seconds: float, servers: int,
                  answer_seconds: float) -> float:
    """Share of arrivals answered within ``answer_seconds`` with ``servers`` slots (M/M/c)."""
    traffic = arrivals_per_hour * handle_seconds / 3600
    if traffic <= 0:
        return 1.0
    if servers <= traffic:
        return 0.0
    waiting = erlang_c(traffic, servers)
    return max(0.0, 1 - waiting * math.exp(-(servers - traffic) * answer_seconds / handle_seconds))


def servers_for(operators: int, concurrency: float) -> int:
    return math.floor(operators * concurrency + 1e-9)


def operators_needed(arrivals_per_hour: float, handle_seconds: float, concurrency: float,
                     target: Target) -> int:
    """The fewest operators, each holding ``concurrency`` chats, that meet ``target``."""
    if arrivals_per_hour <= 0:
        return 0
    if handle_seconds <= 0 or concurrency <= 0:
        raise InputError("handle time and concurrency must be positive", field="concurrency")
    traffic = arrivals_per_hour * handle_seconds / 3600
    n = max(1, math.floor(traffic / concurrency))
    while service_level(arrivals_per_hour, handle_seconds, servers_for(n, concurrency),
                        target.answer_seconds) < target.share:
        n += 1
        if n > MAX_OPERATORS:
            raise InputError(f"more than {MAX_OPERATORS} operators needed: check the traffic")
    return n


def hours_of_week(start: datetime, end: datetime, tz: tzinfo) -> list[int]:
    """How many times each hour of the week (weekday * 24 + hour, local time) occurs in the window,
    counting the hours that begin inside it."""
    counts = [0] * 168
    cursor = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if cursor < start:
        cursor += HOUR
    while cursor < end:
        local = cursor.astimezone(tz)
        counts[local.weekday() * 24 + local.hour] += 1
        cursor += HOUR
    return counts


def arrival_rates(arrivals: Iterable[datetime], start: datetime, end: datetime, tz: tzinfo) -> list[float]:
    """Mean arrivals in each hour of the week (168 values, Monday 00:00 local first)."""
    occurrences = hours_of_week(start, end, tz)
    counts = [0] * 168
    for when in arrivals:
        if start <= when < end:
            local = when.astimezone(tz)
            counts[local.weekday() * 24 + local.hour] += 1
    return [count / seen if seen else 0.0 for count, seen in zip(counts, occurrences, strict=True)]


def concurrency_of(handled: Sequence[Handled]) -> float:
    """Time-weighted mean chats open while at least one was: handle seconds over busy seconds."""
    spans = sorted((h.assigned_at, h.resolved_at) for h in handled if h.resolved_at > h.assigned_at)
    if not spans:
        return 0.0
    busy = 0.0
    open_start, open_end = spans[0]
    for begin, finish in spans[1:]:
        if begin > open_end:
            busy += (open_end - open_start).total_seconds()
            open_start, open_end = begin, finish
        else:
            open_end = max(open_end, finish)
    busy += (open_end - open_start).total_seconds()
    return sum((f - b).total_seconds() for b, f in spans) / busy


def operator_figures(traffic: Traffic) -> list[OperatorFigures]:
    by_operator: dict[int, list[Handled]] = {}
    for h in traffic.handled:
        by_operator.setdefault(h.operator_id, []).append(h)
    return [OperatorFigures(operator_id=op, name=traffic.names.get(op, ""), handled=len(rows),
                            mean_handle_seconds=statistics.fmean(r.seconds for r in rows),
                            concurrency=concurrency_of(rows), capacity=traffic.capacity.get(op))
            for op, rows in sorted(by_operator.items())]


def forecast(traffic: Traffic, target: Target = Target(), tz: tzinfo = UTC,
             concurrency: float | None = None) -> Forecast:
    """Operators needed for each hour of the week from ``traffic``. ``concurrency`` defaults to
    the median configured capacity of the operators who handled it (routing fills each operator to
    that limit), else 3."""
    handles = [h.seconds for h in traffic.handled if h.seconds > 0]
    handle = statistics.fmean(handles) if handles else DEFAULT_HANDLE_SECONDS
    if concurrency is None:
        worked = [traffic.capacity[op] for op in {h.operator_id for h in traffic.handled}
                  if op in traffic.capacity]
        concurrency = float(statistics.median(worked)) if worked else 3.0
    if not 0 < concurrency <= 100:
        raise InputError(f"concurrency must be above 0 and at most 100 chats, got {concurrency}",
                         field="concurrency")
    rates = arrival_rates(traffic.arrivals, traffic.start, traffic.end, tz)
    cells = []
    for index, rate in enumerate(rates):
        n = operators_needed(rate, handle, concurrency, target)
        servers = servers_for(n, concurrency)
        load = rate * handle / 3600
        achieved = service_level(rate, handle, servers, target.answer_seconds) if n else None
        cells.append(Cell(weekday=index // 24, hour=index % 24, arrivals_per_hour=rate, operators=n,
                          service_level=achieved, occupancy=load / servers if n else None))
    return Forecast(start=traffic.start, end=traffic.end, timezone=str(tz), target=target,
                    handle_seconds=handle, concurrency=concurrency,
                    arrivals=sum(1 for a in traffic.arrivals if traffic.start <= a < traffic.end),
                    cells=cells, operators=operator_figures(traffic))
