"""Reports a support lead acts on, over conversations created in a window: first response and
resolution time by issue type (each tag, each topic), arrivals by hour of day, CSAT and response
times per operator, the bot's containment, and the conversations behind any figure (drill-down and
CSV export, with the same filters).

Definitions are those of ``engine.service.metrics`` (first response from the first handoff to the
first operator reply; resolution from the start to ``resolved_at``; an operator's figures are those
of the conversations they own last). A conversation's topics are its ``topic:*`` routing skills
(the topic read from the transcript and the knowledge-base entries it touched), else the topics of
what the bot retrieved when it handed over. Hours are local to the time zone asked for.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from pydantic import BaseModel
from sqlmodel import Session, col, select

from engine.models import Conversation, HandoffEvent, Operator, State, Transition
from engine.service.metrics import (
    Csat,
    Rate,
    TimeStats,
    as_utc,
    first_contact_resolved,
    handoff_time,
    is_contained,
    rate,
    time_stats,
)
from knowledge.errors import InputError

TOPIC = "topic:"


class Breakdown(BaseModel):
    """Figures for the conversations of one tag, topic or operator."""

    key: str
    conversations: int
    first_response: TimeStats
    resolution: TimeStats
    csat: Csat


class OperatorReport(Breakdown):
    operator_id: int


class Report(BaseModel):
    start: datetime
    end: datetime
    timezone: str
    conversations: int
    by_tag: list[Breakdown]
    by_topic: list[Breakdown]
    per_operator: list[OperatorReport]
    arrivals_by_hour: list[int]  # conversations started in each hour of the day (local), 0-23
    handoffs_by_hour: list[int]  # of which handed to a person
    bot_containment: Rate
    first_contact_resolution: Rate


class Row(BaseModel):
    """One conversation behind a figure."""

    id: int
    created_at: datetime
    channel: str
    state: str
    tags: list[str]
    topics: list[str]
    operator: str | None
    first_response_seconds: float | None
    resolution_seconds: float | None
    csat_score: int | None
    contained: bool


@dataclass(frozen=True)
class Filter:
    """Which conversations a drill-down lists: every given field must match."""

    tag: str | None = None
    topic: str | None = None
    operator_id: int | None = None
    hour: int | None = None
    handed_off: bool | None = None
    contained: bool | None = None

    def __post_init__(self) -> None:
        if self.hour is not None and not 0 <= self.hour <= 23:
            raise InputError(f"hour must be 0 to 23, got {self.hour}", field="hour")


@dataclass
class _Window:
    """The conversations of the window with what every figure needs, read once."""

    rows: list[Conversation]
    transitions: dict[int, list[Transition]]
    packets: dict[int, dict]
    names: dict[int, str]

    def topics(self, c: Conversation) -> list[str]:
        own = [s[len(TOPIC):] for s in c.skills if s.startswith(TOPIC)]
        return sorted(set(own or self.packets.get(c.id, {}).get("topics") or []))

    def first_response(self, c: Conversation) -> float | None:
        return _seconds(c.first_human_response_at, handoff_time(c, self.transitions[c.id]))

    def resolution(self, c: Conversation) -> float | None:
        return _seconds(c.resolved_at, c.created_at) if c.state == State.resolved else None

    def handed_off(self, c: Conversation) -> bool:
        return any(t.to_state in (State.queued, State.assigned) for t in self.transitions[c.id])


def _seconds(later: datetime | None, earlier: datetime | None) -> float | None:
    return None if later is None or earlier is None else (as_utc(later) - as_utc(earlier)).total_seconds()


def _read(session: Session, start: datetime, end: datetime) -> _Window:
    rows = list(session.exec(select(Conversation).where(col(Conversation.created_at) >= as_utc(start),
                                                        col(Conversation.created_at) < as_utc(end))
                             .order_by(col(Conversation.created_at), col(Conversation.id))).all())
    ids = [c.id for c in rows]
    transitions: dict[int, list[Transition]] = defaultdict(list)
    packets: dict[int, dict] = {}
    if ids:
        for t in session.exec(select(Transition).where(col(Transition.conversation_id).in_(ids))
                              .order_by(col(Transition.created_at), col(Transition.id))).all():
            transitions[t.conversation_id].append(t)
        for conversation_id, packet in session.exec(
                select(HandoffEvent.conversation_id, HandoffEvent.packet)
                .where(col(HandoffEvent.conversation_id).in_(ids), col(HandoffEvent.packet).is_not(None))
                .order_by(col(HandoffEvent.created_at), col(HandoffEvent.id))).all():
            packets.setdefault(conversation_id, packet or {})
    owners = {c.assignee_id for c in rows if c.assignee_id is not None}
    names = dict(session.exec(select(Operator.id, Operator.name).where(col(Operator.id).in_(owners))).all()) \
        if owners else {}
    return _Window(rows, transitions, packets, names)


def _breakdown(window: _Window, key: str, rows: Sequence[Conversation]) -> Breakdown:
    return Breakdown(key=key, conversations=len(rows), **_figures(window, rows))


def _figures(window: _Window, rows: Sequence[Conversation]) -> dict:
    scores = [c.csat_score for c in rows if c.csat_score is not None]
    return {
        "first_response": time_stats([s for c in rows if (s := window.first_response(c)) is not None]),
        "resolution": time_stats([s for c in rows if (s := window.resolution(c)) is not None]),
        "csat": Csat(count=len(scores), mean=statistics.fmean(scores) if scores else None,
                     satisfied_share=sum(s >= 4 for s in scores) / len(scores) if scores else None),
    }


def _grouped(pairs: Iterable[tuple[str, Conversation]]) -> dict[str, list[Conversation]]:
    groups: dict[str, list[Conversation]] = defaultdict(list)
    for key, c in pairs:
        groups[key].append(c)
    return groups


def _ranked(groups: dict[str, list[Conversation]], window: _Window) -> list[Breakdown]:
    return [_breakdown(window, key, rows) for key, rows in sorted(groups.items(), key=lambda kv: (-len(kv[1]),
                                                                                                  kv[0]))]


def report(session: Session, start: datetime, end: datetime, tz: tzinfo) -> Report:
    window = _read(session, start, end)
    rows = window.rows
    arrivals, handoffs = [0] * 24, [0] * 24
    for c in rows:
        hour = as_utc(c.created_at).astimezone(tz).hour
        arrivals[hour] += 1
        handoffs[hour] += window.handed_off(c)
    by_operator = _grouped((str(c.assignee_id), c) for c in rows if c.assignee_id is not None)
    per_operator = [OperatorReport(key=window.names.get(int(op), ""), operator_id=int(op),
                                   conversations=len(group), **_figures(window, group))
                    for op, group in sorted(by_operator.items(), key=lambda kv: (-len(kv[1]), int(kv[0])))]
    resolved = [c for c in rows if c.state == State.resolved and c.resolved_at is not None]
    return Report(
        start=as_utc(start), end=as_utc(end), timezone=str(tz), conversations=len(rows),
        by_tag=_ranked(_grouped((tag, c) for c in rows for tag in sorted(set(c.tags))), window),
        by_topic=_ranked(_grouped((topic, c) for c in rows for topic in window.topics(c)), window),
        per_operator=per_operator, arrivals_by_hour=arrivals, handoffs_by_hour=handoffs,
        bot_containment=rate(sum(is_contained(window.transitions[c.id]) for c in rows), len(rows)),
        first_contact_resolution=rate(first_contact_resolved(session, resolved, window.transitions),
                                      len(resolved)),
    )


def conversations(session: Session, start: datetime, end: datetime, tz: tzinfo, which: Filter) -> list[Row]:
    """The conversations behind a figure of ``report``: the same window, the same definitions."""
    window = _read(session, start, end)
    out = []
    for c in window.rows:
        topics = window.topics(c)
        kept = is_contained(window.transitions[c.id])
        if ((which.tag is not None and which.tag not in c.tags)
                or (which.topic is not None and which.topic not in topics)
                or (which.operator_id is not None and c.assignee_id != which.operator_id)
                or (which.hour is not None and as_utc(c.created_at).astimezone(tz).hour != which.hour)
                or (which.handed_off is not None and window.handed_off(c) != which.handed_off)
                or (which.contained is not None and kept != which.contained)):
            continue
        out.append(Row(id=c.id, created_at=as_utc(c.created_at), channel=c.channel, state=c.state,
                       tags=list(c.tags), topics=topics,
                       operator=window.names.get(c.assignee_id) if c.assignee_id is not None else None,
                       first_response_seconds=window.first_response(c),
                       resolution_seconds=window.resolution(c),
                       csat_score=c.csat_score, contained=kept))
    return out


CSV_COLUMNS = list(Row.model_fields)


def _cell(value: object) -> object:
    """One CSV cell: lists joined with ``;``, times in ISO, and text that a spreadsheet would run as
    a formula (``=``, ``+``, ``-``, ``@`` first) quoted with a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        value = ";".join(value)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def to_csv(rows: Sequence[Row]) -> str:
    """The rows as CSV, one header line first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([_cell(getattr(row, name)) for name in CSV_COLUMNS])
    return out.getvalue()
