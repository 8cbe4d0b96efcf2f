"""AI drafts: made off the hot path at handoff and for visitor messages in the queue, for an owned
conversation when its console asks, through the built-in provider and through litellm's
``mock_response``; each with its confidence and sources, weak answers marked; stored with what
became of them (edit ratio, used only when close); announced to operators only."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from sqlmodel import Session, col, select

from engine.bus import conversation_stream
from engine.events import DraftCreated
from engine.models import CannedResponse, CannedResponseCreate, Draft, OperatorCreate
from engine.service import canned, conversations, drafts, metrics, workflow
from engine.service.bot import BotOutcome
from engine.service.errors import NotFound
from engine.service.operators import create_canned, create_operator
from engine.service.runtime import ServiceContext

pytestmark = pytest.mark.anyio
QUESTION = "can I get my money back for order #778899? it arrived broken"


async def escalated(ctx: ServiceContext, text: str = QUESTION) -> tuple[int, int]:
    """A conversation the bot handed off on ``text``, with routing run as the service runs it;
    returns (conversation id, visitor message id)."""
    conversation, _ = await conversations.start(ctx, name="Ann Lee", email="ann@example.com")
    accepted = await conversations.accept(ctx, conversation.id, text)
    await ctx.act(conversations.apply_bot_turn, accepted.turn,  # the workflow's reaction routes it
                  BotOutcome.escalation("explicit_request", "the visitor asked for a person"))
    return conversation.id, accepted.message.id


async def seed_canned(ctx: ServiceContext) -> None:
    await ctx.act(lambda session, _outbox: create_canned(session, CannedResponseCreate(
        shortcut="refund", title="Refund for a broken order", tags=["refund", "money back"],
        text=("Hi {contact.name}, I'm sorry order {order.number} arrived broken. "
              "I've started your refund."))))


def stored(ctx: ServiceContext, conversation_id: int) -> list[Draft]:
    with Session(ctx.engine) as session:
        return list(session.exec(select(Draft).where(Draft.conversation_id == conversation_id)
                                 .order_by(col(Draft.id))).all())


async def drain(subscription: Any) -> list[Any]:
    events = []
    while True:
        try:
            events.append((await asyncio.wait_for(subscription.get(), 0.05))[1])
        except TimeoutError:
            return events


async def test_handoff_drafts_three_replies_through_the_builtin_provider(bot_ctx: ServiceContext) -> None:
    await seed_canned(bot_ctx)
    conversation, _ = await conversations.start(bot_ctx, name="Ann Lee")
    internal = bot_ctx.bus.subscribe(conversation_stream(conversation.id, internal=True))
    public = bot_ctx.bus.subscribe(conversation_stream(conversation.id))
    accepted = await conversations.accept(bot_ctx, conversation.id, QUESTION)
    await bot_ctx.act(conversations.apply_bot_turn, accepted.turn,  # routed, and drafts scheduled,
                      BotOutcome.escalation("explicit_request", "asked for a person"))  # off the hot path
    assert stored(bot_ctx, conversation.id) == []
    await drafts.settle(bot_ctx, conversation.id)
    made = {d.kind: d for d in stored(bot_ctx, conversation.id)}
    assert sorted(made) == ["answer", "canned", "continuation"]
    assert all(d.message_id == accepted.message.id for d in made.values())
    answer = made["answer"]
    assert answer.model == "baton/extractive" and answer.citations[0]["doc_id"] == "billing:refund"
    assert "original payment method" in answer.text
    assert made["canned"].text == ("Hi Ann Lee, I'm sorry order 778899 arrived broken. "
                                   "I've started your refund.")
    assert made["continuation"].text
    announced = [e for e in await drain(internal) if isinstance(e, DraftCreated)]
    assert sorted(e.meta["kind"] for e in announced) == ["answer", "canned", "continuation"]
    assert {e.meta["kind"]: (e.meta["confidence"], e.meta["weak"]) for e in announced} == {
        d.kind: (d.confidence, d.weak) for d in made.values()}
    assert not any(isinstance(e, DraftCreated) for e in await drain(public))  # never to the visitor


async def test_drafts_through_litellm_mock_response(bot_ctx: ServiceContext) -> None:
    conversation_id, message_id = await escalated(bot_ctx)
    await drafts.settle(bot_ctx, conversation_id)
    with Session(bot_ctx.engine) as session:  # start over for this message with another model
        for row in session.exec(select(Draft).where(Draft.message_id == message_id)).all():
            session.delete(row)
        session.commit()
    made = await drafts.generate(bot_ctx, conversation_id, model="openai/gpt-4o-mini",
                                 mock_response="Refunds go back to your card within 5 days [1].")
    by_kind = {d.kind: d for d in made}
    assert sorted(by_kind) == ["answer", "continuation"]  # no canned replies exist here
    assert by_kind["answer"].text == "Refunds go back to your card within 5 days [1]."
    assert by_kind["answer"].model == "openai/gpt-4o-mini"
    assert by_kind["answer"].citations[0]["doc_id"] == "billing:refund"
    assert by_kind["continuation"].model == "openai/gpt-4o-mini"


async def test_messages_written_in_the_queue_are_drafted_for_whoever_takes_it(
        bot_ctx: ServiceContext) -> None:
    conversation_id, first = await escalated(bot_ctx)
    await drafts.settle(bot_ctx, conversation_id)
    turn = await workflow.receive(bot_ctx, conversation_id, "also, how long does shipping take?")
    assert turn.replies == []  # the bot stays silent, and drafting starts in the background
    await drafts.settle(bot_ctx, conversation_id)
    latest = await bot_ctx.read(drafts.drafts_for, conversation_id)
    assert {d.message_id for d in latest} == {turn.message.id} != {first}
    answer = next(d for d in latest if d.kind == "answer")
    assert answer.citations[0]["doc_id"] == "shipping:time"
    await workflow.tick(bot_ctx)  # nothing new: no second set
    await drafts.settle(bot_ctx, conversation_id)
    again = [d for d in stored(bot_ctx, conversation_id) if d.message_id == turn.message.id]
    assert len(again) == len(latest)
    # a message stored without the bot's turn (another worker died, say) is caught by the tick
    missed = await conversations.accept(bot_ctx, conversation_id, "how do I reset my password?")
    await workflow.tick(bot_ctx)
    await drafts.settle(bot_ctx, conversation_id)
    caught = await bot_ctx.read(drafts.drafts_for, conversation_id)
    assert {d.message_id for d in caught} == {missed.message.id}


async def test_an_owned_conversation_is_drafted_for_when_its_console_asks(bot_ctx: ServiceContext) -> None:
    """Nobody reads a draft for a conversation its owner does not have open: the message is stored
    and delivered with no draft task started, the tick leaves it alone, and the console's request
    (opening the conversation, or the visitor writing in the one open) drafts it, once."""
    operator = await bot_ctx.act(lambda session, _outbox: create_operator(session, OperatorCreate(
        email="sam@example.com", name="Sam", password="correct-horse")))
    conversation_id, first = await escalated(bot_ctx)
    await conversations.claim(bot_ctx, conversation_id, operator.id)
    await drafts.settle(bot_ctx, conversation_id)
    turn = await workflow.receive(bot_ctx, conversation_id, "also, how long does shipping take?")
    assert turn.replies == [] and conversation_id not in bot_ctx.worker.drafting  # no task was started
    await workflow.tick(bot_ctx)
    assert conversation_id not in bot_ctx.worker.drafting
    assert {d.message_id for d in await bot_ctx.read(drafts.drafts_for, conversation_id)} == {first}
    await drafts.request(bot_ctx, conversation_id)
    await drafts.settle(bot_ctx, conversation_id)
    latest = await bot_ctx.read(drafts.drafts_for, conversation_id)
    assert {d.message_id for d in latest} == {turn.message.id}
    assert next(d for d in latest if d.kind == "answer").citations[0]["doc_id"] == "shipping:time"
    await drafts.request(bot_ctx, conversation_id)  # asked again (a second console): no second set
    await drafts.settle(bot_ctx, conversation_id)
    again = [d for d in stored(bot_ctx, conversation_id) if d.message_id == turn.message.id]
    assert len(again) == len(latest)
    with pytest.raises(NotFound, match="conversation 999999 does not exist"):
        await drafts.request(bot_ctx, 999_999)


async def test_draft_input_reads_the_recent_turns_and_the_placeholders(bot_ctx: ServiceContext) -> None:
    """What a draft is made from: the latest visitor message (or the one asked for), the public turns
    before it up to the history limit, oldest first (no internal note), and the placeholders' values
    (the owner, the contact, the last order number the visitor gave); nothing for a drafted message."""
    operator = await bot_ctx.act(lambda session, _outbox: create_operator(session, OperatorCreate(
        email="lee@example.com", name="Lee", password="correct-horse")))
    conversation_id, first = await escalated(bot_ctx)
    await conversations.claim(bot_ctx, conversation_id, operator.id)
    await drafts.settle(bot_ctx, conversation_id)
    await conversations.reply(bot_ctx, conversation_id, operator.id, "Let me look at that order.")
    await conversations.note(bot_ctx, conversation_id, operator.id, "warehouse says crushed box")
    later = await conversations.accept(bot_ctx, conversation_id, "sorry, it was order #112233")
    data = await bot_ctx.read(drafts.draft_input, conversation_id, None, 1)
    assert (data.message_id, data.question) == (later.message.id, "sorry, it was order #112233")
    assert data.history == [{"role": "agent", "text": "Let me look at that order."}]
    assert data.values == {"contact.name": "Ann Lee", "contact.email": "ann@example.com",
                           "operator.name": "Lee", "conversation.id": str(conversation_id),
                           "order.number": "112233"}
    everything = await bot_ctx.read(drafts.draft_input, conversation_id, None, 50)
    assert everything.history[0] == {"role": "user", "text": QUESTION}
    assert everything.history[-1] == data.history[0]
    assert "warehouse says crushed box" not in {turn["text"] for turn in everything.history}
    assert (await bot_ctx.read(drafts.draft_input, conversation_id, None, 0)).history == []
    assert await bot_ctx.read(drafts.draft_input, conversation_id, first, 5) is None  # drafted already


async def test_a_long_conversation_is_read_only_as_far_back_as_its_recent_turns(
        bot_ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch) -> None:
    """However long a conversation, drafting reads its latest ``RECENT_TURNS`` public turns (here 4):
    the order number given before them is no longer the one filled in, by the drafts as by an
    inserted canned reply, and a message older than them is not drafted."""
    monkeypatch.setattr(canned, "RECENT_TURNS", 4)
    operator = await bot_ctx.act(lambda session, _outbox: create_operator(session, OperatorCreate(
        email="kim@example.com", name="Kim", password="correct-horse")))
    conversation_id, first = await escalated(bot_ctx)  # the question names order #778899
    await conversations.claim(bot_ctx, conversation_id, operator.id)
    await drafts.settle(bot_ctx, conversation_id)

    def placeholders(session: Session) -> dict[str, str | None]:
        return canned.values_for(session, conversation_id, operator.id)

    assert (await bot_ctx.read(placeholders))["order.number"] == "778899"
    said = [(await conversations.accept(bot_ctx, conversation_id, f"still waiting, day {day}")).message.id
            for day in range(1, 5)]
    data = await bot_ctx.read(drafts.draft_input, conversation_id, None, 2)
    assert data.message_id == said[-1]
    assert [turn["text"] for turn in data.history] == ["still waiting, day 2", "still waiting, day 3"]
    assert data.values["order.number"] is None
    assert (await bot_ctx.read(placeholders))["order.number"] is None
    assert await bot_ctx.read(drafts.draft_input, conversation_id, said[0], 2) is not None
    await conversations.accept(bot_ctx, conversation_id, "order AB-4455 then")
    assert await bot_ctx.read(drafts.draft_input, conversation_id, said[0], 2) is None  # out of the window
    assert (await bot_ctx.read(placeholders))["order.number"] == "AB-4455"
    latest = await bot_ctx.read(drafts.draft_input, conversation_id, None, 2)
    assert latest.values["order.number"] == "AB-4455"


async def test_an_edited_canned_reply_is_drafted_as_it_reads_now(bot_ctx: ServiceContext) -> None:
    """The canned replies' words are kept per process by their text: an edit (here straight in the
    store, as another worker's would be) is what the next draft offers."""
    await seed_canned(bot_ctx)
    operator = await bot_ctx.act(lambda session, _outbox: create_operator(session, OperatorCreate(
        email="max@example.com", name="Max", password="correct-horse")))
    conversation_id, _ = await escalated(bot_ctx)
    await conversations.claim(bot_ctx, conversation_id, operator.id)
    await drafts.settle(bot_ctx, conversation_id)
    assert {d.kind: d for d in stored(bot_ctx, conversation_id)}["canned"].text.startswith("Hi Ann Lee, I'm")
    with Session(bot_ctx.engine) as session:
        row = session.exec(select(CannedResponse).where(CannedResponse.shortcut == "refund")).one()
        row.title, row.tags = "Parcel tracking", ["parcel", "tracking"]
        row.text = "Hello {contact.name}, your parcel for order {order.number} is tracked here."
        session.add(row)
        session.commit()
    turn = await workflow.receive(bot_ctx, conversation_id, "can you track my parcel?")  # the new words only
    await drafts.request(bot_ctx, conversation_id)
    await drafts.settle(bot_ctx, conversation_id)
    latest = {d.kind: d for d in await bot_ctx.read(drafts.drafts_for, conversation_id)}
    assert latest["canned"].message_id == turn.message.id
    assert latest["canned"].text == "Hello Ann Lee, your parcel for order 778899 is tracked here."


async def test_a_draft_counts_as_used_only_when_the_reply_stays_close(bot_ctx: ServiceContext) -> None:
    """Both replies start from a draft and both are recorded with their edit ratio; only the one
    that kept the draft counts as used, in the draft and in the metrics."""
    operator = await bot_ctx.act(lambda session, _outbox: create_operator(session, OperatorCreate(
        email="kim@example.com", name="Kim", password="correct-horse")))
    conversation_id, _ = await escalated(bot_ctx)
    await drafts.settle(bot_ctx, conversation_id)
    made = {d.kind: d for d in stored(bot_ctx, conversation_id)}
    answer, follow = made["answer"], made["continuation"]
    edited = answer.text.replace("[1]", "").strip() + " Sorry about the trouble!"
    kept = await conversations.reply(bot_ctx, conversation_id, operator.id, edited, draft_id=answer.id)
    rewritten = await conversations.reply(bot_ctx, conversation_id, operator.id,
                                          "Hi Ann, I have asked the warehouse to check your parcel today.",
                                          draft_id=follow.id)
    await workflow.tick(bot_ctx)
    after = {d.id: d for d in stored(bot_ctx, conversation_id)}
    close, far = after[answer.id], after[follow.id]
    assert (close.used_message_id, far.used_message_id) == (kept.id, rewritten.id)
    assert close.edit_ratio == pytest.approx(drafts.edit_ratio(answer.text, edited))
    assert close.edit_ratio < drafts.USED_MAX_EDIT_RATIO < far.edit_ratio <= 1.0
    assert close.used and not far.used
    # word level, case and citation markers ignored: the same words are no edit at all
    assert drafts.edit_ratio("Refunds take 5 days [1].", "refunds take 5 days") == 0.0
    assert drafts.edit_ratio("Refunds take 5 days.", "Your parcel is on its way") == 1.0
    with Session(bot_ctx.engine) as session:
        start, end = metrics.parse_window(None, None)
        report = metrics.compute(session, start, end).drafts
    assert (report.used, report.started, report.created) == (1, 2, len(after))
    assert report.acceptance == pytest.approx(1 / len(after))
    assert report.mean_edit_ratio == pytest.approx((close.edit_ratio + far.edit_ratio) / 2)


async def test_each_draft_carries_its_confidence_and_sources(bot_ctx: ServiceContext) -> None:
    await seed_canned(bot_ctx)
    conversation_id, _ = await escalated(bot_ctx)
    await drafts.settle(bot_ctx, conversation_id)
    made = {d.kind: d for d in stored(bot_ctx, conversation_id)}
    retrieval = bot_ctx.bot.knowledge_base.retrieve(QUESTION)
    assert made["answer"].confidence == pytest.approx(retrieval.confidence, abs=1e-4)
    assert made["answer"].citations[0]["doc_id"] == "billing:refund" and not made["answer"].weak
    assert made["canned"].citations == [{"canned": "refund", "title": "Refund for a broken order"}]
    assert 0.2 <= made["canned"].confidence <= 1.0
    assert made["continuation"].confidence == pytest.approx(retrieval.confidence, abs=1e-4)
    assert not made["continuation"].weak


async def test_an_answer_too_weak_for_the_bot_is_marked_weak(bot_ctx: ServiceContext) -> None:
    """The bot would not send this answer (its low-confidence score is at the detector's escalation
    threshold): the draft is still offered, marked weak, with the confidence that made it so."""
    conversation_id, _ = await escalated(bot_ctx, "do you sell garden furniture?")
    await drafts.settle(bot_ctx, conversation_id)
    made = {d.kind: d for d in stored(bot_ctx, conversation_id)}
    answer, follow = made["answer"], made["continuation"]
    threshold = bot_ctx.bot.detector.config.low_confidence.escalate_at
    assert answer.weak and answer.confidence is not None and 1 - answer.confidence >= threshold
    assert follow.citations and follow.weak  # it passes the same weak passage on
    public = await bot_ctx.read(drafts.drafts_for, conversation_id)
    assert {d.kind: d.weak for d in public} == {"answer": True, "continuation": True}


async def test_without_a_knowledge_base_only_the_follow_up_is_drafted(ctx: ServiceContext) -> None:
    conversation_id, _ = await escalated(ctx, "hello, anyone there?")
    await drafts.settle(ctx, conversation_id)
    assert [d.kind for d in stored(ctx, conversation_id)] == ["continuation"]


async def test_a_message_written_while_its_drafts_are_made_is_drafted_when_they_end(
        bot_ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch) -> None:
    """The draft task read message 1 and is still composing when message 2 comes: message 2 is
    drafted as soon as that task ends, with no tick (it waited for the next one, up to 5 s)."""
    operator = await bot_ctx.act(lambda session, _outbox: create_operator(session, OperatorCreate(
        email="kim@example.com", name="Kim", password="correct-horse")))
    conversation_id, _ = await escalated(bot_ctx)
    await conversations.claim(bot_ctx, conversation_id, operator.id)
    await drafts.settle(bot_ctx, conversation_id)
    has_read, go = threading.Event(), threading.Event()
    real = drafts.draft_input

    def read_then_hold(*args: Any) -> Any:  # the real read, then the task is held past it
        data = real(*args)
        if not has_read.is_set():
            has_read.set()
            go.wait(30)
        return data

    monkeypatch.setattr(drafts, "draft_input", read_then_hold)
    subscription = bot_ctx.bus.subscribe(conversation_stream(conversation_id, internal=True))
    first = await workflow.take(bot_ctx, conversation_id, "where is my parcel?")
    await drafts.request(bot_ctx, conversation_id)  # the owner's console, as the message arrives
    await asyncio.to_thread(has_read.wait, 30)
    second = await workflow.take(bot_ctx, conversation_id, "how long does shipping take?")
    await drafts.request(bot_ctx, conversation_id)
    go.set()
    drafted: set[int] = set()
    async with asyncio.timeout(30):  # fails only if message 2 is never drafted
        while second.message.id not in drafted:
            _, event = await subscription.get()
            if isinstance(event, DraftCreated):
                drafted.add(event.meta["message_id"])
    assert first.message.id in drafted
    await drafts.settle(bot_ctx, conversation_id)
