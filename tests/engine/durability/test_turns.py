"""Durable bot turns through the real service and the real bot, on SQLite and PostgreSQL: a turn is
stored with its message and removed with its answer; a worker that lost its lease cannot answer a
second time; a resend of a question whose turn never ran gets its answer; a resend while another
worker holds the turn does not run it again; two sweeps never claim the same turn."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, update
from sqlmodel import Session, select

from engine.bus import InProcessBus
from engine.db import create_all, make_engine
from engine.models import HandoffEvent, Operator, OperatorCreate, Role, utcnow
from engine.models.conversation import PendingTurn
from engine.service import conversations, turns, workflow
from engine.service.bot import Bot
from engine.service.operators import create_operator
from engine.service.runtime import ServiceContext
from engine.settings import Settings

pytestmark = pytest.mark.anyio
QUESTION = "How long does shipping take?"


@pytest.fixture(scope="module")
def loaded_bot(bot_settings: Settings, embedder: Any) -> Bot:
    """The index and models, loaded once for the module."""
    return Bot.load(bot_settings, embedder)


@pytest.fixture
def turn_bot(loaded_bot: Bot) -> Bot:
    """A bot of each test's own on the loaded index and detector: its micro-batchers and prefetched
    retrievals are futures of one event loop, and every test runs on a loop of its own (a retrieval
    prefetched in an earlier test's loop is cancelled when that loop closes)."""
    return Bot(loaded_bot.knowledge_base, loaded_bot.detector, loaded_bot.embedder, model=loaded_bot.model,
               timeout=loaded_bot.timeout, desk_language=loaded_bot.desk_language)


@pytest.fixture
def turn_ctx(store_url: str, turn_bot: Bot, kb_index: Path) -> Iterator[ServiceContext]:
    settings = Settings(environment="test", secret_key=secrets.token_urlsafe(32), database_url=store_url,
                        index_dir=kb_index, turn_lease_seconds=30)
    engine = make_engine(store_url)
    create_all(engine)
    yield workflow.context(settings, engine, InProcessBus(), bot=turn_bot)
    engine.dispose()


async def expire_leases(ctx: ServiceContext) -> None:
    """What a worker dying looks like from the store: its leases run out."""
    await ctx.act(lambda session, _outbox: session.execute(
        update(PendingTurn).values(lease_until=utcnow() - timedelta(seconds=1))))


def decisions(session: Session, message_id: int) -> int:
    return session.exec(select(func.count()).select_from(HandoffEvent)
                        .where(HandoffEvent.message_id == message_id)).one()


async def settle(ctx: ServiceContext) -> None:
    await asyncio.gather(*ctx.worker.tasks)


async def test_a_turn_is_stored_with_its_message_and_removed_with_its_answer(
        turn_ctx: ServiceContext) -> None:
    conversation, _ = await conversations.start(turn_ctx)
    accepted = await workflow.take(turn_ctx, conversation.id, QUESTION, "q-1")
    assert await turn_ctx.read(turns.pending, conversation.id) == [accepted.message.id]
    [reply] = await workflow.answer(turn_ctx, accepted)
    assert reply.role == Role.bot and "business days" in reply.text
    assert await turn_ctx.read(turns.pending, conversation.id) == []
    assert await turn_ctx.read(decisions, accepted.message.id) == 1


async def test_a_worker_that_lost_its_lease_cannot_answer_a_second_time(turn_ctx: ServiceContext) -> None:
    conversation, _ = await conversations.start(turn_ctx)
    slow = await workflow.take(turn_ctx, conversation.id, QUESTION, "q-1")  # this worker stalls
    await expire_leases(turn_ctx)
    [resumed] = await workflow.resume_turns(turn_ctx)  # another worker's tick takes it over
    assert (resumed.message_id, resumed.token != slow.turn.token) == (slow.message.id, True)
    await settle(turn_ctx)
    assert await turn_ctx.read(decisions, slow.message.id) == 1
    assert await workflow.answer(turn_ctx, slow) == []  # the stalled worker wakes up: nothing happens
    assert await turn_ctx.read(decisions, slow.message.id) == 1
    assert await workflow.resume_turns(turn_ctx) == []  # and nothing is left to resume


async def test_a_resend_of_a_question_whose_turn_never_ran_gets_its_answer(turn_ctx: ServiceContext) -> None:
    conversation, _ = await conversations.start(turn_ctx)
    first = await workflow.take(turn_ctx, conversation.id, QUESTION, "q-1")  # acked; the worker dies
    await expire_leases(turn_ctx)
    again = await workflow.receive(turn_ctx, conversation.id, QUESTION, "q-1")
    assert again.duplicate and again.message.id == first.message.id and again.message.seq == first.message.seq
    assert [m.role for m in again.replies] == [Role.bot]
    assert await turn_ctx.read(turns.pending, conversation.id) == []
    third = await workflow.receive(turn_ctx, conversation.id, QUESTION, "q-1")  # answered: a plain duplicate
    assert third.duplicate and third.replies == []
    assert await turn_ctx.read(decisions, first.message.id) == 1


async def test_a_resend_while_a_live_worker_holds_the_turn_does_not_run_it(turn_ctx: ServiceContext) -> None:
    conversation, _ = await conversations.start(turn_ctx)
    held = await workflow.take(turn_ctx, conversation.id, QUESTION, "q-1")
    again = await workflow.receive(turn_ctx, conversation.id, QUESTION, "q-1")
    assert again.duplicate and again.replies == []
    assert await turn_ctx.read(turns.pending, conversation.id) == [held.message.id]
    assert len(await workflow.answer(turn_ctx, held)) == 1
    assert await turn_ctx.read(decisions, held.message.id) == 1


async def test_two_sweeps_at_once_claim_each_turn_once(turn_ctx: ServiceContext) -> None:
    conversation, _ = await conversations.start(turn_ctx)
    taken = [await conversations.accept(turn_ctx, conversation.id, f"{QUESTION} ({i})", f"q-{i}")
             for i in range(8)]
    await expire_leases(turn_ctx)
    lease, now = timedelta(seconds=30), utcnow()
    first, second = await asyncio.gather(*(
        turn_ctx.act(lambda session, _outbox: turns.claim_due(session, now, lease)) for _ in range(2)))
    claimed = [c.message_id for c in first + second]
    assert sorted(claimed) == sorted(a.message.id for a in taken)  # all of them, none twice


async def test_a_resumed_turn_is_dropped_when_a_person_took_it(turn_ctx: ServiceContext) -> None:
    conversation, _ = await conversations.start(turn_ctx)
    stranded = await workflow.take(turn_ctx, conversation.id, QUESTION, "q-1")
    sam: Operator = await turn_ctx.act(lambda session, _outbox: create_operator(session, OperatorCreate(
        email="sam@example.com", name="Sam", password="correct-horse")))
    await conversations.claim(turn_ctx, conversation.id, sam.id)
    await expire_leases(turn_ctx)
    assert len(await workflow.resume_turns(turn_ctx)) == 1
    await settle(turn_ctx)
    assert await turn_ctx.read(turns.pending, conversation.id) == []
    assert await turn_ctx.read(decisions, stranded.message.id) == 0  # the bot said nothing: Sam has it


async def test_a_worker_that_stops_mid_turn_leaves_it_to_the_next_at_once(store_url: str, turn_bot: Bot,
                                                                           tmp_path: Path) -> None:
    """Shutdown cancels the turn (here: while it waits behind the test gate): its claim is released,
    so the next worker's sweep takes it without waiting for the lease to run out."""
    settings = Settings(environment="test", secret_key=secrets.token_urlsafe(32), database_url=store_url,
                        turn_lease_seconds=600, turn_gate_dir=tmp_path)
    engine = make_engine(store_url)
    create_all(engine)
    stopping = workflow.context(settings, engine, InProcessBus(), bot=turn_bot)
    conversation, _ = await conversations.start(stopping)
    accepted = await workflow.take(stopping, conversation.id, QUESTION, "q-1")
    workflow.answer_later(stopping, accepted)
    while not (tmp_path / f"parked-{accepted.message.id}").exists():  # the turn is in its window
        await asyncio.sleep(0.01)
    await stopping.worker.stop()
    (tmp_path / "open").touch()
    [claim] = await workflow.resume_turns(stopping)  # long lease, yet claimable at once
    assert claim.message_id == accepted.message.id
    await settle(stopping)
    assert await stopping.read(decisions, accepted.message.id) == 1
    engine.dispose()
