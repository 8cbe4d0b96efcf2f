"""History replay as evaluation: stored conversations exported as a handoff evaluation set
(EVAL_FORMAT.md), so a team measures the detector on its own traffic with ``baton eval handoff``.

Labels come from what happened after the bot spoke, never from the detector's own decision alone.
The first rule that applies labels a conversation (``source`` names it); a conversation no rule
covers (still open, in the queue with no reply yet, reopened soon after the bot closed it) is left
out and counted as such:

1. ``offer_accepted`` (gold): the visitor picked the person the bot offered (their message is one of
   the quick replies of the bot message before it): ``explicit_request`` at that user turn.
2. ``asked_for_person`` (soft): the visitor typed a request for a person (the handoff lexicon's
   pattern, so soft: it is the detector's own definition): ``explicit_request`` at the first one.
3. ``operator_takeover`` (gold): an operator claimed the conversation while the bot still had it:
   a handoff was right by the last user turn before the claim; ``frustration`` if the visitor's
   words up to then carry frustration cues (profanity, "that didn't help", shouting), otherwise
   ``low_confidence`` (the bot was not solving it).
4. ``handed_back`` (soft): the bot handed over, and an operator gave it back to the bot without
   writing to the visitor: the handoff was not needed.
5. ``operator_handled`` (soft): the bot handed over and an operator replied: a handoff was right
   where the bot made it, for the bot's first reason (conversations handed over only by a rule, a
   VIP or a topic, are left out: the format has no reason for them).
6. ``low_csat`` (soft): the bot alone handled it and the visitor rated it 1 or 2: a handoff was right
   by the last user turn, ``frustration`` or ``low_confidence`` as in rule 3.
7. ``high_csat`` (gold): the bot alone resolved it and the visitor rated it 4 or 5: no handoff.
8. ``resolved_by_bot`` (soft): the bot alone resolved it, unrated or rated 3, and it was not reopened
   within ``REOPEN_HOURS`` of the resolution: no handoff.

Turns are the public messages (visitor ``user``, bot ``bot``, operator ``agent``; system notices
and internal notes left out), each with ``at``, so the replay sees the pauses.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from engine.models import Conversation, HandoffEvent, Message, Role, State, Transition, Visibility
from handoff.lexicon import canonical, frustration_cues, human_request

TURN_ROLES = {Role.visitor: "user", Role.bot: "bot", Role.operator: "agent"}
DETECTOR_REASONS = ("explicit_request", "frustration", "low_confidence")
HUMAN = (State.queued, State.assigned)
REOPEN_HOURS = 72
BATCH = 500
SKIPPED = "skipped"


@dataclass(frozen=True)
class History:
    """One stored conversation and what happened in it, oldest first."""

    conversation: Conversation
    messages: list[Message]
    transitions: list[Transition]
    decisions: list[HandoffEvent]


def export(engine: Engine, out: Path, since: datetime | None = None,
           until: datetime | None = None) -> Counter:
    """Write the labelled conversations created in ``[since, until)`` to ``out`` (JSONL); returns
    how many each rule labelled, and how many were ``skipped``."""
    counts: Counter = Counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as handle:
        for history in histories(engine, since, until):
            row = label(history)
            counts[row["source"].removeprefix("baton-export:") if row else SKIPPED] += 1
            if row is not None:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return counts


def histories(engine: Engine, since: datetime | None, until: datetime | None) -> Iterator[History]:
    """The conversations of the window with their messages, transitions and decisions, a batch of
    conversations per query."""
    query = select(Conversation).order_by(col(Conversation.id))
    if since is not None:
        query = query.where(col(Conversation.created_at) >= since)
    if until is not None:
        query = query.where(col(Conversation.created_at) < until)
    with Session(engine) as session:
        conversations = list(session.exec(query).all())
        for start in range(0, len(conversations), BATCH):
            batch = conversations[start:start + BATCH]
            ids = [c.id for c in batch]
            messages = _grouped(session.exec(select(Message).where(
                col(Message.conversation_id).in_(ids), Message.visibility == Visibility.public)
                .order_by(col(Message.seq))).all())
            moves = _grouped(session.exec(select(Transition).where(col(Transition.conversation_id).in_(ids))
                                          .order_by(col(Transition.created_at), col(Transition.id))).all())
            decisions = _grouped(session.exec(select(HandoffEvent).where(
                col(HandoffEvent.conversation_id).in_(ids)).order_by(col(HandoffEvent.id))).all())
            for conversation in batch:
                yield History(conversation, messages[conversation.id], moves[conversation.id],
                              decisions[conversation.id])


def label(history: History) -> dict[str, Any] | None:
    """The evaluation row of one conversation, or None when no rule says what was right."""
    messages = [m for m in history.messages if m.role in TURN_ROLES]
    users = [m for m in messages if m.role == Role.visitor]
    if not users:
        return None
    index = {m.id: n for n, m in enumerate(users)}

    def row(rule: str, escalate: bool, reason: str, turn: int | None, strength: str) -> dict[str, Any]:
        return {"id": f"conversation-{history.conversation.id}", "turns": [_turn(m) for m in messages],
                "escalate": escalate, "reason": reason, "escalate_turn": turn, "label_strength": strength,
                "source": f"baton-export:{rule}"}

    accepted = _accepted_offer(messages)
    if accepted is not None:
        return row("offer_accepted", True, "explicit_request", index[accepted.id], "gold")
    asked = next((m for m in users if human_request(canonical(m.text))), None)
    if asked is not None:
        return row("asked_for_person", True, "explicit_request", index[asked.id], "soft")
    moves = history.transitions
    takeover = next((t for t in moves if t.to_state == State.assigned and t.actor.startswith("operator:")
                     and t.from_state in (State.bot, State.offered)), None)
    if takeover is not None:
        before = [m for m in users if _utc(m.created_at) <= _utc(takeover.created_at)] or users[:1]
        return row("operator_takeover", True, _unhappy(before), index[before[-1].id], "gold")
    handover = next((t for t in moves if t.to_state == State.queued and t.actor == "bot"), None)
    if handover is not None:
        return _after_handover(history, handover, messages, index, row)
    if any(t.to_state in HUMAN for t in moves):
        return None  # queued by someone else (a transfer, a rule outside the bot): nothing to learn
    score = history.conversation.csat_score
    if score is not None and score <= 2:
        return row("low_csat", True, _unhappy(users), len(users) - 1, "soft")
    resolved = [t for t in moves if t.to_state == State.resolved]
    if not resolved:
        return None  # still with the bot: no outcome yet
    if score is not None and score >= 4:
        return row("high_csat", False, "none", None, "gold")
    first = _utc(resolved[0].created_at)
    soon = first + timedelta(hours=REOPEN_HOURS)
    if any(t.from_state == State.resolved and first < _utc(t.created_at) <= soon for t in moves):
        return None  # came back soon after the bot closed it: not clearly solved
    return row("resolved_by_bot", False, "none", None, "soft")


def _after_handover(history: History, handover: Transition, messages: list[Message], index: dict[int, int],
                    row: Any) -> dict[str, Any] | None:
    """Rules 4 and 5: what the operators did with a conversation the bot handed over."""
    after = _utc(handover.created_at)
    replied = any(m.role == Role.operator and _utc(m.created_at) >= after for m in messages)
    back = any(t.from_state == State.assigned and t.to_state == State.bot and _utc(t.created_at) >= after
               for t in history.transitions)
    if back and not replied:
        return row("handed_back", False, "none", None, "soft")
    if not replied:
        return None  # nobody has answered yet
    decision = next((d for d in history.decisions if d.action == "escalate"), None)
    if decision is None or decision.message_id not in index:
        return None
    reason = next((r for r in decision.reasons if r in DETECTOR_REASONS), None)
    if reason is None:
        return None  # handed over by a rule only
    return row("operator_handled", True, reason, index[decision.message_id], "soft")


def _accepted_offer(messages: list[Message]) -> Message | None:
    """The first visitor message that is one of the quick replies the bot message before it offered."""
    for earlier, message in zip(messages, messages[1:], strict=False):
        offered = {reply.casefold() for reply in earlier.quick_replies} if earlier.role == Role.bot else set()
        if message.role == Role.visitor and message.text.strip().casefold() in offered:
            return message
    return None


def _unhappy(users: Iterable[Message]) -> str:
    """``frustration`` when the visitor's words carry frustration cues, else ``low_confidence``."""
    cued = any(frustration_cues(m.text, canonical(m.text)) for m in users)
    return "frustration" if cued else "low_confidence"


def _turn(message: Message) -> dict[str, Any]:
    return {"role": TURN_ROLES[Role(message.role)], "text": message.text,
            "at": _utc(message.created_at).isoformat()}


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _grouped(rows: Iterable[Any]) -> defaultdict[int, list[Any]]:
    grouped: defaultdict[int, list[Any]] = defaultdict(list)
    for item in rows:
        grouped[item.conversation_id].append(item)
    return grouped
