"""The event bus: publish to named streams, subscribe to several at once.

Streams: ``conversation:<id>`` (what a visitor may see), ``conversation:<id>:internal`` (internal
notes: only operators subscribe to it, so a visitor socket cannot receive one by construction),
``operator:<id>`` (one operator), ``operators`` (every operator console: queue and state changes).

:class:`InProcessBus` serves one worker; a Redis implementation with the same protocol serves many.
A subscriber that falls too far behind is closed with ``overflowed`` set, and its client starts over
from its last seq (the store holds everything a conversation emitted).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Protocol

from engine.events import Event

OPERATORS = "operators"
WORKERS = "workers"  # worker to worker: settings every worker applies (engine.service.admin)
DEFAULT_BACKLOG = 2000


def conversation_stream(conversation_id: int, *, internal: bool = False) -> str:
    return f"conversation:{conversation_id}:internal" if internal else f"conversation:{conversation_id}"


def operator_stream(operator_id: int) -> str:
    return f"operator:{operator_id}"


class Subscription(Protocol):
    overflowed: bool

    def add(self, stream: str) -> None: ...

    def remove(self, stream: str) -> None: ...

    async def get(self) -> tuple[str, Event]: ...

    def close(self) -> None: ...


class EventBus(Protocol):
    async def publish(self, stream: str, event: Event) -> None: ...

    def subscribe(self, *streams: str) -> Subscription: ...

    async def close(self) -> None: ...


class InProcessSubscription:
    """A bounded queue fed by every stream it is attached to."""

    def __init__(self, bus: InProcessBus, backlog: int) -> None:
        self._bus = bus
        self._queue: asyncio.Queue[tuple[str, Event] | None] = asyncio.Queue(maxsize=backlog)
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

    def deliver(self, stream: str, event: Event) -> None:
        if self.closed:
            return
        try:
            self._queue.put_nowait((stream, event))
        except asyncio.QueueFull:
            self.overflowed = True
            self.close()

    async def get(self) -> tuple[str, Event]:
        """The next event and the stream it came by; raises ``ConnectionResetError`` once closed
        (``overflowed`` says why)."""
        item = await self._queue.get()
        if item is None:
            raise ConnectionResetError("subscription closed")
        return item

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
        while not self._queue.empty():  # what is left is stale: the client resyncs from the store
            self._queue.get_nowait()
        self._queue.put_nowait(None)  # wakes a waiting reader


class InProcessBus:
    """Streams of one worker process. Publishing never blocks on a slow subscriber."""

    def __init__(self, backlog: int = DEFAULT_BACKLOG) -> None:
        self._backlog = backlog
        self._streams: dict[str, set[InProcessSubscription]] = {}

    async def publish(self, stream: str, event: Event) -> None:
        for subscription in list(self._streams.get(stream, ())):
            subscription.deliver(stream, event)

    def subscribe(self, *streams: str) -> InProcessSubscription:
        subscription = InProcessSubscription(self, self._backlog)
        for stream in streams:
            subscription.add(stream)
        return subscription

    def subscribers(self, stream: str) -> int:
        return len(self._streams.get(stream, ()))

    async def close(self) -> None:
        for subscriptions in list(self._streams.values()):
            for subscription in list(subscriptions):
                subscription.close()

    def _attach(self, stream: str, subscription: InProcessSubscription) -> None:
        self._streams.setdefault(stream, set()).add(subscription)

    def _detach(self, stream: str, subscription: InProcessSubscription) -> None:
        subscribers = self._streams.get(stream)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._streams[stream]
