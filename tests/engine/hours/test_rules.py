"""The business-hours rules on plain values: open and closed in the team's own zone (summer time
included), the next opening past weekends and public holidays of the team's subdivision, several
teams as one desk, the words a visitor reads, and schedules refused with the field that is wrong."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.service import hours

WEEKDAYS = [(day, "09:00", "17:00") for day in hours.DAYS[:5]]


def team(zone: str = "Europe/Berlin", country: str | None = "DE", subdivision: str | None = "BE",
         rows: list[tuple[str, str, str]] | None = None, team_id: int = 1) -> hours.Hours:
    weekly = hours.intervals(WEEKDAYS if rows is None else rows)
    return hours.Hours(team_id, zone, weekly, country, subdivision)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_open_in_the_teams_zone_until_closing_then_closed_until_the_next_morning() -> None:
    berlin = team()
    noon = hours.state(berlin, utc(2027, 1, 12, 11, 0))  # Tuesday 12:00 in Berlin (UTC+1)
    assert noon.open and noon.closes_at == utc(2027, 1, 12, 16, 0)
    evening = hours.state(berlin, utc(2027, 1, 12, 19, 0))  # 20:00 there
    assert not evening.open and evening.opens_at == utc(2027, 1, 13, 8, 0) and evening.holiday is None
    assert hours.opening_phrase(evening, utc(2027, 1, 12, 19, 0)) == \
        "we open tomorrow at 9:00 (Europe/Berlin time), in 13 hours"


def test_weekend_and_summer_time() -> None:
    berlin = team()
    friday_night = utc(2027, 10, 29, 20, 0)  # 22:00 CEST; the clocks go back on Sunday 31 October
    closed = hours.state(berlin, friday_night)
    assert closed.opens_at == utc(2027, 11, 1, 8, 0)  # Monday 9:00 CET is 8:00 UTC
    assert hours.opening_phrase(closed, friday_night) == \
        "we open on Monday at 9:00 (Europe/Berlin time), in 3 days"
    new_york = hours.state(team("America/New_York", "US", "NY"), utc(2027, 1, 12, 13, 0))  # 8:00 there
    assert not new_york.open and new_york.opens_at == utc(2027, 1, 12, 14, 0)
    assert hours.opening_phrase(new_york, utc(2027, 1, 12, 13, 0)) == \
        "we open at 9:00 (America/New_York time), in 1 hour"


def test_a_public_holiday_of_the_subdivision_keeps_the_team_closed() -> None:
    sunday_night = utc(2027, 3, 7, 20, 0)  # Monday 8 March is Women's Day in Berlin, not in Hamburg
    berlin = hours.state(team(subdivision="BE"), sunday_night)
    assert berlin.opens_at == utc(2027, 3, 9, 8, 0)
    hamburg = hours.state(team(subdivision="HH"), sunday_night)
    assert hamburg.opens_at == utc(2027, 3, 8, 8, 0)
    on_the_day = hours.state(team(subdivision="BE"), utc(2027, 3, 8, 10, 0))
    assert not on_the_day.open and on_the_day.holiday == "Women's Day"
    assert hours.banner(on_the_day, utc(2027, 3, 8, 10, 0)).startswith(
        "Our team is away for Women's Day: we open tomorrow at 9:00")
    easter = hours.state(team(), utc(2027, 3, 25, 17, 0))  # Thursday: Good Friday, the weekend, Easter Monday
    assert easter.opens_at == utc(2027, 3, 30, 7, 0)  # Tuesday 9:00, summer time by then
    christmas = hours.state(team(), utc(2027, 12, 24, 18, 0))  # Friday; 25 and 26 fall on a weekend
    assert christmas.opens_at == utc(2027, 12, 27, 8, 0)
    assert [name for _day, name in hours.upcoming_holidays(team(), utc(2027, 12, 20, 12, 0), 3)] == \
        ["Christmas Day", "Second Day of Christmas", "New Year's Day"]


def test_desk_is_open_while_any_team_is_and_opens_with_the_first() -> None:
    berlin, new_york = team(team_id=1), team("America/New_York", "US", "NY", team_id=2)
    sunday_night = utc(2027, 3, 7, 20, 0)
    desk = hours.desk_state([berlin, new_york], sunday_night)
    assert not desk.open and desk.team_id == 2 and desk.opens_at == utc(2027, 3, 8, 14, 0)  # Berlin's holiday
    assert hours.desk_state([berlin, new_york], utc(2027, 3, 9, 15, 0)).open  # both open
    assert hours.desk_state([berlin, None], sunday_night).always_open  # a team without hours answers
    assert hours.desk_state([], sunday_night).always_open


def test_back_to_back_intervals_are_one_opening_and_a_schedule_that_never_opens_says_so() -> None:
    night_shift = team(rows=[("mon", "20:00", "24:00"), ("tue", "00:00", "06:00")])
    assert hours.state(night_shift, utc(2027, 1, 11, 22, 0)).closes_at == utc(2027, 1, 12, 5, 0)
    never = hours.state(team(rows=[]), utc(2027, 1, 11, 22, 0))
    assert not never.open and never.opens_at is None
    assert hours.opening_phrase(never, utc(2027, 1, 11, 22, 0)) == "no opening time is scheduled yet"


def test_notices_never_promise_someone_now() -> None:
    at = utc(2027, 1, 12, 19, 0)
    closed = hours.state(team(), at)
    web = hours.closed_notice(closed, at, can_leave_contact=True)
    assert "nobody can answer you this minute" in web and "leave your email or phone number" in web
    assert "tomorrow at 9:00 (Europe/Berlin time), in 13 hours" in web
    sms = hours.closed_notice(closed, at, can_leave_contact=False)
    assert "leave your email" not in sms and sms.endswith("We'll answer you here.")
    assert [hours.delay(s) for s in (20, 59 * 60, 90 * 60, 47 * 3600, 80 * 3600)] == \
        ["in 1 minute", "in 59 minutes", "in 2 hours", "in 47 hours", "in 3 days"]


@pytest.mark.parametrize(("rows", "field", "words"), [
    ([("mon", "17:00", "09:00")], "weekly.0", "not after it opens"),
    ([("mon", "9:00", "17:00")], "weekly.0.opens", "HH:MM"),
    ([("funday", "09:00", "17:00")], "weekly.0.day", "use one of"),
    ([("mon", "09:00", "13:00"), ("mon", "12:00", "17:00")], "weekly", "overlap"),
])
def test_bad_schedules_name_what_is_wrong(rows: list[tuple[str, str, str]], field: str, words: str) -> None:
    with pytest.raises(hours.HoursError, match=words) as caught:
        hours.intervals(rows)
    assert caught.value.field == field


def test_bad_zone_and_calendar_name_what_is_wrong() -> None:
    with pytest.raises(hours.HoursError, match="not an IANA time zone") as zone:
        hours.check_timezone("Mars/Olympus")
    assert zone.value.field == "timezone"
    assert hours.check_calendar("de", "be") == ("DE", "BE")
    with pytest.raises(hours.HoursError, match="not a country") as country:
        hours.check_calendar("XX", None)
    assert country.value.field == "holiday_country"
    with pytest.raises(hours.HoursError, match="not a subdivision of DE") as subdivision:
        hours.check_calendar("DE", "ZZ")
    assert subdivision.value.field == "holiday_subdivision"
