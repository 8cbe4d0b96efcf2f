"""Business hours: when a team is open, when it opens next, and what a visitor is told after hours.

Pure rules, like ``policy``: they take frozen snapshots and an instant, and import no other service
module and no store. A team's hours are a weekly schedule in its own time zone (``Europe/Berlin``:
9:00 to 17:00 there, whatever the server's zone, summer time included) minus the public holidays of
its country and subdivision (the ``holidays`` package: ``DE`` / ``BE`` closes Berlin on Christmas
Day and on Women's Day). A team without hours is always open, so a desk that never set any behaves as
before.

Which hours apply to a conversation: its team's when it has one; otherwise the desk's, open while
any team is open and opening when the first team opens. Routing holds a conversation queued while
its hours are closed and releases it at the opening (``conversations.release_opened``); the visitor
is told when that is, in the team's time zone, and never that someone is coming now.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import holidays

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
CLOCK = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$|^24:00$")
HORIZON_DAYS = 400  # a schedule that opens on no day in this long never opens: say so, never guess
HOLIDAY_LANGUAGE = "en_US"  # holiday names as a visitor reads them, where the calendar has them


class HoursError(ValueError):
    """A schedule that cannot be used, with the field that is wrong (the API answers 422)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Interval:
    """Open on ``day`` (0 is Monday) from ``opens`` to ``closes``, minutes after local midnight;
    ``closes`` may be 1440 (24:00). A shift past midnight is two intervals."""

    day: int
    opens: int
    closes: int


@dataclass(frozen=True)
class Hours:
    """One team's hours: the weekly schedule in ``timezone`` and the holiday calendar it follows."""

    team_id: int
    timezone: str
    weekly: tuple[Interval, ...]
    country: str | None = None
    subdivision: str | None = None


@dataclass(frozen=True)
class HoursState:
    """Open or closed at one instant: when it closes (open) or opens next (closed; None when the
    schedule never opens again), and the holiday that closes today, if one does."""

    open: bool
    timezone: str | None = None
    closes_at: datetime | None = None
    opens_at: datetime | None = None
    holiday: str | None = None
    team_id: int | None = None

    @property
    def always_open(self) -> bool:
        return self.open and self.timezone is None


ALWAYS_OPEN = HoursState(open=True)


# --- reading a schedule ---------------------------------------------------------------------------

def minutes_of(clock: str, what: str) -> int:
    match = CLOCK.match(clock)
    if match is None:
        raise HoursError(f"{what} is {clock!r}; write a time as HH:MM from 00:00 to 24:00", what)
    return 1440 if clock == "24:00" else int(match.group(1)) * 60 + int(match.group(2))


def clock_of(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def check_timezone(name: str) -> ZoneInfo:
    if name not in _zones():
        raise HoursError(f"timezone {name!r} is not an IANA time zone (e.g. Europe/Berlin, America/New_York)",
                         "timezone")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise HoursError(f"timezone {name!r} cannot be loaded: {exc}", "timezone") from exc


def check_calendar(country: str | None, subdivision: str | None) -> tuple[str | None, str | None]:
    """The holiday calendar as stored (upper-case codes), or an error naming what is unknown."""
    if country is None:
        if subdivision is not None:
            raise HoursError("a holiday subdivision needs its country", "holiday_subdivision")
        return None, None
    supported = holidays.list_supported_countries()
    code = country.strip().upper()
    if code not in supported:
        raise HoursError(f"holiday_country {country!r} is not a country the holidays calendar knows "
                         "(ISO 3166-1 alpha-2, e.g. DE, US, FR)", "holiday_country")
    if subdivision is None:
        return code, None
    subdivisions = {s.upper(): s for s in supported[code]}
    found = subdivisions.get(subdivision.strip().upper())
    if found is None:
        listed = ", ".join(sorted(supported[code])[:40]) or "none"
        raise HoursError(f"holiday_subdivision {subdivision!r} is not a subdivision of {code} "
                         f"(known: {listed})",
                         "holiday_subdivision")
    return code, found


def intervals(rows: Iterable[tuple[str, str, str]]) -> tuple[Interval, ...]:
    """``(day, opens, closes)`` rows (``("mon", "09:00", "17:00")``) checked and sorted; intervals of
    one day may not overlap."""
    found = []
    for number, (day, opens, closes) in enumerate(rows):
        where = f"weekly.{number}"
        if day not in DAYS:
            raise HoursError(f"{where}.day is {day!r}; use one of {', '.join(DAYS)}", f"{where}.day")
        start, end = minutes_of(opens, f"{where}.opens"), minutes_of(closes, f"{where}.closes")
        if end <= start:
            raise HoursError(f"{where} closes at {closes}, not after it opens at {opens} (a shift past "
                             "midnight is two intervals: until 24:00, then from 00:00 the next day)", where)
        found.append(Interval(DAYS.index(day), start, end))
    found.sort(key=lambda i: (i.day, i.opens))
    for before, after in zip(found, found[1:], strict=False):
        if before.day == after.day and after.opens < before.closes:
            raise HoursError(f"on {DAYS[before.day]} {clock_of(before.opens)}-{clock_of(before.closes)} and "
                             f"{clock_of(after.opens)}-{clock_of(after.closes)} overlap", "weekly")
    return tuple(found)


# --- open or closed -------------------------------------------------------------------------------

@lru_cache(maxsize=256)
def _calendar(country: str, subdivision: str | None, year: int) -> holidays.HolidayBase:
    try:
        return holidays.country_holidays(country, subdiv=subdivision, years=year, language=HOLIDAY_LANGUAGE)
    except NotImplementedError:  # a calendar without names in English: its own language
        return holidays.country_holidays(country, subdiv=subdivision, years=year)


def holiday(hours: Hours, day: date) -> str | None:
    """The name of the public holiday that closes the team on ``day`` (its local date), if any."""
    if hours.country is None:
        return None
    name = _calendar(hours.country, hours.subdivision, day.year).get(day)
    return str(name) if name else None


def _periods(hours: Hours, day: date, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """The team's open periods of one local date, in UTC (none on a holiday)."""
    if holiday(hours, day) is not None:
        return []
    return [(_local(day, i.opens, zone), _local(day, i.closes, zone)) for i in hours.weekly
            if i.day == day.weekday()]


def _local(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    """``minutes`` after midnight of local ``day`` as a UTC instant (24:00 is the next midnight)."""
    moment = datetime.combine(day + timedelta(days=minutes // 1440), time(minutes % 1440 // 60, minutes % 60),
                              zone)
    return moment.astimezone(UTC)


def _walk(hours: Hours, first: date, zone: ZoneInfo) -> Iterator[tuple[datetime, datetime]]:
    """The open periods from local date ``first`` on, in order, for ``HORIZON_DAYS``."""
    if not hours.weekly:
        return
    for offset in range(HORIZON_DAYS):
        yield from _periods(hours, first + timedelta(days=offset), zone)


def state(hours: Hours, at: datetime) -> HoursState:
    """Whether the team is open at ``at`` (aware, or naive UTC), until when, or when it opens next."""
    at = _aware(at)
    zone = check_timezone(hours.timezone)
    today = at.astimezone(zone).date()
    common = {"timezone": hours.timezone, "team_id": hours.team_id}
    periods = _walk(hours, today - timedelta(days=1), zone)
    for start, end in periods:
        if end <= at:
            continue
        if start > at:
            return HoursState(open=False, opens_at=start, holiday=holiday(hours, today), **common)
        for later_start, later_end in periods:  # back to back (until 24:00, from 00:00): one opening
            if later_start != end:
                break
            end = later_end
        return HoursState(open=True, closes_at=end, **common)
    return HoursState(open=False, holiday=holiday(hours, today), **common)


def upcoming_holidays(hours: Hours, at: datetime, count: int) -> list[tuple[date, str]]:
    """The team's next ``count`` public holidays from ``at``'s local date on (what the admin checks)."""
    if hours.country is None:
        return []
    today = _aware(at).astimezone(check_timezone(hours.timezone)).date()
    found: list[tuple[date, str]] = []
    for year in (today.year, today.year + 1):
        calendar = _calendar(hours.country, hours.subdivision, year)
        found += sorted((day, str(name)) for day, name in calendar.items() if day >= today)
    return found[:count]


def desk_state(teams: Sequence[Hours | None], at: datetime) -> HoursState:
    """The desk's hours over several teams (``None`` for a team without hours, which is always open):
    open while any team is; closed, it opens when the first team does, told in that team's zone."""
    if not teams or any(team is None for team in teams):
        return ALWAYS_OPEN
    states = [state(team, at) for team in teams if team is not None]
    opened = [s for s in states if s.open]
    if opened:
        return max(opened, key=lambda s: s.closes_at or datetime.max.replace(tzinfo=UTC))
    upcoming = [s for s in states if s.opens_at is not None]
    if not upcoming:
        return states[0]
    return min(upcoming, key=lambda s: s.opens_at)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


# --- what a visitor is told -----------------------------------------------------------------------

def delay(seconds: float) -> str:
    """``in 13 hours``: rounded to what a person would say (minutes under an hour, hours under two days)."""
    minutes = max(1, round(seconds / 60))
    if minutes < 60:
        return f"in {minutes} minute{'s' if minutes != 1 else ''}"
    hours_ = round(minutes / 60)
    if hours_ < 48:
        return f"in {hours_} hour{'s' if hours_ != 1 else ''}"
    return f"in {int(hours_ / 24 + 0.5)} days"  # half up: 60 hours is "in 3 days", never sooner than true


def when(opens_at: datetime, zone_name: str, at: datetime) -> str:
    """``at 9:00`` (today), ``tomorrow at 9:00``, ``on Monday at 9:00`` (within a week), else
    ``on Monday 4 January at 9:00``: the team's local time."""
    zone = ZoneInfo(zone_name)
    local, today = opens_at.astimezone(zone), _aware(at).astimezone(zone).date()
    clock = f"{local.hour}:{local.minute:02d}"
    days = (local.date() - today).days
    if days <= 0:
        return f"at {clock}"
    if days == 1:
        return f"tomorrow at {clock}"
    name = DAY_NAMES[local.weekday()]
    if days < 7:
        return f"on {name} at {clock}"
    return f"on {name} {local.day} {local.strftime('%B')} at {clock}"


def opening_phrase(closed: HoursState, at: datetime) -> str:
    """``we open at 9:00 (Europe/Berlin time), in 13 hours``, or that no opening is scheduled."""
    if closed.opens_at is None or closed.timezone is None:
        return "no opening time is scheduled yet"
    seconds = (closed.opens_at - _aware(at)).total_seconds()
    return f"we open {when(closed.opens_at, closed.timezone, at)} ({closed.timezone} time), {delay(seconds)}"


def _away(closed: HoursState) -> str:
    return f"Our team is away for {closed.holiday}" if closed.holiday else "Our team is away right now"


def banner(closed: HoursState, at: datetime) -> str:
    """What the widget shows before the visitor writes."""
    return f"{_away(closed)}: {opening_phrase(closed, at)}. The assistant can still help in the meantime."


def closed_notice(closed: HoursState, at: datetime, *, can_leave_contact: bool) -> str:
    """What a visitor who needs a person is told after hours: when people are back, that the question
    waits for them, and (on the web, where we have no address) that they may leave one."""
    text = f"{_away(closed)}, so nobody can answer you this minute: {opening_phrase(closed, at)}. " \
        "Your question is queued for the team, with this conversation, for when they open."
    if can_leave_contact:
        text += " If you may not be here then, leave your email or phone number and we'll answer you there."
    else:
        text += " We'll answer you here."
    return text


def rows(weekly: Iterable[Interval]) -> list[tuple[str, str, str]]:
    """A schedule as the admin API writes it: ``[("mon", "09:00", "17:00"), ...]``."""
    return [(DAYS[i.day], clock_of(i.opens), clock_of(i.closes)) for i in weekly]
