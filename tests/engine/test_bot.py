"""The bot turn's micro-batcher: concurrent callers share calls, each gets its own result."""

from __future__ import annotations

import asyncio
import time

import pytest

from engine.service.bot import MicroBatcher

pytestmark = pytest.mark.anyio


def slow_square(items: list[int]) -> list[int]:
    time.sleep(0.05)  # stands for one model call: the same cost for one item or many
    return [item * item for item in items]


async def test_a_lone_caller_runs_at_once() -> None:
    batcher = MicroBatcher(slow_square)
    assert await batcher(3) == 9
    assert batcher.batches == [1]


async def test_callers_arriving_during_a_batch_share_the_next_one() -> None:
    batcher = MicroBatcher(slow_square, max_batch=8)
    results = await asyncio.gather(*(batcher(n) for n in range(20)))
    assert results == [n * n for n in range(20)]
    assert sum(batcher.batches) == 20 and max(batcher.batches) == 8 and len(batcher.batches) < 20


async def test_an_error_reaches_every_caller_of_its_batch_and_the_next_batch_still_runs() -> None:
    def fail_on_seven(items: list[int]) -> list[int]:
        if 7 in items:
            raise ValueError("seven is not allowed")
        return items

    batcher = MicroBatcher(fail_on_seven)
    results = await asyncio.gather(batcher(7), batcher(8), return_exceptions=True)
    assert isinstance(results[0], ValueError)
    assert await batcher(9) == 9
