"""The widget heartbeat on SQLite and PostgreSQL: the periodic sweep marks every web conversation
whose widget is open on this worker as seen (in chunks of one UPDATE each), and no other."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from engine.bus import InProcessBus
from engine.db import create_all, make_engine
from engine.models import VisitorPresence, utcnow
from engine.service import conversations, presence, workflow
from engine.service.policy import HEARTBEATS_PER_GRACE
from engine.service.runtime import ServiceContext
from engine.settings import Settings

pytestmark = pytest.mark.anyio


@pytest.fixture
def any_ctx(database_url: str, tmp_path: Path) -> Iterator[ServiceContext]:
    settings = Settings(environment="test", secret_key=secrets.token_urlsafe(32), database_url=database_url,
                        attachment_dir=tmp_path / "files")
    engine = make_engine(database_url)
    create_all(engine)
    yield workflow.context(settings, engine, InProcessBus())
    engine.dispose()


def seen(ctx: ServiceContext, conversation_id: int) -> tuple[int, object]:
    with ctx.session() as session:
        row = session.get(VisitorPresence, conversation_id)
        return row.sockets, row.seen_at


@pytest.mark.parametrize("chunk", [1, presence.SEEN_CHUNK])
async def test_the_sweep_marks_the_open_widgets_seen_and_no_others(any_ctx: ServiceContext, chunk: int,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(presence, "SEEN_CHUNK", chunk)
    ctx = any_ctx
    ids = [(await conversations.start(ctx, name=f"V{n}"))[0].id for n in range(4)]
    for conversation_id in ids:
        await presence.visitor_connected(ctx, conversation_id)
    await presence.visitor_disconnected(ctx, ids[3])  # left: its row must keep the time it was last seen
    before = {conversation_id: seen(ctx, conversation_id) for conversation_id in ids}
    later = utcnow() + timedelta(seconds=ctx.settings.presence_grace_seconds / HEARTBEATS_PER_GRACE + 1)
    ctx.worker.visitors_seen_at = later - timedelta(seconds=ctx.settings.presence_grace_seconds)
    await presence.sweep(ctx, later)
    for conversation_id in ids[:3]:
        sockets, at = seen(ctx, conversation_id)
        assert sockets == 1
        assert at.replace(tzinfo=None) == later.replace(tzinfo=None)
    assert seen(ctx, ids[3]) == before[ids[3]]
    assert ctx.worker.visitors_seen_at == later
    for conversation_id in ids[:3]:
        await presence.visitor_disconnected(ctx, conversation_id)
