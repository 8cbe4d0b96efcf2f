"""Actions on a customer's account (refunds, deadline extensions, fee waivers...) and their audit.

One row per action an operator asked for: who asked, what, on which order, how much, why, who
approved it when it was over the asker's limit, and what the shop's system answered. The row is
the audit trail, so nothing deletes it; only ``engine.service.actions`` changes it.
``idempotency_key`` is unique: the same request sent twice (a double click, a retry after a
timeout) finds the first row instead of acting again, and the key goes to the integration too.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Numeric, String, Text
from sqlmodel import Field, SQLModel

from engine.models.base import json_dict, json_list, timestamp_field


class ActionStatus(StrEnum):
    awaiting_approval = "awaiting_approval"  # over the asker's limit: someone with authority decides
    running = "running"  # sent to the integration, answer not stored yet
    completed = "completed"
    failed = "failed"  # the integration refused it or could not be reached; may be retried
    rejected = "rejected"  # the approver said no


class AccountAction(SQLModel, table=True):
    __tablename__ = "accountaction"

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    kind: str = Field(max_length=32)
    order_number: str = Field(max_length=64)
    amount: Decimal = Field(sa_type=Numeric(12, 2))
    unit: str = Field(max_length=8)  # the currency code, or "days"
    reason: str = Field(sa_type=Text)
    status: str = Field(default=ActionStatus.running, sa_type=String(24), index=True)
    idempotency_key: str = Field(max_length=80, unique=True)
    requested_by: int = Field(foreign_key="operator.id")
    approved_by: int | None = Field(default=None, foreign_key="operator.id")
    decision_note: str = Field(default="", sa_type=Text)
    suggested: bool = False  # the operator started from the AI's suggestion
    evidence: list[str] = json_list()  # why it was suggested: the visitor's words, the order's facts
    result: dict[str, Any] = json_dict()  # what the integration answered (reference, message)
    error: str = Field(default="", sa_type=Text)
    attempts: int = 0
    # while running: when the worker calling the shop is presumed dead (its call has timed out by
    # then), so any worker's tick performs it again with the same key (engine.service.actions)
    lease_until: datetime | None = None
    created_at: datetime = timestamp_field()
    decided_at: datetime | None = None
    completed_at: datetime | None = None


class AccountActionPublic(SQLModel):
    """An action as operators see it (the console's audit list, the ``action.updated`` event)."""

    id: int
    conversation_id: int
    kind: str
    label: str
    order_number: str
    amount: Decimal
    unit: str
    reason: str
    status: ActionStatus
    requested_by: int
    requested_by_name: str
    approved_by: int | None = None
    approved_by_name: str | None = None
    approvers: list[str] = []  # who may approve it, while it awaits approval
    decision_note: str = ""
    suggested: bool = False
    evidence: list[str] = []
    result: dict[str, Any] = {}
    error: str = ""
    attempts: int = 0
    visitor_text: str = ""  # what the operator may tell the visitor once it is done
    created_at: datetime
    decided_at: datetime | None = None
    completed_at: datetime | None = None
