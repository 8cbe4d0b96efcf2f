"""State and events agree: apply every event the actions publish to a stale view of the
conversation and compare it with a fresh read (the way Zulip's ``verify_action`` does)."""

from __future__ import annotations

from typing import Any

import pytest

from engine.bus import OPERATORS, conversation_stream
from engine.events import ConversationChanged, MessageCreated
from engine.models import Conversation, OperatorCreate
from engine.service import conversations, queries
from engine.service.bot import BotOutcome
from engine.service.operators import create_operator
from engine.service.runtime import ServiceContext

pytestmark = pytest.mark.anyio


def view(ctx: ServiceContext, conversation_id: int) -> dict[str, Any]:
    with ctx.session() as session:
        conversation = session.get(Conversation, conversation_id)
        messages = queries.operator_messages(session, conversation_id)
    return {"state": conversation.state, "assignee_id": conversation.assignee_id,
            "team_id": conversation.team_id, "tags": list(conversation.tags),
            "messages": [(m.seq, m.role, m.visibility, m.text) for m in messages]}


def apply(state: dict[str, Any], event: Any) -> None:
    if isinstance(event, MessageCreated):
        m = event.message
        state["messages"].append((m.seq, m.role, m.visibility, m.text))
    elif isinstance(event, ConversationChanged):
        state.update(state=event.state, assignee_id=event.assignee_id, team_id=event.team_id, tags=event.tags)


async def test_every_action_emits_what_a_fresh_read_shows(ctx: ServiceContext) -> None:
    sam = await ctx.act(lambda s, _o: create_operator(s, OperatorCreate(email="sam@example.com", name="Sam",
                                                                          password="correct-horse")))
    conversation, _ = await conversations.start(ctx)
    cid = conversation.id
    feed = ctx.bus.subscribe(OPERATORS, conversation_stream(cid), conversation_stream(cid, internal=True))
    stale = view(ctx, cid)

    async def check(action: Any) -> None:
        await action
        while not feed._queue.empty():
            stream, event = await feed.get()
            if isinstance(event, ConversationChanged) and stream != OPERATORS:
                continue  # the same change also arrives by the operators stream
            apply(stale, event)
        stale["messages"].sort()
        assert stale == view(ctx, cid)

    async def bot_turn(text: str, outcome: BotOutcome) -> None:
        accepted = await conversations.accept(ctx, cid, text)
        await ctx.act(conversations.apply_bot_turn, accepted.turn, outcome)

    await check(bot_turn("hi", BotOutcome(action="continue", text="Hello! How can I help?")))
    await check(bot_turn("a person please", BotOutcome.escalation("explicit_request", "asked for a person")))
    await check(conversations.claim(ctx, cid, sam.id))
    await check(conversations.note(ctx, cid, sam.id, "VIP, be quick"))
    await check(conversations.tag(ctx, cid, sam.id, ["billing", "urgent"], []))
    await check(conversations.reply(ctx, cid, sam.id, "On it."))
    await check(conversations.hand_back(ctx, cid, sam.id))
    await check(conversations.resolve(ctx, cid, "system"))
    await check(conversations.accept(ctx, cid, "one more thing"))
