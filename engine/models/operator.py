"""People who answer, the teams they belong to, and their canned replies."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from pydantic import field_validator
from sqlalchemy import String
from sqlmodel import Field, SQLModel

from engine.models.base import json_list

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Role(StrEnum):
    operator = "operator"
    supervisor = "supervisor"  # an operator who may approve account actions above operators' limits
    admin = "admin"


class Status(StrEnum):
    online = "online"
    away = "away"
    offline = "offline"


class TeamBase(SQLModel):
    name: str = Field(max_length=100)
    skills: list[str] = json_list()
    backup_team_id: int | None = Field(default=None, foreign_key="team.id")
    overflow_after_seconds: int | None = Field(default=None, ge=0)


class TeamHours(SQLModel):
    """A team's business hours (``engine.service.hours``): the weekly schedule in ``timezone``, closed
    on the public holidays of ``holiday_country``/``holiday_subdivision``. No ``timezone``: always open."""

    timezone: str | None = Field(default=None, max_length=64)
    hours: list[dict[str, str]] = json_list()  # [{"day": "mon", "opens": "09:00", "closes": "17:00"}]
    holiday_country: str | None = Field(default=None, max_length=8)
    holiday_subdivision: str | None = Field(default=None, max_length=16)


class Team(TeamBase, TeamHours, table=True):
    id: int | None = Field(default=None, primary_key=True)


class TeamCreate(TeamBase):
    pass


class TeamPublic(TeamBase, TeamHours):
    id: int


class OperatorBase(SQLModel):
    email: str = Field(max_length=320, unique=True, index=True)
    name: str = Field(max_length=200)
    role: Role = Field(default=Role.operator, sa_type=String(16))
    skills: list[str] = json_list()
    capacity: int = Field(default=3, ge=0, le=100)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    # shown to visitors beside the name (https URL, or a path on this server); initials when unset
    avatar_url: str | None = Field(default=None, max_length=500, schema_extra={"pattern": r"^(https://|/)\S+$"})


class Operator(OperatorBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    password_hash: str = Field(max_length=255)
    active: bool = True  # a deactivated account cannot sign in; its history stays
    status: Status = Field(default=Status.offline, sa_type=String(16))
    last_seen_at: datetime | None = None


class OperatorCreate(OperatorBase):
    password: str = Field(min_length=8, max_length=200)

    @field_validator("email")
    @classmethod
    def _email_has_at(cls, value: str) -> str:
        if not EMAIL.match(value):
            raise ValueError("not an email address (expected name@domain)")
        return value.lower()


class OperatorPublic(OperatorBase):
    id: int
    active: bool = True
    status: Status
    last_seen_at: datetime | None = None


class CannedResponseBase(SQLModel):
    shortcut: str = Field(max_length=64, unique=True, index=True)
    title: str = Field(max_length=200)
    text: str = Field(max_length=4000)  # may hold {placeholders} such as {name}
    tags: list[str] = json_list()


class CannedResponse(CannedResponseBase, table=True):
    __tablename__ = "cannedresponse"

    id: int | None = Field(default=None, primary_key=True)


class CannedResponseCreate(CannedResponseBase):
    pass


class CannedResponsePublic(CannedResponseBase):
    id: int
