"""Support metrics computed from what the store recorded, over conversations created in a window.

Definitions (each holds against values computed by hand in
``tests/engine/workflow/test_metrics.py``):

* first response time: handoff (the first move to the queue) to the first operator reply;
* resolution time: conversation start to its resolution (``resolved_at``);
* CSAT: mean score (1-5) and the share of 4 and 5;
* first-contact resolution: resolved conversations that were neither reopened nor followed by a new
  conversation from the same person (any contact sharing an email, phone or channel identity, so a
  web visitor who returns with the same email counts) within 7 days of their first resolution, over
  resolved conversations;
* conversations per operator: conversations owned by each operator (the last owner);
* bot containment: resolved with no person involved (never queued or assigned) and not reopened
  within 72 hours of the first resolution, over all conversations;
* handoff rate: conversations the bot escalated, over all conversations; by reason: conversations
  whose (first) escalation named that reason;
* draft acceptance: drafts (created in the window) that an operator sent close to as drafted (``used``:
  edit ratio at most ``drafts.USED_MAX_EDIT_RATIO``), over drafts; ``started``: drafts a reply started
  from, however much it was edited; edit ratio: the share of a draft's words the operator changed,
  averaged over started drafts;
* account actions (asked for in the window): how many, by status, completed ones by kind with their
  total amount per unit (currency or days), and how many needed someone's approval.

Times are in seconds with median and p90 (linear interpolation between closest ranks).
"""

from __future__ import annotations

import bisect
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from engine.models import (
    AccountAction,
    ActionStatus,
    Contact,
    ContactIdentity,
    Conversation,
    Draft,
    HandoffEvent,
    Operator,
    State,
    Transition,
)
from engine.service.staffing import Forecast, Handled, Target, Traffic, forecast
from knowledge.errors import InputError

FCR_DAYS = 7
CONTAINMENT_HOURS = 72
HUMAN_STATES = (State.queued, State.assigned)


class TimeStats(BaseModel):
    count: int
    mean: float | None = None
    median: float | None = None
    p90: float | None = None


class Rate(BaseModel):
    count: int  # how many qualified
    total: int  # out of how many
    rate: float | None = None


class Csat(BaseModel):
    count: int
    mean: float | None = None
    satisfied_share: float | None = None  # share of 4 and 5


class OperatorLoad(BaseModel):
    operator_id: int
    name: str
    conversations: int


class DraftStats(BaseModel):
    created: int
    used: int
    started: int = 0
    acceptance: float | None = None
    mean_edit_ratio: float | None = None
    by_kind: dict[str, Rate] = {}


class ActionStats(BaseModel):
    asked: int = 0
    by_status: dict[str, int] = {}
    completed_by_kind: dict[str, int] = {}
    completed_amounts: dict[str, Decimal] = {}  # per unit: "GBP" refunded and waived, "days" extended
    needed_approval: int = 0


class Metrics(BaseModel):
    start: datetime
    end: datetime
    conversations: int
    first_response: TimeStats
    resolution: TimeStats
    csat: Csat
    first_contact_resolution: Rate
    per_operator: list[OperatorLoad]
    bot_containment: Rate
    handoff: Rate
    handoff_by_reason: dict[str, Rate]
    drafts: DraftStats
    actions: ActionStats = ActionStats()


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1), interpolating linearly between the closest ranks."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def time_stats(values: Sequence[float]) -> TimeStats:
    if not values:
        return TimeStats(count=0)
    return TimeStats(count=len(values), mean=statistics.fmean(values), median=statistics.median(values),
                     p90=percentile(values, 0.9))


def rate(count: int, total: int) -> Rate:
    return Rate(count=count, total=total, rate=count / total if total else None)


def as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_window(start: str | None, end: str | None, now: datetime | None = None,
                 days: int = 7) -> tuple[datetime, datetime]:
    """ISO datetimes (naive means UTC); the default window is the ``days`` before ``end``."""
    def parse(text: str, field: str) -> datetime:
        try:
            return as_utc(datetime.fromisoformat(text.strip().replace("Z", "+00:00")))
        except ValueError:
            raise InputError(f"{field} must be an ISO date or datetime, got {text!r}", field=field) from None

    stop = parse(end, "end") if end else as_utc(now or datetime.now(UTC))
    begin = parse(start, "start") if start else stop - timedelta(days=days)
    if begin >= stop:
        raise InputError(f"start ({begin.isoformat()}) must be before end ({stop.isoformat()})",
                         field="start")
    return begin, stop


def _seconds(later: datetime | None, earlier: datetime | None) -> float | None:
    if later is None or earlier is None:
        return None
    return (as_utc(later) - as_utc(earlier)).total_seconds()


def compute(session: Session, start: datetime, end: datetime) -> Metrics:
    start, end = as_utc(start), as_utc(end)
    rows = list(session.exec(select(Conversation).where(col(Conversation.created_at) >= start,
                                                        col(Conversation.created_at) < end)
                             .order_by(col(Conversation.id))).all())
    ids = [c.id for c in rows]
    transitions: dict[int, list[Transition]] = defaultdict(list)
    escalations: dict[int, HandoffEvent] = {}
    if ids:
        for t in session.exec(select(Transition).where(col(Transition.conversation_id).in_(ids))
                              .order_by(col(Transition.created_at), col(Transition.id))).all():
            transitions[t.conversation_id].append(t)
        for e in session.exec(select(HandoffEvent).where(col(HandoffEvent.conversation_id).in_(ids),
                                                         HandoffEvent.action == "escalate")
                              .order_by(col(HandoffEvent.created_at), col(HandoffEvent.id))).all():
            escalations.setdefault(e.conversation_id, e)
    total = len(rows)

    handed_off = {c.id: handoff_time(c, transitions[c.id]) for c in rows}
    first_response = [s for c in rows
                      if (s := _seconds(c.first_human_response_at, handed_off[c.id])) is not None]
    resolution = [s for c in rows if c.state == State.resolved
                  and (s := _seconds(c.resolved_at, c.created_at)) is not None]
    scores = [c.csat_score for c in rows if c.csat_score is not None]

    resolved = [c for c in rows if c.state == State.resolved and c.resolved_at is not None]
    fcr = first_contact_resolved(session, resolved, transitions)

    contained = sum(1 for c in rows if is_contained(transitions[c.id]))

    owners = Counter(c.assignee_id for c in rows if c.assignee_id is not None)
    names = dict(session.exec(select(Operator.id, Operator.name).where(col(Operator.id).in_(owners))).all()) \
        if owners else {}
    per_operator = [OperatorLoad(operator_id=op, name=names.get(op, ""), conversations=n)
                    for op, n in sorted(owners.items(), key=lambda item: (-item[1], item[0]))]

    reasons = Counter(reason for e in escalations.values() for reason in dict.fromkeys(e.reasons))
    return Metrics(
        start=start, end=end, conversations=total,
        first_response=time_stats(first_response), resolution=time_stats(resolution),
        csat=Csat(count=len(scores), mean=statistics.fmean(scores) if scores else None,
                  satisfied_share=sum(s >= 4 for s in scores) / len(scores) if scores else None),
        first_contact_resolution=rate(fcr, len(resolved)),
        per_operator=per_operator,
        bot_containment=rate(contained, total),
        handoff=rate(len(escalations), total),
        handoff_by_reason={reason: rate(n, total) for reason, n in sorted(reasons.items())},
        drafts=_drafts(session, start, end),
        actions=_actions(session, start, end),
    )


def same_people(session: Session, contact_ids: set[int]) -> dict[int, set[int]]:
    """For each contact, every contact that shares an email (any case), a phone or a channel identity
    with it, itself included: ``context.related_contacts`` for many contacts in a few queries."""
    if not contact_ids:
        return {}

    def keys_of(contacts: Sequence[Contact], identities: Sequence[ContactIdentity]) -> dict[int, set[str]]:
        keys: dict[int, set[str]] = {c.id: set() for c in contacts}
        for c in contacts:
            keys[c.id] |= {f"email:{c.email.lower()}"} if c.email else set()
            keys[c.id] |= {f"sms:{c.phone}"} if c.phone else set()
        for i in identities:
            external = i.external_id.lower() if i.channel == "email" else i.external_id
            keys.setdefault(i.contact_id, set()).add(f"{i.channel}:{external}")
        return keys

    def contacts(ids: set[int]) -> list[Contact]:
        return list(session.exec(select(Contact).where(col(Contact.id).in_(ids))).all())

    def identities(ids: set[int]) -> list[ContactIdentity]:
        query = select(ContactIdentity).where(col(ContactIdentity.contact_id).in_(ids))
        return list(session.exec(query).all())

    own = keys_of(contacts(contact_ids), identities(contact_ids))
    wanted = set().union(*own.values())
    values = {k.split(":", 1)[1] for k in wanted}
    emails = {k.split(":", 1)[1] for k in wanted if k.startswith("email:")}
    phones = {k.split(":", 1)[1] for k in wanted if k.startswith("sms:")}
    found: set[int] = set()
    if emails or phones:
        found |= set(session.exec(select(Contact.id).where(or_(func.lower(Contact.email).in_(emails),
                                                                col(Contact.phone).in_(phones)))).all())
    if values:
        external = col(ContactIdentity.external_id)
        found |= set(session.exec(select(ContactIdentity.contact_id).where(
            or_(external.in_(values), func.lower(external).in_(emails)))).all())
    others = keys_of(contacts(found), identities(found)) if found else {}
    by_key: dict[str, set[int]] = defaultdict(set)
    for contact_id, keys in {**others, **own}.items():
        for key in keys:
            by_key[key].add(contact_id)
    return {c: {c}.union(*(by_key[k] for k in own.get(c, set()))) for c in contact_ids}


def first_contact_resolved(session: Session, resolved: Sequence[Conversation],
                           transitions: dict[int, list[Transition]]) -> int:
    """How many of ``resolved`` needed no second contact: neither reopened nor followed by a new
    conversation from the same person within 7 days of the first resolution. The same person is
    every contact sharing an email, a phone or a channel identity (``same_people``), so a web
    visitor who comes back with the same email, who is a new contact each time because what a
    visitor types is unverified, counts against it."""
    people = same_people(session, {c.contact_id for c in resolved})
    everyone = set().union(*people.values()) if people else set()
    starts: dict[int, list[datetime]] = defaultdict(list)
    if everyone:
        for contact_id, created in session.exec(select(Conversation.contact_id, Conversation.created_at)
                                                .where(col(Conversation.contact_id).in_(everyone))).all():
            starts[contact_id].append(as_utc(created))
    merged: dict[frozenset[int], list[datetime]] = {}
    count = 0
    for c in resolved:
        person = frozenset(people[c.contact_id])
        if person not in merged:
            merged[person] = sorted(t for contact_id in person for t in starts[contact_id])
        times = merged[person]
        first = next((as_utc(t.created_at) for t in transitions[c.id] if t.to_state == State.resolved),
                     as_utc(c.resolved_at))
        until = first + timedelta(days=FCR_DAYS)
        reopened = any(t.from_state == State.resolved and first < as_utc(t.created_at) <= until
                       for t in transitions[c.id])
        returned = bisect.bisect_right(times, until) > bisect.bisect_right(times, first)
        count += not (reopened or returned)
    return count


def handoff_time(conversation: Conversation, moves: list[Transition]) -> datetime | None:
    """When a person was first asked for: the first move to the queue (``queued_at`` is the
    latest, and a transfer to a team queues again after the first response)."""
    return next((t.created_at for t in moves if t.to_state == State.queued), conversation.queued_at)


def is_contained(moves: list[Transition]) -> bool:
    """Resolved, never with a person, not reopened within 72 hours of the first resolution."""
    if any(t.to_state in HUMAN_STATES for t in moves):
        return False
    resolutions = [as_utc(t.created_at) for t in moves if t.to_state == State.resolved]
    if not resolutions:
        return False
    first = resolutions[0]
    return not any(t.from_state == State.resolved and first < as_utc(t.created_at)
                   <= first + timedelta(hours=CONTAINMENT_HOURS) for t in moves)


def _actions(session: Session, start: datetime, end: datetime) -> ActionStats:
    rows = session.exec(select(AccountAction).where(col(AccountAction.created_at) >= start,
                                                    col(AccountAction.created_at) < end)).all()
    done = [a for a in rows if a.status == ActionStatus.completed]
    amounts: dict[str, Decimal] = defaultdict(Decimal)
    for a in done:
        amounts[a.unit] += a.amount
    return ActionStats(
        asked=len(rows), by_status=dict(sorted(Counter(a.status for a in rows).items())),
        completed_by_kind=dict(sorted(Counter(a.kind for a in done).items())),
        completed_amounts=dict(sorted(amounts.items())),
        needed_approval=sum(1 for a in rows
                            if a.approved_by is not None or a.status == ActionStatus.awaiting_approval),
    )


def _drafts(session: Session, start: datetime, end: datetime) -> DraftStats:
    drafts = session.exec(select(Draft).where(col(Draft.created_at) >= start,
                                              col(Draft.created_at) < end)).all()
    started = [d for d in drafts if d.used_message_id is not None]
    used = [d for d in started if d.used]
    edits = [d.edit_ratio for d in started if d.edit_ratio is not None]
    kinds = sorted({d.kind for d in drafts})
    return DraftStats(
        created=len(drafts), used=len(used), started=len(started),
        acceptance=len(used) / len(drafts) if drafts else None,
        mean_edit_ratio=statistics.fmean(edits) if edits else None,
        by_kind={k: rate(sum(1 for d in used if d.kind == k), sum(1 for d in drafts if d.kind == k))
                 for k in kinds},
    )


def staffing_traffic(session: Session, start: datetime, end: datetime) -> Traffic:
    """What the staffing forecast needs from ``[start, end)``: when each conversation first joined
    the queue (the demand for a person; conversations the bot kept never need one), and each
    handled conversation's first assignment to its resolution, counted for its last owner."""
    start, end = as_utc(start), as_utc(end)
    first_queued = (select(Transition.conversation_id, func.min(Transition.created_at))
                    .where(Transition.to_state == State.queued).group_by(col(Transition.conversation_id))
                    .having(func.min(Transition.created_at) >= start, func.min(Transition.created_at) < end))
    arrivals = [as_utc(when) for _, when in session.exec(first_queued).all()]
    first_assigned = (select(Transition.conversation_id, func.min(Transition.created_at).label("at"))
                      .where(Transition.to_state == State.assigned)
                      .group_by(col(Transition.conversation_id)).subquery())
    rows = session.exec(select(Conversation.assignee_id, first_assigned.c.at, Conversation.resolved_at)
                        .join(first_assigned, first_assigned.c.conversation_id == Conversation.id)
                        .where(Conversation.state == State.resolved,
                               col(Conversation.assignee_id).is_not(None),
                               first_assigned.c.at >= start, first_assigned.c.at < end)).all()
    handled = [h for op, assigned, resolved in rows if resolved is not None
               and (h := Handled(operator_id=op, assigned_at=as_utc(assigned),
                                 resolved_at=as_utc(resolved))).seconds > 0]
    operators = session.exec(select(Operator.id, Operator.name, Operator.capacity)).all()
    return Traffic(start=start, end=end, arrivals=sorted(arrivals), handled=handled,
                   capacity={op: capacity for op, _, capacity in operators},
                   names={op: name for op, name, _ in operators})



def staffing_forecast(session: Session, start: datetime, end: datetime, target: Target,
                      tz: tzinfo = UTC, concurrency: float | None = None) -> Forecast:
    """The staffing forecast (``engine.service.staffing``) from the traffic stored in the window."""
    return forecast(staffing_traffic(session, start, end), target, tz=tz, concurrency=concurrency)
