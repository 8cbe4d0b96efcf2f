"""Group commit: the write transactions that queue up behind one another run together.

SQLite takes one writer at a time (``BEGIN IMMEDIATE``), so concurrent actions wait for each other
and each pays its own BEGIN, commit and thread hop; on PostgreSQL each pays its round trips for
BEGIN and COMMIT, a WAL flush per commit and a thread of its own. :class:`GroupCommit` keeps one queue per
database and one writer thread draining it: every unit of work that arrived while the previous
transaction ran goes into the next one, each inside a SAVEPOINT of its own (one that raises is rolled back
alone and its caller gets the error; the others commit). A lone unit runs at once, as before, so
an idle server pays nothing for this; under load, 16 bot turns storing their answers cost one
commit rather than 16, and their answers are published together.

Each unit starts from an empty identity map (what it returns is never changed by the units after
it), and a unit is re-run alone if the shared commit itself fails, so it is atomic and isolated as
if it had its own transaction. On PostgreSQL the units of a group take their row locks in one
transaction: a group that deadlocks with another worker's transaction (an ``OperationalError`` in
any of its units: the transaction is at fault, not the unit's work) is abandoned and each of its
units is re-run alone, like any failed shared commit; a unit alone that deadlocks is run again.
Without the grouping, concurrent turns on PostgreSQL shared retrieval batches only as far as their
writes happened to line up (docs/scaling.md).

The writer is one thread of its own holding one connection, since the writes of a worker run one
transaction at a time anyway: a unit costs one hand-off to it (a ``SimpleQueue`` put) and one back
(``call_soon_threadsafe``), not a pool thread's hop with its cancel scope, nor a connection checked
out of the pool (and pinged, on PostgreSQL) and a new session per transaction (docs/scaling.md, the
third pass). The thread and its connection go away after ``linger`` seconds without writes, so an
idle or discarded context holds neither; a connection that broke is replaced on the next write.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_GROUP = 64  # units per transaction: bounds how long one commit holds the write lock
LINGER_SECONDS = 5.0  # the writer thread and its connection stay this long after the last write
ATTEMPTS = 3  # a unit's tries when its transaction is lost (a deadlock with another worker, say)


@dataclass
class _Unit:
    work: Callable[[Session], Any]
    future: asyncio.Future[Any]
    outcome: tuple[bool, Any] | None = field(default=None)  # (ok, result or exception), set in the thread


class GroupCommit:
    """The write queue of one database (see the module's docstring)."""

    def __init__(self, engine: Engine, max_group: int = MAX_GROUP, linger: float = LINGER_SECONDS) -> None:
        self.engine = engine
        self.max_group = max_group
        self.linger = linger
        self._queue: queue.SimpleQueue[_Unit] = queue.SimpleQueue()
        self._lock = threading.Lock()  # orders a writer's start against its exit when idle
        self._writer: threading.Thread | None = None
        self._connection: Connection | None = None  # the writer's own, used in its thread only
        self.groups: list[int] = []  # sizes of the transactions run, for benchmarks and tests

    async def run(self, work: Callable[[Session], T]) -> T:
        """Run ``work(session)`` in a write transaction (possibly shared, in its own savepoint)."""
        unit = _Unit(work, asyncio.get_running_loop().create_future())
        with self._lock:
            self._queue.put(unit)
            if self._writer is None:
                self._writer = threading.Thread(target=self._write, name="group-commit", daemon=True)
                self._writer.start()
        return await unit.future

    def _write(self) -> None:
        """The writer thread: each transaction takes every unit queued meanwhile (up to
        ``max_group``), then hands the outcomes back to the units' event loops."""
        while True:
            try:
                first = self._queue.get(timeout=self.linger)
            except queue.Empty:
                with self._lock:
                    if not self._queue.empty():
                        continue  # a unit came in just now: this writer takes it
                    self._writer = None  # the next unit starts a writer of its own
                    connection, self._connection = self._connection, None
                _close(connection)
                return
            group = [first]
            while len(group) < self.max_group:
                try:
                    group.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self.groups.append(len(group))
            self._commit(group)
            for loop in {unit.future.get_loop() for unit in group}:
                with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits for these
                    loop.call_soon_threadsafe(_settle, [u for u in group if u.future.get_loop() is loop])

    def _commit(self, group: list[_Unit]) -> None:
        if len(group) == 1:
            self._alone(group[0])
            return
        try:
            with self._session() as session:
                for unit in group:
                    try:
                        with session.begin_nested():
                            unit.outcome = (True, unit.work(session))
                    except OperationalError:
                        raise  # a deadlock, a busy or lost database: the group is lost, each re-runs alone
                    except BaseException as exc:  # this unit only: its savepoint is rolled back
                        unit.outcome = (False, exc)
                    session.expunge_all()  # the next unit loads fresh objects; this one's stay as returned
                session.commit()
        except Exception:  # the shared commit failed: nothing of the group is stored, so run each alone
            log.warning("a group commit of %d writes failed; running them one by one", len(group),
                        exc_info=True)
            for unit in group:
                self._alone(unit)

    def _alone(self, unit: _Unit) -> None:
        """One unit in its own transaction; one that another worker's transaction deadlocked (or
        that met a busy or lost database) is lost as a transaction, not as work: it runs again, up
        to :data:`ATTEMPTS` times (its outbox is made afresh on each attempt)."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                with self._session() as session:
                    result = unit.work(session)
                    session.commit()
                unit.outcome = (True, result)
                return
            except OperationalError as exc:
                unit.outcome = (False, exc)
                if attempt < ATTEMPTS:
                    log.warning("a write failed (%s); running it again", exc.orig.__class__.__name__)
            except BaseException as exc:  # raised in the caller's task, as a thread hop would
                unit.outcome = (False, exc)
                return

    def _session(self) -> Session:
        """A session on the writer's connection (a new connection if it has none, or a broken one).
        Leaving its ``with`` block without a commit rolls the transaction back."""
        connection = self._connection
        if connection is None or connection.closed or connection.invalidated:
            _close(connection)
            connection = self._connection = self.engine.connect()
        return Session(bind=connection, expire_on_commit=False)


def _close(connection: Connection | None) -> None:
    if connection is None:
        return
    try:
        connection.close()
    except Exception:  # already broken: the pool drops it
        log.debug("closing the writer's connection failed", exc_info=True)


def _settle(group: list[_Unit]) -> None:
    """On the event loop: give each waiting caller its unit's outcome."""
    for unit in group:
        if unit.future.done():
            continue  # its caller was cancelled; the write itself ran
        ok, value = unit.outcome or (False, RuntimeError("the write was not run"))
        if ok:
            unit.future.set_result(value)
        else:
            unit.future.set_exception(value)
