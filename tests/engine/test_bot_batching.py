"""The bot's retrieval batching: questions prefetched together are embedded in one batch, and the
turn that follows takes the prefetched retrieval instead of embedding again."""

from __future__ import annotations

import asyncio

import pytest

from engine.service.bot import Bot, TurnInput

pytestmark = pytest.mark.anyio

QUESTIONS = ["how long does shipping take", "can i get my money back", "i forgot my password",
             "when will my order arrive", "refund please", "cant log in", "delivery time", "reset password"]


def snapshot(conversation_id: int, question: str) -> TurnInput:
    return TurnInput(conversation_id=conversation_id, state="bot", history=[("visitor", question, None)])


async def test_questions_arriving_together_share_one_batch_and_are_embedded_once(bot: Bot) -> None:
    before = len(bot.retrieve.batches)
    for n, question in enumerate(QUESTIONS):
        bot.prefetch(question, 9000 + n)
    outcomes = await asyncio.gather(*(bot.turn(snapshot(9000 + n, q)) for n, q in enumerate(QUESTIONS)))
    batches = bot.retrieve.batches[before:]
    assert sum(batches) == len(QUESTIONS)  # each question embedded once: the turns took the prefetches
    assert max(batches) >= len(QUESTIONS) // 2, batches  # and together, not one by one
    assert all(outcome.text for outcome in outcomes)


async def test_no_prefetch_for_a_conversation_a_person_has_until_the_bot_answers_in_it(bot: Bot) -> None:
    bot.person_has(9100)
    before = len(bot.retrieve.batches)
    bot.prefetch("how long does shipping take?", 9100)
    await bot.retrieve("a question from elsewhere")  # a prefetch, had there been one, would batch with it
    await bot.turn(snapshot(9100, "how long does shipping take?"))  # handed back: the bot answers
    assert bot.retrieve.batches[before:] == [1, 1]  # nothing was prefetched: the turn retrieved itself
    bot.prefetch("and express shipping?", 9100)
    await bot.retrieve("another question from elsewhere")
    await bot.turn(snapshot(9100, "and express shipping?"))
    assert bot.retrieve.batches[before:] == [1, 1, 2]  # prefetched again, and the turn took it


async def test_a_fast_lone_call_runs_on_the_loop_and_a_slow_one_goes_back_to_a_thread() -> None:
    """The detector's batcher: a thread hop costs more than its call once that call is known fast."""
    import threading

    from engine.service.bot import MicroBatcher

    where: list[str] = []
    slow = False

    def run(items: list[int]) -> list[int]:
        where.append(threading.current_thread().name)
        if slow:
            sum(range(3_000_000))  # well over the limit below: the next lone call takes a thread again
        return [item * 2 for item in items]

    batcher = MicroBatcher(run, inline_under=0.01)
    main = threading.current_thread().name
    assert await batcher(1) == 2 and where[-1] != main  # first call: its speed is not known yet
    assert await batcher(2) == 4 and where[-1] == main  # known fast: on the loop, no hop
    slow = True
    assert await batcher(3) == 6 and where[-1] == main  # it is timed...
    assert await batcher(4) == 8 and where[-1] != main  # ...and found slow: in a thread again
    together = await asyncio.gather(batcher(5), batcher(6), batcher(7))  # queued together: one batch
    assert together == [10, 12, 14] and batcher.batches[-1] == 3
