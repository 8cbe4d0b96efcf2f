"""The conversation state machine and its invariants, driven through the service on SQLite."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, col, select

from engine.bus import conversation_stream
from engine.models import HandoffEvent, Message, Operator, OperatorCreate, State, Team, Transition
from engine.service import conversations, presence, queries, turns, workflow
from engine.service.bot import BotOutcome
from engine.service.errors import Conflict, Invalid
from engine.service.operators import create_operator
from engine.service.runtime import ServiceContext

pytestmark = pytest.mark.anyio


async def make_operator(ctx: ServiceContext, name: str) -> Operator:
    return await ctx.act(lambda session, _outbox: create_operator(session, OperatorCreate(
        email=f"{name.lower()}@example.com", name=name, password="correct-horse")))


async def bot_says(ctx: ServiceContext, conversation_id: int, text: str,
                   outcome: BotOutcome) -> list[Message]:
    accepted = await conversations.accept(ctx, conversation_id, text)
    return await ctx.act(conversations.apply_bot_turn, accepted.turn, outcome)


def rows(ctx: ServiceContext, model: Any, conversation_id: int) -> list[Any]:
    with ctx.session() as session:
        return list(session.exec(select(model).where(model.conversation_id == conversation_id)
                                 .order_by(col(model.id))).all())


def answer(action: str = "continue") -> BotOutcome:
    return BotOutcome(action=action, text="Standard shipping takes 3 to 5 business days.",
                      citations=[{"doc_id": "shipping:time", "title": "Shipping"}], confidence=0.8,
                      reasons=[] if action == "continue" else ["low_confidence"],
                      scores={"low_confidence": 0.4},
                      explanation="confident answer")


async def test_escalation_queues_with_an_honest_notice_and_records_the_decision(ctx: ServiceContext) -> None:
    conversation, _token = await conversations.start(ctx, name="Ann")
    turn = await workflow.receive(ctx, conversation.id, "my parcel never arrived")  # no bot: a person
    assert [m.role for m in turn.replies] == ["system", "system"]  # a person is coming; then, routed, where
    assert "person" in turn.replies[0].text and turn.replies[1].text == "You're number 1 in line."
    [event] = rows(ctx, HandoffEvent, conversation.id)
    assert event.action == "escalate" and event.message_id == turn.message.id and event.packet
    [move] = rows(ctx, Transition, conversation.id)
    assert (move.from_state, move.to_state, move.actor) == ("bot", "queued", "bot")


async def test_continue_sends_the_cited_answer_and_offer_adds_a_quick_reply(ctx: ServiceContext) -> None:
    conversation, _ = await conversations.start(ctx)
    [reply] = await bot_says(ctx, conversation.id, "how long is shipping", answer("continue"))
    assert reply.role == "bot" and reply.citations[0]["doc_id"] == "shipping:time"
    [offer] = await bot_says(ctx, conversation.id, "hmm and if it is late?", answer("offer"))
    assert offer.quick_replies == [conversations.TALK_TO_PERSON]
    accepted = await conversations.accept(ctx, conversation.id, "talk to a person")
    assert accepted.accepted_offer
    assert not (await conversations.accept(ctx, conversation.id, "ok")).accepted_offer  # only acknowledges
    assert (await conversations.accept(ctx, conversation.id, "Yes please!")).accepted_offer  # SMS: no button
    assert [e.action for e in rows(ctx, HandoffEvent, conversation.id)] == ["continue", "offer"]


async def test_the_bot_stays_silent_once_a_person_has_the_conversation(ctx: ServiceContext) -> None:
    operator = await make_operator(ctx, "Sam")
    conversation, _ = await conversations.start(ctx)
    thinking = await conversations.accept(ctx, conversation.id, "hello?")  # the bot's turn is pending
    await conversations.claim(ctx, conversation.id, operator.id)  # a person takes it meanwhile
    assert await ctx.act(conversations.apply_bot_turn, thinking.turn, answer("continue")) == []
    assert [m.role for m in rows(ctx, Message, conversation.id)] == ["visitor", "system"]
    assert len(rows(ctx, HandoffEvent, conversation.id)) == 1  # the decision is still recorded
    later = await conversations.accept(ctx, conversation.id, "anyone?")
    assert later.turn is None and later.snapshot is None  # no bot turn is even recorded now
    assert await ctx.read(turns.pending, conversation.id) == []


async def test_a_reply_takes_an_unowned_conversation_but_never_another_operators(ctx: ServiceContext) -> None:
    sam, kim = await make_operator(ctx, "Sam"), await make_operator(ctx, "Kim")
    conversation, _ = await conversations.start(ctx)
    await conversations.reply(ctx, conversation.id, sam.id, "Hi, Sam here")  # nobody owned it: now Sam does
    for action in (conversations.claim(ctx, conversation.id, kim.id),
                   conversations.reply(ctx, conversation.id, kim.id, "I can help with that")):
        with pytest.raises(Conflict, match=f"assigned to operator {sam.id}; take it over first"):
            await action
    with ctx.session() as session:
        current = session.get(type(conversation), conversation.id)
    assert current.state == State.assigned and current.assignee_id == sam.id
    assert current.first_human_response_at is not None
    actors = [t.actor for t in rows(ctx, Transition, conversation.id)]
    assert actors == [f"operator:{sam.id}"]


async def test_internal_notes_never_reach_the_visitor(ctx: ServiceContext) -> None:
    operator = await make_operator(ctx, "Sam")
    conversation, _ = await conversations.start(ctx)
    public_feed = ctx.bus.subscribe(conversation_stream(conversation.id))
    await conversations.note(ctx, conversation.id, operator.id, "customer seems upset, check refund")
    await conversations.reply(ctx, conversation.id, operator.id, "Hello!")
    with ctx.session() as session:
        visible = queries.visitor_messages(session, conversation.id)
        detail = queries.conversation_detail(session, ctx.settings, conversation.id)
    assert "check refund" not in " ".join(m.text for m in visible)
    assert any(m.visibility == "internal" for m in detail.messages)
    seen = []
    while not public_feed._queue.empty():
        seen.append((await public_feed.get())[1])
    assert seen and all("check refund" not in event.model_dump_json() for event in seen)


async def test_a_repeated_client_id_is_stored_once(ctx: ServiceContext) -> None:
    conversation, _ = await conversations.start(ctx)
    first = await conversations.accept(ctx, conversation.id, "hello", client_id="c-1")
    again = await conversations.accept(ctx, conversation.id, "hello", client_id="c-1")
    assert again.duplicate and again.message.id == first.message.id
    assert len(rows(ctx, Message, conversation.id)) == 1


async def test_text_limits_are_enforced_with_a_clear_message(ctx: ServiceContext) -> None:
    conversation, _ = await conversations.start(ctx)
    with pytest.raises(Invalid, match="limit is 500"):
        await conversations.accept(ctx, conversation.id, "x" * 501)
    with pytest.raises(Invalid, match="empty"):
        await conversations.accept(ctx, conversation.id, "   ")


async def test_transfer_hand_back_resolve_csat_and_reopen(ctx: ServiceContext) -> None:
    sam, kim = await make_operator(ctx, "Sam"), await make_operator(ctx, "Kim")
    team = await ctx.act(lambda session, _outbox: _team(session))
    conversation, _ = await conversations.start(ctx)
    await conversations.claim(ctx, conversation.id, sam.id)
    await presence.set_status(ctx, kim.id, "online")  # a transfer lands only on someone available
    moved = await conversations.transfer(ctx, conversation.id, sam.id, to_operator_id=kim.id, to_team_id=None,
                                         note_text="billing question, over to you")
    assert moved.assignee_id == kim.id
    queued = await conversations.transfer(ctx, conversation.id, kim.id, to_operator_id=None, to_team_id=team)
    assert queued.state == State.queued and queued.team_id == team and queued.assignee_id is None
    await conversations.claim(ctx, conversation.id, kim.id)
    back = await conversations.hand_back(ctx, conversation.id, kim.id)
    assert back.state == State.bot and back.assignee_id is None
    with pytest.raises(Conflict, match="not resolved"):
        await conversations.record_csat(ctx, conversation.id, 5, None)
    await conversations.resolve(ctx, conversation.id, f"operator:{kim.id}")
    await conversations.record_csat(ctx, conversation.id, 4, "quick")
    accepted = await conversations.accept(ctx, conversation.id, "one more thing")
    with ctx.session() as session:
        current = session.get(type(conversation), conversation.id)
    # resolved while the bot had it (handed back): the bot answers again
    assert current.state == State.bot and current.reopened_at is not None and current.csat_score == 4
    assert accepted.turn is not None
    assert accepted.message.seq == current.last_seq
    states = [(t.from_state, t.to_state) for t in rows(ctx, Transition, conversation.id)]
    assert states == [("bot", "assigned"), ("assigned", "assigned"), ("assigned", "queued"),
                      ("queued", "assigned"), ("assigned", "bot"), ("bot", "resolved"), ("resolved", "bot")]


async def test_a_message_soon_after_resolution_goes_back_to_the_resolver(ctx: ServiceContext) -> None:
    kim = await make_operator(ctx, "Kim")
    await presence.set_status(ctx, kim.id, "online")
    conversation, _ = await conversations.start(ctx)
    await conversations.claim(ctx, conversation.id, kim.id)
    await conversations.resolve(ctx, conversation.id, f"operator:{kim.id}")
    accepted = await conversations.accept(ctx, conversation.id, "here is the photo you asked for")
    with ctx.session() as session:
        current = session.get(type(conversation), conversation.id)
    assert current.state == State.assigned and current.assignee_id == kim.id and accepted.turn is None


async def test_a_message_after_resolution_by_someone_now_away_goes_to_the_queue(ctx: ServiceContext) -> None:
    sam = await make_operator(ctx, "Sam")  # never online: not available
    conversation, _ = await conversations.start(ctx)
    await conversations.claim(ctx, conversation.id, sam.id)
    await conversations.resolve(ctx, conversation.id, f"operator:{sam.id}")
    accepted = await conversations.accept(ctx, conversation.id, "here is the photo you asked for")
    with ctx.session() as session:
        current = session.get(type(conversation), conversation.id)
    assert current.state == State.queued and current.assignee_id is None and accepted.turn is None


def _team(session: Session) -> int:
    team = Team(name="Billing", skills=["topic:billing"])
    session.add(team)
    session.flush()
    return team.id


async def test_a_transfer_to_someone_not_available_goes_back_to_the_queue(ctx: ServiceContext) -> None:
    sam, joe = await make_operator(ctx, "Sam"), await make_operator(ctx, "Joe")  # Joe never came online
    conversation, _ = await conversations.start(ctx)
    await conversations.claim(ctx, conversation.id, sam.id)
    moved = await conversations.transfer(ctx, conversation.id, sam.id, to_operator_id=joe.id, to_team_id=None)
    assert moved.state == State.queued and moved.assignee_id is None
    with ctx.session() as session:
        said = session.exec(select(Message.text).where(Message.conversation_id == conversation.id)).all()
    assert "Joe will continue helping you." not in said
