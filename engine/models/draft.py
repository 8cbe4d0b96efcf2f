"""AI-drafted replies offered to operators, and what became of them.

A draft answers one visitor message (``message_id``) with its ``confidence`` and its sources
(``citations``); ``weak`` says the bot itself judged the answer too weak to send, which the console
shows beside it. When an operator sends a reply that started from it (``Message.draft_id``),
``used_message_id`` points at that reply and ``edit_ratio`` says how much the operator changed
(0.0 sent as is, 1.0 nothing left, over words); the draft counts as ``used`` only when the reply
stayed close to it (``engine.service.drafts.USED_MAX_EDIT_RATIO``, docs/workflow.md).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from engine.models.base import json_list, timestamp_field


class DraftKind(StrEnum):
    answer = "answer"  # grounded in the knowledge base, with citations
    canned = "canned"  # the best matching canned reply, filled with the contact's details
    continuation = "continuation"  # follows the conversation so far
    account = "account"  # the order's status and dates from the account integration (engine.service.account)


class Draft(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("message_id", "kind", name="uq_draft_message_kind"),)

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    message_id: int = Field(foreign_key="message.id", index=True)
    kind: str = Field(sa_type=String(16))
    text: str = Field(sa_type=Text)
    citations: list[dict[str, Any]] = json_list()
    model: str = Field(default="", max_length=200)
    confidence: float | None = None
    weak: bool = False
    created_at: datetime = timestamp_field()
    used_message_id: int | None = Field(default=None, foreign_key="message.id")
    edit_ratio: float | None = None
    used: bool = False


class DraftPublic(SQLModel):
    id: int
    conversation_id: int
    message_id: int
    kind: DraftKind
    text: str
    citations: list[dict[str, Any]] = []
    model: str
    confidence: float | None = None
    weak: bool = False
    created_at: datetime
    used_message_id: int | None = None
    edit_ratio: float | None = None
    used: bool = False
