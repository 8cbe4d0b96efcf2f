"""A worker follows the index folder: a version written by an ingest is swapped in, whole."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine import index_reload
from engine.bus import InProcessBus
from engine.db import make_engine
from engine.service.bot import Bot, RecordingEmbedder
from engine.service.runtime import ServiceContext
from engine.settings import Settings

pytestmark = pytest.mark.anyio

SHIPPING = {"id": "shipping:time", "title": "How long does shipping take", "examples": ["delivery time"],
            "answer": "Standard shipping takes 3 to 5 business days.", "tags": ["shipping"]}
REFUND = {"id": "billing:refund", "title": "How do I get a refund", "examples": ["can I get my money back"],
          "answer": "Refunds go back to the original payment method within 5 business days.",
          "tags": ["billing"]}
EXCHANGE = {"id": "orders:exchange", "title": "Can I exchange an item for another size",
            "examples": ["swap for a bigger size"], "answer": "Yes: start an exchange from your order page.",
            "tags": ["orders"]}


class NoDetector:
    """The bot's detector is not what is under test here; reloading never touches it."""

    def decide_many(self, transcripts: list[Any], vectors: list[Any]) -> list[Any]:
        return []


def ingest(index_dir: Path, embedder: Any, rows: list[dict[str, Any]]) -> int:
    import knowledge

    source = index_dir.parent / "faq.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    index = knowledge.KnowledgeIndex.open(index_dir)
    index.ingest(knowledge.load_path(source), embedder, progress=False)
    return index.version


@pytest.fixture
def ctx(tmp_path: Path, embedder: Any) -> Iterator[ServiceContext]:
    import knowledge

    index_dir = tmp_path / "index"
    ingest(index_dir, embedder, [SHIPPING])
    settings = Settings(environment="test", secret_key=secrets.token_urlsafe(32), index_dir=index_dir,
                        database_url=f"sqlite:///{tmp_path / 'baton.db'}")
    engine = make_engine(settings.database_url)
    recording = RecordingEmbedder(embedder)
    knowledge_base = knowledge.KnowledgeBase(index_dir, recording)
    bot = Bot(knowledge_base, NoDetector(), recording, model=settings.llm_model)
    yield ServiceContext(settings=settings, engine=engine, bus=InProcessBus(), bot=bot)
    engine.dispose()


async def test_a_new_version_is_swapped_in_and_a_turn_in_flight_keeps_the_old_one(
        ctx: ServiceContext, embedder: Any) -> None:
    assert ctx.bot is not None
    watch = index_reload.ManifestWatch(ctx.settings.index_dir / "manifest.json")
    before = ctx.bot.knowledge_base
    assert not await index_reload.check(ctx, watch)  # nothing new yet

    assert ingest(ctx.settings.index_dir, embedder, [SHIPPING, REFUND]) == before.version + 1
    assert await index_reload.check(ctx, watch)
    assert ctx.bot.knowledge_base.version == before.version + 1
    retrieval, _ = await ctx.bot.retrieve("can I get my money back?")
    assert retrieval.hits[0].chunk.doc_id == "billing:refund"
    assert {hit.chunk.doc_id for hit in before.retrieve("can I get my money back?").hits} == {"shipping:time"}
    assert not await index_reload.check(ctx, watch)  # the same version is not loaded twice


async def test_the_periodic_task_follows_ingests(ctx: ServiceContext, embedder: Any) -> None:
    assert ctx.bot is not None
    task = asyncio.create_task(index_reload.run(ctx, interval=0.05))
    try:
        version = await asyncio.to_thread(ingest, ctx.settings.index_dir, embedder, [SHIPPING, EXCHANGE])
        for _ in range(200):
            if ctx.bot.knowledge_base.version == version:
                break
            await asyncio.sleep(0.05)
        assert ctx.bot.knowledge_base.version == version
        retrieval, _ = await ctx.bot.retrieve("swap for a bigger size")
        assert retrieval.hits[0].chunk.doc_id == "orders:exchange"
    finally:
        task.cancel()


def test_a_missing_or_unreadable_manifest_means_no_version(tmp_path: Path) -> None:
    watch = index_reload.ManifestWatch(tmp_path / "manifest.json")
    assert watch.version() is None
    (tmp_path / "manifest.json").write_text("{not json")
    assert watch.version() is None
    (tmp_path / "manifest.json").write_text(json.dumps({"version": 4}))
    assert watch.version() == 4
