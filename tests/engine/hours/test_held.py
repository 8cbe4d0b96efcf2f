"""A held conversation through the real service on SQLite: left for the opening by routing, released
when its team's hours are open, and no longer held once a person claims it by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from engine.models import Conversation, OperatorCreate, State, Team
from engine.service import conversations, operators, presence, routing, schedule
from engine.service.runtime import ServiceContext

CLOSED_AT = datetime(2027, 1, 12, 19, 0, tzinfo=UTC)  # Tuesday 20:00 in Berlin
OPENS = datetime(2027, 1, 13, 8, 0, tzinfo=UTC)


async def berlin_desk(ctx: ServiceContext) -> int:
    def work(session: Session, _outbox: object) -> int:
        team = Team(name="Berlin", timezone="Europe/Berlin", holiday_country="DE", holiday_subdivision="BE",
                    hours=[{"day": d, "opens": "09:00", "closes": "17:00"} for d in ("mon", "tue", "wed")])
        session.add(team)
        session.flush()
        return team.id

    return await ctx.act(work)


async def held_conversation(ctx: ServiceContext) -> int:
    conversation, _token = await conversations.start(ctx)
    closed = await ctx.read(schedule.closed_for, conversation.id, CLOSED_AT)
    assert closed is not None and closed.opens_at == OPENS
    await conversations.leave_message(ctx, conversation.id, email=None, phone="+4930901820", text="call me",
                                      closed=closed, at=CLOSED_AT)
    return conversation.id


@pytest.mark.anyio
async def test_routing_holds_until_the_opening_then_routes(ctx: ServiceContext) -> None:
    ctx.clock = lambda: CLOSED_AT  # before anything is queued: the reactions route with it too
    await berlin_desk(ctx)
    sam = await ctx.act(lambda s, _o: operators.create_operator(s, OperatorCreate(
        email="sam@example.com", name="Sam", password="correct-horse")).id)
    await presence.set_status(ctx, sam, "online")
    conversation_id = await held_conversation(ctx)

    assert await routing.route(ctx) == []  # someone is online, but the team is closed
    row = await ctx.read(lambda s: s.get(Conversation, conversation_id))
    assert row.state == State.queued and row.held_until == OPENS

    ctx.clock = lambda: OPENS
    [assignment] = await routing.route(ctx)
    assert (assignment.conversation_id, assignment.operator_id) == (conversation_id, sam)
    row = await ctx.read(lambda s: s.get(Conversation, conversation_id))
    assert row.state == State.assigned and row.held_until is None


@pytest.mark.anyio
async def test_a_claim_by_hand_ends_the_hold(ctx: ServiceContext) -> None:
    ctx.clock = lambda: CLOSED_AT
    await berlin_desk(ctx)
    kim = await ctx.act(lambda s, _o: operators.create_operator(s, OperatorCreate(
        email="kim@example.com", name="Kim", password="correct-horse")).id)
    conversation_id = await held_conversation(ctx)
    await conversations.claim(ctx, conversation_id, kim)
    row = await ctx.read(lambda s: s.get(Conversation, conversation_id))
    assert row.state == State.assigned and row.held_until is None
