"""Messages with no question in them get a reply in kind from the bot (real retrieval, answers and
detector on the test knowledge base), never the passage that happened to come closest; and a plain
yes to the bot's offer of a person takes it, as the quick reply does."""

from __future__ import annotations

import pytest

from engine.service import conversations, workflow
from engine.service.bot import SMALL_TALK
from engine.service.policy import accepts_offer
from engine.service.runtime import ServiceContext


@pytest.mark.anyio
@pytest.mark.parametrize(("text", "kind"), [
    ("hi", "greeting"), ("good morning!", "greeting"), ("thanks so much", "thanks"),
    ("ok thanks, bye", "goodbye"), ("talk soon!", "goodbye"), ("ok", "acknowledgement"),
    ("asdfgh", "gibberish"), ("??", "gibberish"), ("i love this shop", "compliment"),
    ("you guys are great!", "compliment"),
])
async def test_small_talk_is_answered_in_kind_without_a_passage(bot_ctx: ServiceContext, text: str,
                                                                 kind: str) -> None:
    conversation, _ = await conversations.start(bot_ctx)
    turn = await workflow.receive(bot_ctx, conversation.id, text)
    [reply] = turn.replies
    assert (reply.role, reply.text) == ("bot", SMALL_TALK[kind])
    assert reply.citations == [] and reply.confidence is None  # no answer, so no weak one in a streak


@pytest.mark.anyio
@pytest.mark.parametrize("text", ["hi, how long does shipping take?", "yes I want to cancel",
                                  "i love this shop but my order is late"])
async def test_a_request_with_small_talk_in_it_is_not_small_talk(bot_ctx: ServiceContext, text: str) -> None:
    conversation, _ = await conversations.start(bot_ctx)
    [reply, *_] = (await workflow.receive(bot_ctx, conversation.id, text)).replies
    assert reply.text not in SMALL_TALK.values()


@pytest.mark.parametrize(("text", "takes"), [
    ("Talk to a person", True), ("talk to a person", True), ("yes", True), ("Yes please!", True),
    ("sure", True), ("yes, thanks", True), ("ok", False), ("thanks", False), ("no", False),
    ("yes where is my order", False),
])
def test_a_plain_yes_takes_the_offer_of_a_person(text: str, takes: bool) -> None:
    assert accepts_offer(text) is takes
