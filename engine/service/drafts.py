"""AI drafts for the operator: up to three suggested replies to the visitor's latest message.

* ``answer``: grounded in the knowledge base, with citations (``knowledge.draft("answer")``);
* ``canned``: the canned reply that best matches what the visitor said, filled with their details;
* ``continuation``: follows on from the whole conversation (``knowledge.draft("continuation")``).

They are made without being asked while a conversation waits in the queue: at handoff (the workflow
schedules them when a conversation is queued) and for each visitor message written while it waits
(the periodic task catches one that was missed), so whoever takes it finds them ready. Once an
operator owns the conversation, a visitor message is drafted for when a console asks
(:func:`request`: the console asks when it opens the conversation and when the visitor writes in the
one it has open), as copilots do: nothing is drafted that nobody reads, so neither a model's cost
nor a draft's CPU is spent beside the deliveries of a worker whose operators have other
conversations open (docs/scaling.md). Either way drafting runs in a background task: the visitor's
message is stored and acknowledged first and nothing waits for a model. Generation goes through
the same litellm path as the bot's answers (the built-in provider by default). Each draft is stored
and announced as ``draft.created`` on the conversation's internal stream, which only operators
receive.

What a draft may say, and what it carries:

* it never promises a hand-over to a person (a person is writing it): ``knowledge.draft`` removes
  such sentences from generated drafts, and the same guard runs on canned replies;
* each carries its ``confidence`` and its sources (``citations``: the knowledge-base passages, or
  the canned reply it came from);
* an answer the bot itself judges too weak to send (its low-confidence signal at the detector's
  escalation threshold, the judgement that hands a conversation over) is kept, but marked ``weak``,
  and the console says so beside it; so is a follow-up that passes on such a passage.

When an operator sends a reply that started from a draft (``Message.draft_id``), the periodic
task records the reply on the draft with its ``edit_ratio`` (the share of the draft's words the
operator changed, ``1 - difflib`` ratio over words, citation markers and case ignored); the draft
counts as ``used`` only when ``edit_ratio <= USED_MAX_EDIT_RATIO`` (0.5: at least about half of it
was kept), so a draft the operator rewrote is not credited.
"""

from __future__ import annotations

import asyncio
import difflib
import importlib
import logging
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
from sqlalchemy import Table, bindparam, func, insert
from sqlalchemy import select as core_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from engine.bus import conversation_stream
from engine.events import DraftCreated
from engine.models import (
    Contact,
    Conversation,
    Draft,
    DraftKind,
    Message,
    Operator,
    Role,
    State,
    Visibility,
    utcnow,
)
from engine.service import account as account_context
from engine.service import canned
from engine.service.bot import answered_questions
from engine.service.errors import NotFound
from engine.service.runtime import Outbox, ServiceContext
from knowledge.errors import InputError

log = logging.getLogger(__name__)
USED_MAX_EDIT_RATIO = 0.5
WORDS = re.compile(r"\[\d+\]|(\w+)")
HUMAN_STATES = (State.queued, State.assigned)
TURN_ROLES = {Role.visitor: "user", Role.bot: "bot", Role.operator: "agent"}


@dataclass(frozen=True)
class DraftInput:
    """What drafting one visitor message needs, read in one session."""

    conversation_id: int
    message_id: int
    question: str
    history: list[dict[str, str]]  # public turns before the message, oldest first
    values: dict[str, str | None]  # canned placeholders for this conversation and its owner
    canned: Sequence[canned.Reply] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)  # the questions before it the bot answered


@dataclass(frozen=True)
class Suggestion:
    kind: DraftKind
    text: str
    citations: list[dict[str, Any]]
    model: str
    confidence: float | None = None
    weak: bool = False  # the bot judged it too weak to send on its own


# --- what drafting reads and writes, as SQLAlchemy Core statements ---------------------------------
# Every visitor message in a conversation a person has is drafted for, on the same worker as its
# delivery: as statements built once, without ORM objects (docs/scaling.md, the fourth pass: the
# drafts' ORM reads and writes were a quarter of the worker's GIL, and the message writes waited
# behind them).

_CONVERSATION: Table = Conversation.__table__  # type: ignore[attr-defined]
_MESSAGE: Table = Message.__table__  # type: ignore[attr-defined]
_CONTACT: Table = Contact.__table__  # type: ignore[attr-defined]
_OPERATOR: Table = Operator.__table__  # type: ignore[attr-defined]
_DRAFT: Table = Draft.__table__  # type: ignore[attr-defined]
# the conversation's state, and whom the canned placeholders name (the contact, the owner)
_HEAD = (core_select(_CONVERSATION.c.state, _CONTACT.c.name.label("contact_name"),
                     _CONTACT.c.email.label("contact_email"), _OPERATOR.c.name.label("operator_name"))
         .select_from(_CONVERSATION.outerjoin(_CONTACT, _CONTACT.c.id == _CONVERSATION.c.contact_id)
                      .outerjoin(_OPERATOR, _OPERATOR.c.id == _CONVERSATION.c.assignee_id))
         .where(_CONVERSATION.c.id == bindparam("conversation")))
# the latest public turns, newest first: the message drafted for, its history, and the visitor's
# words (the order numbers they gave), bounded however long the conversation is
_TURNS = (core_select(_MESSAGE.c.id, _MESSAGE.c.seq, _MESSAGE.c.role, _MESSAGE.c.text, _MESSAGE.c.confidence)
          .where(_MESSAGE.c.conversation_id == bindparam("conversation"),
                 _MESSAGE.c.visibility == Visibility.public.value,
                 _MESSAGE.c.role.in_([role.value for role in TURN_ROLES]))
          .order_by(_MESSAGE.c.seq.desc())
          .limit(bindparam("window")))
_KINDS = core_select(_DRAFT.c.kind).where(_DRAFT.c.message_id == bindparam("message"))
_ADD_DRAFTS = insert(_DRAFT).returning(_DRAFT.c.id, sort_by_parameter_order=True)


def draft_input(session: Session, conversation_id: int, message_id: int | None,
                history_turns: int) -> DraftInput | None:
    """None when there is nothing to draft: a person does not have the conversation, there is no
    visitor message, this one already has drafts, or it is older than the latest
    ``canned.RECENT_TURNS`` public turns (a draft for it would answer a conversation long moved
    on). Four statements (the conversation with its contact and owner, its latest public turns,
    the message's drafts, the canned replies), each bounded however long the conversation is."""
    connection = session.connection()
    head = connection.execute(_HEAD, {"conversation": conversation_id}).first()
    if head is None or head.state not in HUMAN_STATES:
        return None
    window = max(canned.RECENT_TURNS, history_turns + 1)
    turns = connection.execute(_TURNS, {"conversation": conversation_id, "window": window}).all()[::-1]
    said = [turn for turn in turns if turn.role == Role.visitor]
    chosen = said[-1] if message_id is None and said else next((t for t in said if t.id == message_id), None)
    if chosen is None or connection.execute(_KINDS, {"message": chosen.id}).first() is not None:
        return None
    before = [turn for turn in turns if turn.seq < chosen.seq]
    history = [{"role": TURN_ROLES[Role(turn.role)], "text": turn.text}
               for turn in before[max(0, len(before) - history_turns):]] if history_turns > 0 else []
    values = canned.values(conversation_id, head.contact_name, head.contact_email, head.operator_name,
                           [turn.text for turn in said])
    asked = answered_questions([(Role(turn.role).value, turn.text, turn.confidence) for turn in before])
    return DraftInput(conversation_id, chosen.id, chosen.text, history, values, canned.replies(session),
                      asked)


def _citations(answer: Any) -> list[dict[str, Any]]:
    return [{"doc_id": c.doc_id, "chunk_id": c.chunk_id, "title": c.title, "url": c.url,
             "score": float(c.score)} for c in answer.citations]


async def suggest(ctx: ServiceContext, data: DraftInput, model: str | None = None,
                  **litellm_kwargs: Any) -> list[Suggestion]:
    """The drafts for one visitor message (an answer only when the knowledge base has one; a
    canned reply only when one matches and all its placeholders have values). With the built-in
    provider everything after the retrieval is CPU, done in one worker thread rather than on the
    event loop: the thread yields the GIL every switch interval, so the deliveries of other
    messages are not held behind a composition."""
    import knowledge

    if "knowledge.answers" not in sys.modules:  # it imports litellm (seconds): never on the event loop
        await anyio.to_thread.run_sync(importlib.import_module, "knowledge.answers")
    model = model or ctx.settings.llm_model
    vector = None
    if ctx.bot is not None:  # retrieved once, as the message came in (Bot.prefetch), else batched now
        retrieval, vector = await ctx.bot.retrieved_in_context(data.question, data.asked)
    else:
        retrieval = knowledge.Retrieval(query=data.question, hits=[], confidence=0.0)
    history = [*data.history, {"role": "user", "text": data.question}]
    if knowledge.is_builtin(model, litellm_kwargs):
        def composed() -> list[Suggestion]:
            answer = knowledge.draft_builtin("answer", data.question, retrieval, data.history)
            follow = knowledge.draft_builtin("continuation", "", retrieval, history)
            return _suggestions(ctx, data, answer, follow, vector)

        suggestions = await anyio.to_thread.run_sync(composed)
    else:
        timeout = ctx.settings.llm_timeout_seconds
        answer = await knowledge.draft("answer", data.question, retrieval, data.history, model, timeout,
                                       **litellm_kwargs)
        follow = await knowledge.draft("continuation", "", retrieval, history, model, timeout,
                                       **litellm_kwargs)
        suggestions = await anyio.to_thread.run_sync(_suggestions, ctx, data, answer, follow, vector)
    # Account context (engine.service.account): the order's real status and dates from the shop's
    # integration, as a draft of its own; none without an integration or when it does not answer.
    order_status = await account_context.draft_text(ctx, data.conversation_id)
    if order_status:
        suggestions.append(Suggestion(DraftKind.account, order_status, [], "integration"))
    return suggestions


def _suggestions(ctx: ServiceContext, data: DraftInput, answer: Any, follow: Any,
                 vector: Any) -> list[Suggestion]:
    """The answer, the canned reply and the follow-up as drafts, each judged by the bot's detector
    (blocking: run in a worker thread). ``vector``: the question's embedding from its retrieval."""
    import knowledge

    suggestions = []
    if not answer.no_answer:
        weak = too_weak_to_send(ctx, data, answer.text, answer.confidence, vector)
        suggestions.append(Suggestion(DraftKind.answer, answer.text, _citations(answer), answer.model,
                                      round(answer.confidence, 4), weak))
    match = canned.best_for(data.canned, data.question)
    if match is not None:
        best = match.canned
        try:
            text = knowledge.remove_promises(canned.fill(best.text, data.values), handover_only=True).text
        except InputError as exc:
            log.info("canned reply %r not drafted: %s", best.shortcut, exc)
        else:
            if text:
                suggestions.append(Suggestion(
                    DraftKind.canned, text, [{"canned": best.shortcut, "title": best.title}],
                    f"canned:{best.shortcut}", round(match.score, 4)))
    if follow.text:  # a follow-up that passes on a passage is as weak as that passage's answer
        weak = bool(follow.citations) and too_weak_to_send(ctx, data, follow.text, follow.confidence, vector)
        suggestions.append(Suggestion(DraftKind.continuation, follow.text, _citations(follow), follow.model,
                                      round(follow.confidence, 4), weak))
    return suggestions


def store(session: Session, outbox: Outbox, data: DraftInput, suggestions: list[Suggestion]) -> list[Draft]:
    """Keep the drafts (once per message and kind: one INSERT for them all) and announce them to
    operators only."""
    connection = session.connection()
    taken = set(connection.execute(_KINDS, {"message": data.message_id}).scalars())
    now = utcnow()
    rows = [{"conversation_id": data.conversation_id, "message_id": data.message_id, "kind": s.kind.value,
             "text": s.text, "citations": s.citations, "model": s.model, "confidence": s.confidence,
             "weak": s.weak, "created_at": now, "used_message_id": None, "edit_ratio": None, "used": False}
            for s in suggestions if s.kind not in taken]
    if not rows:
        return []
    ids = connection.execute(_ADD_DRAFTS, rows).scalars().all()
    stored = [Draft(id=draft_id, **row) for draft_id, row in zip(ids, rows, strict=True)]
    for draft in stored:
        outbox.add(conversation_stream(data.conversation_id, internal=True), DraftCreated(
            conversation_id=data.conversation_id, draft_id=draft.id, text=draft.text,
            meta={"kind": draft.kind, "message_id": data.message_id, "citations": draft.citations,
                  "model": draft.model, "confidence": draft.confidence, "weak": draft.weak}))
    return stored


async def generate(ctx: ServiceContext, conversation_id: int, message_id: int | None = None,
                   model: str | None = None, **litellm_kwargs: Any) -> list[Draft]:
    """Draft replies to one visitor message (the latest if ``message_id`` is None) and store them."""
    data = await ctx.read(draft_input, conversation_id, message_id, ctx.settings.history_turns)
    if data is None:
        return []
    suggestions = await suggest(ctx, data, model, **litellm_kwargs)
    try:
        return await ctx.act(store, data, suggestions)
    except IntegrityError:  # another worker stored drafts for this message first
        return []


async def request(ctx: ServiceContext, conversation_id: int) -> None:
    """Draft for the conversation's latest visitor message unless it has drafts (or a person does not
    have the conversation): what a console asks for; the drafts come as ``draft.created``."""
    if await ctx.read(lambda session: session.get(Conversation, conversation_id)) is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    schedule(ctx, conversation_id)


def schedule(ctx: ServiceContext, conversation_id: int) -> None:
    """Draft in the background for the conversation's latest visitor message; returns at once. One
    task at a time per conversation in this worker (``ctx.worker.drafting``); a message that comes
    while it runs (it may have read the one before) is drafted as soon as it ends, not at the tick."""
    running = ctx.worker.drafting.get(conversation_id)
    if running is not None and not running.done():
        ctx.worker.redraft.add(conversation_id)
        return
    task = asyncio.create_task(_in_turn(ctx, conversation_id))
    ctx.worker.drafting[conversation_id] = task
    task.add_done_callback(lambda done: _finished(ctx, conversation_id, done))


async def _in_turn(ctx: ServiceContext, conversation_id: int) -> list[Draft]:
    """:func:`generate` once one of the worker's drafting slots is free (``ctx.worker.draft_slots``):
    a burst of visitor messages queues its drafts instead of crowding out their delivery."""
    async with ctx.worker.draft_slots:
        return await generate(ctx, conversation_id)


def _finished(ctx: ServiceContext, conversation_id: int, task: asyncio.Task[list[Draft]]) -> None:
    if ctx.worker.drafting.get(conversation_id) is task:
        del ctx.worker.drafting[conversation_id]
    again = conversation_id in ctx.worker.redraft
    ctx.worker.redraft.discard(conversation_id)
    if task.cancelled():
        return
    if task.exception() is not None:  # not again at once: the tick retries
        log.error("drafting failed for conversation %s", conversation_id, exc_info=task.exception())
    elif again:  # nothing to do when the task had read the newest message after all
        schedule(ctx, conversation_id)


async def settle(ctx: ServiceContext, conversation_id: int) -> None:
    """Wait until no draft task runs for the conversation, one drafted again included (for tests and
    shutdown)."""
    while (task := ctx.worker.drafting.get(conversation_id)) is not None:
        await asyncio.wait([task])


def undrafted(session: Session) -> list[int]:
    """Queued conversations whose latest visitor message has no drafts yet (owned ones are drafted for
    when their console asks)."""
    latest = (select(func.max(Message.id)).where(Message.conversation_id == Conversation.id,
                                                  Message.role == Role.visitor,
                                                  Message.visibility == Visibility.public)
              .correlate(Conversation).scalar_subquery())  # per queued conversation, not every one's
    rows = session.exec(select(Conversation.id)
                        .where(Conversation.state == State.queued, latest.is_not(None),
                               ~select(Draft.id).where(Draft.message_id == latest).exists())
                        .order_by(col(Conversation.id))).all()
    return list(rows)


def edit_ratio(draft: str, sent: str) -> float:
    """How much of the draft the operator changed: 0.0 sent as is, 1.0 nothing in common. Over
    words, case and citation markers ignored (operators drop "[1]" and fix capitals)."""
    words = [[w.casefold() for w in WORDS.findall(text) if w] for text in (draft, sent)]
    return 1.0 - difflib.SequenceMatcher(None, *words, autojunk=False).ratio()


def too_weak_to_send(ctx: ServiceContext, data: DraftInput, text: str, confidence: float,
                     vector: Any = None) -> bool:
    """The bot's own judgement of an answer: its detector's low-confidence score at the threshold
    where it would hand over rather than send it (blocking: the detector analyses the question, and
    embeds it unless ``vector``, its embedding from the retrieval, is given)."""
    if ctx.bot is None:
        return False
    import handoff

    turns = [handoff.Turn(role=t["role"], text=t["text"]) for t in data.history]  # type: ignore[arg-type]
    turns += [handoff.Turn(role="user", text=data.question), handoff.Turn(role="bot", text=text,
                                                                          confidence=confidence)]
    decision = ctx.bot.detector.decide(handoff.Transcript(turns=turns), vector)
    return decision.scores.get("low_confidence", 0.0) >= ctx.bot.detector.config.low_confidence.escalate_at


def _unrecorded(session: Session) -> list[tuple[Message, Draft]]:
    return list(session.exec(select(Message, Draft).join(Draft, Draft.id == Message.draft_id)
                             .where(col(Draft.used_message_id).is_(None),
                                    Draft.conversation_id == Message.conversation_id)
                             .order_by(col(Message.id))).all())


def unrecorded_uses(session: Session) -> int:
    return len(_unrecorded(session))


def record_uses(session: Session, outbox: Outbox) -> int:
    """Mark drafts that operators' replies started from, with their edit ratio, and whether that
    counts as used; returns how many."""
    rows = _unrecorded(session)
    for message, draft in rows:
        if draft.used_message_id is None:
            draft.used_message_id = message.id
            draft.edit_ratio = edit_ratio(draft.text, message.text)
            draft.used = draft.edit_ratio <= USED_MAX_EDIT_RATIO
            session.add(draft)
    return len(rows)


async def tick(ctx: ServiceContext) -> None:
    """The periodic part: record draft uses, and draft for visitor messages written in the queue."""
    if await ctx.read(unrecorded_uses):  # a write transaction only when there is something to write
        await ctx.act(record_uses)
    for conversation_id in await ctx.read(undrafted):
        schedule(ctx, conversation_id)


def drafts_for(session: Session, conversation_id: int) -> list[Draft]:
    """The drafts of the conversation's latest drafted message, in kind order."""
    latest = session.exec(select(func.max(Draft.message_id))
                          .where(Draft.conversation_id == conversation_id)).one()
    if latest is None:
        return []
    order = {kind: i for i, kind in enumerate(DraftKind)}
    rows = session.exec(select(Draft).where(Draft.message_id == latest)).all()
    return sorted(rows, key=lambda d: order.get(DraftKind(d.kind), len(order)))
