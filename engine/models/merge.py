"""Merges of contacts, and whether a web visitor is on the page.

``ContactMerge`` is the history and the audit of joining two contacts into one customer: who did it
(an operator, or ``None`` for an automatic merge on a verified identity), when, why, and exactly
what moved (the conversations, identities and pending confirmation of the merged contact, and the
fields of the kept contact it filled in). An unmerge moves exactly those back and is recorded on the
same row; nothing deletes a row. Only ``engine.service.merges`` writes it.

``VisitorPresence`` says whether a web visitor has the widget open: the visitor sockets counted
across workers and when a worker last saw one. The reply-channel decision reads it
(``engine.service.reply_routes``): a visitor who left gets a person's reply by email or SMS.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from engine.models.base import json_dict, timestamp_field


class ContactMerge(SQLModel, table=True):
    __tablename__ = "contactmerge"

    id: int | None = Field(default=None, primary_key=True)
    target_id: int = Field(foreign_key="contact.id", index=True)  # the contact kept
    source_id: int = Field(foreign_key="contact.id", index=True)  # the contact merged into it
    actor_id: int | None = Field(default=None, foreign_key="operator.id")  # None: automatic
    reason: str = Field(default="", sa_type=Text)
    # {"conversations": [id...], "identities": [id...], "confirmations": [id...],
    #  "filled": {field: [before, after]}}: what the unmerge puts back
    moved: dict[str, Any] = json_dict()
    created_at: datetime = timestamp_field()
    undone_at: datetime | None = None
    undone_by: int | None = Field(default=None, foreign_key="operator.id")
    undo_reason: str = Field(default="", sa_type=Text)


class ContactMergePublic(SQLModel):
    id: int
    target_id: int
    source_id: int
    actor_id: int | None
    reason: str
    moved: dict[str, Any]
    created_at: datetime
    undone_at: datetime | None
    undone_by: int | None
    undo_reason: str


class VisitorPresence(SQLModel, table=True):
    """One row per web conversation whose widget connected at least once."""

    __tablename__ = "visitorpresence"

    conversation_id: int = Field(foreign_key="conversation.id", primary_key=True)
    sockets: int = 0  # open visitor sockets, over every worker
    seen_at: datetime = timestamp_field()  # a worker holding one of them last said so
