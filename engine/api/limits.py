"""Rate limits on the public surfaces, counted by the ``limits`` library (moving windows).

Counted per client address (every visitor and login request, every socket connect), per address
for conversation starts, per visitor token (every REST call and socket frame of one conversation),
per conversation for stored messages (widget REST and socket alike; per sender on SMS, email and
Messenger), and per login identity for failed logins. An identity over its failures is refused with
429 before its password is checked, so wrong logins cannot buy argon2 time without end.

The counters live in Redis when ``redis_url`` is set, so a limit holds across every worker behind a
load balancer; in memory otherwise (one process, :class:`MemoryWindows`). The windows are settings
(``limit_*``, in the ``limits`` notation ``"3/second;30/minute"``), documented in docs/security.md.

Over a limit a request gets 429 with ``Retry-After``; a socket is closed with :data:`CLOSE_CODE`.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Sequence
from typing import Literal

from fastapi import FastAPI, Request
from limits import RateLimitItem, parse_many
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import RedisStorage, storage_from_string
from starlette.requests import HTTPConnection

from engine.settings import Settings

CLOSE_CODE = 4429  # the socket's "429": the reason says when to come back
Rule = Literal["address", "starts", "visitor", "messages", "login_address", "login_failures", "codes"]
WHAT: dict[Rule, str] = {
    "address": "requests from this address",
    "starts": "conversations started from this address",
    "visitor": "requests for this conversation",
    "messages": "messages in this conversation",
    "login_address": "login attempts from this address",
    "login_failures": "failed logins for this account",
    "codes": "confirmation codes sent",
}


class RateLimited(Exception):
    """Over ``limit``; ``retry_after`` is the whole number of seconds until it lets a request through."""

    def __init__(self, rule: Rule, limit: RateLimitItem, retry_after: int) -> None:
        self.rule, self.limit, self.retry_after = rule, limit, retry_after
        self.detail = f"too many {WHAT[rule]} (the limit is {limit}); try again in {retry_after} s"
        super().__init__(self.detail)


class MemoryWindows:
    """Moving windows in this process's memory, with the ``limits`` moving-window rule (a hit counts
    for ``item``'s window from its time; a full window refuses) at O(1) per hit.

    Why not ``limits``' own async memory storage: after every hit it sweeps *every* key, each through
    a thread hop (``asyncio.to_thread`` per key). With a few thousand open conversations (a key per
    conversation and window) that sweep never ends, and its thread hops took the event loop and the
    GIL from every socket (docs/scaling.md, the profile). Here each key's window is trimmed when it is
    hit, and keys idle past their window are dropped by a sweep at most once a minute.
    """

    SWEEP_SECONDS = 60.0

    def __init__(self) -> None:
        self._hits: dict[tuple[str, str, int, int], deque[float]] = {}
        self._next_sweep = time.monotonic() + self.SWEEP_SECONDS

    @staticmethod
    def _key(item: RateLimitItem, rule: str, key: str) -> tuple[str, str, int, int]:
        return rule, key, item.amount, item.get_expiry()

    def _window(self, item: RateLimitItem, rule: str, key: str, now: float) -> deque[float]:
        hits = self._hits.get(self._key(item, rule, key))
        if hits is None:
            return deque()
        cutoff = now - item.get_expiry()
        while hits and hits[0] <= cutoff:
            hits.popleft()
        return hits

    def hit(self, item: RateLimitItem, rule: str, key: str) -> bool:
        now = time.monotonic()
        if now >= self._next_sweep:
            self._sweep(now)
        hits = self._window(item, rule, key, now)
        if len(hits) >= item.amount:
            return False
        if not hits:
            hits = self._hits.setdefault(self._key(item, rule, key), hits)
        hits.append(now)
        return True

    def test(self, item: RateLimitItem, rule: str, key: str) -> bool:
        return len(self._window(item, rule, key, time.monotonic())) < item.amount

    def seconds_to_reset(self, item: RateLimitItem, rule: str, key: str) -> float:
        """Until the window lets one more hit through (its oldest hit leaves it)."""
        now = time.monotonic()
        hits = self._window(item, rule, key, now)
        return hits[0] + item.get_expiry() - now if len(hits) >= item.amount else 0.0

    def clear(self, item: RateLimitItem, rule: str, key: str) -> None:
        self._hits.pop(self._key(item, rule, key), None)

    def _sweep(self, now: float) -> None:
        self._next_sweep = now + self.SWEEP_SECONDS
        idle = [key for key, hits in self._hits.items() if not hits or hits[-1] <= now - key[3]]
        for key in idle:
            del self._hits[key]


class Limiter:
    """The rules of one application over one storage (memory, or Redis shared by the workers)."""

    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.rate_limits
        prefix = f"{settings.redis_prefix}:limits"
        self.memory: MemoryWindows | None = None if settings.redis_url else MemoryWindows()
        self.storage: RedisStorage | None = (
            storage_from_string(f"async+{settings.redis_url}", implementation="redispy", key_prefix=prefix)
            if settings.redis_url else None)
        self.strategy = MovingWindowRateLimiter(self.storage) if self.storage is not None else None
        self.rules: dict[Rule, Sequence[RateLimitItem]] = {
            "address": parse_many(settings.limit_address),
            "starts": parse_many(settings.limit_conversation_starts),
            "visitor": parse_many(settings.limit_visitor),
            "messages": parse_many(settings.limit_messages),
            "login_address": parse_many(settings.limit_login_address),
            "login_failures": parse_many(settings.limit_login_failures),
            "codes": parse_many(settings.limit_email_codes),
        }

    async def hit(self, rule: Rule, key: str) -> None:
        """Count one request against every window of ``rule``; RateLimited if one is full."""
        if not self.enabled:
            return
        for item in self.rules[rule]:
            allowed = self.memory.hit(item, rule, key) if self.memory is not None \
                else await self.strategy.hit(item, rule, key)
            if not allowed:
                raise await self._refusal(rule, item, key)

    async def check(self, rule: Rule, key: str) -> None:
        """RateLimited if ``rule`` is full for ``key``, without counting anything."""
        if not self.enabled:
            return
        for item in self.rules[rule]:
            allowed = self.memory.test(item, rule, key) if self.memory is not None \
                else await self.strategy.test(item, rule, key)
            if not allowed:
                raise await self._refusal(rule, item, key)

    async def clear(self, rule: Rule, key: str) -> None:
        if self.enabled:
            for item in self.rules[rule]:
                if self.memory is not None:
                    self.memory.clear(item, rule, key)
                else:
                    await self.strategy.clear(item, rule, key)

    async def _refusal(self, rule: Rule, item: RateLimitItem, key: str) -> RateLimited:
        if self.memory is not None:
            return RateLimited(rule, item, max(1, math.ceil(self.memory.seconds_to_reset(item, rule, key))))
        stats = await self.strategy.get_window_stats(item, rule, key)
        return RateLimited(rule, item, max(1, math.ceil(stats.reset_time - time.time())))


def of(app: FastAPI) -> Limiter:
    return app.state.limiter


def client_address(connection: HTTPConnection) -> str:
    """The peer's address (uvicorn puts the forwarded one here when ``--forwarded-allow-ips`` trusts
    the proxy in front)."""
    return connection.client.host if connection.client else "unknown"


async def per_address(request: Request) -> None:
    """Router dependency: one request from this client address."""
    await of(request.app).hit("address", client_address(request))


async def conversation_start(request: Request) -> None:
    """Route dependency: one conversation start from this client address."""
    await of(request.app).hit("starts", client_address(request))


async def login_attempt(request: Request) -> None:
    """Route dependency: one login attempt from this client address."""
    await of(request.app).hit("login_address", client_address(request))
