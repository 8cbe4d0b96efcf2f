"""Handoff settings changed on one worker reach every other worker's running detector over the bus.

Two service contexts in one process stand for two workers: one database, one ``InProcessBus`` (the
Redis bus has the same protocol, tests/engine/scale/test_redis_bus.py), each with its own bot and
detector. The admin's change goes through ``admin.update_handoff`` on the first; the second's
``follow_handoff`` task applies the ``handoff.changed`` event it publishes."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Any

import anyio
import pytest

from engine.bus import InProcessBus
from engine.db import create_all, make_engine, session_scope
from engine.models import OperatorCreate
from engine.service import admin, workflow
from engine.service.bot import Bot
from engine.service.operators import create_operator
from engine.settings import Settings

pytestmark = pytest.mark.anyio


def a_bot(bot: Bot, embedder: Any) -> Bot:
    """A worker's own bot: the shared index, a detector of its own (with its own configuration)."""
    import handoff

    return Bot(bot.knowledge_base, handoff.Detector(handoff.HandoffConfig(), embedder), bot.embedder,
               model=bot.model)


async def test_a_handoff_change_on_one_worker_reaches_the_other(tmp_path: Path, bot: Bot,
                                                                embedder: Any) -> None:
    settings = Settings(environment="test", secret_key=secrets.token_urlsafe(32),
                        database_url=f"sqlite:///{tmp_path / 'baton.db'}")
    engine = make_engine(settings.database_url)
    create_all(engine)
    with session_scope(engine) as session:
        ada = create_operator(session, OperatorCreate(email="ada@example.com", name="Ada",
                                                      password="pw-123456", role="admin")).id
    bus = InProcessBus()
    first = workflow.context(settings, engine, bus, bot=a_bot(bot, embedder))
    second = workflow.context(settings, engine, bus, bot=a_bot(bot, embedder))
    follower = asyncio.create_task(admin.follow_handoff(second))
    try:
        while bus.subscribers("workers") < 1:  # the follower has subscribed
            await asyncio.sleep(0)
        wanted = admin.handoff_settings(first).model_copy(update={
            "frustration": admin.Thresholds(offer_at=0.4, escalate_at=0.9),
            "always_human_topics": ["legal"], "reason": "calmer desk"})
        assert admin.handoff_settings(second).frustration.escalate_at != 0.9
        await admin.update_handoff(first, ada, wanted)
        config = second.bot.detector.config
        with anyio.fail_after(5):
            while (config.frustration.offer_at, config.frustration.escalate_at) != (0.4, 0.9):
                await asyncio.sleep(0.01)
        assert config.rules.topics == ["legal"]
        assert admin.handoff_settings(second).model_dump(exclude={"reason"}) == \
            admin.handoff_settings(first).model_dump(exclude={"reason"})
    finally:
        follower.cancel()
        engine.dispose()
