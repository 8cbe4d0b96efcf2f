"""Workflow fixtures: a service context with the real bot over the test knowledge base, and one over
the sample help centre (``samples/kb/faq.jsonl``)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


FAQ = Path(__file__).resolve().parents[3] / "samples" / "kb" / "faq.jsonl"


@pytest.fixture(scope="session")
def sample_bot(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Bot:
    """The real bot over the sample help centre's questions, ingested once per session."""
    import knowledge

    index_dir = tmp_path_factory.mktemp("sample-faq") / "index"
    knowledge.KnowledgeIndex.open(index_dir).ingest(knowledge.load_path(FAQ), embedder, progress=False)
    return Bot.load(Settings(environment="test", secret_key=secrets.token_urlsafe(32), index_dir=index_dir),
                    embedder)


@pytest.fixture
def sample_ctx(tmp_path: Path, sample_bot: Bot) -> Iterator[ServiceContext]:
    settings = Settings(environment="test", secret_key=secrets.token_urlsafe(32),
                        database_url=f"sqlite:///{tmp_path / 'sample.db'}")
    engine = make_engine(settings.database_url)
    create_all(engine)
    yield workflow.context(settings, engine, InProcessBus(), bot=sample_bot)
    engine.dispose()
