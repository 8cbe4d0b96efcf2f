"""Rate limits on the public surfaces, counted by the ``limits`` library (moving windows).

Counted per client address (every visitor and login request, every socket connect), per address
for conversation starts, per visitor token (every REST call and socket frame of one conversation),
per conversation for stored messages (widget REST and socket alike; per sender on SMS, email and
Messenger), and per login identity for failed logins. An identity over its failures is refused with
429 before its password is checked, so wrong logins cannot buy argon2 time without end.

The counters live in Redis when ``redis_url`` is set, so a limit holds across every worker behind a
load balancer; in memory otherwise (one process). The windows are settings (``limit_*``, in the
``limits`` notation ``"3/second;30/minute"``), documented in docs/security.md.

Over a limit a request gets 429 with ``Retry-After``; a socket is closed with :data:`CLOSE_CODE`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Literal

from fastapi import FastAPI, Request
from limits import RateLimitItem, parse_many
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import MemoryStorage, RedisStorage, storage_from_string
from starlette.requests import HTTPConnection

from engine.settings import Settings

CLOSE_CODE = 4429  # the socket's "429": the reason says when to come back
Rule = Literal["address", "starts", "visitor", "messages", "login_address", "login_failures", "email_codes"]
WHAT: dict[Rule, str] = {
    "address": "requests from this address",
    "starts": "conversations started from this address",
    "visitor": "requests for this conversation",
    "messages": "messages in this conversation",
    "login_address": "login attempts from this address",
    "login_failures": "failed logins for this account",
    "email_codes": "confirmation codes sent",
}


class RateLimited(Exception):
    """Over ``limit``; ``retry_after`` is the whole number of seconds until it lets a request through."""

    def __init__(self, rule: Rule, limit: RateLimitItem, retry_after: int) -> None:
        self.rule, self.limit, self.retry_after = rule, limit, retry_after
        self.detail = f"too many {WHAT[rule]} (the limit is {limit}); try again in {retry_after} s"
        super().__init__(self.detail)


class Limiter:
    """The rules of one application over one storage (memory, or Redis shared by the workers)."""

    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.rate_limits
        prefix = f"{settings.redis_prefix}:limits"
        self.storage: MemoryStorage | RedisStorage = (
            storage_from_string(f"async+{settings.redis_url}", implementation="redispy", key_prefix=prefix)
            if settings.redis_url else storage_from_string("async+memory://"))
        self.strategy = MovingWindowRateLimiter(self.storage)
        self.rules: dict[Rule, Sequence[RateLimitItem]] = {
            "address": parse_many(settings.limit_address),
            "starts": parse_many(settings.limit_conversation_starts),
            "visitor": parse_many(settings.limit_visitor),
            "messages": parse_many(settings.limit_messages),
            "login_address": parse_many(settings.limit_login_address),
            "login_failures": parse_many(settings.limit_login_failures),
            "email_codes": parse_many(settings.limit_email_codes),
        }

    async def hit(self, rule: Rule, key: str) -> None:
        """Count one request against every window of ``rule``; RateLimited if one is full."""
        if not self.enabled:
            return
        for item in self.rules[rule]:
            if not await self.strategy.hit(item, rule, key):
                raise await self._refusal(rule, item, key)

    async def check(self, rule: Rule, key: str) -> None:
        """RateLimited if ``rule`` is full for ``key``, without counting anything."""
        if not self.enabled:
            return
        for item in self.rules[rule]:
            if not await self.strategy.test(item, rule, key):
                raise await self._refusal(rule, item, key)

    async def clear(self, rule: Rule, key: str) -> None:
        if self.enabled:
            for item in self.rules[rule]:
                await self.strategy.clear(item, rule, key)

    async def _refusal(self, rule: Rule, item: RateLimitItem, key: str) -> RateLimited:
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
