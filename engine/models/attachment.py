"""A file sent in a conversation: who sent it, what it is (from its bytes), where its bytes are.

Uploaded first (``message_id`` empty: only its uploader's side may read it), then sent on one
message, whose visibility it takes: a note's files are internal and never reach a visitor. Only
``engine.service.attachments`` writes these rows; the bytes are in the configured store
(``engine.files``) under ``storage_key`` (and the thumbnail's under ``thumbnail_key``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from engine.models.base import timestamp_field


class Attachment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    message_id: int | None = Field(default=None, foreign_key="message.id", index=True)
    uploader: str = Field(max_length=64)  # "visitor", "operator:<id>", or the channel it came in on
    visibility: str = Field(default="public", sa_type=String(16))
    filename: str = Field(max_length=160)
    content_type: str = Field(max_length=128)
    category: str = Field(max_length=16)
    size: int
    sha256: str = Field(max_length=64)
    width: int | None = None
    height: int | None = None
    storage_key: str = Field(max_length=200)
    thumbnail_key: str | None = Field(default=None, max_length=200)
    thumbnail_type: str | None = Field(default=None, max_length=32)
    created_at: datetime = timestamp_field()


class AttachmentPublic(SQLModel):
    """What a message payload and an upload answer carry of a file. The bytes come from
    ``GET /api/visitor/attachments/{id}`` or ``/api/operator/attachments/{id}`` (``/thumbnail`` for
    images), with the same token as the conversation's messages."""

    id: int
    filename: str
    content_type: str
    category: str
    size: int
    width: int | None = None
    height: int | None = None
    thumbnail: bool = False
