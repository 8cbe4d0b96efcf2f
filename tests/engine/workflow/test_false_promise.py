"""Never a false promise, end to end on the sample help centre (samples/kb/faq.jsonl) with the real
bot: an answer that says a person takes over escalates for real; other answers promise nothing; no
draft for the operator says the visitor is being passed to a person. Also: the bot's turns carry
the messages' times."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, col, select

from engine.models import CannedResponseCreate, Conversation, Draft, HandoffEvent, Message, Role, State
from engine.service import conversations, drafts, workflow
from engine.service.operators import create_canned
from engine.service.runtime import ServiceContext
from knowledge.promises import HANDOVER, promises

pytestmark = pytest.mark.anyio
DAMAGED = "my vase arrived broken, the box was crushed"


def rows(ctx: ServiceContext, model: Any, conversation_id: int) -> list[Any]:
    with Session(ctx.engine) as session:
        return list(session.exec(select(model).where(model.conversation_id == conversation_id)
                                 .order_by(col(model.id))).all())


async def test_the_damaged_item_answer_hands_over_for_real(sample_ctx: ServiceContext) -> None:
    conversation, _ = await conversations.start(sample_ctx, name="Ann")
    turn = await workflow.receive(sample_ctx, conversation.id, DAMAGED)
    assert turn.replies and all(m.role == Role.system for m in turn.replies)  # the honest notice only
    assert "person" in turn.replies[0].text
    with Session(sample_ctx.engine) as session:
        assert session.get(Conversation, conversation.id).state == State.queued
    [event] = rows(sample_ctx, HandoffEvent, conversation.id)
    assert event.action == "escalate" and event.reasons[0] == "rule" and event.scores["rule"] == 1.0
    packet = event.packet
    assert packet["explanation"] == ('hand over to a person: the article "My item arrived damaged or broken" '
                                     "says a person takes this over")
    assert packet["reasons"][0]["label"] == "Handled by a person by rule"
    assert packet["attempts"] == []  # the visitor never saw the candidate answer
    assert packet["problem"] == "my vase arrived broken, the box was crushed"
    assert "damaged" in packet["topics"]


async def test_an_answer_without_a_person_is_sent_and_promises_nothing(sample_ctx: ServiceContext) -> None:
    conversation, _ = await conversations.start(sample_ctx)
    question = "how long does a refund take once you get my return?"
    turn = await workflow.receive(sample_ctx, conversation.id, question)
    [reply] = turn.replies
    assert reply.role == Role.bot and reply.citations and promises(reply.text) == []
    with Session(sample_ctx.engine) as session:
        assert session.get(Conversation, conversation.id).state == State.bot


async def test_drafts_on_the_damaged_item_never_pass_the_visitor_on(sample_ctx: ServiceContext) -> None:
    await sample_ctx.act(lambda session, _outbox: create_canned(session, CannedResponseCreate(
        shortcut="broken", title="Item arrived broken", tags=["broken", "damaged"],
        text="Sorry {contact.name}, that should not happen. I'll pass you to a colleague in returns.")))
    conversation, _ = await conversations.start(sample_ctx, name="Ann")
    await workflow.receive(sample_ctx, conversation.id, DAMAGED)
    await drafts.settle(sample_ctx, conversation.id)
    made = {d.kind: d for d in rows(sample_ctx, Draft, conversation.id)}
    assert sorted(made) == ["answer", "canned", "continuation"]
    for draft in made.values():
        assert not HANDOVER.search(draft.text.lower()), draft.text
    assert "a member of our team will review it" in made["answer"].text  # what a person does stays
    assert made["answer"].citations[0]["doc_id"] == "damaged:damaged"
    assert made["canned"].text == "Sorry Ann, that should not happen."


async def test_the_bot_reads_each_message_with_its_time(sample_ctx: ServiceContext) -> None:
    conversation, _ = await conversations.start(sample_ctx)
    await workflow.receive(sample_ctx, conversation.id, "how long does a refund take?")
    accepted = await conversations.accept(sample_ctx, conversation.id, "and for a gift card?")
    stored = rows(sample_ctx, Message, conversation.id)
    snapshot = accepted.snapshot
    assert len(snapshot.times) == len(snapshot.history) == len(stored) == 3
    assert snapshot.times == [m.created_at for m in stored]
    assert all(later >= earlier for earlier, later in zip(snapshot.times, snapshot.times[1:], strict=False))
