"""The staffing rules on values worked out by hand (and, for Erlang C, the same inputs given to
pyworkforce 0.5.1's ``ErlangC``, which agrees to four decimals)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from engine.service import staffing
from engine.service.staffing import Handled, Target, Traffic
from knowledge.errors import InputError

MONDAY = datetime(2024, 3, 4, tzinfo=UTC)


def test_erlang_c_service_levels() -> None:
    # 100 an hour, 3 minutes each: 5 erlangs. 7 slots answer 76.8% within 30 s, 8 slots 89.9%.
    assert staffing.service_level(100, 180, 7, 30) == pytest.approx(0.7677, abs=1e-4)
    assert staffing.service_level(100, 180, 8, 30) == pytest.approx(0.8985, abs=1e-4)
    # One slot, 0.5 erlangs: waiting probability = traffic / servers for c = 1.
    assert staffing.erlang_c(0.5, 1) == pytest.approx(0.5)
    assert staffing.erlang_c(5, 5) == 1.0 and staffing.service_level(100, 180, 5, 30) == 0.0
    assert staffing.service_level(0, 180, 0, 30) == 1.0


def test_operators_needed_counts_concurrent_chats() -> None:
    target = Target(0.8, 30)
    # 8 slots needed: 8 single-chat operators, 3 operators with three chats (9 slots), 4 with two.
    assert staffing.operators_needed(100, 180, 1, target) == 8
    assert staffing.operators_needed(100, 180, 3, target) == 3
    assert staffing.operators_needed(100, 180, 2, target) == 4
    assert staffing.operators_needed(0, 180, 3, target) == 0
    assert staffing.operators_needed(0.5, 180, 3, target) == 1


def test_targets_are_checked() -> None:
    with pytest.raises(InputError, match="between 0 and 1"):
        Target(share=1.2)
    with pytest.raises(InputError, match="0 to 86400 seconds"):
        Target(answer_seconds=-1)
    with pytest.raises(InputError, match="unknown time zone 'Mars/Olympus'"):
        staffing.zone("Mars/Olympus")


def test_arrival_rates_average_each_hour_of_the_week_in_local_time() -> None:
    # Two weeks; Monday 09:xx UTC gets 3 and 1 arrivals: 2 per hour. Berlin is UTC+1 in March.
    arrivals = [MONDAY + timedelta(hours=9, minutes=m) for m in (1, 20, 40)]
    arrivals.append(MONDAY + timedelta(days=7, hours=9, minutes=5))
    rates = staffing.arrival_rates(arrivals, MONDAY, MONDAY + timedelta(days=14), UTC)
    assert rates[9] == 2.0 and sum(rates) == 2.0
    berlin = staffing.arrival_rates(arrivals, MONDAY, MONDAY + timedelta(days=14), ZoneInfo("Europe/Berlin"))
    assert berlin[10] == 2.0
    # A window of one and a half days: Monday's hours seen once, Tuesday 00-11 once, the rest never.
    seen = staffing.hours_of_week(MONDAY, MONDAY + timedelta(hours=36), UTC)
    assert seen[:36] == [1] * 36 and sum(seen) == 36


def test_concurrency_is_handle_time_over_busy_time() -> None:
    t = MONDAY
    rows = [Handled(1, t, t + timedelta(minutes=10)),
            Handled(1, t + timedelta(minutes=5), t + timedelta(minutes=15)),
            Handled(1, t + timedelta(minutes=30), t + timedelta(minutes=40))]
    # 30 minutes handled over 25 minutes busy (0-15 and 30-40).
    assert staffing.concurrency_of(rows) == pytest.approx(30 / 25)


def test_forecast_uses_the_operators_capacity_and_mean_handle_time() -> None:
    t = MONDAY + timedelta(hours=10)
    arrivals = [t + timedelta(minutes=m) for m in range(0, 60, 6)]  # 10 in Monday 10:00
    handled = [Handled(5, a, a + timedelta(minutes=12)) for a in arrivals]
    traffic = Traffic(start=MONDAY, end=MONDAY + timedelta(days=7), arrivals=arrivals, handled=handled,
                      capacity={5: 2}, names={5: "Sam"})
    result = staffing.forecast(traffic, Target(0.8, 30))
    assert result.concurrency == 2 and result.handle_seconds == 720 and result.arrivals == 10
    cell = result.cell(0, 10)
    # 10 an hour for 12 min: 2 erlangs. One operator (2 slots) cannot keep up; two (4 slots) answer 84%.
    assert cell.arrivals_per_hour == 10 and cell.operators == 2
    assert cell.service_level == pytest.approx(staffing.service_level(10, 720, 4, 30))
    assert cell.occupancy == pytest.approx(0.5)
    assert result.cell(0, 11).operators == 0 and result.peak == 2 and result.operator_hours == 2
    assert result.operators[0].name == "Sam" and result.operators[0].mean_handle_seconds == 720
