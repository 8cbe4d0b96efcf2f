"""Who a conversation is with, and how each channel names them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from engine.models.base import timestamp_field


class Channel(StrEnum):
    web = "web"
    sms = "sms"
    email = "email"
    messenger = "messenger"
    instagram = "instagram"


class ContactBase(SQLModel):
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320, index=True)
    phone: str | None = Field(default=None, max_length=40)
    vip: bool = False
    # routing inputs (``admin.set_contact_routing``): ``region`` becomes a ``region:<code>`` requirement,
    # ``value`` (customer value, e.g. lifetime spend) at or above ``high_value_threshold`` ranks ahead
    region: str | None = Field(default=None, max_length=32)
    value: float | None = None


class Contact(ContactBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = timestamp_field()


class ContactPublic(ContactBase):
    id: int
    created_at: datetime


class ContactIdentity(SQLModel, table=True):
    """One channel's name for a contact (a phone number for SMS, a page-scoped id for Messenger)."""

    __tablename__ = "contactidentity"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_identity_channel_external"),)

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    channel: str = Field(max_length=16)
    external_id: str = Field(max_length=320)
    # when the contact proved they own this identity (a web visitor's email, by the code sent to
    # it); None for what a channel reported. Automatic merging may rely only on verified identities.
    verified_at: datetime | None = None
