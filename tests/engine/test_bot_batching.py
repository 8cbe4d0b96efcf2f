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
