"""Read-only views of the store for the API: what a visitor may see, the operator's lists and detail.

Reads never change state; they are plain functions of a session so that routes run them through
``ctx.read`` and tests call them directly.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import String, cast, func, or_
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
    Operator,
    Role,
    State,
    Transition,
    TransitionPublic,
    Visibility,
    utcnow,
)
from engine.service import drafts, queue
from engine.service.conversations import public
from engine.service.errors import NotFound
from engine.service.policy import typical_reply
from engine.settings import Settings

ListFilter = Literal["queued", "assigned", "mine", "all", "bot", "offered", "resolved"]
ListSort = Literal["waiting", "newest", "priority"]


class ListQuery(SQLModel):
    """Which conversations an operator's list shows, and in what order. ``q`` searches every message
    (internal notes too: operators only) and the contact's name, email and phone."""

    which: ListFilter = "queued"
    channel: str | None = None
    team_id: int | None = None
    tag: str | None = None
    q: str | None = None
    sort: ListSort | None = None  # default: waiting longest for the queue, newest activity otherwise


class ConversationSummary(SQLModel):
    """One row of an operator's list: ``last_message`` is the latest message anyone wrote (notes
    included, system notices not), ``unread`` the visitor's messages no operator has read yet,
    ``match`` the latest message that matched the search."""

    conversation: ConversationPublic
    contact: ContactPublic
    summary: str | None = None
    reasons: list[str] = []
    wait_seconds: float | None = None
    queue: QueueInfo | None = None
    last_message: MessagePublic | None = None
    last_activity_at: datetime | None = None
    unread: int = 0
    match: MessagePublic | None = None


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


def _like(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, its own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _ilike(column: Any, pattern: str) -> Any:
    return col(column).ilike(pattern, escape="\\")


def list_conversations(session: Session, settings: Settings, which: ListFilter | ListQuery, operator_id: int,
                       limit: int = 200) -> list[ConversationSummary]:
    """An operator's list: filtered by state (or ``mine``), channel, team, tag and a search, sorted
    by waiting longest, newest activity or priority, each row with its unread count and last message."""
    wanted = which if isinstance(which, ListQuery) else ListQuery(which=which)
    activity = (select(Message.conversation_id, func.max(Message.created_at).label("at"))
                .group_by(Message.conversation_id).subquery())
    query = (select(Conversation, Contact, activity.c.at).join(Contact, Conversation.contact_id == Contact.id)
             .outerjoin(activity, activity.c.conversation_id == Conversation.id))
    if wanted.which == "mine":
        query = query.where(Conversation.assignee_id == operator_id, Conversation.state == State.assigned)
    elif wanted.which != "all":
        query = query.where(Conversation.state == wanted.which)
    if wanted.channel:
        query = query.where(Conversation.channel == wanted.channel)
    if wanted.team_id is not None:
        query = query.where(Conversation.team_id == wanted.team_id)
    if wanted.tag:  # tags are a JSON list: match the quoted tag in its text, on SQLite and PostgreSQL alike
        query = query.where(cast(Conversation.tags, String).like(_like(json.dumps(wanted.tag)), escape="\\"))
    pattern = _like(wanted.q.strip()) if wanted.q and wanted.q.strip() else None
    if pattern:
        said = select(Message.conversation_id).where(_ilike(Message.text, pattern))
        query = query.where(or_(col(Conversation.id).in_(said), _ilike(Contact.name, pattern),
                                _ilike(Contact.email, pattern), _ilike(Contact.phone, pattern)))
    sort = wanted.sort or ("waiting" if wanted.which == "queued" else "newest")
    waited_since = func.coalesce(Conversation.queued_at, Conversation.created_at)
    order = {"waiting": [waited_since.asc()],
             "newest": [func.coalesce(activity.c.at, Conversation.created_at).desc()],
             "priority": [col(Conversation.priority).desc(), col(Contact.vip).desc(),
                          waited_since.asc()]}[sort]
    rows = session.exec(query.order_by(*order, col(Conversation.id).desc()).limit(limit)).all()
    ids = [c.id for c, _, _ in rows]
    unread = dict(session.exec(select(Message.conversation_id, func.count()).where(
        col(Message.conversation_id).in_(ids), Message.role == Role.visitor, col(Message.read_at).is_(None))
        .group_by(Message.conversation_id)).all()) if ids else {}
    now = utcnow()
    queued = any(c.state == State.queued for c, _, _ in rows)
    waiting = queue.current(session, settings, now) if queued else None
    summaries = []
    for conversation, contact, last_at in rows:
        event = latest_packet(session, conversation.id) if conversation.state != State.bot else None
        packet = (event.packet or {}) if event else {}
        last = session.exec(select(Message).where(Message.conversation_id == conversation.id,
                                                  Message.role != Role.system)
                            .order_by(col(Message.seq).desc())).first()
        match = session.exec(select(Message).where(
            Message.conversation_id == conversation.id, _ilike(Message.text, pattern))
            .order_by(col(Message.seq).desc())).first() if pattern else None
        summaries.append(ConversationSummary(
            conversation=ConversationPublic.model_validate(conversation, from_attributes=True),
            contact=ContactPublic.model_validate(contact, from_attributes=True),
            summary=packet.get("summary"), reasons=list(event.reasons) if event else [],
            wait_seconds=_wait_seconds(conversation, now),
            queue=waiting.info(conversation.id) if waiting else None,
            last_message=public(last) if last else None, last_activity_at=last_at,
            unread=unread.get(conversation.id, 0), match=public(match) if match else None,
        ))
    return summaries


class Agent(SQLModel):
    """An operator as a visitor sees them: a name and, when set, a picture."""

    id: int
    name: str
    avatar_url: str | None = None


class VisitorTeam(SQLModel):
    """Who is helping a visitor (``agent``, when a person has the conversation), everyone from the
    team who wrote in it (``authors``), and how soon a person typically replies."""

    agent: Agent | None = None
    authors: list[Agent] = []
    typical_reply_seconds: float | None = None


def first_response_times(session: Session, limit: int) -> list[float]:
    """Seconds from queued to a person's first reply, over the ``limit`` most recent conversations."""
    rows = session.exec(select(Conversation.queued_at, Conversation.first_human_response_at).where(
        col(Conversation.queued_at).is_not(None), col(Conversation.first_human_response_at).is_not(None),
        col(Conversation.queued_at) <= Conversation.first_human_response_at)
        .order_by(col(Conversation.first_human_response_at).desc()).limit(limit)).all()
    return [(replied - queued).total_seconds() for queued, replied in rows]


def _agent(operator: Operator) -> Agent:
    return Agent(id=operator.id, name=operator.name, avatar_url=operator.avatar_url)


def visitor_team(session: Session, settings: Settings, conversation_id: int) -> VisitorTeam:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    wrote = select(Message.author_id).where(Message.conversation_id == conversation_id,
                                            Message.visibility == Visibility.public,
                                            col(Message.author_id).is_not(None))
    authors = session.exec(select(Operator).where(col(Operator.id).in_(wrote))).all()
    agent = session.get(Operator, conversation.assignee_id) \
        if conversation.state == State.assigned and conversation.assignee_id else None
    return VisitorTeam(agent=_agent(agent) if agent else None, authors=[_agent(o) for o in authors],
                       typical_reply_seconds=typical_reply(first_response_times(session,
                                                                                settings.handle_time_samples)))


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
    # the customer's other conversations on every channel: one contact once identities link or an
    # operator merges (context.py: a typed email or phone never shows someone else's history)
    others = session.exec(select(Conversation).where(Conversation.contact_id == contact.id,
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
