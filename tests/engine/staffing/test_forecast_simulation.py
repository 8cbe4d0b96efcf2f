"""The staffing forecast against a simulation of the same traffic.

A week of traffic is simulated (Poisson arrivals that follow a weekday/weekend profile, log-normal
handle times, ten operators with three chats each, the real routing policy) and written into a real
database, SQLite and PostgreSQL, as the service would have: a queue transition, an assignment, a
resolution. ``metrics.staffing_traffic`` reads it back, ``staffing.forecast`` says how many
operators each hour of the week needs for 80% answered within 30 s. Then, for each hour, the desk
is simulated at that hour's arrival rate with handle times drawn from the stored ones, long
enough to reach a steady state, with fewer and more operators, to find the fewest that meet the
service level. The forecast must be within one operator of that, every hour.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from engine.db import make_engine
from engine.service import metrics, staffing
from tests.engine.conftest import Server
from tests.engine.staffing.desk import (
    SEED_OPERATORS,
    WEEK_START,
    answered_within,
    seeded_week,
    store,
)

TARGET = staffing.Target(share=0.8, answer_seconds=30)
WEEK_END = WEEK_START + timedelta(days=7)


@pytest.fixture(scope="module")
def week() -> list:
    return seeded_week()


@pytest.fixture(scope="module")
def forecasts(week: list, database_url: str) -> staffing.Forecast:
    store(database_url, week)
    engine = make_engine(database_url)
    with Session(engine) as session:
        traffic = metrics.staffing_traffic(session, WEEK_START, WEEK_END)
    engine.dispose()
    return staffing.forecast(traffic, TARGET)


def test_the_forecast_reads_the_stored_week(week: list, forecasts: staffing.Forecast) -> None:
    counts = Counter((s.arrived.weekday(), s.arrived.hour) for s in week)
    assert forecasts.arrivals == len(week)
    assert [c.arrivals_per_hour for c in forecasts.cells] == [counts[(d, h)] for d in range(7)
                                                              for h in range(24)]
    handles = [(s.resolved - s.assigned).total_seconds() for s in week]
    assert forecasts.handle_seconds == pytest.approx(sum(handles) / len(handles))
    assert forecasts.concurrency == 3
    assert len(forecasts.operators) == SEED_OPERATORS
    assert sum(o.handled for o in forecasts.operators) == len(week)
    assert all(1 <= o.concurrency <= 3 for o in forecasts.operators)


def fewest_operators(rate: float, handles: list[float], start: int, rng: random.Random) -> int:
    """The fewest operators (three chats each) the simulated desk needs to meet the target at
    ``rate``, searched from ``start`` (one below the forecast) up or down."""
    def meets(n: int) -> bool:
        return n > 0 and answered_within(rate, lambda: rng.choice(handles), n, 3, rng) >= TARGET.share

    n = start
    if meets(n):
        while meets(n - 1):
            n -= 1
        return n
    n += 1
    while not meets(n):
        n += 1
    return n


@pytest.fixture(scope="module")
def needed() -> dict[float, int]:
    """Operators the simulation needs, by arrival rate: hours with the same rate need the same
    desk, and both databases store the same week, so each rate is simulated once."""
    return {}


def test_forecast_within_one_operator_of_the_simulation(week: list, forecasts: staffing.Forecast,
                                                        needed: dict[float, int]) -> None:
    handles = [(s.resolved - s.assigned).total_seconds() for s in week]
    rng = random.Random(11)
    for cell in forecasts.cells:
        rate = cell.arrivals_per_hour
        if rate in needed:
            continue
        if rate == 0:
            needed[rate] = 0
            continue
        needed[rate] = fewest_operators(rate, handles, cell.operators - 1, rng)
    rows = [(c.weekday, c.hour, c.arrivals_per_hour, c.operators, needed[c.arrivals_per_hour])
            for c in forecasts.cells]
    gaps = Counter(forecast - simulated for *_, forecast, simulated in rows)
    print(f"\nstaffing forecast vs simulation, {forecasts.arrivals} arrivals in a week, handle "
          f"{forecasts.handle_seconds:.0f} s, 3 chats each, {TARGET.share:.0%} within "
          f"{TARGET.answer_seconds:.0f} s: "
          f"forecast - simulated operators per hour: {dict(sorted(gaps.items()))}; "
          f"operator-hours forecast {sum(r[3] for r in rows)}, simulated {sum(r[4] for r in rows)}; "
          f"peak forecast {max(r[3] for r in rows)}, simulated {max(r[4] for r in rows)}")
    for rate in sorted(needed):
        forecast = next(c.operators for c in forecasts.cells if c.arrivals_per_hour == rate)
        print(f"  {rate:5.0f}/h: forecast {forecast}, simulation {needed[rate]}")
    assert all(abs(forecast - simulated) <= 1 for *_, forecast, simulated in rows), rows
    assert max(r[3] for r in rows) >= 4  # the week is busy enough for the check to mean something


def baton_staffing(database_url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BATON_DATABASE_URL": database_url}
    return subprocess.run([str(Path(sys.executable).parent / "baton"), "staffing", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_baton_staffing_prints_the_week(forecasts: staffing.Forecast, database_url: str,
                                        tmp_path: Path) -> None:
    window = ["--start", WEEK_START.isoformat(), "--end", WEEK_END.isoformat()]
    done = baton_staffing(database_url, tmp_path, *window)
    assert done.returncode == 0, done.stderr
    rows = {line[:5]: line.split()[1:] for line in done.stdout.splitlines() if line[2:6] == ":00 "}
    assert rows["10:00"] == [str(forecasts.cell(d, 10).operators) for d in range(7)]
    assert rows["03:00"] == [str(forecasts.cell(d, 3).operators) for d in range(7)]
    assert f"{forecasts.arrivals} conversations" in done.stdout
    assert f"Peak {forecasts.peak} operators" in done.stdout and "Desk 1" in done.stdout
    as_json = baton_staffing(database_url, tmp_path, *window, "--json")
    cells = json.loads(as_json.stdout)["cells"]
    assert [c["operators"] for c in cells] == [c.operators for c in forecasts.cells]
    refused = baton_staffing(database_url, tmp_path, "--service-level", "1.5")
    assert refused.returncode == 2 and "service level must be between 0 and 1" in refused.stderr


def test_the_api_serves_the_forecast_to_leads(forecasts: staffing.Forecast, server: Server) -> None:
    lead = server.new_operator(role="supervisor")
    agent = server.new_operator()
    query = {"start": WEEK_START.isoformat(), "end": WEEK_END.isoformat(), "tz": "UTC"}
    with server.http() as http:
        got = http.get("/api/staffing", params=query, headers={"Authorization": f"Bearer {lead['token']}"})
        assert got.status_code == 200, got.text
        body = got.json()
        assert [c["operators"] for c in body["cells"]] == [c.operators for c in forecasts.cells]
        assert body["target"] == {"share": 0.8, "answer_seconds": 30.0} and body["concurrency"] == 3
        refused = http.get("/api/staffing", headers={"Authorization": f"Bearer {agent['token']}"})
        assert refused.status_code == 403 and "supervisor or admin" in refused.json()["detail"]
        for bad, field in (({"tz": "Mars/Olympus"}, "tz"), ({"service_level": "1"}, "service_level"),
                           ({"start": "yesterday"}, "start")):
            answer = http.get("/api/staffing", params=bad,
                              headers={"Authorization": f"Bearer {lead['token']}"})
            assert answer.status_code == 422, answer.text
            assert field in answer.text
