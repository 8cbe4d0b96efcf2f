"""Schemathesis against the app's own OpenAPI document, on SQLite and PostgreSQL, with no token and
with visitor, operator and admin tokens: no server error and no response outside the schema
(status code, content type, headers, body) on any operation.

The document is the one ``create_app`` builds (what ``/openapi.json`` serves); the requests go to
a running server in development mode with the channel secrets left empty, so the webhooks' bodies
are parsed and stored rather than all refused for a missing signature. Every generated request for
an operation behind a bearer token is sent with no token and with the tokens that matter there
(visitor routes: a visitor's and an operator's; the others: an operator's and an admin's); an open
operation (login, webhooks, health) is sent once, since no token changes its answer. Examples are
derandomised (the same every run) and counted: the last test prints ``SCHEMATHESIS {json}`` and
fails if an operation was not reached by each of its callers.
"""

from __future__ import annotations

import json
import secrets
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from engine.app import create_app
from engine.service.bot import Bot
from engine.settings import Settings
from tests.engine.channels.conftest import Mailbox
from tests.engine.conftest import Server, postgres_database, run_server

EXAMPLES = 10  # generated per operation (each sent by the four callers); the coverage phase adds more
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
CALLS: Counter[tuple[str, str, str]] = Counter()  # (backend, caller, operation) -> calls
STARTED: dict[str, float] = {}  # backend -> when its fuzzing began
# The server under test runs in this process, in a thread, and the standard library's email package
# draws Message-IDs and MIME boundaries from the global `random` (email.utils.make_msgid). Hypothesis
# compares the global random state around each generation and warns when another thread moved it,
# though no strategy here uses `random`: with warnings as errors that was a flaky failure in CI.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")

DOCUMENT = create_app(Settings(environment="test", secret_key=secrets.token_urlsafe(32)),
                      load=False).openapi()
schema = schemathesis.openapi.from_dict(DOCUMENT)
CALLERS = {f"{method.upper()} {path}": ("anonymous",) if "security" not in operation
           else ("anonymous", "visitor", "operator") if path.startswith("/api/visitor/")
           else ("anonymous", "operator", "admin")
           for path, item in DOCUMENT["paths"].items() for method, operation in item.items()}


def backend_of(server: Server) -> str:
    return "sqlite" if server.settings.is_sqlite else "postgres"


@pytest.fixture(scope="session")
def fuzz_server(database_url: str, bot_settings: Settings, bot: Bot, embedder: Any, mailbox: Mailbox,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    settings = bot_settings.model_copy(update={
        "database_url": database_url, "environment": "development", "delivery_attempts": 1,
        "messenger_verify_token": secrets.token_urlsafe(16),  # the subscription check always needs one
        # SMTP is the local aiosmtpd: an email confirmation code is mailed while its request waits
        "smtp_host": "127.0.0.1", "smtp_port": mailbox.port, "sms_provider_url": "http://127.0.0.1:9",
        "messenger_api_url": "http://127.0.0.1:9"})  # SMS/Messenger replies to fuzzed senders fail at once
    # a store of its own (a file, or a PostgreSQL database): the fuzzed rows (operators online, teams,
    # overflow) stay out of the store the other tests route in
    with ExitStack() as stack:
        if "sqlite" in database_url:
            own_url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}"
        else:
            own_url = stack.enter_context(postgres_database())
        yield from fuzz_server_on(settings.model_copy(update={"database_url": own_url}), bot, embedder)


def fuzz_server_on(settings: Settings, bot: Bot, embedder: Any) -> Iterator[Server]:
    """The server, with a detector of its own: fuzzed `PUT /api/admin/handoff` bodies change the live
    thresholds of the server's bot, which must not be the session's bot that later tests answer with."""
    import handoff

    detector = handoff.Detector(handoff.HandoffConfig.load(settings.handoff_config), embedder)
    own_bot = Bot(bot.knowledge_base, detector, bot.embedder, model=bot.model)
    for server in run_server(settings, own_bot):
        STARTED[backend_of(server)] = time.monotonic()
        yield server


@pytest.fixture(scope="session")
def tokens(fuzz_server: Server) -> dict[str, dict[str, str]]:
    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    return {"anonymous": {}, "visitor": bearer(fuzz_server.start_visitor()["token"]),
            "operator": bearer(fuzz_server.new_operator()["token"]),
            "admin": bearer(fuzz_server.new_operator(role="admin")["token"])}


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_every_operation_answers_within_its_schema(case: Any, tokens: dict[str, dict[str, str]],
                                                   fuzz_server: Server) -> None:
    backend, operation = backend_of(fuzz_server), case.operation.label  # not case.method: TRACE probes too
    for who in CALLERS[operation]:
        CALLS[(backend, who, operation)] += 1
        case.call_and_validate(base_url=fuzz_server.base_url, headers={**(case.headers or {}), **tokens[who]},
                               checks=CHECKS, timeout=30)


def test_fuzzing_reached_every_operation(fuzz_server: Server) -> None:
    backend = backend_of(fuzz_server)
    calls = {op: {who: CALLS[(backend, who, op)] for who in callers}
             for op, callers in sorted(CALLERS.items())}
    print("SCHEMATHESIS " + json.dumps({
        "backend": backend, "operations": len(calls), "max_examples": EXAMPLES,
        "seconds": round(time.monotonic() - STARTED[backend], 1),
        "requests": sum(sum(c.values()) for c in calls.values()),
        "fewest_per_operation_and_caller": min(min(c.values()) for c in calls.values()),
        "per_operation": {op: c["anonymous"] for op, c in calls.items()}}))
    unreached = {op: c for op, c in calls.items() if min(c.values()) == 0}
    assert not unreached, unreached
