"""A conversation, its messages, its state transitions and the bot's handoff decisions.

Only ``engine.service.conversations`` changes these rows; routes and channel adapters read them.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from engine.models.attachment import AttachmentPublic
from engine.models.base import json_dict, json_list, timestamp_field


class State(StrEnum):
    bot = "bot"
    offered = "offered"
    queued = "queued"
    assigned = "assigned"
    resolved = "resolved"


class Role(StrEnum):
    visitor = "visitor"
    bot = "bot"
    operator = "operator"
    system = "system"


class Visibility(StrEnum):
    public = "public"
    internal = "internal"


class Conversation(SQLModel, table=True):
    __table_args__ = (Index("ix_conversation_state_queued_at", "state", "queued_at"),)

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    channel: str = Field(default="web", max_length=16)
    state: str = Field(default=State.bot, sa_type=String(16), index=True)
    assignee_id: int | None = Field(default=None, foreign_key="operator.id", index=True)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    priority: int = 0
    skills: list[str] = json_list()
    tags: list[str] = json_list()
    token_hash: str = Field(max_length=64, unique=True, index=True)  # sha256 of the visitor token
    subject: str | None = Field(default=None, max_length=200)
    created_at: datetime = timestamp_field()
    queued_at: datetime | None = None
    assigned_at: datetime | None = None
    first_human_response_at: datetime | None = None
    resolved_at: datetime | None = None
    reopened_at: datetime | None = None
    last_seq: int = 0
    csat_score: int | None = None
    csat_comment: str | None = Field(default=None, sa_type=Text)
    offered: bool = False
    # queued after hours: routing leaves it until its team opens (``hours``); the opening it was told
    held_until: datetime | None = None


class ConversationPublic(SQLModel):
    """What operators see of a conversation (never the token hash)."""

    id: int
    contact_id: int
    channel: str
    state: State
    assignee_id: int | None
    team_id: int | None
    priority: int
    skills: list[str]
    tags: list[str]
    subject: str | None
    created_at: datetime
    queued_at: datetime | None
    assigned_at: datetime | None
    first_human_response_at: datetime | None
    resolved_at: datetime | None
    reopened_at: datetime | None
    last_seq: int
    csat_score: int | None
    csat_comment: str | None
    offered: bool
    held_until: datetime | None = None


class Message(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq", name="uq_message_conversation_seq"),
        UniqueConstraint("conversation_id", "client_id", name="uq_message_conversation_client"),
    )

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    seq: int
    role: str = Field(sa_type=String(16))
    visibility: str = Field(default=Visibility.public, sa_type=String(16))
    text: str = Field(sa_type=Text)
    client_id: str | None = Field(default=None, max_length=64)
    author_id: int | None = Field(default=None, foreign_key="operator.id")
    citations: list[dict[str, Any]] = json_list()
    quick_replies: list[str] = json_list()
    confidence: float | None = None
    created_at: datetime = timestamp_field()
    delivered_at: datetime | None = None
    read_at: datetime | None = None
    draft_id: int | None = None  # the AI draft an operator reply started from (engine.models.draft)
    # the files sent with it, as AttachmentPublic dicts (the rows in ``attachment`` decide who reads them)
    attachments: list[dict[str, Any]] = json_list()


class MessagePublic(SQLModel):
    """The message payload of the REST and WebSocket contract (docs/architecture.md)."""

    id: int
    conversation_id: int
    seq: int
    role: Role
    visibility: Visibility
    text: str
    client_id: str | None = None
    author_id: int | None = None
    citations: list[dict[str, Any]] = []
    quick_replies: list[str] = []
    confidence: float | None = None
    created_at: datetime
    delivered_at: datetime | None = None
    read_at: datetime | None = None
    attachments: list[AttachmentPublic] = []


class Transition(SQLModel, table=True):
    """One state change: who made it (``bot``, ``visitor``, ``operator:<id>``, ``system``) and why."""

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    from_state: str = Field(sa_type=String(16))
    to_state: str = Field(sa_type=String(16))
    actor: str = Field(max_length=64)
    reason: str = Field(default="", sa_type=Text)
    created_at: datetime = timestamp_field()


class TransitionPublic(SQLModel):
    from_state: State
    to_state: State
    actor: str
    reason: str
    created_at: datetime


class HandoffEvent(SQLModel, table=True):
    """The detector's decision on one bot turn; ``continue`` too, since the metrics count them."""

    __tablename__ = "handoffevent"

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    message_id: int | None = Field(default=None, foreign_key="message.id")  # the visitor message decided on
    action: str = Field(sa_type=String(16), index=True)
    reasons: list[str] = json_list()
    scores: dict[str, float] = json_dict()
    packet: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    created_at: datetime = timestamp_field()


class PendingTurn(SQLModel, table=True):
    """A stored visitor message the bot has still to answer: written in the transaction that stores the
    message, deleted in the one that stores the answer, so a turn is never lost nor applied twice.

    The worker running it holds a lease (``claim`` token until ``lease_until``) and renews it while the
    turn runs; once a lease has run out (the worker died) another worker, or the same after a restart,
    claims the row again. ``attempts`` counts the claims."""

    __tablename__ = "pendingturn"

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="message.id", unique=True)
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    claim: str | None = Field(default=None, max_length=32)
    lease_until: datetime | None = Field(default=None, index=True)
    attempts: int = 0
    created_at: datetime = timestamp_field()
