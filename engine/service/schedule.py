"""Business hours' store side: teams' hours as the pure rules read them, the hours that apply to a
conversation or to the desk, and the admin's change of a team's hours (audited).

The rules are :mod:`engine.service.hours`. A team without a ``timezone`` has no hours: always open.
A conversation follows its team's hours when it has a team, else the desk's (open while any team
is). Times are judged by ``ctx.clock`` (the wall clock, unless a test set its own).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field, field_validator
from sqlmodel import Session, col, select

from engine.bus import OPERATORS
from engine.events import RosterUpdated
from engine.models import AuditEntry, Conversation, State, Team, TeamHours
from engine.service import hours
from engine.service.errors import Invalid, NotFound
from engine.service.runtime import Outbox, ServiceContext
from engine.validation import CleanInput

MAX_INTERVALS = 50


class Opening(CleanInput):
    """One open interval of the week, local to the team: ``{"day": "mon", "opens": "09:00", "closes":
    "17:00"}`` (``closes`` may be ``24:00``; a shift past midnight is two intervals)."""

    model_config = ConfigDict(extra="forbid")

    day: str = Field(pattern=r"^(mon|tue|wed|thu|fri|sat|sun)$")
    opens: str = Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", examples=["09:00"])
    closes: str = Field(pattern=r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$", examples=["17:00"])


class HoursChange(CleanInput):
    """A team's business hours as an admin sets them. ``timezone`` null (with no ``weekly``) removes
    them: the team is then always open."""

    model_config = ConfigDict(extra="forbid")

    timezone: str | None = Field(default=None, max_length=64, examples=["Europe/Berlin"])
    weekly: list[Opening] = Field(default_factory=list, max_length=MAX_INTERVALS)
    holiday_country: str | None = Field(default=None, min_length=2, max_length=8, examples=["DE"])
    holiday_subdivision: str | None = Field(default=None, min_length=1, max_length=16, examples=["BE"])
    reason: str = Field(default="", max_length=500)

    @field_validator("timezone", "holiday_country", "holiday_subdivision")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None


def snapshot(team: Team) -> hours.Hours | None:
    """The rules' view of a team's hours; None when it has none (always open)."""
    if not team.timezone:
        return None
    weekly = hours.intervals((row["day"], row["opens"], row["closes"]) for row in team.hours)
    return hours.Hours(team_id=team.id, timezone=team.timezone, weekly=weekly, country=team.holiday_country,
                       subdivision=team.holiday_subdivision)


def teams_hours(session: Session) -> dict[int, hours.Hours | None]:
    return {team.id: snapshot(team) for team in session.exec(select(Team).order_by(col(Team.id))).all()}


def state_for(known: dict[int, hours.Hours | None], team_id: int | None, at: datetime) -> hours.HoursState:
    """The hours of a conversation of ``team_id`` (None: the desk's) among the ``known`` teams."""
    if team_id is not None and team_id in known:
        team = known[team_id]
        return hours.ALWAYS_OPEN if team is None else hours.state(team, at)
    return hours.desk_state(list(known.values()), at)


def desk(session: Session, at: datetime) -> hours.HoursState:
    """Open or closed for a visitor who has not written yet (the widget's banner)."""
    return state_for(teams_hours(session), None, at)


def closed_for(session: Session, conversation_id: int, at: datetime) -> hours.HoursState | None:
    """The hours state of a conversation when its hours are closed at ``at``; None when open."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        return None
    return closed_for_team(session, conversation.team_id, at)


def closed_for_team(session: Session, team_id: int | None, at: datetime) -> hours.HoursState | None:
    """The hours state of ``team_id`` (None: the desk's) when they are closed at ``at``; None when open."""
    found = state_for(teams_hours(session), team_id, at)
    return None if found.open else found


def opened(session: Session, at: datetime) -> list[int]:
    """Held conversations whose hours are open at ``at``: routing releases them."""
    rows = session.exec(select(Conversation.id, Conversation.team_id).where(
        Conversation.state == State.queued, col(Conversation.held_until).is_not(None))).all()
    if not rows:
        return []
    known = teams_hours(session)
    return [conversation_id for conversation_id, team_id in rows if state_for(known, team_id, at).open]


def team(session: Session, team_id: int) -> Team:
    found = session.get(Team, team_id)
    if found is None:
        raise NotFound(f"team {team_id} does not exist")
    return found


def check(change: HoursChange) -> TeamHours:
    """The change as stored, or ``Invalid`` naming the field that is wrong."""
    try:
        if change.timezone is None:
            if change.weekly:
                raise hours.HoursError("weekly hours need a timezone (e.g. Europe/Berlin)", "timezone")
            country, subdivision = hours.check_calendar(change.holiday_country, change.holiday_subdivision)
            return TeamHours(holiday_country=country, holiday_subdivision=subdivision)
        hours.check_timezone(change.timezone)
        weekly = hours.intervals((o.day, o.opens, o.closes) for o in change.weekly)
        country, subdivision = hours.check_calendar(change.holiday_country, change.holiday_subdivision)
    except hours.HoursError as exc:
        raise Invalid(str(exc)) from exc
    return TeamHours(timezone=change.timezone,
                     hours=[{"day": d, "opens": o, "closes": c} for d, o, c in hours.rows(weekly)],
                     holiday_country=country, holiday_subdivision=subdivision)


async def set_hours(ctx: ServiceContext, actor_id: int, team_id: int, change: HoursChange) -> Team:
    """Replace a team's hours; audited (``team.hours``), and ``roster.updated`` tells open pages. A
    conversation held for an opening that is now earlier is released by the next routing pass."""
    values = check(change).model_dump()

    def work(session: Session, outbox: Outbox) -> Team:
        team = session.get(Team, team_id)
        if team is None:
            raise NotFound(f"team {team_id} does not exist")
        changes = {name: [getattr(team, name), value] for name, value in values.items()
                   if getattr(team, name) != value}
        for name, value in values.items():
            setattr(team, name, value)
        if changes:
            session.add(team)
            session.add(AuditEntry(actor_id=actor_id, action="team.hours", target=f"team:{team_id}",
                                   changes=changes, reason=change.reason.strip()))
            outbox.add(OPERATORS, RosterUpdated(entity="team", target_id=team_id, actor_id=actor_id,
                                                fields=sorted(changes)))
        return team

    return await ctx.act(work)
