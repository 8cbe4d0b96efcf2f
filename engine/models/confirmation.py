"""An address a web visitor typed, waiting to be confirmed by the code sent to it (hashed): an email
address (the code by mail) or a phone number (the code by SMS)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from engine.models.base import timestamp_field


class Confirmation(SQLModel, table=True):
    """The one pending confirmation of a contact per channel (``email`` or ``sms``; a resend replaces
    the row, so a visitor may wait on an email code and an SMS code at once). Only the code's HMAC
    is kept, so a copy of the database does not hand out codes; the row goes away when the address
    is confirmed, and nothing but this one code is ever sent to ``address`` before that."""

    __tablename__ = "confirmation"
    __table_args__ = (UniqueConstraint("contact_id", "channel", name="uq_confirmation_contact_channel"),)

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id")
    channel: str = Field(max_length=16)  # the identity it becomes: "email" or "sms"
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    address: str = Field(max_length=320)  # email in lower case, phone in E.164
    code_hash: str = Field(max_length=64)
    attempts: int = 0  # wrong codes tried against this row
    expires_at: datetime
    created_at: datetime = timestamp_field()
