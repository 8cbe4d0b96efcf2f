"""The conversation state machine: the only place a conversation, its messages or its state change.

Routes, WebSocket handlers and channel adapters parse and authorise, then call one of the ``async``
actions below (or the workflow's visitor turn, which calls them). Each action runs one transaction
in a worker thread (``ctx.act``) and its events are published after the commit. An action never
calls routing or another reaction: the workflow (``engine.service.workflow``) reacts to the events.
Invariants held here and nowhere else:

* in ``queued`` and ``assigned`` the bot sends nothing visible but system notices;
* an operator who replies takes the conversation; an assigned conversation has exactly one owner;
* internal notes go to the internal stream only, so no visitor socket or payload carries them;
* every state change is stored as a ``Transition`` with its actor and reason;
* a visitor message the bot must answer is stored with its ``PendingTurn``, and the answer removes
  it in the same transaction (``engine.service.turns``), so no acknowledged question is lost or
  answered twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, exists, insert, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from engine.bus import OPERATORS, conversation_stream
from engine.events import ConversationChanged, MessageCreated, QueueInfo, Read
from engine.models import (
    Attachment,
    AuditEntry,
    ChannelDelivery,
    Contact,
    Conversation,
    Direction,
    HandoffEvent,
    Message,
    MessagePublic,
    Operator,
    Role,
    State,
    Team,
    Transition,
    Visibility,
    utcnow,
)
from engine.service import attachments, deliveries, routing_inputs, schedule, turns
from engine.service.bot import BotOutcome, TurnInput
from engine.service.channel_rules import WEB, Unroutable
from engine.service.errors import Conflict, Invalid, NotFound
from engine.service.hours import HoursState, closed_notice, when
from engine.service.policy import (
    HANDOFF_NOTICE,
    TALK_TO_PERSON,
    accepts_offer,
    available,
    derive_skills,
    reopen_to,
    wait_notice,
)
from engine.service.runtime import Outbox, ServiceContext
from engine.service.turns import TurnClaim
from engine.validation import problem

BOT_STATES = (State.bot, State.offered)
HUMAN_STATES = (State.queued, State.assigned)


# --- helpers (inside a transaction) -------------------------------------------------------------

def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def operator_actor(operator_id: int) -> str:
    return f"operator:{operator_id}"


def public(message: Message) -> MessagePublic:
    return MessagePublic.model_validate(message, from_attributes=True)


def lock(session: Session, conversation_id: int) -> Conversation:
    """The conversation row, locked for this transaction (SQLite already holds the write lock).
    ``FOR NO KEY UPDATE`` on PostgreSQL, the lock an ``UPDATE`` of the row takes (the turn's
    statements lock it that way): every lock of the row is then of one strength, so a group commit
    never upgrades one it holds, which would wait behind another worker's foreign-key check (a draft
    or a message inserted for the conversation) while that one waits for it: a deadlock."""
    conversation = session.exec(
        select(Conversation).where(Conversation.id == conversation_id).with_for_update(key_share=True)
    ).first()
    if conversation is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    return conversation


def append(session: Session, outbox: Outbox, conversation: Conversation, role: Role, text: str, *,
           visibility: Visibility = Visibility.public, client_id: str | None = None,
           author_id: int | None = None, citations: list[dict[str, Any]] | None = None,
           quick_replies: list[str] | None = None, confidence: float | None = None,
           draft_id: int | None = None, files: list[Attachment] | None = None) -> Message:
    """Store a message with the conversation's next seq and queue its event. ``files`` are
    uploads checked by ``attachments.attach``: they are sent on this message and take its visibility."""
    conversation.last_seq += 1
    message = Message(conversation_id=conversation.id, seq=conversation.last_seq, role=role, text=text,
                      visibility=visibility, client_id=client_id, author_id=author_id,
                      citations=citations or [], quick_replies=quick_replies or [], confidence=confidence,
                      draft_id=draft_id,
                      attachments=[attachments.public(f).model_dump() for f in files or ()])
    session.add(conversation)
    session.add(message)
    session.flush()
    if files:
        attachments.sent_on(session, files, message.id, visibility)
    internal = visibility == Visibility.internal
    outbox.add(conversation_stream(conversation.id, internal=internal),
               MessageCreated(conversation_id=conversation.id, seq=message.seq, message=public(message)))
    if visibility == Visibility.public and role in (Role.bot, Role.system):
        deliveries.route(session, outbox, conversation, message)  # back where the customer wrote
    return message


def transition(session: Session, outbox: Outbox, conversation: Conversation, to_state: State, *, actor: str,
               reason: str) -> None:
    """Move to ``to_state`` (or record a same-state change such as a transfer) and announce it."""
    from_state = State(conversation.state)
    now = utcnow()
    conversation.state = to_state
    if to_state != State.queued:
        conversation.held_until = None  # held only while queued: a claim or a hand-back ends it
    if to_state == State.queued:
        conversation.queued_at = now
        conversation.assignee_id = None
    elif to_state == State.assigned:
        conversation.assigned_at = now
    elif to_state == State.resolved:
        conversation.resolved_at = now
    elif to_state == State.bot:
        conversation.assignee_id = None
    session.add(Transition(conversation_id=conversation.id, from_state=from_state, to_state=to_state,
                           actor=actor, reason=reason))
    session.add(conversation)
    session.flush()
    announce(session, outbox, conversation, from_state=from_state, actor=actor, reason=reason)


def announce(session: Session, outbox: Outbox, conversation: Conversation, *, from_state: State, actor: str,
             reason: str) -> None:
    _announce(outbox, conversation.id, conversation.last_seq, State(conversation.state), from_state,
              conversation.assignee_id, conversation.team_id, list(conversation.tags), actor=actor,
              reason=reason)


def _announce(outbox: Outbox, conversation_id: int, seq: int, state: State, from_state: State,
              assignee_id: int | None, team_id: int | None, tags: list[str], *, actor: str,
              reason: str) -> None:
    kinds = {State.queued: "conversation.queued", State.assigned: "conversation.assigned",
             State.resolved: "conversation.resolved"}
    kind = kinds.get(state, "conversation.updated")
    if from_state == state and kind != "conversation.assigned":
        kind = "conversation.updated"
    event = ConversationChanged(type=kind, conversation_id=conversation_id, seq=seq, state=state,
                                from_state=from_state, assignee_id=assignee_id, team_id=team_id, tags=tags,
                                actor=actor, reason=reason)
    outbox.add(conversation_stream(conversation_id), event)
    outbox.add(OPERATORS, event)


def operator_or_404(session: Session, operator_id: int) -> Operator:
    operator = session.get(Operator, operator_id)
    if operator is None:
        raise NotFound(f"operator {operator_id} does not exist")
    return operator


def check_text(ctx: ServiceContext, text: str, *, files: bool = False) -> str:
    """The text to store; it may be empty only on a message that carries ``files``."""
    found = problem(text)
    if found is not None:
        raise Invalid(f"text {found}")
    text = text.strip()
    if not text and not files:
        raise Invalid("text is empty")
    limit = ctx.settings.max_message_chars
    if len(text) > limit:
        raise Invalid(f"text is {len(text)} characters; the limit is {limit}")
    return text


def existing(session: Session, conversation_id: int, client_id: str | None) -> Message | None:
    if client_id is None:
        return None
    return session.exec(select(Message).where(Message.conversation_id == conversation_id,
                                              Message.client_id == client_id)).first()


# --- the bot turn's statements (SQLAlchemy Core) --------------------------------------------------
# A visitor message with its pending turn, and the bot's answer, are written on every turn's path:
# as statements built (and compiled) once and run on the session's connection, rather than ORM
# objects flushed by the unit of work (docs/scaling.md, the profile: the two ORM transactions were a
# third of the worker's GIL). The straight path of each is written here; what it does not cover (a
# resend, a resolved conversation, files, an escalation, a route to an outside channel) takes the
# general path, written with the ORM helpers above.

_CONVERSATION: Table = Conversation.__table__
_MESSAGE: Table = Message.__table__
_CONTACT: Table = Contact.__table__
_DELIVERY: Table = ChannelDelivery.__table__
# bind names differ from every column name: an UPDATE takes a parameter named like a column as SET
_TAKE_SEQ = (update(_CONVERSATION).where(_CONVERSATION.c.id == bindparam("conversation"))
             .values(last_seq=_CONVERSATION.c.last_seq + 1)
             .returning(_CONVERSATION.c.last_seq, _CONVERSATION.c.state, _CONVERSATION.c.tags,
                        _CONVERSATION.c.channel, _CONVERSATION.c.offered,
                        select(_CONTACT.c.vip).where(_CONTACT.c.id == _CONVERSATION.c.contact_id)
                        .scalar_subquery()))
_LOCK_FOR_ANSWER = (select(_CONVERSATION.c.state, _CONVERSATION.c.last_seq, _CONVERSATION.c.channel,
                           exists().where(_DELIVERY.c.conversation_id == _CONVERSATION.c.id,
                                          _DELIVERY.c.direction == Direction.inbound.value),
                           _CONVERSATION.c.assignee_id, _CONVERSATION.c.team_id, _CONVERSATION.c.tags)
                    .where(_CONVERSATION.c.id == bindparam("conversation"))
                    .with_for_update(of=_CONVERSATION, key_share=True))  # as lock() takes it
_SET_SEQ = update(_CONVERSATION).where(_CONVERSATION.c.id == bindparam("conversation")) \
    .values(last_seq=bindparam("seq"))
# the answer that offers a person (bot -> offered) or goes on after an offer (offered -> bot): in
# either state the conversation has no assignee and is not held, so only the state changes
_SET_SEQ_STATE = update(_CONVERSATION).where(_CONVERSATION.c.id == bindparam("conversation")) \
    .values(last_seq=bindparam("seq"), state=bindparam("to_state"),
            offered=_CONVERSATION.c.offered | bindparam("offer"))
_TRANSITION = insert(Transition.__table__)
_ADD_MESSAGE = insert(_MESSAGE).returning(_MESSAGE.c.id)
_HISTORY = (select(_MESSAGE.c.role, _MESSAGE.c.text, _MESSAGE.c.confidence, _MESSAGE.c.created_at)
            .where(_MESSAGE.c.conversation_id == bindparam("conversation"),
                   _MESSAGE.c.visibility == Visibility.public.value,
                   _MESSAGE.c.text != "",  # a message of files only: nothing for the bot to read
                   _MESSAGE.c.seq <= bindparam("upto"))
            .order_by(_MESSAGE.c.seq.desc()).limit(bindparam("limit")))
_DECIDED = insert(HandoffEvent.__table__)


class _NotStraight(Exception):
    """The straight path does not apply: its writes are rolled back and the general path runs."""


def _add_message(connection: Connection, outbox: Outbox, conversation_id: int, seq: int, role: Role,
                 text: str, *, client_id: str | None = None, citations: list[dict[str, Any]] | None = None,
                 quick_replies: list[str] | None = None, confidence: float | None = None) -> MessagePublic:
    """Insert a public message with no files at ``seq`` (the caller took it) and queue its event.
    What comes back is the message's public shape, also the event's: an ORM ``Message`` built here
    cost 250-300 us of the writer's GIL (SQLModel sets each field through the instrumentation) and
    its public copy 50 more, against 16 us for this (docs/scaling.md, the fourth pass); callers read
    its ids, seq and text, which both have."""
    values: dict[str, Any] = {"conversation_id": conversation_id, "seq": seq, "role": role.value,
                              "visibility": Visibility.public.value, "text": text, "client_id": client_id,
                              "author_id": None, "citations": citations or [],
                              "quick_replies": quick_replies or [], "confidence": confidence,
                              "created_at": utcnow(), "draft_id": None, "attachments": []}
    message_id = connection.execute(_ADD_MESSAGE, values).scalar_one()
    message = MessagePublic(id=message_id, **values)
    outbox.add(conversation_stream(conversation_id),
               MessageCreated(conversation_id=conversation_id, seq=seq, message=message))
    return message


def _history(connection: Connection, conversation_id: int, upto: int,
             limit: int) -> list[tuple[str, str, float | None, datetime]]:
    """The recent public messages with words, up to seq ``upto``, oldest first."""
    rows = connection.execute(_HISTORY, {"conversation": conversation_id, "upto": upto, "limit": limit}).all()
    return [(role, text, confidence, at) for role, text, confidence, at in reversed(rows)]


def _decided(connection: Connection, claim: TurnClaim, outcome: BotOutcome) -> None:
    """Store the detector's decision on the turn (``continue`` too: the metrics count them)."""
    connection.execute(_DECIDED, {"conversation_id": claim.conversation_id, "message_id": claim.message_id,
                                  "action": outcome.action, "reasons": outcome.reasons,
                                  "scores": outcome.scores, "packet": outcome.packet, "created_at": utcnow()})


# --- visitor actions ------------------------------------------------------------------------------

async def start(ctx: ServiceContext, *, name: str | None = None, email: str | None = None,
                channel: str = "web", contact_id: int | None = None,
                subject: str | None = None) -> tuple[Conversation, str]:
    """Open a conversation; returns it and the visitor token (shown once, stored only as a hash).

    ``contact_id`` is for trusted callers (channel adapters that identified the sender). A name or
    email typed into the widget is unverified, so it goes on a new contact: it never attaches the
    visitor to someone else's contact (their VIP status, their history). Only a channel adapter
    starts a conversation on a channel other than the widget: one that names no contact would send
    its replies to an address nobody verified."""
    if channel != "web" and contact_id is None:
        raise Invalid(f"a {channel} conversation starts from the channel's own webhook, not here")
    token = secrets.token_urlsafe(32)

    def work(session: Session, outbox: Outbox) -> Conversation:
        contact = session.get(Contact, contact_id) if contact_id is not None else None
        if contact_id is not None and contact is None:
            raise NotFound(f"contact {contact_id} does not exist")
        if contact is None:
            contact = Contact(name=name, email=email.lower() if email else None)
            session.add(contact)
            session.flush()
        conversation = Conversation(contact_id=contact.id, channel=channel, token_hash=hash_token(token),
                                    subject=subject)
        session.add(conversation)
        session.flush()
        return conversation

    return await ctx.act(work), token


def by_token(session: Session, token: str) -> Conversation | None:
    return session.exec(select(Conversation).where(Conversation.token_hash == hash_token(token))).first()


@dataclass
class Accepted:
    """A stored visitor message; ``duplicate`` when its client id had been seen before. ``turn`` is
    this worker's claim on the bot's turn it needs (None when a person has the conversation, or
    when another worker holds it), with ``snapshot``, what the bot reads, taken in the same
    transaction."""

    message: Message | MessagePublic  # the straight path's is its public shape (``_add_message``)
    duplicate: bool = False
    accepted_offer: bool = False
    snapshot: TurnInput | None = None
    turn: TurnClaim | None = None
    person: State | None = None  # the conversation's state when a person has it (queued or assigned)


def _lease(ctx: ServiceContext) -> timedelta:
    return timedelta(seconds=ctx.settings.turn_lease_seconds)


def _resumed(session: Session, conversation: Conversation, message: Message, claim: TurnClaim,
             limit: int) -> Accepted:
    """The turn of an earlier message, claimed again (a resend, or a sweep after a crash); dropped
    when a person has taken the conversation since."""
    if conversation.state not in BOT_STATES:
        turns.finish(session, claim)
        return Accepted(message, duplicate=True)
    accepted_offer = conversation.state == State.offered and accepts_offer(message.text)
    return Accepted(message, duplicate=True, accepted_offer=accepted_offer,
                    snapshot=turn_input(session, conversation, limit, upto=message.seq), turn=claim)


def reopen_after_resolution(ctx: ServiceContext, session: Session, outbox: Outbox, conversation: Conversation,
                            now: datetime) -> None:
    """A visitor wrote after resolution. Within ``reopen_to_operator_seconds`` it goes back to the
    person who resolved it (they may have just asked for a photo), or to the queue when they are not
    available; after that, to the bot (``policy.reopen_to``)."""
    conversation.reopened_at = now
    resolver = session.get(Operator, conversation.assignee_id) if conversation.assignee_id else None
    present = None if resolver is None else available(resolver.status, resolver.last_seen_at, now,
                                                       ctx.settings.presence_grace_seconds)
    window = ctx.settings.reopen_to_operator_seconds
    where = reopen_to(conversation.resolved_at, present, now, window)
    if where == "operator":
        transition(session, outbox, conversation, State.assigned, actor="visitor",
                   reason=f"new visitor message soon after resolution: back to operator {resolver.id}")
    elif where == "queue":
        transition(session, outbox, conversation, State.queued, actor="visitor",
                   reason="new visitor message soon after resolution; the resolver is not available")
    else:
        transition(session, outbox, conversation, State.bot, actor="visitor", reason="new visitor message")


async def accept(ctx: ServiceContext, conversation_id: int, text: str, client_id: str | None = None,
                 attachment_ids: Sequence[int] = (), uploader: str = attachments.VISITOR) -> Accepted:
    """Store a visitor's message once per client id (reopening a resolved conversation), with the
    pending bot turn it needs. The caller may acknowledge it as soon as this returns. A resend of a
    message whose turn never ran (its worker died) claims that turn again. ``attachment_ids``: the
    visitor's uploads sent with it (``uploader``: the channel's name for files that came in by one);
    a message of files and no words has no bot turn: the bot answers words."""
    text = check_text(ctx, text, files=bool(attachment_ids))
    limit = ctx.settings.history_turns
    if not attachment_ids:  # the straight path; a resolved conversation or a resend (its client id
        # is taken) falls through to the general one below
        with contextlib.suppress(_NotStraight, IntegrityError):
            return await ctx.act(_accept_new, conversation_id, text, client_id, limit, _lease(ctx))

    def work(session: Session, outbox: Outbox) -> Accepted:
        conversation = lock(session, conversation_id)
        now = utcnow()
        found = existing(session, conversation_id, client_id)
        if found is not None:
            claim = turns.reclaim(session, found.id, now, _lease(ctx))
            if claim is None:
                return Accepted(found, duplicate=True)
            return _resumed(session, conversation, found, claim, limit)
        files = attachments.attach(session, conversation_id, attachment_ids, uploader=uploader,
                                   limit=ctx.settings.attachment_max_files)
        if conversation.state == State.resolved:
            reopen_after_resolution(ctx, session, outbox, conversation, now)
        accepted_offer = conversation.state == State.offered and accepts_offer(text)
        message = append(session, outbox, conversation, Role.visitor, text, client_id=client_id, files=files)
        if conversation.state not in BOT_STATES or not text:
            return Accepted(message, person=None if conversation.state in BOT_STATES else conversation.state)
        return Accepted(message, accepted_offer=accepted_offer,
                        snapshot=turn_input(session, conversation, limit),
                        turn=turns.record(session, message, now, _lease(ctx)))

    return await ctx.act(work)


def _accept_new(session: Session, outbox: Outbox, conversation_id: int, text: str, client_id: str | None,
                limit: int, lease: timedelta) -> Accepted:
    """:func:`accept`'s straight path: a new message of words in a conversation that is not resolved.
    One UPDATE locks the row, takes the next seq and reads what the turn needs; a resend is found by
    the unique (conversation, client id) index, whose error rolls this back for the general path."""
    connection = session.connection()
    row = connection.execute(_TAKE_SEQ, {"conversation": conversation_id}).first()
    if row is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    seq, state, tags, channel, offered, vip = row
    if state == State.resolved:
        raise _NotStraight  # it reopens first (the general path)
    message = _add_message(connection, outbox, conversation_id, seq, Role.visitor, text, client_id=client_id)
    if state not in BOT_STATES:
        return Accepted(message, person=State(state))
    history = _history(connection, conversation_id, seq, limit)
    snapshot = TurnInput(conversation_id=conversation_id, state=State(state),
                         history=[(role, words, confidence) for role, words, confidence, _ in history],
                         times=[at for *_, at in history], vip=bool(vip), tags=list(tags), channel=channel,
                         offered=offered)
    accepted_offer = state == State.offered and accepts_offer(text)
    return Accepted(message, accepted_offer=accepted_offer, snapshot=snapshot,
                    turn=turns.record(session, message, message.created_at, lease))


async def resume(ctx: ServiceContext, claim: TurnClaim) -> Accepted:
    """A pending turn a sweep claimed: the snapshot the bot reads, as of its message."""
    def work(session: Session, _outbox: Outbox) -> Accepted:
        conversation = lock(session, claim.conversation_id)
        message = session.get(Message, claim.message_id)
        return _resumed(session, conversation, message, claim, ctx.settings.history_turns)

    return await ctx.act(work)


def turn_input(session: Session, conversation: Conversation, limit: int,
               upto: int | None = None) -> TurnInput:
    """What the bot reads for one turn: the recent public messages (up to seq ``upto``, for a turn
    resumed later) and who the visitor is."""
    vip = session.exec(select(Contact.vip).where(Contact.id == conversation.contact_id)).first()
    history = _history(session.connection(), conversation.id,
                       conversation.last_seq if upto is None else upto, limit)
    return TurnInput(conversation_id=conversation.id, state=State(conversation.state),
                     history=[(role, text, confidence) for role, text, confidence, _ in history],
                     times=[at for *_, at in history], vip=bool(vip), tags=list(conversation.tags),
                     channel=conversation.channel, offered=conversation.offered)


def apply_bot_turn(session: Session, outbox: Outbox, claim: TurnClaim, outcome: BotOutcome,
                   closed: HoursState | None = None,
                   at: datetime | None = None) -> list[Message | MessagePublic]:
    """Record the decision and act on it if the bot still has the conversation, removing the pending
    turn in the same transaction. Nothing happens if the claim is no longer this worker's (its lease
    ran out and another worker answered): a question is answered once. The escalation notice says
    a person is coming; where the visitor stands is told after routing (``tell_wait``). After hours
    (``closed``: the conversation's hours as of ``at``) it is queued all the same, with its packet,
    but held for the opening, and the notice says when that is instead.

    An answer (``continue``, ``offer``) is written as Core statements: one SELECT locks the row and
    reads the state, the seq and whether anything reached the conversation by another channel (the
    bot's answer in a web chat nothing else reached stays in the chat, as ``reply_routes.decide``
    has it, so it needs no route); the ORM loads the conversation only for a route to decide."""
    if outcome.action == "escalate":
        return _escalate(session, outbox, claim, outcome, closed, at)
    connection = session.connection()
    row = connection.execute(_LOCK_FOR_ANSWER, {"conversation": claim.conversation_id}).first()
    if row is None:
        raise NotFound(f"conversation {claim.conversation_id} does not exist")
    state, seq, channel, reached_elsewhere, assignee_id, team_id, tags = row
    if not turns.finish(session, claim):
        return []
    _decided(connection, claim, outcome)
    if state not in BOT_STATES:
        return []  # a person took over while the bot was thinking: it says nothing
    seq += 1
    offer = outcome.action == "offer"
    to_state = State.offered if offer and state == State.bot else \
        State.bot if not offer and state == State.offered else None
    if to_state is None:
        connection.execute(_SET_SEQ, {"conversation": claim.conversation_id, "seq": seq})
    else:
        connection.execute(_SET_SEQ_STATE, {"conversation": claim.conversation_id, "seq": seq,
                                            "to_state": to_state.value, "offer": offer})
    reply = _add_message(connection, outbox, claim.conversation_id, seq, Role.bot, outcome.text,
                         citations=outcome.citations, confidence=outcome.confidence,
                         quick_replies=[TALK_TO_PERSON] if offer else [])
    if channel != WEB or reached_elsewhere:
        deliveries.route(session, outbox, session.get(Conversation, claim.conversation_id), reply)
    if to_state is not None:  # what transition() records and announces, as statements
        actor, reason = ("bot", outcome.explanation) if offer else \
            ("visitor", "the visitor went on with the bot")
        connection.execute(_TRANSITION, {"conversation_id": claim.conversation_id, "from_state": state,
                                         "to_state": to_state.value, "actor": actor, "reason": reason,
                                         "created_at": utcnow()})
        _announce(outbox, claim.conversation_id, seq, to_state, State(state), assignee_id, team_id,
                  list(tags), actor=actor, reason=reason)
    return [reply]


def _escalate(session: Session, outbox: Outbox, claim: TurnClaim, outcome: BotOutcome,
              closed: HoursState | None, at: datetime | None) -> list[Message]:
    """:func:`apply_bot_turn` for an escalation: queued (or held after hours) with the notice."""
    conversation = lock(session, claim.conversation_id)
    if not turns.finish(session, claim):
        return []
    _decided(session.connection(), claim, outcome)
    if conversation.state not in BOT_STATES:
        return []
    if closed is not None:
        return [hold(session, outbox, conversation, closed, at or utcnow(), actor="bot",
                     reason=f"{outcome.explanation}; after hours, queued for the opening")]
    transition(session, outbox, conversation, State.queued, actor="bot", reason=outcome.explanation)
    return [append(session, outbox, conversation, Role.system, HANDOFF_NOTICE)]


async def tell_wait(ctx: ServiceContext, conversation_id: int, queue: QueueInfo) -> Message | None:
    """Tell a queued visitor where they stand (after routing ran, from an estimate read outside any
    write transaction); nothing if a person took the conversation meanwhile."""
    def work(session: Session, outbox: Outbox) -> Message | None:
        conversation = lock(session, conversation_id)
        if conversation.state != State.queued:
            return None
        return append(session, outbox, conversation, Role.system,
                      wait_notice(queue.position, queue.wait_seconds))

    return await ctx.act(work)


async def adopt_subject(ctx: ServiceContext, conversation_id: int, subject: str) -> None:
    """Give a conversation that has no subject (a web chat) the one of a mail that continued it, so
    that replies routed by mail read "Re: <subject>". A subject it already has stays."""
    def work(session: Session, _outbox: Outbox) -> None:
        conversation = session.get(Conversation, conversation_id)
        if conversation is not None and conversation.subject is None:
            conversation.subject = subject[:200]
            session.add(conversation)

    if await ctx.read(lambda session: session.get(Conversation, conversation_id).subject) is None:
        await ctx.act(work)


async def record_csat(ctx: ServiceContext, conversation_id: int, score: int, comment: str | None) -> None:
    if not 1 <= score <= 5:
        raise Invalid(f"score must be between 1 and 5, got {score}")

    def work(session: Session, outbox: Outbox) -> None:
        conversation = lock(session, conversation_id)
        if conversation.state != State.resolved:
            raise Conflict("the conversation is not resolved yet; rate it once it is")
        conversation.csat_score, conversation.csat_comment = score, (comment or None)
        session.add(conversation)

    await ctx.act(work)


# --- after hours ----------------------------------------------------------------------------------

LEAVE_MESSAGE = "Leave a message"


def hold(session: Session, outbox: Outbox, conversation: Conversation, closed: HoursState, at: datetime, *,
         actor: str, reason: str) -> Message:
    """Queue a conversation for its team's next opening (routing leaves it until then) and tell the
    visitor honestly when that is; a web visitor is offered to leave an address to be answered on."""
    conversation.held_until = closed.opens_at
    transition(session, outbox, conversation, State.queued, actor=actor, reason=reason)
    web = conversation.channel == "web"
    return append(session, outbox, conversation, Role.system,
                  closed_notice(closed, at, can_leave_contact=web),
                  quick_replies=[LEAVE_MESSAGE] if web else None)


async def release_opened(ctx: ServiceContext, conversation_ids: list[int]) -> list[int]:
    """The team opened: these held conversations become routable (still queued, with their packet);
    returns those released. Each gets a ``conversation.updated`` so pages and the widget redraw."""
    def work(session: Session, outbox: Outbox) -> list[int]:
        released = []
        for conversation_id in conversation_ids:
            conversation = lock(session, conversation_id)
            if conversation.state != State.queued or conversation.held_until is None:
                continue
            conversation.held_until = None
            session.add(conversation)
            announce(session, outbox, conversation, from_state=State.queued, actor="system",
                     reason="the team opened")
            released.append(conversation_id)
        return released

    return await ctx.act(work) if conversation_ids else []


@dataclass(frozen=True)
class LeftMessage:
    """What a visitor left after hours: where to answer them, and the notice that says so."""

    email: str | None
    phone: str | None
    notice: Message
    message: Message | None


def check_can_leave_message(conversation: Conversation) -> None:
    """Only a web visitor leaves an address (a channel's customer is answered where they wrote), and
    not on a resolved conversation: checked before a confirmation code is mailed."""
    if conversation.channel != "web":
        raise Conflict(f"a {conversation.channel} conversation is answered on {conversation.channel}")
    if conversation.state == State.resolved:
        raise Conflict("the conversation is resolved; write a new message to reopen it")


async def leave_message(ctx: ServiceContext, conversation_id: int, *, email: str | None, phone: str | None,
                        text: str | None, closed: HoursState | None, at: datetime,
                        phone_code: bool = False) -> LeftMessage:
    """A web visitor leaves an address to be answered on and, optionally, their question. ``email`` has
    just been sent a confirmation code (``confirmation.request`` put it on the contact), and so has
    ``phone`` by SMS when ``phone_code``: once confirmed, a person's reply reaches a visitor who left
    the page there, by email first, else by SMS (``channel_rules``). ``phone`` (a valid number,
    checked by the API) goes on the contact for the team to call or text either way: typed and
    unconfirmed, it is never an automatic channel. A conversation still with the bot is queued for a
    person, held for the opening when ``closed``. The notice says exactly that, and when."""
    if email is None and phone is None:
        raise Invalid("give an email address or a phone number to be answered on")
    words = check_text(ctx, text) if text and text.strip() else None

    def work(session: Session, outbox: Outbox) -> LeftMessage:
        conversation = lock(session, conversation_id)
        check_can_leave_message(conversation)
        if phone is not None:
            contact = session.get(Contact, conversation.contact_id)
            contact.phone = phone
            session.add(contact)
        message = append(session, outbox, conversation, Role.visitor, words) if words else None
        if conversation.state in BOT_STATES:
            if closed is not None:
                conversation.held_until = closed.opens_at
            transition(session, outbox, conversation, State.queued, actor="visitor",
                       reason="left a message after hours" if closed else "left a message for a person")
        later = f" when we open {when(closed.opens_at, closed.timezone, at)} ({closed.timezone} time)" \
            if closed and closed.opens_at and closed.timezone else ""
        text = f"Thank you. A person from our team will answer you here{later}."
        if email is not None:
            text += f" Enter the code we have just sent to {email}, and the answer will also reach you by " \
                "email if you have left this page by then."
        if phone is not None and phone_code:
            text += f" Enter the code we have just texted to {phone}, and the answer will " + \
                ("reach you by SMS if you have left this page and have not confirmed an email." if email
                 else "also reach you by SMS if you have left this page by then.")
        elif phone is not None:
            text += f" The team will see your number, {phone}, to call or text you."
        notice = append(session, outbox, conversation, Role.system, text)
        return LeftMessage(email, phone, notice, message)

    return await ctx.act(work)


# --- operator actions -----------------------------------------------------------------------------

UNOWNED = (State.bot, State.offered, State.queued)
PASSED_ON = "I'm passing you to a colleague who can help with this. One moment, please."


def check_not_anothers(conversation: Conversation, operator_id: int) -> None:
    """The ownership rule, for every action that would make ``operator_id`` the owner: a
    conversation another operator owns moves only by an explicit take-over (:func:`take_over`),
    never as a side effect of a claim or a reply."""
    if conversation.state == State.assigned and conversation.assignee_id not in (None, operator_id):
        raise Conflict(f"conversation {conversation.id} is assigned to operator {conversation.assignee_id}; "
                       f"take it over first (POST /api/operator/conversations/{conversation.id}/takeover)")


def assign(session: Session, outbox: Outbox, conversation_id: int, operator_id: int, *, actor: str,
           reason: str, allowed: tuple[State, ...]) -> Conversation:
    conversation = lock(session, conversation_id)
    operator = operator_or_404(session, operator_id)
    if conversation.state == State.assigned and conversation.assignee_id == operator_id:
        return conversation
    check_not_anothers(conversation, operator_id)
    if conversation.state not in allowed:
        owner = f" by operator {conversation.assignee_id}" if conversation.assignee_id else ""
        raise Conflict(f"conversation {conversation_id} is {conversation.state}{owner}")
    conversation.assignee_id = operator_id
    transition(session, outbox, conversation, State.assigned, actor=actor, reason=reason)
    append(session, outbox, conversation, Role.system, f"{operator.name} joined the conversation.")
    return conversation


async def claim(ctx: ServiceContext, conversation_id: int, operator_id: int) -> Conversation:
    """An operator takes a conversation that nobody owns (from the queue, or from the bot)."""
    return await ctx.act(assign, conversation_id, operator_id, actor=operator_actor(operator_id),
                         reason="claimed", allowed=UNOWNED)


async def take_over(ctx: ServiceContext, conversation_id: int, operator_id: int) -> Conversation:
    """Take a conversation from the operator who owns it, on purpose. Both see it: the assignment
    event names the previous owner in its reason (their console drops the conversation), and an
    internal note on the conversation says who took it from whom. Unowned, it is a plain claim."""
    actor = operator_actor(operator_id)

    def work(session: Session, outbox: Outbox) -> Conversation:
        conversation = lock(session, conversation_id)
        previous_id = conversation.assignee_id if conversation.state == State.assigned else None
        if previous_id in (None, operator_id):
            return assign(session, outbox, conversation_id, operator_id, actor=actor, reason="claimed",
                          allowed=UNOWNED)
        operator = operator_or_404(session, operator_id)
        previous = session.get(Operator, previous_id)
        previous_name = previous.name if previous else f"operator {previous_id}"
        conversation.assignee_id = operator_id
        transition(session, outbox, conversation, State.assigned, actor=actor,
                   reason=f"taken over from operator {previous_id}")
        append(session, outbox, conversation, Role.operator,
               f"{operator.name} took this conversation over from {previous_name}.",
               visibility=Visibility.internal, author_id=operator_id)
        append(session, outbox, conversation, Role.system, f"{operator.name} will continue helping you.")
        return conversation

    return await ctx.act(work)


async def route_to(ctx: ServiceContext, conversation_id: int, operator_id: int, reason: str) -> Conversation:
    """Routing's assignment of a queued conversation (raises Conflict if it is no longer queued)."""
    return await ctx.act(assign, conversation_id, operator_id, actor="system", reason=reason,
                         allowed=(State.queued,))


async def reply(ctx: ServiceContext, conversation_id: int, operator_id: int, text: str,
                client_id: str | None = None, draft_id: int | None = None,
                attachment_ids: Sequence[int] = (), channel: str | None = None) -> Message:
    """An operator's answer to the visitor (with the files they uploaded, ``attachment_ids``).
    Replying takes a conversation nobody owns; one that another operator owns is refused (409) until
    this one takes it over. It leaves on the channel the customer last used, or on ``channel`` when
    the operator chose one (``channel_rules.choose_route``; 422 when the customer has no address
    there)."""
    text = check_text(ctx, text, files=bool(attachment_ids))

    def work(session: Session, outbox: Outbox) -> Message:
        conversation = lock(session, conversation_id)
        found = existing(session, conversation_id, client_id)
        if found is not None:
            return found
        if conversation.state == State.resolved:
            raise Conflict("the conversation is resolved; reopen it before replying")
        check_not_anothers(conversation, operator_id)
        files = attachments.attach(session, conversation_id, attachment_ids,
                                   uploader=operator_actor(operator_id),
                                   limit=ctx.settings.attachment_max_files)
        if conversation.state != State.assigned or conversation.assignee_id != operator_id:
            operator = operator_or_404(session, operator_id)
            conversation.assignee_id = operator_id
            transition(session, outbox, conversation, State.assigned, actor=operator_actor(operator_id),
                       reason="replied")
            append(session, outbox, conversation, Role.system, f"{operator.name} joined the conversation.")
        if conversation.first_human_response_at is None:
            conversation.first_human_response_at = utcnow()
        message = append(session, outbox, conversation, Role.operator, text, client_id=client_id,
                         author_id=operator_id, draft_id=draft_id, files=files)
        try:
            deliveries.route(session, outbox, conversation, message, by_person=True, chosen=channel,
                             grace_seconds=ctx.settings.presence_grace_seconds)
        except Unroutable as exc:
            raise Invalid(str(exc)) from None
        return message

    return await ctx.act(work)


async def note(ctx: ServiceContext, conversation_id: int, operator_id: int, text: str,
               attachment_ids: Sequence[int] = ()) -> Message:
    """An internal note: operators only, on every channel; its files are internal too."""
    text = check_text(ctx, text, files=bool(attachment_ids))

    def work(session: Session, outbox: Outbox) -> Message:
        conversation = lock(session, conversation_id)
        files = attachments.attach(session, conversation_id, attachment_ids,
                                   uploader=operator_actor(operator_id),
                                   limit=ctx.settings.attachment_max_files)
        return append(session, outbox, conversation, Role.operator, text, visibility=Visibility.internal,
                      author_id=operator_id, files=files)

    return await ctx.act(work)


async def tag(ctx: ServiceContext, conversation_id: int, operator_id: int, add: list[str],
              remove: list[str]) -> Conversation:
    def work(session: Session, outbox: Outbox) -> Conversation:
        conversation = lock(session, conversation_id)
        tags = [t for t in conversation.tags if t not in set(remove)]
        tags += [t for t in dict.fromkeys(x.strip() for x in add) if t and t not in tags]
        conversation.tags = tags
        session.add(conversation)
        announce(session, outbox, conversation, from_state=State(conversation.state),
                 actor=operator_actor(operator_id), reason="tags changed")
        return conversation

    return await ctx.act(work)


async def set_routing(ctx: ServiceContext, conversation_id: int, operator_id: int, *, language: str | None,
                      topics: list[str] | None, region: str | None) -> Conversation:
    """Set or correct what routing matches on (language, topics, region): the conversation's skills
    become those derived from its handoff packet with these replaced (``routing_inputs``)."""
    def work(session: Session, outbox: Outbox) -> Conversation:
        conversation = lock(session, conversation_id)
        packet = session.exec(select(HandoffEvent.packet).where(
            HandoffEvent.conversation_id == conversation_id, col(HandoffEvent.packet).is_not(None))
            .order_by(col(HandoffEvent.id).desc())).first()
        base = conversation.skills or derive_skills(packet, channel=conversation.channel,
                                                    tags=conversation.tags)
        conversation.skills = routing_inputs.with_inputs(base, desk_language=ctx.settings.desk_language,
                                                         language=language, topics=topics, region=region)
        session.add(conversation)
        announce(session, outbox, conversation, from_state=State(conversation.state),
                 actor=operator_actor(operator_id), reason="routing inputs changed")
        return conversation

    return await ctx.act(work)


async def set_priority(ctx: ServiceContext, conversation_id: int, actor_id: int, priority: int,
                       reason: str) -> Conversation:
    """A supervisor raises or lowers a conversation in the queue (0 normal, up to 5); audited."""
    if not 0 <= priority <= 5:
        raise Invalid(f"priority must be 0 to 5, got {priority}")

    def work(session: Session, outbox: Outbox) -> Conversation:
        conversation = lock(session, conversation_id)
        if conversation.priority != priority:
            session.add(AuditEntry(actor_id=actor_id, action="conversation.priority",
                                   target=f"conversation:{conversation_id}",
                                   changes={"priority": [conversation.priority, priority]},
                                   reason=reason.strip()))
            conversation.priority = priority
            session.add(conversation)
            announce(session, outbox, conversation, from_state=State(conversation.state),
                     actor=operator_actor(actor_id), reason=f"priority set to {priority}")
        return conversation

    return await ctx.act(work)


async def transfer(ctx: ServiceContext, conversation_id: int, operator_id: int, *, to_operator_id: int | None,
                   to_team_id: int | None, note_text: str | None = None,
                   audit_reason: str | None = None) -> Conversation:
    """Hand the conversation to another person (stays assigned) or a team (back to the queue). A
    person who is not available (offline, away, or unseen past the grace period) never gets it: the
    conversation goes back to the queue (of their team), so the visitor is not left waiting on
    nobody while the queue shows nobody waiting.

    ``audit_reason`` is a supervisor's reassignment: audited (who, when, why) in the same
    transaction, and a person who is not available is refused (409) rather than requeued, since the
    supervisor picked that person and should pick another."""
    if (to_operator_id is None) == (to_team_id is None):
        raise Invalid("give exactly one of operator_id or team_id")
    actor = operator_actor(operator_id)

    def work(session: Session, outbox: Outbox) -> Conversation:
        conversation = lock(session, conversation_id)
        if conversation.state not in HUMAN_STATES:
            raise Conflict(f"cannot transfer a conversation that is {conversation.state}")
        if note_text:
            append(session, outbox, conversation, Role.operator, check_text(ctx, note_text),
                   visibility=Visibility.internal, author_id=operator_id)
        target = operator_or_404(session, to_operator_id) if to_operator_id is not None else None
        ready = target is not None and available(target.status, target.last_seen_at, utcnow(),
                                                 ctx.settings.presence_grace_seconds)
        if audit_reason is not None and target is not None:
            if not ready:
                raise Conflict(f"{target.name} (operator {target.id}) is {target.status}, not available: "
                               "pick an operator who is online")
            if conversation.state == State.assigned and conversation.assignee_id == target.id:
                raise Conflict(f"conversation {conversation_id} is already with {target.name}")
            session.add(AuditEntry(actor_id=operator_id, action="conversation.reassigned",
                                   target=f"conversation:{conversation_id}",
                                   changes={"assignee_id": [conversation.assignee_id, target.id]},
                                   reason=audit_reason.strip()))
        if ready:
            conversation.assignee_id = target.id
            transition(session, outbox, conversation, State.assigned, actor=actor,
                       reason=f"transferred to operator {target.id}")
            append(session, outbox, conversation, Role.system, f"{target.name} will continue helping you.")
        elif target is not None:  # they went away meanwhile: the queue, never an owner who is not there
            conversation.team_id = target.team_id or conversation.team_id
            _pass_on(session, outbox, conversation, ctx.clock(), actor=actor,
                     reason=f"transferred to operator {target.id}, who is not available: back to the queue")
        else:
            team = session.get(Team, to_team_id)
            if team is None:
                raise NotFound(f"team {to_team_id} does not exist")
            conversation.team_id = team.id
            _pass_on(session, outbox, conversation, ctx.clock(), actor=actor,
                     reason=f"transferred to team {team.name}")
        return conversation

    return await ctx.act(work)


def _pass_on(session: Session, outbox: Outbox, conversation: Conversation, at: datetime, *, actor: str,
             reason: str) -> None:
    """Queue a transferred conversation for its (new) team: at once while the team is open; held for
    its opening when it is closed, with the visitor told when that is, as an escalation after hours
    is (a transfer to a team that has gone home never reads as "one moment, please")."""
    closed = schedule.closed_for_team(session, conversation.team_id, at)
    if closed is None:
        transition(session, outbox, conversation, State.queued, actor=actor, reason=reason)
        append(session, outbox, conversation, Role.system, PASSED_ON)
    else:
        hold(session, outbox, conversation, closed, at, actor=actor,
             reason=f"{reason}; closed, held for the opening")


async def requeue(ctx: ServiceContext, conversation_id: int, *, actor: str, reason: str) -> Conversation:
    """Put an assigned conversation back in the queue (its owner went offline, say)."""
    def work(session: Session, outbox: Outbox) -> Conversation:
        conversation = lock(session, conversation_id)
        if conversation.state != State.assigned:
            raise Conflict(f"conversation {conversation_id} is {conversation.state}, not assigned")
        transition(session, outbox, conversation, State.queued, actor=actor, reason=reason)
        return conversation

    return await ctx.act(work)


async def hand_back(ctx: ServiceContext, conversation_id: int, operator_id: int) -> Conversation:
    """The operator gives the conversation back to the bot."""
    def work(session: Session, outbox: Outbox) -> Conversation:
        conversation = lock(session, conversation_id)
        if conversation.state not in HUMAN_STATES:
            raise Conflict(f"conversation {conversation_id} is {conversation.state}; nothing to hand back")
        transition(session, outbox, conversation, State.bot, actor=operator_actor(operator_id),
                   reason="handed back to the bot")
        append(session, outbox, conversation, Role.system,
               "You're back with our assistant. Ask for a person at any time.")
        return conversation

    return await ctx.act(work)


async def resolve(ctx: ServiceContext, conversation_id: int, actor: str) -> Conversation:
    """Close the conversation and ask the visitor how it went (answered through ``record_csat``)."""
    def work(session: Session, outbox: Outbox) -> Conversation:
        conversation = lock(session, conversation_id)
        if conversation.state == State.resolved:
            return conversation
        transition(session, outbox, conversation, State.resolved, actor=actor, reason="resolved")
        append(session, outbox, conversation, Role.system,
               "This conversation is closed. How did we do? Rate us from 1 to 5.")
        return conversation

    return await ctx.act(work)


async def reopen(ctx: ServiceContext, conversation_id: int, operator_id: int) -> Conversation:
    """An operator reopens a resolved conversation and owns it."""
    def work(session: Session, outbox: Outbox) -> Conversation:
        conversation = lock(session, conversation_id)
        if conversation.state != State.resolved:
            raise Conflict(f"conversation {conversation_id} is {conversation.state}, not resolved")
        conversation.reopened_at = utcnow()
        conversation.assignee_id = operator_id
        transition(session, outbox, conversation, State.assigned, actor=operator_actor(operator_id),
                   reason="reopened")
        return conversation

    return await ctx.act(work)


async def mark_read(ctx: ServiceContext, conversation_id: int, reader: Role, seq: int) -> None:
    """``reader`` has read the other side's messages up to ``seq``."""
    def work(session: Session, outbox: Outbox) -> None:
        conversation = lock(session, conversation_id)
        seq_read = min(seq, conversation.last_seq)
        others = [Role.visitor] if reader == Role.operator else [Role.bot, Role.operator, Role.system]
        rows = session.exec(select(Message).where(Message.conversation_id == conversation_id,
                                                  col(Message.seq) <= seq_read, col(Message.role).in_(others),
                                                  col(Message.read_at).is_(None))).all()
        now = utcnow()
        for row in rows:
            row.read_at = now
            session.add(row)
        outbox.add(conversation_stream(conversation_id),
                   Read(conversation_id=conversation_id, role=reader.value, seq=seq_read))

    await ctx.act(work)
