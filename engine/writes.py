"""Group commit: the write transactions that queue up behind one another run together.

SQLite takes one writer at a time (``BEGIN IMMEDIATE``), so concurrent actions wait for each other
and each pays its own BEGIN, commit and thread hop; on PostgreSQL each pays its round trips for
BEGIN and COMMIT, a WAL flush per commit and a thread of its own. :class:`GroupCommit` keeps one queue per
database and one task draining it: every unit of work that arrived while the previous transaction
ran goes into the next one, each inside a SAVEPOINT of its own (one that raises is rolled back
alone and its caller gets the error; the others commit). A lone unit runs at once, as before, so
an idle server pays nothing for this; under load, 16 bot turns storing their answers cost one
commit rather than 16, and their answers are published together.

Each unit starts from an empty identity map (what it returns is never changed by the units after
it), and a unit is re-run alone if the shared commit itself fails, so it is atomic and isolated as
if it had its own transaction. On PostgreSQL the units of a group take their row locks in one
transaction: a group that deadlocks with another worker's transaction is aborted by the server and
each of its units is re-run alone, like any failed shared commit. Without the grouping, concurrent
turns on PostgreSQL shared retrieval batches only as far as their writes happened to line up
(docs/scaling.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio.to_thread
from sqlalchemy import Engine
from sqlmodel import Session

from engine.db import session_scope

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_GROUP = 64  # units per transaction: bounds how long one commit holds the write lock


@dataclass
class _Unit:
    work: Callable[[Session], Any]
    future: asyncio.Future[Any]
    outcome: tuple[bool, Any] | None = field(default=None)  # (ok, result or exception), set in the thread


class GroupCommit:
    """The write queue of one database (see the module's docstring)."""

    def __init__(self, engine: Engine, max_group: int = MAX_GROUP) -> None:
        self.engine = engine
        self.max_group = max_group
        self.grouped = True  # SQLite and PostgreSQL alike (the module's docstring)
        self._queue: list[_Unit] = []
        self._drainer: asyncio.Task[None] | None = None
        self.groups: list[int] = []  # sizes of the transactions run, for benchmarks and tests

    async def run(self, work: Callable[[Session], T]) -> T:
        """Run ``work(session)`` in a write transaction (possibly shared, in its own savepoint)."""
        if not self.grouped:
            return await anyio.to_thread.run_sync(_transaction, self.engine, work)
        unit = _Unit(work, asyncio.get_running_loop().create_future())
        self._queue.append(unit)
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())
        return await unit.future

    async def _drain(self) -> None:
        while self._queue:
            group, self._queue = self._queue[: self.max_group], self._queue[self.max_group:]
            self.groups.append(len(group))
            await anyio.to_thread.run_sync(self._commit, group)
            for unit in group:
                ok, value = unit.outcome or (False, RuntimeError("the write was not run"))
                if unit.future.done():
                    continue
                if ok:
                    unit.future.set_result(value)
                else:
                    unit.future.set_exception(value)

    def _commit(self, group: list[_Unit]) -> None:
        if len(group) == 1:
            self._alone(group[0])
            return
        try:
            with session_scope(self.engine) as session:
                for unit in group:
                    try:
                        with session.begin_nested():
                            unit.outcome = (True, unit.work(session))
                    except Exception as exc:  # this unit only: its savepoint is rolled back
                        unit.outcome = (False, exc)
                    session.expunge_all()  # the next unit loads fresh objects; this one's stay as returned
        except Exception:  # the shared commit failed: nothing of the group is stored, so run each alone
            log.warning("a group commit of %d writes failed; running them one by one", len(group),
                        exc_info=True)
            for unit in group:
                self._alone(unit)

    def _alone(self, unit: _Unit) -> None:
        try:
            unit.outcome = (True, _transaction(self.engine, unit.work))
        except Exception as exc:
            unit.outcome = (False, exc)


def _transaction(engine: Engine, work: Callable[[Session], T]) -> T:
    with session_scope(engine) as session:
        return work(session)
