"""``ChannelDelivery``: a message's passage through an outside channel.

Inbound rows keep the provider's own id for the message in full (the email Message-ID a reply's
``In-Reply-To`` names, which may be longer than ``Message.client_id``) and the addresses on both
ends, so a reply goes back to the number, page or mailbox the visitor used. Outbound rows hold the
send's state: claimed by one worker at a time (the row is unique per message, and a claim is a
lease until ``next_attempt_at``), the attempts made, the last error and the provider's id.
``Message.delivered_at`` is set once the provider accepted the message; a failure keeps it null.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String, Text
from sqlmodel import Field, SQLModel

from engine.models.base import timestamp_field


class Direction(StrEnum):
    inbound = "in"
    outbound = "out"


class DeliveryStatus(StrEnum):
    received = "received"  # inbound
    sending = "sending"  # claimed; the lease ends at next_attempt_at
    pending = "pending"  # failed, to be tried again at next_attempt_at
    sent = "sent"
    failed = "failed"  # given up: error says why


class ChannelDelivery(SQLModel, table=True):
    __tablename__ = "channeldelivery"
    __table_args__ = (
        Index("ix_channeldelivery_status_next", "status", "next_attempt_at"),
        Index("ix_channeldelivery_channel_provider", "channel", "provider_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="message.id", unique=True)
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    channel: str = Field(sa_type=String(16))
    direction: str = Field(sa_type=String(8))
    status: str = Field(sa_type=String(16))
    provider_id: str | None = Field(default=None, max_length=512)
    remote: str | None = Field(default=None, max_length=320)  # the visitor's address on the channel
    local: str | None = Field(default=None, max_length=320)  # ours: the number, page or mailbox used
    attempts: int = 0
    error: str | None = Field(default=None, sa_type=Text)
    next_attempt_at: datetime | None = None
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
