"""``RedisBus``: the event bus across workers, over Redis pub/sub, with the protocol of ``InProcessBus``.

Each worker holds two Redis connections whatever the number of sockets it serves: one publishes,
one listens. Every event goes to a single channel (``<prefix>:events``) as ``<stream>\\n<event JSON>``;
the listener hands it to the worker's :class:`InProcessBus`, which fans it out to the local
subscriptions of that stream with the bounded queues and ``overflowed`` semantics of one worker.
One channel rather than one per stream: a subscription is live the moment it is made (no
SUBSCRIBE round trip racing the socket's replay from the store), and a worker drops an event no
local socket wants by its stream name, before parsing it. A worker's own events come back through
Redis too, so every worker sees one order.

Event ids (``engine.bus``): one Lua script per publish, in one round trip, takes the stream's next id
(``INCR <prefix>:id:{<stream>}``, seeded from Redis's clock when the stream has none), appends
``<id>\\n<event JSON>`` to the stream's log (a list trimmed to ``replay`` (``BATON_EVENT_REPLAY``), expiring
``REPLAY_TTL_SECONDS`` after its last event) and publishes ``<stream>\\n<id>\\n<event JSON>``. Being
atomic, ids reach every worker in the order they were given. :meth:`RedisBus.backlogs` reads the
logs for sockets that resume, with the same rules as the in-process bus.

Losing Redis loses events, never data: the store holds everything. When the listener loses its
connection (or finds that redis-py resubscribed behind its back) every local subscription is
closed with ``overflowed`` set, so each client reconnects with its last seq and replays what it
missed from the store; the same happens once more when the connection is back, for subscriptions
made during the outage. A publish that fails after retries is logged and dropped for the same
reason.

The bus also lends its connection for short cross-worker locks (:meth:`RedisBus.lock`, used
through ``engine.locks``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
import weakref
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as redis
from redis.asyncio.retry import Retry  # the asyncio client's own (redis 8 warns on the sync one)
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import LockError, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from engine.bus import (
    DEFAULT_BACKLOG,
    REPLAY_BACKLOG,
    REPLAY_TTL_SECONDS,
    Backlog,
    Delivery,
    EventBus,
    InProcessBus,
    InProcessSubscription,
)
from engine.events import Event, parse_event
from engine.settings import Settings

log = logging.getLogger(__name__)

LOST = (RedisConnectionError, RedisTimeoutError, OSError)
RECONNECT_DELAYS = (0.1, 0.5, 1.0, 2.0, 5.0)  # seconds between attempts, the last repeated
LOCK_TTL_SECONDS = 10.0  # a crashed holder frees the lock after this; a live one keeps extending it
LOCK_WAIT_SECONDS = 60.0

# KEYS: the stream's log, its id; ARGV: channel, stream, event JSON, log length, TTL seconds.
# A missing id is seeded from the clock (microseconds), and a log left without its id is dropped,
# so the ids in a log are always contiguous and end at the id key's value.
_SEED = """
local function seed()
  local t = redis.call('TIME')
  redis.call('SET', KEYS[2], t[1] .. string.format('%06d', tonumber(t[2])))
  redis.call('DEL', KEYS[1])
end
"""
PUBLISH_SCRIPT = _SEED + """
if redis.call('EXISTS', KEYS[2]) == 0 then seed() end
redis.call('INCR', KEYS[2])
local id = redis.call('GET', KEYS[2])
redis.call('RPUSH', KEYS[1], id .. '\\n' .. ARGV[3])
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[4]), -1)
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('EXPIRE', KEYS[2], ARGV[5])
redis.call('PUBLISH', ARGV[1], ARGV[2] .. '\\n' .. id .. '\\n' .. ARGV[3])
return id
"""
# KEYS: the stream's log, its id; ARGV: the last id the client saw ('' for the head alone), TTL.
# Returns {head, complete (0/1), entries after that id}.
BACKLOG_SCRIPT = _SEED + """
if redis.call('EXISTS', KEYS[2]) == 0 then seed() end
redis.call('EXPIRE', KEYS[2], ARGV[2])
local head = redis.call('GET', KEYS[2])
if ARGV[1] == '' then return {head, 1, {}} end
local last, top = tonumber(ARGV[1]), tonumber(head)
local first = top - redis.call('LLEN', KEYS[1]) + 1
if last < first - 1 or last > top then return {head, 0, {}} end
return {head, 1, redis.call('LRANGE', KEYS[1], last - first + 1, -1)}
"""


class RedisBus:
    """Streams shared by every worker that uses the same Redis and ``prefix``.

    Made by :meth:`connect` (which returns once the listener is subscribed, so nothing published
    after it is missed); closed by :meth:`close`.
    """

    def __init__(self, url: str, *, prefix: str = "baton", backlog: int = DEFAULT_BACKLOG,
                 replay: int = REPLAY_BACKLOG) -> None:
        self.url = url
        self.prefix = prefix
        self.channel = f"{prefix}:events"
        self.client_name = f"{prefix}:{uuid.uuid4().hex[:8]}"  # CLIENT LIST shows <name>:pub and <name>:sub
        options: dict[str, Any] = {"socket_connect_timeout": 5, "socket_keepalive": True,
                                   "health_check_interval": 10,
                                   "retry": Retry(ExponentialBackoff(cap=1.0), 3),
                                   "retry_on_error": [RedisConnectionError, RedisTimeoutError]}
        self._publisher = redis.Redis.from_url(url, single_connection_client=True,
                                               client_name=f"{self.client_name}:pub", **options)
        self._listener_client = redis.Redis.from_url(url, client_name=f"{self.client_name}:sub", **options)
        self._local = InProcessBus(backlog)
        self.replay = replay  # events each stream's log keeps
        self._publish_script = self._publisher.register_script(PUBLISH_SCRIPT)
        self._backlog_script = self._publisher.register_script(BACKLOG_SCRIPT)
        self._subscriptions: weakref.WeakSet[InProcessSubscription] = weakref.WeakSet()
        self._ready = asyncio.Event()
        self._listener: asyncio.Task[None] | None = None
        self._fed = False  # a first SUBSCRIBE was confirmed: any later one follows a gap
        self.reconnects = 0  # times the feed was re-established after a loss (tests, logs)

    @classmethod
    async def connect(cls, url: str, *, prefix: str = "baton", backlog: int = DEFAULT_BACKLOG,
                      replay: int = REPLAY_BACKLOG, timeout: float = 10.0) -> RedisBus:
        """A bus whose listener is subscribed; raises ``ConnectionError`` if Redis cannot be reached
        within ``timeout`` seconds (a worker should not start half-connected)."""
        bus = cls(url, prefix=prefix, backlog=backlog, replay=replay)
        bus._listener = asyncio.create_task(bus._listen(), name=f"redis-bus {bus.channel}")
        try:
            async with asyncio.timeout(timeout):  # not wait_for: on 3.11 it can swallow a cancel
                await bus._ready.wait()
        except TimeoutError:
            await bus.close()
            raise ConnectionError(f"Redis at {_safe(url)} did not answer within {timeout:.0f}s") from None
        return bus

    @property
    def connected(self) -> bool:
        return self._ready.is_set()

    def _keys(self, stream: str) -> list[str]:
        return [f"{self.prefix}:log:{{{stream}}}", f"{self.prefix}:id:{{{stream}}}"]

    async def publish(self, stream: str, event: Event) -> None:
        try:
            await self._publish_script(keys=self._keys(stream), args=[
                self.channel, stream, event.model_dump_json(), self.replay, int(REPLAY_TTL_SECONDS)])
        except (*LOST, RedisError) as exc:
            log.warning("event bus: could not publish to %s (%s); subscribers resync from the store",
                        stream, exc)

    async def backlogs(self, after: Mapping[str, int | None]) -> dict[str, Backlog]:
        """Every stream's log read in one pipelined round trip. Raises ``ConnectionError`` when Redis
        cannot be reached (a socket that cannot learn its position cannot promise a resume)."""
        if not after:
            return {}
        try:
            async with self._publisher.pipeline(transaction=False) as pipe:
                for stream, last in after.items():
                    await self._backlog_script(keys=self._keys(stream),
                                               args=["" if last is None else last, int(REPLAY_TTL_SECONDS)],
                                               client=pipe)
                replies = await pipe.execute()
        except (*LOST, RedisError) as exc:
            raise ConnectionError(f"event bus: could not read the stream logs ({exc})") from exc
        found: dict[str, Backlog] = {}
        for stream, (head, complete, entries) in zip(after, replies, strict=True):
            events = []
            for entry in entries:
                number, _, payload = entry.partition(b"\n")
                events.append((int(number), parse_event(payload)))
            found[stream] = Backlog(int(head), events, bool(complete))
        return found

    def subscribe(self, *streams: str) -> InProcessSubscription:
        subscription = self._local.subscribe(*streams)
        self._subscriptions.add(subscription)
        return subscription

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self._local.close()
        await self._publisher.aclose()
        await self._listener_client.aclose()

    @asynccontextmanager
    async def lock(self, name: str, *, wait: float = LOCK_WAIT_SECONDS) -> AsyncIterator[None]:
        """Hold ``<prefix>:lock:<name>`` across workers. Its TTL is short so that a crashed holder
        frees it soon; while held it is extended in the background. Raises ``LockError`` if not
        acquired within ``wait`` seconds."""
        lock = self._publisher.lock(f"{self.prefix}:lock:{name}", timeout=LOCK_TTL_SECONDS,
                                    blocking_timeout=wait, sleep=0.02)
        if not await lock.acquire():
            raise LockError(f"lock {name!r} still held by another worker after {wait:.0f}s")
        keeper = asyncio.create_task(self._keep(lock, name))
        try:
            yield
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            try:
                await lock.release()
            except LockError:
                log.warning("lock %r expired while held; another worker may have run alongside", name)
            except LOST as exc:
                log.warning("could not release lock %r (%s); it expires in %.0fs", name, exc,
                            LOCK_TTL_SECONDS)

    @staticmethod
    async def _keep(lock: Any, name: str) -> None:
        while True:
            await asyncio.sleep(LOCK_TTL_SECONDS / 3)
            try:
                await lock.reacquire()
            except (LockError, *LOST) as exc:
                log.warning("could not extend lock %r: %s", name, exc)
                return

    # --- the listener ---------------------------------------------------------------------------

    async def _listen(self) -> None:
        """Feed local subscriptions from Redis for the life of the bus, reconnecting after losses."""
        failures = 0
        while True:
            pubsub = self._listener_client.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                async for message in pubsub.listen():
                    if message["type"] == "subscribe":
                        self._on_subscribed()
                        failures = 0
                    elif message["type"] == "message":
                        await self._deliver(message["data"])
            except Exception as exc:  # lost Redis, or a bug: either way start over, never stop listening
                if self._ready.is_set():
                    log.log(logging.WARNING if isinstance(exc, LOST) else logging.ERROR,
                            "event bus: listener stopped (%r); reconnecting to Redis at %s, clients resync "
                            "from the store", exc, _safe(self.url), exc_info=not isinstance(exc, LOST))
                    self._ready.clear()
                    self._resync()
                await asyncio.sleep(RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)])
                failures += 1
            finally:
                with contextlib.suppress(*LOST, RedisError):
                    await pubsub.aclose()

    def _on_subscribed(self) -> None:
        """A SUBSCRIBE confirmation: the first one, or a (re)connection after a gap in the feed."""
        if self._fed:
            self.reconnects += 1
            log.warning("event bus: Redis feed re-established (%d); clients resync from the store",
                        self.reconnects)
            self._resync()
        self._fed = True
        self._ready.set()

    def _resync(self) -> None:
        """Close every local subscription as overflowed: each client reconnects with its last seq."""
        for subscription in list(self._subscriptions):
            if not subscription.closed:
                subscription.overflowed = True
                subscription.close()

    async def _deliver(self, data: bytes) -> None:
        stream, _, rest = data.partition(b"\n")
        name = stream.decode()
        if not self._local.subscribers(name):
            return
        number, _, payload = rest.partition(b"\n")
        try:
            event = parse_event(payload)
            self._local.fan_out(Delivery(name, int(number), event))
        except ValueError:
            log.exception("event bus: dropped an unreadable event on %s", name)


def _safe(url: str) -> str:
    """The URL without a password, for logs."""
    return url.split("@")[-1]


async def open_bus(settings: Settings) -> EventBus:
    """The bus a worker uses: Redis when ``BATON_REDIS_URL`` is set (several workers share it),
    otherwise the worker's own in-process bus."""
    if settings.redis_url:
        return await RedisBus.connect(settings.redis_url, prefix=settings.redis_prefix,
                                      replay=settings.event_replay)
    return InProcessBus(replay=settings.event_replay)
