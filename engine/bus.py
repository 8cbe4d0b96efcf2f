"""The event bus: publish to named streams, subscribe to several at once.

Streams: ``conversation:<id>`` (what a visitor may see), ``conversation:<id>:internal`` (internal
notes: only operators subscribe to it, so a visitor socket cannot receive one by construction),
``operator:<id>`` (one operator), ``operators`` (every operator console: queue and state changes).

Every event gets an id when it is published, monotonic per stream, and each stream keeps its last
``REPLAY_BACKLOG`` events, so that a socket which reconnects with the last id it saw gets what it
missed (:meth:`EventBus.backlogs`), or learns that the gap is older than the stream keeps and the
client must reload. A stream's ids start from the microseconds since the epoch when its log is made,
so a log made again (a restarted worker, an evicted or expired log) starts above every id the old one
handed out: an old id then reads as too old, never as a position in the new log.

:class:`InProcessBus` serves one worker; a Redis implementation with the same protocol serves many.
A subscriber that falls too far behind is closed with ``overflowed`` set, and its client starts over
from its last id (or seq: the store holds everything a conversation emitted).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from engine.events import Event

OPERATORS = "operators"
WORKERS = "workers"  # worker to worker: settings every worker applies (engine.service.admin)
DEFAULT_BACKLOG = 2000
REPLAY_BACKLOG = 500  # events each stream keeps for a socket that resumes from its last id
REPLAY_STREAMS = 5000  # in-process: stream logs kept, the least recently published dropped first
REPLAY_TTL_SECONDS = 3600  # Redis: a stream's log expires this long after its last event


def conversation_stream(conversation_id: int, *, internal: bool = False) -> str:
    return f"conversation:{conversation_id}:internal" if internal else f"conversation:{conversation_id}"


def operator_stream(operator_id: int) -> str:
    return f"operator:{operator_id}"


def new_log_head() -> int:
    """The id before a new stream log's first event: microseconds since the epoch (below 2**53, so
    exact in JavaScript until the year 2255)."""
    return time.time_ns() // 1000


class Delivery(NamedTuple):
    """An event as a subscriber gets it: the stream it came by and its id there."""

    stream: str
    id: int
    event: Event


@dataclass(frozen=True)
class Backlog:
    """A stream's position and, for a resume, what came after the id asked for.

    ``head`` is the id of the stream's latest event (or where its log starts). ``complete`` is False
    when the id asked for is older than the stream keeps, or not one of its ids: the client has
    missed events the bus no longer holds and must reload its state; ``events`` is then empty.
    """

    head: int
    events: list[tuple[int, Event]] = field(default_factory=list)
    complete: bool = True


class Subscription(Protocol):
    overflowed: bool

    def add(self, stream: str) -> None: ...

    def remove(self, stream: str) -> None: ...

    async def get(self) -> tuple[str, Event]: ...

    async def receive(self) -> Delivery: ...

    def close(self) -> None: ...


class EventBus(Protocol):
    async def publish(self, stream: str, event: Event) -> None: ...

    def subscribe(self, *streams: str) -> Subscription: ...

    async def backlogs(self, after: Mapping[str, int | None]) -> dict[str, Backlog]:
        """Per stream, its head and the events after the id given (``None``: the head alone)."""
        ...

    async def close(self) -> None: ...


class InProcessSubscription:
    """A bounded queue fed by every stream it is attached to."""

    def __init__(self, bus: InProcessBus, backlog: int) -> None:
        self._bus = bus
        self._queue: asyncio.Queue[Delivery | None] = asyncio.Queue(maxsize=backlog)
        self.streams: set[str] = set()
        self.overflowed = False
        self.closed = False

    def add(self, stream: str) -> None:
        if not self.closed and stream not in self.streams:
            self.streams.add(stream)
            self._bus._attach(stream, self)

    def remove(self, stream: str) -> None:
        if stream in self.streams:
            self.streams.discard(stream)
            self._bus._detach(stream, self)

    def deliver(self, delivery: Delivery) -> None:
        if self.closed:
            return
        try:
            self._queue.put_nowait(delivery)
        except asyncio.QueueFull:
            self.overflowed = True
            self.close()

    async def receive(self) -> Delivery:
        """The next event with its stream and id; raises ``ConnectionResetError`` once closed
        (``overflowed`` says why)."""
        item = await self._queue.get()
        if item is None:
            raise ConnectionResetError("subscription closed")
        return item

    async def get(self) -> tuple[str, Event]:
        """The next event and the stream it came by (:meth:`receive` without the id)."""
        stream, _id, event = await self.receive()
        return stream, event

    def __aiter__(self) -> AsyncIterator[tuple[str, Event]]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[tuple[str, Event]]:
        while True:
            try:
                yield await self.get()
            except ConnectionResetError:
                return

    def close(self) -> None:
        if self.closed:
            return
        for stream in list(self.streams):
            self.remove(stream)
        self.closed = True
        while not self._queue.empty():  # what is left is stale: the client resumes from its last id
            self._queue.get_nowait()
        self._queue.put_nowait(None)  # wakes a waiting reader


class _Log:
    """One stream's ids and its last events (ids contiguous: the entries end at ``head``)."""

    __slots__ = ("head", "entries")

    def __init__(self, size: int) -> None:
        self.head = new_log_head()
        self.entries: deque[tuple[int, Event]] = deque(maxlen=size)

    def after(self, last: int | None) -> Backlog:
        if last is None:
            return Backlog(self.head)
        first = self.entries[0][0] if self.entries else self.head + 1
        if not first - 1 <= last <= self.head:
            return Backlog(self.head, complete=False)
        return Backlog(self.head, list(itertools.islice(self.entries, last - first + 1, None)))


class InProcessBus:
    """Streams of one worker process. Publishing never blocks on a slow subscriber."""

    def __init__(self, backlog: int = DEFAULT_BACKLOG, *, replay: int = REPLAY_BACKLOG,
                 replay_streams: int = REPLAY_STREAMS) -> None:
        self._backlog = backlog
        self._streams: dict[str, set[InProcessSubscription]] = {}
        self._replay = replay
        self._replay_streams = replay_streams
        self._logs: OrderedDict[str, _Log] = OrderedDict()

    async def publish(self, stream: str, event: Event) -> None:
        log = self._log_of(stream)
        log.head += 1
        log.entries.append((log.head, event))
        self.fan_out(Delivery(stream, log.head, event))

    def fan_out(self, delivery: Delivery) -> None:
        """Hand an event that already has its id to this worker's subscribers of its stream."""
        for subscription in list(self._streams.get(delivery.stream, ())):
            subscription.deliver(delivery)

    def subscribe(self, *streams: str) -> InProcessSubscription:
        subscription = InProcessSubscription(self, self._backlog)
        for stream in streams:
            subscription.add(stream)
        return subscription

    async def backlogs(self, after: Mapping[str, int | None]) -> dict[str, Backlog]:
        return {stream: self._log_of(stream).after(last) for stream, last in after.items()}

    def subscribers(self, stream: str) -> int:
        return len(self._streams.get(stream, ()))

    async def close(self) -> None:
        for subscriptions in list(self._streams.values()):
            for subscription in list(subscriptions):
                subscription.close()

    def _log_of(self, stream: str) -> _Log:
        log = self._logs.get(stream)
        if log is None:
            log = self._logs[stream] = _Log(self._replay)
            if len(self._logs) > self._replay_streams:
                self._logs.popitem(last=False)
        else:
            self._logs.move_to_end(stream)
        return log

    def _attach(self, stream: str, subscription: InProcessSubscription) -> None:
        self._streams.setdefault(stream, set()).add(subscription)

    def _detach(self, stream: str, subscription: InProcessSubscription) -> None:
        subscribers = self._streams.get(stream)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._streams[stream]
