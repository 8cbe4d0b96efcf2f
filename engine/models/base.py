"""Helpers every model module shares: UTC timestamps and JSON columns.

Timestamps are timezone-aware UTC; SQLModel's datetime column keeps them aware on SQLite too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field


def utcnow() -> datetime:
    return datetime.now(UTC)


def json_list() -> Any:
    """A JSON list column (works on SQLite and PostgreSQL alike)."""
    return Field(default_factory=list, sa_type=JSON)


def json_dict() -> Any:
    return Field(default_factory=dict, sa_type=JSON)


def timestamp_field() -> Any:
    return Field(default_factory=utcnow, nullable=False)
