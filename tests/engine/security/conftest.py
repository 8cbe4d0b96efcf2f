"""Servers for the abuse tests: the engine with rate limits switched on and tiny windows (one test
each, on a SQLite file of its own, so no other test's requests count), and clients that connect
from another loopback address than 127.0.0.1 to show that a limit is per address."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from engine.channels import sms
from engine.service.bot import Bot
from engine.settings import Settings
from tests.engine.channels.conftest import (  # noqa: F401 (channel_server, mailbox, provider: fixtures)
    OUR_NUMBER,
    SMS_SID,
    SMS_TOKEN,
    channel_server,
    mailbox,
    provider,
)
from tests.engine.conftest import Server, run_server

LOOSE = "1000/second"  # a limit no test reaches, for the rules a test is not about
RULES = ("limit_address", "limit_conversation_starts", "limit_visitor", "limit_messages",
         "limit_login_address", "limit_login_failures", "limit_email_codes")


@pytest.fixture
def limited(tmp_path: Path, bot_settings: Settings, bot: Bot) -> Iterator[Callable[..., Server]]:
    """``limited(limit_messages="2/second", ...)``: a server whose named limits are as given and
    whose other limits are out of reach; stopped after the test."""
    running: list[Iterator[Server]] = []

    def start(**limits: Any) -> Server:
        values: dict[str, Any] = {rule: LOOSE for rule in RULES}
        values.update(limits)
        values.setdefault("database_url", f"sqlite:///{tmp_path / f'limits-{len(running)}.db'}")
        settings = bot_settings.model_copy(update={"rate_limits": True, **values})
        Settings.model_validate(settings.model_dump())  # the windows parse as the settings class says
        servers = run_server(settings, bot)
        running.append(servers)
        return next(servers)

    yield start
    for servers in running:
        next(servers, None)


def client_from(server: Server, address: str) -> httpx.Client:
    """An HTTP client whose requests come from ``address`` (any 127.x.y.z works on Linux)."""
    return httpx.Client(base_url=server.base_url, timeout=30,
                        transport=httpx.HTTPTransport(local_address=address))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def new_client_id() -> str:
    return secrets.token_hex(8)


def post_sms_fields(server: Server, **fields: str) -> httpx.Response:
    """A Twilio-signed inbound SMS with exactly these extra form fields (``NumMedia``, ``MediaUrl0``...)."""
    form = {"To": OUR_NUMBER, "AccountSid": SMS_SID, "MessageSid": "SM" + secrets.token_hex(16), **fields}
    url = f"{server.base_url}/webhooks/sms"
    with server.http() as client:
        return client.post("/webhooks/sms", data=form,
                           headers={"X-Twilio-Signature": sms.signature(SMS_TOKEN, url, form.items())})
