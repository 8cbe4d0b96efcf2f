"""What every action needs, passed around as ``ctx``: settings, the database, the bus, the bot.

Actions do their database work in a worker thread (the drivers block) inside one transaction,
collect the events it produced, and publish them only after the commit: a client is never told
about something the store does not hold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import anyio.to_thread
from sqlalchemy import Engine
from sqlmodel import Session

from engine.bus import EventBus
from engine.db import session_scope
from engine.events import Event
from engine.settings import Settings

if TYPE_CHECKING:
    from engine.integrations import Integration
    from engine.service.bot import Bot

T = TypeVar("T")


@dataclass
class Outbox:
    """Events produced inside a transaction, published once it commits."""

    events: list[tuple[str, Event]] = field(default_factory=list)

    def add(self, stream: str, event: Event) -> None:
        self.events.append((stream, event))


@dataclass
class ServiceContext:
    settings: Settings
    engine: Engine
    bus: EventBus
    bot: Bot | None = None
    read_engine: Engine | None = None  # SQLite: deferred transactions that do not queue behind writers
    integration: Integration | None = None  # account lookups and actions (engine.integrations)

    def session(self) -> Session:
        """A plain session for reads (``with ctx.session() as s: ...``)."""
        return Session(self.read_engine or self.engine, expire_on_commit=False)

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(session, *args)`` in a worker thread on a read-only session."""
        def work() -> T:
            with self.session() as session:
                return fn(session, *args)

        return await anyio.to_thread.run_sync(work)

    async def act(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(session, outbox, *args, **kwargs)`` in one transaction, then publish what it emitted."""
        outbox = Outbox()

        def work() -> T:
            with session_scope(self.engine) as session:
                return fn(session, outbox, *args, **kwargs)

        result = await anyio.to_thread.run_sync(work)
        for stream, event in outbox.events:
            await self.bus.publish(stream, event)
        return result
