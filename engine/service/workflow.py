"""The workflow on top of the service: what happens because something changed, the periodic tick, and
the one visitor-turn pipeline that the widget socket, the REST route and every channel webhook use.

Actions (``conversations``, ``presence``) change state and emit events; they never call routing or
each other's reactions. :func:`react` is installed as ``ctx.reactions`` (:func:`context`), so it
sees every committed event once, in this worker:

* a conversation became ``queued`` -> a routing pass, then the queue's live positions, then drafts
  for whoever takes it (:func:`route`);
* an operator went ``offline`` (chosen, or unseen past the grace period) -> their open
  conversations go back to the queue (each of which is routed in turn); one came ``online`` -> a
  routing pass.

The visitor turn is :func:`take` (store the message with its pending bot turn; acknowledge after
it) followed by :func:`answer` (inline, for REST) or :func:`answer_later` (a background task of this
worker, for sockets and webhooks). The bot's turn runs outside any transaction, holding a renewed
lease on its ``PendingTurn``; its answer is stored and the pending turn removed in one transaction.
After an escalation, routing runs first and only then is the visitor told where they stand, from an
estimate read outside the write lock; after hours (``schedule.closed_for``) the conversation is held
for its team's opening instead, and the visitor is told when that is. A turn whose worker died is
resumed by :func:`resume_turns` on any worker's tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from engine.bus import OPERATORS, EventBus
from engine.events import ConversationChanged, PresenceUpdated, QueueInfo
from engine.models import Conversation, Message, MessagePublic, State, utcnow
from engine.service import (
    actions,
    attachments,
    conversations,
    drafts,
    presence,
    queue,
    routing,
    schedule,
    turns,
)
from engine.service.bot import Bot, BotOutcome
from engine.service.conversations import Accepted
from engine.service.errors import Conflict
from engine.service.policy import Assignment
from engine.service.runtime import Published, ServiceContext
from engine.service.turns import TurnClaim
from engine.settings import Settings

log = logging.getLogger(__name__)
HANDBACK_ACTOR = "system"
GATE_POLL_SECONDS = 0.02


def context(settings: Settings, engine: Engine, bus: EventBus, *, bot: Bot | None = None,
            read_engine: Engine | None = None) -> ServiceContext:
    """A service context with the workflow's reactions installed (what the app and tests use)."""
    return ServiceContext(settings=settings, engine=engine, bus=bus, bot=bot, read_engine=read_engine,
                          reactions=react)


# --- reactions after each commit ------------------------------------------------------------------

async def react(ctx: ServiceContext, events: Published) -> None:
    """What the committed ``events`` set in motion. A failing reaction is logged, never raised into
    the action that committed (the state it reacts to is stored; the tick catches up)."""
    for stream, event in events:
        if stream != OPERATORS:
            continue  # state changes go on the conversation's stream and on OPERATORS: react once
        try:
            if isinstance(event, ConversationChanged) and event.type == "conversation.queued":
                await route(ctx, event.conversation_id)
            elif isinstance(event, PresenceUpdated) and event.status == "offline":
                await hand_back(ctx, event.operator_id, event.reason)
            elif isinstance(event, PresenceUpdated) and event.status == "online":
                await route(ctx)
        except Exception:
            log.exception("the reaction to %s failed; the periodic tick retries it", event.type)


async def route(ctx: ServiceContext, conversation_id: int | None = None,
                now: datetime | None = None) -> list[Assignment]:
    """A routing pass, then the queue's new positions and waits (so nobody is told a position routing
    was about to change), then drafts for the conversation that was just queued. Routing failing
    leaves the conversation queued, where operators see it and can claim it."""
    try:
        done = await routing.route(ctx, now)
    except Exception:
        log.exception("routing failed; the queue stays as it is until the next pass")
        done = []
    await queue.publish(ctx, now)
    if conversation_id is not None:
        drafts.schedule(ctx, conversation_id)  # the handoff: draft replies for whoever takes it
    return done


async def hand_back(ctx: ServiceContext, operator_id: int, reason: str) -> list[int]:
    """Put an absent operator's open conversations back in the queue; returns those requeued."""
    requeued = []
    for conversation_id in await ctx.read(presence.open_conversations, operator_id):
        try:
            await conversations.requeue(ctx, conversation_id, actor=HANDBACK_ACTOR, reason=reason)
        except Conflict:
            continue  # resolved or taken over meanwhile: nothing to hand back
        requeued.append(conversation_id)
    return requeued


# --- the visitor turn -----------------------------------------------------------------------------

@dataclass
class VisitorTurn:
    """What a visitor's message produced: the stored message and what was said back."""

    message: Message | MessagePublic
    replies: list[Message | MessagePublic] = field(default_factory=list)
    duplicate: bool = False


async def take(ctx: ServiceContext, conversation_id: int, text: str, client_id: str | None = None,
               attachment_ids: Sequence[int] = (), uploader: str = "visitor") -> Accepted:
    """Store a visitor's message with the bot turn it needs; the caller acknowledges it once this
    returns, then calls :func:`answer` or :func:`answer_later`. While a person has the conversation
    the bot stays silent: drafts are made for whoever takes it while it waits in the queue, and for
    its owner when their console asks (``drafts.request``). Files (``attachment_ids``, uploaded
    by ``uploader``) go with the message; files without words make no bot turn and no drafts."""
    if ctx.bot is not None and text.strip():  # the retrieval starts now, beside the write that stores it
        ctx.bot.prefetch(text, conversation_id)
    accepted = await conversations.accept(ctx, conversation_id, text, client_id, attachment_ids, uploader)
    if accepted.person is not None and not accepted.duplicate and accepted.message.text:
        if ctx.bot is not None:
            ctx.bot.person_has(conversation_id)
        if accepted.person == State.queued:  # drafts ready for whoever takes it; an owner's console asks
            drafts.schedule(ctx, conversation_id)
    return accepted


async def answer(ctx: ServiceContext, accepted: Accepted) -> list[Message | MessagePublic]:
    """The bot's turn for a stored message, if this worker holds it; what was said back."""
    if accepted.turn is None or accepted.snapshot is None:
        return []
    claim = accepted.turn
    async with _held(ctx, claim):
        await _gate(ctx, claim)
        outcome = await _decide(ctx, accepted)
        at = ctx.clock()  # after hours, an escalation is held for the opening and says when that is
        closed = await ctx.read(schedule.closed_for, claim.conversation_id, at) \
            if outcome.action == "escalate" else None
        replies = await ctx.act(conversations.apply_bot_turn, claim, outcome, closed, at)  # then routed
    if outcome.action == "escalate" and replies and closed is None:
        where = await ctx.read(_queue_info, ctx.settings, claim.conversation_id)  # outside the write lock
        told = await conversations.tell_wait(ctx, claim.conversation_id, where) if where else None
        if told is not None:
            replies.append(told)
    return replies


def answer_later(ctx: ServiceContext, accepted: Accepted) -> None:
    """:func:`answer` as a background task of this worker (sockets and webhooks answer after the ack)."""
    if accepted.turn is not None:
        ctx.worker.spawn(answer(ctx, accepted), f"the bot turn for message {accepted.message.id}")


async def receive(ctx: ServiceContext, conversation_id: int, text: str, client_id: str | None = None,
                  attachment_ids: Sequence[int] = ()) -> VisitorTurn:
    """Store a visitor's message and let the bot answer it: what the REST route does in one call."""
    accepted = await take(ctx, conversation_id, text, client_id, attachment_ids)
    replies = await answer(ctx, accepted)
    return VisitorTurn(accepted.message, replies, accepted.duplicate)


async def _decide(ctx: ServiceContext, accepted: Accepted) -> BotOutcome:
    if ctx.bot is None:
        return BotOutcome.escalation("rule", "no knowledge base is loaded, so a person answers")
    try:
        return await ctx.bot.turn(accepted.snapshot, accepted_offer=accepted.accepted_offer)
    except Exception as exc:  # a broken model must not leave the visitor unanswered: a person takes over
        log.exception("bot turn failed in conversation %s; handing over to a person",
                      accepted.message.conversation_id)
        return BotOutcome.escalation("rule", f"the bot failed ({type(exc).__name__}), so a person answers")


def _queue_info(session: Session, settings: Settings, conversation_id: int) -> QueueInfo | None:
    return queue.queue_info(session, settings, session.get(Conversation, conversation_id))


@contextlib.asynccontextmanager
async def _held(ctx: ServiceContext, claim: TurnClaim) -> AsyncIterator[None]:
    """Renew the turn's lease while the body runs, so a slow model is not mistaken for a dead worker;
    release it if the worker stops mid-turn."""
    lease = timedelta(seconds=ctx.settings.turn_lease_seconds)

    async def renew() -> None:
        while True:
            await asyncio.sleep(lease.total_seconds() / 3)
            await ctx.act(lambda session, _outbox: turns.renew(session, claim, utcnow(), lease))

    renewal = asyncio.create_task(renew())
    try:
        yield
    except asyncio.CancelledError:  # the worker is stopping: leave the turn to the next one at once
        with contextlib.suppress(Exception):
            await ctx.act(lambda session, _outbox: turns.release(session, claim))
        raise
    finally:
        renewal.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await renewal


async def _gate(ctx: ServiceContext, claim: TurnClaim) -> None:
    """Tests only (``BATON_TURN_GATE_DIR``): say the turn is parked, then wait until the gate opens."""
    folder = ctx.settings.turn_gate_dir
    if folder is None:
        return
    (folder / f"parked-{claim.message_id}").touch()
    while not (folder / "open").exists():
        await asyncio.sleep(GATE_POLL_SECONDS)


# --- the periodic tick ----------------------------------------------------------------------------

async def resume_turns(ctx: ServiceContext) -> list[TurnClaim]:
    """Claim the pending turns whose lease has run out (a worker died mid-turn, or before it began)
    and run them in the background; returns the claims. Leases are wall-clock, whatever ``now`` a
    test passes to the tick."""
    at = utcnow()
    if not await ctx.read(turns.any_due, at):
        return []
    lease = timedelta(seconds=ctx.settings.turn_lease_seconds)
    claims = await ctx.act(lambda session, _outbox: turns.claim_due(session, at, lease))
    for claim in claims:
        ctx.worker.spawn(_resume(ctx, claim), f"the resumed bot turn for message {claim.message_id}")
    return claims


async def _resume(ctx: ServiceContext, claim: TurnClaim) -> None:
    await answer(ctx, await conversations.resume(ctx, claim))


async def tick(ctx: ServiceContext, now: datetime | None = None) -> None:
    """One periodic pass: presence (heartbeats, grace expiry; the reactions hand back), routing
    (overflow, freed capacity; it publishes the queue's live update), drafts (uses of drafts, and
    drafts for visitor messages written while a conversation waits in the queue), then the bot
    turns and the account actions left half-done by a worker that died; uploads never sent are deleted."""
    await presence.sweep(ctx, now)
    await route(ctx, now=now)
    await drafts.tick(ctx)
    await resume_turns(ctx)
    await actions.resume_interrupted(ctx)
    await attachments.sweep_unsent(ctx, now)


async def run(ctx: ServiceContext) -> None:
    """The periodic task that create_app's lifespan starts; runs until cancelled."""
    while True:
        try:
            await tick(ctx)
        except Exception:
            log.exception("operator workflow tick failed; retrying next interval")
        await asyncio.sleep(ctx.settings.routing_interval_seconds)
