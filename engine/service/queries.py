"""Read-only views of the store for the API: what a visitor may see, the operator's lists and detail.

Reads never change state; they are plain functions of a session so that routes run them through
``ctx.read`` and tests call them directly.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlmodel import Session, SQLModel, col, select

from engine.events import QueueInfo
from engine.models import (
    Contact,
    ContactPublic,
    Conversation,
    ConversationPublic,
    DraftPublic,
    HandoffEvent,
    Message,
    MessagePublic,
    State,
    Transition,
    TransitionPublic,
    Visibility,
    utcnow,
)
from engine.service import context, drafts, queue
from engine.service.conversations import public
from engine.service.errors import NotFound
from engine.settings import Settings

ListFilter = Literal["queued", "assigned", "mine", "all", "bot", "resolved"]


class ConversationSummary(SQLModel):
    """One row of an operator's list."""

    conversation: ConversationPublic
    contact: ContactPublic
    summary: str | None = None
    reasons: list[str] = []
    wait_seconds: float | None = None
    queue: QueueInfo | None = None
    last_message: MessagePublic | None = None


class ConversationDetail(SQLModel):
    conversation: ConversationPublic
    contact: ContactPublic
    messages: list[MessagePublic]
    packet: dict[str, Any] | None = None
    decisions: list[dict[str, Any]] = []
    transitions: list[TransitionPublic] = []
    history: list[ConversationPublic] = []
    drafts: list[DraftPublic] = []
    queue: QueueInfo | None = None


def visitor_messages(session: Session, conversation_id: int, after: int = 0) -> list[MessagePublic]:
    """Public messages after ``after``: internal notes are filtered here, in the query itself."""
    rows = session.exec(select(Message).where(Message.conversation_id == conversation_id,
                                              col(Message.seq) > after,
                                              Message.visibility == Visibility.public)
                        .order_by(col(Message.seq))).all()
    return [public(m) for m in rows]


def operator_messages(session: Session, conversation_id: int, after: int = 0) -> list[MessagePublic]:
    """Every message after ``after``, internal notes included: for operators only."""
    rows = session.exec(select(Message).where(Message.conversation_id == conversation_id,
                                              col(Message.seq) > after).order_by(col(Message.seq))).all()
    return [public(m) for m in rows]


def latest_packet(session: Session, conversation_id: int) -> HandoffEvent | None:
    return session.exec(select(HandoffEvent).where(HandoffEvent.conversation_id == conversation_id,
                                                   col(HandoffEvent.packet).is_not(None))
                        .order_by(col(HandoffEvent.id).desc())).first()


def _wait_seconds(conversation: Conversation, now: datetime) -> float | None:
    if conversation.state != State.queued or conversation.queued_at is None:
        return None
    return max(0.0, (now - conversation.queued_at).total_seconds())


def list_conversations(session: Session, settings: Settings, which: ListFilter, operator_id: int,
                       limit: int = 200) -> list[ConversationSummary]:
    query = select(Conversation, Contact).where(Conversation.contact_id == Contact.id)
    if which == "mine":
        query = query.where(Conversation.assignee_id == operator_id, Conversation.state == State.assigned)
    elif which != "all":
        query = query.where(Conversation.state == which)
    order = col(Conversation.queued_at) if which == "queued" else col(Conversation.id).desc()
    rows = session.exec(query.order_by(order).limit(limit)).all()
    now = utcnow()
    waiting = queue.current(session, settings, now) if any(c.state == State.queued for c, _ in rows) else None
    summaries = []
    for conversation, contact in rows:
        event = latest_packet(session, conversation.id) if conversation.state != State.bot else None
        packet = (event.packet or {}) if event else {}
        last = session.exec(select(Message).where(Message.conversation_id == conversation.id)
                            .order_by(col(Message.seq).desc())).first()
        summaries.append(ConversationSummary(
            conversation=ConversationPublic.model_validate(conversation, from_attributes=True),
            contact=ContactPublic.model_validate(contact, from_attributes=True),
            summary=packet.get("summary"), reasons=list(event.reasons) if event else [],
            wait_seconds=_wait_seconds(conversation, now),
            queue=waiting.info(conversation.id) if waiting else None,
            last_message=public(last) if last else None,
        ))
    return summaries


def conversation_detail(session: Session, settings: Settings, conversation_id: int) -> ConversationDetail:
    """Everything an operator needs: messages with notes, the handoff packet, decisions, history."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    contact = session.get(Contact, conversation.contact_id)
    decisions = session.exec(select(HandoffEvent).where(HandoffEvent.conversation_id == conversation_id)
                             .order_by(col(HandoffEvent.id))).all()
    transitions = session.exec(select(Transition).where(Transition.conversation_id == conversation_id)
                               .order_by(col(Transition.id))).all()
    contacts = context.related_contacts(session, contact)  # the same person on other channels too
    others = session.exec(select(Conversation).where(col(Conversation.contact_id).in_(contacts),
                                                     Conversation.id != conversation_id)
                          .order_by(col(Conversation.id).desc()).limit(20)).all()
    event = latest_packet(session, conversation_id)
    return ConversationDetail(
        conversation=ConversationPublic.model_validate(conversation, from_attributes=True),
        contact=ContactPublic.model_validate(contact, from_attributes=True),
        messages=operator_messages(session, conversation_id),
        packet=event.packet if event else None,
        decisions=[{"message_id": d.message_id, "action": d.action, "reasons": d.reasons, "scores": d.scores,
                    "created_at": d.created_at.isoformat()} for d in decisions],
        transitions=[TransitionPublic.model_validate(t, from_attributes=True) for t in transitions],
        history=[ConversationPublic.model_validate(c, from_attributes=True) for c in others],
        drafts=[DraftPublic.model_validate(d, from_attributes=True)
                for d in drafts.drafts_for(session, conversation_id)],
        queue=queue.queue_info(session, settings, conversation),
    )
