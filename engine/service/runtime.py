"""What every action needs, passed around as ``ctx``: settings, the database, the bus, the bot, and
what this worker process keeps between requests.

Actions do their database work in a worker thread (the drivers block) inside one transaction,
collect the events it produced, and publish them only after the commit: a client is never told
about something the store does not hold. Then the events go to ``ctx.reactions``, which the
workflow (``engine.service.workflow``) installs: what happens *because* something changed (route a
queued conversation, hand back an absent operator's conversations) lives there, never in the action.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import anyio.to_thread
from sqlalchemy import Engine
from sqlmodel import Session

from engine.bus import EventBus
from engine.events import Event
from engine.models import utcnow
from engine.settings import Settings
from engine.writes import GroupCommit

if TYPE_CHECKING:
    from engine.files import FileStore
    from engine.integrations import Integration
    from engine.service.bot import Bot

T = TypeVar("T")
log = logging.getLogger(__name__)
DRAFTS_AT_ONCE = 2

Published = list[tuple[str, Event]]
Reactions = Callable[["ServiceContext", Published], Awaitable[None]]


@dataclass
class Outbox:
    """Events produced inside a transaction, published once it commits."""

    events: Published = field(default_factory=list)

    def add(self, stream: str, event: Event) -> None:
        self.events.append((stream, event))


class Connections:
    """Live WebSocket connections per operator (or per web conversation) on this worker (several
    tabs count once)."""

    def __init__(self) -> None:
        self._count: dict[int, int] = {}

    def opened(self, operator_id: int) -> int:
        self._count[operator_id] = self._count.get(operator_id, 0) + 1
        return self._count[operator_id]

    def closed(self, operator_id: int) -> int:
        left = max(0, self._count.get(operator_id, 0) - 1)
        if left:
            self._count[operator_id] = left
        else:
            self._count.pop(operator_id, None)
        return left

    def live(self) -> set[int]:
        return set(self._count)


@dataclass
class Worker:
    """This process's own state, one per service context (tests run several servers in a process,
    so none of it may be a module global): who is connected here, what each queued visitor was
    last told through this worker, and the background tasks it runs."""

    id: str = field(default_factory=lambda: secrets.token_hex(6))
    connections: Connections = field(default_factory=Connections)
    visitors: Connections = field(default_factory=Connections)  # web conversations with a widget here
    visitors_seen_at: datetime | None = None  # when this worker last refreshed their VisitorPresence
    # conversation: what its visitor was last told (position and minutes, or position and the opening)
    told: dict[int, tuple[Any, ...]] = field(default_factory=dict)
    drafting: dict[int, asyncio.Task[Any]] = field(default_factory=dict)  # conversation -> its draft task
    # conversations whose visitor wrote again while their draft task ran: drafted again when it ends
    redraft: set[int] = field(default_factory=set)
    # drafts generated at once (the rest wait for a slot): drafting never crowds out delivery
    draft_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(DRAFTS_AT_ONCE))
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)  # bot turns and reactions in the background

    def spawn(self, work: Coroutine[Any, Any, Any], what: str) -> asyncio.Task[Any]:
        """Run ``work`` in the background, kept until done; a failure is logged with ``what``."""
        task = asyncio.create_task(work)
        self.tasks.add(task)

        def done(finished: asyncio.Task[Any]) -> None:
            self.tasks.discard(finished)
            if not finished.cancelled() and finished.exception() is not None:
                log.error("%s failed", what, exc_info=finished.exception())

        task.add_done_callback(done)
        return task

    async def stop(self) -> None:
        """Cancel what still runs (a bot turn cut short stays pending in the store and is resumed)."""
        self.redraft.clear()  # nothing is drafted again once stopping
        running = [*self.tasks, *self.drafting.values()]
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)


@dataclass
class ServiceContext:
    settings: Settings
    engine: Engine
    bus: EventBus
    bot: Bot | None = None
    read_engine: Engine | None = None  # SQLite: deferred transactions that do not queue behind writers
    integration: Integration | None = None  # account lookups and actions (engine.integrations)
    files: FileStore | None = None  # attachment bytes (engine.files); made on first use
    reactions: Reactions | None = None  # the workflow's, run after each commit's events are published
    worker: Worker = field(default_factory=Worker)
    # what business hours are judged by (engine.service.hours): the wall clock; a test sets one of its
    # own to be after hours, and at the next opening, without waiting for the night
    clock: Callable[[], datetime] = field(default=utcnow)
    writes: GroupCommit = field(init=False)  # the write queue of ``engine`` (group commit on SQLite)

    def __post_init__(self) -> None:
        self.writes = GroupCommit(self.engine)

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
        """Run ``fn(session, outbox, *args, **kwargs)`` in one transaction, publish what it emitted,
        then let the workflow react to it. On SQLite the transaction may be shared with the writes
        queued beside it (``engine.writes``: group commit, each in its own savepoint)."""
        def work(session: Session) -> tuple[T, Outbox]:
            outbox = Outbox()  # afresh on every attempt: a write re-run alone must not emit twice
            return fn(session, outbox, *args, **kwargs), outbox

        result, outbox = await self.writes.run(work)
        for stream, event in outbox.events:
            await self.bus.publish(stream, event)
        if self.reactions is not None and outbox.events:
            await self.reactions(self, outbox.events)
        return result
