"""The admin and supervisor audit: who changed what on the desk, when and why.

One row per change an admin or a supervisor made (an operator's role, skills, capacity or team, a
team's overflow, a canned reply, a conversation taken over...). Only ``engine.service.admin``
writes it; nothing deletes it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from engine.models.base import json_dict, timestamp_field


class AuditEntry(SQLModel, table=True):
    __tablename__ = "auditentry"

    id: int | None = Field(default=None, primary_key=True)
    actor_id: int = Field(foreign_key="operator.id", index=True)
    action: str = Field(max_length=64)  # e.g. "operator.updated"
    target: str = Field(max_length=64, index=True)  # e.g. "operator:5"
    changes: dict[str, Any] = json_dict()  # field -> [before, after]
    reason: str = Field(default="", sa_type=Text)
    created_at: datetime = timestamp_field()


class AuditEntryPublic(SQLModel):
    id: int
    actor_id: int
    action: str
    target: str
    changes: dict[str, Any]
    reason: str
    created_at: datetime
