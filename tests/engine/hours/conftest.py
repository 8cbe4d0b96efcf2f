"""A desk whose every team is closed, on a real server: two teams (Berlin, with its public holidays,
and New York), Monday to Friday 9:00 to 17:00 in their own zones, set through the admin API; the
server's business-hours clock (``ServiceContext.clock``) stands on Sunday 7 March 2027, 20:00 UTC,
the evening before Berlin's Women's Day. Tests move that clock instead of waiting for the morning.
Mail goes to a local SMTP server (aiosmtpd, the channel tests' ``Mailbox``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from engine.service.bot import Bot
from engine.settings import Settings
from tests.engine.channels.conftest import (
    OUR_NUMBER,
    SMS_SID,
    SMS_TOKEN,
    Mailbox,
    Provider,
    serve_mailbox,
    serve_provider,
)
from tests.engine.conftest import Server, postgres_database, run_server

SUNDAY_NIGHT = datetime(2027, 3, 7, 20, 0, tzinfo=UTC)
NEW_YORK_OPENS = datetime(2027, 3, 8, 14, 0, tzinfo=UTC)  # Monday 9:00 EST; Berlin's Monday is a holiday
BERLIN_OPENS = datetime(2027, 3, 9, 8, 0, tzinfo=UTC)  # Tuesday 9:00 CET
WEEKDAYS = [{"day": day, "opens": "09:00", "closes": "17:00"} for day in ("mon", "tue", "wed", "thu", "fri")]


class Clock:
    """What the server judges business hours by; a test sets ``at``."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@dataclass
class Desk:
    server: Server
    clock: Clock
    admin: str  # an admin's token
    teams: dict[str, int]  # name -> id
    mailbox: Mailbox
    provider: Provider  # the SMS provider's stand-in

    def http(self) -> httpx.Client:
        return self.server.http()

    def auth(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.admin}"}


def set_hours(http: httpx.Client, admin: str, team_id: int, **body: Any) -> httpx.Response:
    return http.put(f"/api/admin/teams/{team_id}/hours", headers={"Authorization": f"Bearer {admin}"},
                    json={"weekly": WEEKDAYS, "reason": "after-hours tests", **body})


def closed_desk(settings: Settings, bot: Bot, mailbox: Mailbox, provider: Provider) -> Iterator[Desk]:
    settings = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": mailbox.port,
                                           "sms_provider_url": provider.url, "sms_account_sid": SMS_SID,
                                           "sms_auth_token": SMS_TOKEN, "sms_from": OUR_NUMBER,
                                           "email_from": "Shop Support <support@shop.example>",
                                           "delivery_backoff_seconds": 0.05, "delivery_sweep_seconds": 0.5})
    for server in run_server(settings, bot):
        clock = Clock(SUNDAY_NIGHT)
        server.app.state.ctx.clock = clock
        admin = server.new_operator(role="admin", name="Ada Admin")["token"]
        teams = {}
        with server.http() as http:
            for name, zone, country, subdivision in (("Berlin", "Europe/Berlin", "DE", "BE"),
                                                     ("New York", "America/New_York", "US", "NY")):
                made = http.post("/api/admin/teams", headers={"Authorization": f"Bearer {admin}"},
                                 json={"name": name})
                made.raise_for_status()
                teams[name] = made.json()["id"]
                set_hours(http, admin, teams[name], timezone=zone, holiday_country=country,
                          holiday_subdivision=subdivision).raise_for_status()
        yield Desk(server, clock, admin, teams, mailbox, provider)


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    yield from serve_provider()


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    yield from serve_mailbox()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def desk(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, bot_settings: Settings,
         bot: Bot, mailbox: Mailbox, provider: Provider) -> Iterator[Desk]:
    """The closed desk on a database of its own (its teams' hours would hold other tests' handoffs)."""
    base = bot_settings.model_copy(update={"routing_interval_seconds": 0.2})
    if request.param == "sqlite":
        folder: Path = tmp_path_factory.mktemp("hours")
        url = f"sqlite:///{folder / 'baton.db'}"
        yield from closed_desk(base.model_copy(update={"database_url": url}), bot, mailbox, provider)
        return
    with postgres_database() as url:
        yield from closed_desk(base.model_copy(update={"database_url": url}), bot, mailbox, provider)
