"""``exclusive(ctx, name)``: one holder at a time, in this worker and, with Redis, across workers.

Routing uses it so that two passes never both fill an operator's last free slot: a pass reads the
floor (who is online, who has room) and assigns from that reading, which is only safe if no other
pass assigns in between. The conversation row lock already stops one conversation from being
assigned twice; capacity spans many rows, hence this lock.

Within a worker an ``asyncio.Lock`` serialises the holders (one per event loop, since tests run
several servers in one process); when the bus can lend a shared lock (:class:`SharedLocks`, which
``RedisBus`` is) the holder takes that too, so the pass is exclusive across every worker.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol, runtime_checkable

from engine.service.runtime import ServiceContext


@runtime_checkable
class SharedLocks(Protocol):
    """A bus that can hold a named lock across workers."""

    def lock(self, name: str) -> AbstractAsyncContextManager[None]: ...


_LOCAL: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = \
    weakref.WeakKeyDictionary()


def _local_lock(name: str) -> asyncio.Lock:
    locks = _LOCAL.setdefault(asyncio.get_running_loop(), {})
    return locks.setdefault(name, asyncio.Lock())


@asynccontextmanager
async def exclusive(ctx: ServiceContext, name: str) -> AsyncIterator[None]:
    """Hold ``name`` for the body: the local lock first (so a worker's waiters queue here rather
    than poll Redis), then the bus's shared lock if it has one."""
    async with _local_lock(name):
        if isinstance(ctx.bus, SharedLocks):
            async with ctx.bus.lock(name):
                yield
        else:
            yield
