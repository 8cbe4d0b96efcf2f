"""Benchmark fixtures: the knowledge base that ``make run`` serves, one loaded bot, and a real uvicorn
server on SQLite and on PostgreSQL (in a thread of this process; load generators that would
compete with it for the interpreter run as processes of their own, ``tests/bench/load.py``)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.service.bot import Bot
from engine.settings import Settings
from tests.engine.conftest import KB_ROWS, Server, postgres_database, run_server

ROOT = Path(__file__).resolve().parents[2]
# The load generator is one address standing in for thousands of visitors: the per-address limits
# (connects, conversation starts) are raised for it; the per-visitor and per-conversation limits
# stay as deployed, and every frame is still counted.
LOAD_GENERATOR_LIMITS = {"limit_address": "1000000/minute", "limit_conversation_starts": "1000000/minute"}


@pytest.fixture(scope="session")
def bench_index(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Path:
    """The sample knowledge base when it is there (what ``make run`` serves), else the test one."""
    import knowledge

    folder = tmp_path_factory.mktemp("bench-kb")
    source = ROOT / "samples" / "kb"
    if not source.exists():
        source = folder / "faq.jsonl"
        source.write_text("".join(json.dumps(row) + "\n" for row in KB_ROWS))
    index_dir = folder / "index"
    knowledge.KnowledgeIndex.open(index_dir).ingest(knowledge.load_path(source), embedder, progress=False)
    return index_dir


@pytest.fixture(scope="session")
def bench_bot(bench_index: Path, embedder: Any) -> Bot:
    return Bot.load(Settings(index_dir=bench_index), embedder)


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def engine_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                  bench_index: Path, bench_bot: Bot) -> Iterator[Server]:
    """One server per backend for the whole run, as ``baton serve`` runs it (one worker,
    in-process bus)."""
    def serve(database_url: str) -> Iterator[Server]:
        settings = Settings(environment="test", secret_key=secrets.token_urlsafe(32), index_dir=bench_index,
                            database_url=database_url, **LOAD_GENERATOR_LIMITS)
        yield from run_server(settings, bench_bot)

    if request.param == "sqlite":
        yield from serve(f"sqlite:///{tmp_path_factory.mktemp('bench-db') / 'baton.db'}")
        return
    with postgres_database() as url:
        yield from serve(url)


def backend_suffix(server: Server) -> str:
    """Figures on SQLite carry the plain name; on PostgreSQL the name ends in ``_postgres``."""
    return "" if server.settings.is_sqlite else "_postgres"


def backend_name(server: Server) -> str:
    return "SQLite" if server.settings.is_sqlite else "PostgreSQL"
