"""AI drafts for the operator: up to three suggested replies to the visitor's latest message.

* ``answer``: grounded in the knowledge base, with citations (``knowledge.draft("answer")``);
* ``canned``: the canned reply that best matches what the visitor said, filled with their details;
* ``continuation``: follows on from the whole conversation (``knowledge.draft("continuation")``).

They are made at handoff (the workflow schedules them when a conversation is queued) and for each new
visitor message while a person owns the conversation (the periodic task finds messages without
drafts), always in a background task: the visitor's message is stored and acknowledged first and
nothing waits for a model. Generation goes through the same litellm path as the bot's answers
(the built-in provider by default). Each draft is stored and announced as ``draft.created`` on the
conversation's internal stream, which only operators receive.

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
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from engine.bus import conversation_stream
from engine.events import DraftCreated
from engine.models import CannedResponse, Conversation, Draft, DraftKind, Message, Role, State, Visibility
from engine.service import account as account_context
from engine.service import canned
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
    canned: list[CannedResponse] = field(default_factory=list)


@dataclass(frozen=True)
class Suggestion:
    kind: DraftKind
    text: str
    citations: list[dict[str, Any]]
    model: str
    confidence: float | None = None
    weak: bool = False  # the bot judged it too weak to send on its own


def draft_input(session: Session, conversation_id: int, message_id: int | None,
                history_turns: int) -> DraftInput | None:
    """None when there is nothing to draft: a person does not have the conversation, there is no
    visitor message, or this one already has drafts."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None or conversation.state not in HUMAN_STATES:
        return None
    public = (Message.conversation_id == conversation_id, Message.visibility == Visibility.public)
    query = select(Message).where(*public, Message.role == Role.visitor)
    query = query.where(Message.id == message_id) if message_id is not None else \
        query.order_by(col(Message.seq).desc())
    message = session.exec(query).first()
    if message is None or session.exec(select(Draft.id).where(Draft.message_id == message.id)).first():
        return None
    earlier = session.exec(select(Message).where(*public, col(Message.seq) < message.seq,
                                                 col(Message.role).in_(list(TURN_ROLES)))
                           .order_by(col(Message.seq).desc()).limit(history_turns)).all()
    history = [{"role": TURN_ROLES[Role(m.role)], "text": m.text} for m in reversed(earlier)]
    return DraftInput(conversation_id, message.id, message.text, history,
                      canned.values_for(session, conversation_id, conversation.assignee_id),
                      list(session.exec(select(CannedResponse)).all()))


def _citations(answer: Any) -> list[dict[str, Any]]:
    return [{"doc_id": c.doc_id, "chunk_id": c.chunk_id, "title": c.title, "url": c.url,
             "score": float(c.score)} for c in answer.citations]


async def suggest(ctx: ServiceContext, data: DraftInput, model: str | None = None,
                  **litellm_kwargs: Any) -> list[Suggestion]:
    """The drafts for one visitor message (an answer only when the knowledge base has one; a
    canned reply only when one matches and all its placeholders have values)."""
    import knowledge

    # The answer path imports litellm (seconds): do that once in a thread, never on the event loop.
    await anyio.to_thread.run_sync(importlib.import_module, "knowledge.answers")
    model = model or ctx.settings.llm_model
    timeout = ctx.settings.llm_timeout_seconds
    if ctx.bot is not None:  # retrieved once, as the message came in (Bot.prefetch), else batched now
        retrieval, _vector = await ctx.bot.retrieved(data.question)
    else:
        retrieval = knowledge.Retrieval(query=data.question, hits=[], confidence=0.0)
    suggestions = []
    answer = await knowledge.draft("answer", data.question, retrieval, data.history, model, timeout,
                                   **litellm_kwargs)
    if not answer.no_answer:
        weak = await anyio.to_thread.run_sync(too_weak_to_send, ctx, data, answer.text, answer.confidence)
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
    history = [*data.history, {"role": "user", "text": data.question}]
    follow = await knowledge.draft("continuation", "", retrieval, history, model, timeout, **litellm_kwargs)
    if follow.text:  # a follow-up that passes on a passage is as weak as that passage's answer
        weak = bool(follow.citations) and await anyio.to_thread.run_sync(
            too_weak_to_send, ctx, data, follow.text, follow.confidence)
        suggestions.append(Suggestion(DraftKind.continuation, follow.text, _citations(follow), follow.model,
                                      round(follow.confidence, 4), weak))
    # Account context (engine.service.account): the order's real status and dates from the shop's
    # integration, as a draft of its own; none without an integration or when it does not answer.
    order_status = await account_context.draft_text(ctx, data.conversation_id)
    if order_status:
        suggestions.append(Suggestion(DraftKind.account, order_status, [], "integration"))
    return suggestions


def store(session: Session, outbox: Outbox, data: DraftInput, suggestions: list[Suggestion]) -> list[Draft]:
    """Keep the drafts (once per message and kind) and announce them to operators only."""
    taken = set(session.exec(select(Draft.kind).where(Draft.message_id == data.message_id)).all())
    stored = []
    for s in suggestions:
        if s.kind in taken:
            continue
        draft = Draft(conversation_id=data.conversation_id, message_id=data.message_id, kind=s.kind,
                      text=s.text, citations=s.citations, model=s.model, confidence=s.confidence,
                      weak=s.weak)
        session.add(draft)
        session.flush()
        stored.append(draft)
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


def schedule(ctx: ServiceContext, conversation_id: int) -> None:
    """Draft in the background for the conversation's latest visitor message; returns at once. One
    task at a time per conversation in this worker (``ctx.worker.drafting``)."""
    running = ctx.worker.drafting.get(conversation_id)
    if running is not None and not running.done():
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
    if not task.cancelled() and task.exception() is not None:
        log.error("drafting failed for conversation %s", conversation_id, exc_info=task.exception())


async def settle(ctx: ServiceContext, conversation_id: int) -> None:
    """Wait for the conversation's draft task, if one runs (for tests and shutdown)."""
    task = ctx.worker.drafting.get(conversation_id)
    if task is not None:
        await asyncio.wait([task])


def undrafted(session: Session) -> list[int]:
    """Conversations a person has whose latest visitor message has no drafts yet."""
    latest = (select(Message.conversation_id, func.max(Message.id).label("message_id"))
              .where(Message.role == Role.visitor, Message.visibility == Visibility.public)
              .group_by(Message.conversation_id).subquery())
    rows = session.exec(select(Conversation.id).join(latest, latest.c.conversation_id == Conversation.id)
                        .where(col(Conversation.state).in_(HUMAN_STATES),
                               ~select(Draft.id).where(Draft.message_id == latest.c.message_id).exists())
                        .order_by(col(Conversation.id))).all()
    return list(rows)


def edit_ratio(draft: str, sent: str) -> float:
    """How much of the draft the operator changed: 0.0 sent as is, 1.0 nothing in common. Over
    words, case and citation markers ignored (operators drop "[1]" and fix capitals)."""
    words = [[w.casefold() for w in WORDS.findall(text) if w] for text in (draft, sent)]
    return 1.0 - difflib.SequenceMatcher(None, *words, autojunk=False).ratio()


def too_weak_to_send(ctx: ServiceContext, data: DraftInput, text: str, confidence: float) -> bool:
    """The bot's own judgement of an answer: its detector's low-confidence score at the threshold
    where it would hand over rather than send it (blocking: the detector embeds the question)."""
    if ctx.bot is None:
        return False
    import handoff

    turns = [handoff.Turn(role=t["role"], text=t["text"]) for t in data.history]  # type: ignore[arg-type]
    turns += [handoff.Turn(role="user", text=data.question), handoff.Turn(role="bot", text=text,
                                                                          confidence=confidence)]
    decision = ctx.bot.detector.decide(handoff.Transcript(turns=turns))
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
    """The periodic part: record draft uses, and draft for new visitor messages."""
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
