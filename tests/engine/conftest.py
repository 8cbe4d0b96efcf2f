"""Engine fixtures: a real uvicorn server (in a thread, on a free port) over SQLite or PostgreSQL.

The ``server`` fixture is parametrised over both backends, so every test that uses it runs twice.
PostgreSQL gets a fresh database per test session, dropped afterwards. Tests make their own
conversations and operators (unique emails), so they never depend on each other's rows.
"""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import uvicorn
from websockets.sync.client import ClientConnection, connect

from engine.app import create_app
from engine.db import create_all, make_engine
from engine.service.bot import Bot
from engine.settings import Settings

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"

# A small knowledge base: enough for the bot to answer shipping and refund questions with citations.
KB_ROWS = [
    {"id": "shipping:time", "title": "How long does shipping take",
     "examples": ["when will my order arrive", "delivery time"],
     "answer": "Standard shipping takes 3 to 5 business days; express shipping takes 1 to 2 business days.",
     "tags": ["shipping"], "url": "https://help.example.com/shipping"},
    {"id": "billing:refund", "title": "How do I get a refund",
     "examples": ["can I get my money back", "refund please"],
     "answer": "Refunds go back to the original payment method within 5 business days of approval.",
     "tags": ["billing"], "url": "https://help.example.com/refunds"},
    {"id": "account:password", "title": "How do I reset my password",
     "examples": ["forgot my password", "can't log in"],
     "answer": "Use the 'Forgot password' link on the sign-in page; the reset email arrives within minutes.",
     "tags": ["account"], "url": "https://help.example.com/password"},
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def postgres_database() -> Iterator[str]:
    """A database of its own on the local PostgreSQL, dropped afterwards."""
    name = f"baton_test_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_URL.format(name=name)
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The session's PostgreSQL database (the server fixture's)."""
    with postgres_database() as url:
        yield url


@pytest.fixture
def fresh_postgres_url() -> Iterator[str]:
    with postgres_database() as url:
        yield url


def build_index(folder: Path, embedder: Any) -> Path:
    """Ingest ``KB_ROWS`` into ``folder/index`` and return that index folder."""
    import knowledge

    source = folder / "faq.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in KB_ROWS))
    index_dir = folder / "index"
    knowledge.KnowledgeIndex.open(index_dir).ingest(knowledge.load_path(source), embedder, progress=False)
    return index_dir


@pytest.fixture(scope="session")
def kb_index(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Path:
    """The test knowledge base, ingested once per session."""
    return build_index(tmp_path_factory.mktemp("kb"), embedder)


@pytest.fixture(scope="session")
def bot_settings(kb_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Attachments go to a folder of the test session, never the working tree's var/."""
    return Settings(environment="test", secret_key=secrets.token_urlsafe(32), index_dir=kb_index,
                    attachment_dir=tmp_path_factory.mktemp("files"))


@pytest.fixture(scope="session")
def bot(bot_settings: Settings, embedder: Any) -> Bot:
    return Bot.load(bot_settings, embedder)


@dataclass
class Server:
    """A running server and small helpers to talk to it as a visitor or an operator."""

    base_url: str
    settings: Settings
    app: Any

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://")

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=30)

    def start_visitor(self, **body: Any) -> dict[str, Any]:
        with self.http() as client:
            response = client.post("/api/visitor/conversations", json=body)
        response.raise_for_status()
        return response.json()

    def visitor_socket(self, token: str, after: int = 0) -> ClientConnection:
        return connect(f"{self.ws_url}/ws/visitor?token={token}&after={after}", open_timeout=10)

    def operator_socket(self, token: str) -> ClientConnection:
        return connect(f"{self.ws_url}/ws/operator?token={token}", open_timeout=10)

    def new_operator(self, role: str = "operator", **fields: Any) -> dict[str, Any]:
        """A fresh operator account (made through the service, as ``baton users add`` does); returns
        its login response."""
        from engine.db import session_scope
        from engine.models import OperatorCreate
        from engine.service.operators import create_operator

        email = f"op-{uuid.uuid4().hex[:10]}@example.com"
        engine = make_engine(self.settings.database_url)
        with session_scope(engine) as session:
            create_operator(session, OperatorCreate(email=email, name=fields.pop("name", "Sam Operator"),
                                                    password="correct-horse", role=role, **fields))
        engine.dispose()
        with self.http() as client:
            response = client.post("/api/operator/login", json={"email": email, "password": "correct-horse"})
        response.raise_for_status()
        return response.json()


def run_server(settings: Settings, bot: Bot | None, port: int | None = None) -> Iterator[Server]:
    """``port``: one chosen before, when the settings name the server's own address (``public_url``)."""
    engine = make_engine(settings.database_url)
    create_all(engine)
    engine.dispose()
    app = create_app(settings, bot=bot, load=False)
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           ws="websockets-sansio", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120  # start-up imports and the index: slow on a loaded machine
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    yield Server(f"http://127.0.0.1:{port}", settings, app)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'baton.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture(scope="session")
def server(database_url: str, bot_settings: Settings, bot: Bot) -> Iterator[Server]:
    settings = bot_settings.model_copy(update={"database_url": database_url})
    yield from run_server(settings, bot)


def receive_json(socket: ClientConnection, timeout: float = 10) -> dict[str, Any]:
    return json.loads(socket.recv(timeout=timeout))


def receive_until(socket: ClientConnection, predicate: Any, timeout: float = 15) -> list[dict[str, Any]]:
    """Every frame up to and including the first that satisfies ``predicate``."""
    frames = []
    deadline = time.monotonic() + timeout
    while True:
        frame = receive_json(socket, timeout=max(0.01, deadline - time.monotonic()))
        frames.append(frame)
        if predicate(frame):
            return frames


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[Any]:
    """A service context on a fresh SQLite file, with no bot (tests drive bot outcomes directly)."""
    from engine.bus import InProcessBus
    from engine.service import workflow

    settings = Settings(environment="test", secret_key=secrets.token_urlsafe(32),
                        database_url=f"sqlite:///{tmp_path / 'service.db'}", max_message_chars=500,
                        attachment_dir=tmp_path / "files")
    engine = make_engine(settings.database_url)
    create_all(engine)
    yield workflow.context(settings, engine, InProcessBus())
    engine.dispose()
