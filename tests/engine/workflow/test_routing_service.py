"""Routing, capacity, overflow and presence through the real service on SQLite: the thin layer
loads the floor from the store and changes state only through the conversation service."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from engine.bus import OPERATORS, conversation_stream
from engine.events import ConversationChanged, PresenceUpdated, QueueUpdated
from engine.models import (
    Contact,
    Conversation,
    HandoffEvent,
    Operator,
    OperatorCreate,
    Team,
    Transition,
    utcnow,
)
from engine.service import conversations, presence, queries, workflow
from engine.service.operators import create_operator
from engine.service.runtime import ServiceContext

pytestmark = pytest.mark.anyio


async def operator(ctx: ServiceContext, name: str, **fields: Any) -> Operator:
    return await ctx.act(lambda session, _outbox: create_operator(session, OperatorCreate(
        email=f"{name.lower()}@example.com", name=name, password="correct-horse", **fields)))


async def team(ctx: ServiceContext, name: str, **fields: Any) -> Team:
    def work(session: Any, _outbox: Any) -> Team:
        row = Team(name=name, **fields)
        session.add(row)
        session.flush()
        return row

    return await ctx.act(work)


async def queued(ctx: ServiceContext, *, vip: bool = False, team_id: int | None = None,
                 name: str = "Ann") -> int:
    """A conversation the bot escalated (no bot loaded: every question goes to a person)."""
    conversation, _ = await conversations.start(ctx, name=name, email=f"{name.lower()}@example.com")

    def setup(session: Any, _outbox: Any) -> None:
        row = session.get(Conversation, conversation.id)
        row.team_id = team_id
        session.get(Contact, row.contact_id).vip = vip
        session.add(row)

    await ctx.act(setup)
    await workflow.receive(ctx, conversation.id, "my order never arrived")
    return conversation.id


async def drain(subscription: Any) -> list[Any]:
    """Every event already delivered to ``subscription``."""
    events = []
    while True:
        try:
            events.append((await asyncio.wait_for(subscription.get(), 0.05))[1])
        except TimeoutError:
            return events


def state(ctx: ServiceContext, conversation_id: int) -> tuple[str, int | None]:
    with ctx.session() as session:
        row = session.get(Conversation, conversation_id)
        return row.state, row.assignee_id


def last_transition(ctx: ServiceContext, conversation_id: int) -> Transition:
    with ctx.session() as session:
        return session.exec(select(Transition).where(Transition.conversation_id == conversation_id)
                            .order_by(col(Transition.id).desc())).first()


async def test_a_queued_conversation_goes_to_the_online_operator(ctx: ServiceContext) -> None:
    away = await operator(ctx, "Away")
    sam = await operator(ctx, "Sam")
    await presence.set_status(ctx, away.id, "away")
    await presence.set_status(ctx, sam.id, "online")
    conversation_id = await queued(ctx)
    assert state(ctx, conversation_id) == ("assigned", sam.id)
    move = last_transition(ctx, conversation_id)
    assert (move.from_state, move.to_state, move.actor) == ("queued", "assigned", "system")
    assert move.reason == "routed"


async def test_nobody_online_leaves_it_queued_until_someone_comes_online(ctx: ServiceContext) -> None:
    sam = await operator(ctx, "Sam")
    conversation_id = await queued(ctx)
    assert state(ctx, conversation_id) == ("queued", None)
    await presence.set_status(ctx, sam.id, "online")
    assert state(ctx, conversation_id) == ("assigned", sam.id)


async def test_capacity_holds_and_freed_capacity_is_used_on_the_next_tick(ctx: ServiceContext) -> None:
    sam = await operator(ctx, "Sam", capacity=1)
    await presence.set_status(ctx, sam.id, "online")
    first, second = await queued(ctx, name="Ann"), await queued(ctx, name="Bob")
    assert state(ctx, first) == ("assigned", sam.id)
    assert state(ctx, second) == ("queued", None)
    await workflow.tick(ctx)
    assert state(ctx, second) == ("queued", None)  # still full
    await conversations.resolve(ctx, first, f"operator:{sam.id}")
    await workflow.tick(ctx)
    assert state(ctx, second) == ("assigned", sam.id)


async def test_least_loaded_operator_gets_the_next_one(ctx: ServiceContext) -> None:
    sam, kim = await operator(ctx, "Sam"), await operator(ctx, "Kim")
    await presence.set_status(ctx, sam.id, "online")
    first = await queued(ctx, name="Ann")
    await presence.set_status(ctx, kim.id, "online")
    second = await queued(ctx, name="Bob")
    assert state(ctx, first)[1] == sam.id and state(ctx, second)[1] == kim.id


async def test_vip_is_served_first_when_a_slot_frees(ctx: ServiceContext) -> None:
    sam = await operator(ctx, "Sam", capacity=1)
    normal = await queued(ctx, name="Ann")
    vip = await queued(ctx, name="Vera", vip=True)
    await presence.set_status(ctx, sam.id, "online")
    assert state(ctx, vip) == ("assigned", sam.id)
    assert state(ctx, normal) == ("queued", None)


async def test_skills_from_the_packet_choose_the_operator(ctx: ServiceContext) -> None:
    generalist = await operator(ctx, "Gene")
    spanish = await operator(ctx, "Sofia", skills=["lang:es"])
    await presence.set_status(ctx, generalist.id, "online")
    await presence.set_status(ctx, spanish.id, "online")
    conversation, _ = await conversations.start(ctx, name="Ana")

    def setup(session: Any, _outbox: Any) -> None:
        row = session.get(Conversation, conversation.id)
        row.skills = ["lang:es"]
        session.add(row)

    await ctx.act(setup)
    await workflow.receive(ctx, conversation.id, "mi pedido no ha llegado")
    assert state(ctx, conversation.id) == ("assigned", spanish.id)


async def test_overflow_to_the_backup_team_after_the_configured_wait(ctx: ServiceContext) -> None:
    backup = await team(ctx, "Backup")
    billing = await team(ctx, "Billing", backup_team_id=backup.id, overflow_after_seconds=120)
    helper = await operator(ctx, "Helper", team_id=backup.id)
    await presence.set_status(ctx, helper.id, "online")
    conversation_id = await queued(ctx, team_id=billing.id)
    assert state(ctx, conversation_id) == ("queued", None)
    now = utcnow()
    await presence.set_status(ctx, helper.id, "online", now=now + timedelta(seconds=60))
    await workflow.tick(ctx, now + timedelta(seconds=60))
    assert state(ctx, conversation_id) == ("queued", None)
    await presence.set_status(ctx, helper.id, "online", now=now + timedelta(seconds=125))
    await workflow.tick(ctx, now + timedelta(seconds=125))
    assert state(ctx, conversation_id) == ("assigned", helper.id)
    assert last_transition(ctx, conversation_id).reason == "overflow"


async def test_manual_claim_counts_against_capacity(ctx: ServiceContext) -> None:
    sam = await operator(ctx, "Sam", capacity=1)
    claimed = await queued(ctx, name="Ann")
    await conversations.claim(ctx, claimed, sam.id)
    waiting = await queued(ctx, name="Bob")
    await presence.set_status(ctx, sam.id, "online")
    assert state(ctx, claimed) == ("assigned", sam.id)
    assert state(ctx, waiting) == ("queued", None)


async def test_going_offline_hands_conversations_back_and_reroutes_them(ctx: ServiceContext) -> None:
    sam = await operator(ctx, "Sam")
    await presence.set_status(ctx, sam.id, "online")
    conversation_id = await queued(ctx)
    kim = await operator(ctx, "Kim")
    await presence.set_status(ctx, kim.id, "online")
    assert state(ctx, conversation_id) == ("assigned", sam.id)
    await presence.set_status(ctx, sam.id, "offline")
    assert state(ctx, conversation_id) == ("assigned", kim.id)
    with ctx.session() as session:
        moves = session.exec(select(Transition).where(Transition.conversation_id == conversation_id)
                             .order_by(col(Transition.id))).all()
    assert [(m.from_state, m.to_state, m.actor) for m in moves][-2:] == [
        ("assigned", "queued", "system"), ("queued", "assigned", "system")]


async def test_away_keeps_conversations_but_takes_no_new_ones(ctx: ServiceContext) -> None:
    sam = await operator(ctx, "Sam")
    await presence.set_status(ctx, sam.id, "online")
    first = await queued(ctx, name="Ann")
    await presence.set_status(ctx, sam.id, "away")
    second = await queued(ctx, name="Bob")
    assert state(ctx, first) == ("assigned", sam.id)
    assert state(ctx, second) == ("queued", None)


async def test_a_dropped_connection_is_forgiven_within_the_grace_period(ctx: ServiceContext) -> None:
    grace = ctx.settings.presence_grace_seconds
    sam = await operator(ctx, "Sam")
    presence.connected(ctx, sam.id)
    try:
        await presence.set_status(ctx, sam.id, "online")
        conversation_id = await queued(ctx)
        start = utcnow()
        await workflow.tick(ctx, start + timedelta(seconds=grace / 2))  # connected: seen again
    finally:
        presence.disconnected(ctx, sam.id)
    subscription = ctx.bus.subscribe(OPERATORS)
    await workflow.tick(ctx, start + timedelta(seconds=grace))  # gone for half the grace: kept
    assert state(ctx, conversation_id) == ("assigned", sam.id)
    await workflow.tick(ctx, start + timedelta(seconds=grace * 1.5 + 1))  # gone past the grace
    assert state(ctx, conversation_id) == ("queued", None)
    with ctx.session() as session:
        assert session.get(Operator, sam.id).status == "offline"
    events = await drain(subscription)
    assert PresenceUpdated(operator_id=sam.id, status="offline", reason=presence.CONNECTION_LOST) in events
    assert "lost" in last_transition(ctx, conversation_id).reason


async def test_queued_visitors_are_told_position_and_wait_live(ctx: ServiceContext) -> None:
    sam = await operator(ctx, "Sam", capacity=1)
    await presence.set_status(ctx, sam.id, "online")
    await queued(ctx, name="Ann")  # takes the only slot
    conversation, _ = await conversations.start(ctx, name="Bob")
    visitor = ctx.bus.subscribe(conversation_stream(conversation.id))
    operators = ctx.bus.subscribe(OPERATORS)
    await workflow.receive(ctx, conversation.id, "where is my refund")
    [update] = [e for e in await drain(visitor)
                if isinstance(e, ConversationChanged) and e.reason == "queue position"]
    assert update.queue.position == 1 and update.queue.wait_seconds is not None
    assert 0 < update.queue.wait_seconds <= 3 * 600  # the default handle time before any history
    queue_events = [e for e in await drain(operators) if isinstance(e, QueueUpdated)]
    assert queue_events[-1].queued == 1 and conversation.id in queue_events[-1].positions
    await workflow.tick(ctx)  # nothing changed: visitors are not told again
    assert await drain(visitor) == []


async def test_routing_skips_a_conversation_claimed_meanwhile(ctx: ServiceContext) -> None:
    sam, kim = await operator(ctx, "Sam"), await operator(ctx, "Kim")
    conversation_id = await queued(ctx)
    await conversations.claim(ctx, conversation_id, kim.id)
    await presence.set_status(ctx, sam.id, "online")
    assert await workflow.route(ctx, conversation_id) == []
    assert state(ctx, conversation_id) == ("assigned", kim.id)


async def test_the_bot_s_topics_route_to_the_operator_with_that_skill(bot_ctx: ServiceContext) -> None:
    generalist = await operator(bot_ctx, "Gene")
    billing = await operator(bot_ctx, "Bill", skills=["topic:billing"])
    await presence.set_status(bot_ctx, generalist.id, "online")
    await presence.set_status(bot_ctx, billing.id, "online")
    busy, _ = await conversations.start(bot_ctx, name="Ann")
    await conversations.claim(bot_ctx, busy.id, billing.id)  # Bill is the more loaded of the two
    conversation, _ = await conversations.start(bot_ctx, name="Cat")
    turn = await workflow.receive(bot_ctx, conversation.id, "I want my money back, get me a human now")
    assert [m.role for m in turn.replies] == ["system"]  # the real detector escalated
    with bot_ctx.session() as session:
        packet = session.exec(select(HandoffEvent.packet).where(
            HandoffEvent.conversation_id == conversation.id, HandoffEvent.action == "escalate")).one()
    assert "billing" in packet["topics"]
    assert state(bot_ctx, conversation.id) == ("assigned", billing.id)
    told = [m.text for m in await bot_ctx.read(queries.visitor_messages, conversation.id, 0)
            if m.role == "system"]  # routing ran before anything about the queue was said: no place in line
    assert told[0].startswith("I'm bringing in a person") and told[1].endswith("joined the conversation.")
    assert not any("in line" in text for text in told)
