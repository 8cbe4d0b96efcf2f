"""Workflow fixtures: a service context with the real bot over the test knowledge base."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.bus import InProcessBus
from engine.db import create_all, make_engine
from engine.service import workflow
from engine.service.bot import Bot
from engine.service.runtime import ServiceContext
from engine.settings import Settings


@pytest.fixture
def bot_ctx(tmp_path: Path, bot: Bot, kb_index: Path) -> Iterator[ServiceContext]:
    """A fresh SQLite store and the session's bot (real retrieval, answers and detector)."""
    settings = Settings(environment="test", secret_key=secrets.token_urlsafe(32), index_dir=kb_index,
                        database_url=f"sqlite:///{tmp_path / 'workflow.db'}")
    engine = make_engine(settings.database_url)
    create_all(engine)
    yield workflow.context(settings, engine, InProcessBus(), bot=bot)
    engine.dispose()
