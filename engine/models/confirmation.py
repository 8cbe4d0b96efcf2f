"""A web visitor's email address waiting to be confirmed: the code sent to it, hashed."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from engine.models.base import timestamp_field


class EmailConfirmation(SQLModel, table=True):
    """The one pending confirmation of a contact (``contact_id`` is unique: a resend replaces the
    row). Only the code's HMAC is kept, so a copy of the database does not hand out codes; the
    row goes away when the address is confirmed, and nothing but this one code is ever sent to
    ``address`` before that."""

    __tablename__ = "emailconfirmation"

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", unique=True)
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    address: str = Field(max_length=320)
    code_hash: str = Field(max_length=64)
    attempts: int = 0  # wrong codes tried against this row
    expires_at: datetime
    created_at: datetime = timestamp_field()
